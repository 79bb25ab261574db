import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { assertSupportedN8n, MAIN_CONNECTION } from './shared/compat';
import { isObject } from './shared/values';
import { getAgents } from './methods/getAgents';
import { testSigningSecret } from './trigger/credentialTest';
import { dedupeScope, deliveryKey, sharedDeduper } from './trigger/dedupe';
import { normalizeDelivery } from './trigger/delivery';
import { enrichDelivery, needsEnrichment } from './trigger/enrich';
import { normalizeEventName, TRUEDY_EVENTS } from './trigger/events';
import { type DeliveryFilters, filterMismatch } from './trigger/filter';
import { TRIGGER_PANEL } from './trigger/panel';
import { isResolvable, RESOLVE_LIMITS, resolveDelivery } from './trigger/resolve';
import { checkExists, create, deleteEndpoint } from './trigger/setup';
import { DEFAULT_TOLERANCE_SECONDS } from './trigger/signature';
import { verifyDelivery } from './trigger/verify';

interface TriggerSettings {
	events: string[];
	verify: boolean;
	toleranceSeconds: number;
	acceptSortedKeys: boolean;
	filters: DeliveryFilters;
	resolve: boolean;
	lookupMinutes: number;
	enrich: boolean;
	transcriptWaitSeconds: number;
}

export class TruedyTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Truedy Trigger',
		name: 'truedyTrigger',
		icon: { light: 'file:truedy.svg', dark: 'file:truedy.dark.svg' },
		group: ['trigger'],
		// 1.1 only because n8n 2.41 evaluates an expression per request for any version-1 webhook
		// node (webhook-helpers parseRequestBody: `$parameter["options"]["binaryData"]`); with 1.1 the
		// webhook phase evaluates none. Both versions behave the same otherwise.
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{$parameter["events"].join(", ")}}',
		description: 'Starts the workflow when a Truedy call ends, or on other Truedy events',
		defaults: { name: 'Truedy Trigger' },
		inputs: [],
		outputs: [MAIN_CONNECTION],
		triggerPanel: TRIGGER_PANEL,
		credentials: [
			{
				name: 'truedyWebhookApi',
				required: true,
				testedBy: 'testSigningSecret',
				displayOptions: { show: { verifySignature: [true] } },
			},
			{
				name: 'truedyApi',
				required: false,
				displayOptions: { show: { resolveCall: [true] } },
			},
		],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				// The node answers deliveries itself (webhook() below); n8n answers with this code
				// only a delivery the node defers while n8n's saves are behind. A number, not an
				// expression: n8n would evaluate '={{204}}' on every request (the type says string).
				responseMode: 'onReceived',
				responseCode: 204 as unknown as string,
				path: 'webhook',
			},
		],
		properties: [
			{
				// Plain text: n8n 2.x shows a notice's HTML tags as nothing.
				displayName:
					'Truedy has no API for registering webhooks, so connect it once by hand: publish this workflow, copy the Production URL from Webhook URLs above, add it in Truedy under Settings → Webhooks → Add Endpoint with the events you select below, and put the endpoint\'s Signing Secret in the Truedy Webhook credential. To try it first, add the Test URL as a second endpoint and click "Execute step". Deliveries of events you did not select are answered and ignored.',
				name: 'setupNotice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				default: ['call.ended'],
				description:
					'The Truedy events that start the workflow. Tick the same events on the endpoint in Truedy.',
				options: TRUEDY_EVENTS,
			},
			{
				displayName: 'Verify Signature',
				name: 'verifySignature',
				type: 'boolean',
				default: true,
				description:
					'Whether to accept only deliveries signed with the signing secret in the Truedy Webhook credential',
			},
			{
				displayName:
					'Signature check is off: anyone who learns this URL can start the workflow with made-up calls. Turn it off only to debug, and never for a workflow that acts on the data.',
				name: 'verificationOffNotice',
				type: 'notice',
				default: '',
				displayOptions: { show: { verifySignature: [false] } },
			},
			{
				displayName: 'Resolve Call',
				name: 'resolveCall',
				type: 'boolean',
				default: true,
				description:
					'Whether to look up the Truedy call each call event belongs to, so the output has its Truedy call ID, agent, variables and phone numbers (Truedy webhooks carry Ultravox IDs). Needs a Truedy API credential; the output field "resolution" says whether it worked.',
			},
			{
				displayName: 'Fetch Missing Transcript and Recording',
				name: 'fetchCallDetails',
				type: 'boolean',
				default: false,
				description:
					'Whether to get the call from the Truedy API when a call event lacks the transcript or recording',
				displayOptions: { show: { resolveCall: [true] } },
			},
			{
				displayName: 'Max Wait for Transcript (Seconds)',
				name: 'transcriptWaitSeconds',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 300 },
				default: 30,
				description:
					'Truedy can take a few seconds after a call ends to produce the transcript. The call is fetched again until it appears or this time has passed; the workflow then starts without it.',
				displayOptions: { show: { resolveCall: [true], fetchCallDetails: [true] } },
			},
			{
				displayName: 'Filters',
				name: 'filters',
				type: 'collection',
				placeholder: 'Add Filter',
				default: {},
				description: 'Deliveries that do not match are answered and start nothing',
				options: [
					{
						// A picker next to Agent IDs, not in its place: saved workflows keep their text,
						// and Agent IDs still takes Ultravox agent IDs, which the API does not list.
						displayName: 'Agent Names or IDs',
						name: 'agents',
						type: 'multiOptions',
						typeOptions: { loadOptionsMethod: 'getAgents' },
						default: [],
						description:
							'Only deliveries for these Truedy agents (needs the Truedy API credential, and Resolve Call for Truedy\'s passthrough webhooks). Adds to Agent IDs. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
					},
					{
						displayName: 'Agent IDs',
						name: 'agentIds',
						type: 'string',
						default: '',
						placeholder: 'e.g. 0f8c2a52-5b1e-4c0a-9d3f-2b7e6a1c9d10, agt_123',
						description:
							'Only deliveries for these agents, separated by commas: the Truedy agent ID (as in the Truedy dashboard; matched once the call is resolved, so it needs Resolve Call and a Truedy API credential) or the Ultravox agent ID the webhook carries. Deliveries without a matching agent start nothing; why is logged at info level.',
					},
					{
						displayName: 'End Reasons',
						name: 'endReasons',
						type: 'multiOptions',
						default: [],
						description:
							'Only calls that ended for one of these reasons. Applies to Call Ended, Call Failed and Call Billed.',
						options: [
							{ name: 'Agent Hung Up', value: 'agent_hangup' },
							{ name: 'Connection Error', value: 'connection_error' },
							{ name: 'Contact Hung Up', value: 'hangup' },
							{ name: 'Not Answered', value: 'unjoined' },
							{ name: 'System Error', value: 'system_error' },
							{ name: 'Timed Out', value: 'timeout' },
						],
					},
					{
						displayName: 'Final Statuses',
						name: 'statuses',
						type: 'multiOptions',
						default: [],
						description:
							'Only calls that ended with one of these statuses. Applies to Call Ended, Call Failed and Call Billed.',
						options: [
							{ name: 'Cancelled', value: 'cancelled' },
							{ name: 'Ended', value: 'ended', description: 'Also reported as "completed"' },
							{ name: 'Failed', value: 'failed' },
						],
					},
				],
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Call Lookup Window (Minutes)',
						name: 'callLookupMinutes',
						type: 'number',
						typeOptions: { minValue: 5, maxValue: 1440 },
						// RESOLVE_LIMITS.defaultLookupMinutes: n8n's lint wants the literal here.
						default: 120,
						description:
							'With Resolve Call: how long before the event the call may have been placed. A webhook with only the Ultravox call ID is matched among the Truedy calls created in this window (at most 500 of the most recent).',
					},
					{
						displayName: 'Accept Key-Sorted Signing',
						name: 'acceptSortedKeys',
						type: 'boolean',
						default: false,
						description:
							"Whether to also accept deliveries signed over the body re-written as JSON with sorted keys (as Python writes it with sort_keys=True) instead of over the raw body, as Truedy's early backend signed. Turn on only if rejected deliveries are logged with a message saying so.",
					},
					{
						displayName: 'Timestamp Tolerance (Seconds)',
						name: 'timestampToleranceSeconds',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 86400 },
						default: DEFAULT_TOLERANCE_SECONDS,
						description:
							'Deliveries signed longer ago, or further in the future, than this are rejected as possible replays',
					},
				],
			},
		],
	};

	constructor() {
		assertSupportedN8n();
	}

	methods = {
		credentialTest: { testSigningSecret },
		loadOptions: { getAgents },
	};

	// Truedy has no webhook API: these only record and log the setup (see trigger/setup.ts).
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return await checkExists.call(this);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return await create.call(this);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return await deleteEndpoint.call(this);
			},
		},
	};

	/**
	 * n8n runs this as the execution's first step, with the delivery as its input, and passes the
	 * items on. A delivery deferred while n8n's saves were behind has its dedupe key in memory only:
	 * handing the store to this execution's static data makes n8n save it when the execution ends.
	 */
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		if (this.getMode() !== 'manual') {
			const scope = dedupeScope(this.getWorkflow().id, this.getNode().id);
			sharedDeduper.saveDeferred(scope, this.getWorkflowStaticData('node'));
		}
		return [this.getInputData()];
	}

	/**
	 * One delivery, in this order: verify → parse → select → dedupe → ack → post-ack work → output.
	 * Everything before the ack is synchronous apart from reading the credential, and answers the
	 * request itself (401/400, or 204 for ignored and duplicate deliveries). The accepted delivery is
	 * answered 204 by the node at the ack step, not by n8n after the execution is created: it is
	 * faster, and it is the only response path after which n8n saves the static data holding the
	 * dedupe keys. While n8n's saves are behind, the node defers instead and n8n answers once the
	 * execution exists, so an answered delivery cannot be left without one (see trigger/dedupe.ts).
	 */
	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const settings = readSettings(this);
		const request = this.getRequestObject();
		const rawBody = request.rawBody as Buffer | string | undefined;

		// 1. Verify (the credential is read at most once a minute while deliveries verify: see verify.ts).
		if (settings.verify) {
			const verification = await verifyDelivery.call(this, {
				rawBody,
				headers: request.headers,
				toleranceSeconds: settings.toleranceSeconds,
				acceptSortedKeys: settings.acceptSortedKeys,
			});
			if (!verification.valid) {
				return reject(this, 401, verification.reason, verification.message);
			}
		}

		// 2. Parse.
		const envelope = parseEnvelope(this.getBodyData(), rawBody);
		if (!envelope) {
			return reject(this, 400, 'invalid_body', 'The body is not a JSON object');
		}

		// 3. Select.
		const delivery = normalizeDelivery(envelope);
		if (!settings.events.includes(delivery.event)) {
			return ignore(this, `event "${delivery.event || '(none)'}" is not selected`);
		}
		// The Truedy agent of a passthrough delivery is known only once its call is resolved (step 6).
		const agentPending = settings.resolve && isResolvable(delivery) && delivery.agentId === null;
		const mismatch = filterMismatch(delivery, settings.filters, { agentPending });
		if (mismatch) return ignore(this, mismatch);

		// 4. Dedupe. Test runs ("Execute step") are not deduplicated, so a delivery can be replayed.
		let answerNow = true;
		if (this.getMode() !== 'manual') {
			const scope = dedupeScope(this.getWorkflow().id, this.getNode().id);
			const key = deliveryKey(envelope, delivery.event, rawBody ?? JSON.stringify(envelope));
			const claim = sharedDeduper.claim(scope, key, this.getWorkflowStaticData('node'));
			if (claim === 'duplicate') return ignore(this, `duplicate delivery (${key})`);
			// 'defer': n8n's saves are behind, so n8n answers (204) once the execution exists.
			answerNow = claim === 'answer';
		}

		// 5. Ack. From here on Truedy has its answer and does not retry.
		if (answerNow) this.getResponseObject().status(204).end();

		// 6. Post-ack work (may take seconds; Truedy is already answered): resolve the Truedy call,
		// the agent filter that needed it, enrichment.
		const receivedAt = Date.now();
		const { delivery: resolved, found } = await resolveDelivery.call(this, delivery, {
			enabled: settings.resolve,
			fresh: settings.enrich && needsEnrichment(delivery),
			receivedAt,
			lookupMinutes: settings.lookupMinutes,
		});
		const lateMismatch = agentPending ? filterMismatch(resolved, settings.filters) : undefined;
		if (lateMismatch) {
			logIgnored(this, lateMismatch);
			if (!answerNow) this.getResponseObject().status(204).end();
			return { noWebhookResponse: true };
		}
		let output: IDataObject = resolved;
		if (settings.enrich && needsEnrichment(resolved)) {
			output = await enrichDelivery.call(this, resolved, {
				maxWaitMs: settings.transcriptWaitSeconds * 1000,
				known: found,
				receivedAt,
			});
		}

		// 7. Output.
		const workflowData = [[{ json: output }]];
		return answerNow ? { noWebhookResponse: true, workflowData } : { workflowData };
	}
}

function readSettings(context: IWebhookFunctions): TriggerSettings {
	const options = context.getNodeParameter('options', {}) as {
		timestampToleranceSeconds?: number;
		acceptSortedKeys?: boolean;
		callLookupMinutes?: number;
	};
	const resolve = context.getNodeParameter('resolveCall', true) as boolean;
	const enrich = resolve && (context.getNodeParameter('fetchCallDetails', false) as boolean);
	return {
		events: (context.getNodeParameter('events', []) as string[]).map(normalizeEventName),
		verify: context.getNodeParameter('verifySignature', true) as boolean,
		toleranceSeconds: options.timestampToleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
		acceptSortedKeys: options.acceptSortedKeys === true,
		filters: context.getNodeParameter('filters', {}) as DeliveryFilters,
		resolve,
		lookupMinutes: options.callLookupMinutes ?? RESOLVE_LIMITS.defaultLookupMinutes,
		enrich,
		transcriptWaitSeconds: enrich
			? (context.getNodeParameter('transcriptWaitSeconds', 30) as number)
			: 0,
	};
}

/** The parsed JSON body; n8n parses JSON bodies, the raw bytes are the fallback. */
function parseEnvelope(
	body: unknown,
	rawBody: Buffer | string | undefined,
): IDataObject | undefined {
	if (isObject(body) && Object.keys(body).length > 0) return body;
	if (rawBody === undefined || rawBody.length === 0) return undefined;
	let parsed: unknown;
	try {
		parsed = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
	} catch {
		// Not JSON: the caller answers 400.
		return undefined;
	}
	return isObject(parsed) ? parsed : undefined;
}

/** Answers the request itself and starts nothing. Logs why, never the secret or signatures. */
function reject(
	context: IWebhookFunctions,
	status: 400 | 401,
	reason: string,
	message: string,
): IWebhookResponseData {
	context.logger.warn(`Truedy Trigger rejected a delivery with ${status}: ${message}`, {
		reason,
		node: context.getNode().name,
		workflowId: context.getWorkflow().id,
	});
	context
		.getResponseObject()
		.status(status)
		.json({ error: { code: status === 401 ? 'unauthorized' : 'bad_request', reason, message } });
	return { noWebhookResponse: true };
}

/** Answers 204 itself and starts nothing. Logged at info: a user looking for a missing run finds why. */
function ignore(context: IWebhookFunctions, reason: string): IWebhookResponseData {
	logIgnored(context, reason);
	context.getResponseObject().status(204).end();
	return { noWebhookResponse: true };
}

function logIgnored(context: IWebhookFunctions, reason: string): void {
	context.logger.info(`Truedy Trigger ignored a delivery: ${reason}`, {
		node: context.getNode().name,
		workflowId: context.getWorkflow().id,
	});
}
