import type { IDataObject } from 'n8n-workflow';

import { firstTranscript, normalizeCallStatus } from '../shared/calls';
import { parseDurationSeconds, toIsoTime } from '../shared/time';
import { firstText, isObject } from '../shared/values';
import { CALL_ENDED, CALL_OUTCOME_EVENTS, normalizeEventName } from './events';

/**
 * Turns a Truedy webhook delivery into one flat set of fields, whichever payload shape arrived.
 *
 * Truedy wraps every event as `{ event, timestamp, data }`. The docs show two shapes of `data`:
 * - Ultravox passthrough (camelCase): `data.call.callId`, `data.call.agent.agentId`,
 *   `data.call.endReason`, `data.call.billedDuration` ("42s"), `data.call.summary`, `data.id`.
 * - flat (snake_case): `data.call_id`, `data.agent_id`, `data.status`, `data.duration_seconds`.
 * Any optional field may be missing, so every output field falls back to `null`.
 *
 * The passthrough shape carries **Ultravox** ids (`ultravoxCallId`, `ultravoxAgentId`); the flat
 * shape carries Truedy ids (`callId`, `agentId`). trigger/resolve.ts then finds the Truedy call,
 * which fills in `callId`, `agentId`, `variables` and the phone numbers, and says in `resolution`
 * whether it could.
 */

/** Ultravox end reasons that mean the call never connected or broke. */
const FAILED_END_REASONS = ['unjoined', 'connection_error', 'system_error'];
const CANCELLED_END_REASONS = ['cancelled', 'canceled'];

export interface CallResolution extends IDataObject {
	/** True when the delivery was tied to its Truedy call. */
	resolved: boolean;
	/** How: the Truedy call ID the webhook carried, or the call whose `ultravox_call_id` matches. */
	method: 'truedy_id' | 'ultravox_call_id' | null;
	/** Why it was not resolved, in plain English; null when it was. */
	reason: string | null;
}

export interface TruedyDelivery extends IDataObject {
	event: string;
	eventId: string | null;
	/** The Truedy call ID once resolved; until then the ID the webhook carried. */
	callId: string | null;
	ultravoxCallId: string | null;
	/** The Truedy agent ID, when known (the flat shape carries it, or the resolved call). */
	agentId: string | null;
	ultravoxAgentId: string | null;
	batchId: string | null;
	/** One vocabulary: queued, ringing, in-progress, ended, failed, cancelled. */
	status: string | null;
	endReason: string | null;
	durationSeconds: number | null;
	summary: string | null;
	shortSummary: string | null;
	transcript: IDataObject[] | string | null;
	recordingUrl: string | null;
	/** The variables the call was placed with (from the Truedy call); `{}` when unknown. */
	variables: IDataObject;
	/** The number called, and the caller ID. */
	phoneNumber: string | null;
	fromNumber: string | null;
	/** ISO 8601 time of the event. */
	occurredAt: string | null;
	resolution: CallResolution;
	/** The parsed delivery, untouched. */
	payload: IDataObject;
}

/** The `data` object of an envelope; a bare event (no `data`) is its own data. */
export function eventData(envelope: IDataObject): IDataObject {
	return isObject(envelope.data) ? envelope.data : envelope;
}

/** The call object: `data.call` in the Ultravox shape, `data` itself in the flat shape. */
function callOf(data: IDataObject): IDataObject {
	return isObject(data.call) ? data.call : data;
}

export function eventIdOf(envelope: IDataObject): string | null {
	const data = eventData(envelope);
	return firstText(data.id, data.eventId, data.event_id, envelope.id, envelope.eventId);
}

export function callIdOf(envelope: IDataObject): string | null {
	const data = eventData(envelope);
	const call = isObject(data.call) ? data.call : undefined;
	return firstText(call?.callId, call?.call_id, call?.id, data.call_id, data.callId);
}

export interface WebhookIds {
	/** A Truedy ID: only the flat shape (or an explicit `ultravox_*` field beside it) says so. */
	truedy: string | null;
	ultravox: string | null;
}

/**
 * The call IDs a delivery carries. In the passthrough shape (`data.call`) they are Ultravox IDs,
 * as Truedy's docs say; in the flat shape (`data.call_id`) Truedy IDs. An explicit
 * `ultravox_call_id` beside another ID makes that other one the Truedy ID.
 */
export function callIdsOf(envelope: IDataObject): WebhookIds {
	const data = eventData(envelope);
	const nested = isObject(data.call) ? data.call : undefined;
	return splitIds(
		nested !== undefined,
		nested ? [nested.callId, nested.call_id, nested.id] : [data.call_id, data.callId],
		[nested?.ultravox_call_id, nested?.ultravoxCallId, data.ultravox_call_id, data.ultravoxCallId],
	);
}

/** The agent IDs a delivery carries, read the same way as {@link callIdsOf}. */
export function agentIdsOf(envelope: IDataObject): WebhookIds {
	const data = eventData(envelope);
	const call = callOf(data);
	const agent = isObject(call.agent) ? call.agent : undefined;
	return splitIds(
		call !== data,
		[
			agent?.agentId,
			agent?.agent_id,
			agent?.id,
			call.agentId,
			call.agent_id,
			data.agent_id,
			data.agentId,
		],
		[
			agent?.ultravox_agent_id,
			agent?.ultravoxAgentId,
			call.ultravox_agent_id,
			call.ultravoxAgentId,
		],
	);
}

/** The IDs from the first usable candidates: the payload's own (`own`) and explicit Ultravox ones. */
function splitIds(
	passthrough: boolean,
	ownCandidates: unknown[],
	ultravoxCandidates: unknown[],
): WebhookIds {
	const own = firstText(...ownCandidates);
	const ultravox = firstText(...ultravoxCandidates);
	if (ultravox !== null) return { truedy: own !== ultravox ? own : null, ultravox };
	return passthrough ? { truedy: null, ultravox: own } : { truedy: own, ultravox: null };
}

export function batchIdOf(envelope: IDataObject): string | null {
	const data = eventData(envelope);
	const batch = isObject(data.batch) ? data.batch : undefined;
	return firstText(data.batch_id, data.batchId, batch?.id, batch?.batchId, batch?.batch_id);
}

export function batchStatusOf(envelope: IDataObject): string | null {
	const data = eventData(envelope);
	const batch = isObject(data.batch) ? data.batch : undefined;
	return firstText(data.status, batch?.status);
}

export function voiceIdOf(envelope: IDataObject): string | null {
	const data = eventData(envelope);
	const voice = isObject(data.voice) ? data.voice : undefined;
	return firstText(data.voice_id, data.voiceId, voice?.id, voice?.voiceId);
}

function durationOf(data: IDataObject, call: IDataObject): number | null {
	for (const value of [
		call.duration_seconds,
		call.durationSeconds,
		data.duration_seconds,
		data.durationSeconds,
		call.billedDuration,
		call.billed_duration,
		data.billedDuration,
		data.billed_duration,
	]) {
		const seconds = parseDurationSeconds(value);
		if (seconds !== null) return seconds;
	}
	const joined = toIsoTime(firstText(call.joined, call.started_at, data.started_at));
	const ended = toIsoTime(firstText(call.ended, call.ended_at, data.ended_at));
	if (joined && ended) {
		const seconds = (Date.parse(ended) - Date.parse(joined)) / 1000;
		if (seconds >= 0) return Math.round(seconds);
	}
	return null;
}

/**
 * The call status in one vocabulary. When the payload carries none (the Ultravox shape has no
 * status), outcome events derive it: `call.failed` or a failure end reason → failed, a
 * cancellation → cancelled, any other end → ended.
 */
export function deriveStatus(
	event: string,
	explicit: unknown,
	endReason: string | null,
): string | null {
	const normalized = normalizeCallStatus(explicit);
	if (normalized !== undefined) return normalized;
	if (!CALL_OUTCOME_EVENTS.includes(event)) return null;
	if (event === 'call.failed') return 'failed';
	const reason = endReason?.toLowerCase();
	if (reason && FAILED_END_REASONS.includes(reason)) return 'failed';
	if (reason && CANCELLED_END_REASONS.includes(reason)) return 'cancelled';
	if (reason || event === CALL_ENDED) return 'ended';
	return null;
}

export function normalizeDelivery(envelope: IDataObject): TruedyDelivery {
	const event = normalizeEventName(envelope.event ?? eventData(envelope).event);
	const data = eventData(envelope);
	const call = callOf(data);
	const endReason = firstText(call.endReason, call.end_reason, data.end_reason, data.endReason);
	const callIds = callIdsOf(envelope);
	const agentIds = agentIdsOf(envelope);
	return {
		event,
		eventId: eventIdOf(envelope),
		callId: callIds.truedy ?? callIds.ultravox,
		ultravoxCallId: callIds.ultravox,
		agentId: agentIds.truedy,
		ultravoxAgentId: agentIds.ultravox,
		batchId: batchIdOf(envelope),
		status: deriveStatus(event, firstText(call.status, data.status, data.call_status), endReason),
		endReason,
		durationSeconds: durationOf(data, call),
		summary: firstText(call.summary, data.summary),
		shortSummary: firstText(call.shortSummary, call.short_summary, data.short_summary),
		transcript: firstTranscript(data.transcript, call.transcript),
		recordingUrl: firstText(
			call.recordingUrl,
			call.recording_url,
			data.recording_url,
			data.recordingUrl,
		),
		variables: isObject(call.variables) ? call.variables : {},
		phoneNumber: firstText(call.phone_number, call.to_number, call.to),
		fromNumber: firstText(call.from_number, call.from),
		occurredAt: toIsoTime(
			firstText(envelope.timestamp, data.timestamp, call.ended, call.ended_at, data.ended_at),
		),
		resolution: { resolved: false, method: null, reason: 'The call has not been looked up' },
		payload: envelope,
	};
}
