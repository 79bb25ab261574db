import { sleepWithAbort } from '../shared/sleep';

/**
 * Spaces calls evenly at `perMinute` (0 = no pacing). Each caller waits for its own slot, so
 * concurrent workers share one pace.
 */
export function createPacer(perMinute: number, signal?: AbortSignal): () => Promise<void> {
	if (!(perMinute > 0)) return async () => {};
	const spacingMs = 60_000 / perMinute;
	let nextSlot = Date.now();
	return async () => {
		const now = Date.now();
		const slot = Math.max(now, nextSlot);
		nextSlot = slot + spacingMs;
		if (slot > now) await sleepWithAbort(slot - now, signal);
	};
}
