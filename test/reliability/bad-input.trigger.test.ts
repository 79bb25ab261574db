// Suite 2 — generated bad input, the trigger's half (docs/reliability.md; Place Call's half is
// bad-input.place-call.test.ts). fast-check generates webhook bodies (test/support/generators.ts):
// envelopes with wrong types in every field, any JSON, not JSON, cut-off, empty, deep and 5 MB
// bodies. They go through the trigger's pure normalizer with thousands of cases, and signed over
// real HTTP to the trigger's webhook, 500 per run. Nothing may crash the trigger.
import fc from 'fast-check';
import type { IDataObject } from 'n8n-workflow';

import { quote } from '../../nodes/Truedy/shared/validation';
import { deliveryKey } from '../../nodes/Truedy/trigger/dedupe';
import { normalizeDelivery } from '../../nodes/Truedy/trigger/delivery';
import { filterMismatch } from '../../nodes/Truedy/trigger/filter';
import { prepareDelivery } from '../simulator/webhooks';
import {
	bigWebhookBody,
	startTriggerHarness,
	webhookBody,
	webhookContentType,
	webhookEnvelope,
	type TriggerHarness,
} from '../support';
import { BAD_INPUT, CANARY_SIGNING_SECRET, guard, useBadInputSuite } from './support';

const { cases: CASES, engineRuns: ENGINE_RUNS, pureRuns: PURE_RUNS, seed: SEED } = BAD_INPUT;
const { log, scanner } = useBadInputSuite('trigger');

describe('webhook bodies', () => {
	test(`pure: normalizeDelivery, deliveryKey and the filters never throw (${PURE_RUNS} cases)`, () => {
		const crashes = { count: 0 };
		const details = fc.check(
			fc.property(
				fc.oneof(webhookEnvelope, fc.dictionary(fc.string(), fc.anything(), { maxKeys: 5 })),
				(body) => {
					const delivery = guard(crashes, () => {
						const d = normalizeDelivery(body as IDataObject);
						deliveryKey(body as IDataObject, d.event, JSON.stringify(body) ?? '');
						filterMismatch(d, {
							agentIds: 'agt_1, agt_2',
							statuses: ['ended'],
							endReasons: ['hangup'],
						});
						return d;
					});
					return delivery !== undefined && typeof delivery.event === 'string';
				},
			),
			{ numRuns: PURE_RUNS, seed: SEED },
		);
		log.recordCheck('webhook bodies (pure normalizer)', details, crashes.count);
	});

	test(`trigger over HTTP: ${CASES} generated signed bodies (not JSON, empty, deep, wrong types, 5 MB) never crash it`, async () => {
		const harness: TriggerHarness = await startTriggerHarness({
			parameters: { events: ['call.ended', 'call.failed', 'call.started', 'batch.completed'] },
			credentials: { truedyWebhookApi: { signingSecret: CANARY_SIGNING_SECRET } },
		});
		const problems: string[] = [];
		const byStatus: Record<string, number> = {};
		let sent = 0;
		try {
			for (let run = 0; run < ENGINE_RUNS; run++) {
				const cases = fc.sample(fc.tuple(webhookBody, webhookContentType), {
					numRuns: CASES - 2,
					seed: SEED + 400 + run,
				});
				cases.push(
					...fc.sample(fc.tuple(bigWebhookBody, fc.constant('application/json')), {
						numRuns: 2,
						seed: SEED + run,
					}),
				);
				const queue = [...cases];
				const worker = async () => {
					for (let next = queue.shift(); next; next = queue.shift()) {
						const [raw, type] = next;
						const prepared = prepareDelivery(raw, {
							secret: CANARY_SIGNING_SECRET,
							omitHeaders: ['content-type'],
							extraHeaders: type ? { 'Content-Type': type } : {},
						});
						const response = await fetch(harness.url, {
							method: 'POST',
							headers: prepared.headers,
							body: prepared.rawBody,
						});
						const text = await response.text();
						sent++;
						byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
						if (![200, 204, 400].includes(response.status))
							problems.push(`${response.status} for ${quote(raw)}: ${text.slice(0, 200)}`);
						if (
							response.status === 400 &&
							!text.includes('not a JSON object') &&
							!text.includes('Failed to parse request body')
						)
							problems.push(`unclear 400 for ${quote(raw)}: ${text.slice(0, 200)}`);
						scanner.scan('webhook answer', text);
					}
				};
				await Promise.all(Array.from({ length: 8 }, worker));
			}
			await harness.idle();
		} finally {
			await harness.close();
		}
		const failedRequests = harness.requests.filter((r) => r.outcome === 'failed');
		const failedExecutions = harness.executions.filter((e) => e.status !== 'success');
		for (const r of failedRequests) problems.push(`webhook() threw: ${r.error?.message}`);
		for (const e of failedExecutions)
			problems.push(`execution ${e.status}: ${e.run.data.resultData.error?.message}`);
		for (const e of harness.executions) scanner.scan('trigger execution', e.run);
		const started = harness.requests.filter((r) => r.outcome === 'started').length;
		log.record('webhook bodies (trigger over HTTP)', {
			cases: sent,
			started,
			ignored: harness.requests.filter((r) => r.outcome === 'ignored').length,
			rejected400: byStatus['400'] ?? 0,
			byStatus,
			crashes: failedRequests.length + failedExecutions.length,
			problems: problems.length,
		});
		expect(problems).toEqual([]);
		expect(sent).toBe(CASES * ENGINE_RUNS);
		expect(harness.executions).toHaveLength(started);
		expect(started).toBeGreaterThan(0);
	});
});
