import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import {
	fetchCall,
	firstTranscript,
	MIN_POLL_INTERVAL_SECONDS,
	normalizeCall,
	normalizeCallStatus,
	transcriptExpected,
} from '../shared/calls';
import { sleepWithAbort } from '../shared/sleep';
import { parseDurationSeconds } from '../shared/time';
import { firstText, isObject } from '../shared/values';
import type { TruedyDelivery } from './delivery';
import { CALL_OUTCOME_EVENTS } from './events';
import type { ResolvedCall } from './resolve';

/**
 * Fills in what a call event lacks (transcript, recording, summary, …) from `GET /calls/{id}`.
 * Truedy's docs say the webhook should not be expected to carry the transcript, and that the
 * call's transcript can stay null for a few seconds after the call ends, so the call is fetched
 * again at Truedy's poll floor (5 s) until the transcript appears or the wait runs out.
 *
 * The call is fetched by its Truedy ID, so only a resolved delivery (trigger/resolve.ts) is
 * enriched. The call the resolution found is used first when it was read after the delivery
 * arrived: when it already has the transcript, nothing more is fetched.
 */

export interface EnrichOptions {
	/** Upper bound on the time spent waiting for the transcript. */
	maxWaitMs: number;
	/** The call the resolution found. */
	known?: ResolvedCall | null;
	/** Epoch ms the delivery was received: a call read earlier may predate the call's end. */
	receivedAt?: number;
}

export interface EnrichmentInfo extends IDataObject {
	/** How many times the call was fetched. */
	fetches: number;
	/** True when the wait ran out before Truedy had a transcript. */
	transcriptPending: boolean;
	/** Why enriching failed; the delivery is passed on with what the webhook carried. */
	error: string | null;
}

const POLL_INTERVAL_MS = MIN_POLL_INTERVAL_SECONDS * 1000;
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

/** The delivery with its missing fields taken from the API's view of the call. */
export function mergeCall(delivery: TruedyDelivery, call: IDataObject): TruedyDelivery {
	const normalized = normalizeCall(call);
	return {
		...delivery,
		agentId: delivery.agentId ?? firstText(normalized.agent_id),
		status:
			(normalizeCallStatus(normalized.status) as string | undefined) ?? delivery.status ?? null,
		endReason: delivery.endReason ?? firstText(normalized.end_reason),
		durationSeconds: delivery.durationSeconds ?? parseDurationSeconds(normalized.duration_seconds),
		summary: delivery.summary ?? firstText(normalized.summary),
		shortSummary: delivery.shortSummary ?? firstText(normalized.short_summary),
		transcript: delivery.transcript ?? firstTranscript(normalized.transcript),
		recordingUrl: delivery.recordingUrl ?? firstText(normalized.recording_url),
		call: normalized,
	};
}

function describeError(error: unknown, callId: string): string {
	const { message, httpCode } = (error ?? {}) as { message?: string; httpCode?: string };
	if (httpCode === '404') return `Truedy has no call with ID ${callId}`;
	return message || 'Unknown error while fetching the call';
}

export async function enrichDelivery(
	this: IWebhookFunctions,
	delivery: TruedyDelivery,
	options: EnrichOptions,
): Promise<TruedyDelivery & { enrichment: EnrichmentInfo }> {
	const info: EnrichmentInfo = { fetches: 0, transcriptPending: false, error: null };
	if (!delivery.resolution.resolved || delivery.callId === null) {
		// Already logged by the resolution; fetching an Ultravox ID would only get a 404.
		info.error = `The call was not fetched: ${delivery.resolution.reason ?? 'it was not resolved'}`;
		return { ...delivery, enrichment: info };
	}
	const callId = delivery.callId;
	const started = Date.now();
	let result: TruedyDelivery = delivery;
	const { known } = options;
	let call = known && known.fetchedAt >= (options.receivedAt ?? started) ? known.call : undefined;
	if (call && known?.via === 'get') info.fetches++;

	for (;;) {
		if (call) {
			result = mergeCall(result, call);
			if (!transcriptExpected(call)) break;
			// Polling GET /calls/{id}: never faster than the floor. A list item is followed at once.
			if (info.fetches > 0) {
				if (Date.now() - started + POLL_INTERVAL_MS > options.maxWaitMs) {
					info.transcriptPending = true;
					break;
				}
				await sleepWithAbort(POLL_INTERVAL_MS);
			}
		}
		const remainingMs = Math.max(0, options.maxWaitMs - (Date.now() - started));
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
	}

	return { ...result, enrichment: info };
}
