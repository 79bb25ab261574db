/**
 * `npm run bench`: Place Call against n8n's HTTP Request node and against the simulator's raw
 * capacity, in a real n8n 2.41.1 server (the e2e harness) talking to the Truedy simulator.
 * Writes docs/benchmarks.md and docs/benchmarks.png. See test/bench/README.md.
 *
 *   npm run bench -- [--runs 3] [--items 1000] [--rss-items 10000] [--concurrency 5,10,20,50]
 *                    [--deliveries 1000] [--trigger-concurrency 50] [--trigger-engines vm,quickjs[,vm+lazy]]
 *                    [--no-profile] [--profile-deliveries 500] [--no-trigger-variants]
 *                    [--no-throughput] [--no-rss] [--no-trigger] [--only trigger|wait]
 *                    [--no-wait] [--wait-calls 100] [--wait-call-seconds 90]
 *                    [--expression-engine vm|quickjs|legacy] [--report-only results.json]
 *
 * The trigger part (Truedy Trigger vs n8n's Webhook node, one fresh server per engine in
 * --trigger-engines, see trigger-bench.ts) runs after the others. `--only trigger` runs just that
 * part and replaces only its section of docs/benchmarks.md. The wait scenario (Wait for Call to End
 * under the organisation rate limit, old per-call vs list polling, see wait-budget.ts) runs last, in
 * a child process against the in-process engine; `--only wait` runs just that and replaces its
 * section.
 */
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { ensureN8nInstalled, N8nServer, packAndInstallPackage } from '../e2e/n8n-server';
import type { N8nInstall } from '../e2e/n8n-server';
import { startSimulator } from '../simulator/server';
import type { TruedySimulator } from '../simulator/server';
import { renderChart } from './chart';
import {
	cpuMsOf,
	findN8nServerPid,
	loadAverage,
	machineInfo,
	otherN8nProcesses,
	processTree,
	sampleMemory,
} from './proc-stats';
import type { RawLoadJob, RawLoadResult } from './raw-load';
import { renderReport } from './report';
import type {
	BenchResults,
	Conditions,
	RawRun,
	RssRun,
	ScenarioInfo,
	ScenarioKey,
	VariantRun,
	WaitBudgetResults,
} from './results';
import { placeCallDefault, sleep, whileUnavailable, withRetries } from './util';
import { allExecutions } from './trigger-load';
import { engineEnv, runTriggerComparison } from './trigger-bench';
import { renderTriggerComparison, spliceTriggerSection } from './trigger-report';
import { spliceWaitSection } from './wait-report';
import {
	AGENT_ID,
	CREDENTIAL,
	MAX_ITEMS,
	TARGET_NODE,
	throughputWorkflow,
	WEBHOOK_CREDENTIAL,
} from './workflows';
import type { BenchWorkflow, Variant } from './workflows';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = path.join(ROOT, 'docs');
const LATENCY_MS = 50;
const RATE_LIMIT = { limit: 100, windowMs: 2_000 };
/** Calls per Minute for the paced variant: the simulated limit (100 per 2 s) per real minute. */
const PACED_PER_MINUTE = (RATE_LIMIT.limit * 60_000) / RATE_LIMIT.windowMs;

const log = (line: string): void => {
	process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

// ---------------------------------------------------------------------------------------------
// Options

interface BenchOptions {
	runs: number;
	items: number;
	rssItems: number;
	concurrencies: number[];
	deliveries: number;
	triggerConcurrency: number;
	/** N8N_EXPRESSION_ENGINE of each trigger comparison server. */
	triggerEngines: string[];
	profile: boolean;
	profileDeliveries: number;
	triggerVariants: boolean;
	/** Only the trigger comparison or the wait scenario, splicing its section into the existing page. */
	only?: 'trigger' | 'wait';
	wait: boolean;
	waitCalls: number;
	waitCallSeconds: number;
	rss: boolean;
	trigger: boolean;
	throughput: boolean;
	/** N8N_EXPRESSION_ENGINE of the server; n8n's default is vm. */
	expressionEngine: string;
	reportOnly?: string;
}

const DEFAULT_OPTIONS: Readonly<BenchOptions> = Object.freeze({
	runs: 3,
	items: 1000,
	rssItems: 10_000,
	concurrencies: [5, 10, 20, 50],
	deliveries: 1000,
	triggerConcurrency: 50,
	triggerEngines: ['vm', 'quickjs'],
	profile: true,
	profileDeliveries: 500,
	triggerVariants: true,
	rss: true,
	trigger: true,
	wait: true,
	waitCalls: 100,
	waitCallSeconds: 90,
	throughput: true,
	expressionEngine: 'vm',
});

export function parseOptions(argv: string[]): BenchOptions {
	const options: BenchOptions = { ...DEFAULT_OPTIONS };
	for (let i = 0; i < argv.length; i++) {
		const [flag, inline] = argv[i].split(/=(.*)/s, 2);
		const value = (): string => {
			const next = inline ?? argv[++i];
			if (next === undefined) throw new Error(`${flag} needs a value`);
			return next;
		};
		const count = (min: number, max: number): number => {
			const number = Number(value());
			if (!Number.isInteger(number) || number < min || number > max)
				throw new Error(`${flag} must be a whole number from ${min} to ${max}`);
			return number;
		};
		switch (flag) {
			case '--runs':
				options.runs = count(1, 50);
				break;
			case '--items':
				options.items = count(1, MAX_ITEMS);
				break;
			case '--rss-items':
				options.rssItems = count(1, MAX_ITEMS);
				break;
			case '--concurrency':
				options.concurrencies = value()
					.split(',')
					.map((part) => Number(part.trim()))
					.filter((number) => Number.isInteger(number) && number >= 1 && number <= 100);
				break;
			case '--deliveries':
				options.deliveries = count(1, 100_000);
				break;
			case '--trigger-engines':
				options.triggerEngines = value()
					.split(',')
					.map((part) => part.trim())
					.filter((engine) => engine !== '');
				options.triggerEngines.forEach(engineEnv); // throws on an unknown spec
				break;
			case '--no-profile':
				options.profile = false;
				break;
			case '--profile-deliveries':
				options.profileDeliveries = count(1, 100_000);
				break;
			case '--no-trigger-variants':
				options.triggerVariants = false;
				break;
			case '--only': {
				const part = value();
				if (part !== 'trigger' && part !== 'wait') throw new Error('--only takes: trigger, wait');
				options.only = part;
				break;
			}
			case '--no-wait':
				options.wait = false;
				break;
			case '--wait-calls':
				options.waitCalls = count(1, 1000);
				break;
			case '--wait-call-seconds':
				options.waitCallSeconds = count(10, 600);
				break;
			case '--trigger-concurrency':
				options.triggerConcurrency = count(1, 1000);
				break;
			case '--no-rss':
				options.rss = false;
				break;
			case '--no-trigger':
				options.trigger = false;
				break;
			case '--no-throughput':
				options.throughput = false;
				break;
			case '--expression-engine':
				options.expressionEngine = value();
				break;
			case '--report-only':
				options.reportOnly = value();
				break;
			case '--help':
				process.stdout.write(`${fs.readFileSync(__filename, 'utf8').split('*/')[0]}*/\n`);
				process.exit(0);
			default:
				throw new Error(`unknown flag ${argv[i]} (see --help)`);
		}
	}
	return options;
}

/** The node's default Concurrency, so the report names it. */
export function nodeDefaultConcurrency(): number {
	return placeCallDefault('DEFAULT_CONCURRENCY');
}

// ---------------------------------------------------------------------------------------------
// Scenarios and variants

export const SCENARIOS: ScenarioInfo[] = [
	{ key: 'fast', label: 'No server latency', latencyMs: 0 },
	{ key: 'latency', label: `${LATENCY_MS} ms server latency`, latencyMs: LATENCY_MS },
	{
		key: 'ratelimit',
		label: `Rate limit ${RATE_LIMIT.limit} per ${RATE_LIMIT.windowMs / 1000} s window`,
		latencyMs: 0,
		rateLimit: RATE_LIMIT,
	},
];

export function buildVariants(options: BenchOptions, defaultConcurrency: number): Variant[] {
	const sweep = options.concurrencies.filter((c) => c !== defaultConcurrency);
	return [
		{
			key: 'place-default',
			label: `Place Call (default, concurrency ${defaultConcurrency})`,
			kind: 'place',
		},
		...sweep.map(
			(c): Variant => ({
				key: `place-c${c}`,
				label: `Place Call, concurrency ${c}`,
				kind: 'place',
				concurrency: c,
			}),
		),
		{ key: 'place-c1', label: 'Place Call, concurrency 1', kind: 'place', concurrency: 1 },
		{
			key: 'place-paced',
			label: `Place Call, Calls per Minute ${PACED_PER_MINUTE}`,
			kind: 'place',
			callsPerMinute: PACED_PER_MINUTE,
		},
		{ key: 'http-default', label: 'HTTP Request (default)', kind: 'http' },
		{ key: 'http-retry', label: 'HTTP Request, Retry On Fail', kind: 'http', retryOnFail: true },
		{ key: 'baseline', label: 'Webhook + Code only (baseline)', kind: 'baseline' },
	];
}

/** Place Call concurrencies worth running at a latency: below 10 it is bounded by c / latency anyway. */
const MIN_LATENCY_SWEEP = 10;

/**
 * Which variants run in a scenario (in this order). Run 1 is the full sweep; later runs repeat the
 * default, the best concurrency of run 1 and HTTP Request, so medians of what the report compares
 * come from every run while the whole bench stays within its time budget.
 */
function variantsFor(
	scenario: ScenarioKey,
	variants: Variant[],
	full: boolean,
	best: Partial<Record<ScenarioKey, string>>,
): string[] {
	const sweep = variants.filter(
		(v) => v.kind === 'place' && v.concurrency !== undefined && v.concurrency !== 1,
	);
	const bestOf = (key: ScenarioKey) =>
		best[key] && best[key] !== 'place-default' ? [best[key]!] : [];
	switch (scenario) {
		case 'fast':
			return full
				? ['baseline', 'place-default', ...sweep.map((v) => v.key), 'place-c1', 'http-default']
				: ['baseline', 'place-default', ...bestOf('fast'), 'http-default'];
		case 'latency':
			return full
				? [
						'place-default',
						...sweep.filter((v) => v.concurrency! >= MIN_LATENCY_SWEEP).map((v) => v.key),
						'http-default',
					]
				: ['place-default', ...bestOf('latency'), 'http-default'];
		case 'ratelimit':
			// Concurrency does not change the time here (the limit does); Calls per Minute shows the paced alternative.
			return full
				? ['place-default', 'place-paced', 'http-default', 'http-retry']
				: ['place-default'];
	}
}

/** The fastest Place Call variant of a scenario in the given runs (sweep values only). */
function fastestPlace(runs: VariantRun[], scenario: ScenarioKey): string | undefined {
	return runs
		.filter(
			(run) =>
				run.scenario === scenario &&
				run.status === 'success' &&
				run.variant.startsWith('place-') &&
				!['place-c1', 'place-paced'].includes(run.variant),
		)
		.sort((a, b) => a.nodeMs - b.nodeMs)[0]?.variant;
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Bench {
	install: N8nInstall;
	n8n: N8nServer;
	sim: TruedySimulator;
	workflows: Map<string, BenchWorkflow>;
	serverPid: number;
	/** Highest execution id seen per workflow. */
	lastExecution: Map<string, number>;
}

function conditions(bench?: Bench): Conditions {
	return {
		otherN8nProcesses: otherN8nProcesses(bench?.serverPid),
		loadAverage: loadAverage(),
		at: new Date().toISOString(),
	};
}

function treeCpuMs(pid: number): number {
	return processTree(pid).reduce((sum, child) => sum + cpuMsOf(child), 0);
}

/** Counts what reached the simulator: creates, 429s, duplicate dials and lost leads. */
function simulatorCounts(sim: TruedySimulator, items: number) {
	const posts = sim.requests.filter(
		(request) => request.method === 'POST' && request.path === '/calls',
	);
	const perPhone = new Map<string, number>();
	for (const call of sim.calls.values()) perPhone.set(call.to, (perPhone.get(call.to) ?? 0) + 1);
	let reached = 0;
	for (let i = 0; i < items; i++)
		if (perPhone.has(`+1415555${String(i).padStart(4, '0')}`)) reached++;
	return {
		postRequests: posts.length,
		rejected429: posts.filter((request) => request.status === 429).length,
		callsCreated: sim.calls.size,
		duplicateDials: [...perPhone.values()].reduce((sum, count) => sum + count - 1, 0),
		lostItems: items - reached,
		maxInFlight: sim.maxInFlight,
	};
}

/** The execution the webhook call just ran (newest id above the last one seen), once finished. */
async function newestExecution(bench: Bench, workflowId: string, includeData = true): Promise<any> {
	const after = bench.lastExecution.get(workflowId) ?? 0;
	const deadline = Date.now() + 60_000;
	while (Date.now() < deadline) {
		const listed = await whileUnavailable(() => bench.n8n.listExecutions(workflowId, { limit: 5 }));
		const newest = listed
			.filter((execution) => Number(execution.id) > after)
			.sort((a, b) => Number(b.id) - Number(a.id))[0];
		if (newest && !['new', 'running', 'waiting'].includes(newest.status)) {
			bench.lastExecution.set(workflowId, Number(newest.id));
			return includeData
				? await whileUnavailable(() => bench.n8n.getExecution(newest.id, true))
				: newest;
		}
		await sleep(200);
	}
	throw new Error(`no finished execution of ${workflowId} after the webhook call`);
}

async function callWebhook(
	bench: Bench,
	workflow: BenchWorkflow,
	items: number,
): Promise<{ status: number; body: string }> {
	for (;;) {
		const response = await fetch(bench.n8n.webhookUrl(workflow.webhookPath), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ n: items }),
		});
		const body = await response.text();
		// "Database is not ready!" comes from a middleware before any workflow starts: safe to repeat.
		if (response.status === 503 && body.includes('Database is not ready')) {
			await sleep(500);
			continue;
		}
		return { status: response.status, body };
	}
}

function nodeResult(execution: any) {
	const runData = execution?.data?.resultData?.runData ?? {};
	const target = runData[TARGET_NODE]?.[0];
	return {
		nodeMs: Number(target?.executionTime ?? NaN),
		itemsOut: target?.data?.main?.[0]?.length ?? 0,
		error: (target?.error?.message ?? execution?.data?.resultData?.error?.message) as
			| string
			| undefined,
	};
}

export async function runVariant(
	bench: Bench,
	scenario: ScenarioKey,
	variantKey: string,
	items: number,
	run: number,
): Promise<VariantRun> {
	const workflow = bench.workflows.get(variantKey)!;
	bench.sim.reset();
	const load = loadAverage();
	const cpuBefore = treeCpuMs(bench.serverPid);
	const started = Date.now();
	const response = await callWebhook(bench, workflow, items);
	const wallMs = Date.now() - started;
	const cpuMs = treeCpuMs(bench.serverPid) - cpuBefore;
	const counts = simulatorCounts(bench.sim, workflow.variant.kind === 'baseline' ? 0 : items);
	const execution = await newestExecution(bench, workflow.id);
	const result = nodeResult(execution);
	const entry: VariantRun = {
		scenario,
		variant: variantKey,
		run,
		items,
		status: String(execution.status),
		error: result.error,
		nodeMs: workflow.variant.kind === 'baseline' ? NaN : result.nodeMs,
		wallMs,
		cpuMs,
		itemsOut: result.itemsOut,
		...counts,
		loadAverage: load,
	};
	log(
		`${scenario} ${variantKey} run ${run}: ${entry.status} node ${entry.nodeMs} ms, wall ${wallMs} ms, cpu ${cpuMs} ms, ` +
			`created ${counts.callsCreated}, dup ${counts.duplicateDials}, lost ${counts.lostItems}, 429 ${counts.rejected429}, ` +
			`in flight ≤${counts.maxInFlight} (webhook ${response.status})${entry.error ? ` error: ${entry.error.slice(0, 120)}` : ''}`,
	);
	return entry;
}

/** autocannon in a child process: one job per concurrency, the simulator reset before the batch. */
async function runRaw(
	bench: Bench,
	scenario: ScenarioKey,
	connections: number[],
	items: number,
	run: number,
): Promise<RawRun[]> {
	bench.sim.reset();
	const tag = randomBytes(4).toString('hex');
	const jobs: RawLoadJob[] = connections.map((c) => ({
		baseUrl: bench.sim.baseUrl,
		apiKey: bench.sim.apiKey,
		agentId: AGENT_ID,
		connections: c,
		amount: items,
		tag: `${tag}-c${c}`,
	}));
	const results = await runBenchScript<RawLoadResult[]>(
		'raw-load.ts',
		[JSON.stringify(jobs)],
		'RAW_LOAD',
	);
	for (const result of results) {
		log(
			`${scenario} raw c=${result.connections} run ${run}: ${result.durationMs.toFixed(0)} ms, ${result.ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors`,
		);
	}
	return results.map((result) => ({ ...result, scenario, run }));
}

/** A script of this folder in a child process (ts-node); its result is the JSON after `MARKER ` on stdout. */
async function runBenchScript<T>(file: string, args: string[], marker: string): Promise<T> {
	const tsNode = require.resolve('ts-node/register/transpile-only');
	const output = await new Promise<string>((resolve, reject) => {
		const child = spawn(process.execPath, ['-r', tsNode, path.join(__dirname, file), ...args], {
			cwd: ROOT,
			env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'test', 'tsconfig.json') },
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		let stdout = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.on('error', reject);
		child.on('close', (code) =>
			code === 0 ? resolve(stdout) : reject(new Error(`${file} exited with ${code}`)),
		);
	});
	const line = output.split('\n').find((text) => text.startsWith(`${marker} `));
	if (!line) throw new Error(`${file} printed no result:\n${output}`);
	return JSON.parse(line.slice(marker.length + 1)) as T;
}

export function configureScenario(sim: TruedySimulator, scenario: ScenarioInfo): void {
	sim.configure({
		latencyMs: scenario.latencyMs,
		rateLimit: scenario.rateLimit ? { ...scenario.rateLimit, style: 'reset_at' } : null,
	});
}

async function restartServer(bench: Bench): Promise<void> {
	await bench.n8n.restart();
	bench.serverPid = requireServerPid(bench.install, bench.n8n);
}

function requireServerPid(install: N8nInstall, n8n: N8nServer): number {
	const pid = findN8nServerPid(install.n8nBin, n8n.userFolder);
	if (!pid) throw new Error('could not find the n8n server process in /proc');
	return pid;
}

/** Peak memory of one execution of `items` items; `fresh` restarts the server first, so nothing earlier counts. */
async function measureRss(
	bench: Bench,
	variantKey: string,
	items: number,
	fresh: boolean,
): Promise<RssRun> {
	if (fresh) await restartServer(bench);
	await sleep(1_000); // let start-up work settle
	configureScenario(bench.sim, SCENARIOS[0]);
	bench.sim.reset();
	const workflow = bench.workflows.get(variantKey)!;
	const sampler = sampleMemory(bench.serverPid, 20);
	const started = Date.now();
	await callWebhook(bench, workflow, items);
	const wallMs = Date.now() - started;
	const peaks = sampler.stop();
	const counts = simulatorCounts(bench.sim, workflow.variant.kind === 'baseline' ? 0 : items);
	// Status only: reading back a 10,000-item execution would take longer than the run is worth here.
	const execution = await newestExecution(bench, workflow.id, false);
	log(
		`rss ${variantKey} ${items} items: ${execution.status}, wall ${wallMs} ms, main peak ${(peaks.mainPeakRssKb / 1024).toFixed(0)} MB, ` +
			`runner peak ${(peaks.childrenPeakRssKb / 1024).toFixed(0)} MB, created ${counts.callsCreated}, lost ${counts.lostItems}`,
	);
	return {
		variant: variantKey,
		items,
		status: String(execution.status),
		wallMs,
		callsCreated: counts.callsCreated,
		duplicateDials: counts.duplicateDials,
		lostItems: counts.lostItems,
		peaks,
	};
}

// ---------------------------------------------------------------------------------------------
// Main

export async function setUp(
	variants: Variant[],
	expressionEngine: string,
): Promise<Bench & { signingSecret: string }> {
	const install = await ensureN8nInstalled(log);
	const sim = await startSimulator({ autoAdvance: false, failNumbers: [] });
	// Production (webhook) executions run in the server process, n8n's default for regular mode.
	const n8n = await N8nServer.create({
		install,
		log,
		env: { N8N_EXPRESSION_ENGINE: expressionEngine },
	});
	const signingSecret = `whsec_${randomBytes(24).toString('hex')}`;
	log('packing and installing the package into n8n');
	await packAndInstallPackage(install, n8n.userFolder, ROOT);
	await withRetries('import:credentials', () =>
		n8n.importCredentials([
			{ ...CREDENTIAL, type: 'truedyApi', data: { apiKey: sim.apiKey, baseUrl: sim.baseUrl } },
			{ ...WEBHOOK_CREDENTIAL, type: 'truedyWebhookApi', data: { signingSecret } },
		]),
	);
	const workflows = new Map(
		variants.map((variant) => [variant.key, throughputWorkflow(variant, sim.baseUrl)]),
	);
	await withRetries('import:workflow', () =>
		n8n.importWorkflow([...workflows.values()].map((workflow) => workflow.json)),
	);
	await n8n.start();
	// Activating through the public API registers the webhooks at once (publish:workflow is one CLI run per workflow).
	for (const id of [...workflows.values()].map((workflow) => workflow.id)) {
		await whileUnavailable(() => n8n.api('POST', `/workflows/${id}/activate`));
	}
	const serverPid = requireServerPid(install, n8n);
	log(`n8n server pid ${serverPid}, simulator ${sim.url}`);
	return { install, n8n, sim, workflows, serverPid, lastExecution: new Map(), signingSecret };
}

async function main(): Promise<void> {
	const options = parseOptions(process.argv.slice(2));
	if (options.reportOnly) {
		const results = JSON.parse(fs.readFileSync(options.reportOnly, 'utf8')) as BenchResults;
		await writeOutputs(results);
		return;
	}
	const started = Date.now();
	if (options.only === 'trigger') {
		await triggerOnly(options, started);
		return;
	}
	if (options.only === 'wait') {
		await waitOnly(options, started);
		return;
	}
	const defaultConcurrency = nodeDefaultConcurrency();
	const variants = buildVariants(options, defaultConcurrency);
	const before = conditions();
	log(
		`machine: ${JSON.stringify(machineInfo())}; other n8n processes: ${before.otherN8nProcesses}; load ${before.loadAverage.toFixed(2)}`,
	);

	const bench = await setUp(variants, options.expressionEngine);
	const results: BenchResults = {
		startedAt: new Date(started).toISOString(),
		finishedAt: '',
		wallMs: 0,
		machine: {
			...machineInfo(),
			node: await nodeVersion(bench.install.node24Bin),
			benchNode: process.version,
			n8n: bench.install.n8nVersion,
		},
		options: {
			runs: options.runs,
			items: options.items,
			rssItems: options.rssItems,
			concurrencies: options.concurrencies,
			defaultConcurrency,
			expressionEngine: options.expressionEngine,
			latencyMs: LATENCY_MS,
			rateLimit: RATE_LIMIT,
		},
		conditions: { before, after: before },
		scenarios: SCENARIOS,
		variants,
		runs: [],
		raw: [],
		rss: [],
	};
	// Saved after every phase, so a failed bench still leaves its figures behind.
	const json = path.join(os.tmpdir(), `truedy-bench-${Date.now()}.json`);
	const save = (): void => {
		results.finishedAt = new Date().toISOString();
		results.wallMs = Date.now() - started;
		results.conditions.after = conditions(bench);
		fs.writeFileSync(json, JSON.stringify(results, null, 2));
	};
	try {
		// Sets the last seen execution of each workflow (none yet) and creates the public API key.
		for (const workflow of bench.workflows.values()) {
			const listed = await allExecutions(bench.n8n, workflow.id, false);
			bench.lastExecution.set(
				workflow.id,
				Math.max(0, ...listed.map((execution) => Number(execution.id))),
			);
		}
		// n8n's own floor (Webhook + Code, no node under test) on the fresh server; the two nodes get a restart each at the end.
		if (options.rss) {
			results.rss.push(await measureRss(bench, 'baseline', options.rssItems, false));
			save();
		}
		if (options.throughput) {
			// One full-size warm-up execution each (not counted): the first large run of a node is markedly slower.
			configureScenario(bench.sim, SCENARIOS[0]);
			for (const key of ['place-default', 'http-default'])
				await runVariant(bench, 'fast', key, options.items, 0);
			const best: Partial<Record<ScenarioKey, string>> = {};
			for (let run = 1; run <= options.runs; run++) {
				const full = run === 1;
				for (const scenario of SCENARIOS) {
					configureScenario(bench.sim, scenario);
					for (const key of variantsFor(scenario.key, variants, full, best)) {
						results.runs.push(await runVariant(bench, scenario.key, key, options.items, run));
					}
					// The simulator's raw capacity hardly varies between runs: measured in run 1 only.
					if (scenario.key === 'fast' && full) {
						const connections = [1, defaultConcurrency, ...options.concurrencies];
						results.raw.push(
							...(await runRaw(
								bench,
								scenario.key,
								[...new Set([...connections, options.items])].sort((a, b) => a - b),
								options.items,
								run,
							)),
						);
					}
					if (scenario.key === 'latency' && full) {
						const connections = [defaultConcurrency, ...options.concurrencies].filter(
							(c) => c >= MIN_LATENCY_SWEEP,
						);
						results.raw.push(
							...(await runRaw(
								bench,
								scenario.key,
								[...new Set([...connections, options.items])].sort((a, b) => a - b),
								options.items,
								run,
							)),
						);
					}
					if (full && scenario.key !== 'ratelimit')
						best[scenario.key] = fastestPlace(results.runs, scenario.key);
				}
				save();
			}
		}
		if (options.rss) {
			for (const key of ['place-default', 'http-default']) {
				results.rss.push(await measureRss(bench, key, options.rssItems, true));
				save();
			}
		}
	} finally {
		await bench.n8n.dispose();
		await bench.sim.close();
	}
	// The trigger comparison starts a server of its own per engine, so it runs once the bench server is gone.
	if (options.trigger) {
		results.triggerComparison = [];
		for (const engine of options.triggerEngines) {
			results.triggerComparison.push(
				await runTriggerComparison(engine, triggerBenchOptions(options)),
			);
			save();
		}
	}
	if (options.wait) {
		results.waitBudget = await runWaitScenario(options);
		save();
	}
	save();
	log(`raw results: ${json} (re-render with npm run bench -- --report-only ${json})`);
	await writeOutputs(results);
	log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function triggerBenchOptions(options: BenchOptions) {
	return {
		deliveries: options.deliveries,
		concurrency: options.triggerConcurrency,
		profile: options.profile,
		profileDeliveries: options.profileDeliveries,
		variants: options.triggerVariants,
		log,
	};
}

/** `--only trigger`: the comparison per engine; its section replaces the one in docs/benchmarks.md. */
async function triggerOnly(options: BenchOptions, started: number): Promise<void> {
	const comparisons = [];
	const json = path.join(os.tmpdir(), `truedy-bench-trigger-${Date.now()}.json`);
	for (const engine of options.triggerEngines) {
		comparisons.push(await runTriggerComparison(engine, triggerBenchOptions(options)));
		fs.writeFileSync(
			json,
			JSON.stringify(
				{ startedAt: new Date(started).toISOString(), triggerComparison: comparisons },
				null,
				2,
			),
		);
	}
	log(`raw results: ${json}`);
	writeTriggerSection(
		comparisons as NonNullable<BenchResults['triggerComparison']>,
		started,
		options,
	);
	log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function writeTriggerSection(
	comparisons: NonNullable<BenchResults['triggerComparison']>,
	started: number,
	options: BenchOptions,
): void {
	const file = path.join(DOCS, 'benchmarks.md');
	const page = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
	const section = renderTriggerComparison(comparisons);
	section.splice(
		1,
		0,
		'',
		`Measured by \`npm run bench -- --only trigger --trigger-engines ${options.triggerEngines.join(',')} --deliveries ${options.deliveries} --profile-deliveries ${options.profileDeliveries}\` on ${new Date(started).toISOString().slice(0, 10)} (${((Date.now() - started) / 60_000).toFixed(1)} min).` +
			(options.deliveries === DEFAULT_OPTIONS.deliveries
				? ''
				: ` The default is ${DEFAULT_OPTIONS.deliveries} deliveries per workflow; this run sent ${options.deliveries} (\`--deliveries\`), so its figures are not those of the default size.`),
	);
	fs.writeFileSync(file, spliceTriggerSection(page, section, comparisons));
	log(`wrote the trigger section of ${file}`);
}

/** wait-budget.ts in a child process (it loads n8n's engine and the node from source). */
async function runWaitScenario(options: BenchOptions): Promise<WaitBudgetResults> {
	log(
		`wait scenario: ${options.waitCalls} calls of ${options.waitCallSeconds} s, old and new polling`,
	);
	return await runBenchScript<WaitBudgetResults>(
		'wait-budget.ts',
		[String(options.waitCalls), String(options.waitCallSeconds)],
		'WAIT_BUDGET',
	);
}

/** `--only wait`: the wait scenario; its section replaces the one in docs/benchmarks.md. */
async function waitOnly(options: BenchOptions, started: number): Promise<void> {
	const results = await runWaitScenario(options);
	const json = path.join(os.tmpdir(), `truedy-bench-wait-${Date.now()}.json`);
	fs.writeFileSync(json, JSON.stringify({ waitBudget: results }, null, 2));
	log(`raw results: ${json}`);
	const file = path.join(DOCS, 'benchmarks.md');
	const page = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
	const measuredBy = `Measured by \`npm run bench -- --only wait --wait-calls ${options.waitCalls} --wait-call-seconds ${options.waitCallSeconds}\` on ${new Date(started).toISOString().slice(0, 10)} (${((Date.now() - started) / 60_000).toFixed(1)} min).`;
	fs.writeFileSync(file, spliceWaitSection(page, results, measuredBy));
	log(`wrote the wait section of ${file}`);
}

function nodeVersion(binary: string): Promise<string> {
	return new Promise((resolve) => {
		const child = spawn(binary, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
		let out = '';
		child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
		child.on('close', () => resolve(out.trim() || 'unknown'));
		child.on('error', () => resolve('unknown'));
	});
}

async function writeOutputs(results: BenchResults): Promise<void> {
	fs.mkdirSync(DOCS, { recursive: true });
	const markdown = renderReport(results);
	fs.writeFileSync(path.join(DOCS, 'benchmarks.md'), markdown);
	log(`wrote ${path.join(DOCS, 'benchmarks.md')}`);
	try {
		await renderChart(results, path.join(DOCS, 'benchmarks.png'));
		log(`wrote ${path.join(DOCS, 'benchmarks.png')}`);
	} catch (error) {
		log(`chart not written: ${(error as Error).message}`);
	}
}

if (require.main === module) {
	main().then(
		() => process.exit(0),
		(error) => {
			log(`failed: ${(error as Error).stack ?? error}`);
			process.exit(1);
		},
	);
}
