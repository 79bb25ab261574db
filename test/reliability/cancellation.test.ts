// Suite 5 — cancellation (docs/reliability.md).
// Cancelling an execution (the engine's cancel, as n8n's Stop button does) during a 429 backoff,
// a 5xx backoff, an answer that never comes, pacing, "Wait for Call to End" and mid-batch must:
// end the run at once, send nothing afterwards, leave no timer behind, and report which calls
// had been created. n8n discards the output of a cancelled run, so the node logs them
// (PlacedCallLedger: "Truedy Place Call was cancelled after creating N call(s): item 0 → call_…").
import http, { type ClientRequest } from 'http';
import type { IDataObject } from 'n8n-workflow';

import { Truedy } from '../../nodes/Truedy/Truedy.node';

import {
	agentById,
	leadIndex,
	makeLeads,
	placeCall,
	runTruedy,
	SIM_AGENTS,
	sleep,
	useSimulator,
	type TruedySimulator,
} from '../support';
import {
	activeTimers,
	CANARY_API_KEY,
	FAST_POLICY,
	useFastRetries,
	useReliabilitySuite,
} from './support';

const sim = useSimulator({ apiKey: CANARY_API_KEY, autoAdvance: false });
const scenarios: IDataObject[] = [];
const suite = useReliabilitySuite('cancellation', () => ({ scenarios }));
let restorePolicy: (() => void) | undefined;

afterEach(() => {
	restorePolicy?.();
	restorePolicy = undefined;
});

// Every HTTP request the node starts, seen on the client side, and whether the cancel had already
// been issued: that is what "nothing is sent after a cancel" means. The simulator's receivedAt
// cannot tell a request started after the cancel from one started before it and read late by a
// busy event loop (client and server share this process). Node's http client hands every new
// request to its agent synchronously, in the ClientRequest constructor (a subclass such as a proxy
// agent inherits addRequest), so wrapping Agent.prototype.addRequest sees each one as it is created.
interface ClientStart {
	afterCancel: boolean;
	method: string;
	path: string;
	idempotencyKey?: string;
}
const clientStarts: ClientStart[] = [];
let cancelIssued = false;
// addRequest is not in Node's typings.
type AddRequest = (this: http.Agent, request: ClientRequest, ...rest: unknown[]) => void;
const agentPrototype = http.Agent.prototype as unknown as { addRequest: AddRequest };
const addRequest = agentPrototype.addRequest;
beforeAll(() => {
	agentPrototype.addRequest = function (request, ...rest) {
		if (request.path.startsWith('/api/public/v1')) {
			const key = request.getHeader('x-idempotency-key');
			clientStarts.push({
				afterCancel: cancelIssued,
				method: request.method,
				path: request.path,
				idempotencyKey: typeof key === 'string' ? key : undefined,
			});
		}
		addRequest.call(this, request, ...rest);
	};
});
afterAll(() => {
	agentPrototype.addRequest = addRequest;
});

// When the node's run settled (its execute() promise): that is the node's stop. The engine's work after
// it (the error report reads the cancel error's stack) is timed apart; see cancelDuring.
let nodeSettledAt = 0;
const execute = Truedy.prototype.execute;
beforeAll(() => {
	Truedy.prototype.execute = async function (this: unknown, ...args: unknown[]) {
		try {
			return await (execute as (...a: unknown[]) => Promise<never>).apply(this, args);
		} finally {
			nodeSettledAt = Date.now();
		}
	} as typeof execute;
});
afterAll(() => {
	Truedy.prototype.execute = execute;
});

const parameters = {
	agent: agentById(SIM_AGENTS.active),
	phoneNumber: '={{ $json.phone }}',
};

/** How long a scenario may take to reach its cancel point (a busy machine starts slowly). */
const WAIT_MS = 10_000;

interface Scenario {
	name: string;
	items: number;
	parameters?: IDataObject;
	/** Node settings, e.g. Continue On Fail. */
	settings?: IDataObject;
	/** Resolves when it is time to cancel. */
	cancelWhen: (sim: TruedySimulator) => Promise<unknown>;
	/** How long after the cancel to watch for stray requests (past the pending backoff/poll). */
	watchMs: number;
}

async function cancelDuring(s: Scenario) {
	const timersBefore = activeTimers();
	const executionId = `cancel-${s.name.replace(/\W+/g, '-')}`;
	let cancelledAt = 0;
	let timerAfterCancelAt = 0;
	let cpuAtCancel: NodeJS.CpuUsage | undefined;
	nodeSettledAt = 0;
	clientStarts.length = 0;
	cancelIssued = false;
	const started = Date.now();
	const result = await runTruedy(sim, {
		parameters: placeCall({ ...parameters, ...s.parameters }),
		items: makeLeads(s.items),
		settings: s.settings,
		executionId,
		onStarted: (cancel) =>
			void s.cancelWhen(sim).then(() => {
				cancelledAt = Date.now();
				cancelIssued = true;
				cpuAtCancel = process.cpuUsage();
				setTimeout(() => (timerAfterCancelAt = Date.now()), 0);
				cancel();
			}),
	});
	const finishedAt = Date.now();
	const stopCpu = process.cpuUsage(cpuAtCancel);
	suite.scanner.scanRun(s.name, result);

	// Watch for anything the node still sends, then let the simulator's own timers go.
	await sleep(Math.max(0, cancelledAt + s.watchMs - Date.now()));
	const late = sim.requests.filter((r) => r.receivedAt > cancelledAt);
	const allRequests = [...sim.requests];
	const calls = [...sim.calls.values()];
	sim.reset();
	// Give callbacks already due (socket close, a busy event loop) up to 1 s to run; a timer the
	// node left behind (a backoff, a poll, the 30 s request time-out) is still there after it.
	const drainUntil = Date.now() + 1000;
	while (activeTimers() > timersBefore && Date.now() < drainUntil) await sleep(20);
	const timersLeft = activeTimers() - timersBefore;

	// What the node reported.
	const line = suite.logs.lines.find(
		(l) =>
			l.message.startsWith('Truedy Place Call was cancelled') &&
			(l.meta as IDataObject)?.executionId === executionId,
	);
	const meta = (line?.meta ?? {}) as {
		createdCalls?: Array<{ itemIndex: number; callId: string }>;
		unanswered?: Array<{ itemIndex: number }>;
	};
	const reportedIds = new Set((meta.createdCalls ?? []).map((c) => c.callId));
	const unansweredItems = new Set((meta.unanswered ?? []).map((u) => u.itemIndex));
	const unaccounted = calls.filter(
		(c) => !reportedIds.has(c.id) && !unansweredItems.has(leadIndex(c.to)),
	);
	const wronglyReported = [...reportedIds].filter((id) => !calls.some((c) => c.id === id));
	// Requests the node started after the cancel (client side): there must be none. Requests the
	// simulator read after the cancel were all started before it (client and server share one busy
	// process): they are counted, not failed. The old server-side estimate (one late POST excused per
	// item reported in flight) is kept next to it: under load it miscounted retries started before
	// the cancel (the 300 ms time-out of the fast policy) as requests after it.
	const startedAfter = clientStarts.filter((s) => s.afterCancel);
	const excused = new Set<number>();
	const estimatedAfter = late.filter((r) => {
		const item = leadIndex((r.body as IDataObject | undefined)?.phone_number);
		if (r.method === 'POST' && unansweredItems.has(item) && !excused.has(item)) {
			excused.add(item);
			return false;
		}
		return true;
	});

	const row = {
		name: s.name,
		items: s.items,
		runStatus: result.run.status,
		cancelAfterMs: cancelledAt - started,
		stoppedWithinMs: nodeSettledAt - cancelledAt,
		runFinishedWithinMs: finishedAt - cancelledAt,
		stopCpuMs: Math.round((stopCpu.user + stopCpu.system) / 1000),
		timerLagAtCancelMs: timerAfterCancelAt - cancelledAt,
		requestsAfterCancel: startedAfter.length,
		requestsStarted: clientStarts.length,
		arrivedAfterCancel: late.length,
		oldEstimateAfterCancel: estimatedAfter.length,
		inFlightAtCancel: unansweredItems.size,
		timersLeft: Math.max(0, timersLeft),
		callsCreated: calls.length,
		callsReported: reportedIds.size,
		unansweredReported: unansweredItems.size,
		unaccounted: unaccounted.length,
		wronglyReported: wronglyReported.length,
		logged: Boolean(line),
		...(unaccounted.length > 0 && {
			unaccountedCalls: unaccounted.map((c) =>
				allRequests
					.filter((r) => (r.body as IDataObject | undefined)?.phone_number === c.to)
					.map(
						(r) =>
							`${r.status} +${r.receivedAt - cancelledAt} ${r.headers['x-idempotency-key'] ?? ''}`,
					)
					.join(' | '),
			),
		}),
		...(startedAfter.length > 0 && {
			requestsStartedAfterCancel: startedAfter.map(
				(s) => `${s.method} ${s.path} ${s.idempotencyKey ?? ''}`,
			),
		}),
		...(estimatedAfter.length > 0 && {
			lateArrivals: estimatedAfter.map(
				(r) =>
					`${r.method} ${r.path} +${r.receivedAt - cancelledAt} ms ${r.headers['x-idempotency-key'] ?? ''}`,
			),
		}),
	};
	scenarios.push(row);
	expect(row).toMatchObject({
		runStatus: 'canceled',
		requestsAfterCancel: 0,
		timersLeft: 0,
		unaccounted: 0,
		wronglyReported: 0,
	});
	// Every wait interrupted here has at least 1.4 s left at the cancel, so 1 s tells "stopped at
	// once" from "waited it out" even on a busy 2-core machine. The bound is on the node's stop (cancel
	// → its execute() settled), not on the engine's finish: after the node has stopped, n8n's error
	// report reads the cancel error's stack, which under jest goes through source-map-support and
	// parses source maps on first touch (~60 ms of CPU in the first scenario, profiled). With 2 busy
	// loops on 2 cores that took 1.2–1.3 s of wall time (runFinishedWithinMs) while the node had
	// settled within milliseconds; stopCpuMs and timerLagAtCancelMs show the starvation.
	expect(row.stoppedWithinMs).toBeLessThan(1000);
	if (calls.length > 0 || unansweredItems.size > 0) expect(line).toBeDefined();
	return { row, line, calls };
}

test('during a 429 backoff (reset 1.5 s ahead): stops at once, nothing is sent after', async () => {
	sim.configure({
		faults: { retryAfterMs: 1500, rules: [{ fault: 'status429', method: 'POST', path: '/calls' }] },
	});
	const { row } = await cancelDuring({
		name: 'during a 429 backoff',
		items: 3,
		cancelWhen: (s) =>
			s.waitFor((x) => x.requests.some((r) => r.status === 429), WAIT_MS).then(() => sleep(100)),
		watchMs: 2500,
	});
	expect(row.callsCreated).toBe(0);
});

test('during a 5xx backoff (1–2 s): stops at once, nothing is sent after', async () => {
	restorePolicy = useFastRetries({ ...FAST_POLICY, baseDelayMs: 2000, maxDelayMs: 4000 });
	sim.configure({ faults: { rules: [{ fault: 'status503', method: 'POST', path: '/calls' }] } });
	await cancelDuring({
		name: 'during a 5xx backoff',
		items: 2,
		cancelWhen: (s) =>
			s.waitFor((x) => x.requests.some((r) => r.status === 503), WAIT_MS).then(() => sleep(100)),
		watchMs: 2500,
	});
});

test('while an answer is late (the call was created, the 30 s time-out is far away): stops at once, reports the unanswered item', async () => {
	sim.configure({
		faults: { slowMs: 1500, rules: [{ fault: 'slow', method: 'POST', path: '/calls' }] },
	});
	const { row } = await cancelDuring({
		name: 'while an answer is late',
		items: 1,
		cancelWhen: (s) => s.waitFor((x) => x.calls.size > 0, WAIT_MS).then(() => sleep(100)),
		watchMs: 2000,
	});
	expect(row.callsCreated).toBe(1);
	expect(row.unansweredReported).toBe(1);
});

test('while pacing (Calls per Minute = 30): the next call is never placed, the first is reported', async () => {
	const { row, calls } = await cancelDuring({
		name: 'while pacing calls',
		items: 3,
		parameters: { options: { callsPerMinute: 30, concurrency: 1 } },
		cancelWhen: (s) => s.waitFor((x) => x.calls.size > 0, WAIT_MS).then(() => sleep(300)),
		watchMs: 2500,
	});
	expect(row.callsCreated).toBe(1);
	expect(row.callsReported).toBe(1);
	expect(calls).toHaveLength(1);
});

test('during "Wait for Call to End": no poll after the cancel, every placed call is reported', async () => {
	sim.configure({
		autoAdvance: true,
		callTimings: { queuedMs: 100, ringingMs: 100, inProgressMs: 600_000 },
	});
	const { row } = await cancelDuring({
		name: 'during Wait for Call to End',
		items: 3,
		parameters: { waitForEnd: true },
		cancelWhen: (s) => s.waitFor((x) => x.calls.size === 3, WAIT_MS).then(() => sleep(500)),
		// The first poll would come 5 s after the calls were placed.
		watchMs: 5500,
	});
	expect(row.callsCreated).toBe(3);
	expect(row.callsReported).toBe(3);
});

test('while checking the items (5,000, before any dial): stops at once, nothing is sent', async () => {
	const { row } = await cancelDuring({
		name: 'while checking the items',
		items: 5000,
		cancelWhen: () => sleep(300),
		watchMs: 500,
	});
	// Checking 5,000 items takes over 1.5 s (far more on a loaded machine); the node yields every 100
	// items, so the cancel (300 ms in) lands while it checks: not one request is started. Without the
	// yield the check would run to the end first and the first 50 POSTs would start. (cancelAfterMs is
	// when the test's 300 ms timer ran: under 1 s on an idle machine, later when the CPU is starved.)
	expect(row.requestsStarted).toBe(0);
	expect(row.callsCreated).toBe(0);
});

test('mid-batch (200 items, default concurrency): no new call after the cancel; created calls and unanswered requests are reported', async () => {
	restorePolicy = useFastRetries();
	sim.configure({ latencyMs: 30 });
	const { row } = await cancelDuring({
		name: 'mid-batch',
		items: 200,
		cancelWhen: (s) => s.waitFor((x) => x.calls.size >= 40, WAIT_MS),
		watchMs: 1000,
	});
	expect(row.callsCreated).toBeGreaterThanOrEqual(40);
	expect(row.callsCreated).toBeLessThan(200);
});

test('mid-batch with Continue On Fail: the remaining items fail fast without a request', async () => {
	restorePolicy = useFastRetries();
	sim.configure({ latencyMs: 30 });
	const { row } = await cancelDuring({
		name: 'mid-batch, Continue On Fail',
		items: 200,
		settings: { onError: 'continueRegularOutput' },
		cancelWhen: (s) => s.waitFor((x) => x.calls.size >= 40, WAIT_MS),
		watchMs: 1000,
	});
	expect(row.callsCreated).toBeLessThan(200);
});
