import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';

/**
 * The fields Simplify keeps, in this order: what a call is, how it ended, and where to find more.
 * n8n's convention for outputs of more than 10 fields; the transcript, variables and settings are
 * left out (Get Call with Simplify off returns them).
 */
export const SIMPLIFIED_CALL_FIELDS = [
	'id',
	'status',
	'end_reason',
	'duration_seconds',
	'summary',
	'recording_url',
	'agent_id',
	'phone_number',
	'from_number',
	'created_at',
] as const;

/** The call with only the simplified fields (and `waitTimedOut` when the node waited). */
export function simplifyCall(call: IDataObject): IDataObject {
	const simplified: IDataObject = {};
	for (const field of SIMPLIFIED_CALL_FIELDS) simplified[field] = call[field] ?? null;
	if (call.waitTimedOut !== undefined) simplified.waitTimedOut = call.waitTimedOut;
	return simplified;
}

/** Simplifies every call item; error items (Continue On Fail) stay as they are. */
export function simplifyItems(items: INodeExecutionData[]): INodeExecutionData[] {
	return items.map((item) =>
		item.json.error !== undefined ? item : { ...item, json: simplifyCall(item.json) },
	);
}

const SIMPLIFY_DESCRIPTION =
	'Whether to return only the main fields of the call (ID, status, end reason, duration, summary, recording URL, agent, numbers, created at) instead of all of them, transcript included';

/**
 * Simplify, on by default when the node is an AI agent's tool (the model gets a short answer) and
 * off otherwise (the node's output stays the whole call).
 */
export function simplifyDescription(show: Record<string, string[]>): INodeProperties[] {
	return [
		{
			displayName: 'Simplify',
			name: 'simplify',
			type: 'boolean',
			default: false,
			description: SIMPLIFY_DESCRIPTION,
			displayOptions: { show: { ...show, '@tool': [false] } },
		},
		{
			displayName: 'Simplify',
			name: 'simplify',
			type: 'boolean',
			default: true,
			description: SIMPLIFY_DESCRIPTION,
			displayOptions: { show: { ...show, '@tool': [true] } },
		},
	];
}
