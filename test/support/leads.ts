/**
 * Leads to call: distinct, valid E.164 numbers, none of which the simulator fails (it fails
 * numbers ending in 0000), and items carrying them.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

/** How many distinct lead numbers there are. */
export const LEAD_COUNT = 9000;

/** The i-th lead's number: +14155551000, +14155551001, … +14155559999. */
export function leadPhone(i: number): string {
	if (!Number.isInteger(i) || i < 0 || i >= LEAD_COUNT)
		throw new Error(`leadPhone(${i}): only 0 to ${LEAD_COUNT - 1}`);
	return `+1415555${1000 + i}`;
}

/** The index of a lead's number (the inverse of leadPhone), NaN for any other value. */
export function leadIndex(phone: unknown): number {
	const match = /^\+1415555(\d{4})$/.exec(String(phone ?? ''));
	return match ? Number(match[1]) - 1000 : Number.NaN;
}

/** The i-th lead as an input item: `{ phone, ...fields }`. */
export function lead(i: number, fields: IDataObject = {}): INodeExecutionData {
	return { json: { phone: leadPhone(i), ...fields } };
}

/** Leads 0 … n-1 as input items; `fields(i)` adds to each. */
export function makeLeads(
	n: number,
	fields: (i: number) => IDataObject = () => ({}),
): INodeExecutionData[] {
	return Array.from({ length: n }, (_v, i) => lead(i, fields(i)));
}
