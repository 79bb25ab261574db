import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { jsonParse } from 'n8n-workflow';

import { normalizePhoneNumber } from '../../../shared/phone';
import { fieldError, quote, requiredText } from '../../../shared/validation';
import { isObject } from '../../../shared/values';

/** The `POST /calls` body of one item; throws a field error naming the item for bad input. */
export function buildCallBody(
	this: IExecuteFunctions,
	itemIndex: number,
	options: IDataObject,
): IDataObject {
	const agentId = requiredText(this, itemIndex, 'agent', 'Agent');
	const rawPhone = this.getNodeParameter('phoneNumber', itemIndex) as unknown;
	const phone = normalizePhoneNumber(rawPhone, options.defaultCountry as string | undefined);
	if (!phone.ok) {
		throw fieldError(
			this,
			itemIndex,
			'Phone Number',
			`${quote(rawPhone)} is not valid: ${phone.reason}`,
		);
	}

	const body: IDataObject = { agent_id: agentId, phone_number: phone.e164 };
	const variables = readVariables.call(this, itemIndex);
	if (Object.keys(variables).length > 0) body.variables = variables;

	const fromNumber = String(this.getNodeParameter('fromNumber', itemIndex, '') ?? '').trim();
	if (fromNumber) {
		const from = normalizePhoneNumber(fromNumber, options.defaultCountry as string | undefined);
		if (!from.ok) {
			throw fieldError(
				this,
				itemIndex,
				'From Number',
				`${quote(fromNumber)} is not valid: ${from.reason}`,
			);
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
		if (!isObject(parsed)) {
			throw fieldError(
				this,
				itemIndex,
				'Variables (JSON)',
				'must be a JSON object like {"first_name": "Sarah"}',
			);
		}
		entries = Object.entries(parsed);
	} else {
		const collection = this.getNodeParameter('variables', itemIndex, {}) as {
			variable?: Array<{ name?: unknown; value?: unknown }>;
		};
		entries = (collection.variable ?? []).map(({ name, value }) => {
			// An expression can resolve to an object, which would be sent as "[object Object]".
			if (typeof name === 'object' && name !== null) {
				throw fieldError(
					this,
					itemIndex,
					'Variables',
					`contain a name that is not text: ${quote(name)}`,
				);
			}
			return [String(name ?? '').trim(), value];
		});
	}

	const variables: Record<string, string> = {};
	for (const [name, value] of entries) {
		if (!name) throw fieldError(this, itemIndex, 'Variables', 'contain a variable without a name');
		// n8n drops these keys from request bodies (prototype-pollution guard): say so, never lose them silently.
		if (RESERVED_VARIABLE_NAMES.has(name)) {
			throw fieldError(
				this,
				itemIndex,
				'Variables',
				`contain the name "${name}", which n8n does not send; rename the variable`,
			);
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
		throw fieldError(
			context,
			itemIndex,
			'Variables (JSON)',
			`is not valid JSON (${(error as Error).message})`,
		);
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
	if (settings.recordingEnabled !== undefined)
		result.recording_enabled = Boolean(settings.recordingEnabled);
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
		result.max_duration = durationText(
			this,
			itemIndex,
			'Max Duration (Seconds)',
			settings.maxDuration,
		);
	}
	if (settings.joinTimeout !== undefined) {
		result.join_timeout = durationText(
			this,
			itemIndex,
			'Join Timeout (Seconds)',
			settings.joinTimeout,
		);
	}
	return result;
}

const MAX_DURATION_SECONDS = 86_400;

/** Seconds as the API's duration string, e.g. 1800 → "1800s". */
function durationText(
	context: IExecuteFunctions,
	itemIndex: number,
	field: string,
	value: unknown,
): string {
	const seconds = Number(value);
	if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DURATION_SECONDS) {
		throw fieldError(
			context,
			itemIndex,
			field,
			`must be a whole number of seconds from 1 to ${MAX_DURATION_SECONDS}, got ${quote(value)}`,
		);
	}
	return `${seconds}s`;
}
