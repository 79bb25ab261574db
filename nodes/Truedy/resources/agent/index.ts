import type { INodeProperties } from 'n8n-workflow';

import { getAgentDescription } from './get';
import { getManyAgentsDescription } from './getAll';

export const agentDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['agent'] } },
		options: [
			{ name: 'Get', value: 'get', action: 'Get an agent', description: 'Get one agent by ID' },
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get many agents',
				description: 'List agents, filtered by status and name',
			},
		],
		default: 'getAll',
	},
	...getAgentDescription,
	...getManyAgentsDescription,
];
