// The call watcher's fallbacks (callWatcher.ts), against the simulator over real HTTP through n8n's
// own request helpers: a probe node runs the watcher inside a real engine run. A poll cycle is
// driven directly (every followed call asks at once, as Wait for Call to End's items do after their
// 5 s sleep), so no poll interval is waited. Each test checks the outcome (every call's status as the
// simulator has it) and the cost (list reads and single reads per cycle).
import { createServer, request as httpRequest } from 'http';
import type { AddressInfo } from 'net';
import type { IDataObject, IExecuteFunctions, INodeType } from 'n8n-workflow';

import {
	createCallWatcher,
	type CallSource,
} from '../../../../../nodes/Truedy/resources/call/place/callWatcher';
import { overrideRetryPolicyForTests } from '../../../../../nodes/Truedy/transport/retry';
import {
	callReadsOf,
	createCall,
	leadPhone,
	listReadsOf,
	NODE,
	PackageNodeTypes,
	runWorkflow,
	SIM_AGENTS,
	singleNodeWorkflow,
	sleep,
	useSimulator,
	type TruedySimulator,
} from '../../../../support';

const sim = useSimulator({ autoAdvance: false });

/** A list read that started under 1 s ago answers for every item polling now (SHARED_READ_MS). */
const NEXT_CYCLE_MS = 1100;

type Probe = (context: IExecuteFunctions) => Promise<IDataObject>;
let probe: Probe = async () => ({});

/** Runs `probe` as a node with the Truedy credential, so the watcher gets a real execute context. */
class WatcherProbe implements INodeType {
	description = {
		displayName: 'Watcher Probe',
		name: 'watcherProbe',
		group: ['transform'],
		version: 1,
		description: 'Runs a call watcher scenario',
		defaults: { name: NODE },
		inputs: ['main'],
		outputs: ['main'],
		credentials: [{ name: 'truedyApi', required: true }],
		properties: [],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions) {
		return [[{ json: await probe(this) }]];
	}
}

async function runProbe(baseUrl: string, scenario: Probe): Promise<IDataObject> {
	probe = scenario;
	const result = await runWorkflow({
		...singleNodeWorkflow({ type: 'test.watcherProbe', parameters: {} }),
		nodeTypes: new PackageNodeTypes({ 'test.watcherProbe': new WatcherProbe() }),
		credentials: { truedyApi: { apiKey: sim.apiKey, baseUrl } },
	});
	const error = result.nodeError(NODE);
	if (error) throw error;
	return result.output(NODE)[0].json;
}

/** Places `count` calls of the active agent (real POSTs) and returns them as the POST answered. */
async function placeCalls(count: number, from = 0): Promise<IDataObject[]> {
	const calls: IDataObject[] = [];
	for (let i = 0; i < count; i++) {
		const id = await createCall(sim, {
			agent_id: SIM_AGENTS.active,
			phone_number: leadPhone(from + i),
		});
		calls.push(sim.renderCall(id) as IDataObject);
	}
	return calls;
}

/** Requests the simulator has seen so far, for the cost of what comes next. */
function requestCounter(server: TruedySimulator) {
	let lists = 0;
	let singles = 0;
	return () => {
		const cost = {
			lists: listReadsOf(server).length - lists,
			singles: callReadsOf(server).length - singles,
		};
		lists += cost.lists;
		singles += cost.singles;
		return cost;
	};
}

/** One poll cycle: every call asks the watcher at once; returns the statuses it got. */
async function cycle(watcher: CallSource, calls: IDataObject[]): Promise<string[]> {
	const answers = await Promise.all(calls.map((call, i) => watcher.fetch(String(call.id), i)));
	return answers.map((call) => String(call.status));
}

/** The statuses the simulator has, in the order of `calls`. */
const truth = (calls: IDataObject[]) =>
	calls.map((call) => String(sim.renderCall(String(call.id))?.status));

test('the list answers for every call: 150 calls cost 2 list reads a cycle and no single read', async () => {
	const calls = await placeCalls(150);
	sim.endCall(String(calls[7].id));
	sim.endCall(String(calls[140].id), 'failed');

	const cost = await runProbe(sim.baseUrl, async (context) => {
		const watcher = createCallWatcher(context, calls);
		const requests = requestCounter(sim);
		const statuses = await cycle(watcher, calls);
		return { statuses, ...requests() };
	});

	expect(cost.statuses).toEqual(truth(calls));
	expect((cost.statuses as string[]).filter((s) => s !== 'queued')).toEqual(['ended', 'failed']);
	expect(cost).toMatchObject({ lists: 2, singles: 0 });
	expect(listReadsOf(sim).map((r) => r.query)).toEqual([
		expect.objectContaining({ agent_id: SIM_AGENTS.active, limit: '100', offset: '0' }),
		expect.objectContaining({ agent_id: SIM_AGENTS.active, limit: '100', offset: '100' }),
	]);
});

test('a list that refuses its filters (422): each call is read alone, and the list is not asked again', async () => {
	const calls = await placeCalls(3);
	sim.endCall(String(calls[1].id));
	const proxy = await startRefusingListProxy(sim);
	try {
		const cost = await runProbe(proxy.baseUrl, async (context) => {
			const watcher = createCallWatcher(context, calls);
			const requests = requestCounter(sim);
			const first = await cycle(watcher, calls);
			const firstCost = { refused: proxy.refused, ...requests() };
			sim.endCall(String(calls[0].id));
			await sleep(NEXT_CYCLE_MS);
			const second = await cycle(watcher, calls);
			return { first, firstCost, second, secondCost: { refused: proxy.refused, ...requests() } };
		});

		expect(cost.first).toEqual(['queued', 'ended', 'queued']);
		expect(cost.second).toEqual(truth(calls));
		expect(cost.second).toEqual(['ended', 'ended', 'queued']);
		// A 4xx is not retried: one refused list read, then one single read per call.
		expect(cost.firstCost).toEqual({ refused: 1, lists: 0, singles: 3 });
		expect(cost.secondCost).toEqual({ refused: 1, lists: 0, singles: 3 });
	} finally {
		await proxy.close();
	}
});

test('a call the list does not show (a busy agent pushed it past the pages read) is read alone; the others come from the list', async () => {
	const [older] = await placeCalls(1);
	// 200 newer calls of the same agent, placed by someone else, fill the 2 pages the watcher reads.
	await placeCalls(200, 1000);
	const [newer] = await placeCalls(1, 2000);
	const calls = [older, newer];
	sim.endCall(String(older.id));

	const cost = await runProbe(sim.baseUrl, async (context) => {
		const watcher = createCallWatcher(context, calls);
		const requests = requestCounter(sim);
		const statuses = await cycle(watcher, calls);
		return { statuses, ...requests() };
	});

	expect(cost.statuses).toEqual(['ended', 'queued']);
	expect(cost.statuses).toEqual(truth(calls));
	expect(cost).toMatchObject({ lists: 2, singles: 1 });
	expect(callReadsOf(sim).map((r) => r.path)).toEqual([`/calls/${String(older.id)}`]);
});

test('a list that fails (503 past its retries): that cycle reads each call alone, the next uses the list again', async () => {
	const restorePolicy = overrideRetryPolicyForTests({
		maxAttempts: 2,
		baseDelayMs: 20,
		maxDelayMs: 40,
	});
	try {
		const calls = await placeCalls(4);
		sim.configure({
			faults: { rules: [{ fault: 'status503', method: 'GET', path: '/calls', times: 2 }] },
		});
		sim.endCall(String(calls[2].id));

		const cost = await runProbe(sim.baseUrl, async (context) => {
			const watcher = createCallWatcher(context, calls);
			const requests = requestCounter(sim);
			const first = await cycle(watcher, calls);
			const firstCost = requests();
			sim.endCall(String(calls[3].id), 'failed');
			await sleep(NEXT_CYCLE_MS);
			const second = await cycle(watcher, calls);
			return { first, firstCost, second, secondCost: requests() };
		});

		expect(cost.first).toEqual(['queued', 'queued', 'ended', 'queued']);
		expect(cost.second).toEqual(truth(calls));
		expect(cost.second).toEqual(['queued', 'queued', 'ended', 'failed']);
		// Two list attempts (the 503 and its retry), then one single read per call.
		expect(cost.firstCost).toEqual({ lists: 2, singles: 4 });
		expect(cost.secondCost).toEqual({ lists: 1, singles: 0 });
	} finally {
		restorePolicy();
	}
});

/**
 * A Truedy that refuses the list's filters: GET /calls is answered 422 validation_error (counted in
 * `refused`, never forwarded); every other request goes on to the simulator (real HTTP both legs).
 */
async function startRefusingListProxy(server: TruedySimulator) {
	const target = new URL(server.url);
	const state = { refused: 0 };
	const proxy = createServer((req, res) => {
		const path = new URL(req.url ?? '/', 'http://proxy').pathname;
		if (req.method === 'GET' && path.endsWith('/calls')) {
			state.refused++;
			res.writeHead(422, { 'Content-Type': 'application/json' });
			res.end(
				JSON.stringify({
					error: {
						code: 'validation_error',
						message: 'Unknown query parameter: created_after',
						details: { field: 'created_after' },
					},
				}),
			);
			return;
		}
		const upstream = httpRequest(
			{
				host: target.hostname,
				port: target.port,
				method: req.method,
				path: req.url,
				headers: req.headers,
			},
			(answer) => {
				res.writeHead(answer.statusCode ?? 502, answer.headers);
				answer.pipe(res);
			},
		);
		req.pipe(upstream);
	});
	await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
	const { port } = proxy.address() as AddressInfo;
	return {
		baseUrl: `http://127.0.0.1:${port}${new URL(server.baseUrl).pathname}`,
		get refused() {
			return state.refused;
		},
		close: () =>
			new Promise<void>((resolve) => {
				proxy.closeAllConnections();
				proxy.close(() => resolve());
			}),
	};
}
