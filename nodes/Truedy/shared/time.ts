/** Whether an epoch number is in milliseconds rather than seconds (1e11 seconds is in the year 5138). */
export function isEpochMilliseconds(value: number): boolean {
	return value >= 1e11;
}

/** An epoch number given in seconds or milliseconds, as milliseconds. */
export function epochMs(value: number): number {
	return isEpochMilliseconds(value) ? value : value * 1000;
}

/** A date text, Date, or epoch number (seconds or milliseconds) as ISO 8601; null when it is no time. */
export function toIsoTime(value: unknown): string | null {
	if (value === null || value === undefined) return null;
	const date = typeof value === 'number' ? new Date(epochMs(value)) : new Date(String(value));
	return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Seconds from a number, a numeric string, or a protobuf duration such as "42s" / "42.5s". */
export function parseDurationSeconds(value: unknown): number | null {
	if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
	if (typeof value !== 'string') return null;
	const match = /^\s*(\d+(?:\.\d+)?)\s*s?\s*$/i.exec(value);
	return match ? Number(match[1]) : null;
}
