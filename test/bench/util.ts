/* eslint-disable */
/** Small helpers shared by the benchmark files. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries an n8n API call while the server answers 503. n8n 2.41 marks SQLite "not ready" when
 * its 2-second health ping waits more than 5 s, e.g. while a 10,000-item execution is saved.
 */
export async function whileUnavailable<T>(work: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			return await work();
		} catch (error) {
			const message = (error as Error).message ?? '';
			const transient = /HTTP 503|fetch failed|ECONNRESET|socket hang up/.test(message);
			if (!transient || Date.now() > deadline) throw error;
			await sleep(500);
		}
	}
}
