import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { returnAllAndLimit } from '../../shared/descriptions';
import { mapItems } from '../../shared/items';
import { fetchList, listLimit } from '../../shared/pagination';

const showFor = { resource: ['agent'], operation: ['getAll'] };

export const getManyAgentsDescription: INodeProperties[] = [
	...returnAllAndLimit(showFor),
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		displayOptions: { show: showFor },
		options: [
			{
				displayName: 'Name Contains',
				name: 'name',
				type: 'string',
				default: '',
				description: 'Only agents whose name contains this text (not case-sensitive)',
			},
			{
				displayName: 'Status',
				name: 'status',
				type: 'options',
				default: 'active',
				options: [
					{ name: 'Active', value: 'active' },
					{ name: 'Creating', value: 'creating' },
					{ name: 'Draft', value: 'draft' },
					{ name: 'Failed', value: 'failed' },
				],
			},
		],
	},
];

export async function getManyAgents(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await mapItems.call(this, async ({ itemIndex }) => {
		const limit = listLimit(this, itemIndex);
		const filters = this.getNodeParameter('filters', itemIndex, {}) as IDataObject;
		const qs: IDataObject = {};
		if (filters.status) qs.status = filters.status;
		if (filters.name) qs.name = String(filters.name);
		return await fetchList.call(this, '/agents', qs, limit, itemIndex);
	});
}
