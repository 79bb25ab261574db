import type { IDataObject } from 'n8n-workflow';

/** A plain object: not null, not an array. */
export function isObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first non-empty string, exactly as given (no trimming); anything else is skipped. */
export function firstNonEmptyString(...values: unknown[]): string | undefined {
	return values.find((value): value is string => typeof value === 'string' && value !== '');
}

/** The first non-blank text (trimmed) or finite number (as text), or null: for loosely typed fields. */
export function firstText(...values: unknown[]): string | null {
	for (const value of values) {
		if (typeof value === 'string' && value.trim() !== '') return value.trim();
		if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	}
	return null;
}
