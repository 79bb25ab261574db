/**
 * Issue #13 in a real n8n (the pinned 2.41.1, workflows run by `n8n execute`): Place Call's
 * idempotency key follows intent.
 * 1. Retry On Fail with a {{ $now }} variable, the first try failing after Truedy created the call: 1 call.
 * 2. Place Call → Wait → Get → IF not answered → back to the same Place Call, one execution: 2 calls.
 * 3. Two items with one Idempotency Key and different numbers: against a simulator that replays on
 *    a key match ('replay'), an item error and no wrong output; in 'conflict' mode, the 409 advice.
 * 4. A run that fails after placing calls: the error lists them.
 * One n8n user folder (no server: the CLI runs each workflow) and one in-process simulator.
 */
import path from 'path';

import { SIM_AGENTS, startSimulator } from '../simulator/server';
import type { RecordedRequest, TruedySimulator } from '../simulator/server';
import { e2eLog, Timings } from './e2e-helpers';
import { ensureN8nInstalled, N8nServer, nodeOutput, packAndInstallPackage } from './n8n-server';
import type { WorkflowRun } from './n8n-server';

const ROOT = path.resolve(__dirname, '..', '..');
const CREDENTIAL = { id: 'truedyIdemCred01', name: 'Truedy (simulator, idempotency)' };
const timings = new Timings();

let n8n: N8nServer | undefined;
let sim: TruedySimulator;

beforeAll(async () => {
	const log = e2eLog('idempotency');
	const install = await timings.time('install check', () => ensureN8nInstalled(log));
	n8n = await N8nServer.create({ install, log });
	// Numbers ending in 0000 are never answered: their calls fail within 300 ms.
	sim = await startSimulator({ callTimings: { queuedMs: 100, ringingMs: 200, inProgressMs: 400 } });
	await timings.time('pack and install the package', () =>
		packAndInstallPackage(install, n8n!.userFolder, ROOT),
	);
	await timings.time('import credential and workflows', async () => {
		await n8n!.importCredentials({
			...CREDENTIAL,
			type: 'truedyApi',
			data: { apiKey: sim.apiKey, baseUrl: sim.baseUrl },
		});
		await n8n!.importWorkflow(Object.values(WORKFLOWS));
	});
}, 10 * 60_000);

afterAll(async () => {
	await n8n?.dispose();
	await sim?.close();
	timings.print('idempotency.e2e.test.ts');
}, 60_000);

beforeEach(() => sim.reset());

const posts = (): RecordedRequest[] =>
	sim.requests.filter((r) => r.method === 'POST' && r.path === '/calls');
const keyOf = (r: RecordedRequest) => r.headers['x-idempotency-key'];
const run = (id: string, label: string, allowFailure = false): Promise<WorkflowRun> =>
	timings.time(label, () => n8n!.executeWorkflow(id, { allowFailure }));

test('1. Retry On Fail + requested_at = {{ $now }}, the first try fails after the call was created: 1 call, the item gets it', async () => {
	// The first POST creates the call and loses the answer; 429s then use up the node's own 8 attempts,
	// so the failure reaches n8n's Retry On Fail, whose second try replays the call.
	sim.configure({
		faults: {
			rules: [
				{ fault: 'resetAfter', method: 'POST', path: '/calls', times: 1 },
				{ fault: 'status429', method: 'POST', path: '/calls', times: 7 },
			],
			retryAfterMs: 50,
		},
	});
	const result = await run(WORKFLOWS.retryNow.id, 'case 1: Retry On Fail + {{ $now }} (CLI)');

	expect(result.status).toBe('success');
	const requests = posts();
	expect(requests).toHaveLength(9);
	expect(requests[0].fault).toBe('resetAfter');
	expect(requests[0].status).toBe(201);
	expect(requests[8]).toMatchObject({ status: 201, replayed: true });
	expect(new Set(requests.map(keyOf)).size).toBe(1);
	expect(keyOf(requests[0])).toMatch(/^n8n:[^:]+:idem-retry-place:0:0:[0-9a-f]{16}$/);
	// The retry re-sent the first try's body, requested_at included.
	expect(new Set(requests.map((r) => r.rawBody)).size).toBe(1);
	expect((requests[0].body as any).variables.requested_at).toMatch(/^\d{4}-\d\d-\d\dT/);

	expect(sim.calls.size).toBe(1);
	const [call] = sim.calls.values();
	const output = nodeOutput(result, 'Call lead');
	expect(output.map((item) => item.json.id)).toEqual([call.id]);
});

test('2. Place Call → Wait → Get → IF not answered → the same Place Call, one execution: 2 calls, 2 keys', async () => {
	const result = await run(WORKFLOWS.loop.id, 'case 2: loop back to Place Call (CLI)');

	expect(result.status).toBe('success');
	const runs = result.data.resultData.runData['Call lead'];
	expect(runs).toHaveLength(2);
	const requests = posts();
	expect(requests).toHaveLength(2);
	expect(requests.map((r) => r.replayed ?? false)).toEqual([false, false]);
	expect(requests.map((r) => keyOf(r).split(':')[3])).toEqual(['0', '1']);
	expect(sim.calls.size).toBe(2);
	expect([...sim.calls.values()].map((c) => c.to)).toEqual(['+14155550000', '+14155550000']);
	const outputIds = runs.map((nodeRun) => nodeRun.data!.main![0]![0].json.id);
	expect(new Set(outputIds)).toEqual(new Set(sim.calls.keys()));
	// The IF saw the first call unanswered and the second pass ended the loop.
	expect(result.data.resultData.runData['Not answered?']).toHaveLength(2);
});

describe('3. one Idempotency Key for two people', () => {
	/** Runs the workflow with the simulator in `mode`: 1 call, 2 output items, item 1 without a call. */
	async function runSameKey(mode: 'replay' | 'conflict') {
		sim.configure({ idempotencyMismatch: mode });
		const result = await run(WORKFLOWS.sameKey.id, `case 3: same key, simulator '${mode}' (CLI)`);
		expect(result.status).toBe('success');
		expect(sim.calls.size).toBe(1);
		const output = nodeOutput(result, 'Call household');
		expect(output).toHaveLength(2);
		expect(output[1].json.id).toBeUndefined();
		return { call: [...sim.calls.values()][0], output };
	}

	test("'replay' (the key matches, bodies not compared): item 1 fails naming the key, no wrong output, 1 call", async () => {
		const { call, output } = await runSameKey('replay');
		expect(call.to).toBe('+14155551001');
		expect(posts().map((r) => r.replayed ?? false)).toEqual([false, true]);
		expect(output[0].json.id).toBe(call.id);
		expect(output[1].json.error).toBe(
			`Item 1: "Idempotency Key" "household-7" already belongs to another call: Truedy answered with call ${call.id} to +14155551001 (agent ${SIM_AGENTS.active}), this item asked for +14155551002 (agent ${SIM_AGENTS.active})`,
		);
		expect(output[1].json.details).toMatchObject({ itemIndex: 1 });
	});

	test("'conflict' (409 conflict): item 1 gets the advice naming the reused key and the fix, 1 call", async () => {
		const { output } = await runSameKey('conflict');
		expect(output[1].json.error).toMatch(
			/^The idempotency key was already used for a different request: /,
		);
		expect(output[1].json.details).toMatchObject({ itemIndex: 1, httpCode: '409' });
		expect(output[1].json.details.description).toMatch(
			/^Truedy already has a call under the idempotency key "household-7" .* so it placed no call for this one\. If you set Options → Idempotency Key, make it unique per call, e\.g\. \{\{ \$json\.leadId \}\}/,
		);
	});
});

test('4. a run that fails after placing calls: the error lists them and how to re-run without dialling them again', async () => {
	const result = await run(WORKFLOWS.failedRun.id, 'case 4: failed run (CLI)', true);

	expect(result.status).toBe('error');
	const ids = [...sim.calls.values()].map((c) => c.id);
	expect(ids).toHaveLength(2);
	const error = result.data.resultData.runData['Call leads'][0].error as Record<string, any>;
	expect(error.message).toMatch(/^The agent is not active/);
	expect(error.description).toContain(
		`Before this error, Truedy Place Call had placed 2 call(s): item 0 → ${ids[0]}, item 1 → ${ids[1]}.`,
	);
	expect(error.description).toContain('remove these rows before re-running');
	expect(error.description).toContain('{{ $json.leadId }}');
});

// ---------------------------------------------------------------------------------------------
// Workflows

const credentials = { truedyApi: CREDENTIAL };
const agent = (value: string) => ({ __rl: true, mode: 'id', value });
const manualTrigger = {
	id: 'idem-manual',
	name: 'Start',
	type: 'n8n-nodes-base.manualTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};
const code = (id: string, name: string, jsCode: string) => ({
	id,
	name,
	type: 'n8n-nodes-base.code',
	typeVersion: 2,
	position: [200, 0],
	parameters: { jsCode },
});
/** A Truedy node (Call › `operation`) at `x`; `settings` are node settings such as retryOnFail or onError. */
const truedy = (
	id: string,
	name: string,
	x: number,
	operation: string,
	parameters: object,
	settings: object = {},
) => ({
	id,
	name,
	type: 'n8n-nodes-truedy.truedy',
	typeVersion: 1,
	position: [x, 0],
	...settings,
	credentials,
	parameters: { resource: 'call', operation, ...parameters },
});
const main = (...targets: string[]) => ({
	main: [targets.map((node) => ({ node, type: 'main', index: 0 }))],
});
const workflow = (id: string, name: string, nodes: object[], connections: object) => ({
	id,
	name,
	active: false,
	nodes,
	connections,
	settings: { executionOrder: 'v1' },
});

const WORKFLOWS = {
	retryNow: workflow(
		'idemRetryNow0001',
		'Idempotency 1: Retry On Fail with {{ $now }}',
		[
			manualTrigger,
			truedy(
				'idem-retry-place',
				'Call lead',
				200,
				'place',
				{
					agent: agent(SIM_AGENTS.active),
					phoneNumber: '+14155551234',
					variables: {
						variable: [
							{ name: 'first_name', value: 'Ann' },
							{ name: 'requested_at', value: '={{ $now }}' },
						],
					},
				},
				{ retryOnFail: true, maxTries: 3, waitBetweenTries: 100 },
			),
		],
		{ Start: main('Call lead') },
	),
	loop: workflow(
		'idemLoopBack0001',
		'Idempotency 2: Place Call → Wait → IF not answered → Place Call',
		[
			manualTrigger,
			truedy('idem-loop-place', 'Call lead', 200, 'place', {
				agent: agent(SIM_AGENTS.active),
				phoneNumber: '+14155550000',
				variables: { variable: [{ name: 'first_name', value: 'Omar' }] },
			}),
			{
				id: 'idem-loop-wait',
				name: 'Wait',
				type: 'n8n-nodes-base.wait',
				typeVersion: 1.1,
				position: [400, 0],
				webhookId: '6a1f0c0e-1d3b-4a55-9e77-13d0a1b2c301',
				parameters: { resume: 'timeInterval', amount: 1, unit: 'seconds' },
			},
			truedy('idem-loop-get', 'Check call', 600, 'get', { callId: '={{ $json.id }}' }),
			{
				id: 'idem-loop-if',
				name: 'Not answered?',
				type: 'n8n-nodes-base.if',
				typeVersion: 2,
				position: [800, 0],
				parameters: {
					conditions: {
						options: { caseSensitive: true, leftValue: '', typeValidation: 'loose' },
						conditions: [
							{
								id: '5b0c9d1e-1111-4c2a-9d3e-000000000001',
								leftValue: '={{ $json.status }}',
								rightValue: 'ended',
								operator: { type: 'string', operation: 'notEquals' },
							},
							{
								// One retry: the IF's second run (after the second call) ends the loop.
								id: '5b0c9d1e-1111-4c2a-9d3e-000000000002',
								leftValue: '={{ $runIndex }}',
								rightValue: 0,
								operator: { type: 'number', operation: 'equals' },
							},
						],
						combinator: 'and',
					},
					options: {},
				},
			},
		],
		{
			Start: main('Call lead'),
			'Call lead': main('Wait'),
			Wait: main('Check call'),
			'Check call': main('Not answered?'),
			'Not answered?': main('Call lead'),
		},
	),
	sameKey: workflow(
		'idemSameKey00001',
		'Idempotency 3: one key for two people',
		[
			manualTrigger,
			code(
				'idem-same-code',
				'Two people',
				"return [\n  { json: { household: 7, phone: '+14155551001' } },\n  { json: { household: 7, phone: '+14155551002' } },\n];",
			),
			truedy(
				'idem-same-place',
				'Call household',
				400,
				'place',
				{
					agent: agent(SIM_AGENTS.active),
					phoneNumber: '={{ $json.phone }}',
					options: { idempotencyKey: '=household-{{ $json.household }}', concurrency: 1 },
				},
				{ onError: 'continueRegularOutput' },
			),
		],
		{ Start: main('Two people'), 'Two people': main('Call household') },
	),
	failedRun: workflow(
		'idemFailedRun001',
		'Idempotency 4: a run that fails after placing calls',
		[
			manualTrigger,
			code(
				'idem-failed-code',
				'Three leads',
				`return [\n  { json: { agent: '${SIM_AGENTS.active}', phone: '+14155551011' } },\n  { json: { agent: '${SIM_AGENTS.active}', phone: '+14155551012' } },\n  { json: { agent: '${SIM_AGENTS.draft}', phone: '+14155551013' } },\n];`,
			),
			truedy('idem-failed-place', 'Call leads', 400, 'place', {
				agent: agent('={{ $json.agent }}'),
				phoneNumber: '={{ $json.phone }}',
				options: { concurrency: 1 },
			}),
		],
		{ Start: main('Three leads'), 'Three leads': main('Call leads') },
	),
};
