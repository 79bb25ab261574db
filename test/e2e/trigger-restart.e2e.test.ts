/**
 * Truedy Trigger deliveries in a real n8n 2.41.1 server across restarts, through its production
 * and test webhook URLs, with a Truedy Webhook credential holding two signing secrets (one per
 * endpoint: Production URL and Test URL).
 *
 * - Deliver 1, 200 and 1,000 distinct events (the larger batches 20 at a time), restart
 *   n8n, deliver them all again with fresh timestamps and signatures: not one new execution.
 * - After every burst the workflow's static data, read straight from n8n's SQLite database,
 *   holds the key of every delivery (concurrent requests do not overwrite each other's keys).
 * - A delivery signed with the second secret is accepted; one signed with neither gets 401.
 * - "Listen for test event" driven through the REST API as the editor does
 *   (POST /rest/workflows/{id}/run with the trigger as triggerToStartFrom), then a delivery to the
 *   Test URL signed with the Test URL endpoint's secret runs the workflow in manual mode.
 *
 * "Started nothing" is proven with a sentinel: once the re-deliveries are answered, one new event
 * is delivered; after its execution has finished, it must be the only execution since the baseline.
 */
import { randomBytes } from 'crypto';
import path from 'path';

import {
	deliveryKey,
	PERSISTED_PROPERTY,
	STORED_KEY_LENGTH,
	storedKey,
} from '../../nodes/Truedy/trigger/dedupe';
import { deliverWebhook, type DeliverResult, type WebhookEnvelope } from '../simulator/webhooks';
import { ensureN8nInstalled, N8nServer, packAndInstallPackage } from './n8n-server';
import { e2eLog, Timings } from './e2e-helpers';
import { readWorkflowStaticData } from './n8n-db';
import { whileUnavailable } from '../bench/util';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKFLOW_ID = 'truedyRestartE2e';
const WEBHOOK_ID = '7d3c1b9e-5a2f-4e6d-8c0b-1f2e3d4c5b6a';
const CREDENTIAL = { id: 'truedyHookTwoSec', name: 'Truedy Webhook (two endpoints)' };
const TRIGGER = 'Truedy Trigger';
/** The Production URL endpoint's secret and the Test URL endpoint's secret. */
const PRODUCTION_SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const TEST_URL_SECRET = `whsec_${randomBytes(24).toString('hex')}`;

const timings = new Timings();
const log = e2eLog('trigger-restart');
let n8n: N8nServer | undefined;
let productionUrl = '';
let testUrl = '';
/** Every event delivered so far (each started one execution the first time). */
const delivered: WebhookEnvelope[] = [];

const workflow = {
	id: WORKFLOW_ID,
	name: 'E2E: Truedy Trigger across restarts',
	active: false,
	nodes: [
		{
			id: '0b5f3c2a-1d4e-4f6a-9b8c-7d6e5f4a3b21',
			name: TRIGGER,
			type: 'n8n-nodes-truedy.truedyTrigger',
			typeVersion: 1.1,
			position: [0, 0],
			webhookId: WEBHOOK_ID,
			// No Truedy API lookups: this file is about delivery, signatures and dedupe.
			parameters: {
				events: ['call.ended'],
				verifySignature: true,
				resolveCall: false,
				fetchCallDetails: false,
				filters: {},
				options: {},
			},
			credentials: { truedyWebhookApi: CREDENTIAL },
		},
		{
			id: '0b5f3c2a-1d4e-4f6a-9b8c-7d6e5f4a3b22',
			name: 'Done',
			type: 'n8n-nodes-base.noOp',
			typeVersion: 1,
			position: [220, 0],
			parameters: {},
		},
	],
	connections: { [TRIGGER]: { main: [[{ node: 'Done', type: 'main', index: 0 }]] } },
	settings: { executionOrder: 'v1' },
	pinData: {},
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The harness's quickjs engine creates a context per request: on 2 shared cores 1,000 deliveries take minutes. */
const LONG = 30 * 60_000;

let sequence = 0;
/** A flat call.ended envelope with its own event and call id. */
function newEvent(tag: string): WebhookEnvelope {
	const i = sequence++;
	return {
		event: 'call.ended',
		timestamp: new Date().toISOString(),
		data: {
			id: `evt_${tag}_${i}_${randomBytes(4).toString('hex')}`,
			call_id: `call_${tag}_${i}`,
			status: 'completed',
			end_reason: 'hangup',
			duration_seconds: 1,
		},
	} as WebhookEnvelope;
}

const keyOf = (envelope: WebhookEnvelope) =>
	storedKey(deliveryKey(envelope as any, 'call.ended', JSON.stringify(envelope)));

/**
 * n8n's own 503 "Database is not ready!" (before any workflow runs, when its SQLite health ping
 * was slow on a loaded machine): a sender retries it, and so does this file (counted).
 */
const retries = { notReady: 0 };

/** One delivery, sent again (freshly signed) after n8n's "Database is not ready!", as Truedy would. */
async function deliverOne(
	url: string,
	envelope: WebhookEnvelope,
	secret: string,
): Promise<DeliverResult> {
	for (;;) {
		const result = await deliverWebhook(url, envelope, { secret, timeoutMs: 60_000 });
		if (result.status !== 503) return result;
		if (!result.body.includes('Database is not ready')) return result;
		retries.notReady++;
		await sleep(2_000);
	}
}

/** Delivers every envelope, `concurrency` at a time, signed with `secretFor(index)`. */
async function deliverAll(
	url: string,
	envelopes: WebhookEnvelope[],
	concurrency: number,
	secretFor: (i: number) => string,
): Promise<DeliverResult[]> {
	const results: DeliverResult[] = new Array(envelopes.length);
	let next = 0;
	const worker = async () => {
		while (next < envelopes.length) {
			const i = next++;
			results[i] = await deliverOne(url, envelopes[i], secretFor(i));
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	return results;
}

const alternate = (i: number) => (i % 2 === 0 ? PRODUCTION_SECRET : TEST_URL_SECRET);

function statusCounts(results: DeliverResult[]): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
	return counts;
}

interface Page {
	data: Array<{ id: string; status: string; mode: string; data?: any }>;
	nextCursor?: string | null;
}

/** Every execution of the workflow (all pages). */
async function allExecutions(includeData = false): Promise<Page['data']> {
	const all: Page['data'] = [];
	let cursor: string | undefined;
	for (;;) {
		const query = new URLSearchParams({
			workflowId: WORKFLOW_ID,
			limit: '250',
			includeData: String(includeData),
		});
		if (cursor) query.set('cursor', cursor);
		const page = await whileUnavailable(() =>
			n8n!.api<Page>('GET', `/executions?${query.toString()}`),
		);
		all.push(...page.data);
		if (!page.nextCursor || page.data.length === 0) return all;
		cursor = page.nextCursor;
	}
}

/** Waits until `count` executions not in `since` exist and none of them is still running. */
async function waitForNewExecutions(
	since: Set<string>,
	count: number,
	timeoutMs = 240_000,
): Promise<Page['data']> {
	const deadline = Date.now() + timeoutMs;
	let fresh: Page['data'] = [];
	while (Date.now() < deadline) {
		fresh = (await allExecutions()).filter((execution) => !since.has(execution.id));
		if (
			fresh.length >= count &&
			fresh.every((execution) => !['new', 'running', 'waiting'].includes(execution.status))
		)
			return fresh;
		await sleep(500);
	}
	throw new Error(
		`wanted ${count} new finished executions within ${timeoutMs} ms, have ${fresh.length}`,
	);
}

const baseline = async () => new Set((await allExecutions()).map((execution) => execution.id));

/** The stored keys in the saved static data. */
function savedKeys(): Set<string> {
	const persisted = readWorkflowStaticData(n8n!, WORKFLOW_ID)?.[`node:${TRIGGER}`]?.[
		PERSISTED_PROPERTY
	];
	const keys = new Set<string>();
	for (const [, text] of persisted?.b ?? []) {
		for (let at = 0; at < text.length; at += STORED_KEY_LENGTH)
			keys.add(text.slice(at, at + STORED_KEY_LENGTH));
	}
	return keys;
}

/** Waits (briefly: n8n saves right after answering) until every delivered key is in the database. */
async function expectAllKeysSaved(): Promise<number> {
	const wanted = delivered.map(keyOf);
	let missing = wanted.length;
	for (let attempt = 0; attempt < 20; attempt++) {
		const saved = savedKeys();
		missing = wanted.filter((key) => !saved.has(key)).length;
		if (missing === 0) return saved.size;
		await sleep(250);
	}
	throw new Error(`${missing} of ${wanted.length} delivered keys are not in the saved static data`);
}

/** First deliveries of new events: all answered 204, one execution each, every key saved. */
async function deliverNew(count: number, concurrency: number, tag: string): Promise<void> {
	const envelopes = Array.from({ length: count }, () => newEvent(tag));
	const before = await baseline();
	const results = await timings.time(`deliver ${count} new (${concurrency} at a time)`, () =>
		deliverAll(productionUrl, envelopes, concurrency, alternate),
	);
	expect(statusCounts(results)).toEqual({ 204: count });
	delivered.push(...envelopes);
	const fresh = await timings.time(`wait for ${count} executions`, () =>
		waitForNewExecutions(before, count),
	);
	expect(fresh).toHaveLength(count);
	expect(
		fresh.every((execution) => execution.status === 'success' && execution.mode === 'webhook'),
	).toBe(true);
	const savedCount = await expectAllKeysSaved();
	log(
		`${count} new deliveries: ${fresh.length} executions; ${savedCount} keys in the saved static data`,
	);
}

/** Re-delivers every event so far with fresh signatures: all 204, and only the sentinel runs. */
async function redeliverAll(concurrency: number): Promise<void> {
	const before = await baseline();
	const results = await timings.time(`re-deliver ${delivered.length} after the restart`, () =>
		deliverAll(productionUrl, delivered, concurrency, alternate),
	);
	expect(statusCounts(results)).toEqual({ 204: delivered.length });
	await sleep(2_000);
	const sentinel = newEvent('sentinel');
	expect((await deliverOne(productionUrl, sentinel, PRODUCTION_SECRET)).status).toBe(204);
	delivered.push(sentinel);
	const fresh = await waitForNewExecutions(before, 1);
	const withData = await whileUnavailable(() => n8n!.getExecution(fresh[0].id, true));
	expect((withData as any).data.resultData.runData[TRIGGER][0].data.main[0][0].json.eventId).toBe(
		sentinel.data.id,
	);
	expect(fresh).toHaveLength(1);
	log(
		`re-delivered ${delivered.length - 1} after a restart: 0 new executions (sentinel ${fresh[0].id} only)`,
	);
}

async function restart(): Promise<void> {
	await timings.time('restart n8n', () => n8n!.restart());
}

beforeAll(async () => {
	const install = await ensureN8nInstalled(log);
	n8n = await N8nServer.create({ install, log });
	await timings.time('pack + install the package', () =>
		packAndInstallPackage(install, n8n!.userFolder, ROOT),
	);
	await n8n.importCredentials([
		{
			...CREDENTIAL,
			type: 'truedyWebhookApi',
			data: { signingSecret: `${PRODUCTION_SECRET}\n${TEST_URL_SECRET}` },
		},
	]);
	await n8n.importWorkflow(workflow);
	await n8n.publishWorkflow(WORKFLOW_ID);
	await timings.time('start n8n', () => n8n!.start());
	await n8n.createApiKey('e2e-trigger-restart');
	productionUrl = n8n.webhookUrl(`${WEBHOOK_ID}/webhook`);
	testUrl = `${n8n.baseUrl}/webhook-test/${WEBHOOK_ID}/webhook`;
}, 10 * 60_000);

afterAll(async () => {
	log(`deliveries sent again after n8n's 503 "Database is not ready!": ${retries.notReady}`);
	await n8n?.dispose();
	timings.print('trigger-restart.e2e.test.ts');
}, 60_000);

test('6 deliveries 3 at a time: 6 executions, all 6 keys saved', async () => {
	await deliverNew(6, 3, 'six');
	expect(savedKeys().size).toBe(6);
});

test('a delivery signed with neither secret gets 401 and starts nothing', async () => {
	const before = await baseline();
	const forged = await deliverWebhook(productionUrl, newEvent('forged'), {
		secret: `whsec_${randomBytes(24).toString('hex')}`,
		timeoutMs: 60_000,
	});
	expect(forged.status).toBe(401);
	expect(JSON.parse(forged.body).error).toMatchObject({ reason: 'signature_mismatch' });
	expect(forged.body).not.toContain(PRODUCTION_SECRET);
	expect(forged.body).not.toContain(TEST_URL_SECRET);
	const sentinel = newEvent('sentinel');
	expect((await deliverOne(productionUrl, sentinel, TEST_URL_SECRET)).status).toBe(204); // the second secret
	delivered.push(sentinel);
	expect(await waitForNewExecutions(before, 1)).toHaveLength(1);
});

test('1 delivery, restart, re-deliver: 0 new executions', async () => {
	await deliverNew(1, 1, 'one');
	await restart();
	await redeliverAll(3);
});

test(
	'200 deliveries (20 at a time), restart, re-deliver all: 0 new executions',
	async () => {
		await deliverNew(200, 20, 'two-hundred');
		await restart();
		await redeliverAll(20);
	},
	LONG,
);

test(
	'1,000 deliveries (20 at a time), restart, re-deliver all: 0 new executions',
	async () => {
		await deliverNew(1000, 20, 'thousand');
		await restart();
		await redeliverAll(20);
		// Everything delivered in this file is still one key each in the database.
		expect(savedKeys().size).toBe(delivered.length);
	},
	LONG,
);

test(
	'Test URL with its own secret: "Listen for test event" through the REST API, then a delivery runs in manual mode',
	async () => {
		const before = await baseline();
		// Before listening, n8n does not know the test webhook.
		expect(
			(
				await deliverWebhook(testUrl, newEvent('test-url'), {
					secret: TEST_URL_SECRET,
					timeoutMs: 60_000,
				})
			).status,
		).toBe(404);

		const listening = await whileUnavailable(() =>
			n8n!.rest<{ waitingForWebhook?: boolean }>('POST', `/workflows/${WORKFLOW_ID}/run`, {
				triggerToStartFrom: { name: TRIGGER },
			}),
		);
		expect(listening).toMatchObject({ waitingForWebhook: true });

		// Signed with the production endpoint's secret only: refused, and n8n keeps listening.
		const wrong = await deliverWebhook(testUrl, newEvent('test-url'), {
			secret: `whsec_${randomBytes(24).toString('hex')}`,
			timeoutMs: 60_000,
		});
		expect(wrong.status).toBe(401);

		const event = newEvent('test-url');
		const accepted = await deliverOne(testUrl, event, TEST_URL_SECRET);
		expect(accepted.status).toBe(204);
		const [execution] = await waitForNewExecutions(before, 1, 60_000);
		expect(execution.mode).toBe('manual');
		const withData = await whileUnavailable(() => n8n!.getExecution(execution.id, true));
		expect(
			(withData as any).data.resultData.runData[TRIGGER][0].data.main[0][0].json,
		).toMatchObject({ event: 'call.ended', eventId: event.data.id });

		// The production URL keeps working next to it, with the other secret.
		const production = newEvent('after-test');
		expect((await deliverOne(productionUrl, production, PRODUCTION_SECRET)).status).toBe(204);
		delivered.push(production);
		expect(await waitForNewExecutions(before, 2, 60_000)).toHaveLength(2);
	},
	LONG,
);
