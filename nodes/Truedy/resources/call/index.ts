import type { INodeProperties } from 'n8n-workflow';

import { placeCallDescription } from './place';

export const callOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['call'] } },
	options: [
		{
			name: 'Place Call',
			value: 'place',
			action: 'Place a call',
			description: 'Have an agent call a phone number now',
		},
	],
	default: 'place',
};

export const callDescription: INodeProperties[] = [callOperations, ...placeCallDescription];
