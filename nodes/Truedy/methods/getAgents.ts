import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { truedyRequest } from '../transport/request';
import type { TruedyResponse } from '../transport/request';
import type { TruedyAgent } from '../shared/types';

const PAGE_SIZE = 100;
/** The picker lists at most this many agents; more can be given by ID or expression. */
const MAX_PAGES = 5;

/** Every agent (any status: calls of a paused agent still end), for the trigger's Agents filter. */
export async function getAgents(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const options: INodePropertyOptions[] = [];
	for (let page = 0; page < MAX_PAGES; page++) {
		const { data, pagination } = (await truedyRequest.call(this, {
			method: 'GET',
			path: '/agents',
			qs: { limit: PAGE_SIZE, offset: page * PAGE_SIZE },
		})) as TruedyResponse<TruedyAgent[]>;
		const agents = Array.isArray(data) ? data : [];
		for (const agent of agents) {
			const status = agent.status && agent.status !== 'active' ? ` (${agent.status})` : '';
			options.push({
				name: `${agent.name || agent.id}${status}`,
				value: agent.id,
				description: agent.id,
			});
		}
		const hasMore = pagination ? pagination.hasMore : agents.length === PAGE_SIZE;
		if (!hasMore) break;
	}
	return options.sort((a, b) => a.name.localeCompare(b.name));
}
