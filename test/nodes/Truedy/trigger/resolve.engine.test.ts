// The Truedy Trigger ties each call event to the Truedy call (and so to the lead) it was placed for,
// through n8n's real engine (test/support/webhook-engine.ts) and the simulator over real HTTP.
//
// Every scenario runs in three simulator modes:
// - passthrough, calls expose ultravox_call_id: the documented webhook (Ultravox ids in
//   data.call.callId / data.call.agent.agentId) and call objects as Truedy's early backend has them
//   → resolved by ultravox_call_id;
// - passthrough, calls without ultravox_call_id (no documented example shows it): unresolved, with
//   a reason, never a wrong call;
// - flat: the older doc example with Truedy ids → resolved by truedy_id.
import fs from 'fs';
import path from 'path';
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { clearResolveCache, RESOLVE_LIMITS } from '../../../../nodes/Truedy/trigger/resolve';
import { overrideRetryPolicyForTests } from '../../../../nodes/Truedy/transport/retry';
import {
	captureN8nLogger,
	startTriggerHarness,
	useSimulator,
	type TriggerExecution,
	type TriggerHarness,
} from '../../../support';
import { SIM_AGENTS, SIM_ULTRAVOX_AGENTS, ultravoxCallIdOf } from '../../../simulator/server';
import type { SimCall, WebhookPayloadShape } from '../../../simulator/types';
import { buildCallEndedEvent, deliverWebhook } from '../../../simulator/webhooks';

const SECRET = 'whsec_resolve_test_9a8b7c6d5e4f30211203f4e5d6c7b8a9';
const FAST = { queuedMs: 10, ringingMs: 10, inProgressMs: 20 };
const logger = captureN8nLogger();

interface Mode {
	name: string;
	shape: WebhookPayloadShape;
	expose: boolean;
	/** How deliveries resolve in this mode; null: they do not. */
	method: 'ultravox_call_id' | 'truedy_id' | null;
}

const MODES: Mode[] = [
	{
		name: 'passthrough, calls expose ultravox_call_id',
		shape: 'ultravox',
		expose: true,
		method: 'ultravox_call_id',
	},
	{
		name: 'passthrough, calls without ultravox_call_id',
		shape: 'ultravox',
		expose: false,
		method: null,
	},
	{ name: 'flat payload with Truedy ids', shape: 'flat', expose: false, method: 'truedy_id' },
];
const each = test.each(MODES.map((mode) => [mode.name, mode] as const));

const sim = useSimulator({ callTimings: FAST });
const harnesses: TriggerHarness[] = [];

beforeEach(() => {
	clearResolveCache();
	jest.clearAllMocks();
});

afterEach(async () => {
	await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

async function harness(
	parameters: INodeParameters = {},
	withApiCredential = true,
): Promise<TriggerHarness> {
	const h = await startTriggerHarness({
		parameters,
		credentials: {
			truedyWebhookApi: { signingSecret: SECRET },
			...(withApiCredential && { truedyApi: { apiKey: sim.apiKey, baseUrl: sim.baseUrl } }),
		},
	});
	harnesses.push(h);
	return h;
}

function useMode(mode: Mode, h?: TriggerHarness): void {
	sim.configure({ exposeUltravoxIds: mode.expose });
	if (h) sim.configure({ webhook: { url: h.url, secret: SECRET, payloadShape: mode.shape } });
}

async function placeCall(body: IDataObject): Promise<IDataObject> {
	const res = await fetch(`${sim.baseUrl}/calls`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sim.apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ agent_id: SIM_AGENTS.active, ...body }),
	});
	expect(res.status).toBe(201);
	return ((await res.json()) as { data: IDataObject }).data;
}

/** A number per index that the simulator answers (it fails numbers ending in 0000). */
const phone = (i: number) => `+1415555${String(1000 + i).padStart(4, '0')}`;

/** The simulator's own record of the call a delivery was about (by either id). */
function truthOf(execution: TriggerExecution): SimCall | undefined {
	const id = (execution.json.ultravoxCallId ?? execution.json.callId) as string;
	return [...sim.calls.values()].find((c) => ultravoxCallIdOf(c) === id || c.id === id);
}

/** Outputs attached to a call that is not the one the delivery was about. */
function wrongOutputs(executions: TriggerExecution[]): TriggerExecution[] {
	return executions.filter((e) => {
		const resolution = e.json.resolution as IDataObject;
		if (!resolution.resolved) return false;
		const truth = truthOf(e);
		return (
			!truth ||
			e.json.callId !== truth.id ||
			(e.json.variables as IDataObject).lead_id !== truth.variables.lead_id
		);
	});
}

const getsOf = (path: RegExp) =>
	sim.requests.filter((r) => r.method === 'GET' && path.test(r.path));
const LIST = /^\/calls$/;
const ONE_CALL = /^\/calls\/[^/]+$/;
const warnLines = () =>
	logger.warn.mock.calls.filter(([message]) => String(message).includes('could not tie'));

describe('every call outcome reaches the lead it was placed for', () => {
	each('%s', async (_name, mode) => {
		const h = await harness();
		useMode(mode, h);
		const placed = [];
		for (let i = 0; i < 12; i++) {
			const agent = i % 2 ? SIM_AGENTS.leadQualifier : SIM_AGENTS.active;
			placed.push(
				await placeCall({
					agent_id: agent,
					phone_number: phone(i),
					variables: { lead_id: `lead-${i}` },
				}),
			);
		}
		const executions = await h.waitForExecutions(12, 10_000);

		expect(wrongOutputs(executions)).toEqual([]);
		for (const e of executions) {
			const truth = truthOf(e)!;
			expect(truth).toBeDefined();
			if (mode.method) {
				expect(e.json).toMatchObject({
					callId: truth.id,
					ultravoxCallId: mode.expose ? ultravoxCallIdOf(truth) : null,
					agentId: truth.agent_id,
					variables: { lead_id: truth.variables.lead_id },
					phoneNumber: truth.to,
					fromNumber: truth.from,
					resolution: { resolved: true, method: mode.method, reason: null },
				});
			} else {
				// The Ultravox ids are passed on as they came, and nothing is attached.
				expect(e.json).toMatchObject({
					callId: ultravoxCallIdOf(truth),
					ultravoxCallId: ultravoxCallIdOf(truth),
					agentId: null,
					ultravoxAgentId: truth.ultravox_agent_id,
					variables: {},
					phoneNumber: null,
					resolution: {
						resolved: false,
						method: null,
						reason: expect.stringContaining('carry no ultravox_call_id'),
					},
				});
			}
		}
		expect(new Set(executions.map((e) => e.json.callId)).size).toBe(12);
		// One warn line per unresolved delivery, none otherwise.
		expect(warnLines()).toHaveLength(mode.method ? 0 : 12);
		// An Ultravox id is never sent to GET /calls/{id}.
		const ultravoxIds = new Set(
			placed.map((p) => ultravoxCallIdOf(sim.calls.get(p.id as string)!)),
		);
		expect(getsOf(ONE_CALL).filter((r) => ultravoxIds.has(r.path.slice('/calls/'.length)))).toEqual(
			[],
		);
	});

	each('%s: a call.started delivery resolves too', async (_name, mode) => {
		const h = await harness({ events: ['call.started'] });
		useMode(mode, h);
		sim.configure({
			webhook: { url: h.url, secret: SECRET, payloadShape: mode.shape, events: ['call.started'] },
		});
		const call = await placeCall({
			phone_number: phone(1),
			variables: { lead_id: 'lead-started' },
		});
		const [execution] = await h.waitForExecutions(1);
		expect(execution.json.event).toBe('call.started');
		expect(execution.json.resolution).toMatchObject({
			resolved: mode.method !== null,
			method: mode.method,
		});
		if (mode.method)
			expect(execution.json).toMatchObject({
				callId: call.id,
				variables: { lead_id: 'lead-started' },
			});
	});
});

describe('the Agent IDs filter matches what the user knows', () => {
	/** `count` calls, every other one for the Lead Qualifier agent, all delivered. */
	async function callBothAgents(h: TriggerHarness, count: number): Promise<void> {
		for (let i = 0; i < count; i++) {
			await placeCall({
				agent_id: i % 2 ? SIM_AGENTS.leadQualifier : SIM_AGENTS.active,
				phone_number: phone(i),
				variables: { lead_id: `lead-${i}` },
			});
		}
		await sim.waitFor((s) => s.webhookDeliveries.length >= count, 5000);
		await h.idle();
	}

	each('%s: the Truedy agent ID', async (_name, mode) => {
		const h = await harness({ filters: { agentIds: SIM_AGENTS.leadQualifier } });
		useMode(mode, h);
		await callBothAgents(h, 6);

		const ignored = logger.info.mock.calls.filter(([message]) =>
			String(message).includes('ignored a delivery'),
		);
		if (mode.method) {
			expect(h.executions).toHaveLength(3);
			expect(h.executions.every((e) => e.json.agentId === SIM_AGENTS.leadQualifier)).toBe(true);
			expect(wrongOutputs(h.executions)).toEqual([]);
			expect(ignored).toHaveLength(3);
			expect(String(ignored[0][0])).toContain(`agent ${SIM_AGENTS.active}`);
		} else {
			// Without a resolved call the Truedy agent is unknown: nothing passes, and the info log says why.
			expect(h.executions).toHaveLength(0);
			expect(ignored).toHaveLength(6);
			expect(String(ignored[0][0])).toMatch(
				/Ultravox agent .* its Truedy agent is unknown \(.*ultravox_call_id/,
			);
		}
	});

	each('%s: the Ultravox agent ID', async (_name, mode) => {
		const h = await harness({ filters: { agentIds: SIM_ULTRAVOX_AGENTS.leadQualifier } });
		useMode(mode, h);
		await callBothAgents(h, 4);
		// The passthrough payload carries the Ultravox agent id; the flat one only the Truedy id, and
		// Truedy's call objects do not say which Ultravox agent they ran on.
		expect(h.executions).toHaveLength(mode.shape === 'ultravox' ? 2 : 0);
		expect(
			h.executions.every((e) => e.json.ultravoxAgentId === SIM_ULTRAVOX_AGENTS.leadQualifier),
		).toBe(true);
	});
});

describe('when a call cannot be resolved, the output says why and the log says so once', () => {
	let restorePolicy: () => void;
	beforeEach(() => {
		restorePolicy = overrideRetryPolicyForTests({
			baseDelayMs: 5,
			maxDelayMs: 20,
			requestTimeoutMs: 2_000,
		});
	});
	afterEach(() => restorePolicy());

	each('%s: no Truedy API credential', async (_name, mode) => {
		const h = await harness({}, false);
		useMode(mode, h);
		await placeCall({ phone_number: phone(1) });
		const [execution] = await h.waitForExecutions(1);
		expect(execution.json.resolution).toEqual({
			resolved: false,
			method: null,
			reason: expect.stringContaining('No Truedy API credential'),
		});
		expect(sim.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
		expect(warnLines()).toHaveLength(1);
	});

	each('%s: Resolve Call off', async (_name, mode) => {
		const h = await harness({ resolveCall: false });
		useMode(mode, h);
		await placeCall({ phone_number: phone(1) });
		const [execution] = await h.waitForExecutions(1);
		expect(execution.json.resolution).toEqual({
			resolved: false,
			method: null,
			reason: 'Resolve Call is off',
		});
		expect(sim.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
		expect(warnLines()).toHaveLength(0);
	});

	each(
		'%s: the API keeps failing (one warn line per delivery, not per retry)',
		async (_name, mode) => {
			const h = await harness();
			useMode(mode, h);
			sim.configure({ faults: { rules: [{ fault: 'status503', method: 'GET' }] } });
			for (let i = 0; i < 3; i++) await placeCall({ phone_number: phone(i) });
			const executions = await h.waitForExecutions(3, 10_000);
			for (const e of executions) {
				expect(e.json.resolution).toMatchObject({ resolved: false, method: null });
				expect((e.json.resolution as IDataObject).reason).toMatch(
					mode.method === null && !mode.expose && mode.shape === 'ultravox'
						? /Truedy API failed|ultravox_call_id/
						: /Truedy API failed/,
				);
			}
			expect(sim.faultCounts().status503).toBeGreaterThanOrEqual(4); // retried
			expect(warnLines()).toHaveLength(3);
		},
	);

	each('%s: the call was placed before the lookup window', async (_name, mode) => {
		const h = await harness({ options: { callLookupMinutes: 5 } });
		useMode(mode);
		const placed = await placeCall({ phone_number: phone(1), variables: { lead_id: 'lead-old' } });
		await sim.waitFor((s) => s.calls.get(placed.id as string)?.status === 'ended');
		const call = sim.calls.get(placed.id as string)!;
		call.created_at = new Date(Date.now() - 10 * 60_000).toISOString();
		await deliverWebhook(h.url, buildCallEndedEvent(call, mode.shape), { secret: SECRET });
		const [execution] = await h.waitForExecutions(1);
		if (mode.method === 'truedy_id') {
			// A Truedy id needs no window: GET /calls/{id}.
			expect(execution.json).toMatchObject({
				callId: call.id,
				variables: { lead_id: 'lead-old' },
				resolution: { resolved: true },
			});
		} else {
			expect(execution.json.resolution).toMatchObject({ resolved: false, method: null });
			// No call in the window at all, so whether calls carry ultravox_call_id cannot be told either.
			expect((execution.json.resolution as IDataObject).reason).toMatch(
				/^No Truedy call created since .* has the call ID/,
			);
			expect(execution.json.variables).toEqual({});
		}
		expect(
			getsOf(LIST).every(
				(r) => Date.parse(String(r.query.created_after)) > Date.parse(call.created_at),
			),
		).toBe(true);
	});

	test('passthrough, calls expose ultravox_call_id: beyond the page bound the lookup stops and says so', async () => {
		const mode = MODES[0];
		const h = await harness();
		useMode(mode);
		const target = await placeCall({ phone_number: phone(0), variables: { lead_id: 'lead-deep' } });
		const newer = RESOLVE_LIMITS.pageSize * RESOLVE_LIMITS.maxPages;
		for (let i = 1; i <= newer; i++) await placeCall({ phone_number: phone(i) });
		const call = sim.calls.get(target.id as string)!;
		await sim.waitFor((s) => s.calls.get(call.id)?.status === 'ended');
		sim.requests.length = 0;
		await deliverWebhook(h.url, buildCallEndedEvent(call, 'ultravox'), { secret: SECRET });
		const [execution] = await h.waitForExecutions(1, 10_000);
		expect(execution.json.resolution).toMatchObject({
			resolved: false,
			reason: expect.stringContaining('None of the 500 most recent Truedy calls'),
		});
		expect(getsOf(LIST)).toHaveLength(RESOLVE_LIMITS.maxPages);
	}, 30_000);
});

describe('enrichment uses the resolved Truedy id', () => {
	each(
		'%s',
		async (_name, mode) => {
			const h = await harness({ fetchCallDetails: true, transcriptWaitSeconds: 10 });
			useMode(mode, h);
			sim.configure({ transcriptDelayMs: 300 });
			const call = await placeCall({
				phone_number: phone(1),
				variables: { lead_id: 'lead-enriched', first_name: 'Grace' },
			});
			const [execution] = await h.waitForExecutions(1, 10_000);
			const gets = getsOf(ONE_CALL);
			if (mode.method) {
				expect(execution.json).toMatchObject({
					callId: call.id,
					variables: { lead_id: 'lead-enriched' },
					transcript: expect.arrayContaining([
						expect.objectContaining({ text: expect.stringContaining('Grace') }),
					]),
					enrichment: { transcriptPending: false, error: null },
				});
				expect(gets.every((r) => r.path === `/calls/${call.id}`)).toBe(true);
				// Polled no faster than the 5 s floor.
				for (let i = 1; i < gets.length; i++)
					expect(gets[i].receivedAt - gets[i - 1].receivedAt).toBeGreaterThanOrEqual(5000);
			} else {
				expect(execution.json).toMatchObject({
					transcript: null,
					enrichment: { fetches: 0, error: expect.stringContaining('The call was not fetched') },
				});
				expect(gets).toHaveLength(0);
				expect(warnLines()).toHaveLength(1);
			}
		},
		20_000,
	);
});

interface Spread {
	p50: number;
	p95: number;
	max: number;
}

function spread(values: number[]): Spread {
	const sorted = [...values].sort((a, b) => a - b);
	const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
	return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
}

interface BurstNumbers {
	mode: string;
	settings: string;
	deliveries: number;
	callsInWindow: number;
	listRequests: number;
	getRequests: number;
	rateLimited: number;
	resolved: number;
	wrong: number;
	/** From sending the delivery to the execution's start. */
	msToStart: Spread;
	/** From the node's 204 to the execution's start: the post-ack work (resolution, enrichment). */
	msAfterAck: Spread;
	wallMs: number;
}

const burstNumbers: BurstNumbers[] = [];

/** The measured numbers, for the README and reports: test-results/trigger-resolve-burst.json. */
afterAll(() => {
	if (burstNumbers.length === 0) return;
	const dir = path.join(__dirname, '..', '..', '..', '..', 'test-results');
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(
		path.join(dir, 'trigger-resolve-burst.json'),
		`${JSON.stringify(burstNumbers, null, 2)}\n`,
	);
});

describe.each([
	['Resolve Call (default)', {}],
	['Resolve Call and Fetch Missing Transcript', { fetchCallDetails: true }],
	['Resolve Call off (baseline)', { resolveCall: false }],
] as const)('a burst of 100 deliveries shares its lookups: %s', (settings, parameters) => {
	const BURST = 100;
	const NOISE = 150; // other recent calls of the organisation: the 100 are among 250
	const resolving = !('resolveCall' in parameters);
	const enriching = 'fetchCallDetails' in parameters;

	each(
		'%s',
		async (_name, mode) => {
			const h = await harness({ ...parameters });
			useMode(mode);
			const leads: SimCall[] = [];
			for (let i = 0; i < BURST + NOISE; i++) {
				const isLead = i % 5 < 2; // interleaved: 2 of every 5 calls are burst calls
				const placed = await placeCall({
					phone_number: phone(i),
					variables: isLead ? { lead_id: `lead-${i}` } : {},
				});
				if (isLead) leads.push(sim.calls.get(placed.id as string)!);
			}
			expect(leads).toHaveLength(BURST);
			await sim.waitFor((s) => [...s.calls.values()].every((c) => c.status === 'ended'), 10_000);
			// From here: Truedy's documented limit (100 requests a minute for the organisation) and some latency.
			sim.configure({ rateLimit: {}, latencyMs: 25 });
			sim.requests.length = 0;

			const sentAt = new Map<string, number>();
			const started = Date.now();
			const results = await Promise.all(
				leads.map((call) => {
					const envelope = buildCallEndedEvent(call, mode.shape);
					sentAt.set(mode.shape === 'flat' ? call.id : ultravoxCallIdOf(call), Date.now());
					return deliverWebhook(h.url, envelope, { secret: SECRET, timeoutMs: 10_000 });
				}),
			);
			expect(results.every((r) => r.status === 204)).toBe(true);
			const executions = await h.waitForExecutions(BURST, 60_000);
			const wallMs = Date.now() - started;

			const webhookIdOf = (e: TriggerExecution) =>
				(e.json.ultravoxCallId ?? e.json.callId) as string;
			const startOf = (e: TriggerExecution) => new Date(e.run.startedAt).getTime();
			const ackOf = (e: TriggerExecution) =>
				h.requests.find((r) => r.rawBody.includes(webhookIdOf(e)))!.answeredAt!;
			const numbers: BurstNumbers = {
				mode: mode.name,
				settings,
				deliveries: BURST,
				callsInWindow: BURST + NOISE,
				listRequests: getsOf(LIST).length,
				getRequests: getsOf(ONE_CALL).length,
				rateLimited: sim.rateLimitedCount,
				resolved: executions.filter((e) => (e.json.resolution as IDataObject).resolved).length,
				wrong: wrongOutputs(executions).length,
				msToStart: spread(executions.map((e) => startOf(e) - sentAt.get(webhookIdOf(e))!)),
				msAfterAck: spread(executions.map((e) => startOf(e) - ackOf(e))),
				wallMs,
			};
			burstNumbers.push(numbers);

			expect(numbers.wrong).toBe(0);
			expect(new Set(executions.map((e) => e.json.callId)).size).toBe(BURST);
			if (!resolving) {
				expect(numbers.resolved).toBe(0);
				expect(numbers.listRequests + numbers.getRequests).toBe(0);
			} else if (enriching) {
				// Enrichment reuses the listed call when it was read after the delivery arrived, and fetches
				// the rest by Truedy id, once each (the transcripts are ready). A Truedy id is fetched at once:
				// that one answer serves the resolution and the enrichment.
				expect(numbers.resolved).toBe(mode.method ? BURST : 0);
				expect(numbers.getRequests).toBeLessThanOrEqual(mode.method ? BURST : 0);
				expect(numbers.listRequests).toBeLessThanOrEqual(
					mode.method === 'truedy_id' ? 0 : 2 * RESOLVE_LIMITS.maxPages,
				);
				if (mode.method === 'truedy_id') expect(numbers.getRequests).toBe(BURST);
			} else if (mode.method === 'ultravox_call_id') {
				expect(numbers.rateLimited).toBe(0);
				expect(numbers.resolved).toBe(BURST);
				// The 250 calls fit in 3 pages; coalesced lookups read them at most a few times, not once per delivery.
				expect(numbers.listRequests).toBeLessThanOrEqual(2 * RESOLVE_LIMITS.maxPages);
				expect(numbers.getRequests).toBe(0);
				for (const e of executions)
					expect((e.json.variables as IDataObject).lead_id).toBe(truthOf(e)!.variables.lead_id);
			} else if (mode.method === 'truedy_id') {
				expect(numbers.rateLimited).toBe(0);
				expect(numbers.resolved).toBe(BURST);
				// The first delivery's GET /calls/{id}; those arriving meanwhile share pages of recent calls.
				expect(numbers.listRequests + numbers.getRequests).toBeLessThanOrEqual(
					2 * RESOLVE_LIMITS.maxPages,
				);
				for (const e of executions)
					expect((e.json.variables as IDataObject).lead_id).toBe(truthOf(e)!.variables.lead_id);
			} else {
				expect(numbers.resolved).toBe(0);
				expect(numbers.listRequests).toBe(1); // the first page shows the calls carry no ultravox_call_id
				expect(numbers.getRequests).toBe(0);
				expect(warnLines()).toHaveLength(BURST);
			}
		},
		150_000,
	);
});
