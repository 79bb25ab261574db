import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IN8nHttpFullResponse,
	IWebhookFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { sleepWithAbort } from './sleep';
import { epochMs } from './time';

export const CREDENTIAL_TYPE = 'truedyApi';

type TruedyContext = IExecuteFunctions | ILoadOptionsFunctions | IWebhookFunctions;

export interface TruedyRequest {
	method: IHttpRequestMethods;
	/** Path below the base URL, e.g. `/calls`. */
	path: string;
	qs?: IDataObject;
	body?: IDataObject;
	/** Sent as `X-Idempotency-Key`; also makes 5xx and network errors safe to retry. */
	idempotencyKey?: string;
	itemIndex?: number;
	retry?: Partial<RetryPolicy>;
}

export interface Pagination {
	total?: number;
	limit?: number;
	offset?: number;
	hasMore: boolean;
}

export interface TruedyResponse<T> {
	data: T;
	pagination?: Pagination;
	requestId?: string;
}

export interface RetryPolicy {
	/** Upper bound on the time spent waiting between attempts. */
	maxTotalWaitMs: number;
	maxAttempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
	/** Time-out of one attempt; a timed-out attempt counts as a network error. */
	requestTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
	maxTotalWaitMs: 120_000,
	maxAttempts: 8,
	baseDelayMs: 500,
	maxDelayMs: 30_000,
	requestTimeoutMs: 30_000,
});

let retryPolicyDefaults: RetryPolicy = { ...DEFAULT_RETRY_POLICY };

/**
 * For tests only: changes the policy every request starts from (e.g. a 300 ms time-out and short
 * backoff, so fault-injection suites run in seconds) and returns a function that restores it.
 * Deliberately not reachable from node parameters, credentials or environment variables: users
 * always get {@link DEFAULT_RETRY_POLICY}.
 */
export function overrideRetryPolicyForTests(patch: Partial<RetryPolicy>): () => void {
	const previous = retryPolicyDefaults;
	retryPolicyDefaults = { ...previous, ...patch };
	return () => {
		retryPolicyDefaults = previous;
	};
}

interface TruedyErrorBody {
	error?: { code?: string; message?: string; details?: IDataObject };
	meta?: { request_id?: string };
}

/** The one way the nodes talk to Truedy: auth, envelope unwrapping, retries and error mapping. */
export async function truedyRequest(
	this: TruedyContext,
	request: TruedyRequest,
): Promise<TruedyResponse<unknown>> {
	const policy: RetryPolicy = { ...retryPolicyDefaults, ...request.retry };
	const signal = cancelSignalOf(this);
	const canRetryFailures = request.method === 'GET' || Boolean(request.idempotencyKey);
	const credentials = await credentialsOf(this);
	const options = buildOptions(request, credentials, policy.requestTimeoutMs);
	const gate = rateGateOf(this);
	let waitedMs = 0;
	// Set once an attempt may have taken effect without us seeing the answer (lost connection,
	// 5xx, unreadable answer): whatever error ends the request then has to say so.
	let outcomeUnknown = false;
	const fail = (error: NodeApiError) => {
		if (outcomeUnknown) uncertainErrors.add(error);
		return error;
	};

	// Waits `delay` before the next attempt; false when the policy allows no more waiting.
	const waitToRetry = async (attempt: number, delay: number | undefined, pauseWholeRun = false) => {
		if (delay === undefined || !canWait(attempt, waitedMs, delay, policy)) return false;
		// A 429 pauses every request of this node run, not just the one that hit it.
		if (pauseWholeRun) gate.blockedUntil = Math.max(gate.blockedUntil, Date.now() + delay);
		waitedMs += delay;
		await sleepWithAbort(delay, signal);
		return true;
	};

	for (let attempt = 1; ; attempt++) {
		const gateWait = gate.blockedUntil - Date.now();
		if (gateWait > 0) await sleepWithAbort(gateWait, signal);
		let response: IN8nHttpFullResponse;
		try {
			response = (await this.helpers.httpRequestWithAuthentication.call(
				this,
				CREDENTIAL_TYPE,
				options,
				{ credentialsDecrypted: { id: '', name: '', type: CREDENTIAL_TYPE, data: credentials } },
			)) as IN8nHttpFullResponse;
		} catch (error) {
			if (signal?.aborted) throw cancelledError(this, request);
			if (mayHaveArrived(error)) outcomeUnknown = true;
			if (canRetryFailures && (await waitToRetry(attempt, backoffDelay(attempt, policy)))) continue;
			throw fail(networkError(this, error, request, attempt, outcomeUnknown));
		}

		const status = response.statusCode;
		if (status >= 200 && status < 300) {
			const data = response.body as unknown;
			if (status === 204 || (typeof data === 'object' && data !== null)) return unwrapEnvelope(data);
			// The answer is not JSON (cut off or mangled on the way), but the request may have taken
			// effect: like a lost connection, it is retried only when that is safe.
			outcomeUnknown = true;
			if (canRetryFailures && (await waitToRetry(attempt, backoffDelay(attempt, policy)))) continue;
			throw fail(unreadableAnswerError(this, status, request, attempt));
		}

		// Some APIs repeat the credentials they got in their errors: never pass the key on.
		const body = redactSecret(response.body, credentials.apiKey) as IDataObject | undefined;
		if (status >= 500) outcomeUnknown = true;
		const delay = retryDelay(status, body, response.headers, attempt, policy, canRetryFailures);
		if (!(await waitToRetry(attempt, delay, status === 429))) {
			throw fail(apiError(this, status, body, request, attempt, outcomeUnknown));
		}
	}
}

type TruedyCredentials = ICredentialDataDecryptedObject & { baseUrl?: string };

const uncertainErrors = new WeakSet<Error>();

/**
 * Whether a request that failed with this error may still have taken effect (e.g. the call was
 * created but the answer was lost). Errors of requests that were answered and refused are false.
 */
export function mayHaveTakenEffect(error: unknown): boolean {
	return typeof error === 'object' && error !== null && uncertainErrors.has(error as Error);
}

/** Refused or unresolved connections never reached Truedy; any other network failure may have. */
function mayHaveArrived(error: { code?: string; cause?: { code?: string } } | undefined): boolean {
	const code = error?.cause?.code ?? error?.code;
	return !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(String(code));
}

/** Per node run: credentials are decrypted once, and a 429 holds back all of its requests. */
const credentialsByRun = new WeakMap<TruedyContext, Promise<TruedyCredentials>>();
const rateGateByRun = new WeakMap<TruedyContext, { blockedUntil: number }>();

async function credentialsOf(context: TruedyContext): Promise<TruedyCredentials> {
	let credentials = credentialsByRun.get(context);
	if (!credentials) {
		credentials = context.getCredentials<TruedyCredentials>(CREDENTIAL_TYPE);
		credentialsByRun.set(context, credentials);
	}
	return await credentials;
}

function rateGateOf(context: TruedyContext): { blockedUntil: number } {
	let gate = rateGateByRun.get(context);
	if (!gate) {
		gate = { blockedUntil: 0 };
		rateGateByRun.set(context, gate);
	}
	return gate;
}

function buildOptions(
	request: TruedyRequest,
	credentials: TruedyCredentials,
	timeoutMs: number,
): IHttpRequestOptions {
	const headers: IDataObject = { Accept: 'application/json' };
	if (request.idempotencyKey) headers['X-Idempotency-Key'] = request.idempotencyKey;
	return {
		method: request.method,
		baseURL: normalizeBaseUrl(credentials.baseUrl),
		url: request.path,
		qs: request.qs,
		body: request.body,
		headers,
		json: true,
		timeout: timeoutMs,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
}

export function normalizeBaseUrl(baseUrl: string | undefined): string {
	return (baseUrl || 'https://api.truedy.ai/api/public/v1').trim().replace(/\/+$/, '');
}

function cancelSignalOf(context: TruedyContext): AbortSignal | undefined {
	return 'getExecutionCancelSignal' in context ? context.getExecutionCancelSignal() : undefined;
}

function canWait(attempt: number, waitedMs: number, delayMs: number, policy: RetryPolicy) {
	return attempt < policy.maxAttempts && waitedMs + delayMs <= policy.maxTotalWaitMs;
}

/** Accepts both documented shapes: the `{data, meta, pagination}` envelope and the bare object. */
export function unwrapEnvelope(body: unknown): TruedyResponse<unknown> {
	if (!isEnvelope(body)) return { data: body };
	const meta = (body.meta ?? {}) as IDataObject;
	const pagination = (body.pagination ?? ('has_more' in meta ? meta : undefined)) as
		| IDataObject
		| undefined;
	return {
		data: body.data,
		requestId: typeof meta.request_id === 'string' ? meta.request_id : undefined,
		pagination: pagination && {
			total: pagination.total as number | undefined,
			limit: pagination.limit as number | undefined,
			offset: pagination.offset as number | undefined,
			hasMore: pagination.has_more === true,
		},
	};
}

function isEnvelope(body: unknown): body is IDataObject {
	if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
	const keys = Object.keys(body);
	return keys.includes('data') && keys.every((key) => ['data', 'meta', 'pagination'].includes(key));
}

/** How long to wait before retrying a failed response, or undefined when it must not be retried. */
export function retryDelay(
	status: number,
	body: unknown,
	headers: IDataObject,
	attempt: number,
	policy: RetryPolicy,
	canRetryFailures: boolean,
	now = Date.now(),
): number | undefined {
	if (status === 429) {
		return (
			rateLimitResetDelay(body, now) ??
			retryAfterDelay(headers, now) ??
			backoffDelay(attempt, policy)
		);
	}
	if (status >= 500 && canRetryFailures) return backoffDelay(attempt, policy);
	return undefined;
}

function rateLimitResetDelay(body: unknown, now: number): number | undefined {
	const resetAt = (body as TruedyErrorBody | undefined)?.error?.details?.reset_at;
	if (typeof resetAt !== 'string' && typeof resetAt !== 'number') return undefined;
	const resetMs = typeof resetAt === 'number' ? epochMs(resetAt) : Date.parse(resetAt);
	if (Number.isNaN(resetMs)) return undefined;
	return Math.max(0, resetMs - now) + jitter(250);
}

function retryAfterDelay(headers: IDataObject, now: number): number | undefined {
	const value = headers?.['retry-after'];
	if (value === undefined || value === null || value === '') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000) + jitter(250);
	const date = Date.parse(String(value));
	return Number.isNaN(date) ? undefined : Math.max(0, date - now) + jitter(250);
}

/** Exponential backoff with jitter: between half and all of base·2^(attempt-1), capped. */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
	const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
	return Math.round(ceiling / 2 + jitter(ceiling / 2));
}

function jitter(maxMs: number): number {
	return Math.random() * maxMs;
}

interface ErrorAdvice {
	message: string;
	description: string;
}

const ADVICE_BY_CODE: Record<string, ErrorAdvice> = {
	agent_not_found: {
		message: 'The Truedy agent was not found',
		description: 'No agent exists with this ID. Pick the agent from the list or copy its ID from the Truedy dashboard.',
	},
	no_phone_number_configured: {
		message: 'The agent has no outbound phone number',
		description: 'Assign a phone number to the agent in Truedy under Settings → Phone Numbers.',
	},
	invalid_phone_number: {
		message: 'Truedy rejected the phone number',
		description: 'Phone numbers must be in E.164 format, e.g. +14155551234.',
	},
	agent_not_active: {
		message: 'The agent is not active',
		description: 'The agent is in draft or paused state. Publish it in the Truedy dashboard before placing calls.',
	},
	insufficient_credits: {
		message: 'Not enough Truedy credits',
		description: 'Top up credits or check your billing plan in the Truedy dashboard.',
	},
	rate_limited: {
		message: 'Truedy rate limit reached',
		description: 'Retries did not get through in time. Lower the number of calls per minute, or try again later.',
	},
	idempotency_conflict: {
		message: 'The idempotency key was already used for a different request',
		description: 'Each call needs its own idempotency key. Leave the option empty to derive one per item.',
	},
};
ADVICE_BY_CODE.rate_limit_exceeded = ADVICE_BY_CODE.rate_limited;
ADVICE_BY_CODE.payment_required = ADVICE_BY_CODE.insufficient_credits;

const ADVICE_BY_STATUS: Record<number, ErrorAdvice> = {
	401: {
		message: 'Truedy rejected the API key',
		description: 'Check the API key in the Truedy API credential. Keys can be revoked in Truedy under Settings → API Keys.',
	},
	402: ADVICE_BY_CODE.insufficient_credits,
	403: {
		message: 'Truedy refused access',
		description: "If the API key has an IP allow-list, add this n8n server's IP address in Truedy under Settings → API Keys.",
	},
	404: {
		message: 'The Truedy resource was not found',
		description: 'Check the ID.',
	},
	422: {
		message: 'Truedy rejected the request',
		description: 'Check the fields named in the message.',
	},
	429: ADVICE_BY_CODE.rate_limited,
};

function apiError(
	context: TruedyContext,
	status: number,
	body: unknown,
	request: TruedyRequest,
	attempts: number,
	outcomeUnknown: boolean,
): NodeApiError {
	const errorBody = (typeof body === 'object' && body !== null ? body : {}) as TruedyErrorBody;
	const code = errorBody.error?.code;
	const apiMessage = errorBody.error?.message;
	const advice = (code && ADVICE_BY_CODE[code]) ||
		ADVICE_BY_STATUS[status] || {
			message: status >= 500 ? 'Truedy had a server error' : `Truedy answered ${status}`,
			description:
				status >= 500 ? 'Try again later. Truedy status: https://status.truedy.ai' : 'See the details.',
		};
	const requestId = errorBody.meta?.request_id;
	const detail = apiMessage && apiMessage !== advice.message ? `: ${apiMessage}` : '';
	const parts = [
		advice.description,
		outcomeUnknown ? outcomeUnknownAdvice(request) : '',
		attempts > 1 ? `Gave up after ${attempts} attempts.` : '',
		requestId ? `Truedy request ID: ${requestId}.` : '',
	];
	return new NodeApiError(
		context.getNode(),
		{ ...(errorBody as JsonObject), httpCode: String(status), code: code ?? null },
		{
			message: `${advice.message}${detail}${requestId ? ` [request ID: ${requestId}]` : ''}`,
			description: parts.filter(Boolean).join(' '),
			httpCode: String(status),
			itemIndex: request.itemIndex,
		},
	);
}

/** `value` with every occurrence of `secret` (8+ characters) in its strings replaced by "[redacted]". */
export function redactSecret(value: unknown, secret: unknown, depth = 0): unknown {
	if (typeof secret !== 'string' || secret.trim().length < 8) return value;
	if (typeof value === 'string') return value.split(secret.trim()).join('[redacted]');
	if (typeof value !== 'object' || value === null || depth > 20) return value;
	if (Array.isArray(value)) return value.map((entry) => redactSecret(entry, secret, depth + 1));
	const result: IDataObject = {};
	for (const [key, entry] of Object.entries(value)) result[key] = redactSecret(entry, secret, depth + 1) as IDataObject;
	return result;
}

/** Rebuilds a transport failure from safe fields only, so request headers never leak. */
function networkError(
	context: TruedyContext,
	error: { message?: string; code?: string; cause?: { code?: string; message?: string } },
	request: TruedyRequest,
	attempts: number,
	outcomeUnknown: boolean,
): NodeApiError {
	const code = error?.cause?.code ?? error?.code ?? 'NETWORK_ERROR';
	const reason = error?.cause?.message ?? error?.message ?? 'no response';
	const retried = attempts > 1 ? ` after ${attempts} attempts` : '';
	const unsafe = request.method !== 'GET' && !request.idempotencyKey;
	return new NodeApiError(
		context.getNode(),
		{ message: reason, code },
		{
			message: `Could not reach Truedy${retried}: ${reason}`,
			description: unsafe
				? 'The request was not retried because it carries no idempotency key.'
				: [
						'Check the Base URL in the Truedy API credential and the network.',
						outcomeUnknown ? outcomeUnknownAdvice(request) : '',
					]
						.filter(Boolean)
						.join(' '),
			itemIndex: request.itemIndex,
		},
	);
}

/** A 2xx answer whose body is not JSON: the request may have taken effect. */
function unreadableAnswerError(
	context: TruedyContext,
	status: number,
	request: TruedyRequest,
	attempts: number,
): NodeApiError {
	const retried = attempts > 1 ? ` (${attempts} attempts)` : '';
	return new NodeApiError(
		context.getNode(),
		{ message: 'The answer is not valid JSON', httpCode: String(status) },
		{
			message: `Truedy's answer could not be read${retried}: it is not valid JSON`,
			description: [
				'The answer was probably cut off on the way. Try again later.',
				outcomeUnknownAdvice(request),
			]
				.filter(Boolean)
				.join(' '),
			httpCode: String(status),
			itemIndex: request.itemIndex,
		},
	);
}

/** For requests that change something (placing a call), when their outcome is unknown. */
function outcomeUnknownAdvice(request: TruedyRequest): string {
	if (request.method === 'GET') return '';
	return request.idempotencyKey
		? `Truedy may have created the call before the answer was lost: check Truedy before placing it again (idempotency key ${request.idempotencyKey}).`
		: 'The request was not retried because it carries no idempotency key; Truedy may have created the call.';
}

function cancelledError(context: TruedyContext, request: TruedyRequest): NodeOperationError {
	return new NodeOperationError(context.getNode(), 'The execution was cancelled', {
		itemIndex: request.itemIndex,
	});
}
