/**
 * The example leads flow in a real n8n server, with n8n's own Data Table as the CRM:
 * - a `truedy_leads` table holds the leads (made and filled through n8n's public API);
 * - "Truedy: call new leads" (examples/place-calls-for-contacts) calls each lead whose status is
 *   empty, with `lead_id` as a call variable, and marks the row `calling`;
 * - the simulator ends each call and delivers a signed `call.ended` to the published
 *   "Truedy: write each call's outcome to its lead" (examples/call-ended-to-crm), which updates the
 *   row where lead_id = variables.lead_id;
 * - "Truedy: call leads and wait for each outcome" (examples/call-leads-and-wait-for-outcome) is the
 *   webhook-free fallback: Place Call's Wait for Call to End, each outcome paired with its lead.
 * The examples name a placeholder table id and no simulator; the table id is put in at import time.
 * Used by `npm run demo` (prints the table) and by the end-to-end tests (assert).
 */
import { randomBytes } from 'crypto';
import fs from 'fs';
import path from 'path';

import { renderStatus } from '../simulator/calls';
import { startSimulator } from '../simulator/server';
import type { SimCall, StartOptions, TruedySimulator } from '../simulator/server';
import { createDataTable } from './data-table';
import type { ColumnSpec, DataTable, Row } from './data-table';
import { ensureN8nInstalled, N8nServer, nodeOutput, packAndInstallPackage } from './n8n-server';
import type { CredentialImport, ExecutionSummary, N8nInstall, WorkflowRun } from './n8n-server';

/** An execution read with its data (`includeData=true`). */
export type ExecutionWithData = ExecutionSummary & { data: WorkflowRun['data'] };

export const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
/** The host older example workflows named for the simulator (readExample still swaps it). */
const EXAMPLE_SIMULATOR_URL = 'http://127.0.0.1:4010';
/** What the examples' Data Table nodes name instead of a real table id. */
export const LEADS_TABLE_PLACEHOLDER = 'YOUR_LEADS_TABLE_ID';

export const PLACE_CALLS_WORKFLOW = 'place-calls-for-contacts.workflow.json';
export const CALL_ENDED_WORKFLOW = 'call-ended-to-crm.workflow.json';
export const WAIT_FOR_OUTCOME_WORKFLOW = 'call-leads-and-wait-for-outcome.workflow.json';

/** Node names in the examples that the demo and the tests read. */
export const NODES = {
	leadsToCall: 'Leads to call',
	callLead: 'Call lead',
	callLeadAndWait: 'Call lead and wait',
	trigger: 'Truedy Trigger',
	writeOutcome: 'Write outcome to the lead',
	noLead: 'No lead to update',
} as const;

/** The credential ids the examples reference. */
export const TRUEDY_API_CREDENTIAL_ID = 'truedySimulatorCred';
export const TRUEDY_WEBHOOK_CREDENTIAL_ID = 'truedyWebhookCred';

export function readExample(file: string, simulatorUrl?: string): any {
	let text = fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
	if (simulatorUrl) text = text.split(EXAMPLE_SIMULATOR_URL).join(simulatorUrl);
	return JSON.parse(text);
}

/** The workflow with every Data Table node pointed at `tableId` instead of the placeholder. */
export function withLeadsTable<T extends { nodes: any[] }>(workflow: T, tableId: string): T {
	const copy = JSON.parse(JSON.stringify(workflow)) as T;
	for (const node of copy.nodes) {
		if (node.type !== 'n8n-nodes-base.dataTable') continue;
		if (node.parameters?.dataTableId?.value !== LEADS_TABLE_PLACEHOLDER) {
			throw new Error(`Data Table node "${node.name}" does not name ${LEADS_TABLE_PLACEHOLDER}`);
		}
		node.parameters.dataTableId = { ...node.parameters.dataTableId, value: tableId };
	}
	return copy;
}

export function triggerWebhookPath(workflow: any): string {
	const trigger = workflow.nodes.find(
		(node: any) => node.type === 'n8n-nodes-truedy.truedyTrigger',
	);
	if (!trigger?.webhookId) throw new Error('the example has no Truedy Trigger with a webhookId');
	return `${trigger.webhookId}/webhook`;
}

// ---------------------------------------------------------------------------------------------
// Leads

/** The leads table the examples expect (see their sticky notes). */
export const LEAD_COLUMNS: ColumnSpec[] = [
	{ name: 'lead_id', type: 'string' },
	{ name: 'name', type: 'string' },
	{ name: 'phone', type: 'string' },
	{ name: 'appointment', type: 'string' },
	{ name: 'status', type: 'string' },
	{ name: 'end_reason', type: 'string' },
	{ name: 'summary', type: 'string' },
	{ name: 'transcript', type: 'string' },
	{ name: 'recording_url', type: 'string' },
	{ name: 'truedy_call_id', type: 'string' },
	{ name: 'duration_seconds', type: 'number' },
];

export interface Lead {
	lead_id: string;
	name: string;
	phone: string;
	appointment: string;
}

/**
 * Four leads with outcomes that tell them apart: the summaries name the person and number, and the
 * simulator never answers numbers ending in 0000, so Jonas's call fails (`unjoined`).
 */
export const DEMO_LEADS: Lead[] = [
	{
		lead_id: 'lead-1001',
		name: 'Sarah',
		phone: '+1 415 555 0123',
		appointment: 'April 10th at 2:00 PM',
	},
	{
		lead_id: 'lead-1002',
		name: 'Omar',
		phone: '(415) 555-0199',
		appointment: 'April 11th at 9:30 AM',
	},
	{
		lead_id: 'lead-1003',
		name: 'Mei',
		phone: '+44 20 7946 0958',
		appointment: 'April 12th at 4:15 PM',
	},
	{
		lead_id: 'lead-1004',
		name: 'Jonas',
		phone: '+1 415 555 0000',
		appointment: 'April 13th at 11:00 AM',
	},
];

/** The transcript as the examples store it: one `speaker: text` line per turn. */
export function transcriptText(transcript: unknown): string | null {
	if (!Array.isArray(transcript)) return (transcript as string | null | undefined) ?? null;
	return transcript.map((turn: any) => `${turn.speaker}: ${turn.text}`).join('\n');
}

export type RowVerdict = 'right' | 'wrong' | 'not updated';

export interface RowCheck {
	leadId: string;
	verdict: RowVerdict;
	/** The fields that differ from the lead's own call (for `wrong`). */
	mismatches: string[];
	/** The call placed for this lead. */
	callId?: string;
}

/**
 * Compares each row with the outcome of the call placed for its lead (the simulator's own record):
 * `right` when status, end reason, summary, transcript, recording URL and call id all are that
 * call's; `not updated` when the row carries no outcome (status empty or `calling`); else `wrong`.
 */
export function checkRows(rows: Row[], callsByLead: Map<string, SimCall>): RowCheck[] {
	return rows.map((row) => {
		const leadId = String(row.lead_id);
		const call = callsByLead.get(leadId);
		const untouched =
			(row.status === null || row.status === '' || row.status === 'calling') &&
			row.summary === null &&
			row.transcript === null &&
			row.recording_url === null &&
			(row.truedy_call_id === null || row.truedy_call_id === call?.id);
		if (untouched) return { leadId, verdict: 'not updated', mismatches: [], callId: call?.id };
		if (!call)
			return { leadId, verdict: 'wrong', mismatches: ['no call was placed for this lead'] };
		const expected: Record<string, unknown> = {
			status: renderStatus(call.status, 'ended'),
			end_reason: call.end_reason,
			summary: call.summary,
			transcript: transcriptText(call.transcript),
			recording_url: call.recording_url,
			truedy_call_id: call.id,
		};
		const mismatches = Object.keys(expected).filter(
			(column) => (row[column] ?? null) !== (expected[column] ?? null),
		);
		return {
			leadId,
			verdict: mismatches.length === 0 ? 'right' : 'wrong',
			mismatches,
			callId: call.id,
		};
	});
}

export function countVerdicts(checks: RowCheck[]): Record<RowVerdict, number> {
	const counts: Record<RowVerdict, number> = { right: 0, wrong: 0, 'not updated': 0 };
	for (const check of checks) counts[check.verdict]++;
	return counts;
}

// ---------------------------------------------------------------------------------------------
// Environment

export interface FlowEnvironment {
	install: N8nInstall;
	n8n: N8nServer;
	simulator: TruedySimulator;
	signingSecret: string;
	/** Production URL of the published Call Ended workflow (the simulator delivers there). */
	triggerUrl: string;
	leads: DataTable;
	/** The example workflows as created (table id filled in, `id` the one n8n gave them). */
	workflows: { place: any; ended: any; wait: any };
	placeWorkflowId: string;
	endedWorkflowId: string;
	waitWorkflowId: string;
	/** Empties the leads table and inserts `leads` (default: the environment's leads). */
	resetLeads(leads?: Lead[]): Promise<Row[]>;
	dispose(): Promise<void>;
}

/** The simulator's Truedy API credential and a Truedy Webhook credential, under the examples' ids. */
export function simulatorCredentials(
	simulator: TruedySimulator,
	signingSecret: string,
): CredentialImport[] {
	return [
		{
			id: TRUEDY_API_CREDENTIAL_ID,
			name: 'Truedy (simulator)',
			type: 'truedyApi',
			data: { apiKey: simulator.apiKey, baseUrl: simulator.baseUrl },
		},
		{
			id: TRUEDY_WEBHOOK_CREDENTIAL_ID,
			name: 'Truedy Webhook (simulator)',
			type: 'truedyWebhookApi',
			data: { signingSecret },
		},
	];
}

/**
 * Starts the simulator and n8n with the packed package and credentials, then, on the running server
 * through the public API, makes the leads table, creates the three example workflows with its id
 * (n8n gives them new workflow ids) and publishes the Call Ended one. The simulator delivers call
 * events to its production URL.
 */
export async function startFlowEnvironment(
	options: {
		port?: number;
		simulator?: StartOptions;
		leads?: Lead[];
		/** More workflows to create and publish with the examples (given the examples, table id filled in; their ids are set to n8n's). */
		publishAlso?: (workflows: FlowEnvironment['workflows']) => any[];
		log?: (line: string) => void;
	} = {},
): Promise<FlowEnvironment> {
	const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
	const install = await ensureN8nInstalled(log);
	const n8n = await N8nServer.create({ install, port: options.port, log });
	const signingSecret = `whsec_${randomBytes(24).toString('hex')}`;
	const triggerUrl = n8n.webhookUrl(triggerWebhookPath(readExample(CALL_ENDED_WORKFLOW)));
	const prepared = await startWithSimulator(
		n8n,
		install,
		{
			callTimings: { queuedMs: 200, ringingMs: 400, inProgressMs: 1500 },
			...options.simulator,
			webhook: { url: triggerUrl, secret: signingSecret, ...options.simulator?.webhook },
		},
		signingSecret,
		async () => ({}),
	);
	try {
		const defaultLeads = options.leads ?? DEMO_LEADS;
		const leads = await createDataTable(n8n, 'truedy_leads', LEAD_COLUMNS);
		await leads.insert(defaultLeads.map((lead) => ({ ...lead })));
		const workflows = {
			place: withLeadsTable(readExample(PLACE_CALLS_WORKFLOW), leads.id),
			ended: withLeadsTable(readExample(CALL_ENDED_WORKFLOW), leads.id),
			wait: withLeadsTable(readExample(WAIT_FOR_OUTCOME_WORKFLOW), leads.id),
		};
		const extra = options.publishAlso?.(workflows) ?? [];
		for (const workflow of [workflows.place, workflows.ended, workflows.wait, ...extra])
			await createWorkflow(n8n, workflow);
		for (const workflow of [workflows.ended, ...extra]) await publishNow(n8n, workflow.id);
		return {
			install,
			n8n,
			signingSecret,
			triggerUrl,
			leads,
			workflows,
			placeWorkflowId: workflows.place.id,
			endedWorkflowId: workflows.ended.id,
			waitWorkflowId: workflows.wait.id,
			async resetLeads(next = defaultLeads) {
				await leads.clear();
				return leads.insert(next.map((lead) => ({ ...lead })));
			},
			...prepared,
		};
	} catch (error) {
		await prepared.dispose();
		throw error;
	}
}

/**
 * Creates the workflow on the running server through the public API (a tenth of a second, where
 * `n8n import:workflow` boots a whole n8n) and sets `workflow.id` to the id n8n gave it.
 */
export async function createWorkflow(n8n: N8nServer, workflow: any): Promise<void> {
	const { name, nodes, connections, settings } = workflow;
	const created = await n8n.api<{ id: string }>('POST', '/workflows', {
		name,
		nodes,
		connections,
		settings,
	});
	workflow.id = created.id;
}

/** Publishes (activates) a workflow on the running server; its webhooks answer at once. */
export async function publishNow(n8n: N8nServer, workflowId: string): Promise<void> {
	await n8n.api('POST', `/workflows/${workflowId}/activate`);
}

/**
 * Starts the simulator, installs the packed package, imports the simulator's Truedy API credential
 * and a webhook credential with `signingSecret` (ids as the examples name them), lets
 * `importWorkflows` add workflows, then starts n8n. Cleans up the server and the simulator if any
 * step fails.
 */
export async function startWithSimulator<T extends object>(
	n8n: N8nServer,
	install: N8nInstall,
	simulatorOptions: StartOptions,
	signingSecret: string,
	importWorkflows: (simulator: TruedySimulator) => Promise<T>,
): Promise<T & { simulator: TruedySimulator; dispose(): Promise<void> }> {
	let simulator: TruedySimulator | undefined;
	try {
		simulator = await startSimulator(simulatorOptions);
		await packAndInstallPackage(install, n8n.userFolder, ROOT);
		await n8n.importCredentials(simulatorCredentials(simulator, signingSecret));
		const imported = await importWorkflows(simulator);
		await n8n.start();
		const sim = simulator;
		return {
			...imported,
			simulator: sim,
			async dispose() {
				await n8n.dispose();
				await sim.close();
			},
		};
	} catch (error) {
		await n8n.dispose();
		await simulator?.close();
		throw error;
	}
}

// ---------------------------------------------------------------------------------------------
// Running the flow

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a workflow on the server from its Manual Trigger, as the editor's "Execute workflow" button
 * does (POST /rest/workflows/{id}/run), and waits for the execution to finish. The server, not the
 * CLI: `n8n execute` does not load the Data Table module.
 */
export async function runOnServer(
	n8n: N8nServer,
	workflow: any,
	timeoutMs = 120_000,
): Promise<ExecutionWithData> {
	const trigger = workflow.nodes.find((node: any) => node.type === 'n8n-nodes-base.manualTrigger');
	if (!trigger) throw new Error(`workflow ${workflow.id} has no Manual Trigger`);
	const { executionId } = await n8n.rest<{ executionId: string }>(
		'POST',
		`/workflows/${workflow.id}/run`,
		{
			triggerToStartFrom: { name: trigger.name },
		},
	);
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const execution = await n8n.getExecution(executionId, true).catch(() => undefined);
		if (
			execution?.data &&
			!['new', 'running', 'waiting'].includes(execution.status) &&
			execution.stoppedAt
		)
			return execution as ExecutionWithData;
		if (Date.now() > deadline)
			throw new Error(
				`execution ${executionId} of ${workflow.id} did not finish within ${timeoutMs} ms`,
			);
		await sleep(250);
	}
}

export interface FlowResult {
	/** The run of the calling workflow (place, or the wait-for-outcome fallback). */
	run: ExecutionWithData;
	/** The call placed for each lead id, as the simulator recorded it (after the flow finished). */
	callsByLead: Map<string, SimCall>;
	/** Executions of the Call Ended workflow this flow started. */
	triggerExecutions: ExecutionSummary[];
	rows: Row[];
	checks: RowCheck[];
	counts: Record<RowVerdict, number>;
}

/**
 * Runs a calling workflow (default: the place-calls example) on the server, waits until the Call
 * Ended workflow `endedWorkflowId` has finished `expectedTriggerRuns` new executions (default: one
 * per call) and checks every row against its own call.
 */
export async function runLeadsFlow(
	env: FlowEnvironment,
	options: {
		workflow?: any;
		callNode?: string;
		endedWorkflowId?: string;
		expectedTriggerRuns?: number;
		timeoutMs?: number;
	} = {},
): Promise<FlowResult> {
	const workflow = options.workflow ?? env.workflows.place;
	const callNode = options.callNode ?? NODES.callLead;
	const endedWorkflowId = options.endedWorkflowId ?? env.endedWorkflowId;
	const timeoutMs = options.timeoutMs ?? 60_000;
	const earlier = new Set(
		(await env.n8n.listExecutions(endedWorkflowId)).map((execution) => execution.id),
	);
	const run = await runOnServer(env.n8n, workflow);
	if (run.status !== 'success') {
		throw new Error(
			`${workflow.name} ended ${run.status}: ${JSON.stringify(run.data?.resultData?.error)}`,
		);
	}
	const leadsCalled = nodeOutput(run, NODES.leadsToCall).map((item) => String(item.json.lead_id));
	const calls = nodeOutput(run, callNode).map((item) => item.json as { id: string });
	const expected = options.expectedTriggerRuns ?? calls.length;
	const all =
		expected > 0
			? await env.n8n.waitForExecutions(endedWorkflowId, earlier.size + expected, timeoutMs)
			: [];
	const fresh = all.filter((execution) => !earlier.has(execution.id));
	const triggerExecutions = await Promise.all(
		fresh.map((execution) => env.n8n.getExecution(execution.id, true)),
	);
	triggerExecutions.sort((a, b) => Number(a.id) - Number(b.id));

	const callsByLead = new Map<string, SimCall>();
	calls.forEach((call, index) => {
		const simCall = env.simulator.calls.get(call.id);
		if (simCall) callsByLead.set(leadsCalled[index], simCall);
	});
	const rows = await env.leads.rows();
	const checks = checkRows(rows, callsByLead);
	return { run, callsByLead, triggerExecutions, rows, checks, counts: countVerdicts(checks) };
}

/** How many items a node put out in an execution (0 when it did not run). */
export function itemsOut(
	execution: Pick<ExecutionSummary, 'data'>,
	node: string,
	output = 0,
): number {
	return execution.data?.resultData?.runData?.[node]?.[0]?.data?.main?.[output]?.length ?? 0;
}

/** The leads table as the demo prints it: long values cut, the transcript as its line count. */
export const LEAD_TABLE_VIEW = {
	columns: [
		'lead_id',
		'name',
		'phone',
		'status',
		'end_reason',
		'summary',
		'transcript',
		'recording_url',
		'truedy_call_id',
	],
	format: {
		transcript: (value: unknown) =>
			typeof value === 'string' && value ? `${value.split('\n').length} lines` : '·',
		recording_url: (value: unknown) =>
			typeof value === 'string' && value ? `…/${value.split('/').pop()!.split('?')[0]}` : '·',
	},
	maxCell: 36,
};
