import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import { fetchCall } from '../resources/call/get';
import { normalizeCall } from '../shared/call';
import { sleepWithAbort } from '../shared/sleep';
import { isTerminalStatus, normalizeCallStatus } from '../shared/status';
import {
	CALL_OUTCOME_EVENTS,
	firstString,
	firstTranscript,
	isObject,
	parseDurationSeconds,
	type TruedyDelivery,
} from './delivery';

/**
 * Fills in what a call event lacks (transcript, recording, summary, …) from `GET /calls/{id}`.
 * Truedy's docs say the webhook should not be expected to carry the transcript, and that the
 * call's transcript can stay null for a few seconds after the call ends, so the call is fetched
 * again, with growing pauses, until the transcript appears or the wait runs out.
 */

export interface EnrichOptions {
	/** Upper bound on the time spent waiting for the transcript. */
	maxWaitMs: number;
	/** First pause between fetches; doubles up to {@link MAX_POLL_INTERVAL_MS}. */
	firstPollIntervalMs?: number;
}

export interface EnrichmentInfo extends IDataObject {
	/** How many times the call was fetched. */
	fetches: number;
	/** True when the wait ran out before Truedy had a transcript. */
	transcriptPending: boolean;
	/** Why enriching failed; the delivery is passed on with what the webhook carried. */
	error: string | null;
}

export const DEFAULT_FIRST_POLL_INTERVAL_MS = 500;
export const MAX_POLL_INTERVAL_MS = 5_000;
/** Retries of one fetch (429, 5xx, network) never wait longer than this. */
const MAX_RETRY_WAIT_PER_FETCH_MS = 10_000;

/** Whether the delivery is a call outcome that misses the transcript or the recording. */
export function needsEnrichment(delivery: TruedyDelivery): boolean {
	return (
		delivery.callId !== null &&
		CALL_OUTCOME_EVENTS.includes(delivery.event) &&
		(delivery.transcript === null || delivery.recordingUrl === null)
	);
}

/**
 * Whether a transcript can still be expected: the call is not over yet in the API, or it ended
 * normally with transcription on. Failed and cancelled calls never get one.
 */
export function transcriptExpected(call: IDataObject): boolean {
	if (firstTranscript(call.transcript) !== null) return false;
	if (!isTerminalStatus(call.status)) return true;
	if (normalizeCallStatus(call.status) !== 'ended') return false;
	const settings = isObject(call.call_settings) ? call.call_settings : {};
	if (settings.transcription_enabled === false) return false;
	return parseDurationSeconds(call.duration_seconds) !== 0;
}

/** The delivery with its missing fields taken from the API's view of the call. */
export function mergeCall(delivery: TruedyDelivery, call: IDataObject): TruedyDelivery {
	const normalized = normalizeCall(call);
	return {
		...delivery,
		agentId: delivery.agentId ?? firstString(normalized.agent_id),
		status:
			(normalizeCallStatus(normalized.status) as string | undefined) ?? delivery.status ?? null,
		endReason: delivery.endReason ?? firstString(normalized.end_reason),
		durationSeconds:
			delivery.durationSeconds ?? parseDurationSeconds(normalized.duration_seconds),
		summary: delivery.summary ?? firstString(normalized.summary),
		shortSummary: delivery.shortSummary ?? firstString(normalized.short_summary),
		transcript: delivery.transcript ?? firstTranscript(normalized.transcript),
		recordingUrl: delivery.recordingUrl ?? firstString(normalized.recording_url),
		call: normalized,
	};
}

function describeError(error: unknown, callId: string): string {
	const { message, httpCode } = (error ?? {}) as { message?: string; httpCode?: string };
	if (httpCode === '404') {
		return (
			`Truedy has no call with ID ${callId}. Webhooks may carry the Ultravox call ID, ` +
			'which the public API does not know.'
		);
	}
	return message || 'Unknown error while fetching the call';
}

export async function enrichDelivery(
	this: IWebhookFunctions,
	delivery: TruedyDelivery,
	options: EnrichOptions,
): Promise<TruedyDelivery & { enrichment: EnrichmentInfo }> {
	const callId = delivery.callId as string;
	const started = Date.now();
	let pause = options.firstPollIntervalMs ?? DEFAULT_FIRST_POLL_INTERVAL_MS;
	let result: TruedyDelivery = delivery;
	const info: EnrichmentInfo = { fetches: 0, transcriptPending: false, error: null };

	for (;;) {
		const remainingMs = Math.max(0, options.maxWaitMs - (Date.now() - started));
		let call: IDataObject;
		try {
			info.fetches++;
			const data = await fetchCall.call(this, callId, undefined, {
				maxAttempts: 3,
				maxTotalWaitMs: Math.min(MAX_RETRY_WAIT_PER_FETCH_MS, remainingMs),
			});
			call = isObject(data) ? data : {};
		} catch (error) {
			info.error = describeError(error, callId);
			this.logger.warn('Truedy Trigger could not fetch the call; passing on the webhook data', {
				callId,
				error: info.error,
				node: this.getNode().name,
				workflowId: this.getWorkflow().id,
			});
			break;
		}

		result = mergeCall(result, call);
		if (!transcriptExpected(call)) break;
		if (Date.now() - started + pause > options.maxWaitMs) {
			info.transcriptPending = true;
			break;
		}
		await sleepWithAbort(pause);
		pause = Math.min(pause * 2, MAX_POLL_INTERVAL_MS);
	}

	return { ...result, enrichment: info };
}
