import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { fetchCall, normalizeCall } from '../../shared/calls';
import { mapItems } from '../../shared/items';
import { simplifyCall, simplifyDescription } from '../../shared/simplify';
import { requiredText } from '../../shared/validation';

const showFor = { resource: ['call'], operation: ['get'] };

export const getCallDescription: INodeProperties[] = [
	{
		// A resource locator under the old name: a saved workflow's plain string Call ID is read as
		// the ID (getNodeParameter with extractValue returns a non-locator value as it is).
		displayName: 'Call',
		name: 'callId',
		type: 'resourceLocator',
		required: true,
		default: { mode: 'list', value: '' },
		description:
			'The call to get: a recent call from the list, or its ID as Place Call returned it',
		displayOptions: { show: showFor },
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select a call...',
				typeOptions: { searchListMethod: 'searchCalls', searchable: true },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. call_01hx3k9p2qw7v8n4m6j5r0y1tz',
				validation: [
					{
						type: 'regex',
						properties: {
							regex: '^[A-Za-z0-9_-]+$',
							errorMessage: 'A call ID contains only letters, digits, "-" and "_"',
						},
					},
				],
			},
		],
	},
	...simplifyDescription(showFor),
];

export async function getCall(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await mapItems.call(this, async ({ itemIndex }) => {
		const callId = requiredText(this, itemIndex, 'callId', 'Call ID');
		const call = normalizeCall(await fetchCall.call(this, callId, itemIndex));
		const simplify = this.getNodeParameter('simplify', itemIndex, isTool(this)) as boolean;
		return simplify ? simplifyCall(call) : call;
	});
}

function isTool(context: IExecuteFunctions): boolean {
	return context.isToolExecution?.() === true;
}
