import type { INodeProperties } from 'n8n-workflow';

/**
 * What an AI agent (or an MCP client) is told each operation does. n8n sends a tool's
 * `toolDescription` to the model, never the fields' descriptions; without this field it would
 * send "<action> in Truedy". Shown only on the tool (`@tool`), one default per operation, and the
 * user can rewrite it.
 */
const TOOL_DESCRIPTIONS: Array<{ resource: string; operation: string; text: string }> = [
	{
		resource: 'call',
		operation: 'place',
		text: "Places one outbound phone call now: a Truedy voice-AI agent dials the phone number and talks with the person, with the variables filled into the agent's prompt. Returns at once with the queued call (id, status, agent_id, phone_number); it does not wait for the call to end, so the result has no outcome yet. This dials a real person and spends credits: call only a number you were asked to call, and only once.",
	},
	{
		resource: 'call',
		operation: 'get',
		text: 'Gets one Truedy call by its ID (the id Place Call returned): its status (queued, ringing, in-progress, ended, failed or cancelled), end reason, duration, summary and recording URL.',
	},
	{
		resource: 'call',
		operation: 'getAll',
		text: 'Lists Truedy calls, optionally filtered by status, direction, agent ID and creation time. Returns one item per call.',
	},
	{
		resource: 'agent',
		operation: 'get',
		text: 'Gets one Truedy voice-AI agent by its ID: name, status and phone numbers.',
	},
	{
		resource: 'agent',
		operation: 'getAll',
		text: 'Lists Truedy voice-AI agents with their ID, name and status. Use it to find the agent ID to place a call with.',
	},
];

export const toolDescriptionProperties: INodeProperties[] = TOOL_DESCRIPTIONS.map(
	({ resource, operation, text }) => ({
		displayName: 'Description',
		name: 'toolDescription',
		type: 'string',
		default: text,
		required: true,
		typeOptions: { rows: 3 },
		description:
			'What the AI agent is told this tool does. The model reads only this, not the descriptions of the fields.',
		displayOptions: { show: { '@tool': [true], resource: [resource], operation: [operation] } },
	}),
);
