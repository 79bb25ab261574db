/**
 * Wait for Call to End under Truedy's rate limit: Place Call + Wait for Call to End for N calls of
 * about 90 s through n8n's engine (in-process, test/support) against the simulator's organisation
 * limit (100 requests per 60 s, fixed windows). One after the other in the same process, each on a
 * fresh simulator:
 *
 * - `old`: every waiting item polls its own call, `GET /calls/{id}` per call per poll, as 0.1.0 did
 *   (the watcher's usePerCallPollingForTests mode: same schedule, transport and 429 handling, only
 *   the list read replaced), no budget.
 * - `new`: one `GET /calls` list per poll cycle for all calls (callWatcher.ts), the node's default
 *   Requests per Minute.
 * - `new-budget`: the same with Requests per Minute 60 (the share the node's description suggests).
 *
 *   npx ts-node --transpile-only -P test/tsconfig.json test/bench/wait-budget.ts [N] [callSeconds]
 *
 * Prints one `WAIT_BUDGET {json}` line (run-bench.ts reads it) and writes
 * test-results/bench-wait-budget.json.
 */
import './prefer-ts';

import fs from 'fs';
import os from 'os';
import path from 'path';

import { usePerCallPollingForTests } from '../../nodes/Truedy/resources/call/place/callWatcher';
import { MIN_POLL_INTERVAL_SECONDS } from '../../nodes/Truedy/shared/calls';
import { RATE_LIMIT_VERSION_A } from '../simulator/ratelimit';
import { startSimulator } from '../simulator/server';
import type { RecordedRequest } from '../simulator/types';
import { agentById, makeLeads, NODE, placeCall, runTruedy, SIM_AGENTS } from '../support';
import type { WaitBudgetResults, WaitBudgetRow } from './results';
import { placeCallDefault } from './util';

const POLL_MS = MIN_POLL_INTERVAL_SECONDS * 1000;
const LIMIT = RATE_LIMIT_VERSION_A.limit;
const WINDOW_MS = RATE_LIMIT_VERSION_A.windowMs;

export const WAIT_MODES = [
	{ key: 'old', label: '0.1 per-call polling (GET /calls/{id} per call per poll)', perCall: true },
	{
		key: 'new',
		label: 'List polling (one GET /calls per poll cycle), default budget',
		perCall: false,
	},
	{
		key: 'new-budget',
		label: 'List polling, Requests per Minute 60',
		perCall: false,
		requestsPerMinute: 60,
	},
] as const;

/** Requests per fixed window of the limiter (aligned to the epoch, as the simulator counts). */
function perWindow(requests: RecordedRequest[], windowMs: number): number[] {
	const counts = new Map<number, number>();
	for (const request of requests) {
		const window = Math.floor(request.receivedAt / windowMs);
		counts.set(window, (counts.get(window) ?? 0) + 1);
	}
	return [...counts.values()];
}

/** Windows of the limiter from the first request to the last, both counted whole. */
function windowsSpanned(requests: RecordedRequest[]): number {
	if (requests.length === 0) return 1;
	const windowOf = (request: RecordedRequest) => Math.floor(request.receivedAt / WINDOW_MS);
	return windowOf(requests[requests.length - 1]) - windowOf(requests[0]) + 1;
}

/** GETs sent per poll interval, in intervals from the first GET to the last. */
function perPollCycle(gets: RecordedRequest[]): { mean: number; max: number } {
	if (gets.length === 0) return { mean: 0, max: 0 };
	const first = gets[0].receivedAt;
	const cycles = Math.floor((gets[gets.length - 1].receivedAt - first) / POLL_MS) + 1;
	const counts = new Array<number>(cycles).fill(0);
	for (const get of gets) counts[Math.floor((get.receivedAt - first) / POLL_MS)]++;
	return { mean: gets.length / cycles, max: Math.max(...counts) };
}

async function runMode(
	mode: (typeof WAIT_MODES)[number],
	calls: number,
	callMs: number,
): Promise<WaitBudgetRow> {
	const sim = await startSimulator({
		rateLimit: {},
		callTimings: { queuedMs: 1000, ringingMs: 2000, inProgressMs: callMs - 3000 },
	});
	const restore = usePerCallPollingForTests(mode.perCall);
	const loadBefore = os.loadavg()[0];
	const started = Date.now();
	try {
		const result = await runTruedy(sim, {
			parameters: placeCall({
				agent: agentById(SIM_AGENTS.active),
				phoneNumber: '={{ $json.phone }}',
				waitForEnd: true,
				waitOptions: { transcriptWait: 0 },
				options: 'requestsPerMinute' in mode ? { requestsPerMinute: mode.requestsPerMinute } : {},
			}),
			items: makeLeads(calls),
		});
		const elapsedMs = Date.now() - started;
		const nodeError = result.nodeError(NODE);
		const output = nodeError ? [] : result.output(NODE);
		const requests = [...sim.requests].sort((a, b) => a.receivedAt - b.receivedAt);
		const gets = requests.filter((r) => r.method === 'GET');
		const accepted = requests.filter((r) => r.status !== 429);
		const cycle = perPollCycle(gets);
		const row: WaitBudgetRow = {
			mode: mode.key,
			label: mode.label,
			calls,
			requests: requests.length,
			creates: requests.filter((r) => r.method === 'POST').length,
			listReads: gets.filter((r) => r.path === '/calls').length,
			callReads: gets.filter((r) => r.path.startsWith('/calls/')).length,
			answered429: requests.filter((r) => r.status === 429).length,
			answered429ToReads: gets.filter((r) => r.status === 429).length,
			getsPerPollCycle: +cycle.mean.toFixed(2),
			maxGetsPerPollCycle: cycle.max,
			peakWindowShare: Math.max(0, ...perWindow(accepted, WINDOW_MS)) / LIMIT,
			meanShare: accepted.length / windowsSpanned(requests) / LIMIT,
			timeToLastOutcomeMs: elapsedMs,
			itemsFailed: nodeError
				? calls
				: output.filter((item) => item.json.error !== undefined).length + (calls - output.length),
			ended: output.filter((item) => item.json.status === 'ended').length,
			nodeError: nodeError?.message,
			loadAverageBefore: loadBefore,
			loadAverageAfter: os.loadavg()[0],
		};
		process.stderr.write(`[wait-budget] ${JSON.stringify(row)}\n`);
		return row;
	} finally {
		restore();
		await sim.close();
	}
}

export async function runWaitBudget(
	calls: number,
	callSeconds: number,
): Promise<WaitBudgetResults> {
	const startedAt = new Date().toISOString();
	const rows: WaitBudgetRow[] = [];
	for (const mode of WAIT_MODES) rows.push(await runMode(mode, calls, callSeconds * 1000));
	return {
		startedAt,
		calls,
		callSeconds,
		pollIntervalS: MIN_POLL_INTERVAL_SECONDS,
		defaultRequestsPerMinute: placeCallDefault('DEFAULT_REQUESTS_PER_MINUTE'),
		rateLimit: { limit: LIMIT, windowMs: WINDOW_MS },
		rows,
	};
}

if (require.main === module) {
	const calls = Number(process.argv[2] ?? 100);
	const callSeconds = Number(process.argv[3] ?? 90);
	runWaitBudget(calls, callSeconds).then(
		(results) => {
			const dir = path.join(__dirname, '../../test-results');
			fs.mkdirSync(dir, { recursive: true });
			fs.writeFileSync(path.join(dir, 'bench-wait-budget.json'), JSON.stringify(results, null, 2));
			process.stdout.write(`WAIT_BUDGET ${JSON.stringify(results)}\n`);
			process.exit(0);
		},
		(error) => {
			process.stderr.write(`[wait-budget] failed: ${(error as Error).stack ?? error}\n`);
			process.exit(1);
		},
	);
}
