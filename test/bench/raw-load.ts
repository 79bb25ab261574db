/**
 * Raw capacity of the simulator for POST /calls, measured with autocannon in its own process (so
 * the load generator does not share an event loop with the simulator, as n8n does not).
 * Every request is a real create: its own phone number, body and idempotency key.
 *
 * Usage: ts-node raw-load.ts '<json RawLoadJob[]>'   → prints one line `RAW_LOAD <json RawLoadResult[]>`
 */

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
	'2xx': number;
	non2xx: number;
	errors: number;
	timeouts: number;
	latency: { p50: number; p99: number };
}
interface AutocannonInstance {
	on(event: 'response', listener: () => void): void;
}
type Autocannon = (
	options: Record<string, unknown>,
	done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

export interface RawLoadJob {
	baseUrl: string;
	apiKey: string;
	agentId: string;
	connections: number;
	amount: number;
	/** Idempotency keys and lead ids start with this prefix (unique per job). */
	tag: string;
}

export interface RawLoadResult {
	connections: number;
	amount: number;
	durationMs: number;
	ok: number;
	non2xx: number;
	errors: number;
	latencyP50Ms: number;
	latencyP99Ms: number;
}

function runJob(job: RawLoadJob): Promise<RawLoadResult> {
	let sequence = 0;
	// autocannon reports in whole seconds: time from the first request built to the last answer.
	let firstRequestAt: bigint | undefined;
	let lastResponseAt: bigint | undefined;
	return new Promise((resolve, reject) => {
		const instance = autocannon(
			{
				url: `${job.baseUrl}/calls`,
				connections: job.connections,
				amount: job.amount,
				timeout: 30,
				requests: [
					{
						method: 'POST',
						setupRequest: (request: Record<string, unknown>) => {
							firstRequestAt ??= process.hrtime.bigint();
							const i = sequence++;
							const lead = `${job.tag}-${i}`;
							return {
								...request,
								headers: {
									'content-type': 'application/json',
									accept: 'application/json',
									authorization: `Bearer ${job.apiKey}`,
									'x-idempotency-key': `raw:${lead}`,
								},
								body: JSON.stringify({
									agent_id: job.agentId,
									phone_number: `+1415555${String(i % 10_000).padStart(4, '0')}`,
									variables: { first_name: `Lead ${i}`, lead_id: lead },
								}),
							};
						},
					},
				],
			},
			(error, result) => {
				if (error) return reject(error);
				const durationMs =
					firstRequestAt && lastResponseAt ? Number(lastResponseAt - firstRequestAt) / 1e6 : NaN;
				resolve({
					connections: job.connections,
					amount: job.amount,
					durationMs,
					ok: result['2xx'],
					non2xx: result.non2xx,
					errors: result.errors + result.timeouts,
					latencyP50Ms: result.latency.p50,
					latencyP99Ms: result.latency.p99,
				});
			},
		);
		instance.on('response', () => {
			lastResponseAt = process.hrtime.bigint();
		});
	});
}

async function main(): Promise<void> {
	const jobs = JSON.parse(process.argv[2] ?? '[]') as RawLoadJob[];
	const results: RawLoadResult[] = [];
	for (const job of jobs) results.push(await runJob(job));
	process.stdout.write(`RAW_LOAD ${JSON.stringify(results)}\n`);
}

if (require.main === module) {
	main().catch((error) => {
		process.stderr.write(`raw-load: ${(error as Error).stack ?? error}\n`);
		process.exit(1);
	});
}
