/* eslint-disable */
/**
 * The example CRM-to-call flow in a real n8n server: the place-calls workflow dials each contact
 * through the simulator, the simulator ends each call and delivers a signed `call.ended` to the
 * published trigger workflow, which posts the outcome to the simulator's CRM endpoint.
 * Used by the README demo (prints a table) and by the end-to-end tests (assert).
 */
import { randomBytes } from 'crypto';
import fs from 'fs';
import path from 'path';

import { startSimulator } from '../simulator/server';
import type { StartOptions, TruedySimulator } from '../simulator/server';
import { ensureN8nInstalled, N8nServer, nodeOutput, packAndInstallPackage } from './n8n-server';
import type { ExecutionSummary, N8nInstall, WorkflowRun } from './n8n-server';

export const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
/** The host the example workflows and credentials name for the simulator. */
const EXAMPLE_SIMULATOR_URL = 'http://127.0.0.1:4010';

export const PLACE_CALLS_WORKFLOW = 'place-calls-for-contacts.workflow.json';
export const CALL_ENDED_WORKFLOW = 'call-ended-to-crm.workflow.json';

export function readExample(file: string, simulatorUrl?: string): any {
	let text = fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
	if (simulatorUrl) text = text.split(EXAMPLE_SIMULATOR_URL).join(simulatorUrl);
	return JSON.parse(text);
}

export function triggerWebhookPath(workflow: any): string {
	const trigger = workflow.nodes.find((node: any) => node.type === 'n8n-nodes-truedy.truedyTrigger');
	if (!trigger?.webhookId) throw new Error('the example has no Truedy Trigger with a webhookId');
	return `${trigger.webhookId}/webhook`;
}

export interface FlowEnvironment {
	install: N8nInstall;
	n8n: N8nServer;
	simulator: TruedySimulator;
	signingSecret: string;
	triggerUrl: string;
	placeWorkflowId: string;
	endedWorkflowId: string;
	dispose(): Promise<void>;
}

/**
 * Installs n8n (cached), the packed package, the example credentials and workflows, publishes
 * the trigger workflow and starts the server with the simulator delivering to it.
 */
export async function startFlowEnvironment(
	options: { port?: number; simulator?: StartOptions; log?: (line: string) => void } = {},
): Promise<FlowEnvironment> {
	const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
	const install = await ensureN8nInstalled(log);
	const n8n = await N8nServer.create({ install, port: options.port, log });
	const signingSecret = `whsec_${randomBytes(24).toString('hex')}`;
	const endedWorkflow = readExample(CALL_ENDED_WORKFLOW);
	const triggerUrl = n8n.webhookUrl(triggerWebhookPath(endedWorkflow));
	const prepared = await startWithSimulator(
		n8n,
		install,
		{
			callTimings: { queuedMs: 200, ringingMs: 400, inProgressMs: 1500 },
			...options.simulator,
			webhook: { url: triggerUrl, secret: signingSecret, ...options.simulator?.webhook },
		},
		signingSecret,
		async (simulator) => {
			const placeWorkflow = readExample(PLACE_CALLS_WORKFLOW, simulator.url);
			const ended = readExample(CALL_ENDED_WORKFLOW, simulator.url);
			await n8n.importWorkflow([placeWorkflow, ended]);
			await n8n.publishWorkflow(ended.id);
			return { placeWorkflowId: placeWorkflow.id as string, endedWorkflowId: ended.id as string };
		},
	);
	return { install, n8n, signingSecret, triggerUrl, ...prepared };
}

/**
 * Starts the simulator, installs the packed package, imports the simulator credential (from the
 * examples) and a webhook credential with `signingSecret`, lets `importWorkflows` add the
 * workflows, then starts n8n. Cleans up the server and the simulator if any step fails.
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
		await n8n.importCredentials([
			...readExample('credentials.simulator.json', simulator.url),
			{ id: 'truedyWebhookCred', name: 'Truedy Webhook (simulator)', type: 'truedyWebhookApi', data: { signingSecret } },
		]);
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

export interface ContactOutcome {
	leadId: string;
	firstName: string;
	phone: string;
	callId: string;
	finalStatus?: string;
	crmRecords: number;
	triggerExecution?: string;
}

export interface FlowResult {
	placeRun: WorkflowRun;
	outcomes: ContactOutcome[];
	triggerExecutions: ExecutionSummary[];
}

/** Runs the place-calls workflow with the CLI and waits until every call's end reached the CRM. */
export async function runCrmToCallFlow(env: FlowEnvironment, timeoutMs = 60_000): Promise<FlowResult> {
	const earlier = new Set((await env.n8n.listExecutions(env.endedWorkflowId)).map((execution) => execution.id));
	const crmBefore = env.simulator.crmRecords.length;
	const placeRun = await env.n8n.executeWorkflow(env.placeWorkflowId);
	if (placeRun.status !== 'success') {
		throw new Error(`place-calls run ended ${placeRun.status}: ${JSON.stringify(placeRun.data?.resultData?.error)}`);
	}
	const contacts = nodeOutput(placeRun, 'New CRM contacts').map((item) => item.json as any);
	const calls = nodeOutput(placeRun, 'Call contact').map((item) => item.json as any);

	await env.simulator.waitFor(() => env.simulator.crmRecords.length >= crmBefore + calls.length, timeoutMs);
	const all = await env.n8n.waitForExecutions(env.endedWorkflowId, earlier.size + calls.length, timeoutMs);
	const triggerExecutions = all.filter((execution) => !earlier.has(execution.id));
	const executionByCall = new Map<string, string>();
	for (const execution of triggerExecutions) {
		const full = await env.n8n.getExecution(execution.id, true);
		const callId = (full as any).data?.resultData?.runData?.['Truedy Trigger']?.[0]?.data?.main?.[0]?.[0]?.json?.callId;
		if (callId) executionByCall.set(callId, `${execution.id} (${execution.status})`);
	}

	const outcomes = calls.map((call, index) => {
		const records = env.simulator.crmRecords.filter((record) => record.callId === call.id);
		return {
			leadId: contacts[index]?.leadId,
			firstName: contacts[index]?.firstName,
			phone: call.phone_number,
			callId: call.id,
			finalStatus: records[0]?.status as string | undefined,
			crmRecords: records.length,
			triggerExecution: executionByCall.get(call.id),
		};
	});
	return { placeRun, outcomes, triggerExecutions };
}

export function formatOutcomeTable(outcomes: ContactOutcome[]): string {
	const header = ['contact', 'phone (E.164)', 'call id', 'final status', 'trigger execution'];
	const rows = outcomes.map((o) => [
		`${o.firstName} (${o.leadId})`,
		o.phone,
		o.callId,
		o.finalStatus ?? '(none)',
		o.triggerExecution ?? '(none)',
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
	return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
