import type { INodePropertyOptions } from 'n8n-workflow';

export const CALL_ENDED = 'call.ended';

/** Events a user can subscribe to, as Truedy names them: the trigger's Events options. */
export const TRUEDY_EVENTS: INodePropertyOptions[] = [
	{ name: 'Batch Completed', value: 'batch.completed' },
	{ name: 'Batch Status Changed', value: 'batch.status.changed' },
	{ name: 'Call Billed', value: 'call.billed' },
	{
		name: 'Call Ended',
		value: CALL_ENDED,
		description: 'A call finished, answered or not. Also fires for call.completed.',
	},
	{ name: 'Call Failed', value: 'call.failed' },
	{ name: 'Call Joined', value: 'call.joined', description: 'The callee picked up' },
	{ name: 'Call Started', value: 'call.started' },
	{ name: 'Voice Training Completed', value: 'voice.training.completed' },
	{ name: 'Voice Training Failed', value: 'voice.training.failed' },
];

/** Events that report how a call ended: the status and end-reason filters apply to these. */
export const CALL_OUTCOME_EVENTS: readonly string[] = ['call.ended', 'call.failed', 'call.billed'];

/** `call.completed` is an alias of `call.ended` (Truedy normalises it the same way). */
export function normalizeEventName(event: unknown): string {
	if (typeof event !== 'string') return '';
	const name = event.trim().toLowerCase();
	return name === 'call.completed' ? CALL_ENDED : name;
}
