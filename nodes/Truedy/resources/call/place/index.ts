import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { normalizeCall } from '../../../shared/calls';
import { AI_TOOL_CONNECTION } from '../../../shared/compat';
import { agentLocator } from '../../../shared/descriptions';
import { mapItems } from '../../../shared/items';
import { simplifyDescription, simplifyItems } from '../../../shared/simplify';
import { sleepWithAbort } from '../../../shared/sleep';
import { createPacer, createRequestBudget } from '../../../transport/pacer';
import { truedyRequest } from '../../../transport/request';
import { buildCallBody } from './body';
import { callIntentOf, nodeRunOf, type CallIntent, type NodeRun } from './idempotencyKey';
import { PlacedCallLedger } from './ledger';
import { otherCallError } from './matchesRequest';
import { readWaitSettings, waitForPlacedCalls, waitOptionsDescription } from './waitForEnd';

const showFor = { resource: ['call'], operation: ['place'] };

/** Calls created at once by default; see docs/benchmarks.md. */
const DEFAULT_CONCURRENCY = 50;
/**
 * No budget by default: a run goes as fast as Truedy lets it (its 429s are always honoured). 60
 * leaves 40 of the documented 100 per minute per organisation to other workflows.
 */
const DEFAULT_REQUESTS_PER_MINUTE = 0;

export const placeCallDescription: INodeProperties[] = [
	{
		displayName:
			'Place Call dials a real person and spends Truedy credits. Every call carries an idempotency key, so retries never dial twice.',
		name: 'placeCallNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: showFor },
	},
	{ ...agentLocator, displayOptions: { show: showFor } },
	{
		displayName: 'Phone Number',
		name: 'phoneNumber',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. +14155551234',
		description:
			'The number to call, in international E.164 format (+ and country code). National formats such as (415) 555-1234 work when Default Country is set under Options. Invalid numbers are never sent.',
		displayOptions: { show: showFor },
	},
	{
		displayName: 'Variables Input',
		name: 'variablesInput',
		type: 'options',
		default: 'keyValue',
		description: "How to give the values for the {{placeholders}} in the agent's prompt",
		options: [
			{ name: 'Key/Value Pairs', value: 'keyValue' },
			{ name: 'JSON Object', value: 'json' },
		],
		displayOptions: { show: showFor },
	},
	{
		displayName: 'Variables',
		name: 'variables',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Variable',
		description:
			"Values for placeholders in the agent's prompt, e.g. first_name fills {{first_name}}. Values are sent as text.",
		displayOptions: { show: { ...showFor, variablesInput: ['keyValue'] } },
		options: [
			{
				displayName: 'Variable',
				name: 'variable',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. first_name',
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						placeholder: 'e.g. Sarah',
					},
				],
			},
		],
	},
	{
		displayName: 'Variables (JSON)',
		name: 'variablesJson',
		type: 'json',
		default: '{}',
		description:
			'A JSON object of placeholder names and values, e.g. {"first_name": "Sarah"}. Values are sent as text.',
		displayOptions: { show: { ...showFor, variablesInput: ['json'] } },
	},
	{
		displayName: 'From Number Name or ID',
		name: 'fromNumber',
		type: 'options',
		default: '',
		description:
			'Caller ID for this call. It must be one of the agent\'s outbound numbers; leave it on Automatic to let Truedy choose. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
		typeOptions: {
			loadOptionsMethod: 'getFromNumbers',
			loadOptionsDependsOn: ['agent.value'],
		},
		displayOptions: { show: showFor },
	},
	{
		displayName: 'Call Settings',
		name: 'callSettings',
		type: 'collection',
		placeholder: 'Add Setting',
		default: {},
		description: "Per-call overrides. Settings you do not add keep the agent's defaults.",
		displayOptions: { show: showFor },
		options: [
			{
				displayName: 'Greeting',
				name: 'greeting',
				type: 'string',
				default: '',
				description: "Replaces the agent's opening line for this call only",
			},
			{
				displayName: 'Join Timeout (Seconds)',
				name: 'joinTimeout',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 30,
				description: 'How long to wait for the person to answer before giving up',
			},
			{
				displayName: 'Max Duration (Seconds)',
				name: 'maxDuration',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 1800,
				description: 'The call is ended after this many seconds',
			},
			{
				displayName: 'Recording Enabled',
				name: 'recordingEnabled',
				type: 'boolean',
				default: true,
				description: 'Whether to record this call',
			},
			{
				displayName: 'Transcription Enabled',
				name: 'transcriptionEnabled',
				type: 'boolean',
				default: true,
				description: 'Whether to transcribe this call',
			},
		],
	},
	...waitOptionsDescription(showFor),
	...simplifyDescription(showFor),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: showFor },
		options: [
			{
				displayName: 'Calls per Minute',
				name: 'callsPerMinute',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description:
					'Start at most this many calls per minute, evenly spaced, to stay under your plan. 0 means no pacing; rate limits Truedy reports are always honoured.',
			},
			{
				displayName: 'Concurrency',
				name: 'concurrency',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 100 },
				default: DEFAULT_CONCURRENCY,
				description:
					'How many calls are being created at once. Output order always follows input order.',
			},
			{
				displayName: 'Default Country',
				name: 'defaultCountry',
				type: 'string',
				default: '',
				placeholder: 'e.g. US',
				description:
					'Two-letter country code used for numbers written without a country code, e.g. US turns (415) 555-1234 into +14155551234',
			},
			{
				displayName: 'Idempotency Key',
				name: 'idempotencyKey',
				type: 'string',
				default: '',
				description:
					'Truedy creates at most one call per key. Leave empty for a key per execution, node run, item, agent and number: retries never dial twice, and a loop back to this node dials again. Set it to a stable per-lead value (e.g. the CRM lead ID, as an expression) to call a lead at most once across executions.',
			},
			{
				displayName: 'Requests per Minute',
				name: 'requestsPerMinute',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_REQUESTS_PER_MINUTE,
				description:
					"Most requests this node sends to Truedy in any minute, creating calls and checking on them together (Wait for Call to End reads one list for many calls). E.g. 60 leaves 40 of Truedy's 100 per minute per organisation to other workflows and the trigger. 0 (the default) means no budget; rate limits Truedy reports are always honoured.",
			},
		],
	},
];

export async function placeCall(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	// Every item is checked before anyone is dialled: without Continue On Fail, a bad row must
	// not leave the rows before it called (a fixed re-run gets new keys and would call them again).
	const nodeRun = nodeRunOf.call(this);
	const prepared = await prepareCalls.call(this, nodeRun);
	const firstInvalid = prepared.find((item) => 'error' in item);
	if (firstInvalid && 'error' in firstInvalid && !this.continueOnFail()) throw firstInvalid.error;

	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	const concurrency = Math.max(
		1,
		Math.floor(Number(options.concurrency ?? DEFAULT_CONCURRENCY)) || 1,
	);
	const waitForSlot = createPacer(
		Number(options.callsPerMinute ?? 0),
		this.getExecutionCancelSignal(),
	);
	const budget = createRequestBudget(
		Number(options.requestsPerMinute ?? DEFAULT_REQUESTS_PER_MINUTE),
	);
	const beforeSend = (signal: AbortSignal | undefined, afterRateLimit: boolean) =>
		budget.take(signal, afterRateLimit);

	// n8n discards the output of a cancelled or failed run: the ledger logs what was created.
	const ledger = new PlacedCallLedger(this);
	const stopWatching = ledger.reportOnCancel(this.getExecutionCancelSignal());
	let succeeded = false;
	try {
		const placed = await mapItems.call(
			this,
			async ({ itemIndex }) => {
				const item = prepared[itemIndex];
				if ('error' in item) throw item.error;
				const { body, idempotencyKey, custom, intent } = item;
				await waitForSlot();
				// Later tries of this node run (Retry On Fail) send this same body under the same key.
				if (!nodeRun.sent.has(intent)) nodeRun.sent.set(intent, body);
				ledger.sending(itemIndex, idempotencyKey, custom);
				const { data } = await truedyRequest
					.call(this, {
						method: 'POST',
						path: '/calls',
						body,
						idempotencyKey,
						itemIndex,
						beforeSend,
					})
					.catch((error: unknown) => {
						ledger.failed(itemIndex, error);
						throw error;
					});
				const call = normalizeCall(data as IDataObject);
				const otherCall = otherCallError(this, call, body, idempotencyKey, itemIndex);
				if (otherCall) {
					ledger.failed(itemIndex, otherCall);
					throw otherCall;
				}
				ledger.placed(itemIndex, call.id);
				return call;
			},
			concurrency,
		);

		const waitForEnd = this.getNodeParameter('waitForEnd', 0, false) as boolean;
		const result =
			!waitForEnd || runsAsAiTool(this)
				? placed
				: await waitForPlacedCalls.call(this, placed, readWaitSettings(this), beforeSend);
		succeeded = true;
		// Simplify is on by default for a tool (the Simplify field's default on the Tool node).
		const simplify = this.getNodeParameter('simplify', 0, runsAsAiTool(this)) as boolean;
		return simplify ? simplifyItems(result) : result;
	} catch (error) {
		throw ledger.explainFailure(error);
	} finally {
		stopWatching();
		if (!succeeded) ledger.report('failed');
	}
}

type PreparedCall = ({ body: IDataObject } & CallIntent) | { error: Error };

/** Items checked between yields to the event loop, so that a cancel lands while thousands are checked. */
const ITEMS_PER_YIELD = 100;

async function prepareCalls(this: IExecuteFunctions, nodeRun: NodeRun): Promise<PreparedCall[]> {
	const cancelSignal = this.getExecutionCancelSignal();
	const count = this.getInputData().length;
	const prepared: PreparedCall[] = [];
	for (let itemIndex = 0; itemIndex < count; itemIndex++) {
		if (itemIndex > 0 && itemIndex % ITEMS_PER_YIELD === 0) await sleepWithAbort(0, cancelSignal);
		try {
			const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
			const body = buildCallBody.call(this, itemIndex, options);
			const intent = callIntentOf(nodeRun, itemIndex, body, options);
			// A retry re-sends what the first try sent, even if an expression (e.g. {{ $now }}) now
			// gives another value: Truedy then replays the call instead of refusing a changed body.
			prepared.push({ ...intent, body: nodeRun.sent.get(intent.intent) ?? body });
		} catch (error) {
			prepared.push({ error: error as Error });
		}
	}
	return prepared;
}

/** As an AI agent's tool: a supply-data run, or an engine request that routes the output to `ai_tool`. */
function runsAsAiTool(context: IExecuteFunctions): boolean {
	return (
		context.isToolExecution?.() === true ||
		context.getNode().rewireOutputLogTo === AI_TOOL_CONNECTION
	);
}
