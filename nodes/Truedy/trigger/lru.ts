/**
 * A bounded map with expiry: at most `maxEntries` values, each kept `ttlMs` after it was set.
 * A Map keeps insertion order and `set` re-inserts, so the first key is the least recently set;
 * `get` refreshes a key's place (not its expiry), so what is read often is evicted last.
 */
export class TtlLru<V> {
	private readonly entries = new Map<string, { value: V; expiresAt: number }>();

	constructor(
		private readonly maxEntries: number,
		private readonly ttlMs: number,
	) {}

	get(key: string, now = Date.now()): V | undefined {
		const entry = this.entries.get(key);
		if (entry === undefined) return undefined;
		this.entries.delete(key);
		if (entry.expiresAt <= now) return undefined;
		this.entries.set(key, entry);
		return entry.value;
	}

	set(key: string, value: V, now = Date.now()): void {
		this.entries.delete(key);
		this.entries.set(key, { value, expiresAt: now + this.ttlMs });
		for (const oldest of this.entries.keys()) {
			if (this.entries.size <= this.maxEntries) break;
			this.entries.delete(oldest);
		}
	}

	clear(): void {
		this.entries.clear();
	}

	get size(): number {
		return this.entries.size;
	}
}
