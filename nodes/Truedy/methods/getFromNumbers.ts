import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { truedyRequest } from '../transport/request';
import type { TruedyAgent } from '../shared/types';

/** The chosen agent's outbound numbers, for the From Number dropdown. */
export async function getFromNumbers(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const automatic = { name: 'Automatic (Agent Default)', value: '' };
	const agentId = this.getCurrentNodeParameter('agent', { extractValue: true }) as string;
	if (!agentId) return [automatic];

	const { data: agent } = await truedyRequest.call(this, {
		method: 'GET',
		path: `/agents/${encodeURIComponent(agentId)}`,
	});
	const numbers = ((agent as unknown as TruedyAgent).outbound_phone_numbers ?? []).map((entry) => ({
		name: entry.phone_number,
		value: entry.phone_number,
	}));
	return [automatic, ...numbers];
}
