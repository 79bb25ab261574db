// Truedy Trigger end to end in-process: the Truedy simulator delivers signed webhooks over real HTTP
// to the trigger served by test/support/webhook-engine.ts (n8n-core's WebhookContext + real engine).
import path from 'path';
import { HookContext } from 'n8n-core';
import { Workflow, type IDataObject, type INodeParameters } from 'n8n-workflow';

import {
	DEDUPE_LIMITS,
	deliveryKey,
	sharedDeduper,
	storedKey,
} from '../../../../nodes/Truedy/trigger/dedupe';
import { clearResolveCache } from '../../../../nodes/Truedy/trigger/resolve';
import { testSigningSecret } from '../../../../nodes/Truedy/trigger/credentialTest';
import {
	PACKAGE,
	PackageNodeTypes,
	buildAdditionalData,
	TestCredentialsHelper,
} from '../../../support/engine';
import { captureN8nLogger } from '../../../support/n8n-logger';
import {
	startTriggerHarness,
	TriggerHarness,
	TriggerHarnessOptions,
} from '../../../support/webhook-engine';
import {
	SIM_AGENTS,
	SIM_ULTRAVOX_AGENTS,
	startSimulator,
	TruedySimulator,
	WebhookOptions,
} from '../../../simulator/server';
import {
	buildCallEndedEvent,
	deliverWebhook,
	prepareDelivery,
	sendDelivery,
	WebhookEnvelope,
} from '../../../simulator/webhooks';
import { ExecutionLifecycleHooks } from 'n8n-core';

const SECRET = 'whsec_trigger_test_5f1b2c3d4e5f60718293a4b5c6d7e8f9';
const FAST = { queuedMs: 10, ringingMs: 10, inProgressMs: 20 };
const ANSWERED = '+14155551234';
const UNANSWERED = '+14155550000'; // the simulator fails numbers ending in 0000 (unjoined)

let sim: TruedySimulator;
const harnesses: TriggerHarness[] = [];
/** n8n's Logger, replaced so tests can read what the trigger logs. */
const logger = captureN8nLogger();
const warnSpy = logger.warn;

beforeAll(async () => {
	sim = await startSimulator({ callTimings: FAST });
});

afterAll(async () => {
	await sim.close();
});

beforeEach(() => {
	sim.reset();
	sim.configure({
		webhook: null,
		transcriptDelayMs: null,
		statusVocabulary: null,
		callTimings: FAST,
	});
	clearResolveCache();
	jest.clearAllMocks();
});

afterEach(async () => {
	sim.reset();
	await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

async function harness(
	parameters: INodeParameters = {},
	extra: Partial<TriggerHarnessOptions> = {},
): Promise<TriggerHarness> {
	const h = await startTriggerHarness({
		parameters,
		credentials: {
			truedyWebhookApi: { signingSecret: SECRET },
			truedyApi: { apiKey: sim.apiKey, baseUrl: sim.baseUrl },
		},
		...extra,
	});
	harnesses.push(h);
	return h;
}

/** Points the simulator's webhook endpoint at the harness. */
function subscribe(h: TriggerHarness, webhook: Partial<WebhookOptions> = {}): void {
	sim.configure({ webhook: { url: h.url, secret: SECRET, ...webhook } });
}

async function placeCall(phone = ANSWERED, body: IDataObject = {}): Promise<IDataObject> {
	const res = await fetch(`${sim.baseUrl}/calls`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sim.apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ agent_id: SIM_AGENTS.active, phone_number: phone, ...body }),
	});
	expect(res.status).toBe(201);
	return ((await res.json()) as { data: IDataObject }).data;
}

/** Waits until the simulator has `count` answered deliveries (all attempts of all copies). */
async function deliveries(count: number, timeoutMs = 3000) {
	await sim.waitFor((s) => s.webhookDeliveries.length >= count, timeoutMs);
	return sim.webhookDeliveries;
}

/** A call.ended envelope for a call that ended normally, built by the simulator's own builder. */
function endedEnvelope(
	shape: 'ultravox' | 'flat',
	overrides: Partial<Parameters<typeof buildCallEndedEvent>[0]> = {},
	event = 'call.ended',
	eventId?: string,
): WebhookEnvelope {
	const now = new Date().toISOString();
	return buildCallEndedEvent(
		{
			id: `call_${Math.random().toString(36).slice(2, 14)}`,
			seq: 1,
			status: 'ended',
			direction: 'outbound',
			agent_id: SIM_AGENTS.active,
			to: ANSWERED,
			from: '+18005559876',
			variables: {},
			call_settings: {},
			created_at: now,
			started_at: now,
			ended_at: now,
			duration_seconds: 42,
			end_reason: 'hangup',
			summary: 'The contact confirmed.',
			short_summary: 'Confirmed.',
			transcript: null,
			recording_url: null,
			transcriptReadyAt: null,
			history: [],
			...overrides,
		},
		shape,
		event,
		{ eventId },
	);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function expectNoSecretLogged(): void {
	const logged = JSON.stringify(warnSpy.mock.calls);
	expect(logged).not.toContain(SECRET);
	expect(logged).not.toContain(SECRET.slice(6));
}

describe('valid deliveries start one execution per event', () => {
	test.each([
		['ultravox', 'Truedy'],
		['ultravox', 'Trudy'],
		['flat', 'Truedy'],
		['flat', 'Trudy'],
	] as const)('%s payload signed with X-%s-* headers', async (payloadShape, headerSpelling) => {
		const h = await harness();
		subscribe(h, { payloadShape, headerSpelling, includeTranscript: true });
		sim.configure({ statusVocabulary: 'completed' });
		const call = await placeCall(ANSWERED, { variables: { first_name: 'Ada' } });

		const [execution] = await h.waitForExecutions(1);
		const [delivery] = await deliveries(1);
		expect(delivery.status).toBe(204);
		expect(delivery.headers).toHaveProperty(`X-${headerSpelling}-Signature`);

		expect(execution.status).toBe('success');
		expect(execution.items).toHaveLength(1);
		expect(execution.after).toHaveLength(1); // the next step ran with the item
		// The passthrough payload carries Ultravox ids, and by default (as documented) the API's calls
		// have no ultravox_call_id: the delivery stays unresolved and says why. Flat: Truedy ids.
		const ids =
			payloadShape === 'flat'
				? {
						callId: call.id,
						ultravoxCallId: null,
						agentId: SIM_AGENTS.active,
						ultravoxAgentId: null,
					}
				: {
						callId: delivery.ultravoxCallId,
						ultravoxCallId: delivery.ultravoxCallId,
						agentId: null,
						ultravoxAgentId: SIM_ULTRAVOX_AGENTS.active,
					};
		expect(execution.json).toMatchObject({
			event: 'call.ended',
			eventId: delivery.eventId,
			...ids,
			resolution:
				payloadShape === 'flat'
					? { resolved: true, method: 'truedy_id', reason: null }
					: { resolved: false, method: null, reason: expect.stringContaining('ultravox_call_id') },
			variables: payloadShape === 'flat' ? { first_name: 'Ada' } : {},
			status: 'ended', // "completed" in the flat payload, derived in the Ultravox one
			endReason: 'hangup',
			durationSeconds: 42, // duration_seconds, or billedDuration "42s"
			summary: expect.stringContaining('Ada'),
		});
		expect(execution.json.occurredAt).toEqual(expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/));
		expect(execution.json.payload).toEqual(JSON.parse(delivery.rawBody)); // untouched
		if (payloadShape === 'flat') {
			expect(execution.json.transcript).toEqual(
				expect.arrayContaining([expect.objectContaining({ speaker: 'agent' })]),
			);
			expect(execution.json.recordingUrl).toMatch(/^https:\/\/storage\.truedy\.test\/recordings\//);
		} else {
			expect(execution.json.transcript).toBeNull();
			expect(execution.json.recordingUrl).toBeNull();
		}
		await h.idle();
		expect(h.executions).toHaveLength(1);
	});

	test('answers 204 itself, before the execution starts', async () => {
		const h = await harness();
		const res = await deliverWebhook(h.url, endedEnvelope('ultravox'), { secret: SECRET });
		expect(res.status).toBe(204);
		expect(res.body).toBe('');
		await h.waitForExecutions(1);
		expect(h.requests[0]).toMatchObject({ outcome: 'started', status: 204 });
		expect(h.requests[0].answeredInMs).toBeLessThan(1000);
	});

	test('a failed (unanswered) call arrives with status failed and end reason unjoined', async () => {
		const h = await harness();
		subscribe(h);
		sim.configure({ exposeUltravoxIds: true });
		const call = await placeCall(UNANSWERED);
		const [execution] = await h.waitForExecutions(1);
		expect(execution.json).toMatchObject({
			callId: call.id,
			status: 'failed',
			endReason: 'unjoined',
			durationSeconds: 0,
		});
	});

	test('an ISO timestamp header and a millisecond one are accepted', async () => {
		const h = await harness();
		const iso = await deliverWebhook(h.url, endedEnvelope('flat'), {
			secret: SECRET,
			timestamp: new Date().toISOString(),
		});
		const ms = await deliverWebhook(h.url, endedEnvelope('flat'), {
			secret: SECRET,
			timestamp: Date.now(),
		});
		expect([iso.status, ms.status]).toEqual([204, 204]);
		await h.waitForExecutions(2);
	});
});

describe('rejected deliveries get 401 and start nothing', () => {
	const forged: Array<
		[string, (h: TriggerHarness) => Promise<{ status: number; body: string }>, string]
	> = [
		[
			'wrong secret',
			(h) => deliverWebhook(h.url, endedEnvelope('ultravox'), { secret: 'whsec_wrong' }),
			'signature_mismatch',
		],
		[
			'tampered body',
			async (h) => {
				const original = prepareDelivery(endedEnvelope('flat', { id: 'call_original' }), {
					secret: SECRET,
				});
				const tampered = {
					...original,
					rawBody: original.rawBody.replace('call_original', 'call_attacker'),
				};
				return sendDelivery(h.url, tampered);
			},
			'signature_mismatch',
		],
		[
			'missing signature and timestamp headers',
			(h) =>
				deliverWebhook(h.url, endedEnvelope('ultravox'), { secret: SECRET, omitHeaders: true }),
			'missing_timestamp',
		],
		[
			'missing signature header',
			(h) =>
				deliverWebhook(h.url, endedEnvelope('ultravox'), {
					secret: SECRET,
					omitHeaders: ['signature'],
				}),
			'missing_signature',
		],
		[
			'unsigned delivery',
			(h) => deliverWebhook(h.url, endedEnvelope('ultravox')),
			'missing_signature',
		],
		[
			'stale timestamp (10 min old)',
			(h) =>
				deliverWebhook(h.url, endedEnvelope('ultravox'), {
					secret: SECRET,
					timestamp: nowSeconds() - 600,
				}),
			'timestamp_too_old',
		],
		[
			'future timestamp (10 min ahead)',
			(h) =>
				deliverWebhook(h.url, endedEnvelope('ultravox'), {
					secret: SECRET,
					timestamp: nowSeconds() + 600,
				}),
			'timestamp_in_future',
		],
		[
			'truncated signature',
			(h) =>
				deliverWebhook(h.url, endedEnvelope('ultravox'), {
					secret: SECRET,
					signatureOverride: 'abc123',
				}),
			'malformed_signature',
		],
	];

	test.each(forged)('%s', async (_name, send, reason) => {
		const h = await harness();
		const res = await send(h);
		expect(res.status).toBe(401);
		expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'unauthorized', reason } });
		await h.idle();
		expect(h.executions).toHaveLength(0);
		expect(h.requests[0].outcome).toBe('rejected');
		expect(warnSpy).toHaveBeenCalledWith(
			expect.stringContaining('rejected a delivery with 401'),
			expect.objectContaining({ reason }),
		);
		expectNoSecretLogged();
	});

	test.each([
		['a forged secret', { secretOverride: 'whsec_forged' }],
		['a stale clock', { clockSkewSeconds: -900 }],
		['a clock running ahead', { clockSkewSeconds: 900 }],
	])('deliveries from the simulator with %s are refused', async (_name, webhook) => {
		const h = await harness();
		subscribe(h, webhook);
		await placeCall();
		const [delivery] = await deliveries(1);
		expect(delivery.status).toBe(401);
		await h.idle();
		expect(h.executions).toHaveLength(0);
		expectNoSecretLogged();
	});

	test('a custom tolerance accepts an older delivery', async () => {
		const h = await harness({ options: { timestampToleranceSeconds: 1800 } });
		const res = await deliverWebhook(h.url, endedEnvelope('flat'), {
			secret: SECRET,
			timestamp: nowSeconds() - 1200,
		});
		expect(res.status).toBe(204);
		await h.waitForExecutions(1);
	});

	test('a signed body that is not JSON gets 400', async () => {
		const h = await harness();
		const res = await deliverWebhook(h.url, 'not json at all', {
			secret: SECRET,
			extraHeaders: { 'Content-Type': 'text/plain' },
		});
		expect(res.status).toBe(400);
		expect(JSON.parse(res.body)).toMatchObject({ error: { reason: 'invalid_body' } });
		await h.idle();
		expect(h.executions).toHaveLength(0);
	});
});

describe('duplicate deliveries start one execution', () => {
	test('the simulator re-sends the same delivery twice', async () => {
		const h = await harness();
		subscribe(h, { duplicates: 2 });
		await placeCall();
		const sent = await deliveries(3);
		expect(sent.map((d) => d.status)).toEqual([204, 204, 204]);
		await h.idle();
		expect(h.executions).toHaveLength(1);
		expect(h.requests.map((r) => r.outcome)).toEqual(['started', 'ignored', 'ignored']);
	});

	test('five identical deliveries at the same moment', async () => {
		const h = await harness();
		const prepared = prepareDelivery(endedEnvelope('ultravox'), { secret: SECRET });
		const results = await Promise.all(
			Array.from({ length: 5 }, () => sendDelivery(h.url, prepared)),
		);
		expect(results.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
		await h.idle();
		expect(h.executions).toHaveLength(1);
		expect(h.requests.filter((r) => r.outcome === 'started')).toHaveLength(1);
	});

	test('a retry with a fresh timestamp and signature is still the same event', async () => {
		const h = await harness();
		const envelope = endedEnvelope('flat', {}, 'call.ended', 'evt_retry_1');
		await deliverWebhook(h.url, envelope, { secret: SECRET, timestamp: nowSeconds() - 30 });
		await deliverWebhook(h.url, envelope, { secret: SECRET, headerSpelling: 'Trudy' });
		await h.idle();
		expect(h.executions).toHaveLength(1);
	});

	test('without an event ID the call ID and event name are the key', async () => {
		const h = await harness({ events: ['call.ended', 'call.failed'] });
		const ended = endedEnvelope('flat', { id: 'call_same' });
		delete ended.data.id;
		const failed = { ...ended, event: 'call.failed' };
		await deliverWebhook(h.url, ended, { secret: SECRET });
		await deliverWebhook(
			h.url,
			{ ...ended, timestamp: new Date(Date.now() + 5).toISOString() },
			{ secret: SECRET },
		);
		await deliverWebhook(h.url, failed, { secret: SECRET });
		await h.idle();
		expect(h.executions.map((e) => e.json.event).sort()).toEqual(['call.ended', 'call.failed']);
	});

	test('after a restart, the persisted static data still catches the repeat', async () => {
		const h = await harness();
		const envelope = endedEnvelope('ultravox', {}, 'call.ended', 'uv_evt_restart');
		await deliverWebhook(h.url, envelope, { secret: SECRET });
		await h.idle();
		const persisted = h.staticData[`node:${h.node.name}`] as IDataObject;
		expect((persisted.deliveryKeys as IDataObject).b).toEqual([
			[expect.any(Number), storedKey('call.ended|event:uv_evt_restart')],
		]);

		sharedDeduper.clear(); // what a restart of n8n does to the in-memory state
		const again = await deliverWebhook(h.url, envelope, { secret: SECRET });
		expect(again.status).toBe(204);
		await h.idle();
		expect(h.executions).toHaveLength(1);
	});

	test("while n8n's saves are behind, a delivery is answered by n8n once its execution exists, and that execution saves its key", async () => {
		const lag = DEDUPE_LIMITS.maxSaveLagMs;
		DEDUPE_LIMITS.maxSaveLagMs = 100;
		try {
			const h = await harness({ resolveCall: false });
			const send = (id: string) =>
				deliverWebhook(h.url, endedEnvelope('flat', {}, 'call.ended', id), { secret: SECRET });
			await send('evt_behind_a');
			await send('evt_behind_b'); // sees a's save: the store knows n8n saves
			h.saveLatencyMs = 400; // the database falls behind
			await send('evt_behind_c'); // answered by the node; its save commits 400 ms later
			await new Promise((resolve) => setTimeout(resolve, 150));
			const deferred = await send('evt_behind_d'); // c's save unseen for 150 ms: deferred
			expect(deferred.status).toBe(204);
			await h.idle();
			expect(h.executions).toHaveLength(4);
			const saved = JSON.stringify(h.staticData);
			const key = (id: string) => storedKey(deliveryKey({ data: { id } }, 'call.ended', ''));
			for (const id of ['evt_behind_a', 'evt_behind_b', 'evt_behind_c', 'evt_behind_d'])
				expect(saved).toContain(key(id));

			h.saveLatencyMs = 0;
			sharedDeduper.clear(); // a restart
			expect((await send('evt_behind_d')).status).toBe(204);
			await h.idle();
			expect(h.executions).toHaveLength(4);
		} finally {
			DEDUPE_LIMITS.maxSaveLagMs = lag;
		}
	});

	test('a rejected delivery does not use up the event', async () => {
		const h = await harness();
		const envelope = endedEnvelope('ultravox', {}, 'call.ended', 'uv_evt_forged_first');
		expect((await deliverWebhook(h.url, envelope, { secret: 'whsec_wrong' })).status).toBe(401);
		expect((await deliverWebhook(h.url, envelope, { secret: SECRET })).status).toBe(204);
		await h.waitForExecutions(1);
	});
});

describe('events that are not selected are answered and ignored', () => {
	test('call.started is acknowledged but only call.ended runs', async () => {
		const h = await harness({ events: ['call.ended'] });
		subscribe(h, { events: ['call.started', 'call.ended'] });
		await placeCall();
		const sent = await deliveries(2);
		expect(sent.map((d) => [d.event, d.status])).toEqual([
			['call.started', 204],
			['call.ended', 204],
		]);
		await h.idle();
		expect(h.executions).toHaveLength(1);
		expect(h.executions[0].json.event).toBe('call.ended');
	});

	test.each([
		'call.joined',
		'call.billed',
		'batch.completed',
		'voice.training.completed',
		'something.new',
		'',
	])('a signed "%s" delivery gets 204 and no execution', async (event) => {
		const h = await harness();
		const res = await deliverWebhook(
			h.url,
			{ event, timestamp: new Date().toISOString(), data: { id: `evt_${event}` } },
			{ secret: SECRET },
		);
		expect(res.status).toBe(204);
		await h.idle();
		expect(h.executions).toHaveLength(0);
		expect(h.requests[0].outcome).toBe('ignored');
	});

	test('call.completed counts as call.ended', async () => {
		const h = await harness({ events: ['call.ended'] });
		const res = await deliverWebhook(h.url, endedEnvelope('flat', {}, 'call.completed'), {
			secret: SECRET,
		});
		expect(res.status).toBe(204);
		const [execution] = await h.waitForExecutions(1);
		expect(execution.json.event).toBe('call.ended');
		expect((execution.json.payload as IDataObject).event).toBe('call.completed');
	});

	test('selected non-call events run too', async () => {
		const h = await harness({ events: ['batch.status.changed', 'batch.completed'] });
		const batch = (status: string) => ({
			event: 'batch.status.changed',
			timestamp: new Date().toISOString(),
			data: { batch_id: 'batch_1', status },
		});
		await deliverWebhook(h.url, batch('active'), { secret: SECRET });
		await deliverWebhook(h.url, batch('paused'), { secret: SECRET });
		await deliverWebhook(h.url, batch('paused'), { secret: SECRET }); // a repeat
		await h.idle();
		expect(h.executions.map((e) => [e.json.event, e.json.batchId, e.json.status])).toEqual([
			['batch.status.changed', 'batch_1', 'active'],
			['batch.status.changed', 'batch_1', 'paused'],
		]);
	});
});

describe('filters', () => {
	test('only failed or unanswered calls', async () => {
		const h = await harness({ filters: { statuses: ['failed'] } });
		subscribe(h);
		sim.configure({ exposeUltravoxIds: true });
		const failed = await placeCall(UNANSWERED);
		await placeCall(ANSWERED);
		await deliveries(2);
		await h.idle();
		expect(sim.webhookDeliveries.map((d) => d.status)).toEqual([204, 204]);
		expect(h.executions.map((e) => e.json.callId)).toEqual([failed.id]);
	});

	test('end reason unjoined (flat payload)', async () => {
		const h = await harness({ filters: { endReasons: ['unjoined'] } });
		subscribe(h, { payloadShape: 'flat' });
		const failed = await placeCall(UNANSWERED);
		await placeCall(ANSWERED);
		await deliveries(2);
		await h.idle();
		expect(h.executions.map((e) => [e.json.callId, e.json.endReason])).toEqual([
			[failed.id, 'unjoined'],
		]);
	});

	test('status ended and end reason hangup together', async () => {
		const h = await harness({
			filters: { statuses: ['ended'], endReasons: ['hangup', 'agent_hangup'] },
		});
		await deliverWebhook(h.url, endedEnvelope('ultravox', { end_reason: 'hangup' }), {
			secret: SECRET,
		});
		await deliverWebhook(h.url, endedEnvelope('ultravox', { end_reason: 'timeout' }), {
			secret: SECRET,
		});
		await deliverWebhook(h.url, endedEnvelope('ultravox', { end_reason: 'unjoined' }), {
			secret: SECRET,
		});
		await h.idle();
		expect(h.executions.map((e) => e.json.endReason)).toEqual(['hangup']);
		expect(h.requests.map((r) => r.status)).toEqual([204, 204, 204]);
	});

	test('Truedy agent IDs match passthrough deliveries once their calls are resolved', async () => {
		const h = await harness({
			filters: { agentIds: ` ${SIM_AGENTS.leadQualifier}, ${SIM_AGENTS.salesFollowUp}` },
		});
		subscribe(h);
		sim.configure({ exposeUltravoxIds: true });
		await placeCall(ANSWERED); // the "active" agent: filtered out
		const wanted = await placeCall(ANSWERED, { agent_id: SIM_AGENTS.leadQualifier });
		await deliveries(2);
		await h.idle();
		expect(h.executions.map((e) => [e.json.callId, e.json.agentId])).toEqual([
			[wanted.id, SIM_AGENTS.leadQualifier],
		]);
		expect(logger.info).toHaveBeenCalledWith(
			expect.stringContaining(
				`ignored a delivery: agent ${SIM_AGENTS.active} (Ultravox agent ${SIM_ULTRAVOX_AGENTS.active}) is not in the Agent IDs filter`,
			),
			expect.anything(),
		);
	});

	test('Ultravox agent IDs match passthrough deliveries without any resolution', async () => {
		const h = await harness({
			resolveCall: false,
			filters: { agentIds: SIM_ULTRAVOX_AGENTS.leadQualifier },
		});
		subscribe(h);
		await placeCall(ANSWERED);
		await placeCall(ANSWERED, { agent_id: SIM_AGENTS.leadQualifier });
		await deliveries(2);
		await h.idle();
		expect(h.executions.map((e) => e.json.ultravoxAgentId)).toEqual([
			SIM_ULTRAVOX_AGENTS.leadQualifier,
		]);
		expect(sim.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
	});

	test('a Truedy agent ID cannot match an unresolvable passthrough delivery; the info log says why', async () => {
		const h = await harness({ filters: { agentIds: SIM_AGENTS.active } });
		subscribe(h); // calls without ultravox_call_id, as documented
		await placeCall(ANSWERED);
		await deliveries(1);
		await h.idle();
		expect(h.executions).toHaveLength(0);
		expect(logger.info).toHaveBeenCalledWith(
			expect.stringMatching(
				/ignored a delivery: Ultravox agent .* is not in the Agent IDs filter; its Truedy agent is unknown \(.*ultravox_call_id/,
			),
			expect.anything(),
		);
	});

	test('a delivery without an agent ID does not match an agent filter', async () => {
		const h = await harness({ filters: { agentIds: SIM_AGENTS.active } });
		const envelope = endedEnvelope('flat');
		delete envelope.data.agent_id;
		expect((await deliverWebhook(h.url, envelope, { secret: SECRET })).status).toBe(204);
		await h.idle();
		expect(h.executions).toHaveLength(0);
	});
});

describe('fetching the transcript and recording', () => {
	test('the transcript is still null at first: the call is fetched again until it appears', async () => {
		const h = await harness({ fetchCallDetails: true, transcriptWaitSeconds: 10 });
		subscribe(h, { payloadShape: 'ultravox' });
		sim.configure({ transcriptDelayMs: 1200, exposeUltravoxIds: true });
		const call = await placeCall(ANSWERED, { variables: { first_name: 'Grace' } });

		const [delivery] = await deliveries(1);
		expect(delivery.status).toBe(204);
		expect(delivery.durationMs).toBeLessThan(1000); // answered before fetching
		const [execution] = await h.waitForExecutions(1, 8000);

		const fetches = sim.requests.filter(
			(r) => r.method === 'GET' && r.path === `/calls/${call.id}`,
		);
		expect(fetches.length).toBeGreaterThanOrEqual(2);
		// The Truedy call was found on one page of recent calls; then polled by its Truedy id, 5 s apart.
		expect(sim.requests.filter((r) => r.method === 'GET' && r.path === '/calls')).toHaveLength(1);
		expect(fetches[1].receivedAt - fetches[0].receivedAt).toBeGreaterThanOrEqual(5000);
		expect(fetches[0].headers.authorization).toBe(`Bearer ${sim.apiKey}`);
		expect(execution.json).toMatchObject({
			callId: call.id,
			status: 'ended',
			recordingUrl: expect.stringContaining(call.id as string),
			transcript: expect.arrayContaining([
				expect.objectContaining({ speaker: 'agent', text: expect.stringContaining('Grace') }),
			]),
			enrichment: { fetches: fetches.length, transcriptPending: false, error: null },
			call: expect.objectContaining({ id: call.id, phone_number: ANSWERED }),
		});
	});

	test('gives up after the maximum wait and starts without the transcript', async () => {
		const h = await harness({ fetchCallDetails: true, transcriptWaitSeconds: 1 });
		subscribe(h);
		sim.configure({ transcriptDelayMs: 60_000, exposeUltravoxIds: true });
		await placeCall();
		const started = Date.now();
		const [execution] = await h.waitForExecutions(1, 5000);
		expect(Date.now() - started).toBeLessThan(4000);
		expect(execution.json).toMatchObject({
			transcript: null,
			recordingUrl: expect.stringMatching(/^https:/),
			enrichment: { transcriptPending: true, error: null },
		});
	});

	test('a failed call is not fetched: the listed call found by the resolution says no transcript is coming', async () => {
		const h = await harness({ fetchCallDetails: true, transcriptWaitSeconds: 10 });
		subscribe(h);
		sim.configure({ exposeUltravoxIds: true });
		const call = await placeCall(UNANSWERED);
		const [execution] = await h.waitForExecutions(1);
		expect(execution.json).toMatchObject({
			callId: call.id,
			status: 'failed',
			transcript: null,
			enrichment: { fetches: 0, transcriptPending: false },
		});
		expect(sim.requests.filter((r) => r.path === `/calls/${call.id}`)).toHaveLength(0);
		expect(sim.requests.filter((r) => r.method === 'GET' && r.path === '/calls')).toHaveLength(1);
	});

	test('nothing more is fetched when the webhook carries transcript and recording', async () => {
		const h = await harness({ fetchCallDetails: true });
		subscribe(h, { payloadShape: 'flat', includeTranscript: true });
		const call = await placeCall();
		const [execution] = await h.waitForExecutions(1);
		expect(execution.json.transcript).not.toBeNull();
		expect(execution.json).not.toHaveProperty('enrichment');
		// Only the resolution's GET /calls/{id} (for the variables and numbers).
		expect(sim.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual([
			`/calls/${call.id}`,
		]);
	});

	test('an Ultravox call ID is never sent to GET /calls/{id}; the unresolved call is passed on with the reason', async () => {
		const h = await harness({ fetchCallDetails: true });
		const res = await deliverWebhook(
			h.url,
			endedEnvelope('ultravox', { ultravox_call_id: 'uv_call_unknown' }),
			{ secret: SECRET },
		);
		expect(res.status).toBe(204);
		const [execution] = await h.waitForExecutions(1);
		expect(execution.json).toMatchObject({
			callId: 'uv_call_unknown',
			transcript: null,
			resolution: { resolved: false },
		});
		expect(execution.json.enrichment as IDataObject).toMatchObject({
			fetches: 0,
			error: expect.stringMatching(
				/^The call was not fetched: No Truedy call created since .* has the call ID uv_call_unknown/,
			),
		});
		expect(sim.requests.map((r) => r.path)).toEqual(['/calls']);
		expect(warnSpy).toHaveBeenCalledTimes(1);
		expect(warnSpy).toHaveBeenCalledWith(
			expect.stringContaining('could not tie a call.ended delivery to its Truedy call'),
			expect.objectContaining({ ultravoxCallId: 'uv_call_unknown' }),
		);
	});

	test('a Truedy call ID the API does not know is passed on with the reason', async () => {
		const h = await harness({ fetchCallDetails: true });
		await deliverWebhook(h.url, endedEnvelope('flat', { id: 'call_unknown' }), { secret: SECRET });
		const [execution] = await h.waitForExecutions(1);
		expect(execution.json).toMatchObject({
			callId: 'call_unknown',
			resolution: {
				resolved: false,
				reason: expect.stringContaining('Truedy has no call with ID call_unknown'),
			},
		});
		expect(warnSpy).toHaveBeenCalledTimes(1);
	});
});

describe('large bodies', () => {
	test('a 1.5 MB transcript is verified over the exact bytes and passed on whole', async () => {
		const h = await harness();
		const turn = (i: number) => ({
			speaker: i % 2 ? 'contact' : 'agent',
			text: `Sentence ${i} – with ünïcödé and "quotes" ${'x'.repeat(100)}`,
			timestamp: i,
		});
		const transcript = Array.from({ length: 11_000 }, (_v, i) => turn(i));
		const envelope = endedEnvelope('flat');
		envelope.data.transcript = transcript;
		envelope.data.recording_url = 'https://storage.truedy.test/recordings/big.mp3';
		const prepared = prepareDelivery(envelope, { secret: SECRET });
		expect(Buffer.byteLength(prepared.rawBody)).toBeGreaterThan(1_500_000);

		const res = await sendDelivery(h.url, prepared, { timeoutMs: 10_000 });
		expect(res.status).toBe(204);
		const [execution] = await h.waitForExecutions(1, 10_000);
		expect(execution.json.transcript).toHaveLength(transcript.length);
		expect((execution.json.transcript as IDataObject[])[10_999]).toEqual(turn(10_999));

		const tampered = {
			...prepared,
			rawBody: prepared.rawBody.replace('Sentence 5000 ', 'Sentence 5OOO '),
		};
		expect((await sendDelivery(h.url, tampered, { timeoutMs: 10_000 })).status).toBe(401);
		await h.idle();
		expect(h.executions).toHaveLength(1);
	});
});

describe('turning verification off', () => {
	test('unsigned and wrongly signed deliveries run, and no webhook credential is needed', async () => {
		const h = await harness({ verifySignature: false }, { credentials: {} });
		expect(h.node.credentials).toEqual({});
		expect((await deliverWebhook(h.url, endedEnvelope('flat'))).status).toBe(204);
		expect(
			(await deliverWebhook(h.url, endedEnvelope('ultravox'), { secret: 'whsec_anything' })).status,
		).toBe(204);
		await h.waitForExecutions(2);
	});

	test('a delivery without credentials while verification is on fails loudly', async () => {
		const h = await harness({}, { credentials: {} });
		const res = await deliverWebhook(h.url, endedEnvelope('flat'), { secret: SECRET });
		expect(res.status).toBe(500);
		await h.idle();
		expect(h.executions).toHaveLength(0);
		expect(h.requests[0].error?.message).toMatch(/credentials/i);
	});
});

describe('setup lifecycle and credential test', () => {
	function hookContext(events: string[], staticData: IDataObject) {
		const nodeTypes = new PackageNodeTypes();
		const node = {
			id: 'n1',
			name: 'Truedy Trigger',
			type: `${PACKAGE}.truedyTrigger`,
			typeVersion: 1,
			position: [0, 0] as [number, number],
			webhookId: 'hook-1',
			parameters: { events },
		};
		const workflow = new Workflow({
			id: 'wf-hooks',
			nodes: [node],
			connections: {},
			nodeTypes,
			active: true,
			staticData,
		});
		const hooks = new ExecutionLifecycleHooks('trigger', 'x', { id: 'wf-hooks' } as any);
		const additionalData = buildAdditionalData(new TestCredentialsHelper({}), hooks, 'x');
		return {
			workflow,
			context: new HookContext(
				workflow,
				workflow.getNode(node.name)!,
				additionalData,
				'trigger',
				'activate',
			),
		};
	}

	test('create records the URL and events without calling Truedy; checkExists and delete follow the record', async () => {
		const trigger = new PackageNodeTypes().getByName(`${PACKAGE}.truedyTrigger`);
		const methods = trigger.webhookMethods!.default!;
		const staticData: IDataObject = {};
		const first = hookContext(['call.ended'], staticData);
		const infoSpy = logger.info;

		expect(await methods.checkExists.call(first.context)).toBe(false);
		expect(await methods.create.call(first.context)).toBe(true);
		const recorded = (first.workflow.staticData['node:Truedy Trigger'] as IDataObject)
			.endpoint as IDataObject;
		expect(recorded).toMatchObject({
			url: 'http://127.0.0.1:5678/webhook/hook-1/webhook',
			events: ['call.ended'],
		});
		expect(infoSpy).toHaveBeenCalledWith(
			expect.stringContaining('Settings → Webhooks'),
			expect.anything(),
		);
		expect(await methods.checkExists.call(first.context)).toBe(true);

		const saved = JSON.parse(JSON.stringify(first.workflow.staticData));
		const changed = hookContext(['call.ended', 'call.failed'], saved);
		expect(await methods.checkExists.call(changed.context)).toBe(false); // events changed: record again

		expect(await methods.delete.call(first.context)).toBe(true);
		expect(first.workflow.staticData['node:Truedy Trigger']).not.toHaveProperty('endpoint');
		expect(await methods.checkExists.call(first.context)).toBe(false);
		expect(sim.requests).toHaveLength(0);
	});

	test.each([
		['whsec_abc123', 'OK'],
		['  0123456789abcdef0123456789abcdef \n', 'OK'],
		['', 'Error'],
		['whsec_abc 123', 'Error'],
	])('credential test for %p → %s', async (signingSecret, status) => {
		const result = await testSigningSecret.call({} as any, {
			id: '1',
			name: 'x',
			type: 'truedyWebhookApi',
			data: { signingSecret },
		});
		expect(result.status).toBe(status);
	});
});

describe('examples/call-ended-to-crm.workflow.json', () => {
	const fs = require('fs') as typeof import('fs');
	const example = JSON.parse(
		fs.readFileSync(
			path.join(__dirname, '..', '..', '..', '..', 'examples', 'call-ended-to-crm.workflow.json'),
			'utf8',
		),
	);

	test('is importable: fixed ids, known node types, connections between existing nodes', () => {
		expect(example.id).toMatch(/^[A-Za-z0-9]{16}$/);
		const names = new Set(example.nodes.map((n: IDataObject) => n.name));
		expect(example.nodes.map((n: IDataObject) => n.type)).toEqual([
			'n8n-nodes-truedy.truedyTrigger',
			'n8n-nodes-base.if',
			'n8n-nodes-base.dataTable',
			'n8n-nodes-base.noOp',
			'n8n-nodes-base.stickyNote',
		]);
		// No address of the simulator (or any other test server) in what users import.
		expect(JSON.stringify(example)).not.toMatch(/127\.0\.0\.1|localhost/);
		for (const [from, outputs] of Object.entries(example.connections as IDataObject)) {
			expect(names.has(from)).toBe(true);
			for (const branch of (outputs as { main: Array<Array<{ node: string }>> }).main) {
				for (const target of branch) expect(names.has(target.node)).toBe(true);
			}
		}
		expect(new Set(example.nodes.map((n: IDataObject) => n.id)).size).toBe(example.nodes.length);
	});

	test("the trigger's parameters are valid and it serves deliveries", async () => {
		const trigger = example.nodes[0];
		expect(trigger.webhookId).toMatch(/^[0-9a-f-]{36}$/);
		const type = new PackageNodeTypes().getByName(trigger.type);
		const { NodeHelpers } = require('n8n-workflow');
		const params = NodeHelpers.getNodeParameters(
			type.description.properties,
			trigger.parameters,
			true,
			false,
			trigger,
			type.description,
		);
		expect(
			NodeHelpers.getNodeParametersIssues(
				type.description.properties,
				{ ...trigger, parameters: params },
				type.description,
			),
		).toBeNull();

		const h = await harness({ ...trigger.parameters, fetchCallDetails: false });
		expect(
			(await deliverWebhook(h.url, endedEnvelope('ultravox'), { secret: SECRET })).status,
		).toBe(204);
		await h.waitForExecutions(1);
	});
});
