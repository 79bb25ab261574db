// transport/retry.ts: the backoff and when (and how long) a failed request is retried.
import type { IDataObject } from 'n8n-workflow';

import {
	DEFAULT_RETRY_POLICY,
	backoffDelay,
	retryDelay,
	type RetryPolicy,
} from '../../../../nodes/Truedy/transport/retry';

const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
const NOW = Date.parse('2026-01-01T12:00:00.000Z');

afterEach(() => jest.restoreAllMocks());

function withRandom<T>(value: number, fn: () => T): T {
	const spy = jest.spyOn(Math, 'random').mockReturnValue(value);
	try {
		return fn();
	} finally {
		spy.mockRestore();
	}
}

describe('backoffDelay', () => {
	test.each([
		[1, 250, 500],
		[2, 500, 1000],
		[3, 1000, 2000],
		[4, 2000, 4000],
		[6, 8000, 16000],
		[7, 15000, 30000], // capped at maxDelayMs
		[20, 15000, 30000],
	])('attempt %i waits between %i and %i ms', (attempt, min, max) => {
		expect(withRandom(0, () => backoffDelay(attempt, policy))).toBe(min);
		expect(withRandom(0.999999, () => backoffDelay(attempt, policy))).toBe(max);
		for (let i = 0; i < 50; i++) {
			const delay = backoffDelay(attempt, policy);
			expect(delay).toBeGreaterThanOrEqual(min);
			expect(delay).toBeLessThanOrEqual(max);
			expect(Number.isInteger(delay)).toBe(true);
		}
	});

	test('follows the policy', () => {
		const small: RetryPolicy = {
			maxTotalWaitMs: 1000,
			maxAttempts: 3,
			baseDelayMs: 10,
			maxDelayMs: 25,
			requestTimeoutMs: 1000,
		};
		expect(withRandom(0.999999, () => [1, 2, 3, 4].map((a) => backoffDelay(a, small)))).toEqual([
			10, 20, 25, 25,
		]);
	});
});

describe('retryDelay', () => {
	const rateLimited = (details: Record<string, unknown> = {}) => ({
		error: { code: 'rate_limit_exceeded', message: 'slow down', details },
		meta: { request_id: 'req_1' },
	});
	const delay429 = (body: unknown, headers: IDataObject = {}, attempt = 1) =>
		retryDelay(429, body, headers, attempt, policy, false, NOW);

	test('429 with reset_at (ISO): waits until the reset plus up to 250 ms jitter', () => {
		const body = rateLimited({ reset_at: new Date(NOW + 2000).toISOString() });
		expect(withRandom(0, () => delay429(body))).toBe(2000);
		expect(withRandom(0.999999, () => delay429(body))).toBeCloseTo(2250, 0);
	});

	test('429 with reset_at as epoch seconds or epoch milliseconds', () => {
		expect(withRandom(0, () => delay429(rateLimited({ reset_at: (NOW + 3000) / 1000 })))).toBe(
			3000,
		);
		expect(withRandom(0, () => delay429(rateLimited({ reset_at: NOW + 1500 })))).toBe(1500);
	});

	test('429 with reset_at in the past: retries almost at once', () => {
		expect(
			withRandom(0, () => delay429(rateLimited({ reset_at: new Date(NOW - 5000).toISOString() }))),
		).toBe(0);
	});

	test('429 with Retry-After seconds, or an HTTP date', () => {
		expect(withRandom(0, () => delay429(rateLimited(), { 'retry-after': '3' }))).toBe(3000);
		expect(withRandom(0, () => delay429(undefined, { 'retry-after': 2 }))).toBe(2000);
		expect(
			withRandom(0, () =>
				delay429(undefined, { 'retry-after': new Date(NOW + 4000).toUTCString() }),
			),
		).toBe(4000);
	});

	test('429: reset_at wins over Retry-After', () => {
		const body = rateLimited({ reset_at: new Date(NOW + 1000).toISOString() });
		expect(withRandom(0, () => delay429(body, { 'retry-after': '30' }))).toBe(1000);
	});

	test('429 without hints (or unreadable ones) falls back to exponential backoff', () => {
		expect(withRandom(0, () => delay429(rateLimited()))).toBe(250);
		expect(withRandom(0, () => delay429(rateLimited(), {}, 3))).toBe(1000);
		expect(
			withRandom(0, () => delay429(rateLimited({ reset_at: 'soon' }), { 'retry-after': 'later' })),
		).toBe(250);
		expect(withRandom(0, () => delay429('Too Many Requests', { 'retry-after': '' }))).toBe(250);
		expect(withRandom(0, () => delay429(null))).toBe(250);
	});

	test('429 is retried even without an idempotency key (the request was refused, not processed)', () => {
		expect(retryDelay(429, undefined, {}, 1, policy, false, NOW)).toBeGreaterThan(0);
	});

	test.each([500, 502, 503, 504])(
		'%i is retried with backoff only when safe (GET or idempotency key)',
		(status) => {
			expect(withRandom(0, () => retryDelay(status, {}, {}, 2, policy, true, NOW))).toBe(500);
			expect(retryDelay(status, {}, {}, 2, policy, false, NOW)).toBeUndefined();
		},
	);

	test.each([400, 401, 402, 403, 404, 409, 422])('%i is never retried', (status) => {
		expect(
			retryDelay(
				status,
				rateLimited({ reset_at: NOW + 10 }),
				{ 'retry-after': '1' },
				1,
				policy,
				true,
				NOW,
			),
		).toBeUndefined();
	});
});
