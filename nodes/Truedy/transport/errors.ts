import type { IDataObject, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { TruedyRequest } from './request';

/** Truedy's error answer: `{ error: { code, message, details }, meta: { request_id } }`. */
export interface TruedyErrorBody {
	error?: { code?: string; message?: string; details?: IDataObject };
	meta?: { request_id?: string };
}

interface NodeContext {
	getNode(): INode;
}

interface ErrorAdvice {
	message: string;
	description: string;
}

const ADVICE_BY_CODE: Record<string, ErrorAdvice> = {
	agent_not_found: {
		message: 'The Truedy agent was not found',
		description:
			'No agent exists with this ID. Pick the agent from the list or copy its ID from the Truedy dashboard.',
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
		description:
			'The agent is in draft or paused state. Publish it in the Truedy dashboard before placing calls.',
	},
	insufficient_credits: {
		message: 'Not enough Truedy credits',
		description: 'Top up credits or check your billing plan in the Truedy dashboard.',
	},
	rate_limited: {
		message: 'Truedy rate limit reached',
		description:
			'Retries did not get through in time. Lower the number of calls per minute, or try again later.',
	},
	idempotency_conflict: {
		message: 'The idempotency key was already used for a different request',
		description:
			'Each call needs its own idempotency key. Leave the option empty to derive one per item.',
	},
};
ADVICE_BY_CODE.rate_limit_exceeded = ADVICE_BY_CODE.rate_limited;
ADVICE_BY_CODE.payment_required = ADVICE_BY_CODE.insufficient_credits;

const ADVICE_BY_STATUS: Record<number, ErrorAdvice> = {
	401: {
		message: 'Truedy rejected the API key',
		description:
			'Check the API key in the Truedy API credential. Keys can be revoked in Truedy under Settings → API Keys.',
	},
	402: ADVICE_BY_CODE.insufficient_credits,
	403: {
		message: 'Truedy refused access',
		description:
			"If the API key has an IP allow-list, add this n8n server's IP address in Truedy under Settings → API Keys.",
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

/**
 * Whether a request that failed with this error may still have taken effect (e.g. the call was
 * created but the answer was lost). Errors of requests that were answered and refused are false.
 */
export function mayHaveTakenEffect(error: unknown): boolean {
	return (error as { context?: IDataObject } | null | undefined)?.context?.outcomeUnknown === true;
}

/** The flag travels on the error itself (n8n keeps `context` when it wraps or stores errors). */
function flagOutcome(error: NodeApiError, outcomeUnknown: boolean): NodeApiError {
	if (outcomeUnknown) error.context.outcomeUnknown = true;
	return error;
}

export function apiError(
	context: NodeContext,
	status: number,
	body: unknown,
	request: TruedyRequest,
	attempts: number,
	outcomeUnknown: boolean,
): NodeApiError {
	const errorBody = (typeof body === 'object' && body !== null ? body : {}) as TruedyErrorBody;
	const code = errorBody.error?.code;
	const apiMessage = errorBody.error?.message;
	const advice = (status === 409 &&
		request.idempotencyKey &&
		idempotencyConflictAdvice(request.idempotencyKey)) ||
		(code && ADVICE_BY_CODE[code]) ||
		ADVICE_BY_STATUS[status] || {
			message: status >= 500 ? 'Truedy had a server error' : `Truedy answered ${status}`,
			description:
				status >= 500
					? 'Try again later. Truedy status: https://status.truedy.ai'
					: 'See the details.',
		};
	const requestId = errorBody.meta?.request_id;
	const detail = apiMessage && apiMessage !== advice.message ? `: ${apiMessage}` : '';
	const parts = [
		advice.description,
		outcomeUnknown ? outcomeUnknownAdvice(request) : '',
		attempts > 1 ? `Gave up after ${attempts} attempts.` : '',
		requestId ? `Truedy request ID: ${requestId}.` : '',
	];
	const error = new NodeApiError(
		context.getNode(),
		{ ...(errorBody as JsonObject), httpCode: String(status), code: code ?? null },
		{
			message: `${advice.message}${detail}${requestId ? ` [request ID: ${requestId}]` : ''}`,
			description: parts.filter(Boolean).join(' '),
			httpCode: String(status),
			itemIndex: request.itemIndex,
		},
	);
	return flagOutcome(error, outcomeUnknown);
}

/**
 * A 409 to a request with an idempotency key (`conflict`, or `idempotency_conflict`): Truedy already
 * holds a request under this key with other details, and refused this one.
 */
function idempotencyConflictAdvice(idempotencyKey: string): ErrorAdvice {
	return {
		message: ADVICE_BY_CODE.idempotency_conflict.message,
		description:
			`Truedy already has a call under the idempotency key "${idempotencyKey}" that was made with other details (number, agent, variables or settings), so it placed no call for this one. ` +
			'If you set Options → Idempotency Key, make it unique per call, e.g. {{ $json.leadId }} to call each lead once, or leave it empty for a key per execution, run, item, agent and number.',
	};
}

/** `value` with every occurrence of `secret` (8+ characters) in its strings replaced by "[redacted]". */
export function redactSecret(value: unknown, secret: unknown, depth = 0): unknown {
	if (typeof secret !== 'string' || secret.trim().length < 8) return value;
	if (typeof value === 'string') return value.split(secret.trim()).join('[redacted]');
	if (typeof value !== 'object' || value === null || depth > 20) return value;
	if (Array.isArray(value)) return value.map((entry) => redactSecret(entry, secret, depth + 1));
	const result: IDataObject = {};
	for (const [key, entry] of Object.entries(value))
		result[key] = redactSecret(entry, secret, depth + 1) as IDataObject;
	return result;
}

/** Rebuilds a transport failure from safe fields only, so request headers never leak. */
export function networkError(
	context: NodeContext,
	error: { message?: string; code?: string; cause?: { code?: string; message?: string } },
	request: TruedyRequest,
	attempts: number,
	outcomeUnknown: boolean,
): NodeApiError {
	const code = error?.cause?.code ?? error?.code ?? 'NETWORK_ERROR';
	const reason = error?.cause?.message ?? error?.message ?? 'no response';
	const retried = attempts > 1 ? ` after ${attempts} attempts` : '';
	const unsafe = request.method !== 'GET' && !request.idempotencyKey;
	const nodeError = new NodeApiError(
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
	return flagOutcome(nodeError, outcomeUnknown);
}

/** A 2xx answer whose body is not JSON: the request may have taken effect. */
export function unreadableAnswerError(
	context: NodeContext,
	status: number,
	request: TruedyRequest,
	attempts: number,
): NodeApiError {
	const retried = attempts > 1 ? ` (${attempts} attempts)` : '';
	const error = new NodeApiError(
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
	return flagOutcome(error, true);
}

/** For requests that change something (placing a call), when their outcome is unknown. */
export function outcomeUnknownAdvice(request: TruedyRequest): string {
	if (request.method === 'GET') return '';
	return request.idempotencyKey
		? `Truedy may have created the call before the answer was lost: check Truedy before placing it again (idempotency key ${request.idempotencyKey}).`
		: 'The request was not retried because it carries no idempotency key; Truedy may have created the call.';
}

export function cancelledError(context: NodeContext, request: TruedyRequest): NodeOperationError {
	return new NodeOperationError(context.getNode(), 'The execution was cancelled', {
		itemIndex: request.itemIndex,
	});
}
