import type { INodeProperties } from 'n8n-workflow';

import { getCallDescription } from './get';
import { getManyCallsDescription } from './getAll';
import { placeCallDescription } from './place';

export const callDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['call'] } },
		options: [
			{
				name: 'Get',
				value: 'get',
				action: 'Get a call',
				description: 'Get a call with its status, summary, transcript and recording',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get many calls',
				description: 'List calls, filtered by status, direction, agent and time',
			},
			{
				name: 'Place Call',
				value: 'place',
				action: 'Place a call',
				description: 'Have an agent call a phone number now',
			},
		],
		default: 'place',
	},
	...placeCallDescription,
	...getCallDescription,
	...getManyCallsDescription,
];
