/**
 * Place Call in a real n8n: the place-calls example (leads from n8n's Data Table) runs on the server,
 * the branch example through the n8n CLI; both call the Truedy simulator. Asserts what reached the API
 * (simulator request log) and what n8n recorded.
 * One n8n server and one simulator for the whole file (startFlowEnvironment).
 */
import fs from 'fs';
import path from 'path';

import { SIM_AGENTS } from '../simulator/server';
import type { RecordedRequest } from '../simulator/server';
import { DEMO_LEADS, NODES, readExample, runOnServer, startFlowEnvironment } from './crm-flow';
import type { FlowEnvironment } from './crm-flow';
import { e2eLog, Timings } from './e2e-helpers';
import { nodeOutput } from './n8n-server';

const BRANCH_EXAMPLE = 'place-and-branch-on-outcome.workflow.json';
const hasBranchExample = fs.existsSync(
	path.join(__dirname, '..', '..', 'examples', BRANCH_EXAMPLE),
);
const timings = new Timings();
/** Sarah, Omar and Mei: numbers in three formats. */
const THREE_LEADS = DEMO_LEADS.slice(0, 3);

let env: FlowEnvironment | undefined;
let branchWorkflowId = '';

beforeAll(async () => {
	env = await timings.time('setup: install check, pack, import, publish, start', () =>
		startFlowEnvironment({ log: e2eLog('place-call'), leads: THREE_LEADS }),
	);
	if (hasBranchExample) {
		const branch = readExample(BRANCH_EXAMPLE, env.simulator.url);
		branchWorkflowId = branch.id;
		await timings.time('import place-and-branch example', () => env!.n8n.importWorkflow(branch));
	}
}, 10 * 60_000);

afterAll(async () => {
	await env?.dispose();
	timings.print('place-call.e2e.test.ts');
}, 60_000);

let firstRunCallIds: string[] = [];

function postCalls(): RecordedRequest[] {
	return env!.simulator.requests.filter(
		(request) => request.method === 'POST' && request.path === '/calls',
	);
}

test('Place Call (examples/place-calls-for-contacts) run on the server sends 3 well-formed calls', async () => {
	const { n8n, simulator } = env!;
	simulator.reset();
	const run = await timings.time('run place-calls workflow', () =>
		runOnServer(n8n, env!.workflows.place),
	);

	expect(run.status).toBe('success');
	expect(run.data.resultData.error).toBeUndefined();

	// --- what reached the Truedy API
	const posts = postCalls();
	expect(posts).toHaveLength(3);
	for (const request of posts) {
		expect(request.headers['authorization']).toBe(`Bearer ${simulator.apiKey}`);
		expect(request.headers['content-type']).toMatch(/^application\/json/);
		expect(request.status).toBe(201);
	}
	// Items run in order; sort by key anyway so a parallel implementation would also pass.
	const byKey = [...posts].sort((a, b) =>
		a.headers['x-idempotency-key'].localeCompare(b.headers['x-idempotency-key']),
	);
	expect(byKey.map((request) => request.headers['x-idempotency-key'])).toEqual([
		'crm-lead-1001',
		'crm-lead-1002',
		'crm-lead-1003',
	]);
	expect(byKey.map((request) => request.body)).toEqual([
		{
			agent_id: SIM_AGENTS.active,
			phone_number: '+14155550123', // "+1 415 555 0123"
			variables: {
				first_name: 'Sarah',
				appointment: 'April 10th at 2:00 PM',
				lead_id: 'lead-1001',
			},
			call_settings: { max_duration: '600s', join_timeout: '30s' },
		},
		{
			agent_id: SIM_AGENTS.active,
			phone_number: '+14155550199', // national "(415) 555-0199" with Default Country US
			variables: { first_name: 'Omar', appointment: 'April 11th at 9:30 AM', lead_id: 'lead-1002' },
			call_settings: { max_duration: '600s', join_timeout: '30s' },
		},
		{
			agent_id: SIM_AGENTS.active,
			phone_number: '+442079460958', // "+44 20 7946 0958"
			variables: { first_name: 'Mei', appointment: 'April 12th at 4:15 PM', lead_id: 'lead-1003' },
			call_settings: { max_duration: '600s', join_timeout: '30s' },
		},
	]);

	// --- what n8n recorded
	const items = nodeOutput(run, NODES.callLead);
	expect(items).toHaveLength(3);
	const expectedNumbers = ['+14155550123', '+14155550199', '+442079460958'];
	items.forEach((item, index) => {
		expect(item.pairedItem).toEqual({ item: index });
		expect(item.json.id).toMatch(/^call_/);
		expect(item.json.phone_number).toBe(expectedNumbers[index]);
		expect(item.json.agent_id).toBe(SIM_AGENTS.active);
		expect(item.json.status).toBe('queued');
		// The id is the one the simulator gave the call to that number.
		const call = simulator.calls.get(item.json.id);
		expect(call?.to).toBe(expectedNumbers[index]);
		expect(call?.variables.lead_id).toBe(`lead-100${index + 1}`);
	});
	// The three items are the three calls the simulator created, once each.
	expect(new Set(items.map((item) => item.json.id))).toEqual(new Set(simulator.calls.keys()));
	firstRunCallIds = items.map((item) => String(item.json.id));
});

test('a second run with the same idempotency keys (crm-lead-…) creates no new call', async () => {
	// Follows the previous test: same simulator state, so the keys are known to it.
	const { n8n, simulator } = env!;
	expect(firstRunCallIds).toHaveLength(3);
	// The first run marked the leads `calling`; make them due again, as a user re-running it would.
	await env!.resetLeads(THREE_LEADS);
	const again = await timings.time('run it again: idempotent replays', () =>
		runOnServer(n8n, env!.workflows.place),
	);
	expect(again.status).toBe('success');
	// Six POSTs reached the API, but the keys made the last three replays of the first three.
	const posts = postCalls();
	expect(posts).toHaveLength(6);
	expect(posts.slice(3).map((request) => request.headers['x-idempotency-key'])).toEqual(
		posts.slice(0, 3).map((request) => request.headers['x-idempotency-key']),
	);
	expect([...simulator.calls.keys()].sort()).toEqual([...firstRunCallIds].sort());
	expect(nodeOutput(again, NODES.callLead).map((item) => item.json.id)).toEqual(firstRunCallIds);
});

(hasBranchExample ? test : test.skip)(
	'examples/place-and-branch-on-outcome: waits for each call and sends it down the right IF branch',
	async () => {
		const { n8n, simulator } = env!;
		simulator.reset();
		const run = await timings.time('execute place-and-branch workflow (CLI)', () =>
			n8n.executeWorkflow(branchWorkflowId),
		);
		expect(run.status).toBe('success');

		const posts = postCalls();
		expect(posts.map((request) => (request.body as any).phone_number).sort()).toEqual([
			'+14155550000',
			'+14155550123',
		]);
		// The node polled until the calls ended (one GET /calls list per cycle, GET /calls/{id} as fallback).
		const polls = simulator.requests.filter(
			(request) => request.method === 'GET' && request.path.startsWith('/calls'),
		);
		expect(polls.length).toBeGreaterThanOrEqual(1);

		const placed = nodeOutput(run, 'Call and wait for the outcome');
		expect(placed).toHaveLength(2);
		expect(placed.map((item) => item.json.status)).toEqual(['ended', 'failed']);

		const answeredBranch = nodeOutput(run, 'Answered?', 0);
		const notAnsweredBranch = nodeOutput(run, 'Answered?', 1);
		expect(answeredBranch).toHaveLength(1);
		expect(notAnsweredBranch).toHaveLength(1);

		const answered = nodeOutput(run, 'Answered: log summary');
		expect(answered).toHaveLength(1);
		expect(answered[0].json).toMatchObject({ phone: '+14155550123', durationSeconds: 42 });
		expect(answered[0].json.callId).toBe(placed[0].json.id);
		expect(String(answered[0].json.summary)).not.toBe('');
		expect(String(answered[0].json.recordingUrl)).toContain(placed[0].json.id);

		const retry = nodeOutput(run, 'Not reached: schedule retry');
		expect(retry).toHaveLength(1);
		expect(retry[0].json).toMatchObject({ phone: '+14155550000', reason: 'unjoined' });
		expect(retry[0].json.callId).toBe(placed[1].json.id);
		expect(Date.parse(String(retry[0].json.retryAt))).toBeGreaterThan(Date.now());
	},
);

test("the credential's Test button (POST /rest/credentials/test) accepts the key and refuses a wrong one", async () => {
	const { n8n, simulator } = env!;
	simulator.reset();
	const testWithKey = (apiKey: string) =>
		n8n.rest<{ status: string; message: string }>('POST', '/credentials/test', {
			credentials: {
				id: 'truedySimulatorCred',
				name: 'Truedy (simulator)',
				type: 'truedyApi',
				data: { apiKey, baseUrl: simulator.baseUrl },
			},
		});
	const accepted = await testWithKey(simulator.apiKey);
	const refused = await testWithKey('truedy_wrong_key_0123456789');

	expect(accepted.status).toBe('OK');
	expect(refused.status).toBe('Error');
	expect(refused.message).not.toContain('truedy_wrong_key_0123456789');
	// GET /agents?limit=1, authenticated by the credential's own authenticate() (n8n may send a
	// refused test request a second time).
	const probes = simulator.requests
		.filter((request) => request.path === '/agents')
		.map((request) => [request.headers['authorization'], request.query.limit, request.status]);
	expect(probes[0]).toEqual([`Bearer ${simulator.apiKey}`, '1', 200]);
	expect(probes.length).toBeGreaterThan(1);
	for (const probe of probes.slice(1))
		expect(probe).toEqual(['Bearer truedy_wrong_key_0123456789', '1', 401]);
});
