/**
 * Truedy Trigger vs n8n's own Webhook node, in the same n8n server and the same run, once per
 * expression engine (N8N_EXPRESSION_ENGINE: n8n's default `vm`, and `quickjs`):
 *
 * - `webhook`: n8n's Webhook node (v2, answers 204 on receipt) → No Operation. The floor.
 * - `truedy`: Truedy Trigger 1.1 (Call Ended, Verify Signature on, Resolve Call off) → No Operation.
 * - `truedy-v1`: the same at typeVersion 1 (existing workflows): n8n evaluates one expression per
 *   request for version-1 webhook nodes.
 * - `truedy-full`: the same with the dedupe store at its cap (20,000 keys saved in the static data
 *   before the server starts): the cost of the persisted dedupe per delivery.
 *
 * `webhook` and `truedy` run in halves, webhook–truedy–truedy–webhook, so drift on a shared machine
 * falls on both; the halves are merged. Optionally a CPU profile of the server (V8 inspector) over
 * one more load of each of the two.
 */
import { randomBytes } from 'crypto';
import os from 'os';
import path from 'path';

import {
	DEDUPE_LIMITS,
	DeliveryDeduper,
	PERSISTED_PROPERTY,
} from '../../nodes/Truedy/trigger/dedupe';
import { writeWorkflowStaticData } from '../e2e/n8n-db';
import { ensureN8nInstalled, N8nServer, packAndInstallPackage } from '../e2e/n8n-server';
import { ServerProfiler, type ProfileSummary } from './cpu-profile';
import { findN8nServerPid, loadAverage } from './proc-stats';
import type { TriggerComparison, TriggerResult } from './results';
import { plainWebhookEventId, runTriggerLoad, triggerEventId, triggerResult } from './trigger-load';
import { sleep, whileUnavailable, withRetries } from './util';
import {
	PLAIN_WEBHOOK_PATH,
	PLAIN_WEBHOOK_WORKFLOW_ID,
	plainWebhookWorkflow,
	TRIGGER_NODE,
	triggerWebhookId,
	triggerWorkflow,
	triggerWorkflowId,
	WEBHOOK_CREDENTIAL,
} from './workflows';

const ROOT = path.resolve(__dirname, '..', '..');

export interface TriggerBenchOptions {
	deliveries: number;
	concurrency: number;
	/** Also profile one more load of each (Truedy Trigger, Webhook node) with the V8 inspector. */
	profile: boolean;
	profileDeliveries: number;
	/** Also run `truedy-v1` and `truedy-full`. */
	variants: boolean;
	log: (line: string) => void;
}

/** A dedupe store at its cap, as the Truedy Trigger saves it, with keys first seen over the last 20 hours. */
export function fullStoreStaticData(now = Date.now()): Record<string, unknown> {
	const deduper = new DeliveryDeduper(DEDUPE_LIMITS);
	const nodeData: Record<string, unknown> = {};
	const spanMs = 20 * 60 * 60 * 1000;
	for (let i = 0; i < DEDUPE_LIMITS.maxKeys; i++) {
		deduper.claim(
			'bench',
			`call.ended|event:preloaded_${i}`,
			nodeData as any,
			now - spanMs + Math.floor((i * spanMs) / DEDUPE_LIMITS.maxKeys),
		);
	}
	return JSON.parse(
		JSON.stringify({
			[`node:${TRIGGER_NODE}`]: { [PERSISTED_PROPERTY]: nodeData[PERSISTED_PROPERTY] },
		}),
	);
}

function merge(parts: TriggerResult[]): TriggerResult {
	const sum = (pick: (part: TriggerResult) => number) =>
		parts.reduce((total, part) => total + pick(part), 0);
	const statuses: Record<string, number> = {};
	for (const part of parts)
		for (const [status, count] of Object.entries(part.ackStatuses))
			statuses[status] = (statuses[status] ?? 0) + count;
	return triggerResult({
		deliveries: sum((part) => part.deliveries),
		concurrency: parts[0].concurrency,
		ackStatuses: statuses,
		ackMs: parts.flatMap((part) => part.ackMs ?? []),
		durationMs: sum((part) => part.durationMs),
		executedMs: sum((part) => part.executedMs ?? part.durationMs),
		cpuMs: sum((part) => (part.cpuMsPerDelivery ?? NaN) * part.deliveries),
		executionsStarted: sum((part) => part.executionsStarted),
		executionsSucceeded: sum((part) => part.executionsSucceeded),
		lostDeliveries: sum((part) => part.lostDeliveries),
		duplicateExecutions: sum((part) => part.duplicateExecutions),
		notReadyAnswers: sum((part) => part.notReadyAnswers ?? 0),
		errorSamples: parts.flatMap((part) => part.errorSamples).slice(0, 5),
	});
}

/**
 * The server environment for an engine spec: `vm`, `quickjs` or `legacy` (N8N_EXPRESSION_ENGINE),
 * optionally `+lazy` for N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true (an isolate only once an
 * expression is evaluated).
 */
export function engineEnv(spec: string): Record<string, string> {
	const [engine, ...flags] = spec.split('+');
	if (!['vm', 'quickjs', 'legacy'].includes(engine) || flags.some((flag) => flag !== 'lazy'))
		throw new Error(`unknown engine spec ${spec}`);
	return {
		N8N_EXPRESSION_ENGINE: engine,
		...(flags.includes('lazy') ? { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' } : {}),
	};
}

/** One server with `engine`, every workflow of the comparison, the loads, and the server disposed. */
export async function runTriggerComparison(
	engine: string,
	options: TriggerBenchOptions,
): Promise<TriggerComparison> {
	const { log } = options;
	const install = await ensureN8nInstalled(log);
	const n8n = await N8nServer.create({ install, log, env: engineEnv(engine) });
	const secret = `whsec_${randomBytes(24).toString('hex')}`;
	const loadBefore = loadAverage();
	try {
		await packAndInstallPackage(install, n8n.userFolder, ROOT);
		await withRetries('import:credentials', () =>
			n8n.importCredentials([
				{ ...WEBHOOK_CREDENTIAL, type: 'truedyWebhookApi', data: { signingSecret: secret } },
			]),
		);
		const truedyKeys = options.variants ? ['', 'v1', 'full'] : [''];
		const workflows = [
			...truedyKeys.map((key) => triggerWorkflow({ key, typeVersion: key === 'v1' ? 1 : 1.1 })),
			plainWebhookWorkflow(),
		];
		await withRetries('import:workflow', () => n8n.importWorkflow(workflows));
		if (options.variants)
			writeWorkflowStaticData(n8n, triggerWorkflowId('full'), fullStoreStaticData());
		await n8n.start();
		for (const workflow of workflows)
			await whileUnavailable(() => n8n.api('POST', `/workflows/${workflow.id}/activate`));
		const serverPid = findN8nServerPid(install.n8nBin, n8n.userFolder);
		if (!serverPid) throw new Error('could not find the n8n server process');
		await sleep(2_000);

		const load = (
			key: 'webhook' | 'truedy' | 'truedy-v1' | 'truedy-full',
			deliveries: number,
			tag: string,
		) => {
			const truedyKey = key === 'truedy' ? '' : key.replace('truedy-', '');
			return runTriggerLoad({
				n8n,
				url:
					key === 'webhook'
						? n8n.webhookUrl(PLAIN_WEBHOOK_PATH)
						: n8n.webhookUrl(`${triggerWebhookId(truedyKey)}/webhook`),
				secret,
				workflowId: key === 'webhook' ? PLAIN_WEBHOOK_WORKFLOW_ID : triggerWorkflowId(truedyKey),
				eventIdOf: key === 'webhook' ? plainWebhookEventId : triggerEventId,
				deliveries,
				concurrency: options.concurrency,
				tag,
				serverPid,
				log,
			});
		};
		const summary = (label: string, result: TriggerResult) =>
			log(
				`[${engine}] ${label}: p50 ${result.ackP50Ms.toFixed(0)} ms, p99 ${result.ackP99Ms.toFixed(0)} ms, ${result.deliveriesPerSecond?.toFixed(1)}/s (executed ${result.executedPerSecond?.toFixed(1)}/s), ` +
					`cpu ${result.cpuMsPerDelivery?.toFixed(1)} ms/delivery, executions ${result.executionsStarted}, lost ${result.lostDeliveries}, statuses ${JSON.stringify(result.ackStatuses)}, 503 not-ready resent ${result.notReadyAnswers ?? 0}`,
			);

		log(`[${engine}] warm-up`);
		await load('webhook', 50, 'ww');
		await load('truedy', 50, 'tw');

		const half = Math.ceil(options.deliveries / 2);
		const w1 = await load('webhook', half, 'w1');
		const t1 = await load('truedy', half, 't1');
		const t2 = await load('truedy', options.deliveries - half, 't2');
		const w2 = await load('webhook', options.deliveries - half, 'w2');
		const results: Record<string, TriggerResult> = {
			webhook: merge([w1, w2]),
			truedy: merge([t1, t2]),
		};
		summary('webhook', results.webhook);
		summary('truedy', results.truedy);
		if (options.variants) {
			results['truedy-v1'] = await load('truedy-v1', options.deliveries, 'v1');
			summary('truedy-v1', results['truedy-v1']);
			results['truedy-full'] = await load('truedy-full', options.deliveries, 'full');
			summary('truedy-full', results['truedy-full']);
		}

		let profiles: Record<string, ProfileSummary> | undefined;
		if (options.profile) {
			profiles = {};
			for (const key of ['webhook', 'truedy'] as const) {
				const profiler = new ServerProfiler(serverPid, install.node24Bin);
				await profiler.start();
				await load(key, options.profileDeliveries, `p${key.slice(0, 1)}`);
				const file = path.join(
					os.tmpdir(),
					`truedy-bench-${engine}-${key}-${Date.now()}.cpuprofile`,
				);
				profiles[key] = { ...(await profiler.stop(file)), deliveries: options.profileDeliveries };
				log(
					`[${engine}] profile of ${key}: ${file}; top: ${profiles[key].top
						.slice(0, 5)
						.map((f) => `${f.frame} ${f.selfPercent.toFixed(1)}%`)
						.join('; ')}`,
				);
			}
		}
		for (const result of Object.values(results)) delete result.ackMs; // merged already; keeps the JSON small
		return {
			engine,
			deliveries: options.deliveries,
			concurrency: options.concurrency,
			results,
			profiles,
			conditions: { loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() },
		};
	} finally {
		await n8n.dispose();
	}
}
