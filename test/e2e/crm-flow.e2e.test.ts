/* eslint-disable */
/**
 * The whole example flow in a real n8n: "Truedy: call new CRM contacts" (run by the n8n CLI) dials
 * every contact through the simulator; each call ends, the simulator delivers a signed call.ended
 * to the published "Truedy: log call outcomes in the CRM" workflow, which writes the outcome to the
 * simulator's CRM endpoint. Every contact's outcome must arrive exactly once, also when the
 * simulator delivers each event twice (Truedy delivers at least once).
 * One n8n server and one simulator for the whole file (startFlowEnvironment).
 */
import { runCrmToCallFlow, startFlowEnvironment } from './crm-flow';
import type { FlowEnvironment, FlowResult } from './crm-flow';
import { e2eLog, eventually, executionBaseline, expectOnlySentinelSince, newExecutions, Timings, triggerItem } from './e2e-helpers';
import { nodeOutput } from './n8n-server';

const timings = new Timings();
let env: FlowEnvironment | undefined;

beforeAll(async () => {
	env = await timings.time('setup: install check, pack, import, publish, start', () =>
		startFlowEnvironment({ log: e2eLog('crm-flow') }),
	);
}, 10 * 60_000);

afterAll(async () => {
	await env?.dispose();
	timings.print('crm-flow.e2e.test.ts');
}, 60_000);

/** Runs the flow from a clean simulator and checks each contact's outcome reached the CRM once. */
async function runAndCheck(label: string, copiesPerEvent: number): Promise<FlowResult> {
	const { n8n, simulator, endedWorkflowId } = env!;
	simulator.reset();
	const before = await executionBaseline(n8n, endedWorkflowId);
	const result = await timings.time(label, () => runCrmToCallFlow(env!));
	expect(result.placeRun.status).toBe('success');

	const contacts = nodeOutput(result.placeRun, 'New CRM contacts');
	const callIds = result.outcomes.map((outcome) => outcome.callId);
	expect(contacts).toHaveLength(3);
	expect(result.outcomes).toHaveLength(contacts.length);
	expect(new Set(callIds).size).toBe(contacts.length);

	// Every copy of every call.ended was delivered and answered 2xx (duplicates are answered, not run).
	await eventually('every delivery answered', () =>
		callIds.every(
			(id) => simulator.webhookDeliveries.filter((delivery) => delivery.callId === id && delivery.event === 'call.ended').length === copiesPerEvent,
		),
	);
	for (const delivery of simulator.webhookDeliveries) {
		expect(delivery.status).toBeGreaterThanOrEqual(200);
		expect(delivery.status).toBeLessThan(300);
	}
	if (copiesPerEvent > 1) {
		for (const id of callIds) {
			const copies = simulator.webhookDeliveries.filter((delivery) => delivery.callId === id);
			// Truedy-style duplicates: byte-identical body, same timestamp and signature.
			expect(new Set(copies.map((copy) => copy.rawBody)).size).toBe(1);
			expect(new Set(copies.map((copy) => copy.headers['X-Truedy-Signature'])).size).toBe(1);
		}
	}

	// Trigger executions: one per call, all successful, each for a different call.
	const executions = await newExecutions(n8n, endedWorkflowId, before, contacts.length);
	expect(executions).toHaveLength(contacts.length);
	for (const execution of executions) expect(execution.status).toBe('success');
	expect(executions.map((execution) => triggerItem(execution)?.callId).sort()).toEqual([...callIds].sort());

	// CRM: one record per call id, with the call's final status.
	expect(simulator.crmRecords).toHaveLength(contacts.length);
	result.outcomes.forEach((outcome, index) => {
		expect(outcome.leadId).toBe(contacts[index].json.leadId);
		expect(outcome.crmRecords).toBe(1);
		expect(outcome.finalStatus).toBe('ended');
		// (outcome.triggerExecution is not checked: runCrmToCallFlow maps it from the workflow's
		// executions of all runs, so on a second run it can be read before this run's have finished;
		// the executions of this run are checked above instead.)
		const record = simulator.crmRecords.find((candidate) => candidate.callId === outcome.callId)!;
		expect(record).toMatchObject({ status: 'ended', endReason: 'hangup', durationSeconds: 42, followUp: false });
		expect(String(record.summary)).not.toBe('');
		expect(String(record.transcript)).toContain('agent: ');
	});
	expect(result.outcomes.map((outcome) => outcome.phone)).toEqual(['+14155550123', '+14155550199', '+442079460958']);
	return result;
}

test('every contact is called and its outcome reaches the CRM exactly once', async () => {
	await runAndCheck('CRM flow: place 3 calls (CLI) → 3 call.ended → 3 CRM records', 1);
});

test('with Truedy-style duplicate deliveries (webhook.duplicates: 1) each call still gives one CRM record', async () => {
	const { n8n, simulator, endedWorkflowId } = env!;
	const webhook = { ...simulator.options.webhook! };
	simulator.configure({ webhook: { ...webhook, duplicates: 1 } });
	let result: FlowResult;
	try {
		result = await runAndCheck('CRM flow with every delivery sent twice', 2);
	} finally {
		simulator.configure({ webhook });
	}
	// No late execution from a duplicate copy: a later genuine call.ended must be the only new one.
	const after = await executionBaseline(n8n, endedWorkflowId);
	await timings.time('no-execution proof (sentinel call)', () => expectOnlySentinelSince(env!, after));
	for (const outcome of result.outcomes) {
		expect(simulator.crmRecords.filter((record) => record.callId === outcome.callId)).toHaveLength(1);
	}
});
