// POST /calls body validation, in the documented order (after JSON parsing, before credits).
import { ApiError, isPlainObject, validationError } from './http-util';
import type { CallSettings, SimAgent } from './types';

export const E164 = /^\+[1-9]\d{1,14}$/;
const DURATION = /^\d+s$/;

export interface CreateCallInput {
	agent: SimAgent;
	to: string;
	from: string;
	variables: Record<string, string>;
	call_settings: CallSettings;
}

type Check = (body: Record<string, unknown>, agent?: SimAgent) => void;

export function validateCreateCall(
	body: unknown,
	findAgent: (id: string) => SimAgent | undefined,
): CreateCallInput {
	if (!isPlainObject(body))
		throw new ApiError(400, 'bad_request', 'Request body must be a JSON object');
	requireAgentId(body);
	requirePhoneNumber(body);
	const agent = findAgent(body.agent_id as string);
	if (!agent)
		throw new ApiError(404, 'agent_not_found', `No agent exists with id ${body.agent_id}`, {
			agent_id: body.agent_id,
		});
	const checks: Check[] = [
		requireActive,
		requireOutboundNumbers,
		checkFromNumber,
		checkVariables,
		checkCallSettings,
	];
	for (const check of checks) check(body, agent);
	return {
		agent,
		to: body.phone_number as string,
		from: (body.from_number as string | undefined) ?? agent.outbound_phone_numbers[0].phone_number,
		variables: (body.variables as Record<string, string> | undefined) ?? {},
		call_settings: (body.call_settings as CallSettings | undefined) ?? {},
	};
}

function requireAgentId(body: Record<string, unknown>): void {
	if (body.agent_id === undefined || body.agent_id === null || body.agent_id === '')
		throw validationError('agent_id', 'agent_id is required');
	if (typeof body.agent_id !== 'string')
		throw validationError('agent_id', 'agent_id must be a string');
}

function requirePhoneNumber(body: Record<string, unknown>): void {
	const v = body.phone_number;
	if (v === undefined || v === null || v === '') {
		throw new ApiError(
			422,
			'invalid_phone_number',
			'phone_number is required (E.164, e.g. +14155551234)',
			{ field: 'phone_number' },
		);
	}
	if (typeof v !== 'string' || !E164.test(v)) {
		throw new ApiError(
			422,
			'invalid_phone_number',
			'phone_number must be in E.164 format (e.g. +14155551234)',
			{
				field: 'phone_number',
				value: v,
				pattern: E164.source,
			},
		);
	}
}

const requireActive: Check = (_body, agent) => {
	if (agent!.status !== 'active') {
		throw new ApiError(
			422,
			'agent_not_active',
			`Agent is ${agent!.status}; publish it before placing calls`,
			{ agent_id: agent!.id, status: agent!.status },
		);
	}
};

const requireOutboundNumbers: Check = (_body, agent) => {
	if (agent!.outbound_phone_numbers.length === 0) {
		throw new ApiError(
			422,
			'no_phone_number_configured',
			'The agent has no outbound phone number assigned',
			{ agent_id: agent!.id },
		);
	}
};

const checkFromNumber: Check = (body, agent) => {
	if (body.from_number === undefined) return;
	const allowed = agent!.outbound_phone_numbers.map((n) => n.phone_number);
	if (typeof body.from_number !== 'string' || !allowed.includes(body.from_number)) {
		throw validationError(
			'from_number',
			"from_number must be one of the agent's outbound numbers",
			{ value: body.from_number, allowed },
		);
	}
};

const checkVariables: Check = (body) => {
	if (body.variables === undefined) return;
	if (!isPlainObject(body.variables))
		throw validationError('variables', 'variables must be an object of string values');
	for (const [k, v] of Object.entries(body.variables)) {
		if (typeof v !== 'string')
			throw validationError(`variables.${k}`, `variables.${k} must be a string`, {
				type: v === null ? 'null' : typeof v,
			});
	}
};

const SETTING_CHECKS: Record<keyof CallSettings, (v: unknown) => string | undefined> = {
	recording_enabled: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'),
	transcription_enabled: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'),
	greeting: (v) => (typeof v === 'string' ? undefined : 'must be a string'),
	max_duration: (v) =>
		typeof v === 'string' && DURATION.test(v)
			? undefined
			: 'must be a duration string like "1800s"',
	join_timeout: (v) =>
		typeof v === 'string' && DURATION.test(v) ? undefined : 'must be a duration string like "30s"',
};

const checkCallSettings: Check = (body) => {
	const cs = body.call_settings;
	if (cs === undefined) return;
	if (!isPlainObject(cs)) throw validationError('call_settings', 'call_settings must be an object');
	for (const [k, v] of Object.entries(cs)) {
		const check = Object.prototype.hasOwnProperty.call(SETTING_CHECKS, k)
			? SETTING_CHECKS[k as keyof CallSettings]
			: undefined;
		if (!check)
			throw validationError(`call_settings.${k}`, `Unknown call_settings field ${k}`, {
				allowed: Object.keys(SETTING_CHECKS),
			});
		const problem = check(v);
		if (problem)
			throw validationError(`call_settings.${k}`, `call_settings.${k} ${problem}`, { value: v });
	}
};
