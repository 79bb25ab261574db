// Shared types of the Truedy API simulator.

export type ResponseShape = 'envelope' | 'bare';
export type PaginationPlacement = 'pagination' | 'meta';
export type StatusVocabulary = 'ended' | 'completed';
export type CallFieldNaming = 'phone_number' | 'to_from' | 'to_number';
export type HeaderSpelling = 'Truedy' | 'Trudy';
export type WebhookPayloadShape = 'ultravox' | 'flat';
/**
 * How a 429 says when to retry.
 * - 'reset_at' (default, rate-limits guide version A): `error.details.reset_at` (ISO), no rate-limit headers at all.
 * - 'headers' (rate-limits guide version B, authentication page): `Retry-After` on a 429 and `X-RateLimit-*` on every response.
 * - 'retry_after': only a `Retry-After` header on a 429.
 * - 'none': neither (only `details.limit`).
 */
export type RateLimitStyle = 'reset_at' | 'headers' | 'retry_after' | 'none';
/**
 * Who shares a window.
 * - 'organization' (default, version A): every API key and every endpoint of one organisation.
 * - 'apiKey' (version B, "each API key has separate rate limits").
 * - 'organizationPath' (Truedy's early backend: per organisation and per request path).
 */
export type RateLimitScope = 'organization' | 'apiKey' | 'organizationPath';
/** How the webhook signer builds the signed message. */
export type WebhookSigning = 'raw' | 'sortedKeys';
/** How a webhook payload object is serialized into the body that is sent. */
export type WebhookBodyEncoding = 'compact' | 'pythonDefault';
/** What the Ultravox call's `metadata` carries in the passthrough shape. */
export type UltravoxMetadataMode = 'empty' | 'variables';
export type RateLimitCode = 'rate_limit_exceeded' | 'rate_limited';
/** See SimulatorOptions.idempotencyMismatch. */
export type IdempotencyMismatch = 'conflict' | 'replay';

/** Canonical (vocabulary-independent) call status kept internally. */
export type CanonicalStatus =
	| 'queued'
	| 'ringing'
	| 'in_progress'
	| 'ended'
	| 'failed'
	| 'cancelled';

export interface PhoneNumberRef {
	id: string;
	phone_number: string;
}

export interface SimAgent {
	id: string;
	/**
	 * The agent's id at Ultravox (a UUID). Sent in the passthrough webhook as `data.call.agent.agentId`;
	 * exposed by the API only with `exposeUltravoxIds`. Filled in (derived from `id`) when missing.
	 */
	ultravox_agent_id?: string;
	name: string;
	description: string;
	voice_id: string;
	system_prompt: string;
	model: string;
	status: 'active' | 'draft' | 'creating' | 'failed' | 'paused';
	inbound_phone_numbers: PhoneNumberRef[];
	outbound_phone_numbers: PhoneNumberRef[];
	created_at: string;
	updated_at: string;
}

export interface TranscriptTurn {
	speaker: 'agent' | 'contact';
	text: string;
	timestamp: number;
}

export interface CallSettings {
	recording_enabled?: boolean;
	transcription_enabled?: boolean;
	greeting?: string;
	max_duration?: string;
	join_timeout?: string;
}

/** Internal call record. `status` is canonical; the API renders it per configuration. */
export interface SimCall {
	id: string;
	/**
	 * The call's id at Ultravox (a random UUID for calls the simulator creates). Sent in the passthrough
	 * webhook as `data.call.callId`; exposed by the API only with `exposeUltravoxIds`.
	 * Optional so that hand-built calls still type-check: a missing one is derived from `id`.
	 */
	ultravox_call_id?: string;
	/** The agent's Ultravox id when the call was made (derived from `agent_id` when missing). */
	ultravox_agent_id?: string;
	/** The organisation of the API key that created the call (default organisation when missing). */
	org?: string;
	seq: number;
	status: CanonicalStatus;
	direction: 'outbound';
	agent_id: string;
	to: string;
	from: string;
	variables: Record<string, string>;
	call_settings: CallSettings;
	created_at: string;
	started_at: string | null;
	ended_at: string | null;
	duration_seconds: number | null;
	end_reason: string | null;
	summary: string | null;
	short_summary: string | null;
	transcript: TranscriptTurn[] | null;
	recording_url: string | null;
	/** Epoch ms from which the transcript is visible through the API (transcriptDelayMs). */
	transcriptReadyAt: number | null;
	/** Every status the call has been in, with epoch ms (not part of the API view). */
	history: Array<{ status: CanonicalStatus; at: number }>;
}

export interface CallTimings {
	queuedMs: number;
	ringingMs: number;
	inProgressMs: number;
}

export interface RateLimitWindow {
	limit: number;
	windowMs: number;
}

/**
 * Fixed windows aligned to the epoch (a 60 s window starts at each full minute). Every option is
 * optional: `rateLimit: {}` is the documented version A (100 per minute per organisation, `reset_at`, no headers).
 */
export interface RateLimitOptions {
	/** Requests per window (default 100, version A). */
	limit?: number;
	/** Window length (default 60 000 ms). */
	windowMs?: number;
	/** Default 'reset_at' (version A). */
	style?: RateLimitStyle;
	/** Default 'organization' (version A). */
	scope?: RateLimitScope;
	/** Further windows that must all have room too (version B tiers: 1 000/hour, 10 000/day). */
	tiers?: RateLimitWindow[];
	/** `error.code` of the 429 (default 'rate_limit_exceeded'; the outbound-calls guide says 'rate_limited'). */
	code?: RateLimitCode;
}

/** An additional API key the simulator accepts, in the default organisation unless `org` says otherwise. */
export interface ApiKeyOption {
	key: string;
	org?: string;
}

export interface WebhookOptions {
	url: string;
	secret: string;
	/** Sign with each of these (in order) instead of `secret`, comma-separated in one header (Ultravox-style rotation). */
	secrets?: string[];
	/** 'raw' (default, documented): `${ts}.${raw body}`. 'sortedKeys': Truedy's early backend, `${ts}.${json.dumps(payload, sort_keys=True)}`. */
	signing?: WebhookSigning;
	/** 'compact' (default; httpx ≥ 0.28 `json=`): JSON.stringify. 'pythonDefault': `json.dumps(payload)` (httpx < 0.28). */
	bodyEncoding?: WebhookBodyEncoding;
	/** Passthrough shape: what `data.call.metadata` holds. Default 'empty' ({}); Truedy's use of it is undocumented. */
	metadata?: UltravoxMetadataMode;
	headerSpelling?: HeaderSpelling;
	payloadShape?: WebhookPayloadShape;
	/** Default ['call.ended']; also 'call.started' (call goes in-progress) and 'call.failed' (failed calls, in addition to call.ended). */
	events?: string[];
	/** Extra identical deliveries (same body, timestamp and signature). Default 0. */
	duplicates?: number;
	/** Re-deliver up to N times on non-2xx / network error, 50 ms * attempt backoff, fresh timestamp + signature. */
	retryOnNon2xx?: number;
	/** Added to the signed timestamp (seconds), e.g. -600 for a stale delivery. */
	clockSkewSeconds?: number;
	/** Sign with this secret instead of `secret` (forged deliveries). */
	secretOverride?: string;
	/** Flat shape only: include transcript and recording_url in data. */
	includeTranscript?: boolean;
	/** Per-attempt timeout in ms (default 5000). */
	timeoutMs?: number;
}

export interface SimulatorOptions {
	port: number;
	apiKey: string;
	/** More accepted API keys (default none). Keys of one organisation share its rate limit, idempotency keys and calls. */
	apiKeys?: ApiKeyOption[];
	/**
	 * Call objects carry `ultravox_call_id` and agent objects `ultravox_agent_id` (Truedy's early backend).
	 * Default false: no documented call or agent example shows them.
	 */
	exposeUltravoxIds: boolean;
	/** GET /calls honours an `ultravox_call_id` query filter (undocumented). Default false: the parameter is ignored like any unknown one. */
	ultravoxCallIdFilter: boolean;
	allowedIps?: string[];
	agents: SimAgent[];
	extraAgents: number;
	responseShape: ResponseShape;
	paginationIn: PaginationPlacement;
	statusVocabulary: StatusVocabulary;
	callFieldNaming: CallFieldNaming;
	latencyMs: number;
	rateLimit?: RateLimitOptions;
	credits?: number;
	callTimings: CallTimings;
	/** Destination numbers that fail (unjoined). Strings match exactly; default: numbers ending in 0000. */
	failNumbers: Array<string | RegExp>;
	transcriptDelayMs: number;
	autoAdvance: boolean;
	/** Fabricated talk time reported for ended calls (duration_seconds, billedDuration). */
	durationSeconds: number;
	/** When set, GET /calls accepts a `status` filter only in this vocabulary and answers 422 to the other spelling. */
	statusFilterVocabulary?: StatusVocabulary;
	/**
	 * A POST /calls whose X-Idempotency-Key is known but whose body differs (docs §1.4: "behavior may vary").
	 * 'conflict' (default, Truedy's early backend): 409 `conflict`. 'replay': the stored call, bodies not compared.
	 */
	idempotencyMismatch: IdempotencyMismatch;
	webhook?: WebhookOptions;
	/** Fault injection (unset: none). See faults.ts and README.md › Faults. */
	faults?: FaultOptions;
}

/**
 * Injected faults. "Before" faults replace the handling (nothing happens on the server);
 * "after" faults spoil the answer of a request that was handled (for POST /calls: the call exists).
 * - status500: handled, then answered 500 internal_error (after)
 * - status503: answered 503 service_unavailable, not handled (before)
 * - resetBefore: connection destroyed before handling (before)
 * - resetAfter: handled, then the connection is destroyed without an answer (after)
 * - slow: handled, the answer is held `slowMs` (after; past a short client time-out)
 * - malformedJson: handled, the answer's status is kept and its JSON body cut in half (after)
 * - status429: answered 429 rate_limit_exceeded with reset_at/Retry-After `retryAfterMs` ahead (before)
 * "402 after N calls" is the `credits` option.
 */
export type FaultKind =
	| 'status500'
	| 'status503'
	| 'resetBefore'
	| 'resetAfter'
	| 'slow'
	| 'malformedJson'
	| 'status429';

/** A deterministic fault. All given conditions must hold. */
export interface FaultRule {
	fault: FaultKind;
	/** e.g. 'POST'. */
	method?: string;
	/** The API path without the base ('/calls', '/calls/call_x') or a route template ('/calls/:id'). */
	path?: string;
	/** 1-based: the Nth time an identical request (same method, path and body) arrives, e.g. [1] = every first attempt. */
	occurrence?: number[];
	/** 1-based positions among the requests this rule matched (method, path, body, occurrence, when). */
	nth?: number[];
	/** Fire at most this many times. */
	times?: number;
	/** Live for this long after the faults were configured (e.g. a 429 storm). */
	forMs?: number;
	/** The raw body contains this text (e.g. a phone number: that item only). */
	bodyIncludes?: string;
	/** In-process only: any predicate. */
	when?: (req: {
		method: string;
		path: string;
		route: string;
		headers: Record<string, string>;
		rawBody: string;
	}) => boolean;
}

export interface FaultOptions {
	/** Seed of the rate decisions (default 1). A decision depends only on the seed and the request's content and repetition, not on timing. */
	seed?: number;
	/** Probability per API request of each fault; their sum should be at most 1. */
	rates?: Partial<Record<FaultKind, number>>;
	/** Limit the rates to these requests (default: every API request). */
	ratesFor?: { method?: string; path?: string };
	/** Checked in order before the rates; the first that fires wins. */
	rules?: FaultRule[];
	/** How long a 'slow' answer is held (default 5000 ms). */
	slowMs?: number;
	/** How far ahead an injected 429's reset_at / Retry-After lies (default 200 ms). */
	retryAfterMs?: number;
	/** Obey an `X-Sim-Fault: <kind>` request header (default true). */
	honourHeader?: boolean;
}

export interface FaultRecord {
	fault: FaultKind;
	source: 'header' | 'rule' | 'rate';
	method: string;
	path: string;
	requestId: string;
	/** How many times this identical request had arrived, this one included. */
	occurrence: number;
	/** For after-faults: the status the handler produced (e.g. 201 = the call was created). */
	handledStatus?: number;
	/** For after-faults on POST /calls that created (or replayed) a call. */
	callId?: string;
	at: number;
}

/** Patch accepted by configure(): `null` clears an optional setting / restores a default. */
export type SimulatorOptionsPatch = {
	[K in Exclude<keyof SimulatorOptions, 'callTimings'>]?: SimulatorOptions[K] | null;
} & { callTimings?: Partial<CallTimings> | null };

export interface RecordedRequest {
	method: string;
	/** Path without the /api/public/v1 prefix, e.g. '/calls'. */
	path: string;
	/** Full request path, including /api/public/v1 when present. */
	fullPath: string;
	query: Record<string, string | string[]>;
	headers: Record<string, string>;
	body: unknown;
	rawBody: string;
	status: number;
	receivedAt: number;
	requestId: string;
	clientIp: string;
	/** The organisation of the API key, when the key was accepted. */
	org?: string;
	/** The injected fault, if any (see FaultKind). */
	fault?: FaultKind;
	/** Answered from the idempotency store (Idempotent-Replayed: true). */
	replayed?: boolean;
}

export interface DeliveryRecord {
	event: string;
	eventId: string;
	/** The Truedy call id (simulator bookkeeping; the passthrough payload carries `ultravoxCallId`). */
	callId: string;
	/** The call's Ultravox id, as the passthrough payload's `data.call.callId` carries it. */
	ultravoxCallId: string;
	/** HTTP status of the receiver, 0 on network error / timeout. */
	status: number;
	/** 1 for the first attempt of a copy, 2.. for retries. */
	attempt: number;
	/** 0 for the original delivery, 1.. for configured duplicates. */
	copy: number;
	headers: Record<string, string>;
	rawBody: string;
	responseBody: string;
	error?: string;
	durationMs: number;
	at: number;
}

export interface TruedySimulator {
	url: string;
	baseUrl: string;
	apiKey: string;
	readonly options: SimulatorOptions;
	requests: RecordedRequest[];
	calls: Map<string, SimCall>;
	webhookDeliveries: DeliveryRecord[];
	/** API requests being answered now, and the most at once since the last reset. */
	inFlight: number;
	maxInFlight: number;
	/** Every injected fault since the last reset, in order. */
	readonly faultLog: FaultRecord[];
	/** Injected faults by kind since the last reset. */
	faultCounts(): Record<FaultKind, number>;
	/** Which X-Idempotency-Key created each call (call id → key), read from the idempotency store. */
	callKeys(): Map<string, string>;
	/** Recorded API requests by answered status since the last reset, e.g. `{ 200: 4, 429: 1 }`. */
	statusCounts(): Record<number, number>;
	/** Recorded API requests answered 429 (rate limiter or injected fault) since the last reset. */
	readonly rateLimitedCount: number;
	configure(patch: SimulatorOptionsPatch): void;
	/**
	 * Forgets requests, calls, deliveries, idempotency keys, rate windows and faults seen, ends pending
	 * sleeps and deliveries, and restores every option to its start-up value (as given to startSimulator).
	 */
	reset(): void;
	addAgent(agent: Partial<SimAgent> & { name: string }): SimAgent;
	/** Render a call the way GET /calls/{id} would (configured vocabulary and naming). */
	renderCall(id: string): Record<string, unknown> | undefined;
	setCallStatus(id: string, status: string): SimCall;
	advanceCall(id: string): SimCall;
	endCall(id: string, status?: string): SimCall;
	waitFor<T>(
		predicate: (sim: TruedySimulator) => T | undefined | null | false,
		timeoutMs?: number,
	): Promise<T>;
	close(): Promise<void>;
}
