import type { IDataObject } from 'n8n-workflow';

import { normalizeCallStatus } from './status';

/**
 * A call as the API returned it, plus one status vocabulary and one naming for the numbers
 * (`phone_number`/`from_number`), whichever the API used (`to`/`from`, `to_number`/`from_number`).
 */
export function normalizeCall(call: IDataObject): IDataObject {
	const result: IDataObject = { ...call };
	const status = normalizeCallStatus(call.status);
	if (status !== undefined && status !== call.status) {
		result.status = status;
		result.api_status = call.status;
	}
	const destination = firstString(call.phone_number, call.to_number, call.to);
	const callerId = firstString(call.from_number, call.from);
	if (destination !== undefined) result.phone_number = destination;
	if (callerId !== undefined) result.from_number = callerId;
	return result;
}

function firstString(...values: unknown[]): string | undefined {
	return values.find((value): value is string => typeof value === 'string' && value !== '');
}
