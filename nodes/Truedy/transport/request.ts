import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IN8nHttpFullResponse,
	IWebhookFunctions,
} from 'n8n-workflow';

import { TRUEDY_API_CREDENTIAL } from '../shared/credentials';
import { sleepWithAbort } from '../shared/sleep';
import { isObject } from '../shared/values';
import {
	apiError,
	cancelledError,
	networkError,
	redactSecret,
	unreadableAnswerError,
} from './errors';
import {
	backoffDelay,
	canWait,
	rateGateOf,
	retryDelay,
	retryPolicyOf,
	type RetryPolicy,
} from './retry';

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
	/**
	 * Awaited before every attempt (retries too), after any 429 wait: e.g. a run's request budget
	 * (`createRequestBudget`). `afterRateLimit` says the attempt waited for a 429's reset.
	 */
	beforeSend?: (signal: AbortSignal | undefined, afterRateLimit: boolean) => Promise<void>;
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

/** The one way the nodes talk to Truedy: auth, envelope unwrapping, retries and error mapping. */
export async function truedyRequest(
	this: TruedyContext,
	request: TruedyRequest,
): Promise<TruedyResponse<unknown>> {
	const policy = retryPolicyOf(request.retry);
	const signal = cancelSignalOf(this);
	const canRetryFailures = request.method === 'GET' || Boolean(request.idempotencyKey);
	const credentials = await credentialsOf(this);
	const options = buildOptions(request, credentials, policy.requestTimeoutMs);
	const gate = rateGateOf(this);
	let waitedMs = 0;
	// Set once an attempt may have taken effect without us seeing the answer (lost connection,
	// 5xx, unreadable answer): whatever error ends the request then has to say so.
	let outcomeUnknown = false;
	let rateLimited = false;

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
		if (request.beforeSend) await request.beforeSend(signal, rateLimited || gateWait > 0);
		// Stop means stop: nothing is started once the execution is cancelled, whatever path led
		// here (a worker taking its next item, a retry, a poll). This is the last await before sending.
		if (signal?.aborted) throw cancelledError(this, request);
		let response: IN8nHttpFullResponse;
		try {
			response = (await this.helpers.httpRequestWithAuthentication.call(
				this,
				TRUEDY_API_CREDENTIAL,
				options,
				{
					credentialsDecrypted: {
						id: '',
						name: '',
						type: TRUEDY_API_CREDENTIAL,
						data: credentials,
					},
				},
			)) as IN8nHttpFullResponse;
		} catch (error) {
			if (signal?.aborted) throw cancelledError(this, request);
			if (mayHaveArrived(error)) outcomeUnknown = true;
			if (canRetryFailures && (await waitToRetry(attempt, backoffDelay(attempt, policy)))) continue;
			throw networkError(this, error, request, attempt, outcomeUnknown);
		}

		const status = response.statusCode;
		if (status >= 200 && status < 300) {
			const data = response.body as unknown;
			if (status === 204 || (typeof data === 'object' && data !== null))
				return unwrapEnvelope(data);
			// The answer is not JSON (cut off or mangled on the way), but the request may have taken
			// effect: like a lost connection, it is retried only when that is safe.
			outcomeUnknown = true;
			if (canRetryFailures && (await waitToRetry(attempt, backoffDelay(attempt, policy)))) continue;
			throw unreadableAnswerError(this, status, request, attempt);
		}

		// Some APIs repeat the credentials they got in their errors: never pass the key on.
		const body = redactSecret(response.body, credentials.apiKey) as IDataObject | undefined;
		if (status >= 500) outcomeUnknown = true;
		const delay = retryDelay(status, body, response.headers, attempt, policy, canRetryFailures);
		rateLimited = status === 429;
		if (!(await waitToRetry(attempt, delay, status === 429))) {
			throw apiError(this, status, body, request, attempt, outcomeUnknown);
		}
	}
}

type TruedyCredentials = ICredentialDataDecryptedObject & { baseUrl?: string };

/** Refused or unresolved connections never reached Truedy; any other network failure may have. */
function mayHaveArrived(error: { code?: string; cause?: { code?: string } } | undefined): boolean {
	const code = error?.cause?.code ?? error?.code;
	return !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(String(code));
}

/** Per node run: credentials are decrypted once. */
const credentialsByRun = new WeakMap<TruedyContext, Promise<TruedyCredentials>>();

async function credentialsOf(context: TruedyContext): Promise<TruedyCredentials> {
	let credentials = credentialsByRun.get(context);
	if (!credentials) {
		credentials = context.getCredentials<TruedyCredentials>(TRUEDY_API_CREDENTIAL);
		credentialsByRun.set(context, credentials);
	}
	return await credentials;
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
	if (!isObject(body)) return false;
	const keys = Object.keys(body);
	return keys.includes('data') && keys.every((key) => ['data', 'meta', 'pagination'].includes(key));
}
