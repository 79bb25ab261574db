/**
 * The workflows the benchmark imports into n8n. Every throughput workflow is
 * Webhook (POST {n}) → "Leads" Code node (makes n contacts) → the node under test, and answers
 * the webhook when the last node has finished, so one HTTP call runs one execution in the server.
 */
import { createHash } from 'crypto';

import { SIM_AGENTS } from '../simulator/server';

export const CREDENTIAL = { id: 'benchTruedyCred01', name: 'Truedy (bench simulator)' };
export const WEBHOOK_CREDENTIAL = { id: 'benchTruedyHook01', name: 'Truedy Webhook (bench)' };
export const LEADS_NODE = 'Leads';
export const TARGET_NODE = 'Target';
export const AGENT_ID = SIM_AGENTS.active;
/** The Code node numbers leads +1415555XXXX (all 10,000 are valid US numbers for libphonenumber). */
export const MAX_ITEMS = 10_000;

export type VariantKind = 'place' | 'http' | 'baseline';

export interface Variant {
	/** Stable key, also the webhook path suffix and part of the workflow id. */
	key: string;
	label: string;
	kind: VariantKind;
	/** Place Call: the Concurrency option; undefined = not set (node default). */
	concurrency?: number;
	/** Place Call: the Calls per Minute option. */
	callsPerMinute?: number;
	/** HTTP Request: n8n's node-level Retry On Fail (default tries and wait). */
	retryOnFail?: boolean;
}

export interface BenchWorkflow {
	id: string;
	name: string;
	webhookPath: string;
	variant: Variant;
	json: Record<string, unknown>;
}

/** Deterministic UUID-shaped id from a seed (stable webhook ids between runs). */
function uuidFrom(seed: string): string {
	const hex = createHash('sha256').update(seed).digest('hex');
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** n8n workflow ids are 16 alphanumerics. */
function workflowId(key: string): string {
	return `bench${createHash('sha256').update(key).digest('hex').slice(0, 11)}`;
}

const LEADS_CODE = `// ${'n'} contacts with unique, valid US numbers (+1 415 555 0000 … 9999).
const n = Math.min(${MAX_ITEMS}, Number($input.first().json.body?.n ?? 1000));
const items = new Array(n);
for (let i = 0; i < n; i++) {
  items[i] = { json: { leadId: 'lead-' + i, firstName: 'Lead ' + i, phone: '+1415555' + String(i).padStart(4, '0') } };
}
return items;`;

function placeCallNode(variant: Variant): Record<string, unknown> {
	const options: Record<string, unknown> = {};
	if (variant.concurrency !== undefined) options.concurrency = variant.concurrency;
	if (variant.callsPerMinute !== undefined) options.callsPerMinute = variant.callsPerMinute;
	return {
		id: uuidFrom(`${variant.key}:target`),
		name: TARGET_NODE,
		type: 'n8n-nodes-truedy.truedy',
		typeVersion: 1,
		position: [440, 0],
		parameters: {
			resource: 'call',
			operation: 'place',
			agent: { __rl: true, mode: 'id', value: AGENT_ID },
			phoneNumber: '={{ $json.phone }}',
			variablesInput: 'keyValue',
			variables: {
				variable: [
					{ name: 'first_name', value: '={{ $json.firstName }}' },
					{ name: 'lead_id', value: '={{ $json.leadId }}' },
				],
			},
			options,
		},
		credentials: { truedyApi: CREDENTIAL },
	};
}

/** The same POST /calls body as Place Call sends, with the same credential. */
function httpRequestNode(variant: Variant, baseUrl: string): Record<string, unknown> {
	return {
		id: uuidFrom(`${variant.key}:target`),
		name: TARGET_NODE,
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		position: [440, 0],
		...(variant.retryOnFail ? { retryOnFail: true } : {}),
		parameters: {
			method: 'POST',
			url: `${baseUrl}/calls`,
			authentication: 'predefinedCredentialType',
			nodeCredentialType: 'truedyApi',
			sendBody: true,
			specifyBody: 'json',
			jsonBody: `={{ JSON.stringify({ agent_id: '${AGENT_ID}', phone_number: $json.phone, variables: { first_name: $json.firstName, lead_id: $json.leadId } }) }}`,
			options: {},
		},
		credentials: { truedyApi: CREDENTIAL },
	};
}

export function throughputWorkflow(variant: Variant, baseUrl: string): BenchWorkflow {
	const id = workflowId(variant.key);
	const webhookPath = `truedy-bench-${variant.key}`;
	const nodes: Array<Record<string, unknown>> = [
		{
			id: uuidFrom(`${variant.key}:webhook`),
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: uuidFrom(`${variant.key}:webhookId`),
			parameters: {
				httpMethod: 'POST',
				path: webhookPath,
				responseMode: 'lastNode',
				responseData: 'noData',
				options: {},
			},
		},
		{
			id: uuidFrom(`${variant.key}:leads`),
			name: LEADS_NODE,
			type: 'n8n-nodes-base.code',
			typeVersion: 2,
			position: [220, 0],
			parameters: { jsCode: LEADS_CODE },
		},
	];
	const connections: Record<string, unknown> = {
		Webhook: { main: [[{ node: LEADS_NODE, type: 'main', index: 0 }]] },
	};
	if (variant.kind !== 'baseline') {
		nodes.push(
			variant.kind === 'place' ? placeCallNode(variant) : httpRequestNode(variant, baseUrl),
		);
		connections[LEADS_NODE] = { main: [[{ node: TARGET_NODE, type: 'main', index: 0 }]] };
	}
	return {
		id,
		name: `Bench: ${variant.label}`,
		webhookPath,
		variant,
		json: {
			id,
			name: `Bench: ${variant.label}`,
			active: false,
			nodes,
			connections,
			settings: { executionOrder: 'v1' },
			pinData: {},
		},
	};
}

export const TRIGGER_WORKFLOW_ID = workflowId('call-ended-trigger');
export const TRIGGER_WEBHOOK_ID = uuidFrom('call-ended-trigger:webhookId');
export const TRIGGER_NODE = 'Truedy Trigger';

export interface TriggerWorkflowOptions {
	/** Distinguishes the workflow (id, webhook id); '' is the default Call Ended trigger. */
	key?: string;
	/** Node version (default 1.1, what the editor adds today). */
	typeVersion?: number;
	/** Static data to import with the workflow (e.g. a dedupe store at its cap). */
	staticData?: Record<string, unknown>;
}

export function triggerWorkflowId(key = ''): string {
	return key === '' ? TRIGGER_WORKFLOW_ID : workflowId(`call-ended-trigger:${key}`);
}

export function triggerWebhookId(key = ''): string {
	return key === '' ? TRIGGER_WEBHOOK_ID : uuidFrom(`call-ended-trigger:${key}:webhookId`);
}

/** Truedy Trigger (Call Ended, signature verified, no API lookups) → No Operation. */
export function triggerWorkflow(options: TriggerWorkflowOptions = {}): Record<string, unknown> {
	const key = options.key ?? '';
	return {
		id: triggerWorkflowId(key),
		name: `Bench: Call Ended trigger${key ? ` (${key})` : ''}`,
		active: false,
		nodes: [
			{
				id: uuidFrom(`call-ended-trigger:${key}:trigger`),
				name: TRIGGER_NODE,
				type: 'n8n-nodes-truedy.truedyTrigger',
				typeVersion: options.typeVersion ?? 1.1,
				position: [0, 0],
				webhookId: triggerWebhookId(key),
				parameters: {
					events: ['call.ended'],
					verifySignature: true,
					resolveCall: false,
					fetchCallDetails: false,
					filters: {},
					options: {},
				},
				credentials: { truedyWebhookApi: WEBHOOK_CREDENTIAL },
			},
			{
				id: uuidFrom(`call-ended-trigger:${key}:noop`),
				name: 'Done',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [220, 0],
				parameters: {},
			},
		],
		connections: { [TRIGGER_NODE]: { main: [[{ node: 'Done', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
		...(options.staticData ? { staticData: options.staticData } : {}),
		pinData: {},
	};
}

export const PLAIN_WEBHOOK_WORKFLOW_ID = workflowId('plain-webhook');
export const PLAIN_WEBHOOK_PATH = 'truedy-bench-plain-webhook';

/** n8n's own Webhook node (answers 204 on receipt) → No Operation: the floor for the trigger figures. */
export function plainWebhookWorkflow(): Record<string, unknown> {
	return {
		id: PLAIN_WEBHOOK_WORKFLOW_ID,
		name: 'Bench: plain Webhook',
		active: false,
		nodes: [
			{
				id: uuidFrom('plain-webhook:webhook'),
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: uuidFrom('plain-webhook:webhookId'),
				parameters: {
					httpMethod: 'POST',
					path: PLAIN_WEBHOOK_PATH,
					responseMode: 'onReceived',
					options: { responseCode: { values: { responseCode: 204 } } },
				},
			},
			{
				id: uuidFrom('plain-webhook:noop'),
				name: 'Done',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [220, 0],
				parameters: {},
			},
		],
		connections: { Webhook: { main: [[{ node: 'Done', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}
