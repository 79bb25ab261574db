// Unit tests of the trigger's call resolution (trigger/resolve.ts) against a scripted Truedy API:
// single flight, early stop, the page bound, the second lookup when the first predates the
// delivery, the remembered "no ultravox_call_id", accounts kept apart, and never a wrong call.
// The engine-level suite with the simulator is resolve.engine.test.ts.
import type { IDataObject, IHttpRequestOptions, IWebhookFunctions } from 'n8n-workflow';

import { normalizeDelivery, TruedyDelivery } from '../../../../nodes/Truedy/trigger/delivery';
import { TtlLru } from '../../../../nodes/Truedy/trigger/lru';
import {
	clearResolveCache,
	RESOLVE_LIMITS,
	resolveDelivery,
	ResolveOptions,
} from '../../../../nodes/Truedy/trigger/resolve';
import { overrideRetryPolicyForTests } from '../../../../nodes/Truedy/transport/retry';

interface Api {
	calls: IDataObject[];
	requests: IHttpRequestOptions[];
	/** While set, answers wait for it (the answer is computed when the request arrives). */
	hold?: Promise<void>;
	status?: number;
}

function api(calls: IDataObject[] = []): Api {
	return { calls, requests: [] };
}

function context(server: Api, apiKey = 'truedy_key_a', withCredential = true) {
	const warn = jest.fn();
	const ctx = {
		getNode: () => ({
			name: 'Truedy Trigger',
			credentials: withCredential ? { truedyApi: { id: '1', name: 'Truedy' } } : {},
		}),
		getWorkflow: () => ({ id: 'wf-1' }),
		getCredentials: async () => ({ apiKey, baseUrl: 'http://truedy.test/api/public/v1' }),
		logger: { warn, info: jest.fn(), debug: jest.fn() },
		helpers: {
			httpRequestWithAuthentication: async (_type: string, options: IHttpRequestOptions) => {
				server.requests.push(options);
				const answer = answerOf(server, options);
				await server.hold;
				return answer;
			},
		},
	};
	return { ctx: ctx as unknown as IWebhookFunctions, warn };
}

function answerOf(server: Api, options: IHttpRequestOptions) {
	if (server.status)
		return {
			statusCode: server.status,
			body: { error: { code: 'internal_error', message: 'Boom' } },
			headers: {},
		};
	const url = String(options.url);
	if (url === '/calls') {
		const qs = options.qs as { limit: number; offset: number };
		const data = server.calls.slice(qs.offset, qs.offset + qs.limit);
		return {
			statusCode: 200,
			headers: {},
			body: {
				data,
				pagination: {
					total: server.calls.length,
					limit: qs.limit,
					offset: qs.offset,
					has_more: qs.offset + data.length < server.calls.length,
				},
			},
		};
	}
	const call = server.calls.find((c) => `/calls/${c.id}` === url);
	return call
		? { statusCode: 200, headers: {}, body: { data: call } }
		: {
				statusCode: 404,
				headers: {},
				body: { error: { code: 'not_found', message: 'Call not found' } },
			};
}

/** A Truedy call as the API lists it, with its Ultravox id. */
const truedyCall = (n: number, extra: IDataObject = {}): IDataObject => ({
	id: `call_${n}`,
	ultravox_call_id: `uv-${n}`,
	agent_id: 'agent_1',
	phone_number: `+1415555${String(1000 + n)}`,
	from_number: '+18005559876',
	variables: { lead_id: `lead-${n}` },
	status: 'ended',
	...extra,
});

const passthrough = (ultravoxId: string): TruedyDelivery =>
	normalizeDelivery({
		event: 'call.ended',
		timestamp: new Date().toISOString(),
		data: { call: { callId: ultravoxId, agent: { agentId: 'uv-agent-1' } } },
	});
const flat = (id: string, agentId = 'agent_1'): TruedyDelivery =>
	normalizeDelivery({
		event: 'call.ended',
		timestamp: new Date().toISOString(),
		data: { call_id: id, agent_id: agentId },
	});

const options = (extra: Partial<ResolveOptions> = {}): ResolveOptions => ({
	enabled: true,
	receivedAt: Date.now(),
	lookupMinutes: 120,
	...extra,
});
const lists = (server: Api) => server.requests.filter((r) => r.url === '/calls');

function deferred() {
	let release!: () => void;
	const promise = new Promise<void>((resolve) => (release = resolve));
	return { promise, release };
}

beforeEach(() => clearResolveCache());

describe('resolving by ultravox_call_id', () => {
	test('50 deliveries arriving during one lookup share it: one list request', async () => {
		const server = api(Array.from({ length: 80 }, (_v, i) => truedyCall(i)));
		const gate = deferred();
		server.hold = gate.promise;
		const { ctx } = context(server);
		const pending = Array.from({ length: 50 }, (_v, i) =>
			resolveDelivery.call(ctx, passthrough(`uv-${i}`), options()),
		);
		await new Promise((r) => setImmediate(r));
		gate.release();
		const results = await Promise.all(pending);
		expect(lists(server)).toHaveLength(1);
		results.forEach(({ delivery, found }, i) => {
			expect(delivery).toMatchObject({
				callId: `call_${i}`,
				ultravoxCallId: `uv-${i}`,
				agentId: 'agent_1',
				ultravoxAgentId: 'uv-agent-1',
				variables: { lead_id: `lead-${i}` },
				phoneNumber: `+1415555${1000 + i}`,
				fromNumber: '+18005559876',
				resolution: { resolved: true, method: 'ultravox_call_id', reason: null },
			});
			expect(found).toMatchObject({ via: 'list' });
		});
		// Later deliveries come from the cache: no request at all.
		const again = await resolveDelivery.call(ctx, passthrough('uv-70'), options());
		expect(again.delivery.callId).toBe('call_70');
		expect(again.found?.via).toBe('cache');
		expect(lists(server)).toHaveLength(1);
	});

	test('the list request is bounded to the window, 100 a page, and stops at the page that has the call', async () => {
		const server = api(Array.from({ length: 350 }, (_v, i) => truedyCall(i)));
		const { ctx } = context(server);
		const delivery = passthrough('uv-250');
		const { delivery: resolved } = await resolveDelivery.call(
			ctx,
			delivery,
			options({ lookupMinutes: 30 }),
		);
		expect(resolved.callId).toBe('call_250');
		expect(lists(server).map((r) => (r.qs as IDataObject).offset)).toEqual([0, 100, 200]);
		const qs = lists(server)[0].qs as IDataObject;
		expect(qs.limit).toBe(100);
		const expectedAfter = Date.parse(delivery.occurredAt!) - 30 * 60_000;
		expect(Math.abs(Date.parse(String(qs.created_after)) - expectedAfter)).toBeLessThan(1000);
	});

	test(`beyond ${RESOLVE_LIMITS.maxPages} pages the lookup gives up and says why`, async () => {
		const server = api(Array.from({ length: 700 }, (_v, i) => truedyCall(i)));
		const { ctx, warn } = context(server);
		const { delivery } = await resolveDelivery.call(ctx, passthrough('uv-650'), options());
		expect(delivery.resolution).toEqual({
			resolved: false,
			method: null,
			reason: expect.stringMatching(
				/^None of the 500 most recent Truedy calls created since .* has the call ID uv-650; the search stops there/,
			),
		});
		expect(delivery.callId).toBe('uv-650');
		expect(delivery.variables).toEqual({});
		expect(lists(server)).toHaveLength(RESOLVE_LIMITS.maxPages);
		expect(warn).toHaveBeenCalledTimes(1);
	});

	test('a lookup that started before the delivery arrived and missed its call is followed by one more', async () => {
		const server = api([truedyCall(1)]);
		const gate = deferred();
		server.hold = gate.promise;
		const { ctx } = context(server);
		const first = resolveDelivery.call(ctx, passthrough('uv-1'), options());
		await new Promise((r) => setImmediate(r));
		expect(lists(server)).toHaveLength(1); // answered as the calls stood then
		server.calls.unshift(truedyCall(2)); // placed (and ended) after that lookup began
		await new Promise((r) => setTimeout(r, 5));
		const second = resolveDelivery.call(ctx, passthrough('uv-2'), options());
		gate.release();
		server.hold = undefined;
		expect((await first).delivery.callId).toBe('call_1');
		expect((await second).delivery.callId).toBe('call_2');
		expect(lists(server)).toHaveLength(2);
	});

	test('a lookup that started after the delivery arrived is final: no second one', async () => {
		const server = api([truedyCall(1)]);
		const { ctx } = context(server);
		const { delivery } = await resolveDelivery.call(ctx, passthrough('uv-unknown'), options());
		expect(delivery.resolution.reason).toMatch(
			/^No Truedy call created since .* has the call ID uv-unknown$/,
		);
		expect(lists(server)).toHaveLength(1);
	});

	test('calls without ultravox_call_id: said once per delivery, then no request for a while', async () => {
		const server = api([{ id: 'call_1', agent_id: 'agent_1', variables: { lead_id: 'x' } }]);
		const { ctx, warn } = context(server);
		for (let i = 0; i < 3; i++) {
			const { delivery } = await resolveDelivery.call(ctx, passthrough(`uv-${i}`), options());
			expect(delivery.resolution).toEqual({
				resolved: false,
				method: null,
				reason: expect.stringContaining('carry no ultravox_call_id'),
			});
			expect(delivery.variables).toEqual({});
		}
		expect(lists(server)).toHaveLength(1);
		expect(warn).toHaveBeenCalledTimes(3);
		expect(warn.mock.calls[0][0]).toMatch(
			/^Truedy Trigger could not tie a call.ended delivery to its Truedy call: /,
		);
	});

	test('a passthrough payload that carries a Truedy id after all is matched by id', async () => {
		const server = api([truedyCall(1), truedyCall(2)]);
		const { ctx } = context(server);
		const { delivery } = await resolveDelivery.call(ctx, passthrough('call_2'), options());
		expect(delivery).toMatchObject({
			callId: 'call_2',
			ultravoxCallId: 'call_2',
			resolution: { resolved: true, method: 'truedy_id' },
		});
	});

	test('accounts never share calls: a call cached for one key is not attached for another', async () => {
		const a = api([truedyCall(1)]);
		const b = api([]);
		expect(
			(await resolveDelivery.call(context(a, 'truedy_key_a').ctx, passthrough('uv-1'), options()))
				.delivery.callId,
		).toBe('call_1');
		const other = await resolveDelivery.call(
			context(b, 'truedy_key_b').ctx,
			passthrough('uv-1'),
			options(),
		);
		expect(other.delivery.resolution.resolved).toBe(false);
		expect(lists(b)).toHaveLength(1);
	});

	test('a call of another agent is not attached', async () => {
		const server = api([truedyCall(1, { ultravox_agent_id: 'uv-agent-2' })]);
		const { delivery } = await resolveDelivery.call(
			context(server).ctx,
			passthrough('uv-1'),
			options(),
		);
		expect(delivery.resolution).toMatchObject({
			resolved: false,
			reason: expect.stringContaining('belongs to agent uv-agent-2, not uv-agent-1'),
		});
		expect(delivery.callId).toBe('uv-1');
	});

	test('an API that keeps failing: every waiting delivery is told, with one warn line each', async () => {
		const restore = overrideRetryPolicyForTests({ baseDelayMs: 1, maxDelayMs: 2 });
		try {
			const server = api([truedyCall(1)]);
			server.status = 500;
			const { ctx, warn } = context(server);
			const results = await Promise.all(
				[1, 2, 3].map((n) => resolveDelivery.call(ctx, passthrough(`uv-${n}`), options())),
			);
			for (const { delivery } of results)
				expect(delivery.resolution.reason).toMatch(
					/^The Truedy API failed while listing recent calls: /,
				);
			expect(lists(server)).toHaveLength(4); // one lookup, retried
			expect(warn).toHaveBeenCalledTimes(3);
		} finally {
			restore();
		}
	});
});

describe('resolving by Truedy id', () => {
	test('GET /calls/{id}', async () => {
		const server = api([truedyCall(1)]);
		const { delivery, found } = await resolveDelivery.call(
			context(server).ctx,
			flat('call_1'),
			options(),
		);
		expect(delivery).toMatchObject({
			callId: 'call_1',
			ultravoxCallId: 'uv-1',
			variables: { lead_id: 'lead-1' },
			resolution: { resolved: true, method: 'truedy_id' },
		});
		expect(found?.via).toBe('get');
		expect(server.requests.map((r) => r.url)).toEqual(['/calls/call_1']);
	});

	test('Truedy ids arriving while a GET is in flight share one page of recent calls', async () => {
		const server = api(Array.from({ length: 30 }, (_v, i) => truedyCall(i)));
		const gate = deferred();
		server.hold = gate.promise;
		const { ctx } = context(server);
		const pending = Array.from({ length: 30 }, (_v, i) =>
			resolveDelivery.call(ctx, flat(`call_${i}`), options()),
		);
		await new Promise((r) => setImmediate(r));
		gate.release();
		const results = await Promise.all(pending);
		results.forEach(({ delivery }, i) =>
			expect(delivery).toMatchObject({
				callId: `call_${i}`,
				variables: { lead_id: `lead-${i}` },
				resolution: { resolved: true, method: 'truedy_id' },
			}),
		);
		expect(server.requests.map((r) => r.url)).toEqual(['/calls/call_0', '/calls']);
	});

	test('with the transcript to fetch anyway, a Truedy id is fetched at once, not taken from the cache', async () => {
		const server = api([truedyCall(1)]);
		const { ctx } = context(server);
		await resolveDelivery.call(ctx, passthrough('uv-1'), options()); // cached from the list
		const { found } = await resolveDelivery.call(ctx, flat('call_1'), options({ fresh: true }));
		expect(found?.via).toBe('get');
		expect(server.requests.map((r) => r.url)).toEqual(['/calls', '/calls/call_1']);
	});

	test('a listed call without variables is completed with GET /calls/{id}', async () => {
		const listed = { id: 'call_1', ultravox_call_id: 'uv-1', agent_id: 'agent_1' };
		const server = api([listed]);
		const { ctx } = context(server);
		(ctx.helpers as any).httpRequestWithAuthentication = async (
			_type: string,
			req: IHttpRequestOptions,
		) => {
			server.requests.push(req);
			return req.url === '/calls'
				? {
						statusCode: 200,
						headers: {},
						body: { data: [listed], pagination: { has_more: false } },
					}
				: { statusCode: 200, headers: {}, body: { data: truedyCall(1) } };
		};
		const { delivery } = await resolveDelivery.call(ctx, passthrough('uv-1'), options());
		expect(delivery).toMatchObject({
			callId: 'call_1',
			variables: { lead_id: 'lead-1' },
			resolution: { method: 'ultravox_call_id' },
		});
		expect(server.requests.map((r) => r.url)).toEqual(['/calls', '/calls/call_1']);
	});

	test('a 404 is looked up as an Ultravox id', async () => {
		const server = api([truedyCall(1)]);
		const { delivery } = await resolveDelivery.call(context(server).ctx, flat('uv-1'), options());
		expect(delivery).toMatchObject({
			callId: 'call_1',
			resolution: { resolved: true, method: 'ultravox_call_id' },
		});
	});

	test('a call of another agent is not attached', async () => {
		const server = api([truedyCall(1)]);
		const { delivery } = await resolveDelivery.call(
			context(server).ctx,
			flat('call_1', 'agent_2'),
			options(),
		);
		expect(delivery).toMatchObject({
			callId: 'call_1',
			agentId: 'agent_2',
			variables: {},
			resolution: { resolved: false },
		});
	});

	test('an answer about another call is not attached', async () => {
		const { ctx } = context(api());
		(ctx.helpers as any).httpRequestWithAuthentication = async () => ({
			statusCode: 200,
			headers: {},
			body: { data: { id: 'call_x' } },
		});
		const { delivery } = await resolveDelivery.call(ctx, flat('call_9'), options());
		expect(delivery.resolution).toEqual({
			resolved: false,
			method: null,
			reason: 'Truedy answered GET /calls/call_9 with another call',
		});
	});
});

describe('nothing is asked', () => {
	test.each([
		[
			'Resolve Call is off',
			passthrough('uv-1'),
			{ enabled: false },
			true,
			'Resolve Call is off',
			false,
		],
		[
			'no credential',
			passthrough('uv-1'),
			{},
			false,
			'No Truedy API credential is selected on the trigger. Select one, or turn off Resolve Call.',
			true,
		],
		[
			'not a call event',
			normalizeDelivery({ event: 'batch.completed', data: { batch_id: 'b' } }),
			{},
			true,
			'The event is not about a call',
			false,
		],
		[
			'no call id',
			normalizeDelivery({ event: 'call.ended', data: {} }),
			{},
			true,
			'The delivery carries no call ID',
			true,
		],
	] as const)('%s', async (_name, delivery, extra, withCredential, reason, warned) => {
		const server = api([truedyCall(1)]);
		const { ctx, warn } = context(server, 'truedy_key_a', withCredential);
		const result = await resolveDelivery.call(ctx, delivery, options(extra));
		expect(result.delivery.resolution).toEqual({ resolved: false, method: null, reason });
		expect(server.requests).toHaveLength(0);
		expect(warn).toHaveBeenCalledTimes(warned ? 1 : 0);
	});
});

describe('TtlLru', () => {
	test('bounded, expiring, and what is read is evicted last', () => {
		const lru = new TtlLru<number>(2, 100);
		lru.set('a', 1, 0);
		lru.set('b', 2, 0);
		expect(lru.get('a', 10)).toBe(1); // a is now the most recently used
		lru.set('c', 3, 10);
		expect([lru.get('a', 20), lru.get('b', 20), lru.get('c', 20)]).toEqual([1, undefined, 3]);
		expect(lru.get('c', 110)).toBeUndefined(); // expired
		expect(lru.size).toBe(1);
	});
});
