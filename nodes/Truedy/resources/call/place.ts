import { createHash } from 'crypto';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { jsonParse, NodeConnectionTypes } from 'n8n-workflow';

import { agentLocator } from '../../shared/descriptions';
import { normalizeCall } from '../../shared/calls';
import { mapItems } from '../../shared/items';
import { PlacedCallLedger } from '../../shared/ledger';
import { createPacer } from '../../transport/pacer';
import { normalizePhoneNumber } from '../../shared/phone';
import { sleepWithAbort } from '../../shared/sleep';
import { truedyRequest } from '../../transport/request';
import { fieldError, quote, requiredText } from '../../shared/validation';
import { readWaitSettings, waitForPlacedCalls, waitOptionsDescription } from '../../shared/waitForCall';

const showFor = { resource: ['call'], operation: ['place'] };

/** Calls created at once by default; see docs/benchmarks.md. */
const DEFAULT_CONCURRENCY = 50;

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
					'Truedy creates at most one call per key. Leave empty to derive a key from the execution, node and item, so retries of the same item never dial twice. Set it (e.g. to a CRM lead ID) to make that guarantee span executions.',
			},
		],
	},
];

export async function placeCall(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	// Every item is checked before anyone is dialled: without Continue On Fail, a bad row must
	// not leave the rows before it called (a fixed re-run gets new keys and would call them again).
	const prepared = await prepareCalls.call(this);
	const firstInvalid = prepared.find((item) => 'error' in item);
	if (firstInvalid && 'error' in firstInvalid && !this.continueOnFail()) throw firstInvalid.error;

	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	const concurrency = Math.max(1, Math.floor(Number(options.concurrency ?? DEFAULT_CONCURRENCY)) || 1);
	const waitForSlot = createPacer(Number(options.callsPerMinute ?? 0), this.getExecutionCancelSignal());

	// n8n discards the output of a cancelled or failed run: the ledger logs what was created.
	const ledger = new PlacedCallLedger(this);
	const stopWatching = ledger.reportOnCancel(this.getExecutionCancelSignal());
	let succeeded = false;
	try {
		const placed = await mapItems.call(this, async ({ itemIndex }) => {
			const item = prepared[itemIndex];
			if ('error' in item) throw item.error;
			const { body, idempotencyKey } = item;
			await waitForSlot();
			ledger.sending(itemIndex, idempotencyKey);
			const { data } = await truedyRequest
				.call(this, { method: 'POST', path: '/calls', body, idempotencyKey, itemIndex })
				.catch((error: unknown) => {
					ledger.failed(itemIndex, error);
					throw error;
				});
			const call = normalizeCall(data as IDataObject);
			ledger.placed(itemIndex, call.id);
			return call;
		}, concurrency);

		const waitForEnd = this.getNodeParameter('waitForEnd', 0, false) as boolean;
		const result =
			!waitForEnd || runsAsAiTool(this)
				? placed
				: await waitForPlacedCalls.call(this, placed, readWaitSettings(this));
		succeeded = true;
		return result;
	} finally {
		stopWatching();
		if (!succeeded) ledger.report('failed');
	}
}

type PreparedCall = { body: IDataObject; idempotencyKey: string } | { error: Error };

/** Items checked between yields to the event loop, so that a cancel lands while thousands are checked. */
const ITEMS_PER_YIELD = 100;

async function prepareCalls(this: IExecuteFunctions): Promise<PreparedCall[]> {
	const cancelSignal = this.getExecutionCancelSignal();
	const count = this.getInputData().length;
	const prepared: PreparedCall[] = [];
	for (let itemIndex = 0; itemIndex < count; itemIndex++) {
		if (itemIndex > 0 && itemIndex % ITEMS_PER_YIELD === 0) await sleepWithAbort(0, cancelSignal);
		try {
			const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
			const body = buildCallBody.call(this, itemIndex, options);
			prepared.push({ body, idempotencyKey: idempotencyKeyFor.call(this, itemIndex, body, options) });
		} catch (error) {
			prepared.push({ error: error as Error });
		}
	}
	return prepared;
}

/** As an AI agent's tool: a supply-data run, or an engine request that routes the output to `ai_tool`. */
function runsAsAiTool(context: IExecuteFunctions): boolean {
	return context.isToolExecution?.() === true || context.getNode().rewireOutputLogTo === NodeConnectionTypes.AiTool;
}

function buildCallBody(this: IExecuteFunctions, itemIndex: number, options: IDataObject): IDataObject {
	const agentId = requiredText(this, itemIndex, 'agent', 'Agent');
	const rawPhone = this.getNodeParameter('phoneNumber', itemIndex) as unknown;
	const phone = normalizePhoneNumber(rawPhone, options.defaultCountry as string | undefined);
	if (!phone.ok) {
		throw fieldError(this, itemIndex, 'Phone Number', `${quote(rawPhone)} is not valid: ${phone.reason}`);
	}

	const body: IDataObject = { agent_id: agentId, phone_number: phone.e164 };
	const variables = readVariables.call(this, itemIndex);
	if (Object.keys(variables).length > 0) body.variables = variables;

	const fromNumber = String(this.getNodeParameter('fromNumber', itemIndex, '') ?? '').trim();
	if (fromNumber) {
		const from = normalizePhoneNumber(fromNumber, options.defaultCountry as string | undefined);
		if (!from.ok) {
			throw fieldError(this, itemIndex, 'From Number', `${quote(fromNumber)} is not valid: ${from.reason}`);
		}
		body.from_number = from.e164;
	}

	const callSettings = readCallSettings.call(this, itemIndex);
	if (Object.keys(callSettings).length > 0) body.call_settings = callSettings;
	return body;
}

function readVariables(this: IExecuteFunctions, itemIndex: number): Record<string, string> {
	const mode = this.getNodeParameter('variablesInput', itemIndex, 'keyValue') as string;
	let entries: Array<[string, unknown]>;
	if (mode === 'json') {
		const raw = this.getNodeParameter('variablesJson', itemIndex, '{}') as unknown;
		const parsed = typeof raw === 'string' ? parseJsonObject(this, itemIndex, raw) : raw;
		if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
			throw fieldError(this, itemIndex, 'Variables (JSON)', 'must be a JSON object like {"first_name": "Sarah"}');
		}
		entries = Object.entries(parsed);
	} else {
		const collection = this.getNodeParameter('variables', itemIndex, {}) as {
			variable?: Array<{ name?: unknown; value?: unknown }>;
		};
		entries = (collection.variable ?? []).map(({ name, value }) => {
			// An expression can resolve to an object, which would be sent as "[object Object]".
			if (typeof name === 'object' && name !== null) {
				throw fieldError(this, itemIndex, 'Variables', `contain a name that is not text: ${quote(name)}`);
			}
			return [String(name ?? '').trim(), value];
		});
	}

	const variables: Record<string, string> = {};
	for (const [name, value] of entries) {
		if (!name) throw fieldError(this, itemIndex, 'Variables', 'contain a variable without a name');
		// n8n drops these keys from request bodies (prototype-pollution guard): say so, never lose them silently.
		if (RESERVED_VARIABLE_NAMES.has(name)) {
			throw fieldError(this, itemIndex, 'Variables', `contain the name "${name}", which n8n does not send; rename the variable`);
		}
		variables[name] = variableText(value);
	}
	return variables;
}

const RESERVED_VARIABLE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function parseJsonObject(context: IExecuteFunctions, itemIndex: number, text: string): unknown {
	if (text.trim() === '') return {};
	try {
		return jsonParse(text);
	} catch (error) {
		throw fieldError(context, itemIndex, 'Variables (JSON)', `is not valid JSON (${(error as Error).message})`);
	}
}

function variableText(value: unknown): string {
	if (value === null || value === undefined) return '';
	if (typeof value === 'object') return JSON.stringify(value);
	return String(value);
}

function readCallSettings(this: IExecuteFunctions, itemIndex: number): IDataObject {
	const settings = this.getNodeParameter('callSettings', itemIndex, {}) as IDataObject;
	const result: IDataObject = {};
	if (settings.recordingEnabled !== undefined) result.recording_enabled = Boolean(settings.recordingEnabled);
	if (settings.transcriptionEnabled !== undefined) {
		result.transcription_enabled = Boolean(settings.transcriptionEnabled);
	}
	const greeting = settings.greeting;
	if (typeof greeting === 'object' && greeting !== null) {
		throw fieldError(this, itemIndex, 'Greeting', `must be text, got ${quote(greeting)}`);
	}
	if (greeting !== undefined && greeting !== null && String(greeting).trim() !== '') {
		result.greeting = String(greeting);
	}
	if (settings.maxDuration !== undefined) {
		result.max_duration = durationText(this, itemIndex, 'Max Duration (Seconds)', settings.maxDuration);
	}
	if (settings.joinTimeout !== undefined) {
		result.join_timeout = durationText(this, itemIndex, 'Join Timeout (Seconds)', settings.joinTimeout);
	}
	return result;
}

const MAX_DURATION_SECONDS = 86_400;

/** Seconds as the API's duration string, e.g. 1800 → "1800s". */
function durationText(context: IExecuteFunctions, itemIndex: number, field: string, value: unknown): string {
	const seconds = Number(value);
	if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DURATION_SECONDS) {
		throw fieldError(context, itemIndex, field, `must be a whole number of seconds from 1 to ${MAX_DURATION_SECONDS}, got ${quote(value)}`);
	}
	return `${seconds}s`;
}

/** The user's key, or one derived from execution, node, item and request, stable across retries. */
function idempotencyKeyFor(
	this: IExecuteFunctions,
	itemIndex: number,
	body: IDataObject,
	options: IDataObject,
): string {
	const custom = String(options.idempotencyKey ?? '').trim();
	if (custom) return custom;
	const bodyHash = createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 16);
	return ['n8n', this.getExecutionId() ?? 'manual', this.getNode().id, itemIndex, bodyHash].join(':');
}

function canonicalJson(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
	if (value && typeof value === 'object') {
		const entries = Object.keys(value)
			.sort()
			.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as IDataObject)[key])}`);
		return `{${entries.join(',')}}`;
	}
	return JSON.stringify(value);
}
