/**
 * The Call Ended trigger under load: N signed `call.ended` deliveries (each its own call and
 * event id) POSTed to the published trigger workflow's production URL, `concurrency` at a time.
 * Time to acknowledge is measured per delivery; executions are then counted through n8n's public
 * API and matched to the delivered event ids. With a server pid, the CPU time of the server and
 * its task runner over the load is measured too.
 */
import type { N8nServer } from '../e2e/n8n-server';
import type { SimCall } from '../simulator/types';
import { buildCallEndedEvent, deliverWebhook } from '../simulator/webhooks';
import { cpuMsOf, processTree } from './proc-stats';
import { percentile } from './results';
import { sleep, whileUnavailable } from './util';
import type { TriggerResult } from './results';
import { AGENT_ID, TRIGGER_NODE } from './workflows';

/** Event id of the delivery an execution of the Truedy Trigger workflow handled. */
export const triggerEventId = (execution: any): unknown =>
	execution.data?.resultData?.runData?.[TRIGGER_NODE]?.[0]?.data?.main?.[0]?.[0]?.json?.eventId;
/** Event id of the delivery an execution of the plain Webhook workflow received. */
export const plainWebhookEventId = (execution: any): unknown =>
	execution.data?.resultData?.runData?.Webhook?.[0]?.data?.main?.[0]?.[0]?.json?.body?.data?.id;

/** A call that ended a minute ago, answered, with a made-up summary. */
function endedCall(index: number, tag: string): SimCall {
	const ended = new Date(Date.now() - 60_000);
	const started = new Date(ended.getTime() - 42_000);
	const id = `call_bench${tag}${String(index).padStart(22 - tag.length, '0')}`;
	return {
		id,
		seq: index + 1,
		status: 'ended',
		direction: 'outbound',
		agent_id: AGENT_ID,
		to: `+1415555${String(index % 10_000).padStart(4, '0')}`,
		from: '+18005550100',
		variables: { lead_id: `lead-${index}` },
		call_settings: {},
		created_at: new Date(started.getTime() - 5_000).toISOString(),
		started_at: started.toISOString(),
		ended_at: ended.toISOString(),
		duration_seconds: 42,
		end_reason: 'hangup',
		summary: `Benchmark call ${index} went well.`,
		short_summary: 'Went well.',
		transcript: null,
		recording_url: null,
		transcriptReadyAt: null,
		history: [],
	};
}

/** CPU time (utime + stime) of a process and its descendants, ms. */
export function treeCpuMs(pid: number): number {
	return processTree(pid).reduce((sum, child) => sum + cpuMsOf(child), 0);
}

interface ExecutionPage {
	data: Array<{ id: string; status: string; stoppedAt?: string | null; data?: any }>;
	nextCursor?: string | null;
}

/** Every execution of the workflow (all pages), optionally with run data. */
export async function allExecutions(
	n8n: N8nServer,
	workflowId: string,
	includeData: boolean,
): Promise<ExecutionPage['data']> {
	const all: ExecutionPage['data'] = [];
	let cursor: string | undefined;
	for (;;) {
		const query = new URLSearchParams({
			workflowId,
			limit: '250',
			includeData: String(includeData),
		});
		if (cursor) query.set('cursor', cursor);
		const page = await whileUnavailable(() =>
			n8n.api<ExecutionPage>('GET', `/executions?${query.toString()}`),
		);
		all.push(...page.data);
		if (!page.nextCursor || page.data.length === 0) return all;
		cursor = page.nextCursor;
	}
}

export async function runTriggerLoad(options: {
	n8n: N8nServer;
	url: string;
	secret: string;
	workflowId: string;
	/** The delivered event id as the workflow's first node saw it. */
	eventIdOf: (execution: any) => unknown;
	deliveries: number;
	concurrency: number;
	/** Makes the event ids of this load unique (a repeated id would be a duplicate to the trigger). */
	tag: string;
	/** The n8n server process, for its CPU time (with its task runner) during the load. */
	serverPid?: number;
	log: (line: string) => void;
}): Promise<TriggerResult> {
	const { n8n, url, secret, workflowId, eventIdOf, deliveries, concurrency, tag, serverPid, log } =
		options;
	const before = new Set(
		(await allExecutions(n8n, workflowId, false)).map((execution) => execution.id),
	);
	const ackMs: number[] = [];
	const statuses: Record<string, number> = {};
	const eventIds: string[] = [];
	const errorSamples: string[] = [];
	let notReadyAnswers = 0;
	let next = 0;
	const cpuBefore = serverPid ? treeCpuMs(serverPid) : NaN;
	const started = Date.now();

	const worker = async (): Promise<void> => {
		while (next < deliveries) {
			const index = next++;
			const call = endedCall(index, tag);
			const eventId = `uv_evt_bench_${tag}_${index}`;
			eventIds[index] = eventId;
			const envelope = buildCallEndedEvent(call, 'ultravox', 'call.ended', { eventId });
			const sentAt = process.hrtime.bigint();
			let status = 'network error';
			try {
				for (;;) {
					const result = await deliverWebhook(url, envelope, {
						secret,
						headerSpelling: 'Truedy',
						timeoutMs: 30_000,
					});
					status = String(result.status);
					// n8n's own "Database is not ready!" 503 comes before any workflow runs: resend, as Truedy would.
					if (result.status === 503 && result.body.includes('Database is not ready')) {
						notReadyAnswers++;
						await sleep(1_000);
						continue;
					}
					if ((result.status < 200 || result.status > 299) && errorSamples.length < 5)
						errorSamples.push(`${result.status} ${result.body.slice(0, 200)}`);
					break;
				}
			} catch (error) {
				status = `error: ${(error as Error).message}`;
			}
			ackMs.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
			statuses[status] = (statuses[status] ?? 0) + 1;
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	const durationMs = Date.now() - started;
	const acknowledged = Object.entries(statuses)
		.filter(([status]) => /^2\d\d$/.test(status))
		.reduce((sum, [, count]) => sum + count, 0);
	log(
		`${workflowId}: ${deliveries} deliveries in ${durationMs} ms, acknowledged ${acknowledged} (${JSON.stringify(statuses)})`,
	);

	// Wait until the executions stop growing (or all are there and finished).
	let executions: ExecutionPage['data'] = [];
	let lastCount = -1;
	let stableSince = Date.now();
	const deadline = Date.now() + 180_000;
	while (Date.now() < deadline) {
		executions = (await allExecutions(n8n, workflowId, false)).filter(
			(execution) => !before.has(execution.id),
		);
		const finished = executions.filter(
			(execution) => !['new', 'running', 'waiting'].includes(execution.status),
		);
		if (finished.length >= deliveries) break;
		if (executions.length !== lastCount) {
			lastCount = executions.length;
			stableSince = Date.now();
		} else if (Date.now() - stableSince > 15_000 && finished.length === executions.length) {
			break;
		}
		await sleep(500);
	}
	// Until every execution has finished: a node that answers first runs its executions after the
	// last answer. Includes this loop's own polling of n8n's API.
	const cpuMs = serverPid ? treeCpuMs(serverPid) - cpuBefore : NaN;
	const lastStop = Math.max(
		...executions.map((execution) => Date.parse(execution.stoppedAt ?? '') || started),
	);
	const withData = (await allExecutions(n8n, workflowId, true)).filter(
		(execution) => !before.has(execution.id),
	);
	const seen = new Map<string, number>();
	for (const execution of withData) {
		const eventId = eventIdOf(execution);
		if (typeof eventId === 'string') seen.set(eventId, (seen.get(eventId) ?? 0) + 1);
	}
	const lost = eventIds.filter((id) => !seen.has(id)).length;
	const duplicates = [...seen.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0);
	return triggerResult({
		deliveries,
		concurrency,
		ackStatuses: statuses,
		ackMs,
		durationMs,
		executedMs: Math.max(durationMs, lastStop - started),
		cpuMs,
		executionsStarted: withData.length,
		executionsSucceeded: withData.filter((execution) => execution.status === 'success').length,
		lostDeliveries: lost,
		duplicateExecutions: duplicates,
		notReadyAnswers,
		errorSamples,
	});
}

/** A TriggerResult from the raw figures of one load (or of several merged). */
export function triggerResult(raw: {
	deliveries: number;
	concurrency: number;
	ackStatuses: Record<string, number>;
	ackMs: number[];
	durationMs: number;
	executedMs: number;
	cpuMs: number;
	executionsStarted: number;
	executionsSucceeded: number;
	lostDeliveries: number;
	duplicateExecutions: number;
	notReadyAnswers: number;
	errorSamples: string[];
}): TriggerResult {
	const { ackMs, cpuMs, ...rest } = raw;
	return {
		...rest,
		acknowledged: Object.entries(raw.ackStatuses)
			.filter(([status]) => /^2\d\d$/.test(status))
			.reduce((sum, [, count]) => sum + count, 0),
		ackP50Ms: percentile(ackMs, 50),
		ackP99Ms: percentile(ackMs, 99),
		ackMaxMs: Math.max(...ackMs),
		deliveriesPerSecond: (raw.deliveries * 1000) / raw.durationMs,
		executedPerSecond: (raw.deliveries * 1000) / raw.executedMs,
		cpuMsPerDelivery: cpuMs / raw.deliveries,
		ackMs,
	};
}
