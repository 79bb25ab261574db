import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { agentLocator } from '../../shared/descriptions';
import { mapItems } from '../../shared/items';
import { truedyRequest } from '../../transport/request';
import { requiredText } from '../../shared/validation';

export const getAgentDescription: INodeProperties[] = [
	{ ...agentLocator, displayOptions: { show: { resource: ['agent'], operation: ['get'] } } },
];

export async function getAgent(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await mapItems.call(this, async ({ itemIndex }) => {
		const agentId = requiredText(this, itemIndex, 'agent', 'Agent');
		const { data } = await truedyRequest.call(this, {
			method: 'GET',
			path: `/agents/${encodeURIComponent(agentId)}`,
			itemIndex,
		});
		return data as IDataObject;
	});
}
