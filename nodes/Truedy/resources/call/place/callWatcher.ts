import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { fetchCall } from '../../../shared/calls';
import { isObject } from '../../../shared/values';
import { cancelledError } from '../../../transport/errors';
import { truedyRequest, type TruedyRequest } from '../../../transport/request';

/** What a waiting item asks for: its call as it stands now. */
export interface CallSource {
	fetch(callId: string, itemIndex: number): Promise<IDataObject>;
	/** `GET /calls/{id}` under the run's budget, e.g. while waiting for the transcript. */
	fetchOne(callId: string, itemIndex: number): Promise<IDataObject>;
	/** The item stops following its call (ended, timed out or failed): lists stop looking for it. */
	done(callId: string): void;
}

/** `GET /calls` answers at most 100 calls a page (docs/truedy-api.md). */
const PAGE_SIZE = 100;
/** A list read that started this recently answers for every item that polls now. */
const SHARED_READ_MS = 1000;
/** created_after is the oldest call's created_at minus this (clock and rounding slack). */
const CREATED_AFTER_SLACK_MS = 60_000;

let perCallPollingForTests = false;

/**
 * For the bench only: every waiting item polls its own call (`GET /calls/{id}`), as before the list
 * polling, so one run can compare both ways. Returns a function that restores the default. Not
 * reachable from node parameters, credentials or environment variables.
 */
export function usePerCallPollingForTests(enabled = true): () => void {
	const previous = perCallPollingForTests;
	perCallPollingForTests = enabled;
	return () => {
		perCallPollingForTests = previous;
	};
}

/**
 * Follows every call of a run with as few requests as the API allows: each poll cycle reads
 * `GET /calls` (agent_id, created_after, limit 100, offset paging) once for all items, so requests
 * per cycle grow with N/100, not N. A single call is fetched (`GET /calls/{id}`) only when the list
 * cannot answer for it: it is missing from the list or the list failed; and once it has ended
 * without its transcript, Transcript Wait reads the call itself (`fetchOne`), at the poll interval
 * as before. A list the API refuses (4xx) is not asked again in this run.
 */
export function createCallWatcher(
	context: IExecuteFunctions,
	calls: IDataObject[],
	beforeSend?: TruedyRequest['beforeSend'],
): CallSource {
	const single = (callId: string, itemIndex: number) =>
		fetchCall.call(context, callId, itemIndex, undefined, beforeSend);
	if (perCallPollingForTests) return { fetch: single, fetchOne: single, done: () => {} };

	const following = new Map<string, { agentId?: string; createdAt?: number }>();
	for (const call of calls) {
		if (typeof call.id !== 'string' || call.id === '') continue;
		const createdAt = Date.parse(String(call.created_at ?? ''));
		following.set(call.id, {
			agentId:
				typeof call.agent_id === 'string' && call.agent_id !== '' ? call.agent_id : undefined,
			createdAt: Number.isNaN(createdAt) ? undefined : createdAt,
		});
	}
	let listWorks = true;
	let current:
		| { startedAt: number; read: Promise<Map<string, IDataObject> | undefined> }
		| undefined;

	/** One list read of every call still followed (per agent); undefined when the list failed. */
	const readList = async (): Promise<Map<string, IDataObject> | undefined> => {
		const byAgent = new Map<string | undefined, { ids: Set<string>; oldest?: number }>();
		for (const [id, { agentId, createdAt }] of following) {
			const group = byAgent.get(agentId) ?? { ids: new Set<string>() };
			group.ids.add(id);
			if (createdAt !== undefined) group.oldest = Math.min(group.oldest ?? createdAt, createdAt);
			byAgent.set(agentId, group);
		}
		const found = new Map<string, IDataObject>();
		try {
			for (const [agentId, { ids, oldest }] of byAgent) {
				// Newest first: our calls are on the first pages. A page more than they fill, then the
				// ones still missing are fetched one by one (a server that ignores the filters).
				const maxPages = Math.ceil(ids.size / PAGE_SIZE) + 1;
				let missing = ids.size;
				for (let page = 0; page < maxPages && missing > 0; page++) {
					const qs: IDataObject = { limit: PAGE_SIZE, offset: page * PAGE_SIZE };
					if (agentId !== undefined) qs.agent_id = agentId;
					if (oldest !== undefined) {
						qs.created_after = new Date(oldest - CREATED_AFTER_SLACK_MS).toISOString();
					}
					const { data, pagination } = await truedyRequest.call(context, {
						method: 'GET',
						path: '/calls',
						qs,
						beforeSend,
					});
					const items = Array.isArray(data) ? data : [];
					for (const item of items) {
						if (!isObject(item) || typeof item.id !== 'string' || !ids.has(item.id)) continue;
						if (!found.has(item.id)) missing--;
						found.set(item.id, item);
					}
					if (items.length < PAGE_SIZE || pagination?.hasMore === false) break;
				}
			}
		} catch (error) {
			if (isCancel(context)) throw cancelledError(context, { method: 'GET', path: '/calls' });
			// The API refuses the list (or its filters): ask each call from now on.
			const status = Number((error as { httpCode?: string }).httpCode);
			if (status >= 400 && status < 500 && status !== 429) listWorks = false;
			return undefined;
		}
		return found;
	};

	const latestList = () => {
		if (!current || Date.now() - current.startedAt > SHARED_READ_MS) {
			current = { startedAt: Date.now(), read: readList() };
		}
		return current.read;
	};

	return {
		async fetch(callId, itemIndex) {
			if (!listWorks || !following.has(callId)) return await single(callId, itemIndex);
			const listed = (await latestList())?.get(callId);
			return listed ?? (await single(callId, itemIndex));
		},
		fetchOne: single,
		done(callId) {
			following.delete(callId);
		},
	};
}

function isCancel(context: IExecuteFunctions): boolean {
	return context.getExecutionCancelSignal()?.aborted === true;
}
