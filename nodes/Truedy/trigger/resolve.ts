import { createHash } from 'crypto';
import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import { fetchCall, normalizeCall } from '../shared/calls';
import { TRUEDY_API_CREDENTIAL } from '../shared/credentials';
import { firstText, isObject } from '../shared/values';
import { normalizeBaseUrl, truedyRequest } from '../transport/request';
import type { RetryPolicy } from '../transport/retry';
import type { CallResolution, TruedyDelivery } from './delivery';
import { TtlLru } from './lru';

/**
 * Ties a call event to the Truedy call it belongs to, so that the output carries the Truedy call
 * ID, the agent, the variables the call was placed with and the phone numbers.
 *
 * - A Truedy call ID (the flat payload) is fetched directly: `GET /calls/{id}`.
 * - An Ultravox call ID (the documented passthrough payload) is looked up among the recent calls:
 *   `GET /calls?limit=100&created_after=<event time − lookup window>`, at most
 *   {@link RESOLVE_LIMITS.maxPages} pages, matching `ultravox_call_id` (or `id`) exactly. Truedy
 *   documents no mapping; its early backend exposes `ultravox_call_id` on calls, and the lookup
 *   says plainly when the API does not.
 *
 * Cost stays bounded in a burst: every page seen fills a per-process cache (Ultravox and Truedy
 * call ID → call, per account, bounded and expiring), and deliveries that arrive while a lookup is
 * paging wait for that lookup instead of sending their own (single flight). A Truedy ID arriving
 * while other lookups of the account are in flight joins that shared page too, rather than
 * adding a GET. A page of calls without `ultravox_call_id` is remembered for a while, so later
 * deliveries send nothing. A listed call without `variables` is completed with `GET /calls/{id}`.
 * Every request goes through truedyRequest (429-aware). Nothing is ever attached on a guess: a
 * call is attached only when one of its IDs equals the one the webhook carried.
 */

export const RESOLVE_LIMITS = {
	pageSize: 100,
	maxPages: 5,
	defaultLookupMinutes: 120,
	/** Calls remembered per process, over every account (each call under two keys at most). */
	cacheEntries: 5000,
	cacheTtlMs: 2 * 60 * 60 * 1000,
	accounts: 100,
	/** After a page of calls without `ultravox_call_id`, no lookup is sent for this long. */
	noUltravoxIdsTtlMs: 10 * 60 * 1000,
};

/** One wait for Truedy's rate window (reset_at is at most a minute ahead), then give up. */
const LOOKUP_RETRY: Partial<RetryPolicy> = { maxAttempts: 4, maxTotalWaitMs: 65_000 };

export interface ResolvedCall {
	/** The call as the API returned it (a list item or `GET /calls/{id}`). */
	call: IDataObject;
	via: 'get' | 'list' | 'cache';
	/** Epoch ms of the answer it came from. */
	fetchedAt: number;
}

export interface ResolveOptions {
	/** The node's Resolve Call setting. */
	enabled: boolean;
	/**
	 * The call will be fetched for its transcript anyway: a Truedy ID is fetched at once (that answer
	 * serves both) rather than taken from the cache or a shared page.
	 */
	fresh?: boolean;
	/** Epoch ms the delivery was received: lookups started earlier may predate the call. */
	receivedAt: number;
	lookupMinutes: number;
}

export interface ResolveResult {
	delivery: TruedyDelivery;
	/** The call it was resolved to, for enrichment to reuse. */
	found: ResolvedCall | null;
}

type Method = 'truedy_id' | 'ultravox_call_id';

type Outcome =
	| { kind: 'found'; method: Method; found: ResolvedCall }
	| { kind: 'missing'; reason: string; final: boolean };

interface Account {
	key: string;
	noUltravoxIdsUntil: number;
	scan: Scan | undefined;
	/** `GET /calls/{id}` requests in flight. */
	gets: number;
}

const NOT_EXPOSED =
	"Truedy's call objects carry no ultravox_call_id, so the Ultravox call ID in the webhook cannot be matched to a Truedy call";

const calls = new TtlLru<IDataObject>(RESOLVE_LIMITS.cacheEntries, RESOLVE_LIMITS.cacheTtlMs);
const accounts = new TtlLru<Account>(RESOLVE_LIMITS.accounts, RESOLVE_LIMITS.cacheTtlMs);

/** Forgets every remembered call and lookup state (for tests; a restart does the same). */
export function clearResolveCache(): void {
	calls.clear();
	accounts.clear();
}

/** Whether the delivery is a call event with a call ID to resolve. */
export function isResolvable(delivery: TruedyDelivery): boolean {
	return delivery.event.startsWith('call.') && delivery.callId !== null;
}

export async function resolveDelivery(
	this: IWebhookFunctions,
	delivery: TruedyDelivery,
	options: ResolveOptions,
): Promise<ResolveResult> {
	const unresolved = (reason: string, warn: boolean): ResolveResult => {
		if (warn) {
			this.logger.warn(
				`Truedy Trigger could not tie a ${delivery.event} delivery to its Truedy call: ${reason}`,
				{
					callId: delivery.callId,
					ultravoxCallId: delivery.ultravoxCallId,
					node: this.getNode().name,
					workflowId: this.getWorkflow().id,
				},
			);
		}
		return { delivery: { ...delivery, resolution: notResolved(reason) }, found: null };
	};

	if (!delivery.event.startsWith('call.')) {
		return unresolved('The event is not about a call', false);
	}
	if (!options.enabled) return unresolved('Resolve Call is off', false);
	if (delivery.callId === null) return unresolved('The delivery carries no call ID', true);
	if (!this.getNode().credentials?.[TRUEDY_API_CREDENTIAL]) {
		return unresolved(
			'No Truedy API credential is selected on the trigger. Select one, or turn off Resolve Call.',
			true,
		);
	}

	let account: Account;
	try {
		account = await accountOf(this);
	} catch (error) {
		return unresolved(`The Truedy API credential could not be read: ${messageOf(error)}`, true);
	}

	const now = Date.now();
	const eventTime = Date.parse(delivery.occurredAt ?? '');
	const createdAfter =
		Math.min(Number.isNaN(eventTime) ? now : eventTime, now) - options.lookupMinutes * 60_000;
	const lookup = {
		receivedAt: options.receivedAt,
		createdAfter: Math.floor(createdAfter / 1000) * 1000,
	};

	const truedyId = delivery.callId !== delivery.ultravoxCallId ? delivery.callId : null;
	const outcome = truedyId
		? await byTruedyId(this, account, truedyId, lookup, options.fresh === true)
		: await byListing(this, account, delivery.callId, lookup);
	if (outcome.kind === 'missing') return unresolved(outcome.reason, true);

	let call = outcome.found;
	const truedyCallId = firstText(call.call.id);
	if (call.via !== 'get' && !isObject(call.call.variables) && truedyCallId !== null) {
		// The listed call lacks what the output needs: the call itself has it. If that fails, the
		// listed call (whose ID matched) is still the right one.
		const full = await getCall(this, account, truedyCallId);
		if (full.kind === 'found') call = full.found;
	}
	const conflict = agentConflict(delivery, call.call);
	if (conflict) return unresolved(conflict, true);
	return { delivery: attach(delivery, call.call, outcome.method), found: call };
}

function notResolved(reason: string): CallResolution {
	return { resolved: false, method: null, reason };
}

/** The delivery with the Truedy call's IDs, agent, variables and numbers. */
function attach(delivery: TruedyDelivery, call: IDataObject, method: Method): TruedyDelivery {
	const normalized = normalizeCall(call);
	return {
		...delivery,
		callId: firstText(normalized.id) ?? delivery.callId,
		ultravoxCallId: delivery.ultravoxCallId ?? firstText(normalized.ultravox_call_id),
		agentId: firstText(normalized.agent_id) ?? delivery.agentId,
		ultravoxAgentId: delivery.ultravoxAgentId ?? firstText(normalized.ultravox_agent_id),
		variables: isObject(normalized.variables) ? normalized.variables : delivery.variables,
		phoneNumber: firstText(normalized.phone_number) ?? delivery.phoneNumber,
		fromNumber: firstText(normalized.from_number) ?? delivery.fromNumber,
		resolution: { resolved: true, method, reason: null },
	};
}

/** A call whose agent contradicts the webhook's is not this delivery's call. */
function agentConflict(delivery: TruedyDelivery, call: IDataObject): string | undefined {
	const pairs: Array<[string | null, string | null]> = [
		[delivery.agentId, firstText(call.agent_id)],
		[delivery.ultravoxAgentId, firstText(call.ultravox_agent_id)],
	];
	for (const [fromWebhook, fromCall] of pairs) {
		if (fromWebhook !== null && fromCall !== null && fromWebhook !== fromCall) {
			return `The Truedy call found (${String(call.id)}) belongs to agent ${fromCall}, not ${fromWebhook}; it was not attached`;
		}
	}
	return undefined;
}

interface Lookup {
	receivedAt: number;
	/** Epoch ms: calls created before this are not searched. */
	createdAfter: number;
}

async function byTruedyId(
	context: IWebhookFunctions,
	account: Account,
	id: string,
	lookup: Lookup,
	fresh: boolean,
): Promise<Outcome> {
	const cached = fresh ? undefined : calls.get(cacheKey(account, id));
	if (cached) return found('truedy_id', cached, 'cache', 0);
	if (!fresh && (account.scan || account.gets > 0)) {
		// Other lookups are in flight (a burst): share a page of recent calls instead of adding a GET.
		const listed = await joinScan(context, account, id, lookup.createdAfter, true).outcome;
		if (listed.kind === 'found' && isObject(listed.found.call.variables)) return listed;
	}
	const fetched = await getCall(context, account, id);
	if (fetched.kind === 'found' || !fetched.reason.startsWith(NOT_FOUND)) return fetched;
	// Not a Truedy call ID after all: it may be an Ultravox one.
	const listed = await byListing(context, account, id, lookup);
	if (listed.kind === 'found') return listed;
	return { kind: 'missing', reason: `${fetched.reason}. ${listed.reason}`, final: true };
}

const NOT_FOUND = 'Truedy has no call with ID';

/** `GET /calls/{id}`, remembered. */
async function getCall(context: IWebhookFunctions, account: Account, id: string): Promise<Outcome> {
	let call: IDataObject;
	account.gets++;
	try {
		const data = await fetchCall.call(context, id, undefined, LOOKUP_RETRY);
		call = isObject(data) ? data : {};
	} catch (error) {
		const reason =
			httpCodeOf(error) === '404'
				? `${NOT_FOUND} ${id}`
				: `The Truedy API failed while getting the call: ${messageOf(error)}`;
		return { kind: 'missing', reason, final: true };
	} finally {
		account.gets--;
	}
	if (firstText(call.id) !== id) {
		return {
			kind: 'missing',
			reason: `Truedy answered GET /calls/${id} with another call`,
			final: true,
		};
	}
	const fetchedAt = Date.now();
	remember(account, call, fetchedAt);
	return found('truedy_id', call, 'get', fetchedAt);
}

function found(
	method: Method,
	call: IDataObject,
	via: ResolvedCall['via'],
	fetchedAt: number,
): Outcome {
	return { kind: 'found', method, found: { call, via, fetchedAt } };
}

/**
 * Finds the call by an ID on the recent-calls list. At most two lookups per delivery: when the one
 * it joined started before the delivery arrived (and so may predate the call) and missed it, one
 * more that starts later.
 */
async function byListing(
	context: IWebhookFunctions,
	account: Account,
	id: string,
	lookup: Lookup,
): Promise<Outcome> {
	let outcome: Outcome = { kind: 'missing', reason: NOT_EXPOSED, final: true };
	for (let round = 0; round < 2; round++) {
		const cached = calls.get(cacheKey(account, id));
		if (cached) return found(methodOf(cached, id), cached, 'cache', 0);
		if (account.noUltravoxIdsUntil > Date.now())
			return { kind: 'missing', reason: NOT_EXPOSED, final: true };

		const { scan, outcome: waiting } = joinScan(context, account, id, lookup.createdAfter, false);
		outcome = await waiting;
		const covered = scan.startedAt >= lookup.receivedAt && scan.createdAfter <= lookup.createdAfter;
		if (outcome.kind === 'found' || outcome.final || covered) return outcome;
	}
	return outcome;
}

/** Waits for `id` (a Truedy call ID, or either kind) on the lookup in flight, or on a new one. */
function joinScan(
	context: IWebhookFunctions,
	account: Account,
	id: string,
	createdAfter: number,
	truedyId: boolean,
): { scan: Scan; outcome: Promise<Outcome> } {
	const joined = account.scan;
	const scan = joined ?? new Scan(account, createdAfter);
	const outcome = scan.wait(id, truedyId);
	if (!joined) {
		account.scan = scan;
		void scan.run(context);
	}
	return { scan, outcome };
}

/** Why a lookup stopped paging with deliveries still waiting. */
type Stop = 'not_exposed' | 'exhausted' | 'page_limit' | { error: string };

/** One paging through the recent calls, shared by every delivery that waits for it. */
class Scan {
	readonly startedAt = Date.now();

	private readonly waiters = new Map<string, Array<(outcome: Outcome) => void>>();

	/** IDs that are Truedy call IDs: a page without `ultravox_call_id` does not end their search. */
	private readonly truedyIds = new Set<string>();

	private pages = 0;

	constructor(
		private readonly account: Account,
		readonly createdAfter: number,
	) {}

	wait(id: string, truedyId: boolean): Promise<Outcome> {
		if (truedyId) this.truedyIds.add(id);
		return new Promise((resolve) => {
			const list = this.waiters.get(id) ?? [];
			list.push(resolve);
			this.waiters.set(id, list);
		});
	}

	async run(context: IWebhookFunctions): Promise<void> {
		const createdAfter = new Date(this.createdAfter).toISOString();
		let stop: Stop | undefined;
		try {
			while (!stop && this.waiters.size > 0) {
				const { data, pagination } = await truedyRequest.call(context, {
					method: 'GET',
					path: '/calls',
					qs: {
						limit: RESOLVE_LIMITS.pageSize,
						offset: this.pages * RESOLVE_LIMITS.pageSize,
						created_after: createdAfter,
					},
					retry: LOOKUP_RETRY,
				});
				this.pages++;
				stop = this.takePage(Array.isArray(data) ? data.filter(isObject) : [], pagination?.hasMore);
			}
		} catch (error) {
			stop = { error: messageOf(error) };
		}
		// No await from here on: a delivery arriving now starts a new lookup instead of joining this one.
		if (this.account.scan === this) this.account.scan = undefined;
		for (const [id, resolvers] of this.waiters) {
			const outcome = this.missing(id, stop ?? 'page_limit');
			for (const resolve of resolvers) resolve(outcome);
		}
		this.waiters.clear();
	}

	/** Records a page and settles the deliveries it answers; says why paging stops, if it does. */
	private takePage(items: IDataObject[], hasMore: boolean | undefined): Stop | undefined {
		const fetchedAt = Date.now();
		for (const call of items) {
			remember(this.account, call, fetchedAt);
			for (const id of idsOf(call)) {
				const resolvers = this.waiters.get(id);
				if (!resolvers) continue;
				this.waiters.delete(id);
				const outcome = found(methodOf(call, id), call, 'list', fetchedAt);
				for (const resolve of resolvers) resolve(outcome);
			}
		}
		if (this.pages === 1 && items.length > 0 && !items.some((call) => 'ultravox_call_id' in call)) {
			this.account.noUltravoxIdsUntil = fetchedAt + RESOLVE_LIMITS.noUltravoxIdsTtlMs;
			for (const [id, resolvers] of this.waiters) {
				if (this.truedyIds.has(id)) continue;
				this.waiters.delete(id);
				for (const resolve of resolvers) resolve(this.missing(id, 'not_exposed'));
			}
			if (this.waiters.size === 0) return 'not_exposed';
		}
		if (items.length === 0 || !(hasMore ?? items.length >= RESOLVE_LIMITS.pageSize))
			return 'exhausted';
		return this.pages >= RESOLVE_LIMITS.maxPages ? 'page_limit' : undefined;
	}

	private missing(id: string, stop: Stop): Outcome {
		const since = new Date(this.createdAfter).toISOString();
		if (stop === 'not_exposed') return { kind: 'missing', reason: NOT_EXPOSED, final: true };
		if (stop === 'exhausted') {
			return {
				kind: 'missing',
				reason: `No Truedy call created since ${since} has the call ID ${id}`,
				final: false,
			};
		}
		if (stop === 'page_limit') {
			return {
				kind: 'missing',
				reason: `None of the ${this.pages * RESOLVE_LIMITS.pageSize} most recent Truedy calls created since ${since} has the call ID ${id}; the search stops there to spare the rate limit`,
				final: false,
			};
		}
		return {
			kind: 'missing',
			reason: `The Truedy API failed while listing recent calls: ${stop.error}`,
			final: true,
		};
	}
}

function idsOf(call: IDataObject): string[] {
	return [firstText(call.id), firstText(call.ultravox_call_id)].filter(
		(id): id is string => id !== null,
	);
}

function methodOf(call: IDataObject, id: string): Method {
	return firstText(call.id) === id ? 'truedy_id' : 'ultravox_call_id';
}

/** Keeps the call under its Truedy and Ultravox IDs, without the transcript (it can be large). */
function remember(account: Account, call: IDataObject, now: number): void {
	const slim: IDataObject = { ...call };
	delete slim.transcript;
	for (const id of idsOf(call)) calls.set(cacheKey(account, id), slim, now);
}

function cacheKey(account: Account, id: string): string {
	return `${account.key}|${id}`;
}

/** The Truedy account of the trigger's credential: base URL and key, hashed (the key is never kept). */
export async function accountKeyOf(context: IWebhookFunctions): Promise<string> {
	const { apiKey, baseUrl } = await context.getCredentials<{ apiKey?: string; baseUrl?: string }>(
		TRUEDY_API_CREDENTIAL,
	);
	return createHash('sha256')
		.update(`${normalizeBaseUrl(baseUrl)}\n${String(apiKey ?? '')}`)
		.digest('hex')
		.slice(0, 32);
}

/** Lookup state per Truedy account. */
async function accountOf(context: IWebhookFunctions): Promise<Account> {
	const key = await accountKeyOf(context);
	let account = accounts.get(key);
	if (!account) {
		account = { key, noUltravoxIdsUntil: 0, scan: undefined, gets: 0 };
		accounts.set(key, account);
	}
	return account;
}

function httpCodeOf(error: unknown): string | undefined {
	const code = (error as { httpCode?: unknown } | undefined)?.httpCode;
	return code === undefined || code === null ? undefined : String(code);
}

function messageOf(error: unknown): string {
	return (error as { message?: string } | undefined)?.message || 'Unknown error';
}
