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
import { createSlotTaker, type SlotTaker } from '../transport/pacer';
import type { TruedyDelivery } from './delivery';
import { CALL_OUTCOME_EVENTS } from './events';
import { accountKeyOf, type ResolvedCall } from './resolve';

/**
 * Fills in what a call event lacks (transcript, recording, summary, …) from `GET /calls/{id}`.
 * Truedy's docs say the webhook should not be expected to carry the transcript, and that the
 * call's transcript can stay null for a few seconds after the call ends, so the call is fetched
 * again at Truedy's poll floor (5 s) until the transcript appears or the wait runs out.
 *
 * The call is fetched by its Truedy ID, so only a resolved delivery (trigger/resolve.ts) is
 * enriched. The call the resolution found is used first when it was read after the delivery
 * arrived: when it already has the transcript, nothing more is fetched.
 *
 * Every delivery of the process shares one budget per Truedy account, so a burst of deliveries
 * becomes a steady trickle of GETs, not a burst: one request slot every 60 s /
 * ENRICHMENT_REQUESTS_PER_MINUTE, and deliveries of one call that ask at the same time share one
 * request. A delivery waits for a slot only within its Max Wait; past it, it is passed on as is.
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
	/**
	 * Why enriching failed (the call could not be fetched, or no request slot came within Max Wait);
	 * the delivery is passed on with what the webhook carried.
	 */
	error: string | null;
}

const POLL_INTERVAL_MS = MIN_POLL_INTERVAL_SECONDS * 1000;
/** Retries of one fetch (429, 5xx, network) never wait longer than this. */
const MAX_RETRY_WAIT_PER_FETCH_MS = 10_000;
/**
 * Enrichment's GETs per Truedy account per process: one a second, which leaves 40 of the documented
 * 100 a minute per organisation to other workflows.
 */
export const ENRICHMENT_REQUESTS_PER_MINUTE = 60;
const NO_SLOT_ERROR = `The call was not fetched within Max Wait: this process fetches at most ${ENRICHMENT_REQUESTS_PER_MINUTE} calls a minute per Truedy account, and other deliveries came first`;

/** Per process: the request slots of each account (accountKeyOf). */
const slotsByAccount = new Map<string, SlotTaker>();
/** Per process: the fetch of a call in flight, shared by every delivery of that call asking now. */
const fetchesInFlight = new Map<string, Promise<IDataObject | undefined>>();

/**
 * `GET /calls/{id}` in the account's next request slot, or joined to the fetch of that call already
 * in flight; undefined when no slot comes before `deadline`.
 */
async function fetchInTurn(
	context: IWebhookFunctions,
	callId: string,
	deadline: number,
): Promise<IDataObject | undefined> {
	const account = await accountKeyOf(context);
	const key = `${account}\n${callId}`;
	const inFlight = fetchesInFlight.get(key);
	if (inFlight) return await inFlight;
	let takeSlot = slotsByAccount.get(account);
	if (!takeSlot) {
		takeSlot = createSlotTaker(ENRICHMENT_REQUESTS_PER_MINUTE);
		slotsByAccount.set(account, takeSlot);
	}
	const slots = takeSlot;
	const fetch = (async () => {
		if (!(await slots(deadline))) return undefined;
		const data = await fetchCall.call(context, callId, undefined, {
			maxAttempts: 3,
			maxTotalWaitMs: Math.min(MAX_RETRY_WAIT_PER_FETCH_MS, Math.max(0, deadline - Date.now())),
		});
		return isObject(data) ? data : {};
	})();
	fetchesInFlight.set(key, fetch);
	try {
		return await fetch;
	} finally {
		if (fetchesInFlight.get(key) === fetch) fetchesInFlight.delete(key);
	}
}

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
		try {
			const data = await fetchInTurn(this, callId, started + options.maxWaitMs);
			if (data === undefined) {
				// The account's slots are taken until after Max Wait (a burst of deliveries).
				info.transcriptPending = true;
				if (!call) info.error = NO_SLOT_ERROR;
				break;
			}
			info.fetches++;
			call = data;
		} catch (error) {
			info.fetches++;
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
