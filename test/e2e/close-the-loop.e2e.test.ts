/**
 * Closing the loop in a real n8n: leads in n8n's Data Table, one call per lead placed by
 * examples/place-calls-for-contacts (variable lead_id), each call.ended delivered to the published
 * examples/call-ended-to-crm, which updates the row where lead_id = variables.lead_id. Every row must
 * end up with its own call's outcome (status, end reason, summary, transcript, recording URL, call
 * id, checked against the simulator's record of that call) and no row with another call's.
 * The leads are told apart: each summary names the person and number, and Jonas's number (…0000)
 * is never answered (failed, unjoined).
 *
 * Cases, on one server (the resolver remembers per process that an account's calls carry no
 * ultravox_call_id, so that mode runs last):
 * - passthrough deliveries (Ultravox ids), calls expose ultravox_call_id → every row updated;
 * - the same with the trigger's Agent IDs filter set to the Truedy agent id (a copy of the example);
 * - the same with every delivery sent twice → one update per row;
 * - the flat shape (Truedy ids) → every row updated;
 * - passthrough, calls without ultravox_call_id → no row touched, outputs say unresolved; then the
 *   Wait for Call to End fallback (examples/call-leads-and-wait-for-outcome) updates every row.
 */
import { SIM_AGENTS, SIM_ULTRAVOX_AGENTS } from '../simulator/server';
import type { SimulatorOptionsPatch, WebhookOptions } from '../simulator/server';
import { DEMO_LEADS, itemsOut, NODES, runLeadsFlow, startFlowEnvironment } from './crm-flow';
import type { FlowEnvironment, FlowResult, RowVerdict } from './crm-flow';
import {
	deliveryFor,
	e2eLog,
	executionBaseline,
	expectOnlySentinelSince,
	Timings,
	triggerItem,
} from './e2e-helpers';

const timings = new Timings();
const tally: Array<[string, Record<RowVerdict, number>]> = [];
let env: FlowEnvironment | undefined;
let startupWebhook: WebhookOptions;

/** A copy of the Call Ended example whose trigger only takes calls of the Truedy agent SIM_AGENTS.active. */
const FILTERED_WEBHOOK_ID = '2f7c1d9e-8a4b-4c6d-9e0f-1a2b3c4d5e6f';
/** That copy, as created (its `id` is n8n's). */
let filtered: any;

beforeAll(async () => {
	env = await timings.time('setup: install check, pack, start, table, workflows, publish', () =>
		startFlowEnvironment({
			log: e2eLog('close-the-loop'),
			publishAlso: ({ ended }) => {
				filtered = JSON.parse(JSON.stringify(ended));
				filtered.name = `${ended.name} (Agent IDs filter)`;
				const trigger = filtered.nodes.find((node: any) => node.name === NODES.trigger);
				trigger.webhookId = FILTERED_WEBHOOK_ID;
				trigger.parameters.filters = { agentIds: SIM_AGENTS.active };
				return [filtered];
			},
		}),
	);
	startupWebhook = { ...env.simulator.options.webhook! };
}, 10 * 60_000);

afterAll(async () => {
	await env?.dispose();
	timings.print('close-the-loop.e2e.test.ts');
	process.stderr.write(
		`[close-the-loop] rows per case (right / wrong / not updated):\n${tally
			.map(([label, c]) => `  ${label.padEnd(58)} ${c.right} / ${c.wrong} / ${c['not updated']}`)
			.join('\n')}\n`,
	);
}, 60_000);

/** A clean simulator (start-up options plus `patch`) and the leads without outcomes. */
async function freshCase(
	patch: SimulatorOptionsPatch = {},
	webhook: Partial<WebhookOptions> = {},
): Promise<void> {
	const { simulator } = env!;
	simulator.reset();
	simulator.configure({ ...patch, webhook: { ...startupWebhook, ...webhook } });
	await env!.resetLeads();
}

async function flow(
	label: string,
	options: Parameters<typeof runLeadsFlow>[1] = {},
): Promise<FlowResult> {
	const result = await timings.time(label, () => runLeadsFlow(env!, options));
	tally.push([label, result.counts]);
	return result;
}

/** What every case checks about the calls: one per lead, to the lead's number, with its lead_id. */
function expectOneCallPerLead(result: FlowResult): void {
	expect([...result.callsByLead.keys()].sort()).toEqual(DEMO_LEADS.map((lead) => lead.lead_id));
	for (const [leadId, call] of result.callsByLead) {
		expect(call.variables.lead_id).toBe(leadId);
		expect(call.agent_id).toBe(SIM_AGENTS.active);
	}
	expect(result.callsByLead.get('lead-1004')).toMatchObject({
		status: 'failed',
		end_reason: 'unjoined',
	});
}

/** Every row right, none wrong; the failed call's row says failed, the others ended. */
function expectEveryRowRight(result: FlowResult): void {
	expect(result.checks.filter((check) => check.verdict !== 'right')).toEqual([]);
	expect(result.counts).toEqual({ right: 4, wrong: 0, 'not updated': 0 });
	const byLead = new Map(result.rows.map((row) => [row.lead_id, row]));
	expect(byLead.get('lead-1004')).toMatchObject({
		status: 'failed',
		end_reason: 'unjoined',
		summary: null,
		transcript: null,
	});
	for (const leadId of ['lead-1001', 'lead-1002', 'lead-1003']) {
		const row = byLead.get(leadId)!;
		expect(row).toMatchObject({ status: 'ended', end_reason: 'hangup', duration_seconds: 42 });
		expect(String(row.summary)).toContain(DEMO_LEADS.find((lead) => lead.lead_id === leadId)!.name);
		expect(String(row.transcript).split('\n')[0]).toMatch(/^agent: /);
	}
}

/** Each trigger output is for a different placed call, tied to it the way `method` says. */
function expectResolvedOutputs(result: FlowResult, method: 'truedy_id' | 'ultravox_call_id'): void {
	expect(result.triggerExecutions).toHaveLength(4);
	const placed = new Map(
		[...result.callsByLead].map(([leadId, call]) => [call.id, { leadId, call }]),
	);
	const seen = new Set<string>();
	for (const execution of result.triggerExecutions) {
		expect(execution.status).toBe('success');
		const item = triggerItem(execution)!;
		const own = placed.get(item.callId);
		expect(own).toBeDefined();
		seen.add(item.callId);
		expect(item.resolution).toEqual({ resolved: true, method, reason: null });
		expect(item).toMatchObject({
			event: 'call.ended',
			agentId: SIM_AGENTS.active,
			variables: expect.objectContaining({ lead_id: own!.leadId }),
			phoneNumber: own!.call.to,
		});
		// Passthrough deliveries name the Ultravox ids; flat ones name only Truedy's.
		if (method === 'ultravox_call_id') {
			expect(item).toMatchObject({
				ultravoxCallId: own!.call.ultravox_call_id,
				ultravoxAgentId: SIM_ULTRAVOX_AGENTS.active,
			});
		}
		expect(itemsOut(execution, NODES.writeOutcome)).toBe(1);
		expect(itemsOut(execution, NODES.noLead)).toBe(0);
	}
	expect(seen.size).toBe(4);
}

/** The deliveries were in the passthrough shape: data.call.callId is the Ultravox id, never the Truedy one. */
function expectPassthroughDeliveries(): void {
	const deliveries = env!.simulator.webhookDeliveries.filter(
		(delivery) => delivery.event === 'call.ended',
	);
	expect(deliveries.length).toBeGreaterThanOrEqual(4);
	for (const delivery of deliveries) {
		const body = JSON.parse(delivery.rawBody);
		expect(body.data.call.callId).toBe(delivery.ultravoxCallId);
		expect(body.data.call.callId).not.toBe(delivery.callId);
		expect(body.data.call.callId).toMatch(/^[0-9a-f-]{36}$/);
		expect(body.data.call.agent.agentId).toBe(SIM_ULTRAVOX_AGENTS.active);
		expect(delivery.status).toBe(204);
	}
}

test("passthrough deliveries, calls expose ultravox_call_id: every row gets its own call's outcome", async () => {
	await freshCase({ exposeUltravoxIds: true });
	const result = await flow('passthrough, ultravox_call_id exposed');
	expectOneCallPerLead(result);
	expectPassthroughDeliveries();
	expectResolvedOutputs(result, 'ultravox_call_id');
	expectEveryRowRight(result);
});

test("the trigger's Agent IDs filter with the Truedy agent id takes these calls and ignores another agent's", async () => {
	await freshCase(
		{ exposeUltravoxIds: true },
		{ url: env!.n8n.webhookUrl(`${FILTERED_WEBHOOK_ID}/webhook`) },
	);
	const result = await flow('passthrough, exposed, Agent IDs filter = Truedy agent id', {
		endedWorkflowId: filtered.id,
	});
	expectOneCallPerLead(result);
	expectResolvedOutputs(result, 'ultravox_call_id');
	expectEveryRowRight(result);

	// Another agent calls Sarah with her lead_id: its end is answered and starts nothing, so her row
	// keeps her own call's outcome.
	const before = await executionBaseline(env!.n8n, filtered.id);
	const intruder = await placeCall(SIM_AGENTS.leadQualifier, '+14155550123', {
		lead_id: 'lead-1001',
		first_name: 'Intruder',
	});
	const delivery = await deliveryFor(env!.simulator, intruder);
	expect(delivery.status).toBe(204);
	const rows = await env!.leads.rows();
	expect(rows).toEqual(result.rows);
	expect(
		(await env!.n8n.listExecutions(filtered.id)).filter((execution) => !before.has(execution.id)),
	).toEqual([]);
});

test('with every delivery sent twice (Truedy delivers at least once) each row is written once', async () => {
	await freshCase({ exposeUltravoxIds: true }, { duplicates: 1 });
	const result = await flow('passthrough, exposed, every delivery twice');
	for (const [, call] of result.callsByLead) {
		const copies = env!.simulator.webhookDeliveries.filter(
			(delivery) => delivery.callId === call.id && delivery.event === 'call.ended',
		);
		expect(copies).toHaveLength(2);
		expect(new Set(copies.map((copy) => copy.rawBody)).size).toBe(1);
	}
	expectResolvedOutputs(result, 'ultravox_call_id');
	expectEveryRowRight(result);
	// No late execution from a second copy: a later genuine call must be the only new one.
	const after = await executionBaseline(env!.n8n, env!.endedWorkflowId);
	const sentinel = await timings.time('no-execution proof (sentinel call)', () =>
		expectOnlySentinelSince(env!, after),
	);
	expect(itemsOut(sentinel, NODES.noLead)).toBe(1); // a call placed without lead_id touches no row
});

test("flat deliveries (Truedy ids): every row gets its own call's outcome", async () => {
	await freshCase({}, { payloadShape: 'flat' });
	const result = await flow('flat shape, Truedy ids');
	expectOneCallPerLead(result);
	expectResolvedOutputs(result, 'truedy_id');
	expectEveryRowRight(result);
});

test('passthrough, calls without ultravox_call_id: no row is touched and the outputs say unresolved; Wait for Call to End fills every row', async () => {
	await freshCase({ exposeUltravoxIds: false });
	const result = await flow('passthrough, no ultravox_call_id (trigger)');
	expectOneCallPerLead(result);
	expectPassthroughDeliveries();
	expect(result.triggerExecutions).toHaveLength(4);
	for (const execution of result.triggerExecutions) {
		expect(execution.status).toBe('success');
		const item = triggerItem(execution)!;
		expect(item.resolution).toMatchObject({ resolved: false, method: null });
		expect(String(item.resolution.reason)).not.toBe('');
		expect(item.variables?.lead_id).toBeUndefined();
		expect(itemsOut(execution, NODES.writeOutcome)).toBe(0);
		expect(itemsOut(execution, NODES.noLead)).toBe(1);
	}
	expect(result.counts).toEqual({ right: 0, wrong: 0, 'not updated': 4 });
	// The place workflow marked them; nothing else wrote to them.
	for (const row of result.rows) expect(row).toMatchObject({ status: 'calling', summary: null });

	// The fallback: the same leads, called and waited for in one execution, each outcome paired with its lead.
	await freshCase({ exposeUltravoxIds: false });
	const fallback = await flow('passthrough, no ultravox_call_id (Wait for Call to End)', {
		workflow: env!.workflows.wait,
		callNode: NODES.callLeadAndWait,
	});
	expectOneCallPerLead(fallback);
	expectEveryRowRight(fallback);
	// The trigger still ran for these calls, and still touched nothing.
	for (const execution of fallback.triggerExecutions)
		expect(itemsOut(execution, NODES.writeOutcome)).toBe(0);
});

/** Places a call straight through the simulator's API (not through n8n); returns its Truedy id. */
async function placeCall(
	agentId: string,
	phone: string,
	variables: Record<string, string>,
): Promise<string> {
	const { simulator } = env!;
	const response = await fetch(`${simulator.baseUrl}/calls`, {
		method: 'POST',
		headers: { authorization: `Bearer ${simulator.apiKey}`, 'content-type': 'application/json' },
		body: JSON.stringify({ agent_id: agentId, phone_number: phone, variables }),
	});
	if (response.status !== 201)
		throw new Error(`POST /calls: HTTP ${response.status} ${await response.text()}`);
	return ((await response.json()) as { data: { id: string } }).data.id;
}
