// Suite 1 — no duplicate dials, nothing lost (docs/reliability.md).
// Batches of Place Call items through n8n's real engine against the simulator, under every
// fault mix, fail-fast / Continue On Fail / n8n's Retry On Fail. Counted per run:
// - duplicates: calls beyond the first to the same person (must be 0);
// - lost: items in minus items out with Continue On Fail, success items without their call,
//   and calls nobody accounts for (neither in the output nor in the node's "created" log) (must be 0);
// - every failed item names its index.
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import {
	FAULT_KINDS,
	SIM_AGENTS,
	startSimulator,
	type FaultKind,
	type FaultOptions,
	type TruedySimulator,
} from '../simulator/server';
import { idempotencyKeyOf, leadPhone, placeCall, runTruedy, type RunResult } from '../support';
import {
	CANARY_API_KEY,
	captureLogs,
	LeakScanner,
	NODE,
	SOAK,
	useFastRetries,
	writeSuiteResults,
	type LogCapture,
} from './support';

const BATCH = SOAK ? 1000 : 200;
const SEEDS = SOAK ? [1, 2, 3] : [7];

let sim: TruedySimulator;
let logs: LogCapture;
let restorePolicy: () => void;
const scanner = new LeakScanner();
const runs: IDataObject[] = [];
const proofs: IDataObject[] = [];

beforeAll(async () => {
	logs = captureLogs();
	restorePolicy = useFastRetries();
	sim = await startSimulator({ apiKey: CANARY_API_KEY, autoAdvance: false });
	// Warm up the engine and the HTTP stack, so the first counted run does not time out more
	// often than the others just because code is still being compiled.
	await runTruedy(sim, {
		parameters: placeCall(parameters),
		items: batch(50),
		executionId: 'warm-up',
		apiKey: CANARY_API_KEY,
	});
	sim.reset();
});

afterAll(async () => {
	await sim.close();
	restorePolicy();
	scanner.scanLogs(logs);
	logs.restore();
	writeSuiteResults('no-duplicates', {
		batch: BATCH,
		seeds: SEEDS,
		runs,
		proofs,
		secretScan: scanner.summary(),
	});
	expect(scanner.hits).toEqual([]);
});

const parameters = {
	agent: { __rl: true, mode: 'id', value: SIM_AGENTS.active },
	phoneNumber: '={{ $json.phone }}',
	variables: { variable: [{ name: 'first_name', value: '={{ $json.name }}' }] },
};

const batch = (count = BATCH): INodeExecutionData[] =>
	Array.from({ length: count }, (_v, i) => ({
		json: { phone: leadPhone(i), name: `Person ${i}` },
	}));

/** Items whose every answer is lost (the call is created, the client never hears of it). */
const POISONED = new Set(
	Array.from({ length: BATCH }, (_v, i) => i)
		.filter((i) => i % 40 === 13)
		.map(leadPhone),
);

interface Mix {
	name: string;
	faults?: FaultOptions;
	credits?: number;
}

const MIXES: Mix[] = [
	{ name: '500 and 503', faults: { rates: { status500: 0.1, status503: 0.1 } } },
	{
		name: 'connection resets before and after create',
		faults: { rates: { resetBefore: 0.1, resetAfter: 0.15 } },
	},
	{ name: 'slow answers past the client time-out', faults: { rates: { slow: 0.1 }, slowMs: 1000 } },
	{ name: 'malformed JSON answers', faults: { rates: { malformedJson: 0.15 } } },
	{
		name: '429 storm',
		faults: {
			rules: [{ fault: 'status429', forMs: 400 }],
			rates: { status429: 0.03 },
			retryAfterMs: 50,
		},
	},
	{ name: '402 after N calls', credits: Math.floor(BATCH * 0.75) },
	{
		name: 'every fault at once',
		faults: {
			rates: {
				status500: 0.04,
				status503: 0.04,
				resetBefore: 0.04,
				resetAfter: 0.04,
				slow: 0.02,
				malformedJson: 0.04,
				status429: 0.02,
			},
			slowMs: 1000,
			retryAfterMs: 50,
		},
	},
	{
		name: 'answers always lost for some items',
		faults: {
			rules: [
				{
					fault: 'resetAfter',
					method: 'POST',
					path: '/calls',
					when: (r) => POISONED.has(phoneOf(r.rawBody) ?? ''),
				},
			],
			rates: { status503: 0.05, resetAfter: 0.05 },
		},
	},
];

type Mode = 'fail-fast' | 'continueOnFail' | 'retryOnFail';
const MODES: Record<Mode, IDataObject> = {
	'fail-fast': {},
	continueOnFail: { onError: 'continueRegularOutput' },
	retryOnFail: { retryOnFail: true, maxTries: 3, waitBetweenTries: 10 },
};

function phoneOf(rawBody: string): string | undefined {
	try {
		return JSON.parse(rawBody).phone_number;
	} catch {
		return undefined;
	}
}

/** The node's "created" log lines for one execution (PlacedCallLedger). */
function ledgerOf(executionId: string): {
	created: Map<string, number>;
	unanswered: Set<number>;
	lines: number;
} {
	const created = new Map<string, number>();
	const unanswered = new Set<number>();
	let lines = 0;
	for (const line of logs.lines) {
		const meta = line.meta as IDataObject | undefined;
		if (!line.message.startsWith('Truedy Place Call ') || meta?.executionId !== executionId)
			continue;
		lines++;
		for (const c of (meta.createdCalls as Array<{ itemIndex: number; callId: string }>) ?? [])
			created.set(c.callId, c.itemIndex);
		for (const u of (meta.unanswered as Array<{ itemIndex: number }>) ?? [])
			unanswered.add(u.itemIndex);
	}
	return { created, unanswered, lines };
}

/** Checks one run, returns its counts; every problem is also listed in `problems`. */
/**
 * Whether a call or request belongs to an earlier test's run: its idempotency key names another
 * execution. Requests time out after 300 ms here (FAST_POLICY), and under CPU load the in-process
 * simulator reads some of them only after that run has ended and the next test has reset it.
 */
function fromEarlierRun(key: string | undefined, executionId: string): boolean {
	return key !== undefined && key.startsWith('n8n:') && !key.startsWith(`n8n:${executionId}:`);
}

function account(result: RunResult, count: number, executionId: string) {
	const problems: string[] = [];
	const numbers = Array.from({ length: count }, (_v, i) => leadPhone(i));
	const indexOf = new Map(numbers.map((n, i) => [n, i]));
	const callsTo = new Map<string, string[]>();
	let phantom = 0;
	const keyOfCall = sim.callKeys();
	const calls = [...sim.calls.values()].filter(
		(call) => !fromEarlierRun(keyOfCall.get(call.id), executionId),
	);
	const strays = sim.calls.size - calls.length;
	for (const call of calls) {
		if (!indexOf.has(call.to)) phantom++;
		callsTo.set(call.to, [...(callsTo.get(call.to) ?? []), call.id]);
	}
	let duplicates = 0;
	for (const [to, ids] of callsTo) {
		if (ids.length > 1) {
			duplicates += ids.length - 1;
			problems.push(`${ids.length} calls to ${to}`);
		}
	}

	const nodeError = result.nodeError(NODE);
	const output = nodeError ? undefined : result.output(NODE);
	let succeeded = 0;
	let failed = 0;
	let uncertain = 0;
	let lost = 0;
	const accounted = new Set<string>();

	if (output) {
		if (output.length !== count) {
			lost += Math.max(0, count - output.length);
			problems.push(`${output.length} items out for ${count} in`);
		}
		output.forEach((item, position) => {
			const paired = (item.pairedItem as { item: number } | undefined)?.item;
			if (paired !== position) problems.push(`output ${position} is paired with item ${paired}`);
			const json = item.json;
			if (json.error === undefined) {
				succeeded++;
				const call = sim.calls.get(String(json.id));
				const calls = callsTo.get(numbers[position]) ?? [];
				if (!call || call.to !== numbers[position] || calls.length !== 1) {
					lost++;
					problems.push(
						`item ${position} reports call ${json.id}, simulator has ${calls.length} calls to ${numbers[position]}`,
					);
				}
				if (call) accounted.add(call.id);
			} else {
				failed++;
				const details = (json.details ?? {}) as IDataObject;
				if (
					details.itemIndex !== position ||
					typeof json.error !== 'string' ||
					json.error.trim() === ''
				) {
					problems.push(
						`error item ${position} does not name its index: ${JSON.stringify(json).slice(0, 200)}`,
					);
				}
				const calls = callsTo.get(numbers[position]) ?? [];
				if (calls.length > 0) {
					uncertain++;
					calls.forEach((id) => accounted.add(id));
					// A failed item whose call exists must say so.
					if (!String(details.description ?? '').includes('may have created the call')) {
						problems.push(
							`item ${position} failed, its call exists, and the error does not say so`,
						);
					}
				}
			}
		});
	} else {
		const index =
			(nodeError as IDataObject & { context?: IDataObject }).context?.itemIndex ??
			(nodeError as IDataObject).itemIndex;
		if (typeof index !== 'number' || index < 0 || index >= count || !nodeError!.message) {
			problems.push(`node error does not name an item: ${nodeError!.message}`);
		}
		failed = 1;
	}

	// Whatever the output does not show, the node's log must (PlacedCallLedger).
	const ledger = ledgerOf(executionId);
	let unaccounted = 0;
	for (const call of calls) {
		if (accounted.has(call.id) || ledger.created.has(call.id)) continue;
		if (ledger.unanswered.has(indexOf.get(call.to) ?? -1)) {
			uncertain++;
			continue;
		}
		unaccounted++;
		problems.push(`call ${call.id} to ${call.to} is neither in the output nor in the log`);
	}
	lost += unaccounted;

	const posts = sim.requests.filter(
		(r) =>
			r.method === 'POST' &&
			r.path === '/calls' &&
			!fromEarlierRun(idempotencyKeyOf(r), executionId),
	);
	return {
		counts: {
			itemsIn: count,
			itemsOut: output?.length ?? 0,
			nodeFailed: Boolean(nodeError),
			succeeded,
			failedItems: output ? failed : 0,
			requests: posts.length,
			replays: posts.filter((r) => r.replayed).length,
			faults: sim.faultCounts(),
			faultsInjected: sim.faultLog.length,
			status402: posts.filter((r) => r.status === 402).length,
			callsCreated: calls.length,
			callsOfEarlierRuns: strays,
			duplicates,
			phantom,
			lost,
			uncertain,
			ledgerLines: ledger.lines,
		},
		problems,
	};
}

describe.each(SEEDS)('seed %i', (seed) => {
	describe.each(MIXES)('$name', (mix) => {
		test.each(Object.keys(MODES) as Mode[])(
			`${BATCH} items, %s: at most one call per item, nothing lost`,
			async (mode) => {
				sim.reset();
				sim.configure({
					faults: mix.faults ? { seed, ...mix.faults } : null,
					credits: mix.credits ?? null,
				});
				const executionId = `rel-${seed}-${mix.name.replace(/\W+/g, '-')}-${mode}`;
				const started = Date.now();
				const result = await runTruedy(sim, {
					parameters: placeCall(parameters),
					apiKey: CANARY_API_KEY,
					items: batch(),
					settings: MODES[mode],
					executionId,
				});
				const durationMs = Date.now() - started;
				scanner.scanRun(`${mix.name} / ${mode}`, result);

				const { counts, problems } = account(result, BATCH, executionId);
				runs.push({ seed, mix: mix.name, mode, durationMs, ...counts });
				expect(problems).toEqual([]);
				expect(counts.duplicates).toBe(0);
				expect(counts.lost).toBe(0);
				expect(counts.phantom).toBe(0);
				if (mode === 'continueOnFail') expect(counts.itemsOut).toBe(BATCH);
				if (mix.faults) expect(counts.faultsInjected).toBeGreaterThan(0);
				if (mix.credits !== undefined) expect(counts.status402).toBeGreaterThan(0);
			},
		);
	});
});

describe('the reset-after-create case is what idempotency keys are for', () => {
	test(`every first attempt of ${BATCH} items creates the call and loses the answer: ${BATCH} calls, ≥ ${BATCH} replays, 0 duplicates`, async () => {
		sim.reset();
		sim.configure({
			credits: null,
			faults: { rules: [{ fault: 'resetAfter', method: 'POST', path: '/calls', occurrence: [1] }] },
		});
		const executionId = 'rel-reset-after-create';
		const result = await runTruedy(sim, {
			parameters: placeCall(parameters),
			items: batch(),
			executionId,
			apiKey: CANARY_API_KEY,
		});
		scanner.scanRun('reset after create', result);
		const { counts, problems } = account(result, BATCH, executionId);
		proofs.push({
			name: 'reset after every create, through the node (idempotency keys)',
			...counts,
		});

		expect(problems).toEqual([]);
		expect(result.nodeError(NODE)).toBeUndefined();
		expect(counts.faults.resetAfter).toBe(BATCH);
		expect(sim.faultLog.every((f) => f.handledStatus === 201 && f.callId)).toBe(true);
		// Every item's second attempt is a replay; on a busy machine a replay can time out too.
		expect(counts.replays).toBeGreaterThanOrEqual(BATCH);
		expect(counts.callsCreated).toBe(BATCH);
		expect(counts.duplicates).toBe(0);
		// Each item reports the very call whose answer was lost.
		const lostAnswers = new Set(sim.faultLog.map((f) => f.callId));
		expect(result.output(NODE).every((item) => lostAnswers.has(String(item.json.id)))).toBe(true);
	});

	test('control: a client that retries the same faults without an idempotency key dials everyone twice', async () => {
		sim.reset();
		sim.configure({
			credits: null,
			faults: { rules: [{ fault: 'resetAfter', method: 'POST', path: '/calls', occurrence: [1] }] },
		});
		for (let i = 0; i < BATCH; i++) {
			const body = JSON.stringify({ agent_id: SIM_AGENTS.active, phone_number: leadPhone(i) });
			for (let attempt = 1; attempt <= 2; attempt++) {
				const ok = await fetch(`${sim.baseUrl}/calls`, {
					method: 'POST',
					headers: {
						Authorization: `Bearer ${CANARY_API_KEY}`,
						'Content-Type': 'application/json',
						Connection: 'close',
					},
					body,
				}).then(
					(r) => r.ok,
					() => false,
				);
				if (ok) break;
			}
		}
		const duplicates = sim.calls.size - new Set([...sim.calls.values()].map((c) => c.to)).size;
		proofs.push({
			name: 'control: same faults, plain retries without a key',
			itemsIn: BATCH,
			callsCreated: sim.calls.size,
			duplicates,
		});
		// The detector sees duplicates when there are some: the zeros above are real.
		expect(duplicates).toBe(BATCH);
	});

	test("n8n's Retry On Fail after credits run out mid-batch: the next try replays every placed item and places the rest once", async () => {
		sim.reset();
		const credits = Math.floor(BATCH * 0.75);
		sim.configure({ faults: null, credits });
		const topUp = sim
			.waitFor((s) => s.requests.some((r) => r.status === 402), 20_000)
			.then(() => sim.configure({ credits: null }));
		const executionId = 'rel-retry-on-fail-top-up';
		const result = await runTruedy(sim, {
			parameters: placeCall(parameters),
			apiKey: CANARY_API_KEY,
			items: batch(),
			settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 200 },
			executionId,
		});
		await topUp;
		scanner.scanRun('retry on fail after top-up', result);
		const { counts, problems } = account(result, BATCH, executionId);
		proofs.push({ name: 'n8n Retry On Fail after a 402 mid-batch, credits topped up', ...counts });

		expect(problems).toEqual([]);
		expect(result.nodeError(NODE)).toBeUndefined();
		expect(counts.callsCreated).toBe(BATCH);
		expect(counts.duplicates).toBe(0);
		expect(counts.replays).toBeGreaterThanOrEqual(credits);
		// The failed try logged what it had created, so nothing was silent even before the retry.
		expect(counts.ledgerLines).toBeGreaterThanOrEqual(1);
	});
});

describe('a time-dependent variable under Retry On Fail (issue #13)', () => {
	test(`${BATCH} items with requested_at = {{ $now }}; the first try of some items fails after creating their calls: the retry replays them, 0 duplicates`, async () => {
		sim.reset();
		sim.configure({
			credits: null,
			faults: {
				seed: 7,
				// The poisoned items' first 8 attempts (everything one try of the node makes) are created, then answered 500.
				rules: [
					{
						fault: 'status500',
						method: 'POST',
						path: '/calls',
						occurrence: [1, 2, 3, 4, 5, 6, 7, 8],
						when: (r) => POISONED.has(phoneOf(r.rawBody) ?? ''),
					},
				],
				rates: { resetAfter: 0.05, status503: 0.05 },
				ratesFor: { method: 'POST', path: '/calls' },
			},
		});
		const executionId = 'rel-retry-on-fail-now-variable';
		const result = await runTruedy(sim, {
			parameters: placeCall({
				...parameters,
				variables: {
					variable: [
						...parameters.variables.variable,
						{ name: 'requested_at', value: '={{ $now }}' },
					],
				},
			}),
			apiKey: CANARY_API_KEY,
			items: batch(),
			settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 10 },
			executionId,
		});
		scanner.scanRun('retry on fail with {{ $now }}', result);
		const { counts, problems } = account(result, BATCH, executionId);
		proofs.push({
			name: 'n8n Retry On Fail with a {{ $now }} variable, first tries failing after create',
			...counts,
		});

		expect(problems).toEqual([]);
		expect(result.nodeError(NODE)).toBeUndefined();
		expect(counts.faults.status500).toBeGreaterThanOrEqual(8);
		expect(counts.callsCreated).toBe(BATCH);
		expect(counts.duplicates).toBe(0);
		// The failed first try logged what it had placed before n8n retried the node.
		expect(counts.ledgerLines).toBeGreaterThanOrEqual(1);
	});
});

test('the fault kinds exercised above are all the simulator has', () => {
	const seen = new Set<FaultKind>();
	for (const run of runs)
		for (const [kind, n] of Object.entries(run.faults as Record<FaultKind, number>))
			if (n > 0) seen.add(kind as FaultKind);
	expect([...seen].sort()).toEqual([...FAULT_KINDS].sort());
});
