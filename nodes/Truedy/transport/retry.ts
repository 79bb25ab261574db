import type { IDataObject } from 'n8n-workflow';

import { epochMs } from '../shared/time';
import type { TruedyErrorBody } from './errors';

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

/** The policy of one request: the defaults with the request's own changes. */
export function retryPolicyOf(patch: Partial<RetryPolicy> | undefined): RetryPolicy {
	return { ...retryPolicyDefaults, ...patch };
}

export function canWait(attempt: number, waitedMs: number, delayMs: number, policy: RetryPolicy) {
	return attempt < policy.maxAttempts && waitedMs + delayMs <= policy.maxTotalWaitMs;
}

export interface RateGate {
	/** Epoch ms before which no request of the run is sent. */
	blockedUntil: number;
}

/** Per node run: a 429 holds back all of its requests, not just the one that hit it. */
const rateGateByRun = new WeakMap<object, RateGate>();

export function rateGateOf(context: object): RateGate {
	let gate = rateGateByRun.get(context);
	if (!gate) {
		gate = { blockedUntil: 0 };
		rateGateByRun.set(context, gate);
	}
	return gate;
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
