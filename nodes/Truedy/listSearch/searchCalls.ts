import type { IDataObject, ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { normalizeCall } from '../shared/calls';
import { truedyRequest } from '../transport/request';
import type { TruedyResponse } from '../transport/request';

const PAGE_SIZE = 50;

/**
 * Recent calls for the Call picker, paged by offset. Truedy's list has no text search, so the
 * filter matches the call ID, the number called or the status within each page.
 */
export async function searchCalls(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const offset = Number(paginationToken) || 0;
	const { data, pagination } = (await truedyRequest.call(this, {
		method: 'GET',
		path: '/calls',
		qs: { limit: PAGE_SIZE, offset },
	})) as TruedyResponse<IDataObject[]>;

	const calls = (Array.isArray(data) ? data : []).map(normalizeCall);
	const needle = (filter ?? '').trim().toLowerCase();
	const results = calls
		.map((call) => ({ name: callLabel(call), value: String(call.id ?? '') }))
		.filter((result) => result.value !== '')
		.filter((result) => !needle || `${result.name} ${result.value}`.toLowerCase().includes(needle));
	const hasMore = pagination ? pagination.hasMore : calls.length === PAGE_SIZE;
	return { results, paginationToken: hasMore ? String(offset + calls.length) : undefined };
}

/** e.g. "+14155550123 · ended · 2026-06-01 14:03" */
function callLabel(call: IDataObject): string {
	const created =
		typeof call.created_at === 'string' ? call.created_at.slice(0, 16).replace('T', ' ') : '';
	return [call.phone_number ?? call.id, call.status, created].filter((part) => part).join(' · ');
}
