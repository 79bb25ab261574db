/**
 * Wait-for-end under Truedy's rate limit: Place Call + Wait for Call to End for N calls of about
 * 90 s against the simulator's organisation limit (100 requests per 60 s), the old per-call polling
 * (GET /calls/{id} per call per poll, no budget) and the new list polling with the default Requests
 * per Minute (60), one after the other in the same process, each on a fresh simulator.
 *   npx ts-node --transpile-only -P test/tsconfig.json test/bench/wait-budget.ts [N] [callSeconds]
 * Writes test-results/bench-wait-budget.json.
 */
import fs from 'fs';
import path from 'path';

import { usePerCallPollingForTests } from '../../nodes/Truedy/resources/call/place/callWatcher';
import { startSimulator } from '../simulator/server';
import { agentById, makeLeads, NODE, placeCall, runTruedy, SIM_AGENTS } from '../support';

const N = Number(process.argv[2] ?? 100);
const CALL_MS = Number(process.argv[3] ?? 90) * 1000;

async function scenario(name: string, old: boolean) {
	const sim = await startSimulator({
		rateLimit: {},
		callTimings: { queuedMs: 1000, ringingMs: 2000, inProgressMs: CALL_MS - 3000 },
	});
	const restore = usePerCallPollingForTests(old);
	const started = Date.now();
	try {
		const result = await runTruedy(sim, {
			parameters: placeCall({
				agent: agentById(SIM_AGENTS.active),
				phoneNumber: '={{ $json.phone }}',
				waitForEnd: true,
				waitOptions: { transcriptWait: 0 },
				options: old ? { requestsPerMinute: 0 } : {},
			}),
			items: makeLeads(N),
		});
		const elapsedMs = Date.now() - started;
		const output = result.nodeError(NODE) ? [] : result.output(NODE);
		const gets = sim.requests.filter((r) => r.method === 'GET');
		const posts = sim.requests.filter((r) => r.method === 'POST');
		const cycles = new Set(
			gets.filter((r) => r.path === '/calls').map((r) => Math.round(r.receivedAt / 2500)),
		).size;
		const row = {
			name,
			calls: N,
			requests: sim.requests.length,
			posts: posts.length,
			listReads: gets.filter((r) => r.path === '/calls').length,
			callReads: gets.filter((r) => r.path.startsWith('/calls/')).length,
			answered429: sim.rateLimitedCount,
			requestsPerMinute: Math.round((sim.requests.length / elapsedMs) * 60_000),
			shareOfOrgBudget: `${Math.round((sim.requests.length / elapsedMs) * 60_000)}%`,
			listReadsPerCycle:
				cycles > 0 ? +(gets.filter((r) => r.path === '/calls').length / cycles).toFixed(2) : null,
			timeToLastOutcomeS: +(elapsedMs / 1000).toFixed(1),
			itemsFailed: result.nodeError(NODE)
				? N
				: output.filter((item) => item.json.error !== undefined).length,
			ended: output.filter((item) => item.json.status === 'ended').length,
		};
		console.log(JSON.stringify(row));
		return row;
	} finally {
		restore();
		await sim.close();
	}
}

void (async () => {
	const rows = [
		await scenario('old: GET /calls/{id} per call, no budget', true),
		await scenario('new: one list per cycle, 60/min budget', false),
	];
	const file = path.join(__dirname, '../../test-results/bench-wait-budget.json');
	fs.writeFileSync(
		file,
		JSON.stringify(
			{ writtenAt: new Date().toISOString(), N, callSeconds: CALL_MS / 1000, rows },
			null,
			2,
		),
	);
	process.exit(0);
})();
