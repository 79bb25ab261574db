// Retries never dial twice: 429 bursts (reset_at, Retry-After, plain backoff), lost responses after
// the call was created (500, dropped connection), and n8n's own Retry On Fail after a mid-batch failure.
import type { RecordedRequest } from '../../../../simulator/server';
import { SIM_AGENTS, startSimulator, TruedySimulator } from '../../../../simulator/server';
import {
	FaultProxy,
	NODE,
	agentById,
	callRequests,
	callsPerNumber,
	idempotencyKeyOf,
	items,
	leadPhone,
	runPlaceCall,
	startFaultProxy,
} from '../../../../support';

let sim: TruedySimulator;
let proxy: FaultProxy | undefined;

beforeAll(async () => {
	sim = await startSimulator({ autoAdvance: false });
});

afterAll(async () => {
	await sim.close();
});

beforeEach(() => {
	sim.reset();
	sim.configure({ rateLimit: null, credits: null });
});

afterEach(async () => {
	await proxy?.close();
	proxy = undefined;
});

const params = {
	agent: agentById(SIM_AGENTS.active),
	phoneNumber: '={{ $json.phone }}',
	variables: { variable: [{ name: 'first_name', value: '={{ $json.name }}' }] },
};

const people = (count: number) =>
	items(
		...Array.from({ length: count }, (_v, i) => ({ phone: leadPhone(i), name: `Person ${i}` })),
	);

/** Attempts per idempotency key, in order. */
function attemptsByKey(requests: RecordedRequest[]): Map<string, RecordedRequest[]> {
	const byKey = new Map<string, RecordedRequest[]>();
	for (const r of requests) {
		const key = idempotencyKeyOf(r)!;
		byKey.set(key, [...(byKey.get(key) ?? []), r]);
	}
	return byKey;
}

/** Every item placed once, in order, one call per person, every key used for one person only. */
function expectExactlyOneCallPerPerson(
	count: number,
	output: ReturnType<Awaited<ReturnType<typeof runPlaceCall>>['output']>,
) {
	expect(output).toHaveLength(count);
	expect(output.map((o) => o.pairedItem)).toEqual(
		Array.from({ length: count }, (_v, item) => ({ item })),
	);
	expect(output.map((o) => o.json.phone_number)).toEqual(
		Array.from({ length: count }, (_v, i) => leadPhone(i)),
	);
	expect(sim.calls.size).toBe(count);
	expect(Object.values(callsPerNumber(sim)).every((n) => n === 1)).toBe(true);
	expect(new Set(output.map((o) => o.json.id)).size).toBe(count);
	for (const o of output) expect(sim.calls.get(String(o.json.id))?.to).toBe(o.json.phone_number);

	const byKey = attemptsByKey(callRequests(sim));
	expect(byKey.size).toBe(count);
	for (const attempts of byKey.values()) {
		expect(new Set(attempts.map((r) => JSON.stringify(r.body))).size).toBe(1);
		expect(attempts.at(-1)!.status).toBe(201);
	}
}

/**
 * Places `count` people at once, every one placed exactly once. Sent all at once, more than two
 * rate windows take are always limited, however the windows fall; sent one after another, they
 * could fit into two windows on a slow machine (0 retries, seen in CI).
 */
async function placeAllAtOnce(count: number): Promise<void> {
	const result = await runPlaceCall(sim, {
		parameters: { ...params, options: { concurrency: count } },
		items: people(count),
	});
	expect(result.nodeError(NODE)).toBeUndefined();
	expectExactlyOneCallPerPerson(count, result.output(NODE));
}

/** Each 429 answer with the next attempt of its key (at least one 429 expected). */
function limitedWithRetries(): Array<{ limited: RecordedRequest; retry: RecordedRequest }> {
	const requests = callRequests(sim);
	const limited = requests.filter((r) => r.status === 429);
	expect(limited.length).toBeGreaterThanOrEqual(1);
	return limited.map((r) => {
		const retry = requests.find(
			(x) => x.receivedAt >= r.receivedAt && x !== r && idempotencyKeyOf(x) === idempotencyKeyOf(r),
		);
		expect(retry).toBeDefined();
		return { limited: r, retry: retry! };
	});
}

describe('429 bursts', () => {
	test("style 'reset_at': 12 items through a 5-per-second limit all succeed; retries wait for the reset and reuse the key", async () => {
		sim.configure({ rateLimit: { limit: 5, windowMs: 1000, style: 'reset_at' } });
		await placeAllAtOnce(12); // two windows take at most 10
		for (const { limited: r, retry } of limitedWithRetries()) {
			const resetAt = Math.floor(r.receivedAt / 1000) * 1000 + 1000;
			expect(retry.receivedAt).toBeGreaterThanOrEqual(resetAt);
			// reset_at plus at most 250 ms jitter, not a long blind backoff
			expect(retry.receivedAt - resetAt).toBeLessThan(1500);
		}
	});

	test("style 'retry_after': the Retry-After header is honoured", async () => {
		sim.configure({ rateLimit: { limit: 5, windowMs: 1000, style: 'retry_after' } });
		await placeAllAtOnce(11); // two windows take at most 10
		for (const { limited: r, retry } of limitedWithRetries()) {
			// Retry-After: 1 → at least a second (plain backoff would retry after 250–500 ms)
			expect(retry.receivedAt - r.receivedAt).toBeGreaterThanOrEqual(1000);
			expect(retry.receivedAt - r.receivedAt).toBeLessThan(2500);
		}
	});

	test("style 'none': exponential backoff with jitter until the window resets", async () => {
		sim.configure({ rateLimit: { limit: 3, windowMs: 700, style: 'none' } });
		await placeAllAtOnce(10); // two windows take at most 6

		let retries = 0;
		for (const attempts of attemptsByKey(callRequests(sim)).values()) {
			for (let n = 1; n < attempts.length; n++) {
				retries++;
				const gap = attempts[n].receivedAt - attempts[n - 1].receivedAt;
				// attempt n waits between half and all of 500 ms · 2^(n-1)
				expect(gap).toBeGreaterThanOrEqual(250 * 2 ** (n - 1) - 5);
				expect(gap).toBeLessThan(500 * 2 ** (n - 1) + 1000);
			}
		}
		expect(retries).toBeGreaterThanOrEqual(1);
	});
});

describe('lost responses after Truedy created the call', () => {
	test.each([['status500'], ['dropConnection']] as const)(
		'%s on one item: retried with the same key, one call per person',
		async (fault) => {
			proxy = await startFaultProxy(sim, (method, path, n) =>
				method === 'POST' && path.endsWith('/calls') && n === 2 ? fault : undefined,
			);
			const result = await runPlaceCall(sim, {
				parameters: params,
				items: people(4),
				baseUrl: proxy.baseUrl,
			});
			expect(result.nodeError(NODE)).toBeUndefined();
			expect(proxy.broken).toHaveLength(1);
			expectExactlyOneCallPerPerson(4, result.output(NODE));

			const requests = callRequests(sim);
			expect(requests).toHaveLength(5);
			// The broken attempt was created (201 at Truedy), then replayed under the same key.
			expect(requests[1].status).toBe(201);
			expect(idempotencyKeyOf(requests[2])).toBe(idempotencyKeyOf(requests[1]));
			expect(requests[2].status).toBe(201);
			expect(result.output(NODE)[1].json.id).toBe([...sim.calls.values()][1].id);
		},
	);
});

describe("n8n's Retry On Fail", () => {
	const retrySettings = { retryOnFail: true, maxTries: 3, waitBetweenTries: 300 };

	test('credits run out mid-batch, get topped up, the retry replays the placed items and places the rest once', async () => {
		sim.configure({ credits: 3 });
		const topUp = sim
			.waitFor((s) => s.requests.some((r) => r.status === 402), 10_000)
			.then(() => sim.configure({ credits: null }));

		const result = await runPlaceCall(sim, {
			parameters: params,
			items: people(5),
			settings: retrySettings,
		});
		await topUp;
		expect(result.nodeError(NODE)).toBeUndefined();
		expectExactlyOneCallPerPerson(5, result.output(NODE));

		const requests = callRequests(sim);
		expect(requests.map((r) => r.status)).toEqual([201, 201, 201, 402, 201, 201, 201, 201, 201]);
		const firstTry = requests.slice(0, 4).map(idempotencyKeyOf);
		const secondTry = requests.slice(4).map(idempotencyKeyOf);
		expect(secondTry.slice(0, 4)).toEqual(firstTry);
		expect(new Set(secondTry).size).toBe(5);
	});

	test('when every try fails the same way, the people already called are still called exactly once', async () => {
		sim.configure({ credits: 2 });
		const result = await runPlaceCall(sim, {
			parameters: params,
			items: people(4),
			settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 10 },
		});
		const error = result.nodeError(NODE)!;
		expect(error.httpCode).toBe('402');
		expect((error as any).context.itemIndex).toBe(2);
		expect(callRequests(sim).map((r) => r.status)).toEqual([
			201, 201, 402, 201, 201, 402, 201, 201, 402,
		]);
		expect(sim.calls.size).toBe(2);
		expect(callsPerNumber(sim)).toEqual({ [leadPhone(0)]: 1, [leadPhone(1)]: 1 });
		expect(attemptsByKey(callRequests(sim)).size).toBe(3);
	});
});
