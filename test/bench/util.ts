/** Small helpers shared by the benchmark files. */
import fs from 'fs';
import path from 'path';

export const sleep = (ms: number): Promise<void> =>
	new Promise((resolve) => setTimeout(resolve, ms));

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

/** CLI imports can die with SIGSEGV at exit under the vm expression engine (see the harness notes); they are idempotent, so retry. */
export async function withRetries<T>(
	what: string,
	work: () => Promise<T>,
	tries = 3,
	log = (line: string) => process.stderr.write(`${line}\n`),
): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await work();
		} catch (error) {
			if (attempt >= tries) throw error;
			log(
				`${what} failed (attempt ${attempt}), retrying: ${(error as Error).message.split('\n')[0]}`,
			);
		}
	}
}

/** A `const NAME = <number>;` default of Place Call, read from its source so the report names it. */
export function placeCallDefault(name: string): number {
	const file = path.resolve(__dirname, '../../nodes/Truedy/resources/call/place/index.ts');
	const match = new RegExp(`const ${name} = (\\d+);`).exec(fs.readFileSync(file, 'utf8'));
	if (!match) throw new Error(`${name} not found in ${file}`);
	return Number(match[1]);
}
