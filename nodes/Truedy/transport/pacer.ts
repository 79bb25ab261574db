import { sleepWithAbort } from '../shared/sleep';

const MINUTE_MS = 60_000;

/**
 * Spaces calls evenly at `perMinute` (0 = no pacing). Each caller waits for its own slot, so
 * concurrent workers share one pace.
 */
export function createPacer(perMinute: number, signal?: AbortSignal): () => Promise<void> {
	if (!(perMinute > 0)) return async () => {};
	const takeSlot = createSlotTaker(perMinute);
	return async () => {
		await takeSlot(Infinity, signal);
	};
}

/**
 * Evenly spaced slots at `perMinute`, shared by everyone who holds the returned function (e.g. one
 * per account per process). Each call waits for the next free slot and resolves true; when it would
 * have to wait past `deadline` (epoch ms) it resolves false at once and keeps no slot.
 */
export type SlotTaker = (deadline?: number, signal?: AbortSignal) => Promise<boolean>;

export function createSlotTaker(perMinute: number): SlotTaker {
	const spacingMs = MINUTE_MS / perMinute;
	let nextSlot = 0;
	return async (deadline = Infinity, signal) => {
		const now = Date.now();
		const slot = Math.max(now, nextSlot);
		// A free slot is always taken; only a wait that would end past the deadline is refused.
		if (slot > now && slot > deadline) return false;
		nextSlot = slot + spacingMs;
		if (slot > now) await sleepWithAbort(slot - now, signal);
		return true;
	};
}

/**
 * A budget of requests: at most `perMinute` in any 60 s (so at most that many in any minute window
 * the API counts), shared by every request that awaits `take`. Requests that had to wait for a 429's
 * reset (`afterRateLimit`) are released evenly at `perMinute` instead of all at once, so a run does
 * not send every waiting request again at each reset. 0 = no budget (rate limits Truedy reports are
 * still honoured).
 */
export interface RequestBudget {
	readonly perMinute: number;
	take(signal: AbortSignal | undefined, afterRateLimit?: boolean): Promise<void>;
}

export function createRequestBudget(perMinute: number): RequestBudget {
	if (!(perMinute > 0)) return { perMinute: 0, take: async () => {} };
	const limit = Math.max(1, Math.floor(perMinute));
	// Send times of the last `limit` requests, oldest first; and the queue of those waiting.
	const sent: number[] = [];
	let queue: Promise<void> = Promise.resolve();
	let nextRetrySlot = 0;
	const spacingMs = MINUTE_MS / limit;

	const takeSlot = async (signal: AbortSignal | undefined) => {
		for (;;) {
			const now = Date.now();
			while (sent.length > 0 && sent[0] <= now - MINUTE_MS) sent.shift();
			if (sent.length < limit) {
				sent.push(now);
				return;
			}
			await sleepWithAbort(sent[0] + MINUTE_MS - now, signal);
		}
	};

	return {
		perMinute: limit,
		async take(signal, afterRateLimit = false) {
			if (afterRateLimit) {
				const now = Date.now();
				const slot = Math.max(now, nextRetrySlot);
				nextRetrySlot = slot + spacingMs;
				if (slot > now) await sleepWithAbort(slot - now, signal);
			}
			// One at a time, in arrival order: a waiting request is not overtaken by a later one.
			const turn = queue.then(() => takeSlot(signal));
			queue = turn.catch(() => undefined);
			await turn;
		},
	};
}
