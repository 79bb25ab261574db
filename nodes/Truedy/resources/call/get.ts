import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { fetchCall, normalizeCall } from '../../shared/calls';
import { mapItems } from '../../shared/items';
import { requiredText } from '../../shared/validation';

const showFor = { resource: ['call'], operation: ['get'] };

export const getCallDescription: INodeProperties[] = [
	{
		displayName: 'Call ID',
		name: 'callId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. call_01hx3k9p2qw7v8n4m6j5r0y1tz',
		description: 'The ID of the call, as Place Call returned it',
		displayOptions: { show: showFor },
	},
];

export async function getCall(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await mapItems.call(this, async ({ itemIndex }) => {
		const callId = requiredText(this, itemIndex, 'callId', 'Call ID');
		return normalizeCall(await fetchCall.call(this, callId, itemIndex));
	});
}
