/**
 * Truedy Trigger (Call Ended) in a real, running n8n: the published example workflow
 * (examples/call-ended-to-crm) receives signed `call.ended` deliveries from the Truedy simulator on
 * its production webhook URL. Executions are read through n8n's public REST API with an API key
 * made headlessly (owner from the environment, POST /rest/login, POST /rest/api-keys).
 *
 * "Started no execution" is proven with a sentinel: after the delivery under test has been
 * answered, a genuine call ends; once its execution has finished, the executions that appeared
 * since the baseline must be exactly that one.
 * One n8n server and one simulator for the whole file (startFlowEnvironment).
 */
import { SIM_AGENTS } from '../simulator/server';
import type { DeliveryRecord, WebhookOptions } from '../simulator/server';
import { buildCallEndedEvent, deliverWebhook, prepareDelivery } from '../simulator/webhooks';
import { startFlowEnvironment } from './crm-flow';
import type { FlowEnvironment } from './crm-flow';
import {
	deliveryFor,
	e2eLog,
	executionBaseline,
	executionIds,
	expectOnlySentinelSince,
	newExecutions,
	placeAndEndCall,
	placeSimulatorCall,
	Timings,
	triggerItem,
} from './e2e-helpers';

const timings = new Timings();
let env: FlowEnvironment | undefined;
let defaultWebhook: WebhookOptions;
/** The first genuine delivery, re-sent by the duplicate test. */
let firstDelivery: DeliveryRecord | undefined;

beforeAll(async () => {
	env = await timings.time('setup: install check, pack, import, publish, start', () =>
		// Calls move only when a test moves them, so each test decides which events fire.
		// Calls expose ultravox_call_id, so the trigger can tie each passthrough delivery (Ultravox ids)
		// to its Truedy call; close-the-loop.e2e covers the modes where it cannot.
		startFlowEnvironment({
			log: e2eLog('call-ended'),
			simulator: { autoAdvance: false, exposeUltravoxIds: true },
		}),
	);
	defaultWebhook = { ...env.simulator.options.webhook! };
	await timings.time('API key (login + POST /rest/api-keys)', async () => {
		const key = await env!.n8n.createApiKey('e2e-call-ended');
		expect(key).toBeTruthy();
	});
}, 10 * 60_000);

afterAll(async () => {
	await env?.dispose();
	timings.print('call-ended.e2e.test.ts');
}, 60_000);

afterEach(() => {
	env?.simulator.configure({ webhook: { ...defaultWebhook } });
});

const placeCall = (phone?: string) => placeSimulatorCall(env!.simulator, phone);
const deliveryOf = (callId: string, event?: string) => deliveryFor(env!.simulator, callId, event);
const callThatEnds = () => placeAndEndCall(env!.simulator);
const newFinishedExecutions = (since: Set<string>, count: number) =>
	newExecutions(env!.n8n, env!.endedWorkflowId, since, count);
const expectNoExecutionSince = (since: Set<string>) => expectOnlySentinelSince(env!, since);
const baseline = () => executionBaseline(env!.n8n, env!.endedWorkflowId);

test('a signed call.ended starts exactly one execution with the normalised call', async () => {
	const before = await baseline();
	const { call, delivery } = await timings.time('call.ended → execution finished', async () => {
		const ended = await callThatEnds();
		await newFinishedExecutions(before, 1);
		return ended;
	});
	firstDelivery = delivery;

	// The delivery was signed the documented way and answered 204 (Truedy's recommendation).
	expect(delivery.headers['X-Truedy-Signature']).toMatch(/^[0-9a-f]{64}$/);
	expect(delivery.headers['X-Truedy-Timestamp']).toMatch(/^\d+$/);
	expect(delivery.status).toBe(204);

	const executions = await newFinishedExecutions(before, 1);
	const all = (await executionIds(env!.n8n, env!.endedWorkflowId)).filter((id) => !before.has(id));
	expect(all).toHaveLength(1);
	const [execution] = executions;
	expect(execution.status).toBe('success');
	expect(execution.mode).toBe('webhook');

	const item = triggerItem(execution)!;
	expect(item).toMatchObject({
		event: 'call.ended',
		eventId: delivery.eventId,
		callId: call.id,
		ultravoxCallId: call.ultravox_call_id,
		agentId: SIM_AGENTS.active,
		resolution: { resolved: true, method: 'ultravox_call_id', reason: null },
		status: 'ended',
		endReason: 'hangup',
		durationSeconds: 42,
		summary: call.summary,
		shortSummary: call.short_summary,
	});
	expect(String(item.summary)).not.toBe('');
	expect(Date.parse(item.occurredAt)).not.toBeNaN();
	// Missing from the webhook, fetched from the API (Fetch Missing Transcript and Recording).
	expect(Array.isArray(item.transcript) && item.transcript.length).toBeGreaterThan(0);
	expect(item.recordingUrl).toContain(call.id);
	// The raw envelope is kept too: the documented passthrough shape, with the Ultravox id.
	expect(item.payload?.data?.call?.callId).toBe(call.ultravox_call_id);
});

test('a forged delivery (wrong secret) gets 401 and starts no execution', async () => {
	const { simulator } = env!;
	const before = await baseline();
	simulator.configure({
		webhook: { ...defaultWebhook, secretOverride: 'whsec_not_the_real_secret' },
	});
	const forged = await callThatEnds();
	expect(forged.delivery.status).toBe(401);
	expect(JSON.parse(forged.delivery.responseBody).error).toMatchObject({
		code: 'unauthorized',
		reason: 'signature_mismatch',
	});

	// Also unsigned, and signed but with the body changed afterwards.
	const envelope = buildCallEndedEvent(forged.call, 'ultravox');
	const unsigned = await deliverWebhook(env!.triggerUrl, envelope);
	expect(unsigned.status).toBe(401);
	const signed = prepareDelivery(envelope, { secret: env!.signingSecret }); // signed, not sent
	const tampered = await fetch(env!.triggerUrl, {
		method: 'POST',
		headers: signed.headers,
		body: signed.rawBody.replace('"hangup"', '"agent_hangup"'),
	});
	expect(tampered.status).toBe(401);

	simulator.configure({ webhook: { ...defaultWebhook } });
	await timings.time('no-execution proof (sentinel call)', () => expectNoExecutionSince(before));
});

test('a stale delivery (timestamp 10 minutes old) gets 401 and starts no execution', async () => {
	const { simulator } = env!;
	const before = await baseline();
	simulator.configure({ webhook: { ...defaultWebhook, clockSkewSeconds: -600 } });
	const stale = await callThatEnds();
	expect(stale.delivery.status).toBe(401);
	expect(JSON.parse(stale.delivery.responseBody).error).toMatchObject({
		reason: 'timestamp_too_old',
	});
	simulator.configure({ webhook: { ...defaultWebhook } });
	await expectNoExecutionSince(before);
});

test('a duplicate delivery (same body re-sent, fresh signature) starts no second execution', async () => {
	expect(firstDelivery).toBeDefined();
	const before = await baseline();
	const resent = await deliverWebhook(env!.triggerUrl, firstDelivery!.rawBody, {
		secret: env!.signingSecret,
	});
	expect(resent.headers['X-Truedy-Signature']).not.toBe(
		firstDelivery!.headers['X-Truedy-Signature'],
	);
	expect(resent.status).toBeGreaterThanOrEqual(200);
	expect(resent.status).toBeLessThan(300);
	await expectNoExecutionSince(before);
});

test('a delivery with X-Trudy-* headers (spelling seen from Truedy) is accepted', async () => {
	const { simulator } = env!;
	const before = await baseline();
	simulator.configure({ webhook: { ...defaultWebhook, headerSpelling: 'Trudy' } });
	const { call, delivery } = await callThatEnds();
	expect(Object.keys(delivery.headers)).toEqual(
		expect.arrayContaining(['X-Trudy-Signature', 'X-Trudy-Timestamp']),
	);
	expect(Object.keys(delivery.headers)).not.toContain('X-Truedy-Signature');
	expect(delivery.status).toBe(204);
	const [execution] = await newFinishedExecutions(before, 1);
	expect(execution.status).toBe('success');
	expect(triggerItem(execution)).toMatchObject({ callId: call.id, status: 'ended' });
});

test('an event the trigger does not listen to (call.started) gets 2xx and starts no execution', async () => {
	const { simulator } = env!;
	const before = await baseline();
	simulator.configure({ webhook: { ...defaultWebhook, events: ['call.started', 'call.ended'] } });
	const call = await placeCall();
	simulator.setCallStatus(call.id, 'in_progress'); // the simulator delivers a signed call.started
	const started = await deliveryOf(call.id, 'call.started');
	expect(started.status).toBeGreaterThanOrEqual(200);
	expect(started.status).toBeLessThan(300);

	// The same call's call.ended is the sentinel: it is the only execution since the baseline.
	simulator.endCall(call.id);
	expect((await deliveryOf(call.id, 'call.ended')).status).toBe(204);
	const [execution] = await newFinishedExecutions(before, 1);
	expect(triggerItem(execution)).toMatchObject({ event: 'call.ended', callId: call.id });
	const since = (await executionIds(env!.n8n, env!.endedWorkflowId)).filter(
		(id) => !before.has(id),
	);
	expect(since).toEqual([execution.id]);
});
