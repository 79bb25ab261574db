// Issue #13: the idempotency key follows intent. Through n8n's real WorkflowExecute against the
// simulator, in both of its answers to "same key, different body" (idempotencyMismatch):
// 1. Retry On Fail with a {{ $now }} variable, the first try failing after the call was created: 1 call.
// 2. A loop back to the same Place Call node in one execution: a deliberate second call dials.
// 3. One Idempotency Key for two people: never the other person's call as an item's output.
// 4. A run that fails after placing calls says which, and how to re-run without dialling them again.
import {
	NodeApiError,
	type IConnections,
	type IDataObject,
	type IExecuteFunctions,
	type INode,
	type INodeType,
} from 'n8n-workflow';

import {
	callIntentOf,
	nodeRunOf,
} from '../../../../../nodes/Truedy/resources/call/place/idempotencyKey';
import { otherCallError } from '../../../../../nodes/Truedy/resources/call/place/matchesRequest';
import { apiError } from '../../../../../nodes/Truedy/transport/errors';
import { overrideRetryPolicyForTests } from '../../../../../nodes/Truedy/transport/retry';
import type { IdempotencyMismatch } from '../../../../simulator/server';
import {
	NODE,
	PACKAGE,
	PackageNodeTypes,
	SIM_AGENTS,
	agentById,
	callRequests,
	idempotencyKeyOf,
	items,
	leadPhone,
	placeCall,
	runTruedy,
	runWorkflow,
	useSimulator,
	type TruedyRun,
} from '../../../../support';

const MODES: IdempotencyMismatch[] = ['replay', 'conflict'];
/** n8n:<execution>:<node>:<run index>:<item>:<hash of agent and number> */
const KEY = /^n8n:([^:]+):truedy-node-id:(\d+):(\d+):([0-9a-f]{16})$/;

const sim = useSimulator({ autoAdvance: false });
let restorePolicy: () => void;

beforeAll(() => {
	// The transport's own retries, compressed (the same logic, 10–50 ms backoff).
	restorePolicy = overrideRetryPolicyForTests({
		baseDelayMs: 10,
		maxDelayMs: 50,
		requestTimeoutMs: 2_000,
	});
});

afterAll(() => restorePolicy());

/** Place Call, one item at a time (request order is item order). */
const runPlaceCall = (run: TruedyRun) =>
	runTruedy(sim, {
		...run,
		parameters: placeCall({
			...run.parameters,
			options: { concurrency: 1, ...(run.parameters.options as IDataObject) },
		}),
	});

const retryOnFail = { retryOnFail: true, maxTries: 3, waitBetweenTries: 10 };

const withNow = {
	agent: agentById(SIM_AGENTS.active),
	phoneNumber: '={{ $json.phone }}',
	variables: {
		variable: [
			{ name: 'first_name', value: '={{ $json.name }}' },
			{ name: 'requested_at', value: '={{ $now }}' },
		],
	},
};

/** Every POST /calls of the first try fails after the first one created the call, so the node gives up (8 attempts). */
const FAULTS_EXHAUSTING_THE_FIRST_TRY = {
	'500 after create, 8 times': {
		rules: [{ fault: 'status500' as const, method: 'POST', path: '/calls', times: 8 }],
	},
	'connection reset after create, then 429s': {
		rules: [
			{ fault: 'resetAfter' as const, method: 'POST', path: '/calls', times: 1 },
			{ fault: 'status429' as const, method: 'POST', path: '/calls', times: 7 },
		],
		retryAfterMs: 20,
	},
};

describe.each(MODES)("idempotencyMismatch '%s'", (mode) => {
	beforeEach(() => sim.configure({ idempotencyMismatch: mode }));

	describe('1. Retry On Fail with a {{ $now }} variable', () => {
		test.each(Object.entries(FAULTS_EXHAUSTING_THE_FIRST_TRY))(
			'%s: the retry sends the same key and body, Truedy replays the call: 1 call, the item gets it',
			async (_name, faults) => {
				sim.configure({ faults });
				const result = await runPlaceCall({
					parameters: withNow,
					items: items({ phone: '+14155551234', name: 'Ann' }),
					settings: retryOnFail,
				});

				expect(result.nodeError(NODE)).toBeUndefined();
				const posts = callRequests(sim);
				expect(posts).toHaveLength(9); // 8 attempts in the first try, 1 in the second
				expect(new Set(posts.map(idempotencyKeyOf)).size).toBe(1);
				expect(new Set(posts.map((r) => r.rawBody)).size).toBe(1);
				expect((posts[0].body as any).variables.requested_at).toMatch(/^\d{4}-\d\d-\d\dT/);
				expect(posts[0].status).toBe(201);
				expect(posts[8]).toMatchObject({ status: 201, replayed: true });
				expect(sim.calls.size).toBe(1);
				const [call] = sim.calls.values();
				expect(result.output(NODE).map((o) => o.json.id)).toEqual([call.id]);
			},
		);

		test('several items, the run fails on a later item after earlier ones were placed: the retry replays them, 1 call each', async () => {
			sim.configure({
				faults: {
					rules: [
						{
							fault: 'status500',
							method: 'POST',
							path: '/calls',
							bodyIncludes: leadPhone(2),
							times: 8,
						},
					],
				},
			});
			const result = await runPlaceCall({
				parameters: withNow,
				items: items(...[0, 1, 2, 3].map((i) => ({ phone: leadPhone(i), name: `P${i}` }))),
				settings: retryOnFail,
			});
			expect(result.nodeError(NODE)).toBeUndefined();
			const posts = callRequests(sim);
			// Try 1: items 0, 1 placed, item 2 placed at its first attempt and given up after 8 (7 replays).
			// Try 2: items 0, 1, 2 replayed, 3 placed.
			expect(posts).toHaveLength(2 + 8 + 4);
			expect(posts.filter((r) => r.replayed).length).toBe(7 + 3);
			expect(sim.calls.size).toBe(4);
			expect(new Set([...sim.calls.values()].map((c) => c.to)).size).toBe(4);
			expect(result.output(NODE).map((o) => o.json.phone_number)).toEqual(
				[0, 1, 2, 3].map(leadPhone),
			);
		});
	});

	describe('2. a deliberate second call (loop back to the same node) dials', () => {
		test('Place Call → "Not answered?" → the same Place Call, one lead: 2 calls, 2 keys (run 0 and run 1)', async () => {
			const result = await runLoop();
			expect(result.run.data.resultData.error).toBeUndefined();
			const runs = result.run.data.resultData.runData[NODE];
			expect(runs).toHaveLength(2);
			const posts = callRequests(sim);
			expect(posts).toHaveLength(2);
			expect(posts.map((r) => r.replayed ?? false)).toEqual([false, false]);
			expect(posts.map((r) => idempotencyKeyOf(r)!.match(KEY)?.[2])).toEqual(['0', '1']);
			expect(sim.calls.size).toBe(2);
			const outputIds = runs.map((run) => run.data!.main[0]![0].json.id);
			expect(new Set(outputIds)).toEqual(new Set(sim.calls.keys()));
		});

		test('with Retry On Fail and a fault in the second pass: still 2 calls (the retry of run 1 keeps run 1’s key)', async () => {
			sim.configure({
				faults: {
					rules: [
						{ fault: 'status500', method: 'POST', path: '/calls', nth: [2, 3, 4, 5, 6, 7, 8, 9] },
					],
				},
			});
			const result = await runLoop(retryOnFail);
			expect(result.run.data.resultData.error).toBeUndefined();
			const keys = callRequests(sim).map(idempotencyKeyOf);
			expect(keys).toHaveLength(10);
			expect(new Set(keys.slice(1)).size).toBe(1);
			expect(keys[1]).not.toBe(keys[0]);
			expect(sim.calls.size).toBe(2);
		});
	});
});

describe('3. one Idempotency Key for two people', () => {
	const sameKey = {
		agent: agentById(SIM_AGENTS.active),
		phoneNumber: '={{ $json.phone }}',
		options: { idempotencyKey: 'household-7' },
	};
	const twoPeople = () => items({ phone: '+14155551001' }, { phone: '+14155551002' });

	test.each(['phone_number', 'to_number', 'to_from'] as const)(
		"'replay' (field naming %s): item 1 gets the other person's call back; it fails naming the key, the call is not its output",
		async (naming) => {
			sim.configure({ idempotencyMismatch: 'replay', callFieldNaming: naming });
			const result = await runPlaceCall({
				parameters: sameKey,
				items: twoPeople(),
				settings: { onError: 'continueRegularOutput' },
			});
			const output = result.output(NODE);
			expect(output).toHaveLength(2);
			expect(output[0].json.phone_number).toBe('+14155551001');
			const [call] = sim.calls.values();
			expect(output[0].json.id).toBe(call.id);
			expect(output[1].pairedItem).toEqual({ item: 1 });
			expect(output[1].json.id).toBeUndefined();
			expect(output[1].json.error).toBe(
				`Item 1: "Idempotency Key" "household-7" already belongs to another call: Truedy answered with call ${call.id} to +14155551001 (agent ${SIM_AGENTS.active}), this item asked for +14155551002 (agent ${SIM_AGENTS.active})`,
			);
			expect((output[1].json.details as IDataObject).itemIndex).toBe(1);
			expect(String((output[1].json.details as IDataObject).description)).toContain(
				'this item was not dialled',
			);
			expect(callRequests(sim).map((r) => r.replayed ?? false)).toEqual([false, true]);
			expect(sim.calls.size).toBe(1);
		},
	);

	test("'conflict': item 1 gets the 409 advice (what was reused, how to fix it), no wrong output", async () => {
		sim.configure({ idempotencyMismatch: 'conflict' });
		const result = await runPlaceCall({
			parameters: sameKey,
			items: twoPeople(),
			settings: { onError: 'continueRegularOutput' },
		});
		const output = result.output(NODE);
		expect(output).toHaveLength(2);
		expect(output[1].json.id).toBeUndefined();
		expect(output[1].json.error).toMatch(
			/^The idempotency key was already used for a different request: /,
		);
		const details = output[1].json.details as IDataObject;
		expect(details).toMatchObject({ itemIndex: 1, httpCode: '409' });
		expect(details.description).toMatch(
			/^Truedy already has a call under the idempotency key "household-7" .* placed no call for this one\. .*\{\{ \$json\.leadId \}\}/,
		);
		expect(sim.calls.size).toBe(1);
	});

	test("'replay' without Continue On Fail: the node fails on item 1, and its error lists item 0's call", async () => {
		sim.configure({ idempotencyMismatch: 'replay' });
		const result = await runPlaceCall({ parameters: sameKey, items: twoPeople() });
		const error = result.nodeError(NODE)!;
		const [call] = sim.calls.values();
		expect((error as any).context.itemIndex).toBe(1);
		expect(error.message).toMatch(
			/^Item 1: "Idempotency Key" "household-7" already belongs to another call/,
		);
		expect(error.description).toContain(
			`Before this error, Truedy Place Call had placed 1 call(s): item 0 → ${call.id}.`,
		);
		expect(error.description).toContain(
			'placed under your Idempotency Key, so a re-run with the same keys gets them back without dialling again',
		);
	});

	test('the check: normalised numbers, the agent, and missing fields (which pass)', () => {
		const context = { getNode: () => ({ name: 'Truedy' }) } as unknown as IExecuteFunctions;
		const body = { agent_id: 'agent-a', phone_number: '+14155551234' };
		const check = (call: IDataObject) =>
			otherCallError(context, { id: 'call_x', ...call }, body, 'k', 0)?.message;
		expect(check({ agent_id: 'agent-a', phone_number: '+1 (415) 555-1234' })).toBeUndefined();
		expect(check({ to: '14155551234' })).toBeUndefined();
		expect(check({})).toBeUndefined();
		expect(check({ agent_id: 'agent-b' })).toMatch(/agent agent-b/);
		expect(check({ to_number: '+14155559999' })).toMatch(/to \+14155559999/);
	});
});

describe('4. a run that fails after placing calls', () => {
	const params = { agent: agentById('={{ $json.agent }}'), phoneNumber: '={{ $json.phone }}' };
	const rows = () =>
		items(
			{ agent: SIM_AGENTS.active, phone: leadPhone(0) },
			{ agent: SIM_AGENTS.active, phone: leadPhone(1) },
			{ agent: SIM_AGENTS.draft, phone: leadPhone(2) },
		);

	test('the error lists the calls (item and call id) and says how to re-run without dialling them again', async () => {
		const result = await runPlaceCall({ parameters: params, items: rows() });
		const error = result.nodeError(NODE)!;
		const ids = [...sim.calls.values()].map((c) => c.id);
		expect(ids).toHaveLength(2);
		expect((error as any).context.itemIndex).toBe(2);
		expect(error.message).toMatch(/^The agent is not active/);
		expect(error.description).toContain(
			`Before this error, Truedy Place Call had placed 2 call(s): item 0 → ${ids[0]}, item 1 → ${ids[1]}.`,
		);
		expect(error.description).toContain('remove these rows before re-running');
		expect(error.description).toContain(
			'set Options → Idempotency Key to a stable per-lead value such as {{ $json.leadId }}',
		);
		expect((error as any).context.placedCalls).toEqual([
			{ itemIndex: 0, callId: ids[0] },
			{ itemIndex: 1, callId: ids[1] },
		]);
	});

	test('a request whose answer was lost is listed with its key', async () => {
		sim.configure({
			faults: {
				rules: [
					{
						fault: 'resetAfter',
						method: 'POST',
						path: '/calls',
						bodyIncludes: leadPhone(1),
						times: 8,
					},
				],
			},
		});
		const result = await runPlaceCall({ parameters: params, items: rows() });
		const error = result.nodeError(NODE)!;
		const key = idempotencyKeyOf(callRequests(sim).find((r) => r.rawBody.includes(leadPhone(1)))!);
		expect((error as any).context.itemIndex).toBe(1);
		expect(error.description).toContain(
			'Before this error, Truedy Place Call had placed 1 call(s): item 0 → ',
		);
		expect(error.description).toContain(
			`Truedy may also have placed calls for item 1 (idempotency key ${key}): their answers were lost.`,
		);
	});

	test('nothing placed yet: the error is unchanged', async () => {
		const result = await runPlaceCall({
			parameters: params,
			items: items({ agent: SIM_AGENTS.draft, phone: leadPhone(0) }),
		});
		expect(result.nodeError(NODE)!.description).toMatch(
			/^The agent is in draft or paused state\. Publish it in the Truedy dashboard before placing calls\. Truedy request ID: req_\w+\.$/,
		);
	});
});

describe('the default key', () => {
	const params = { agent: agentById(SIM_AGENTS.active), phoneNumber: '+14155551234' };

	test('covers execution, node, run, item, agent and number; not variables', async () => {
		await runPlaceCall({
			parameters: { ...params, variables: { variable: [{ name: 'v', value: 'a' }] } },
			executionId: 'exec-1',
		});
		await runPlaceCall({
			parameters: { ...params, variables: { variable: [{ name: 'v', value: 'b' }] } },
			executionId: 'exec-1',
		});
		await runPlaceCall({
			parameters: { ...params, phoneNumber: '+14155551235' },
			executionId: 'exec-1',
		});
		const keys = callRequests(sim).map(idempotencyKeyOf);
		expect(keys[0]).toMatch(KEY);
		expect(keys[0]!.match(KEY)!.slice(1, 4)).toEqual(['exec-1', '0', '0']);
		expect(keys[1]).toBe(keys[0]); // same intent: another body is refused or replayed, never dialled
		expect(keys[2]).not.toBe(keys[0]);
	});

	test('without an execution id: retries share a key, separate executions do not', async () => {
		sim.configure({
			faults: { rules: [{ fault: 'status500', method: 'POST', path: '/calls', times: 8 }] },
		});
		await runPlaceCall({ parameters: params, executionId: '', settings: retryOnFail });
		await runPlaceCall({ parameters: params, executionId: '' });
		const keys = callRequests(sim).map(idempotencyKeyOf);
		expect(keys).toHaveLength(10);
		expect(new Set(keys.slice(0, 9)).size).toBe(1);
		expect(keys[9]).not.toBe(keys[0]);
		expect(keys[0]).toMatch(/^n8n:run-[0-9a-f-]{36}:/);
		expect(sim.calls.size).toBe(2);
	});

	test("as an AI agent's tool (each n8n try is a new run index there), the run is not part of the key", () => {
		const context = (tool: boolean, runIndex: number) =>
			({
				getExecuteData: () => ({}),
				getExecutionId: () => 'exec-tool',
				getNode: () => ({ id: 'node-1' }),
				isToolExecution: () => tool,
				getWorkflowDataProxy: () => ({ $runIndex: runIndex }),
			}) as unknown as IExecuteFunctions;
		const body = { agent_id: 'a', phone_number: '+14155551234' };
		const keyOf = (tool: boolean, runIndex: number) =>
			callIntentOf(nodeRunOf.call(context(tool, runIndex)), 0, body, {}).idempotencyKey;
		expect(keyOf(true, 3)).toBe(keyOf(true, 4));
		expect(keyOf(true, 3)).toMatch(/^n8n:exec-tool:node-1:tool:0:/);
		expect(keyOf(false, 3)).not.toBe(keyOf(false, 4));
	});

	test('409 advice for either code, only for requests that carry a key', () => {
		const context = { getNode: () => ({ name: 'Truedy', type: 'truedy', typeVersion: 1 }) } as any;
		const body = (code: string) => ({ error: { code, message: 'used' } });
		for (const code of ['conflict', 'idempotency_conflict']) {
			const error = apiError(
				context,
				409,
				body(code),
				{ method: 'POST', path: '/calls', idempotencyKey: 'k-9' },
				1,
				false,
			);
			expect(error).toBeInstanceOf(NodeApiError);
			expect(error.description).toMatch(
				/^Truedy already has a call under the idempotency key "k-9"/,
			);
		}
		const unkeyed = apiError(
			context,
			409,
			body('conflict'),
			{ method: 'POST', path: '/calls' },
			1,
			false,
		);
		expect(unkeyed.description).not.toContain('idempotency key');
	});
});

/** The IF stand-in: on its first run, sends the lead back to Place Call (not answered); then nothing. */
class NotAnsweredOnce implements INodeType {
	description = {
		displayName: 'Not answered once',
		name: 'notAnsweredOnce',
		group: ['transform'],
		version: 1,
		description: '',
		defaults: { name: 'Not answered?' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions) {
		const runIndex = (this.getWorkflowDataProxy(0) as any).$runIndex as number;
		const notAnswered = this.getInputData().filter((item) => item.json.status !== 'ended');
		return [
			runIndex === 0
				? notAnswered.map((item) => ({ json: { phone: item.json.phone_number, name: 'Ann' } }))
				: [],
		];
	}
}

/** Start → Truedy (Place Call) → Not answered? → back to the same Truedy node. */
async function runLoop(settings: Partial<INode> = {}) {
	const nodes: INode[] = [
		{
			id: 'start-node',
			name: 'Start',
			type: 'test.start',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		{
			id: 'truedy-node-id',
			name: NODE,
			type: `${PACKAGE}.truedy`,
			typeVersion: 1,
			position: [200, 0],
			credentials: { truedyApi: { id: 'cred-1', name: 'Truedy account' } },
			parameters: { resource: 'call', operation: 'place', ...withNow, options: { concurrency: 1 } },
			...settings,
		},
		{
			id: 'if-node',
			name: 'Not answered?',
			type: 'test.notAnsweredOnce',
			typeVersion: 1,
			position: [400, 0],
			parameters: {},
		},
	];
	const connections: IConnections = {
		Start: { main: [[{ node: NODE, type: 'main', index: 0 }]] },
		[NODE]: { main: [[{ node: 'Not answered?', type: 'main', index: 0 }]] },
		'Not answered?': { main: [[{ node: NODE, type: 'main', index: 0 }]] },
	} as IConnections;
	return await runWorkflow({
		nodes,
		connections,
		items: items({ phone: '+14155550000', name: 'Ann' }),
		nodeTypes: new PackageNodeTypes({ 'test.notAnsweredOnce': new NotAnsweredOnce() }),
		credentials: { truedyApi: { apiKey: sim.apiKey, baseUrl: sim.baseUrl } },
	});
}
