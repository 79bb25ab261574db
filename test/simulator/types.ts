/* eslint-disable */
// Shared types of the Truedy API simulator.

export type ResponseShape = 'envelope' | 'bare';
export type PaginationPlacement = 'pagination' | 'meta';
export type StatusVocabulary = 'ended' | 'completed';
export type CallFieldNaming = 'phone_number' | 'to_from' | 'to_number';
export type HeaderSpelling = 'Truedy' | 'Trudy';
export type WebhookPayloadShape = 'ultravox' | 'flat';
export type RateLimitStyle = 'reset_at' | 'retry_after' | 'none';
export type RateLimitCode = 'rate_limit_exceeded' | 'rate_limited';

/** Canonical (vocabulary-independent) call status kept internally. */
export type CanonicalStatus = 'queued' | 'ringing' | 'in_progress' | 'ended' | 'failed' | 'cancelled';

export interface PhoneNumberRef {
	id: string;
	phone_number: string;
}

export interface SimAgent {
	id: string;
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

export interface RateLimitOptions {
	limit: number;
	windowMs: number;
	style: RateLimitStyle;
	code?: RateLimitCode;
}

export interface WebhookOptions {
	url: string;
	secret: string;
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
	webhook?: WebhookOptions;
}

/** Patch accepted by configure(): `null` clears an optional setting / restores a default. */
export type SimulatorOptionsPatch = {
	[K in keyof SimulatorOptions]?: SimulatorOptions[K] | null;
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
}

export interface DeliveryRecord {
	event: string;
	eventId: string;
	callId: string;
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
	/** Records that example workflows posted to POST /__sim/crm. */
	crmRecords: Array<Record<string, unknown>>;
	/** API requests being answered now, and the most at once since the last reset. */
	inFlight: number;
	maxInFlight: number;
	configure(patch: SimulatorOptionsPatch): void;
	reset(): void;
	addAgent(agent: Partial<SimAgent> & { name: string }): SimAgent;
	/** Render a call the way GET /calls/{id} would (configured vocabulary and naming). */
	renderCall(id: string): Record<string, unknown> | undefined;
	setCallStatus(id: string, status: string): SimCall;
	advanceCall(id: string): SimCall;
	endCall(id: string, status?: string): SimCall;
	waitFor<T>(predicate: (sim: TruedySimulator) => T | undefined | null | false, timeoutMs?: number): Promise<T>;
	close(): Promise<void>;
}
