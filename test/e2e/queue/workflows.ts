/**
 * Workflows and deliveries for the queue-mode suite. Place Call workflows start from n8n's
 * Webhook node (answered on receipt, so the execution runs on a worker while the request is long
 * answered); the trigger workflow is Truedy Trigger → No Operation (no API credential).
 */
import type { SimCall } from '../../simulator/types';
import { SIM_AGENTS } from '../../simulator/server';
import { buildCallEndedEvent } from '../../simulator/webhooks';

export const API_CREDENTIAL = { id: 'queueTruedyApi01', name: 'Truedy (queue simulator)' };
export const WEBHOOK_CREDENTIAL = { id: 'queueTruedyHook1', name: 'Truedy Webhook (queue)' };
export const SIGNING_SECRET = 'whsec_queue_e2e_not_a_secret_0123456789';
export const PLACE_NODE = 'Call leads';
export const TRIGGER_NODE = 'Truedy Trigger';

/** Leads `offset … offset + n - 1`: leadId `<tag>-<i>` and a unique valid US number each. */
const LEADS_CODE = `const body = $input.first().json.body ?? {};
const n = Number(body.n ?? 1);
const offset = Number(body.offset ?? 0);
const tag = String(body.tag ?? 'lead');
const items = [];
for (let i = offset; i < offset + n; i++) {
  items.push({ json: { leadId: tag + '-' + i, firstName: 'Lead ' + i, phone: '+1415555' + String(i).padStart(4, '0') } });
}
return items;`;

export interface PlaceWorkflow {
	id: string;
	path: string;
	json: Record<string, unknown>;
}

function placeWorkflow(
	id: string,
	path: string,
	webhookId: string,
	options: Record<string, unknown>,
): PlaceWorkflow {
	return {
		id,
		path,
		json: {
			id,
			name: `Queue: ${path}`,
			active: false,
			nodes: [
				{
					id: `${id}-hook`,
					name: 'Webhook',
					type: 'n8n-nodes-base.webhook',
					typeVersion: 2,
					position: [0, 0],
					webhookId,
					parameters: { httpMethod: 'POST', path, responseMode: 'onReceived', options: {} },
				},
				{
					id: `${id}-leads`,
					name: 'Leads',
					type: 'n8n-nodes-base.code',
					typeVersion: 2,
					position: [220, 0],
					parameters: { jsCode: LEADS_CODE },
				},
				{
					id: `${id}-place`,
					name: PLACE_NODE,
					type: 'n8n-nodes-truedy.truedy',
					typeVersion: 1,
					position: [440, 0],
					credentials: { truedyApi: API_CREDENTIAL },
					parameters: {
						resource: 'call',
						operation: 'place',
						agent: { __rl: true, mode: 'id', value: SIM_AGENTS.active },
						phoneNumber: '={{ $json.phone }}',
						variables: {
							variable: [
								{ name: 'first_name', value: '={{ $json.firstName }}' },
								{ name: 'lead_id', value: '={{ $json.leadId }}' },
							],
						},
						// No per-run request budget (0): this suite measures n8n, not a pace.
						options: { requestsPerMinute: 0, ...options },
					},
				},
			],
			connections: {
				Webhook: { main: [[{ node: 'Leads', type: 'main', index: 0 }]] },
				Leads: { main: [[{ node: PLACE_NODE, type: 'main', index: 0 }]] },
			},
			settings: { executionOrder: 'v1' },
			pinData: {},
		},
	};
}

/** Place Call with the default idempotency key (execution, node, run, item, agent, number). */
export const PLACE = placeWorkflow(
	'queuePlaceCall01',
	'queue-place',
	'0b5e6a4c-9d1f-4c1e-8f00-000000000001',
	{},
);
/** Place Call with Idempotency Key = {{ $json.leadId }}, 5 at a time (slow enough to kill a worker mid-run). */
export const PLACE_KEYED = placeWorkflow(
	'queuePlaceKeyed1',
	'queue-place-keyed',
	'0b5e6a4c-9d1f-4c1e-8f00-000000000002',
	{ idempotencyKey: '={{ $json.leadId }}', concurrency: 5 },
);

export const TRIGGER_WORKFLOW_ID = 'queueCallEnded01';
export const TRIGGER_WEBHOOK_ID = '7d0c3b9e-5a51-4f0e-9a43-0e2a1f9c0b01';
/** The trigger's production path (its webhookId, then the node's path). */
export const TRIGGER_PATH = `${TRIGGER_WEBHOOK_ID}/webhook`;

export const TRIGGER_WORKFLOW = {
	id: TRIGGER_WORKFLOW_ID,
	name: 'Queue: Call Ended trigger',
	active: false,
	nodes: [
		{
			id: 'queue-trigger',
			name: TRIGGER_NODE,
			type: 'n8n-nodes-truedy.truedyTrigger',
			typeVersion: 1.1,
			position: [0, 0],
			webhookId: TRIGGER_WEBHOOK_ID,
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
			id: 'queue-noop',
			name: 'Done',
			type: 'n8n-nodes-base.noOp',
			typeVersion: 1,
			position: [220, 0],
			parameters: {},
		},
	],
	connections: { [TRIGGER_NODE]: { main: [[{ node: 'Done', type: 'main', index: 0 }]] } },
	settings: { executionOrder: 'v1' },
	pinData: {},
};

/** The raw body of a passthrough-shape `call.ended` for an ended call, with its own event id. */
export function callEndedBody(index: number, tag: string): { eventId: string; rawBody: string } {
	const ended = new Date(Date.now() - 60_000);
	const started = new Date(ended.getTime() - 42_000);
	const call: SimCall = {
		id: `call_q${tag}${String(index).padStart(20 - tag.length, '0')}`,
		seq: index + 1,
		status: 'ended',
		direction: 'outbound',
		agent_id: SIM_AGENTS.active,
		to: `+1415555${String(index % 10_000).padStart(4, '0')}`,
		from: '+18005550100',
		variables: { lead_id: `lead-${index}` },
		call_settings: {},
		created_at: new Date(started.getTime() - 5_000).toISOString(),
		started_at: started.toISOString(),
		ended_at: ended.toISOString(),
		duration_seconds: 42,
		end_reason: 'hangup',
		summary: `Queue call ${index} went well.`,
		short_summary: 'Went well.',
		transcript: null,
		recording_url: null,
		transcriptReadyAt: null,
		history: [],
	} as SimCall;
	const eventId = `uv_evt_queue_${tag}_${index}`;
	return {
		eventId,
		rawBody: JSON.stringify(buildCallEndedEvent(call, 'ultravox', 'call.ended', { eventId })),
	};
}

/** The event id the trigger emitted in an execution (with data). */
export function eventIdOf(execution: any): string | undefined {
	const id =
		execution?.data?.resultData?.runData?.[TRIGGER_NODE]?.[0]?.data?.main?.[0]?.[0]?.json?.eventId;
	return typeof id === 'string' ? id : undefined;
}
