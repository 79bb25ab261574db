/** Whether an epoch number is in milliseconds rather than seconds (1e11 seconds is in the year 5138). */
export function isEpochMilliseconds(value: number): boolean {
	return value >= 1e11;
}

/** An epoch number given in seconds or milliseconds, as milliseconds. */
export function epochMs(value: number): number {
	return isEpochMilliseconds(value) ? value : value * 1000;
}
