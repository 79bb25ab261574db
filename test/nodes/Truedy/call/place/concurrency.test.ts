// Many items: concurrency cap, input order and pairedItem, client-side pacing and the shared
// 429 gate, through the real engine against the simulator.
import { startSimulator, SIM_AGENTS } from '../../../../simulator/server';
import type { TruedySimulator } from '../../../../simulator/server';
import type { INodeParameters } from 'n8n-workflow';
import {
	NODE,
	agentById,
	callRequests,
	callsPerNumber,
	idempotencyKeyOf,
	items,
	leadPhone,
	runPlaceCall,
} from '../../../../support';

let sim: TruedySimulator;
beforeAll(async () => {
	sim = await startSimulator({ autoAdvance: false });
});
afterAll(async () => sim.close());
beforeEach(() => {
	sim.reset();
	sim.configure({ latencyMs: 0, rateLimit: null as any });
});

const contacts = (n: number) => Array.from({ length: n }, (_, i) => ({ phone: leadPhone(i), i }));
const parameters = (options: Record<string, unknown>): INodeParameters => ({
	agent: agentById(SIM_AGENTS.active),
	phoneNumber: '={{ $json.phone }}',
	variablesInput: 'keyValue',
	variables: { variable: [{ name: 'row', value: '={{ $json.i }}' }] },
	options: options as INodeParameters,
});

test.each([1, 5, 10])(
	'concurrency %i: never more in flight, output in input order with pairedItem',
	async (concurrency) => {
		sim.configure({ latencyMs: 60 });
		const result = await runPlaceCall(sim, {
			parameters: parameters({ concurrency }),
			items: items(...contacts(30)),
		});
		const output = result.output(NODE);
		expect(output).toHaveLength(30);
		output.forEach((item, i) => {
			expect(item.pairedItem).toEqual({ item: i });
			expect(item.json.phone_number).toBe(leadPhone(i));
			expect((item.json.variables as any).row).toBe(String(i));
		});
		expect(sim.maxInFlight).toBeLessThanOrEqual(concurrency);
		if (concurrency > 1) expect(sim.maxInFlight).toBeGreaterThan(1);
		expect(Object.values(callsPerNumber(sim))).toEqual(Array(30).fill(1));
	},
);

test('the default concurrency overlaps requests and is faster than one at a time', async () => {
	sim.configure({ latencyMs: 50 });
	const started = Date.now();
	await runPlaceCall(sim, {
		parameters: parameters({ concurrency: 1 }),
		items: items(...contacts(20)),
	});
	const sequentialMs = Date.now() - started;
	// reset() restores the start-up options: the latency is set again.
	sim.reset();
	sim.configure({ latencyMs: 50 });
	const startedDefault = Date.now();
	const result = await runPlaceCall(sim, {
		parameters: parameters({ concurrency: undefined }),
		items: items(...contacts(20)),
	});
	const defaultMs = Date.now() - startedDefault;
	expect(result.output(NODE)).toHaveLength(20);
	expect(sim.maxInFlight).toBeGreaterThan(1);
	expect(defaultMs).toBeLessThan(sequentialMs / 2);
});

test('with Continue On Fail, failures in the middle keep their place', async () => {
	const rows = contacts(12).map((row, i) =>
		i % 4 === 2 ? { ...row, phone: 'not a number' } : row,
	);
	const result = await runPlaceCall(sim, {
		parameters: parameters({ concurrency: 5 }),
		items: items(...rows),
		settings: { onError: 'continueRegularOutput' },
	});
	const output = result.output(NODE);
	expect(output).toHaveLength(12);
	output.forEach((item, i) => {
		expect(item.pairedItem).toEqual({ item: i });
		if (i % 4 === 2) expect(String(item.json.error)).toContain(`Item ${i}:`);
		else expect(item.json.id).toMatch(/^call_/);
	});
	expect(sim.calls.size).toBe(9);
});

test('Calls per Minute spaces the creates evenly', async () => {
	const result = await runPlaceCall(sim, {
		parameters: parameters({ concurrency: 5, callsPerMinute: 300 }),
		items: items(...contacts(6)),
	});
	expect(result.output(NODE)).toHaveLength(6);
	const times = callRequests(sim).map((r) => r.receivedAt);
	// Create k is sent no earlier than k slots of 200 ms after the first (arrival jitter aside).
	times.forEach((time, k) => expect(time - times[0]).toBeGreaterThanOrEqual(k * 200 - 60));
});

test('a 429 holds back the other workers until the reset, and nobody is dialled twice', async () => {
	sim.configure({ rateLimit: { limit: 10, windowMs: 1000, style: 'reset_at' } });
	const result = await runPlaceCall(sim, {
		parameters: parameters({ concurrency: 10 }),
		items: items(...contacts(30)),
	});
	expect(result.output(NODE)).toHaveLength(30);
	expect(Object.values(callsPerNumber(sim))).toEqual(Array(30).fill(1));
	const limited = callRequests(sim).filter((r) => r.status === 429);
	// Without the shared pause every worker would keep hitting the limit until the window ends.
	expect(limited.length).toBeLessThanOrEqual(25);
	const keysPerNumber = new Map<string, Set<string>>();
	for (const request of callRequests(sim)) {
		const number = (request.body as any).phone_number;
		keysPerNumber.set(
			number,
			(keysPerNumber.get(number) ?? new Set()).add(idempotencyKeyOf(request)!),
		);
	}
	for (const keys of keysPerNumber.values()) expect(keys.size).toBe(1);
});
