// Webhook signing, event building and delivery (usable on its own to forge/replay deliveries).
import { createHmac } from 'crypto';
import { randomAlnum, renderStatus, ultravoxAgentIdOf, ultravoxCallIdOf } from './calls';
import { parsePythonJson, pythonJsonDumps, pythonSortedDumps } from './pyjson';
import type {
	HeaderSpelling,
	SimCall,
	StatusVocabulary,
	UltravoxMetadataMode,
	WebhookBodyEncoding,
	WebhookPayloadShape,
	WebhookSigning,
} from './types';

export interface WebhookEnvelope {
	event: string;
	timestamp: string;
	data: Record<string, unknown>;
}

/** Hex HMAC-SHA256 of `${timestamp}.${rawBody}` keyed with the secret exactly as given (e.g. including `whsec_`). */
export function signWebhook(secret: string, timestamp: string | number, rawBody: string): string {
	return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}

export function webhookHeaderNames(spelling: HeaderSpelling = 'Truedy'): {
	timestamp: string;
	signature: string;
} {
	return { timestamp: `X-${spelling}-Timestamp`, signature: `X-${spelling}-Signature` };
}

export interface BuildEventOptions {
	/** Passthrough shape: what `data.call.metadata` holds (default 'empty': `{}`). */
	metadata?: UltravoxMetadataMode;
	/** Flat shape: vocabulary of `status` (default 'ended'). */
	vocabulary?: StatusVocabulary;
	/** Flat shape: include transcript and recording_url. */
	includeTranscript?: boolean;
	eventId?: string;
	/** ISO timestamp of the envelope (default now). */
	timestamp?: string;
}

/**
 * Builds a call event envelope `{event, timestamp, data}`.
 *
 * - 'ultravox' (the documented passthrough shape, "the original Ultravox event payload"): `data.call.callId`
 *   is the call's **Ultravox** id and `data.call.agent.agentId` the agent's **Ultravox** id (UUIDs), never
 *   the Truedy ids. `data.call.metadata` is `{}` unless `metadata: 'variables'`.
 * - 'flat' (the older doc example): Truedy ids (`data.call_id`, `data.agent_id`), `status` in the given
 *   vocabulary, snake_case fields.
 */
export function buildCallEndedEvent(
	call: SimCall,
	shape: WebhookPayloadShape,
	event = 'call.ended',
	opts: BuildEventOptions = {},
): WebhookEnvelope {
	const data = shape === 'ultravox' ? ultravoxData(call, event, opts) : flatData(call, opts);
	return { event, timestamp: opts.timestamp ?? new Date().toISOString(), data };
}

function ultravoxData(
	call: SimCall,
	event: string,
	opts: BuildEventOptions,
): Record<string, unknown> {
	return {
		id: opts.eventId ?? `uv_evt_${randomAlnum(20)}`,
		event,
		call: {
			callId: ultravoxCallIdOf(call),
			agent: { agentId: call.ultravox_agent_id ?? ultravoxAgentIdOf(call.agent_id) },
			created: call.created_at,
			joined: call.started_at,
			ended: call.ended_at,
			endReason: call.end_reason,
			billedDuration: call.duration_seconds === null ? null : `${call.duration_seconds}s`,
			billingStatus: call.ended_at ? 'BILLING_STATUS_BILLED' : 'BILLING_STATUS_PENDING',
			summary: call.summary,
			shortSummary: call.short_summary,
			metadata: opts.metadata === 'variables' ? { ...call.variables } : {},
		},
	};
}

function flatData(call: SimCall, opts: BuildEventOptions): Record<string, unknown> {
	const data: Record<string, unknown> = {
		id: opts.eventId ?? `evt_${randomAlnum(20)}`,
		call_id: call.id,
		agent_id: call.agent_id,
		status: renderStatus(call.status, opts.vocabulary ?? 'ended'),
		end_reason: call.end_reason,
		duration_seconds: call.duration_seconds,
		summary: call.summary,
	};
	if (opts.includeTranscript) {
		data.transcript = call.transcript;
		data.recording_url = call.recording_url;
	}
	return data;
}

export type SignedHeader = 'timestamp' | 'signature' | 'content-type';

export interface DeliverOptions {
	/** Signing secret; without it (and without secrets or signatureOverride) no signature header is sent. */
	secret?: string;
	/** Sign with each of these, in order, instead of `secret`: the header holds the signatures comma-separated (Ultravox-style rotation). */
	secrets?: string[];
	/**
	 * What is signed. 'raw' (default, documented): `${timestamp}.${raw body}`. 'sortedKeys' (Truedy's early
	 * backend): `${timestamp}.${json.dumps(payload, sort_keys=True)}` with Python's defaults, while the body sent
	 * stays as `bodyEncoding` says. A string payload is re-read the way Python's json.loads would.
	 */
	signing?: WebhookSigning;
	/** How a payload object becomes the body: 'compact' (default, JSON.stringify) or 'pythonDefault' (`json.dumps(payload)`). A string is sent as is. */
	bodyEncoding?: WebhookBodyEncoding;
	/** Unix seconds (default now) or any string (e.g. an ISO date) — sent and signed verbatim. */
	timestamp?: number | string;
	headerSpelling?: HeaderSpelling;
	/** Sent as the signature header instead of the computed one. */
	signatureOverride?: string;
	/** true = omit timestamp and signature headers; or a list of headers to omit. */
	omitHeaders?: boolean | SignedHeader[];
	extraHeaders?: Record<string, string>;
	/** Per-attempt timeout (default 5000 ms). */
	timeoutMs?: number;
	signal?: AbortSignal;
}

export interface PreparedDelivery {
	rawBody: string;
	headers: Record<string, string>;
}

export interface DeliverResult {
	status: number;
	body: string;
	durationMs: number;
	/** Request headers that were sent. */
	headers: Record<string, string>;
	rawBody: string;
}

/** The text a signature covers (after `${timestamp}.`) under the given signing variant. */
export function signedText(
	payload: WebhookEnvelope | string,
	rawBody: string,
	signing: WebhookSigning = 'raw',
): string {
	if (signing === 'raw') return rawBody;
	return pythonSortedDumps(typeof payload === 'string' ? parsePythonJson(payload) : payload);
}

/** The signature header value: one hex HMAC per secret, comma-separated. */
export function signatureHeaderValue(
	secrets: string[],
	timestamp: string | number,
	text: string,
): string {
	return secrets.map((secret) => signWebhook(secret, timestamp, text)).join(',');
}

/** Serializes and signs a delivery without sending it. */
export function prepareDelivery(
	payload: WebhookEnvelope | string,
	opts: DeliverOptions = {},
): PreparedDelivery {
	const rawBody =
		typeof payload === 'string'
			? payload
			: opts.bodyEncoding === 'pythonDefault'
				? pythonJsonDumps(payload)
				: JSON.stringify(payload);
	const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
	const names = webhookHeaderNames(opts.headerSpelling);
	const omit = new Set<SignedHeader>(
		opts.omitHeaders === true
			? ['timestamp', 'signature']
			: Array.isArray(opts.omitHeaders)
				? opts.omitHeaders
				: [],
	);
	const headers: Record<string, string> = {};
	if (!omit.has('content-type')) headers['Content-Type'] = 'application/json';
	if (!omit.has('timestamp')) headers[names.timestamp] = timestamp;
	const secrets = opts.secrets ?? (opts.secret !== undefined ? [opts.secret] : []);
	const signature =
		opts.signatureOverride ??
		(secrets.length > 0
			? signatureHeaderValue(secrets, timestamp, signedText(payload, rawBody, opts.signing))
			: undefined);
	if (signature !== undefined && !omit.has('signature')) headers[names.signature] = signature;
	Object.assign(headers, opts.extraHeaders ?? {});
	return { rawBody, headers };
}

/** Sends an already prepared delivery. Rejects on network errors and timeouts. */
export async function sendDelivery(
	url: string,
	prepared: PreparedDelivery,
	opts: Pick<DeliverOptions, 'timeoutMs' | 'signal'> = {},
): Promise<DeliverResult> {
	const controller = new AbortController();
	const abort = () => controller.abort();
	const timer = setTimeout(abort, opts.timeoutMs ?? 5000);
	timer.unref?.();
	opts.signal?.addEventListener('abort', abort, { once: true });
	const started = Date.now();
	try {
		const res = await fetch(url, {
			method: 'POST',
			headers: prepared.headers,
			body: prepared.rawBody,
			signal: controller.signal,
		});
		const body = await res.text();
		return {
			status: res.status,
			body,
			durationMs: Date.now() - started,
			headers: prepared.headers,
			rawBody: prepared.rawBody,
		};
	} finally {
		clearTimeout(timer);
		opts.signal?.removeEventListener('abort', abort);
	}
}

/** Signs and POSTs a webhook delivery (an envelope object, or a raw body string sent byte-for-byte). */
export async function deliverWebhook(
	url: string,
	payload: WebhookEnvelope | string,
	opts: DeliverOptions = {},
): Promise<DeliverResult> {
	return sendDelivery(url, prepareDelivery(payload, opts), opts);
}
