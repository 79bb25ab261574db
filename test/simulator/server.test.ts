// Tests of the Truedy API simulator itself, over real HTTP.
import { createServer, IncomingMessage, Server } from 'http';
import type { AddressInfo } from 'net';
import { createHmac } from 'crypto';
import {
	RATE_LIMIT_VERSION_B,
	SIM_AGENTS,
	SIM_NUMBERS,
	SIM_ULTRAVOX_AGENTS,
	startSimulator,
	StartOptions,
	TruedySimulator,
	ultravoxAgentIdOf,
} from './server';
import {
	buildCallEndedEvent,
	deliverWebhook,
	prepareDelivery,
	signWebhook,
	WebhookEnvelope,
} from './webhooks';
import {
	compareCodePoints,
	parsePythonJson,
	pyFloat,
	PyFloat,
	pythonJsonDumps,
	pythonSortedDumps,
} from './pyjson';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const FAST = { queuedMs: 15, ringingMs: 15, inProgressMs: 30 };
const sims: TruedySimulator[] = [];
const receivers: Server[] = [];

async function start(opts: StartOptions = {}): Promise<TruedySimulator> {
	const sim = await startSimulator({ callTimings: FAST, ...opts });
	sims.push(sim);
	return sim;
}

afterEach(async () => {
	await Promise.all(sims.splice(0).map((s) => s.close()));
	await Promise.all(
		receivers.splice(0).map(
			(r) =>
				new Promise<void>((res) => {
					r.closeAllConnections();
					r.close(() => res());
				}),
		),
	);
});

interface ApiResponse {
	status: number;
	headers: Headers;
	json: any;
	text: string;
}

async function api(
	sim: TruedySimulator,
	method: string,
	path: string,
	opts: {
		body?: unknown;
		rawBody?: string;
		headers?: Record<string, string>;
		auth?: string | false;
		base?: string;
	} = {},
): Promise<ApiResponse> {
	const headers: Record<string, string> = { ...opts.headers };
	if (opts.auth !== false) headers.Authorization = `Bearer ${opts.auth ?? sim.apiKey}`;
	let body: string | undefined = opts.rawBody;
	if (opts.body !== undefined) body = JSON.stringify(opts.body);
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	const res = await fetch(`${opts.base ?? sim.baseUrl}${path}`, { method, headers, body });
	const text = await res.text();
	let json: any;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: res.status, headers: res.headers, json, text };
}

const createCall = (
	sim: TruedySimulator,
	body: Record<string, unknown>,
	headers?: Record<string, string>,
) => api(sim, 'POST', '/calls', { body, headers });

const validCall = (extra: Record<string, unknown> = {}) => ({
	agent_id: SIM_AGENTS.active,
	phone_number: '+14155551234',
	...extra,
});

function expectError(res: ApiResponse, status: number, code: string): void {
	expect({ status: res.status, code: res.json?.error?.code }).toEqual({ status, code });
	expect(typeof res.json.error.message).toBe('string');
	expect(res.json.meta.request_id).toMatch(/^req_/);
	expect(res.headers.get('x-request-id')).toBe(res.json.meta.request_id);
}

interface Received {
	headers: IncomingMessage['headers'];
	rawBody: string;
}

/** A webhook receiver that answers with `statuses` in turn (last one repeats). */
async function receiver(
	statuses: number[] = [204],
): Promise<{ url: string; received: Received[] }> {
	const received: Received[] = [];
	const server = createServer((req, res) => {
		let raw = '';
		req.on('data', (c) => (raw += c));
		req.on('end', () => {
			received.push({ headers: req.headers, rawBody: raw });
			res.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)];
			res.end();
		});
	});
	receivers.push(server);
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
	return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

describe('auth, IP allow-list, routing', () => {
	it('rejects missing and wrong keys with 401 and records every request', async () => {
		const sim = await start();
		expectError(await api(sim, 'GET', '/agents', { auth: false }), 401, 'unauthorized');
		expectError(await api(sim, 'GET', '/agents', { auth: 'truedy_wrong' }), 401, 'unauthorized');
		expect((await api(sim, 'GET', '/agents')).status).toBe(200);
		expect(sim.requests.map((r) => [r.method, r.path, r.status])).toEqual([
			['GET', '/agents', 401],
			['GET', '/agents', 401],
			['GET', '/agents', 200],
		]);
		expect(sim.requests[2].headers.authorization).toBe(`Bearer ${sim.apiKey}`);
	});

	it('enforces allowedIps with 403 forbidden', async () => {
		const sim = await start({ allowedIps: ['10.1.2.3'] });
		const res = await api(sim, 'GET', '/agents');
		expectError(res, 403, 'forbidden');
		expect(res.json.error.message).toMatch(/IP not whitelisted/);
		sim.configure({ allowedIps: ['127.0.0.1'] });
		expect((await api(sim, 'GET', '/agents')).status).toBe(200);
	});

	it('answers unknown routes and paths outside the base with 404 not_found', async () => {
		const sim = await start();
		expectError(await api(sim, 'GET', '/nope'), 404, 'not_found');
		expectError(await api(sim, 'DELETE', '/calls'), 404, 'not_found');
		const outside = await api(sim, 'GET', '/calls', { base: sim.url });
		expectError(outside, 404, 'not_found');
		expect(sim.requests[2].fullPath).toBe('/calls');
	});
});

describe('agents', () => {
	it('lists seeded agents sorted by name with pagination and filters', async () => {
		const sim = await start();
		const all = await api(sim, 'GET', '/agents');
		expect(all.status).toBe(200);
		expect(all.json.pagination).toEqual({ total: 5, limit: 50, offset: 0, has_more: false });
		const names = all.json.data.map((a: any) => a.name);
		expect(names).toEqual([...names].sort((a: string, b: string) => a.localeCompare(b)));
		expect(all.json.data[0]).toEqual(
			expect.objectContaining({
				id: SIM_AGENTS.active,
				name: 'Appointment Reminder',
				status: 'active',
				model: 'ultravox-v0.7',
			}),
		);
		const active = await api(sim, 'GET', '/agents?status=active&name=LEAD');
		expect(active.json.data.map((a: any) => a.id)).toEqual([SIM_AGENTS.leadQualifier]);
		const drafts = await api(sim, 'GET', '/agents?status=draft');
		expect(drafts.json.data.map((a: any) => a.id)).toEqual([SIM_AGENTS.draft]);
	});

	it('validates limit and pages through extra agents', async () => {
		const sim = await start({ extraAgents: 120 });
		expectError(await api(sim, 'GET', '/agents?limit=0'), 422, 'validation_error');
		expectError(await api(sim, 'GET', '/agents?limit=101'), 422, 'validation_error');
		expectError(await api(sim, 'GET', '/agents?offset=-1'), 422, 'validation_error');
		const page = await api(sim, 'GET', '/agents?limit=100&offset=100');
		expect(page.json.pagination).toEqual({ total: 125, limit: 100, offset: 100, has_more: false });
		expect(page.json.data).toHaveLength(25);
		expect((await api(sim, 'GET', '/agents?limit=100')).json.pagination.has_more).toBe(true);
	});

	it('gets one agent or 404', async () => {
		const sim = await start();
		const one = await api(sim, 'GET', `/agents/${SIM_AGENTS.noNumbers}`);
		expect(one.json.data.outbound_phone_numbers).toEqual([]);
		expect(one.json.meta).toEqual({
			request_id: one.headers.get('x-request-id'),
			ts: expect.any(String),
		});
		expectError(
			await api(sim, 'GET', '/agents/00000000-0000-4000-8000-000000000000'),
			404,
			'not_found',
		);
	});

	it('supports bare responses and pagination inside meta', async () => {
		const sim = await start({ responseShape: 'bare' });
		expect((await api(sim, 'GET', `/agents/${SIM_AGENTS.active}`)).json.id).toBe(SIM_AGENTS.active);
		const bareList = await api(sim, 'GET', '/agents?limit=2');
		expect(Object.keys(bareList.json).sort()).toEqual(['data', 'pagination']);
		sim.configure({ responseShape: 'envelope', paginationIn: 'meta' });
		const metaList = await api(sim, 'GET', '/agents?limit=2');
		expect(metaList.json.pagination).toBeUndefined();
		expect(metaList.json.meta).toEqual(
			expect.objectContaining({
				request_id: expect.any(String),
				total: 5,
				limit: 2,
				offset: 0,
				has_more: true,
			}),
		);
	});

	it('addAgent makes a new agent callable', async () => {
		const sim = await start();
		const agent = sim.addAgent({
			name: 'Zed',
			outbound_phone_numbers: [{ id: 'n1', phone_number: '+15550001111' }],
		});
		expect((await createCall(sim, validCall({ agent_id: agent.id }))).json.data.from_number).toBe(
			'+15550001111',
		);
	});
});

describe('POST /calls', () => {
	it('creates a queued call with the documented fields', async () => {
		const sim = await start({ autoAdvance: false });
		const res = await createCall(
			sim,
			validCall({
				variables: { first_name: 'Sarah' },
				call_settings: { max_duration: '1800s', recording_enabled: false },
			}),
		);
		expect(res.status).toBe(201);
		expect(res.json.data).toEqual({
			id: expect.stringMatching(/^call_[a-z0-9]{26}$/),
			status: 'queued',
			direction: 'outbound',
			agent_id: SIM_AGENTS.active,
			phone_number: '+14155551234',
			from_number: SIM_NUMBERS.appointmentReminder[0],
			duration_seconds: null,
			transcript: null,
			recording_url: null,
			summary: null,
			end_reason: null,
			variables: { first_name: 'Sarah' },
			call_settings: { max_duration: '1800s', recording_enabled: false },
			created_at: expect.any(String),
			started_at: null,
			ended_at: null,
		});
		expect(sim.calls.size).toBe(1);
		expect(sim.requests[0].body).toEqual(expect.objectContaining({ agent_id: SIM_AGENTS.active }));
	});

	it('honours from_number and the configured field naming', async () => {
		const sim = await start({ autoAdvance: false, callFieldNaming: 'to_from' });
		const a = await createCall(sim, validCall({ from_number: SIM_NUMBERS.appointmentReminder[1] }));
		expect(a.json.data).toEqual(
			expect.objectContaining({ to: '+14155551234', from: SIM_NUMBERS.appointmentReminder[1] }),
		);
		sim.configure({ callFieldNaming: 'to_number' });
		const b = await api(sim, 'GET', `/calls/${a.json.data.id}`);
		expect(b.json.data).toEqual(
			expect.objectContaining({
				to_number: '+14155551234',
				from_number: SIM_NUMBERS.appointmentReminder[1],
			}),
		);
		expect(b.json.data.phone_number).toBeUndefined();
	});

	it.each<[string, string | Record<string, unknown>, number, string, string | undefined]>([
		['malformed JSON', '{"agent_id":', 400, 'bad_request', undefined],
		['non-object body', '[]', 400, 'bad_request', undefined],
		[
			'missing agent_id (checked before phone)',
			{ phone_number: 'bad' },
			422,
			'validation_error',
			'agent_id',
		],
		[
			'missing phone_number',
			{ agent_id: SIM_AGENTS.active },
			422,
			'invalid_phone_number',
			'phone_number',
		],
		[
			'non-E.164 phone (before agent lookup)',
			{ agent_id: 'nope', phone_number: '(415) 555-1234' },
			422,
			'invalid_phone_number',
			'phone_number',
		],
		[
			'phone without +',
			validCall({ phone_number: '14155551234' }),
			422,
			'invalid_phone_number',
			'phone_number',
		],
		['unknown agent', validCall({ agent_id: 'nope' }), 404, 'agent_not_found', undefined],
		['draft agent', validCall({ agent_id: SIM_AGENTS.draft }), 422, 'agent_not_active', undefined],
		[
			'agent without outbound numbers',
			validCall({ agent_id: SIM_AGENTS.noNumbers }),
			422,
			'no_phone_number_configured',
			undefined,
		],
		[
			'foreign from_number',
			validCall({ from_number: '+14155550102' }),
			422,
			'validation_error',
			'from_number',
		],
		[
			'non-string variable',
			validCall({ variables: { n: 1 } }),
			422,
			'validation_error',
			'variables.n',
		],
		['variables array', validCall({ variables: ['x'] }), 422, 'validation_error', 'variables'],
		[
			'unknown call_settings key',
			validCall({ call_settings: { foo: 1 } }),
			422,
			'validation_error',
			'call_settings.foo',
		],
		[
			'bad max_duration',
			validCall({ call_settings: { max_duration: '30' } }),
			422,
			'validation_error',
			'call_settings.max_duration',
		],
		[
			'non-boolean recording_enabled',
			validCall({ call_settings: { recording_enabled: 'yes' } }),
			422,
			'validation_error',
			'call_settings.recording_enabled',
		],
	])('%s', async (_name, body, status, code, field) => {
		const sim = await start({ autoAdvance: false });
		const res = await api(
			sim,
			'POST',
			'/calls',
			typeof body === 'string' ? { rawBody: body } : { body },
		);
		expectError(res, status, code);
		if (field) expect(res.json.error.details.field).toBe(field);
		expect(sim.calls.size).toBe(0);
		expect(sim.requests[0].status).toBe(status);
	});

	it('returns 402 once credits are used up, after validation', async () => {
		const sim = await start({ autoAdvance: false, credits: 1 });
		expect((await createCall(sim, validCall())).status).toBe(201);
		expectError(
			await createCall(sim, validCall({ phone_number: 'bad' })),
			422,
			'invalid_phone_number',
		);
		expectError(await createCall(sim, validCall()), 402, 'insufficient_credits');
		sim.reset();
		expect((await createCall(sim, validCall())).status).toBe(201);
	});
});

describe('idempotency', () => {
	it('replays the stored 201 for the same key and body, 409s on a different body', async () => {
		const sim = await start({ autoAdvance: false });
		const key = { 'X-Idempotency-Key': 'k-1' };
		const first = await createCall(
			sim,
			{ agent_id: SIM_AGENTS.active, phone_number: '+14155551234', variables: { a: '1', b: '2' } },
			key,
		);
		const replay = await createCall(
			sim,
			{ variables: { b: '2', a: '1' }, phone_number: '+14155551234', agent_id: SIM_AGENTS.active },
			key,
		);
		expect(replay.status).toBe(201);
		expect(replay.text).toBe(first.text);
		expect(replay.headers.get('idempotent-replayed')).toBe('true');
		expect(first.headers.get('idempotent-replayed')).toBeNull();
		expect(replay.headers.get('x-request-id')).toBe(replay.json.meta.request_id);
		expect(sim.calls.size).toBe(1);
		expectError(
			await createCall(sim, validCall({ phone_number: '+14155559999' }), key),
			409,
			'conflict',
		);
		expect(
			(await createCall(sim, validCall(), { 'X-Idempotency-Key': 'k-2' })).json.data.id,
		).not.toBe(first.json.data.id);
		expect(sim.calls.size).toBe(2);
		sim.reset();
		expect((await createCall(sim, validCall({ phone_number: '+14155559999' }), key)).status).toBe(
			201,
		);
	});
});

describe('rate limiting', () => {
	it('reset_at style: 429 with details.reset_at, no Retry-After, checked before validation', async () => {
		const sim = await start({ rateLimit: { limit: 2, windowMs: 60_000, style: 'reset_at' } });
		await api(sim, 'GET', '/agents');
		await api(sim, 'GET', '/agents');
		const res = await api(sim, 'POST', '/calls', { rawBody: 'not json' });
		expectError(res, 429, 'rate_limit_exceeded');
		expect(res.json.error.details.limit).toBe(2);
		const resetAt = Date.parse(res.json.error.details.reset_at);
		expect(resetAt).toBeGreaterThan(Date.now());
		expect(resetAt % 60_000).toBe(0);
		expect(res.headers.get('retry-after')).toBeNull();
	});

	it('retry_after style and custom code; none style; windows roll over', async () => {
		const sim = await start({
			rateLimit: { limit: 1, windowMs: 60_000, style: 'retry_after', code: 'rate_limited' },
		});
		await api(sim, 'GET', '/agents');
		const res = await api(sim, 'GET', '/agents');
		expectError(res, 429, 'rate_limited');
		expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
		expect(res.json.error.details.reset_at).toBeUndefined();

		sim.configure({ rateLimit: { limit: 1, windowMs: 300, style: 'none' } });
		await new Promise((r) => setTimeout(r, 300 - (Date.now() % 300) + 5)); // windows are aligned to the epoch
		await api(sim, 'GET', '/agents');
		const limited = await api(sim, 'GET', '/agents');
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBeNull();
		expect(limited.json.error.details.reset_at).toBeUndefined();
		await new Promise((r) => setTimeout(r, 300));
		expect((await api(sim, 'GET', '/agents')).status).toBe(200);
	});
});

describe('call lifecycle and GET /calls', () => {
	it('advances queued → ringing → in-progress → ended with transcript and recording', async () => {
		const sim = await start();
		const { json } = await createCall(sim, validCall({ variables: { first_name: 'Sarah' } }));
		const id = json.data.id;
		await sim.waitFor(() => sim.calls.get(id)!.status === 'ended');
		expect(sim.calls.get(id)!.history.map((h) => h.status)).toEqual([
			'queued',
			'ringing',
			'in_progress',
			'ended',
		]);
		const call = (await api(sim, 'GET', `/calls/${id}`)).json.data;
		expect(call).toEqual(
			expect.objectContaining({
				status: 'ended',
				end_reason: 'hangup',
				duration_seconds: 42,
				recording_url: expect.stringMatching(/^https:\/\//),
			}),
		);
		expect(call.transcript[0]).toEqual({
			speaker: 'agent',
			text: expect.stringContaining('Sarah'),
			timestamp: expect.any(Number),
		});
		expect(call.started_at).not.toBeNull();
		expect(call.ended_at).not.toBeNull();
	});

	it('fails numbers ending in 0000 as unjoined and uses the completed vocabulary', async () => {
		const sim = await start({ statusVocabulary: 'completed' });
		const failed = (await createCall(sim, validCall({ phone_number: '+14155550000' }))).json.data
			.id;
		const ok = (await createCall(sim, validCall())).json.data.id;
		await sim.waitFor(
			() => sim.calls.get(failed)!.status === 'failed' && sim.calls.get(ok)!.status === 'ended',
		);
		expect((await api(sim, 'GET', `/calls/${failed}`)).json.data).toEqual(
			expect.objectContaining({ status: 'failed', end_reason: 'unjoined' }),
		);
		expect((await api(sim, 'GET', `/calls/${ok}`)).json.data.status).toBe('completed');
		expect((await api(sim, 'GET', '/calls?status=ended')).json.data.map((c: any) => c.id)).toEqual([
			ok,
		]);
		expect(
			(await api(sim, 'GET', '/calls?status=completed')).json.data.map((c: any) => c.id),
		).toEqual([ok]);
	});

	it('keeps the transcript null for transcriptDelayMs after the end', async () => {
		const sim = await start({ transcriptDelayMs: 400 });
		const id = (await createCall(sim, validCall())).json.data.id;
		await sim.waitFor(() => sim.calls.get(id)!.status === 'ended');
		const early = (await api(sim, 'GET', `/calls/${id}`)).json.data;
		expect(early.status).toBe('ended');
		expect(early.transcript).toBeNull();
		await new Promise((r) => setTimeout(r, 420));
		expect((await api(sim, 'GET', `/calls/${id}`)).json.data.transcript).toHaveLength(5);
	});

	it('with autoAdvance false, advanceCall/setCallStatus/endCall drive the state', async () => {
		const sim = await start({ autoAdvance: false });
		const id = (await createCall(sim, validCall())).json.data.id;
		await new Promise((r) => setTimeout(r, 60));
		expect(sim.calls.get(id)!.status).toBe('queued');
		expect(sim.advanceCall(id).status).toBe('ringing');
		expect(sim.setCallStatus(id, 'in-progress').status).toBe('in_progress');
		expect(sim.endCall(id, 'failed').end_reason).toBe('connection_error');
		expect(() => sim.advanceCall(id)).toThrow();
		expectError(await api(sim, 'GET', '/calls/call_doesnotexist'), 404, 'not_found');
	});

	it('lists calls newest first with filters and pagination', async () => {
		const sim = await start({ autoAdvance: false });
		const ids: string[] = [];
		for (const agent_id of [SIM_AGENTS.active, SIM_AGENTS.leadQualifier, SIM_AGENTS.active]) {
			ids.push((await createCall(sim, validCall({ agent_id }))).json.data.id);
		}
		sim.endCall(ids[0]);
		const all = await api(sim, 'GET', '/calls?limit=2');
		expect(all.json.data.map((c: any) => c.id)).toEqual([ids[2], ids[1]]);
		expect(all.json.pagination).toEqual({ total: 3, limit: 2, offset: 0, has_more: true });
		expect(
			(await api(sim, 'GET', `/calls?agent_id=${SIM_AGENTS.active}&status=queued`)).json.data.map(
				(c: any) => c.id,
			),
		).toEqual([ids[2]]);
		expect(
			(await api(sim, 'GET', '/calls?direction=outbound&created_after=2000-01-01T00:00:00Z')).json
				.pagination.total,
		).toBe(3);
		expect((await api(sim, 'GET', '/calls?created_before=2000-01-01T00:00:00Z')).json.data).toEqual(
			[],
		);
		expectError(await api(sim, 'GET', '/calls?status=bogus'), 422, 'validation_error');
		expectError(await api(sim, 'GET', '/calls?created_after=yesterday'), 422, 'validation_error');
	});
});

describe('webhooks', () => {
	it('delivers a signed ultravox-shaped call.ended carrying the Ultravox ids, empty metadata', async () => {
		const hook = await receiver();
		const sim = await start({ webhook: { url: hook.url, secret: 'whsec_test' } });
		const id = (await createCall(sim, validCall({ variables: { first_name: 'Sarah' } }))).json.data
			.id;
		await sim.waitFor(() => sim.webhookDeliveries.length === 1);
		const [got] = hook.received;
		const ts = String(got.headers['x-truedy-timestamp']);
		expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(5);
		expect(got.headers['x-truedy-signature']).toBe(signWebhook('whsec_test', ts, got.rawBody));
		const envelope = JSON.parse(got.rawBody);
		expect(envelope).toEqual({
			event: 'call.ended',
			timestamp: expect.any(String),
			data: expect.any(Object),
		});
		const uvCallId = sim.calls.get(id)!.ultravox_call_id!;
		expect(uvCallId).toMatch(UUID);
		expect(envelope.data).toEqual(
			expect.objectContaining({
				id: expect.stringMatching(/^uv_evt_/),
				event: 'call.ended',
				call: expect.objectContaining({
					callId: uvCallId,
					endReason: 'hangup',
					billedDuration: '42s',
				}),
			}),
		);
		expect(got.rawBody).not.toContain(id); // no Truedy call id anywhere in the passthrough payload
		expect(got.rawBody).not.toContain(SIM_AGENTS.active);
		expect(envelope.data.call.agent).toEqual({ agentId: SIM_ULTRAVOX_AGENTS.active });
		expect(SIM_ULTRAVOX_AGENTS.active).toMatch(UUID);
		expect(envelope.data.call.metadata).toEqual({});
		expect(sim.webhookDeliveries[0]).toEqual(
			expect.objectContaining({
				event: 'call.ended',
				callId: id,
				ultravoxCallId: uvCallId,
				status: 204,
				attempt: 1,
				copy: 0,
				rawBody: got.rawBody,
			}),
		);
	});

	it('supports Trudy spelling, flat shape with transcript, call.started/call.failed, duplicates', async () => {
		const hook = await receiver();
		const sim = await start({
			statusVocabulary: 'completed',
			webhook: {
				url: hook.url,
				secret: 's3cret',
				headerSpelling: 'Trudy',
				payloadShape: 'flat',
				includeTranscript: true,
				events: ['call.started', 'call.ended', 'call.failed'],
				duplicates: 1,
			},
		});
		const ok = (await createCall(sim, validCall())).json.data.id;
		const bad = (await createCall(sim, validCall({ phone_number: '+14155550000' }))).json.data.id;
		// ok: started ×2 + ended ×2; bad: ended ×2 + failed ×2
		await sim.waitFor(() => sim.webhookDeliveries.length === 8);
		for (const r of hook.received) {
			expect(r.headers['x-truedy-signature']).toBeUndefined();
			expect(r.headers['x-trudy-signature']).toBe(
				signWebhook('s3cret', String(r.headers['x-trudy-timestamp']), r.rawBody),
			);
		}
		const events = sim.webhookDeliveries
			.map((d) => `${d.callId === ok ? 'ok' : 'bad'}:${d.event}:${d.copy}`)
			.sort();
		expect(events).toEqual([
			'bad:call.ended:0',
			'bad:call.ended:1',
			'bad:call.failed:0',
			'bad:call.failed:1',
			'ok:call.ended:0',
			'ok:call.ended:1',
			'ok:call.started:0',
			'ok:call.started:1',
		]);
		const okEnded = sim.webhookDeliveries.filter(
			(d) => d.callId === ok && d.event === 'call.ended',
		);
		expect(okEnded[0].rawBody).toBe(okEnded[1].rawBody);
		expect(okEnded[0].headers).toEqual(okEnded[1].headers);
		const data = JSON.parse(okEnded[0].rawBody).data;
		expect(data).toEqual(
			expect.objectContaining({
				id: expect.stringMatching(/^evt_/),
				call_id: ok,
				agent_id: SIM_AGENTS.active,
				status: 'completed',
				end_reason: 'hangup',
				duration_seconds: 42,
			}),
		);
		expect(data.transcript).toHaveLength(5);
		const badData = JSON.parse(
			sim.webhookDeliveries.find((d) => d.callId === bad && d.event === 'call.ended')!.rawBody,
		).data;
		expect(badData).toEqual(expect.objectContaining({ status: 'failed', end_reason: 'unjoined' }));
	});

	it('retries non-2xx deliveries, and can forge bad signatures and skewed clocks', async () => {
		const hook = await receiver([500, 503, 204]);
		const sim = await start({
			webhook: {
				url: hook.url,
				secret: 'right',
				retryOnNon2xx: 3,
				secretOverride: 'wrong',
				clockSkewSeconds: -600,
			},
		});
		await createCall(sim, validCall());
		await sim.waitFor(() => sim.webhookDeliveries.some((d) => d.status === 204));
		expect(sim.webhookDeliveries.map((d) => [d.attempt, d.status])).toEqual([
			[1, 500],
			[2, 503],
			[3, 204],
		]);
		const last = hook.received[2];
		const ts = String(last.headers['x-truedy-timestamp']);
		expect(Date.now() / 1000 - Number(ts)).toBeGreaterThan(590);
		expect(last.headers['x-truedy-signature']).not.toBe(signWebhook('right', ts, last.rawBody));
		expect(last.headers['x-truedy-signature']).toBe(signWebhook('wrong', ts, last.rawBody));
	});

	it('deliverWebhook forges deliveries (raw body, override, omitted and extra headers)', async () => {
		const hook = await receiver([401]);
		const sim = await start({ autoAdvance: false });
		const id = (await createCall(sim, validCall())).json.data.id;
		const envelope = buildCallEndedEvent(sim.endCall(id), 'ultravox');
		const res = await deliverWebhook(hook.url, envelope, { secret: 'k', timestamp: 1700000000 });
		expect(res.status).toBe(401);
		expect(hook.received[0].headers['x-truedy-signature']).toBe(
			signWebhook('k', 1700000000, JSON.stringify(envelope)),
		);
		const raw = '{ "event": "call.ended",  "data": {} }';
		await deliverWebhook(hook.url, raw, {
			secret: 'k',
			headerSpelling: 'Trudy',
			signatureOverride: 'deadbeef',
			extraHeaders: { 'X-Extra': '1' },
		});
		expect(hook.received[1].rawBody).toBe(raw);
		expect(hook.received[1].headers).toEqual(
			expect.objectContaining({ 'x-trudy-signature': 'deadbeef', 'x-extra': '1' }),
		);
		await deliverWebhook(hook.url, raw, { secret: 'k', omitHeaders: ['signature'] });
		expect(hook.received[2].headers['x-truedy-signature']).toBeUndefined();
		expect(hook.received[2].headers['x-truedy-timestamp']).toBeDefined();
		expect(
			JSON.parse(
				JSON.stringify(
					buildCallEndedEvent(sim.calls.get(id)!, 'flat', 'call.ended', {
						vocabulary: 'completed',
					}),
				),
			).data.status,
		).toBe('completed');
	});
});

describe('control endpoints, latency, shutdown', () => {
	it('drives the simulator over /__sim without recording or auth', async () => {
		const hook = await receiver();
		const sim = await start();
		const post = (path: string, body?: unknown) =>
			fetch(`${sim.url}/__sim${path}`, {
				method: 'POST',
				body: body === undefined ? undefined : JSON.stringify(body),
			}).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
		const get = (path: string) =>
			fetch(`${sim.url}/__sim${path}`).then((r) => r.json() as Promise<any>);

		expect(
			(await post('/configure', { autoAdvance: false, webhook: { url: hook.url, secret: 'x' } }))
				.json.data.autoAdvance,
		).toBe(false);
		const id = (await createCall(sim, validCall())).json.data.id;
		expect((await get('/calls')).data.map((c: any) => c.status)).toEqual(['queued']);
		const ended = await post(`/calls/${id}/end`, { status: 'ended' });
		expect(ended.json.data.status).toBe('ended');
		await sim.waitFor(() => sim.webhookDeliveries.length === 1);
		expect((await get('/deliveries')).data).toHaveLength(1);
		expect(
			(await get('/requests')).data.map((r: any) => `${r.method} ${r.path} ${r.status}`),
		).toEqual(['POST /calls 201']);
		expect((await post('/calls/call_missing/end')).status).toBe(404);
		expect((await post('/reset')).status).toBe(200);
		expect(sim.requests).toHaveLength(0);
		expect(sim.calls.size).toBe(0);
		expect(sim.webhookDeliveries).toHaveLength(0);
		const config = (await get('/config')).data;
		expect(config.autoAdvance).toBe(true); // reset restores the start-up options
		expect(config.webhook).toBeUndefined();
		expect(
			(await post('/configure', { webhook: { url: hook.url, secret: 'x' } })).json.data.webhook,
		).toEqual({ url: hook.url, secret: 'x' });
		expect((await post('/configure', { webhook: null })).json.data.webhook).toBeUndefined();
	});

	it('adds latencyMs to API responses', async () => {
		const sim = await start({ latencyMs: 80 });
		const t0 = Date.now();
		await api(sim, 'GET', '/agents');
		expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
	});

	it('closes promptly with keep-alive sockets and pending calls; waitFor times out', async () => {
		const sim = await start({ callTimings: { queuedMs: 10_000 }, latencyMs: 5_000 });
		await expect(sim.waitFor(() => false, 30)).rejects.toThrow(/waitFor/);
		sim.configure({ latencyMs: 0 });
		await createCall(sim, validCall());
		sim.configure({ latencyMs: 5_000 });
		const inFlight = api(sim, 'GET', '/agents').catch((e) => e);
		await new Promise((r) => setTimeout(r, 20));
		const t0 = Date.now();
		await sim.close();
		expect(Date.now() - t0).toBeLessThan(500);
		await inFlight;
	});
});

describe('Ultravox ids and what the call object exposes', () => {
	it('by default call and agent objects carry no Ultravox ids, and the call echoes variables', async () => {
		const sim = await start({ autoAdvance: false });
		const created = await createCall(sim, validCall({ variables: { crm_id: 'lead-42' } }));
		const id = created.json.data.id;
		expect(created.json.data).not.toHaveProperty('ultravox_call_id');
		expect(created.json.data.variables).toEqual({ crm_id: 'lead-42' }); // the guide's 201 example echoes variables
		const one = (await api(sim, 'GET', `/calls/${id}`)).json.data;
		expect(one).not.toHaveProperty('ultravox_call_id');
		expect(one.variables).toEqual({ crm_id: 'lead-42' });
		const [listed] = (await api(sim, 'GET', '/calls')).json.data;
		expect(listed).not.toHaveProperty('ultravox_call_id');
		expect(listed.variables).toEqual({ crm_id: 'lead-42' });
		expect((await api(sim, 'GET', `/agents/${SIM_AGENTS.active}`)).json.data).not.toHaveProperty(
			'ultravox_agent_id',
		);
		expect(
			(await api(sim, 'GET', '/agents')).json.data.every((a: any) => !('ultravox_agent_id' in a)),
		).toBe(true);
		// The simulator still knows them (handle and /__sim views).
		expect(sim.calls.get(id)!.ultravox_call_id).toMatch(UUID);
		expect(sim.calls.get(id)!.ultravox_call_id).not.toBe(id);
		const view = (await (await fetch(`${sim.url}/__sim/calls/${id}`)).json()) as any;
		expect(view.data).toEqual(
			expect.objectContaining({
				id,
				ultravox_call_id: sim.calls.get(id)!.ultravox_call_id,
				ultravox_agent_id: SIM_ULTRAVOX_AGENTS.active,
			}),
		);
	});

	it('with exposeUltravoxIds the call objects carry ultravox_call_id and agents ultravox_agent_id, matching the webhook', async () => {
		const hook = await receiver();
		const sim = await start({ exposeUltravoxIds: true, webhook: { url: hook.url, secret: 'k' } });
		const created = (await createCall(sim, validCall({ variables: { crm_id: 'lead-42' } }))).json
			.data;
		expect(created.ultravox_call_id).toMatch(UUID);
		expect(created.variables).toEqual({ crm_id: 'lead-42' });
		await sim.waitFor(() => sim.webhookDeliveries.length === 1);
		const call = JSON.parse(hook.received[0].rawBody).data.call;
		expect(call.callId).toBe(created.ultravox_call_id);
		expect((await api(sim, 'GET', `/calls/${created.id}`)).json.data.ultravox_call_id).toBe(
			created.ultravox_call_id,
		);
		expect((await api(sim, 'GET', '/calls')).json.data[0].ultravox_call_id).toBe(
			created.ultravox_call_id,
		);
		const agent = (await api(sim, 'GET', `/agents/${SIM_AGENTS.active}`)).json.data;
		expect(agent.ultravox_agent_id).toBe(call.agent.agentId);
		expect(agent.ultravox_agent_id).toBe(ultravoxAgentIdOf(SIM_AGENTS.active));
		const added = sim.addAgent({
			name: 'New',
			outbound_phone_numbers: [{ id: 'n', phone_number: '+15550002222' }],
		});
		expect(added.ultravox_agent_id).toMatch(UUID);
		const listed = (await api(sim, 'GET', '/agents?name=new')).json.data[0];
		expect(listed).toEqual(
			expect.objectContaining({ id: added.id, ultravox_agent_id: added.ultravox_agent_id }),
		);
	});

	it("metadata: 'variables' fills data.call.metadata; the flat shape carries the Truedy ids", async () => {
		const hook = await receiver();
		const sim = await start({ webhook: { url: hook.url, secret: 'k', metadata: 'variables' } });
		const id = (await createCall(sim, validCall({ variables: { first_name: 'Sarah' } }))).json.data
			.id;
		await sim.waitFor(() => sim.webhookDeliveries.length === 1);
		expect(JSON.parse(hook.received[0].rawBody).data.call.metadata).toEqual({
			first_name: 'Sarah',
		});
		const flat = buildCallEndedEvent(sim.calls.get(id)!, 'flat');
		expect(flat.data).toEqual(
			expect.objectContaining({ call_id: id, agent_id: SIM_AGENTS.active }),
		);
	});

	it('hand-built calls without Ultravox ids get stable derived ones', () => {
		const call = { id: 'call_handmade', agent_id: SIM_AGENTS.leadQualifier, variables: {} } as any;
		const a = buildCallEndedEvent({ ...call, status: 'ended' }, 'ultravox');
		const b = buildCallEndedEvent({ ...call, status: 'ended' }, 'ultravox');
		expect((a.data.call as any).callId).toMatch(UUID);
		expect((a.data.call as any).callId).toBe((b.data.call as any).callId);
		expect((a.data.call as any).agent.agentId).toBe(SIM_ULTRAVOX_AGENTS.leadQualifier);
		const own = buildCallEndedEvent(
			{ ...call, ultravox_call_id: 'uv-1', ultravox_agent_id: 'uv-agent' },
			'ultravox',
		);
		expect(own.data.call).toEqual(
			expect.objectContaining({ callId: 'uv-1', agent: { agentId: 'uv-agent' } }),
		);
	});
});

describe('GET /calls query parameters', () => {
	it('limit defaults to 50 and must be 1..100; offset pages', async () => {
		const sim = await start({ autoAdvance: false });
		for (let i = 0; i < 55; i++)
			await createCall(sim, validCall({ phone_number: `+1415555${String(i).padStart(4, '1')}` }));
		const first = await api(sim, 'GET', '/calls');
		expect(first.json.data).toHaveLength(50);
		expect(first.json.pagination).toEqual({ total: 55, limit: 50, offset: 0, has_more: true });
		const rest = await api(sim, 'GET', '/calls?offset=50&limit=100');
		expect(rest.json.data).toHaveLength(5);
		expect(rest.json.pagination).toEqual({ total: 55, limit: 100, offset: 50, has_more: false });
		for (const bad of ['limit=0', 'limit=101', 'limit=abc', 'offset=-1'])
			expectError(await api(sim, 'GET', `/calls?${bad}`), 422, 'validation_error');
	});

	it('created_after / created_before are inclusive ISO bounds; direction accepts outbound, inbound, webrtc', async () => {
		const sim = await start({ autoAdvance: false });
		const a = (await createCall(sim, validCall())).json.data;
		await new Promise((r) => setTimeout(r, 15));
		const b = (await createCall(sim, validCall())).json.data;
		const ids = async (q: string) =>
			(await api(sim, 'GET', `/calls?${q}`)).json.data.map((c: any) => c.id);
		expect(await ids(`created_after=${encodeURIComponent(b.created_at)}`)).toEqual([b.id]);
		expect(await ids(`created_before=${encodeURIComponent(a.created_at)}`)).toEqual([a.id]);
		expect(
			await ids(
				`created_after=${encodeURIComponent(a.created_at)}&created_before=${encodeURIComponent(b.created_at)}`,
			),
		).toEqual([b.id, a.id]);
		expect(await ids('direction=inbound')).toEqual([]);
		expect(await ids('direction=webrtc')).toEqual([]);
		expectError(await api(sim, 'GET', '/calls?direction=sideways'), 422, 'validation_error');
	});

	it('ignores unknown parameters, ultravox_call_id included, unless ultravoxCallIdFilter is on', async () => {
		const sim = await start({ autoAdvance: false });
		const a = (await createCall(sim, validCall())).json.data.id;
		const b = (await createCall(sim, validCall())).json.data.id;
		const uvA = sim.calls.get(a)!.ultravox_call_id!;
		const ids = async (q: string) =>
			(await api(sim, 'GET', `/calls?${q}`)).json.data.map((c: any) => c.id);
		expect(await ids('foo=bar&sort=asc')).toEqual([b, a]);
		expect(await ids(`ultravox_call_id=${uvA}`)).toEqual([b, a]); // undocumented: ignored by default
		sim.configure({ ultravoxCallIdFilter: true });
		expect(await ids(`ultravox_call_id=${uvA}`)).toEqual([a]);
		expect(await ids('ultravox_call_id=00000000-0000-4000-8000-000000000000')).toEqual([]);
	});
});

describe('organisations and API keys', () => {
	it('keys of one organisation share calls and idempotency keys; another organisation sees neither', async () => {
		const sim = await start({
			autoAdvance: false,
			apiKeys: [
				{ key: 'truedy_second_key_same_org' },
				{ key: 'truedy_other_org_key', org: 'org_other' },
			],
		});
		const key = { 'X-Idempotency-Key': 'same-key' };
		const first = await createCall(sim, validCall(), key);
		const sameOrg = await api(sim, 'POST', '/calls', {
			body: validCall(),
			headers: key,
			auth: 'truedy_second_key_same_org',
		});
		expect(sameOrg.text).toBe(first.text);
		expect(sameOrg.headers.get('idempotent-replayed')).toBe('true');
		const otherOrg = await api(sim, 'POST', '/calls', {
			body: validCall(),
			headers: key,
			auth: 'truedy_other_org_key',
		});
		expect(otherOrg.status).toBe(201);
		expect(otherOrg.json.data.id).not.toBe(first.json.data.id);
		expectError(
			await api(sim, 'GET', `/calls/${first.json.data.id}`, { auth: 'truedy_other_org_key' }),
			404,
			'not_found',
		);
		expect(
			(await api(sim, 'GET', '/calls', { auth: 'truedy_other_org_key' })).json.data.map(
				(c: any) => c.id,
			),
		).toEqual([otherOrg.json.data.id]);
		expect(
			(
				await api(sim, 'GET', `/calls/${first.json.data.id}`, {
					auth: 'truedy_second_key_same_org',
				})
			).status,
		).toBe(200);
		expect(sim.requests.map((r) => r.org)).toEqual([
			'org_sim',
			'org_sim',
			'org_other',
			'org_other',
			'org_other',
			'org_sim',
		]);
	});
});

/** Waits until at least `marginMs` are left in the current 60 s window (windows are aligned to the epoch minute). */
async function awayFromMinuteEdge(marginMs = 3000): Promise<void> {
	const left = 60_000 - (Date.now() % 60_000);
	if (left < marginMs) await new Promise((r) => setTimeout(r, left + 20));
}

describe('rate limits', () => {
	it('rateLimit: {} is version A: 100 per minute per organisation over all endpoints and keys, reset_at at the next minute, no headers', async () => {
		const sim = await start({
			autoAdvance: false,
			rateLimit: {},
			apiKeys: [{ key: 'truedy_key_two' }, { key: 'truedy_key_other_org', org: 'org_b' }],
		});
		await awayFromMinuteEdge();
		const answers: ApiResponse[] = [];
		for (let i = 0; i < 100; i++) {
			const auth = i % 2 === 0 ? sim.apiKey : 'truedy_key_two';
			answers.push(
				i % 3 === 0
					? await createCall(sim, validCall())
					: await api(sim, 'GET', i % 3 === 1 ? '/agents' : '/calls', { auth }),
			);
		}
		expect(answers.every((a) => a.status < 400)).toBe(true);
		expect(sim.rateLimitedCount).toBe(0);
		for (const a of answers)
			for (const h of [
				'retry-after',
				'x-ratelimit-limit',
				'x-ratelimit-remaining',
				'x-ratelimit-reset',
			])
				expect(a.headers.get(h)).toBeNull();
		const limited = await api(sim, 'GET', `/agents/${SIM_AGENTS.active}`, {
			auth: 'truedy_key_two',
		});
		expectError(limited, 429, 'rate_limit_exceeded');
		expect(Object.keys(limited.json.error.details).sort()).toEqual(['limit', 'reset_at']);
		expect(limited.json.error.details.limit).toBe(100);
		expect(limited.json.error.details.reset_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000000Z$/); // the guide's example spelling
		const resetAt = Date.parse(limited.json.error.details.reset_at);
		expect(resetAt % 60_000).toBe(0);
		expect(resetAt - Date.now()).toBeGreaterThan(0);
		expect(resetAt - Date.now()).toBeLessThanOrEqual(60_000);
		for (const h of [
			'retry-after',
			'x-ratelimit-limit',
			'x-ratelimit-remaining',
			'x-ratelimit-reset',
		])
			expect(limited.headers.get(h)).toBeNull();
		expect((await api(sim, 'GET', '/agents')).status).toBe(429); // the first key too: one window per organisation
		expect((await api(sim, 'GET', '/agents', { auth: 'truedy_key_other_org' })).status).toBe(200); // another organisation
		expect(sim.rateLimitedCount).toBe(2);
		expect(sim.statusCounts()).toEqual({ 200: 67, 201: 34, 429: 2 });
		const stats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as any;
		expect(stats.data).toEqual({
			requests: 103,
			byStatus: { 200: 67, 201: 34, 429: 2 },
			rateLimited: 2,
		});
		sim.reset();
		expect(sim.rateLimitedCount).toBe(0);
		expect((await api(sim, 'GET', '/agents')).status).toBe(200); // reset clears the windows
	});

	it('version B: per key tiers with X-RateLimit-* on every answer and Retry-After on a 429', async () => {
		const sim = await start({
			rateLimit: {
				...RATE_LIMIT_VERSION_B,
				limit: 2,
				windowMs: 60_000,
				tiers: [{ limit: 3, windowMs: 3_600_000 }],
			},
			apiKeys: [{ key: 'truedy_key_two' }],
		});
		await awayFromMinuteEdge();
		const ok = await api(sim, 'GET', '/agents');
		expect(ok.headers.get('x-ratelimit-limit')).toBe('2');
		expect(ok.headers.get('x-ratelimit-remaining')).toBe('1');
		expect(Number(ok.headers.get('x-ratelimit-reset')) % 60).toBe(0);
		expect(ok.headers.get('x-ratelimit-limit-hour')).toBe('3');
		expect(ok.headers.get('x-ratelimit-remaining-hour')).toBe('2');
		expect(Number(ok.headers.get('x-ratelimit-reset-hour')) % 3600).toBe(0);
		expect(ok.headers.get('retry-after')).toBeNull();
		expect((await api(sim, 'GET', '/agents')).headers.get('x-ratelimit-remaining')).toBe('0');
		const limited = await api(sim, 'GET', '/agents');
		expectError(limited, 429, 'rate_limit_exceeded');
		expect(limited.json.error.details).toEqual({ limit: 2 });
		expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
		// Per key: the second key has its own windows.
		expect((await api(sim, 'GET', '/agents', { auth: 'truedy_key_two' })).status).toBe(200);
		// Errors in scope carry the headers too.
		const notFound = await api(sim, 'GET', '/nope', { auth: 'truedy_key_two' });
		expect(notFound.status).toBe(404);
		expect(notFound.headers.get('x-ratelimit-remaining')).toBe('0');
		expect(notFound.headers.get('x-ratelimit-remaining-hour')).toBe('1');
	});

	it('version B: when an hour tier is the full one, the 429 names its limit and Retry-After runs to the end of the hour', async () => {
		const sim = await start({
			rateLimit: { ...RATE_LIMIT_VERSION_B, limit: 5, tiers: [{ limit: 2, windowMs: 3_600_000 }] },
		});
		await awayFromMinuteEdge();
		await api(sim, 'GET', '/agents');
		await api(sim, 'GET', '/agents');
		const hourFull = await api(sim, 'GET', '/agents');
		expect(hourFull.status).toBe(429);
		expect(hourFull.json.error.details).toEqual({ limit: 2 });
		expect(hourFull.headers.get('x-ratelimit-remaining')).toBe('3'); // the minute window still has room
		expect(hourFull.headers.get('x-ratelimit-remaining-hour')).toBe('0');
		const toHourEnd = Math.ceil((3_600_000 - (Date.now() % 3_600_000)) / 1000);
		expect(Math.abs(Number(hourFull.headers.get('retry-after')) - toHourEnd)).toBeLessThanOrEqual(
			1,
		);
	});

	it("scope 'organizationPath' (the early backend) keeps one window per path", async () => {
		const sim = await start({ rateLimit: { limit: 1, scope: 'organizationPath' } });
		await awayFromMinuteEdge();
		expect((await api(sim, 'GET', '/agents')).status).toBe(200);
		expect((await api(sim, 'GET', '/calls')).status).toBe(200);
		expect((await api(sim, 'GET', '/agents')).status).toBe(429);
		expect((await api(sim, 'GET', '/calls')).status).toBe(429);
	});

	it('an unauthenticated request is not counted; an injected status429 counts in rateLimitedCount', async () => {
		const sim = await start({ rateLimit: { limit: 1 } });
		await awayFromMinuteEdge();
		expect((await api(sim, 'GET', '/agents', { auth: 'truedy_wrong' })).status).toBe(401);
		expect((await api(sim, 'GET', '/agents')).status).toBe(200);
		sim.configure({ rateLimit: null });
		const injected = await api(sim, 'GET', '/agents', { headers: { 'X-Sim-Fault': 'status429' } });
		expect(injected.status).toBe(429);
		expect(injected.json.error.details.reset_at).toMatch(/\.\d{6}Z$/);
		expect(sim.rateLimitedCount).toBe(1);
	});
});

describe('reset() restores the start-up options', () => {
	it('every option, the agents and the faults go back to what startSimulator was given', async () => {
		const hook = await receiver();
		const startOptions: StartOptions = {
			callTimings: { queuedMs: 11, ringingMs: 12, inProgressMs: 13 },
			statusVocabulary: 'completed',
			webhook: { url: hook.url, secret: 'start' },
			failNumbers: ['*9999', /^\+44/],
			faults: { rules: [{ fault: 'status503', path: '/agents', times: 1 }] },
		};
		const sim = await start(startOptions);
		const snapshot = JSON.stringify(sim.options, (_k, v) => (v instanceof RegExp ? String(v) : v));
		expect((await api(sim, 'GET', '/agents')).status).toBe(503); // the start-up fault fires once
		sim.configure({
			apiKey: 'truedy_changed',
			apiKeys: [{ key: 'k2' }],
			exposeUltravoxIds: true,
			ultravoxCallIdFilter: true,
			responseShape: 'bare',
			paginationIn: 'meta',
			statusVocabulary: 'ended',
			statusFilterVocabulary: 'ended',
			callFieldNaming: 'to_from',
			latencyMs: 5,
			rateLimit: { limit: 1 },
			credits: 0,
			allowedIps: ['10.0.0.1'],
			callTimings: { queuedMs: 999 },
			failNumbers: ['*1234'],
			transcriptDelayMs: 77,
			autoAdvance: false,
			durationSeconds: 1,
			webhook: { url: hook.url, secret: 'changed', signing: 'sortedKeys' },
			faults: null,
			extraAgents: 3,
		});
		sim.addAgent({ name: 'Temporary' });
		sim.options.agents[0].status = 'draft'; // mutated in place
		sim.reset();
		expect(JSON.stringify(sim.options, (_k, v) => (v instanceof RegExp ? String(v) : v))).toBe(
			snapshot,
		);
		expect(sim.options.failNumbers[1]).toBeInstanceOf(RegExp);
		expect(sim.faultLog).toHaveLength(0);
		expect((await api(sim, 'GET', '/agents')).status).toBe(503); // the start-up fault rule starts afresh
		const agents = (await api(sim, 'GET', '/agents')).json;
		expect(agents.data.map((a: any) => a.name)).not.toContain('Temporary');
		expect(agents.pagination.total).toBe(5);
		expect(agents.data.find((a: any) => a.id === SIM_AGENTS.active).status).toBe('active');
		expect(agents.data[0]).not.toHaveProperty('ultravox_agent_id');
		const call = await createCall(sim, validCall());
		expect(call.json.data.status).toBe('queued');
		await sim.waitFor(() => sim.calls.get(call.json.data.id)!.status === 'ended'); // start-up timings, autoAdvance back on
		expect(sim.calls.get(call.json.data.id)!.history.map((h) => h.status)).toEqual([
			'queued',
			'ringing',
			'in_progress',
			'ended',
		]);
		await sim.waitFor(() => hook.received.length === 1);
		expect(hook.received[0].headers['x-truedy-signature']).toBe(
			signWebhook(
				'start',
				String(hook.received[0].headers['x-truedy-timestamp']),
				hook.received[0].rawBody,
			),
		);
	});

	it('the start-up fault rules start afresh after reset', async () => {
		const sim = await start({
			faults: { rules: [{ fault: 'status503', path: '/agents', times: 1 }] },
		});
		expect((await api(sim, 'GET', '/agents')).status).toBe(503);
		expect((await api(sim, 'GET', '/agents')).status).toBe(200);
		sim.configure({ faults: null });
		sim.reset();
		expect((await api(sim, 'GET', '/agents')).status).toBe(503);
		expect(sim.faultCounts().status503).toBe(1);
	});

	it('over HTTP: /__sim/reset undoes /__sim/configure', async () => {
		const sim = await start({ latencyMs: 0 });
		await fetch(`${sim.url}/__sim/configure`, {
			method: 'POST',
			body: JSON.stringify({ exposeUltravoxIds: true, responseShape: 'bare' }),
		});
		await fetch(`${sim.url}/__sim/reset`, { method: 'POST' });
		const config = ((await (await fetch(`${sim.url}/__sim/config`)).json()) as any).data;
		expect(config).toEqual(
			expect.objectContaining({ exposeUltravoxIds: false, responseShape: 'envelope' }),
		);
	});
});

describe('webhook signing variants', () => {
	const envelope: WebhookEnvelope = {
		event: 'call.ended',
		timestamp: '2026-01-31T12:00:00.000Z',
		data: {
			id: 'uv_evt_1',
			event: 'call.ended',
			call: {
				callId: '5b0c9a3e-1d2f-4a6b-8c7d-9e0f1a2b3c4d',
				summary: 'Grüße ✅',
				agent: { agentId: 'a1' },
			},
		},
	};
	const hmac = (secret: string, text: string) =>
		createHmac('sha256', secret).update(text).digest('hex');

	it('secrets: one signature per secret, comma-separated in one header (rotation)', () => {
		const p = prepareDelivery(envelope, {
			secrets: ['whsec_new', 'whsec_old'],
			timestamp: 1700000000,
		});
		const raw = JSON.stringify(envelope);
		expect(p.rawBody).toBe(raw);
		expect(p.headers['X-Truedy-Signature']).toBe(
			`${hmac('whsec_new', `1700000000.${raw}`)},${hmac('whsec_old', `1700000000.${raw}`)}`,
		);
		expect(
			prepareDelivery(envelope, { secret: 'ignored', secrets: ['a'], timestamp: 1 }).headers[
				'X-Truedy-Signature'
			],
		).toBe(signWebhook('a', 1, raw));
	});

	it("signing 'sortedKeys' signs Python's json.dumps(payload, sort_keys=True) and sends the compact unsorted body", () => {
		const p = prepareDelivery(envelope, {
			secret: 'k',
			timestamp: 1700000000,
			signing: 'sortedKeys',
			headerSpelling: 'Trudy',
		});
		expect(p.rawBody).toBe(JSON.stringify(envelope)); // unsorted, compact, non-ASCII as is
		const sorted =
			'{"data": {"call": {"agent": {"agentId": "a1"}, "callId": "5b0c9a3e-1d2f-4a6b-8c7d-9e0f1a2b3c4d", "summary": "Gr\\u00fc\\u00dfe \\u2705"}, "event": "call.ended", "id": "uv_evt_1"}, "event": "call.ended", "timestamp": "2026-01-31T12:00:00.000Z"}';
		expect(p.headers['X-Trudy-Signature']).toBe(hmac('k', `1700000000.${sorted}`));
		expect(p.headers['X-Trudy-Signature']).not.toBe(signWebhook('k', 1700000000, p.rawBody)); // a raw-body verifier refuses it
		// A string payload is re-read as Python would (1.0 stays a float) and still sent verbatim.
		const raw = '{"z":1.0,"a":[1,2]}';
		const q = prepareDelivery(raw, { secret: 'k', timestamp: 5, signing: 'sortedKeys' });
		expect(q.rawBody).toBe(raw);
		expect(q.headers['X-Truedy-Signature']).toBe(hmac('k', '5.{"a": [1, 2], "z": 1.0}'));
		// httpx < 0.28 sent json.dumps(payload): Python separators and ASCII escapes, unsorted.
		expect(
			prepareDelivery({ event: 'é', timestamp: 't', data: {} }, { bodyEncoding: 'pythonDefault' })
				.rawBody,
		).toBe('{"event": "\\u00e9", "timestamp": "t", "data": {}}');
	});

	it('the simulator signs its own deliveries with webhook.secrets and webhook.signing', async () => {
		const hook = await receiver();
		const sim = await start({
			webhook: {
				url: hook.url,
				secret: 'unused',
				secrets: ['s1', 's2'],
				signing: 'sortedKeys',
				headerSpelling: 'Trudy',
			},
		});
		await createCall(sim, validCall({ variables: { first_name: 'Zoë' } }));
		await sim.waitFor(() => sim.webhookDeliveries.length === 1);
		const [got] = hook.received;
		const ts = String(got.headers['x-trudy-timestamp']);
		const text = `${ts}.${pythonSortedDumps(JSON.parse(got.rawBody))}`;
		expect(got.headers['x-trudy-signature']).toBe(`${hmac('s1', text)},${hmac('s2', text)}`);
		expect(got.rawBody).toBe(JSON.stringify(JSON.parse(got.rawBody)));
	});
});

describe("pyjson: Python's json.dumps", () => {
	// Expected strings printed by python3: json.dumps(<value>, sort_keys=True).
	it.each<[string, unknown, string]>([
		[
			'sorting, nesting, literals',
			{ b: 1, a: [1, 2.5, { d: null, c: true }], A: false, '': '', _: [] },
			'{"": "", "A": false, "_": [], "a": [1, 2.5, {"c": true, "d": null}], "b": 1}',
		],
		[
			'ensure_ascii and escapes',
			{ text: 'Grüße "quoted" \\ back\nnew\ttab \u0001 \u007f emoji 😀 /slash \u2028 café' },
			'{"text": "Gr\\u00fc\\u00dfe \\"quoted\\" \\\\ back\\nnew\\ttab \\u0001 \\u007f emoji \\ud83d\\ude00 /slash \\u2028 caf\\u00e9"}',
		],
		[
			'floats and ints',
			{
				f: [
					0.1,
					1e-5,
					1.5e-7,
					new PyFloat(1e16),
					123456789.125,
					new PyFloat(-0),
					new PyFloat(1e22),
					new PyFloat(100),
					0.0001,
					new PyFloat(1e15),
					2.5e-310,
					new PyFloat(1.7976931348623157e308),
				],
				i: [0, -7, 12345678901234567890n, 9007199254740993n],
			},
			'{"f": [0.1, 1e-05, 1.5e-07, 1e+16, 123456789.125, -0.0, 1e+22, 100.0, 0.0001, 1000000000000000.0, 2.5e-310, 1.7976931348623157e+308], "i": [0, -7, 12345678901234567890, 9007199254740993]}',
		],
		[
			'keys sorted by code point, not UTF-16 unit',
			{ '\uffff': 1, '😀': 2, z: 3, é: 4, Z: 5 },
			'{"Z": 5, "z": 3, "\\u00e9": 4, "\\uffff": 1, "\\ud83d\\ude00": 2}',
		],
		[
			'a call.ended envelope',
			{
				event: 'call.ended',
				timestamp: '2026-01-31T12:00:00.000Z',
				data: {
					id: 'uv_evt_1',
					event: 'call.ended',
					call: {
						callId: '5b0c9a3e-1d2f-4a6b-8c7d-9e0f1a2b3c4d',
						agent: { agentId: 'a1' },
						billedDuration: '42s',
						endReason: 'hangup',
						metadata: {},
						summary: 'Sarah (+14155551234) confirmed: ✅',
						joined: null,
					},
				},
			},
			'{"data": {"call": {"agent": {"agentId": "a1"}, "billedDuration": "42s", "callId": "5b0c9a3e-1d2f-4a6b-8c7d-9e0f1a2b3c4d", "endReason": "hangup", "joined": null, "metadata": {}, "summary": "Sarah (+14155551234) confirmed: \\u2705"}, "event": "call.ended", "id": "uv_evt_1"}, "event": "call.ended", "timestamp": "2026-01-31T12:00:00.000Z"}',
		],
		['empty containers', [{}, [], [[]], { a: {} }], '[{}, [], [[]], {"a": {}}]'],
	])('%s', (_name, value, expected) => {
		expect(pythonSortedDumps(value)).toBe(expected);
	});

	it('without sort_keys keeps insertion order (json.dumps defaults)', () => {
		expect(
			pythonJsonDumps({ b: 1, a: [1, 2.5, { d: null, c: true }], A: false, '': '', _: [] }),
		).toBe('{"b": 1, "a": [1, 2.5, {"d": null, "c": true}], "A": false, "": "", "_": []}');
	});

	it('parsePythonJson reads number literals the way json.loads does', () => {
		// python3: json.dumps(json.loads(raw), sort_keys=True)
		const raw =
			'{"z":1.0,"a":1e2,"m":12345678901234567890123,"n":-0,"o":-0.0,"p":1E400,"q":[1.50,2]}';
		expect(pythonSortedDumps(parsePythonJson(raw))).toBe(
			'{"a": 100.0, "m": 12345678901234567890123, "n": 0, "o": -0.0, "p": Infinity, "q": [1.5, 2], "z": 1.0}',
		);
		expect(() => parsePythonJson('{"a":')).toThrow();
		expect(
			pythonSortedDumps(parsePythonJson('{"__proto__": {"x": "\\u00e9"}, "s": "a\\"b"}')),
		).toBe('{"__proto__": {"x": "\\u00e9"}, "s": "a\\"b"}');
	});

	it('float repr edge cases and code point comparison', () => {
		expect([1e-4, 1e-5, 0.5, 1 / 3, -2.5, 1e300, NaN, -Infinity].map(pyFloat)).toEqual([
			'0.0001',
			'1e-05',
			'0.5',
			'0.3333333333333333',
			'-2.5',
			'1e+300',
			'NaN',
			'-Infinity',
		]);
		expect(compareCodePoints('\uffff', '😀')).toBeLessThan(0);
		expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
	});
});
