import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { searchAgents } from './listSearch/searchAgents';
import { searchCalls } from './listSearch/searchCalls';
import { getFromNumbers } from './methods/getFromNumbers';
import { agentDescription } from './resources/agent';
import { getAgent } from './resources/agent/get';
import { getManyAgents } from './resources/agent/getAll';
import { callDescription } from './resources/call';
import { getCall } from './resources/call/get';
import { getManyCalls } from './resources/call/getAll';
import { placeCall } from './resources/call/place';
import { assertSupportedN8n, MAIN_CONNECTION } from './shared/compat';
import { toolDescriptionProperties } from './shared/toolDescriptions';

type Operation = (this: IExecuteFunctions) => Promise<INodeExecutionData[]>;

const operations: Record<string, Record<string, Operation>> = {
	call: { place: placeCall, get: getCall, getAll: getManyCalls },
	agent: { get: getAgent, getAll: getManyAgents },
};

export class Truedy implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Truedy',
		name: 'truedy',
		icon: { light: 'file:truedy.svg', dark: 'file:truedy.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			'Place phone calls with Truedy voice-AI agents, optionally wait for their outcome, and get calls and agents',
		defaults: { name: 'Truedy' },
		usableAsTool: true,
		inputs: [MAIN_CONNECTION],
		outputs: [MAIN_CONNECTION],
		credentials: [{ name: 'truedyApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Agent', value: 'agent' },
					{ name: 'Call', value: 'call' },
				],
				default: 'call',
			},
			...toolDescriptionProperties,
			...callDescription,
			...agentDescription,
		],
	};

	constructor() {
		assertSupportedN8n();
	}

	methods = {
		listSearch: { searchAgents, searchCalls },
		loadOptions: { getFromNumbers },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const resource = this.getNodeParameter('resource', 0) as string;
		const operation = this.getNodeParameter('operation', 0) as string;
		const run = operations[resource]?.[operation];
		if (!run) {
			throw new NodeOperationError(
				this.getNode(),
				`Unsupported operation "${operation}" for "${resource}"`,
			);
		}
		return [await run.call(this)];
	}
}
