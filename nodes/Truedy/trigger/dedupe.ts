import { createHash, randomBytes } from 'crypto';
import type { IDataObject } from 'n8n-workflow';

import { isObject } from '../shared/values';
import { batchIdOf, batchStatusOf, callIdOf, eventIdOf, voiceIdOf } from './delivery';

/**
 * Drops repeated deliveries of one event. Truedy delivers at least once and retries on errors and
 * timeouts (Ultravox for about 8.5 hours), so the same event can arrive several times, even at the
 * same moment, and after n8n has restarted.
 *
 * Key, first match wins (the order of https://docs.truedy.ai/guides/webhook-error-handling-and-retries):
 *   1. the event ID: `data.id`, `data.eventId` (or the envelope's `id`, as an older doc example has it)
 *   2. the call ID (`data.call.callId`, `data.call_id`, `data.callId`)
 *   3. the batch ID (`data.batch_id`, `data.batchId`), with the batch status, because
 *      batch.status.changed fires once per status
 *   4. the voice ID (`data.voice_id`, `data.voiceId`)
 *   5. a SHA-256 hash of the raw body
 * Every key is prefixed with the event name (`call.completed` counted as `call.ended`), so a call's
 * `call.started` and `call.ended` never collide.
 *
 * Storage. Each trigger (workflow + node) has one store per n8n process, shared by all its
 * requests. A key is kept as the first 64 bits of its SHA-256 (11 base64url characters), grouped
 * by the hour it was first seen; an hour is dropped once it is {@link DEDUPE_LIMITS.ttlMs} old,
 * and beyond {@link DEDUPE_LIMITS.maxKeys} keys the oldest go first. Claiming is synchronous,
 * so two identical deliveries arriving together cannot both win.
 *
 * Persistence (n8n 2.41, verified in a real server; see test/e2e/trigger-restart.e2e.test.ts):
 * - n8n loads the workflow's static data from the database for every request and saves it
 *   whole (one UPDATE) after webhook() returns, and only because the node answers the request
 *   itself. Concurrent requests each hold their own copy, so keys written into that copy would
 *   overwrite each other.
 * - So the copy is not written into: its property is set to the store's own {@link PersistedKeys}
 *   object, which n8n serializes when it saves (JSON.stringify calls `toJSON`). Every save writes
 *   every key this process holds at that moment, so later saves are supersets of earlier ones and
 *   concurrent requests in one process cannot lose each other's keys.
 * - What a request loads is merged into the store first: after a restart, the keys the previous
 *   process saved; with several n8n processes (queue mode webhook processes, multi-main), what the
 *   others saved. A snapshot this store wrote itself, or one already merged, is skipped. A snapshot
 *   names the claims of each store it merged (`m`), so a process that loads another's snapshot
 *   lacking its own claims knows its save was overwritten and saves again, also on a repeat.
 * - Backpressure: the node answers as soon as a delivery is new, before n8n has created its
 *   execution. If n8n's database falls behind (on SQLite one write lock, which times out after
 *   60 s), executions of answered deliveries could fail to be created and be lost, and answering
 *   early would let senders pile up more. Each snapshot therefore carries how many deliveries this
 *   store had claimed; the loaded snapshot tells how far the saves have got. While a save has
 *   stayed unseen for more than {@link DEDUPE_LIMITS.maxSaveLagMs}, new deliveries are 'defer':
 *   the node leaves the answer to n8n, which sends it once the execution exists (n8n's own Webhook
 *   node answers like that), and n8n saves nothing for them. Their keys go to the database with
 *   the next save: the node's execute(), which n8n runs as the execution's first step, hands the
 *   store to the execution's static data, and n8n saves that when the execution ends (an answered
 *   delivery or a repeat in between saves them too). Only once a snapshot of the store has come
 *   back from the database: an n8n that never saves defers nothing.
 * Remaining windows: a save only happens for a new key, so a key accepted just before n8n stops
 * (or crashes) is lost if its save had not committed; in queue mode a deferred delivery runs on a
 * worker, which holds no claims, so its key waits for the next delivery's save; the database can
 * commit an earlier snapshot after a later one, leaving it one delivery behind until the next
 * save; and across processes the last save wins until the process it overwrote handles its next
 * request and saves again, so a process stopping in between loses the keys only it held.
 * (Likewise a node further down the workflow that changes static data makes n8n save the copy the
 * execution loaded at its start.) Two processes receiving the same delivery at the same moment
 * can both accept it.
 */

export const DEDUPE_LIMITS = {
	/** Keys per trigger, in memory and in the static data (11 characters each there). */
	maxKeys: 20_000,
	/** Ultravox retries for about 8.5 hours; a day covers that with margin. */
	ttlMs: 24 * 60 * 60 * 1000,
	/** Keys first seen in the same hour are stored and expire together (kept ttl to ttl + 1 h). */
	bucketMs: 60 * 60 * 1000,
	/** Triggers with a store in one process; the least recently used goes beyond this. */
	scopes: 20,
	/**
	 * How long a save may stay unseen (in the static data the next requests load) before n8n's
	 * database counts as behind. Then new deliveries are 'defer': n8n answers them once their
	 * execution exists, as it does for its own Webhook node, instead of the node answering first.
	 * A healthy n8n saves in milliseconds.
	 */
	maxSaveLagMs: 2_000,
	/** A save unseen for this long has failed (n8n's SQLite write lock times out after 60 s). */
	saveGiveUpMs: 60_000,
};

export type DedupeLimits = typeof DEDUPE_LIMITS;

/** Static data property that holds the persisted keys (see {@link PersistedKeysJson}). */
export const PERSISTED_PROPERTY = 'deliveryKeys';
/** Where versions up to 0.1 kept `{ [key]: expiresAtMs }`; read once and removed. */
export const LEGACY_PROPERTY = 'recentDeliveries';

/** Other stores (n8n processes, and earlier runs of them) a snapshot keeps track of in `m`. */
const MAX_WRITERS = 32;

/** Characters per stored key: 8 bytes of SHA-256 in base64url. */
export const STORED_KEY_LENGTH = 11;
/**
 * At most 1,024 keys per saved string: V8's JSON.parse, which n8n runs on the static data for
 * every request, is about 15× slower on one 220 KB string than on twenty 11 KB ones.
 */
const BUCKET_CHARS = 1024 * STORED_KEY_LENGTH;

/**
 * What is saved: `b` holds [hour start in Unix seconds, concatenated stored keys], oldest first;
 * an hour with more than 1,024 keys has several entries.
 */
export interface PersistedKeysJson {
	v: 1;
	/** The store that wrote it (random per process and trigger). */
	s: string;
	/** Keys that store had added in total, so a snapshot can be recognised as already merged. */
	n: number;
	/** Deliveries that store had claimed (not merged) when this was written: how far saves have got. */
	c: number;
	/** Other stores whose snapshots were merged into this one: writer id → that snapshot's `c`. */
	m?: Record<string, number>;
	b: Array<[number, string]>;
}

export function sha256Hex(value: Buffer | string): string {
	return createHash('sha256').update(value).digest('hex');
}

/** The 11-character form a key is stored in. */
export function storedKey(key: string): string {
	return createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');
}

/** Longer keys are shown (in logs) as their hash. */
const MAX_KEY_LENGTH = 160;

function compact(key: string): string {
	return key.length <= MAX_KEY_LENGTH ? key : `sha256:${sha256Hex(key)}`;
}

/** The dedupe key of a delivery. `event` is the normalised event name. */
export function deliveryKey(
	envelope: IDataObject,
	event: string,
	rawBody: Buffer | string,
): string {
	const eventId = eventIdOf(envelope);
	if (eventId !== null) return compact(`${event}|event:${eventId}`);
	const callId = callIdOf(envelope);
	if (callId !== null) return compact(`${event}|call:${callId}`);
	const batchId = batchIdOf(envelope);
	if (batchId !== null)
		return compact(`${event}|batch:${batchId}:${batchStatusOf(envelope) ?? ''}`);
	const voiceId = voiceIdOf(envelope);
	if (voiceId !== null) return compact(`${event}|voice:${voiceId}`);
	return `${event}|body:${sha256Hex(rawBody)}`;
}

interface Bucket {
	/** Start of the hour, ms. Several buckets can share an hour (see BUCKET_CHARS). */
	start: number;
	/** Concatenated stored keys, oldest first. */
	keys: string;
}

/**
 * The object placed in the static data: no enumerable properties of its own (so n8n's change
 * tracking never wraps or walks into it), serialized by n8n through `toJSON` at save time.
 */
export type PersistedKeys = object & { toJSON(): PersistedKeysJson };

/** The keys of one trigger in this n8n instance. */
class KeyStore {
	readonly id = randomBytes(6).toString('base64url');
	readonly persisted: PersistedKeys;
	private readonly index = new Map<string, number>();
	private readonly buckets: Bucket[] = [];
	private added = 0;
	/** Keys claimed by deliveries (not merged from snapshots). */
	private claimed = 0;
	/** The highest `c` among the snapshots of this store seen loaded: saves committed up to there. */
	private committed = 0;
	/** `claimed` when the store was last handed to n8n to save. */
	private queuedUpTo = 0;
	/** [claims it covers, time] of each save handed to n8n and not seen committed, oldest first. */
	private readonly pendingSaves: Array<[number, number]> = [];
	/**
	 * Whether a snapshot of this store has come back from the database: proof that n8n saves the
	 * static data after these requests. Until then nothing is deferred.
	 */
	seenOwnSave = false;
	/** Snapshots merged already: writer id → its `n`. */
	private readonly merged = new Map<string, number>();
	/** Writer id → the claims (`c`) of its last merged snapshot, saved along as `m`. */
	private readonly mergedClaims = new Map<string, number>();

	constructor(private readonly limits: DedupeLimits) {
		const persisted = {};
		Object.defineProperty(persisted, 'toJSON', { value: () => this.snapshot() });
		this.persisted = persisted as PersistedKeys;
	}

	get size(): number {
		return this.index.size;
	}

	has(key: string): boolean {
		return this.index.has(key);
	}

	/** Adds a key first seen at `at` (ms). Returns false if it was there already. */
	add(key: string, at: number): boolean {
		if (this.index.has(key)) return false;
		const start = at - (at % this.limits.bucketMs);
		const bucket = this.bucketAt(start);
		bucket.keys += key;
		this.index.set(key, start);
		this.added++;
		this.trim();
		return true;
	}

	/** Records a key claimed by a delivery (see {@link add}). */
	claim(key: string, at: number): boolean {
		if (!this.add(key, at)) return false;
		this.claimed++;
		return true;
	}

	/** Claims no save handed to n8n covers yet (deferred deliveries). */
	get unqueued(): number {
		return this.claimed - this.queuedUpTo;
	}

	/** Notes that n8n will save the store after the current request. */
	queueSave(at: number): void {
		this.queuedUpTo = this.claimed;
		this.pendingSaves.push([this.claimed, at]);
	}

	/** How long the oldest save not seen committed has waited, ms (0 when none). */
	saveLag(now: number): number {
		while (
			this.pendingSaves.length > 0 &&
			now - this.pendingSaves[0][1] > this.limits.saveGiveUpMs
		) {
			this.pendingSaves.shift(); // failed; the next save writes its keys too
		}
		return this.pendingSaves.length > 0 ? now - this.pendingSaves[0][1] : 0;
	}

	/** Drops hours that are older than the TTL. */
	expire(now: number): void {
		while (this.buckets.length > 0 && this.isExpired(this.buckets[0].start, now)) {
			const bucket = this.buckets.shift() as Bucket;
			this.forget(bucket, bucket.keys.length / STORED_KEY_LENGTH);
		}
	}

	/**
	 * Merges what a request loaded from the database. Returns true when it is another store's
	 * snapshot lacking claims of this one: another process's save overwrote this store's.
	 */
	absorb(stored: unknown, now: number): boolean {
		if (stored === this.persisted || !isObject(stored) || stored.v !== 1) return false;
		const writer = typeof stored.s === 'string' ? stored.s : '';
		const count = typeof stored.n === 'number' ? stored.n : -1;
		if (writer === this.id) {
			this.seenOwnSave = true;
			this.noteCommitted(stored.c);
			return false;
		}
		// Another process saved last: what it merged of this store was committed before.
		const merged = isObject(stored.m) ? stored.m[this.id] : undefined;
		const mine = typeof merged === 'number' ? merged : 0;
		if (mine > 0) this.seenOwnSave = true;
		this.noteCommitted(mine);
		const overwritten = this.claimed > mine;
		if (writer !== '' && typeof stored.c === 'number') this.rememberClaims(writer, stored.c);
		if (writer !== '' && count >= 0 && (this.merged.get(writer) ?? -1) >= count) return overwritten;
		for (const entry of Array.isArray(stored.b) ? stored.b : []) {
			if (!Array.isArray(entry) || typeof entry[0] !== 'number' || typeof entry[1] !== 'string')
				continue;
			const start = entry[0] * 1000;
			if (this.isExpired(start, now)) continue;
			const keys = entry[1];
			for (let at = 0; at + STORED_KEY_LENGTH <= keys.length; at += STORED_KEY_LENGTH) {
				this.add(keys.slice(at, at + STORED_KEY_LENGTH), start);
			}
		}
		if (writer !== '') this.merged.set(writer, count);
		return overwritten;
	}

	/** Merges the `{ [key]: expiresAtMs }` of earlier versions. */
	absorbLegacy(stored: unknown, now: number): void {
		if (!isObject(stored)) return;
		for (const [key, expiresAt] of Object.entries(stored)) {
			if (typeof expiresAt !== 'number' || expiresAt <= now) continue;
			this.add(storedKey(key), Math.max(0, expiresAt - this.limits.ttlMs));
		}
	}

	snapshot(): PersistedKeysJson {
		return {
			v: 1,
			s: this.id,
			n: this.added,
			c: this.claimed,
			m: Object.fromEntries(this.mergedClaims),
			b: this.buckets.map((bucket): [number, string] => [bucket.start / 1000, bucket.keys]),
		};
	}

	/** Saves of this store that covered up to `claims` have committed. */
	private noteCommitted(claims: unknown): void {
		if (typeof claims !== 'number' || claims <= this.committed) return;
		this.committed = claims;
		while (this.pendingSaves.length > 0 && this.pendingSaves[0][0] <= this.committed) {
			this.pendingSaves.shift();
		}
	}

	/** Most recent writers last; a process restart makes a new writer, so old ones go first. */
	private rememberClaims(writer: string, claims: number): void {
		this.mergedClaims.delete(writer);
		this.mergedClaims.set(writer, claims);
		if (this.mergedClaims.size > MAX_WRITERS) {
			this.mergedClaims.delete(this.mergedClaims.keys().next().value as string);
		}
	}

	private isExpired(start: number, now: number): boolean {
		return start + this.limits.bucketMs + this.limits.ttlMs <= now;
	}

	/**
	 * The bucket to append to for an hour: the last one of that hour if it has room, else a new one
	 * in order (merged snapshots can add older hours).
	 */
	private bucketAt(start: number): Bucket {
		let position = this.buckets.length;
		while (position > 0 && this.buckets[position - 1].start > start) position--;
		const before = this.buckets[position - 1];
		if (before?.start === start && before.keys.length < BUCKET_CHARS) return before;
		const bucket = { start, keys: '' };
		this.buckets.splice(position, 0, bucket);
		return bucket;
	}

	/** Beyond maxKeys, drops the oldest keys. */
	private trim(): void {
		while (this.index.size > this.limits.maxKeys && this.buckets.length > 0) {
			const oldest = this.buckets[0];
			const inBucket = oldest.keys.length / STORED_KEY_LENGTH;
			const drop = Math.min(inBucket, this.index.size - this.limits.maxKeys);
			this.forget(oldest, drop);
			if (drop === inBucket) this.buckets.shift();
			else oldest.keys = oldest.keys.slice(drop * STORED_KEY_LENGTH);
		}
	}

	/** Removes the first `count` keys of a bucket from the index. */
	private forget(bucket: Bucket, count: number): void {
		for (let k = 0; k < count; k++) {
			const key = bucket.keys.slice(k * STORED_KEY_LENGTH, (k + 1) * STORED_KEY_LENGTH);
			if (this.index.get(key) === bucket.start) this.index.delete(key);
		}
	}
}

export type ClaimResult = 'answer' | 'defer' | 'duplicate';

/** The store of one trigger: its workflow and node. */
export function dedupeScope(workflowId: string | undefined, nodeId: string): string {
	return `${workflowId ?? ''}:${nodeId}`;
}

export class DeliveryDeduper {
	private readonly scopes = new Map<string, KeyStore>();

	constructor(private readonly limits: DedupeLimits = DEDUPE_LIMITS) {}

	/**
	 * Records `key` and says how to answer: 'duplicate' for a repeat within the TTL; for a new key
	 * 'answer' (the node answers now, and n8n saves the store after this request) or, while a save
	 * has stayed unseen for more than {@link DEDUPE_LIMITS.maxSaveLagMs}, 'defer' (n8n answers once
	 * the execution exists; a later save writes the key). The check and the record happen without
	 * awaiting, so concurrent deliveries are safe.
	 * `staticData` is the node's workflow static data as loaded for this request: the keys saved
	 * there are merged in, and when n8n is to save, its property is set to the store's persisted object.
	 */
	claim(scope: string, key: string, staticData?: IDataObject, now = Date.now()): ClaimResult {
		const store = this.store(scope);
		store.expire(now);
		let overwritten = false;
		if (staticData) {
			overwritten = store.absorb(staticData[PERSISTED_PROPERTY], now);
			if (staticData[LEGACY_PROPERTY] !== undefined) {
				store.absorbLegacy(staticData[LEGACY_PROPERTY], now);
			}
		}
		const stored = storedKey(key);
		if (store.has(stored)) {
			// A repeat is answered by the node, so n8n saves after it: let it carry deferred keys,
			// or this process's keys that another process's save has overwritten.
			if (staticData && (store.unqueued > 0 || overwritten)) this.handToN8n(store, staticData, now);
			return 'duplicate';
		}
		store.claim(stored, now);
		if (!staticData) return 'answer'; // in memory only: nothing for n8n to save
		if (store.seenOwnSave && store.saveLag(now) > this.limits.maxSaveLagMs) return 'defer';
		this.handToN8n(store, staticData, now);
		return 'answer';
	}

	/**
	 * From the execution of a deferred delivery: hands the store to the execution's static data,
	 * which n8n saves when the execution ends. Returns false when every claim of this process is in
	 * a save already (also in a queue-mode worker, which claims nothing).
	 */
	saveDeferred(scope: string, staticData: IDataObject, now = Date.now()): boolean {
		const store = this.scopes.get(scope);
		if (!store || store.unqueued === 0) return false;
		store.absorb(staticData[PERSISTED_PROPERTY], now);
		this.handToN8n(store, staticData, now);
		return true;
	}

	/** How long the oldest save of a scope not seen committed has waited, ms. */
	saveLag(scope: string, now = Date.now()): number {
		return this.scopes.get(scope)?.saveLag(now) ?? 0;
	}

	/** Sets the static data property to the store (which marks it changed, so n8n saves it). */
	private handToN8n(store: KeyStore, staticData: IDataObject, now: number): void {
		if (staticData[LEGACY_PROPERTY] !== undefined) delete staticData[LEGACY_PROPERTY];
		staticData[PERSISTED_PROPERTY] = store.persisted as IDataObject;
		store.queueSave(now);
	}

	/** Number of keys held in memory for a scope (for tests and diagnostics). */
	size(scope: string): number {
		return this.scopes.get(scope)?.size ?? 0;
	}

	scopeCount(): number {
		return this.scopes.size;
	}

	/** Drops all in-memory state, as a restart of n8n would. */
	clear(): void {
		this.scopes.clear();
	}

	private store(scope: string): KeyStore {
		let store = this.scopes.get(scope);
		if (store) {
			// Most recently used scope last.
			this.scopes.delete(scope);
		} else {
			store = new KeyStore(this.limits);
		}
		this.scopes.set(scope, store);
		while (this.scopes.size > this.limits.scopes) {
			const oldest = this.scopes.keys().next().value as string;
			this.scopes.delete(oldest);
		}
		return store;
	}
}

/** One deduper per n8n process, shared by every Truedy Trigger node. */
export const sharedDeduper = new DeliveryDeduper();
