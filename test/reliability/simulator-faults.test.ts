// The simulator's fault injection itself, over real HTTP (test/simulator/faults.ts).
import { seededUnit } from '../simulator/faults';
import type { FaultKind } from '../simulator/server';
import { leadPhone, SIM_AGENTS, sleep, useSimulator } from '../support';

const sim = useSimulator({ autoAdvance: false });

/** A POST /calls body for lead i. */
const body = (i = 234) =>
	JSON.stringify({ agent_id: SIM_AGENTS.active, phone_number: leadPhone(i) });

async function post(
	opts: { body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
) {
	const signal = AbortSignal.timeout(opts.timeoutMs ?? 2000);
	try {
		const res = await fetch(`${sim.baseUrl}/calls`, {
			method: 'POST',
			headers: {
				Authorization: `Bearer ${sim.apiKey}`,
				'Content-Type': 'application/json',
				Connection: 'close',
				...opts.headers,
			},
			body: opts.body ?? body(),
			signal,
		});
		const text = await res.text();
		return {
			status: res.status,
			text,
			headers: res.headers,
			error: undefined as string | undefined,
		};
	} catch (e) {
		return {
			status: 0,
			text: '',
			headers: undefined,
			error: `${(e as Error).name}: ${String((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message)}`,
		};
	}
}

const only = (fault: FaultKind) => ({
	faults: { rules: [{ fault, method: 'POST', path: '/calls' }], slowMs: 400, retryAfterMs: 100 },
});

test.each([
	['status500', 500, 1],
	['status503', 503, 0],
	['status429', 429, 0],
	['malformedJson', 201, 1],
	['resetAfter', 0, 1],
	['resetBefore', 0, 0],
] as const)('%s: the client sees %i; calls created: %i', async (fault, status, calls) => {
	sim.configure(only(fault));
	const res = await post();
	expect(res.status).toBe(status);
	expect(sim.calls.size).toBe(calls);
	expect(sim.faultCounts()[fault]).toBe(1);
	expect(sim.requests[0].fault).toBe(fault);
	if (fault === 'malformedJson') expect(() => JSON.parse(res.text)).toThrow();
	if (fault === 'status429') {
		const json = JSON.parse(res.text);
		expect(Date.parse(json.error.details.reset_at) - Date.now()).toBeLessThanOrEqual(100);
		expect(res.headers!.get('retry-after')).toBe('1');
	}
	if (calls)
		expect(sim.faultLog[0]).toMatchObject({ handledStatus: 201, callId: [...sim.calls.keys()][0] });
});

test('slow: the answer is held past a short client time-out, the call exists; an idempotent retry replays it', async () => {
	sim.configure(only('slow'));
	const first = await post({ headers: { 'X-Idempotency-Key': 'k1' }, timeoutMs: 150 });
	expect(first.status).toBe(0);
	expect(first.error).toMatch(/TimeoutError|AbortError/);
	sim.configure({ faults: null });
	const retry = await post({ headers: { 'X-Idempotency-Key': 'k1' } });
	expect(retry.status).toBe(201);
	expect(retry.headers!.get('idempotent-replayed')).toBe('true');
	expect(sim.calls.size).toBe(1);
	expect(sim.requests[1].replayed).toBe(true);
});

test('rules: occurrence, nth, times, forMs, bodyIncludes', async () => {
	sim.configure({ faults: { rules: [{ fault: 'status503', occurrence: [1] }] } });
	expect([
		(await post({ body: body(1) })).status,
		(await post({ body: body(1) })).status,
		(await post({ body: body(2) })).status,
	]).toEqual([503, 201, 503]);

	sim.reset();
	sim.configure({ faults: { rules: [{ fault: 'status503', nth: [2, 3], times: 1 }] } });
	const statuses = [];
	for (let i = 0; i < 4; i++) statuses.push((await post({ body: body(100 + i) })).status);
	expect(statuses).toEqual([201, 503, 201, 201]);

	sim.reset();
	sim.configure({ faults: { rules: [{ fault: 'status429', forMs: 150 }] } });
	expect((await post({ body: body(200) })).status).toBe(429);
	await sleep(200);
	expect((await post({ body: body(201) })).status).toBe(201);

	sim.reset();
	sim.configure({ faults: { rules: [{ fault: 'status500', bodyIncludes: leadPhone(300) }] } });
	expect([
		(await post({ body: body(300) })).status,
		(await post({ body: body(301) })).status,
	]).toEqual([500, 201]);
});

test('the X-Sim-Fault header asks for a fault per request, unless turned off', async () => {
	expect((await post({ headers: { 'X-Sim-Fault': 'status503' } })).status).toBe(503);
	sim.configure({ faults: { honourHeader: false } });
	expect((await post({ headers: { 'X-Sim-Fault': 'status503' }, body: body(401) })).status).toBe(
		201,
	);
});

test('rates are seeded: the same seed injects the same faults into the same requests, whatever the order', async () => {
	const run = async (order: number[]) => {
		sim.reset();
		sim.configure({ faults: { seed: 99, rates: { status503: 0.3, status500: 0.2 } } });
		const byNumber: Record<number, number> = {};
		for (const n of order) byNumber[n] = (await post({ body: body(1000 + n) })).status;
		return byNumber;
	};
	const numbers = Array.from({ length: 60 }, (_v, i) => i);
	const forward = await run(numbers);
	const backward = await run([...numbers].reverse());
	expect(backward).toEqual(forward);
	const injected = Object.values(forward).filter((s) => s !== 201).length;
	expect(injected).toBeGreaterThan(10);
	expect(injected).toBeLessThan(50);
	// A different seed gives different decisions.
	expect(seededUnit(1, 'x')).not.toBe(seededUnit(2, 'x'));
});

test('control endpoints are never faulted; GET /__sim/faults reports counts and the log', async () => {
	sim.configure({ faults: { rates: { status503: 1 } } });
	expect((await post()).status).toBe(503);
	const res = await fetch(`${sim.url}/__sim/faults`);
	expect(res.status).toBe(200);
	const { data } = (await res.json()) as {
		data: { counts: Record<string, number>; log: unknown[] };
	};
	expect(data.counts.status503).toBe(1);
	expect(data.log).toHaveLength(1);
});
