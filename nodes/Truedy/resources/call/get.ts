import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	IWebhookFunctions,
} from 'n8n-workflow';

import { normalizeCall } from '../../shared/call';
import { mapItems } from '../../shared/items';
import { truedyRequest } from '../../transport/request';
import type { RetryPolicy } from '../../transport/retry';
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

export async function fetchCall(
	this: IExecuteFunctions | IWebhookFunctions,
	callId: string,
	itemIndex?: number,
	retry?: Partial<RetryPolicy>,
): Promise<IDataObject> {
	const { data } = await truedyRequest.call(this, {
		method: 'GET',
		path: `/calls/${encodeURIComponent(callId)}`,
		itemIndex,
		retry,
	});
	return data as IDataObject;
}
