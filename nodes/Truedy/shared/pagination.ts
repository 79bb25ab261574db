import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { truedyRequest } from '../transport/request';

export const MAX_PAGE_SIZE = 100;

/**
 * Reads a `limit`/`offset` list until `has_more` is false (from `pagination` or `meta`), or
 * until `maxItems` are collected. Without paging info, a short page ends the list.
 */
export async function fetchList(
	this: IExecuteFunctions,
	path: string,
	qs: IDataObject,
	maxItems: number | undefined,
	itemIndex: number,
): Promise<IDataObject[]> {
	const items: IDataObject[] = [];
	let offset = 0;
	for (;;) {
		const remaining = maxItems === undefined ? MAX_PAGE_SIZE : maxItems - items.length;
		const limit = Math.min(MAX_PAGE_SIZE, remaining);
		if (limit <= 0) return items;
		const { data, pagination } = await truedyRequest.call(this, {
			method: 'GET',
			path,
			qs: { ...qs, limit, offset },
			itemIndex,
		});
		const page = Array.isArray(data) ? (data as IDataObject[]) : [];
		items.push(...page);
		offset += page.length;
		const hasMore = pagination ? pagination.hasMore : page.length === limit;
		if (!hasMore || page.length === 0)
			return maxItems === undefined ? items : items.slice(0, maxItems);
	}
}

/** The item's Limit, or undefined for Return All. */
export function listLimit(context: IExecuteFunctions, itemIndex: number): number | undefined {
	const returnAll = context.getNodeParameter('returnAll', itemIndex, false) as boolean;
	return returnAll ? undefined : (context.getNodeParameter('limit', itemIndex, 50) as number);
}
