import type { IDataObject, IExecuteFunctions, IWebhookFunctions } from 'n8n-workflow';

import { truedyRequest, type TruedyRequest } from '../transport/request';
import type { RetryPolicy } from '../transport/retry';
import { parseDurationSeconds } from './time';
import { firstNonEmptyString, isObject } from './values';

/** Truedy asks clients not to poll a call more often than every 5 seconds. */
export const MIN_POLL_INTERVAL_SECONDS = 5;

/** One status vocabulary, whichever one the API used (the docs use both). */
export type CallStatus = 'queued' | 'ringing' | 'in-progress' | 'ended' | 'failed' | 'cancelled';

const STATUS_ALIASES: Record<string, CallStatus> = {
	created: 'queued',
	queued: 'queued',
	ringing: 'ringing',
	'in-progress': 'in-progress',
	in_progress: 'in-progress',
	inprogress: 'in-progress',
	ended: 'ended',
	completed: 'ended',
	failed: 'failed',
	cancelled: 'cancelled',
	canceled: 'cancelled',
};

const TERMINAL_STATUSES: readonly CallStatus[] = ['ended', 'failed', 'cancelled'];

/** Maps any documented spelling to the canonical status; unknown values pass through lower-cased. */
export function normalizeCallStatus(status: unknown): CallStatus | string | undefined {
	if (typeof status !== 'string' || status.trim() === '') return undefined;
	const key = status.trim().toLowerCase();
	return STATUS_ALIASES[key] ?? key;
}

export function isTerminalStatus(status: unknown): boolean {
	return TERMINAL_STATUSES.includes(normalizeCallStatus(status) as CallStatus);
}

/** `GET /calls/{id}`: the call as the API returned it. */
export async function fetchCall(
	this: IExecuteFunctions | IWebhookFunctions,
	callId: string,
	itemIndex?: number,
	retry?: Partial<RetryPolicy>,
	beforeSend?: TruedyRequest['beforeSend'],
): Promise<IDataObject> {
	const { data } = await truedyRequest.call(this, {
		method: 'GET',
		path: `/calls/${encodeURIComponent(callId)}`,
		itemIndex,
		retry,
		beforeSend,
	});
	return data as IDataObject;
}

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
	const destination = firstNonEmptyString(call.phone_number, call.to_number, call.to);
	const callerId = firstNonEmptyString(call.from_number, call.from);
	if (destination !== undefined) result.phone_number = destination;
	if (callerId !== undefined) result.from_number = callerId;
	return result;
}

/** The first non-empty transcript (a list of messages, or text), or null. */
export function firstTranscript(...values: unknown[]): IDataObject[] | string | null {
	for (const value of values) {
		if (Array.isArray(value) && value.length > 0) return value as IDataObject[];
		if (typeof value === 'string' && value.trim() !== '') return value;
	}
	return null;
}

/**
 * Whether a transcript can still be expected: none yet, and the call is not over, or it ended
 * normally with transcription on and some duration. Failed and cancelled calls never get one.
 */
export function transcriptExpected(call: IDataObject): boolean {
	if (firstTranscript(call.transcript) !== null) return false;
	if (!isTerminalStatus(call.status)) return true;
	if (normalizeCallStatus(call.status) !== 'ended') return false;
	const settings = isObject(call.call_settings) ? call.call_settings : {};
	if (settings.transcription_enabled === false) return false;
	return parseDurationSeconds(call.duration_seconds) !== 0;
}
