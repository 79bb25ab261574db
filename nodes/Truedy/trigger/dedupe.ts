import { createHash } from 'crypto';
import type { IDataObject } from 'n8n-workflow';

import { isObject } from '../shared/values';
import { batchIdOf, batchStatusOf, callIdOf, eventIdOf, voiceIdOf } from './delivery';

/**
 * Drops repeated deliveries of one event. Truedy delivers at least once and retries on errors and
 * timeouts, so the same event can arrive several times, even at the same moment.
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
 * State is bounded twice:
 * - in memory, per workflow and node: an LRU of at most {@link DEDUPE_LIMITS.memoryKeys} keys, each
 *   kept {@link DEDUPE_LIMITS.ttlMs}; at most {@link DEDUPE_LIMITS.scopes} workflow/node scopes.
 *   Claiming a key is synchronous, so two identical deliveries arriving together cannot both win.
 * - in the workflow's static data (saved by n8n with the workflow, survives restarts): at most
 *   {@link DEDUPE_LIMITS.persistedKeys} keys with the same TTL, oldest dropped first.
 */

export const DEDUPE_LIMITS = {
	memoryKeys: 2000,
	persistedKeys: 200,
	/** Ultravox retries for about 8.5 hours; a day covers that with margin. */
	ttlMs: 24 * 60 * 60 * 1000,
	scopes: 200,
	/** Longer keys are stored as their hash. */
	maxKeyLength: 160,
};

/** Static data property that holds the persisted keys: `{ [key]: expiresAtMs }`. */
export const PERSISTED_PROPERTY = 'recentDeliveries';

export function sha256Hex(value: Buffer | string): string {
	return createHash('sha256').update(value).digest('hex');
}

function compact(key: string): string {
	return key.length <= DEDUPE_LIMITS.maxKeyLength ? key : `sha256:${sha256Hex(key)}`;
}

/** The dedupe key of a delivery. `event` is the normalised event name. */
export function deliveryKey(envelope: IDataObject, event: string, rawBody: Buffer | string): string {
	const eventId = eventIdOf(envelope);
	if (eventId !== null) return compact(`${event}|event:${eventId}`);
	const callId = callIdOf(envelope);
	if (callId !== null) return compact(`${event}|call:${callId}`);
	const batchId = batchIdOf(envelope);
	if (batchId !== null) return compact(`${event}|batch:${batchId}:${batchStatusOf(envelope) ?? ''}`);
	const voiceId = voiceIdOf(envelope);
	if (voiceId !== null) return compact(`${event}|voice:${voiceId}`);
	return `${event}|body:${sha256Hex(rawBody)}`;
}

/** An LRU set with per-key expiry. A Map keeps insertion order, so the first key is the oldest. */
class ExpiringLru {
	private readonly entries = new Map<string, number>();

	constructor(private readonly maxKeys: number) {}

	has(key: string, now: number): boolean {
		const expiresAt = this.entries.get(key);
		if (expiresAt === undefined) return false;
		if (expiresAt <= now) {
			this.entries.delete(key);
			return false;
		}
		return true;
	}

	add(key: string, expiresAt: number): void {
		this.entries.delete(key);
		this.entries.set(key, expiresAt);
		while (this.entries.size > this.maxKeys) {
			const oldest = this.entries.keys().next().value as string;
			this.entries.delete(oldest);
		}
	}

	get size(): number {
		return this.entries.size;
	}
}

function readPersisted(staticData: IDataObject | undefined, now: number): Record<string, number> {
	const stored = staticData?.[PERSISTED_PROPERTY];
	const kept: Record<string, number> = {};
	if (!isObject(stored)) return kept;
	for (const [key, expiresAt] of Object.entries(stored)) {
		if (typeof expiresAt === 'number' && expiresAt > now) kept[key] = expiresAt;
	}
	return kept;
}

/** Keeps the newest `max` entries (by expiry). */
function bound(entries: Record<string, number>, max: number): Record<string, number> {
	const sorted = Object.entries(entries).sort((a, b) => a[1] - b[1]);
	return Object.fromEntries(sorted.slice(Math.max(0, sorted.length - max)));
}

export class DeliveryDeduper {
	private readonly scopes = new Map<string, ExpiringLru>();

	constructor(private readonly limits = DEDUPE_LIMITS) {}

	/**
	 * Records `key` and returns true the first time it is seen within the TTL; false for a repeat.
	 * The check and the record happen without awaiting, so concurrent deliveries are safe.
	 * `staticData` is the node's workflow static data; the key is persisted there too.
	 */
	claim(scope: string, key: string, staticData?: IDataObject, now = Date.now()): boolean {
		const store = this.store(scope);
		if (store.has(key, now)) return false;

		const persisted = readPersisted(staticData, now);
		if (persisted[key] !== undefined) {
			store.add(key, persisted[key]);
			return false;
		}

		const expiresAt = now + this.limits.ttlMs;
		store.add(key, expiresAt);
		if (staticData) {
			persisted[key] = expiresAt;
			// A new object, so n8n's change tracking sees the update and saves the static data.
			staticData[PERSISTED_PROPERTY] = bound(persisted, this.limits.persistedKeys);
		}
		return true;
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

	private store(scope: string): ExpiringLru {
		let store = this.scopes.get(scope);
		if (store) {
			// Most recently used scope last.
			this.scopes.delete(scope);
		} else {
			store = new ExpiringLru(this.limits.memoryKeys);
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
