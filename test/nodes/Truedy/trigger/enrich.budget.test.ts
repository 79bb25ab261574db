// A burst of 100 call.ended deliveries with Fetch Missing Transcript and Recording, end to end: the
// simulator (organisation limit 100 per 60 s, `rateLimit: {}`) delivers passthrough webhooks over
// real HTTP to the trigger in n8n-core's WebhookContext. Enrichment shares one budget per account
// per process (trigger/enrich.ts): its GETs are spread at ENRICHMENT_REQUESTS_PER_MINUTE instead of
// sent at once, so the burst draws no 429, and every delivery still starts within its Max Wait.
import { mkdirSync, writeFileSync } from 'fs';
import type { IDataObject } from 'n8n-workflow';
import path from 'path';

import { ENRICHMENT_REQUESTS_PER_MINUTE } from '../../../../nodes/Truedy/trigger/enrich';
import { clearResolveCache } from '../../../../nodes/Truedy/trigger/resolve';
import { captureN8nLogger } from '../../../support/n8n-logger';
import { startTriggerHarness, type TriggerHarness } from '../../../support/webhook-engine';
import { SIM_AGENTS, startSimulator, type TruedySimulator } from '../../../simulator/server';
import { buildCallEndedEvent, deliverWebhook } from '../../../simulator/webhooks';

const SECRET = 'whsec_enrich_budget_test_0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const DELIVERIES = 100;
const MAX_WAIT_SECONDS = 10;
/** Truedy's transcript comes a few seconds after the call ends (docs): the first polls miss it. */
const TRANSCRIPT_DELAY_MS = 3000;
const RESULTS_DIR = path.join(__dirname, '../../../../test-results/trigger');

let sim: TruedySimulator;
let h: TriggerHarness;
captureN8nLogger();

beforeAll(async () => {
	sim = await startSimulator({ autoAdvance: false, exposeUltravoxIds: true });
	h = await startTriggerHarness({
		parameters: {
			events: ['call.ended', 'call.billed'],
			fetchCallDetails: true,
			transcriptWaitSeconds: MAX_WAIT_SECONDS,
		},
		credentials: {
			truedyWebhookApi: { signingSecret: SECRET },
			truedyApi: { apiKey: sim.apiKey, baseUrl: sim.baseUrl },
		},
	});
	clearResolveCache();
});

afterAll(async () => {
	await h.close();
	await sim.close();
});

async function placeCall(index: number): Promise<string> {
	const res = await fetch(`${sim.baseUrl}/calls`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sim.apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({
			agent_id: SIM_AGENTS.active,
			phone_number: `+1415555${String(1000 + index)}`,
		}),
	});
	expect(res.status).toBe(201);
	return String(((await res.json()) as { data: IDataObject }).data.id);
}

test(`${DELIVERIES} call.ended deliveries at once: enrichment GETs are spread out, no 429, each delivery starts within Max Wait`, async () => {
	const ids: string[] = [];
	for (let i = 0; i < DELIVERIES; i++) ids.push(await placeCall(i));
	// The organisation's window starts now: the calls were placed before it.
	sim.configure({
		rateLimit: {},
		transcriptDelayMs: TRANSCRIPT_DELAY_MS,
		webhook: { url: h.url, secret: SECRET, payloadShape: 'ultravox' },
	});
	const burstAt = Date.now();
	for (const id of ids) sim.endCall(id);

	const executions = await h.waitForExecutions(DELIVERIES, (MAX_WAIT_SECONDS + 15) * 1000);
	const finishedAt = Date.now();

	const gets = sim.requests.filter((r) => r.method === 'GET');
	const callGets = gets.filter((r) => r.path.startsWith('/calls/'));
	const inFirst10s = callGets.filter((r) => r.receivedAt - burstAt <= 10_000);
	const rateLimited = gets.filter((r) => r.status === 429);
	const enrichments = executions.map((e) => e.json.enrichment as IDataObject);
	const noSlot = (e: IDataObject) => /not fetched within Max Wait/.test(String(e.error));
	const figures = {
		deliveries: executions.length,
		listReads: gets.length - callGets.length,
		callGets: callGets.length,
		callGetsInFirst10s: inFirst10s.length,
		rateLimited: rateLimited.length,
		withTranscript: executions.filter((e) => e.json.transcript !== null).length,
		transcriptPending: enrichments.filter((e) => e.transcriptPending === true).length,
		notFetchedNoSlot: enrichments.filter(noSlot).length,
		otherErrors: enrichments.filter((e) => e.error !== null && !noSlot(e)).length,
		lastStartedAfterMs: finishedAt - burstAt,
	};
	// The figures of this run, for docs and the issue: test-results/trigger/enrichment-burst.json.
	mkdirSync(RESULTS_DIR, { recursive: true });
	writeFileSync(path.join(RESULTS_DIR, 'enrichment-burst.json'), JSON.stringify(figures, null, 2));

	expect(figures.deliveries).toBe(DELIVERIES);
	// One slot every 60 s / ENRICHMENT_REQUESTS_PER_MINUTE (the first at once), whatever the burst.
	const slotsIn10s = Math.floor((10_000 * ENRICHMENT_REQUESTS_PER_MINUTE) / 60_000) + 1;
	expect(figures.callGetsInFirst10s).toBeLessThanOrEqual(slotsIn10s);
	expect(figures.rateLimited).toBe(0);
	expect(figures.otherErrors).toBe(0);
	// No call GET goes out closer than the spacing to the one before.
	const spacingMs = 60_000 / ENRICHMENT_REQUESTS_PER_MINUTE;
	callGets.slice(1).forEach((r, i) => {
		expect(r.receivedAt - callGets[i].receivedAt).toBeGreaterThanOrEqual(spacingMs - 50);
	});
	// Every delivery is passed on: enriched, or marked pending once its Max Wait could not be met
	// (with the reason when the call was not fetched at all).
	expect(figures.withTranscript + figures.transcriptPending).toBe(DELIVERIES);
	expect(figures.notFetchedNoSlot).toBeLessThanOrEqual(figures.transcriptPending);
	expect(figures.withTranscript).toBeGreaterThan(0);
	expect(figures.lastStartedAfterMs).toBeLessThan((MAX_WAIT_SECONDS + 5) * 1000);
});

test('deliveries of one call that ask at the same time share one GET', async () => {
	sim.reset();
	clearResolveCache();
	// The transcript comes 1 s after the end: the list item and the first GET miss it, the poll 5 s
	// later has it. Answers take 300 ms, so each delivery asks while the other's GET is in flight.
	sim.configure({ exposeUltravoxIds: true, transcriptDelayMs: 1000 });
	const id = await placeCall(500);
	sim.endCall(id);
	sim.configure({ latencyMs: 300 });
	const call = sim.calls.get(id);
	if (!call) throw new Error('the call was not placed');
	const events = ['call.ended', 'call.billed'];
	const before = h.executions.length;
	await Promise.all(
		events.map((event) =>
			deliverWebhook(h.url, buildCallEndedEvent(call, 'ultravox', event), { secret: SECRET }),
		),
	);
	const executions = (await h.waitForExecutions(before + events.length, 10_000)).slice(before);

	expect(executions.map((e) => [e.json.event, e.json.callId, e.json.transcript !== null])).toEqual(
		expect.arrayContaining(events.map((event) => [event, id, true])),
	);
	// One list read (the resolution, shared), then one GET of the call per poll for both deliveries.
	expect(sim.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual([
		'/calls',
		`/calls/${id}`,
		`/calls/${id}`,
	]);
	expect(executions.map((e) => (e.json.enrichment as IDataObject).fetches)).toEqual([2, 2]);
});
