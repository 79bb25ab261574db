import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { truedyRequest } from '../transport/request';
import type { TruedyResponse } from '../transport/request';
import type { TruedyAgent } from '../shared/types';

const PAGE_SIZE = 50;

/** Active agents for the Agent picker, filtered by name and paged by offset. */
export async function searchAgents(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const offset = Number(paginationToken) || 0;
	const qs: Record<string, string | number> = { status: 'active', limit: PAGE_SIZE, offset };
	if (filter) qs.name = filter;

	const { data, pagination } = (await truedyRequest.call(this, {
		method: 'GET',
		path: '/agents',
		qs,
	})) as TruedyResponse<TruedyAgent[]>;

	const agents = Array.isArray(data) ? data : [];
	const hasMore = pagination ? pagination.hasMore : agents.length === PAGE_SIZE;
	return {
		results: agents.map((agent) => ({ name: agent.name || agent.id, value: agent.id })),
		paginationToken: hasMore ? String(offset + agents.length) : undefined,
	};
}
