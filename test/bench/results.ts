/** Shapes of the benchmark results (also saved as JSON so the report can be re-rendered) and stats helpers. */
import type { MachineInfo, MemoryPeaks } from './proc-stats';
import type { RawLoadResult } from './raw-load';
import type { Variant } from './workflows';

export type ScenarioKey = 'fast' | 'latency' | 'ratelimit';

export interface ScenarioInfo {
	key: ScenarioKey;
	label: string;
	latencyMs: number;
	rateLimit?: { limit: number; windowMs: number };
}

/** One execution of one variant, counted from the simulator's request log and n8n's run data. */
export interface VariantRun {
	scenario: ScenarioKey;
	variant: string;
	run: number;
	items: number;
	status: string;
	error?: string;
	/** The node's own executionTime from the run data, ms. */
	nodeMs: number;
	/** Webhook request to response (whole execution incl. Code node and saving), ms. */
	wallMs: number;
	/** CPU time (utime + stime) of the n8n server and its task runner during the request, ms. */
	cpuMs: number;
	itemsOut: number;
	postRequests: number;
	rejected429: number;
	callsCreated: number;
	/** Calls created beyond the first for the same phone number. */
	duplicateDials: number;
	/** Leads that never got a call. */
	lostItems: number;
	/** Highest number of API requests the simulator answered at once. */
	maxInFlight: number;
	loadAverage: number;
}

export interface RawRun extends RawLoadResult {
	scenario: ScenarioKey;
	run: number;
}

export interface RssRun {
	variant: string;
	items: number;
	status: string;
	/** Webhook call to answer (the whole execution), ms. */
	wallMs: number;
	callsCreated: number;
	duplicateDials: number;
	lostItems: number;
	peaks: MemoryPeaks;
}

export interface TriggerResult {
	deliveries: number;
	concurrency: number;
	acknowledged: number;
	ackStatuses: Record<string, number>;
	ackP50Ms: number;
	ackP99Ms: number;
	ackMaxMs: number;
	durationMs: number;
	/** From the first send to the last answer. */
	deliveriesPerSecond?: number;
	/** From the first send until the last execution had finished. */
	executedMs?: number;
	executedPerSecond?: number;
	/** CPU time of the n8n server and its task runner per delivery, ms, until the last execution had finished. */
	cpuMsPerDelivery?: number;
	/** Every time to acknowledge, ms (so halves of a run can be merged). */
	ackMs?: number[];
	executionsStarted: number;
	executionsSucceeded: number;
	/** Deliveries whose call id appears in no execution. */
	lostDeliveries: number;
	/** Call ids that started more than one execution. */
	duplicateExecutions: number;
	/** n8n's 503 "Database is not ready!" answers (before any workflow runs), each resent after 1 s; the ack time counts to the final answer. */
	notReadyAnswers?: number;
	/** The first few non-2xx answers (status and body start). */
	errorSamples: string[];
}

export interface Conditions {
	otherN8nProcesses: number;
	loadAverage: number;
	at: string;
}

export interface BenchResults {
	startedAt: string;
	finishedAt: string;
	wallMs: number;
	machine: MachineInfo & { node: string; benchNode: string; n8n: string };
	options: {
		runs: number;
		items: number;
		rssItems: number;
		concurrencies: number[];
		defaultConcurrency: number;
		expressionEngine: string;
		latencyMs: number;
		rateLimit: { limit: number; windowMs: number };
	};
	conditions: { before: Conditions; after: Conditions };
	scenarios: ScenarioInfo[];
	variants: Variant[];
	runs: VariantRun[];
	raw: RawRun[];
	rss: RssRun[];
	trigger?: TriggerResult;
	/** The same deliveries to n8n's own Webhook node (→ No Operation), for comparison. */
	plainWebhook?: TriggerResult;
	/** Truedy Trigger vs n8n's Webhook node, one server per expression engine (see trigger-bench.ts). */
	triggerComparison?: TriggerComparison[];
	/** Wait for Call to End under the organisation limit, per-call vs list polling (wait-budget.ts). */
	waitBudget?: WaitBudgetResults;
}

/** One way of waiting for N calls, counted from the simulator's request log. */
export interface WaitBudgetRow {
	mode: string;
	label: string;
	calls: number;
	/** Every API request, answered 429 or not. */
	requests: number;
	creates: number;
	/** `GET /calls` list reads. */
	listReads: number;
	/** `GET /calls/{id}` reads. */
	callReads: number;
	answered429: number;
	/** Of those, answers to GETs (the wait itself); the rest were creates. */
	answered429ToReads: number;
	/** GETs sent per poll interval, from the first GET to the last. */
	getsPerPollCycle: number;
	maxGetsPerPollCycle: number;
	/** Requests answered (not 429) in the busiest window of the limiter, as a share of the limit. */
	peakWindowShare: number;
	/** Requests answered per window of the limiter the run touched (first to last, whole), as a share of the limit. */
	meanShare: number;
	/** Start of the node to its last item's outcome (the node returns when every call has ended). */
	timeToLastOutcomeMs: number;
	itemsFailed: number;
	ended: number;
	nodeError?: string;
	loadAverageBefore: number;
	loadAverageAfter: number;
}

export interface WaitBudgetResults {
	startedAt: string;
	calls: number;
	callSeconds: number;
	pollIntervalS: number;
	/** Place Call's default Requests per Minute (0: no budget) when the bench ran. */
	defaultRequestsPerMinute: number;
	rateLimit: { limit: number; windowMs: number };
	rows: WaitBudgetRow[];
}

export interface TriggerComparison {
	/** N8N_EXPRESSION_ENGINE of the server. */
	engine: string;
	deliveries: number;
	concurrency: number;
	/** Workflow key → result, e.g. 'truedy', 'webhook', 'truedy-v1', 'truedy-full'. */
	results: Record<string, TriggerResult>;
	/** CPU profiles of the server under the load, per workflow key. */
	profiles?: Record<string, import('./cpu-profile').ProfileSummary>;
	conditions: { loadAverageBefore: number; loadAverageAfter: number };
}

export function median(values: number[]): number {
	const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
	if (sorted.length === 0) return NaN;
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	if (sorted.length === 0) return NaN;
	const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
	return sorted[Math.min(sorted.length, rank) - 1];
}

export function itemsPerSecond(items: number, ms: number): number {
	return ms > 0 ? (items * 1000) / ms : NaN;
}
