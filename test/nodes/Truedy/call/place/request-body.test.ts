// Place Call through n8n's real engine against the simulator: what reaches POST /calls, and what the node outputs.
import {
	SIM_AGENTS,
	SIM_NUMBERS,
	startSimulator,
	TruedySimulator,
} from '../../../../simulator/server';
import {
	NODE,
	agentById,
	callRequests,
	idempotencyKeyOf,
	items,
	runPlaceCall,
} from '../../../../support';

let sim: TruedySimulator;

beforeAll(async () => {
	sim = await startSimulator({ autoAdvance: false });
});

afterAll(async () => {
	await sim.close();
});

beforeEach(() => {
	sim.reset();
	sim.configure({ responseShape: null });
});

/** n8n:<execution>:<node>:<run index>:<item>:<hash of agent and number> */
const KEY_PATTERN = /^n8n:[^:]+:truedy-node-id:(\d+):(\d+):[0-9a-f]{16}$/;

describe('request body', () => {
	test('every documented field reaches POST /calls exactly as documented, with Bearer auth and an idempotency key', async () => {
		const result = await runPlaceCall(sim, {
			executionId: 'exec-fields',
			parameters: {
				agent: agentById(SIM_AGENTS.active),
				phoneNumber: '+1 (415) 555-1234',
				variablesInput: 'keyValue',
				variables: {
					variable: [
						{ name: 'first_name', value: 'Sarah' },
						{ name: 'visits', value: '={{ $json.visits }}' },
						{ name: 'vip', value: '={{ $json.vip }}' },
						{ name: 'profile', value: '={{ $json.profile }}' },
						{ name: ' padded ', value: 'name is trimmed' },
					],
				},
				fromNumber: SIM_NUMBERS.appointmentReminder[1],
				callSettings: {
					greeting: 'Hi Sarah, this is Truedy.',
					maxDuration: 1800,
					joinTimeout: 30,
					recordingEnabled: false,
					transcriptionEnabled: true,
				},
			},
			items: items({ visits: 3, vip: true, profile: { tier: 'gold', tags: ['a'] } }),
		});

		expect(result.nodeError(NODE)).toBeUndefined();
		const [request] = callRequests(sim);
		expect(callRequests(sim)).toHaveLength(1);
		expect(request.body).toEqual({
			agent_id: SIM_AGENTS.active,
			phone_number: '+14155551234',
			variables: {
				first_name: 'Sarah',
				visits: '3',
				vip: 'true',
				profile: '{"tier":"gold","tags":["a"]}',
				padded: 'name is trimmed',
			},
			from_number: '+14155550101',
			call_settings: {
				recording_enabled: false,
				transcription_enabled: true,
				greeting: 'Hi Sarah, this is Truedy.',
				max_duration: '1800s',
				join_timeout: '30s',
			},
		});
		expect(request.headers['authorization']).toBe(`Bearer ${sim.apiKey}`);
		expect(request.headers['content-type']).toMatch(/^application\/json/);
		expect(request.headers['accept']).toBe('application/json');
		expect(idempotencyKeyOf(request)).toMatch(KEY_PATTERN);
		expect(idempotencyKeyOf(request)).toContain('exec-fields');
		expect(request.status).toBe(201);

		const output = result.output(NODE);
		expect(output).toHaveLength(1);
		const [call] = [...sim.calls.values()];
		expect(output[0].json).toEqual(sim.renderCall(call.id));
		expect(output[0].json).toMatchObject({
			id: call.id,
			status: 'queued',
			direction: 'outbound',
			agent_id: SIM_AGENTS.active,
			phone_number: '+14155551234',
			from_number: '+14155550101',
		});
		expect(output[0].pairedItem).toEqual({ item: 0 });
	});

	test('only agent_id and phone_number are sent when nothing else is set', async () => {
		const result = await runPlaceCall(sim, {
			parameters: { agent: agentById(SIM_AGENTS.leadQualifier), phoneNumber: '+447911123456' },
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		expect(callRequests(sim).map((r) => r.body)).toEqual([
			{ agent_id: SIM_AGENTS.leadQualifier, phone_number: '+447911123456' },
		]);
		// Automatic caller ID: Truedy picked the agent's number.
		expect(result.output(NODE)[0].json.from_number).toBe(SIM_NUMBERS.leadQualifier[0]);
	});

	test.each([
		[{ joinTimeout: 45 }, { join_timeout: '45s' }],
		[{ maxDuration: 60 }, { max_duration: '60s' }],
		[{ transcriptionEnabled: false }, { transcription_enabled: false }],
		[{ recordingEnabled: true }, { recording_enabled: true }],
		[{ greeting: 'Hello!' }, { greeting: 'Hello!' }],
		[{ greeting: '' }, undefined],
		[{}, undefined],
	])('call_settings carries only the set fields: %j', async (callSettings, expected) => {
		const result = await runPlaceCall(sim, {
			parameters: {
				agent: agentById(SIM_AGENTS.active),
				phoneNumber: '+14155551234',
				callSettings,
			},
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		const [request] = callRequests(sim);
		expect((request.body as any).call_settings).toEqual(expected);
		if (expected === undefined)
			expect(Object.keys(request.body as object)).not.toContain('call_settings');
	});

	test('JSON mode: numbers, booleans, null and objects become strings', async () => {
		const result = await runPlaceCall(sim, {
			parameters: {
				agent: agentById(SIM_AGENTS.active),
				phoneNumber: '+14155551234',
				variablesInput: 'json',
				variablesJson:
					'{"first_name": "Sarah", "age": 41, "ratio": 0.5, "vip": false, "note": null, "address": {"city": "SF"}, "tags": ["x", 1]}',
			},
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		expect((callRequests(sim)[0].body as any).variables).toEqual({
			first_name: 'Sarah',
			age: '41',
			ratio: '0.5',
			vip: 'false',
			note: '',
			address: '{"city":"SF"}',
			tags: '["x",1]',
		});
	});

	test('JSON mode: an expression that returns an object per item', async () => {
		const result = await runPlaceCall(sim, {
			parameters: {
				agent: agentById(SIM_AGENTS.active),
				phoneNumber: '={{ $json.phone }}',
				variablesInput: 'json',
				variablesJson: '={{ $json.vars }}',
			},
			items: items(
				{ phone: '+14155551234', vars: { first_name: 'Ann', slot: 9 } },
				{ phone: '+14155551235', vars: { first_name: 'Bob', confirmed: true } },
			),
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		expect(callRequests(sim).map((r) => (r.body as any).variables)).toEqual([
			{ first_name: 'Ann', slot: '9' },
			{ first_name: 'Bob', confirmed: 'true' },
		]);
	});

	test('JSON mode: an empty object or empty text sends no variables', async () => {
		for (const variablesJson of ['{}', '']) {
			sim.reset();
			const result = await runPlaceCall(sim, {
				parameters: {
					agent: agentById(SIM_AGENTS.active),
					phoneNumber: '+14155551234',
					variablesInput: 'json',
					variablesJson,
				},
			});
			expect(result.nodeError(NODE)).toBeUndefined();
			expect(callRequests(sim)[0].body).toEqual({
				agent_id: SIM_AGENTS.active,
				phone_number: '+14155551234',
			});
		}
	});
});

describe('expressions and items', () => {
	test('expressions are resolved per item, each item gets its own key, outputs keep order and pairedItem', async () => {
		const people = [
			{ agent: SIM_AGENTS.active, phone: '+14155551001', name: 'Ann', minutes: 5 },
			{ agent: SIM_AGENTS.leadQualifier, phone: '+14155551002', name: 'Bob', minutes: 10 },
			{ agent: SIM_AGENTS.salesFollowUp, phone: '+447911123456', name: 'Cleo', minutes: 15 },
		];
		const result = await runPlaceCall(sim, {
			parameters: {
				agent: { __rl: true, mode: 'id', value: '={{ $json.agent }}' },
				phoneNumber: '={{ $json.phone }}',
				variables: { variable: [{ name: 'first_name', value: '={{ $json.name }}' }] },
				callSettings: {
					greeting: '=Hi {{ $json.name }}!',
					maxDuration: '={{ $json.minutes * 60 }}',
				},
			},
			items: items(...people),
		});
		expect(result.nodeError(NODE)).toBeUndefined();

		const requests = callRequests(sim);
		expect(requests.map((r) => r.body)).toEqual(
			people.map((p) => ({
				agent_id: p.agent,
				phone_number: p.phone,
				variables: { first_name: p.name },
				call_settings: { greeting: `Hi ${p.name}!`, max_duration: `${p.minutes * 60}s` },
			})),
		);
		const keys = requests.map(idempotencyKeyOf);
		expect(new Set(keys).size).toBe(3);
		keys.forEach((key, i) =>
			expect(key!.match(KEY_PATTERN)?.slice(1, 3)).toEqual(['0', String(i)]),
		);

		const output = result.output(NODE);
		expect(output.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(output.map((o) => o.json.phone_number)).toEqual(people.map((p) => p.phone));
		expect(output.map((o) => o.json.agent_id)).toEqual(people.map((p) => p.agent));
		expect(sim.calls.size).toBe(3);
	});

	test('national formats are normalised with Default Country (also for From Number)', async () => {
		const result = await runPlaceCall(sim, {
			parameters: {
				agent: agentById(SIM_AGENTS.active),
				phoneNumber: '={{ $json.phone }}',
				fromNumber: '(415) 555-0101',
				options: { defaultCountry: 'us' },
			},
			items: items(
				{ phone: '(415) 555-1234' },
				{ phone: '415.555.1235' },
				{ phone: '1 415 555 1236' },
				{ phone: 4155551237 },
				{ phone: '+44 7911 123456' },
				{ phone: '  +1-415-555-1238  ' },
			),
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		expect(callRequests(sim).map((r) => (r.body as any).phone_number)).toEqual([
			'+14155551234',
			'+14155551235',
			'+14155551236',
			'+14155551237',
			'+447911123456',
			'+14155551238',
		]);
		expect(callRequests(sim).every((r) => (r.body as any).from_number === '+14155550101')).toBe(
			true,
		);
		expect(result.output(NODE)).toHaveLength(6);
	});

	test('a custom Idempotency Key is sent as is and makes a second execution a replay (one call)', async () => {
		const run = () =>
			runPlaceCall(sim, {
				parameters: {
					agent: agentById(SIM_AGENTS.active),
					phoneNumber: '={{ $json.phone }}',
					options: { idempotencyKey: '=lead-{{ $json.leadId }}' },
				},
				items: items({ phone: '+14155551234', leadId: 7 }, { phone: '+14155551235', leadId: 8 }),
			});
		const first = await run();
		const second = await run();
		expect(first.nodeError(NODE)).toBeUndefined();
		expect(second.nodeError(NODE)).toBeUndefined();
		expect(callRequests(sim).map(idempotencyKeyOf)).toEqual([
			'lead-7',
			'lead-8',
			'lead-7',
			'lead-8',
		]);
		expect(sim.calls.size).toBe(2);
		expect(second.output(NODE).map((o) => o.json.id)).toEqual(
			first.output(NODE).map((o) => o.json.id),
		);
	});

	test('without a custom key, separate executions use separate keys (documented: the guarantee is per execution)', async () => {
		const parameters = { agent: agentById(SIM_AGENTS.active), phoneNumber: '+14155551234' };
		await runPlaceCall(sim, { parameters, executionId: 'exec-a' });
		await runPlaceCall(sim, { parameters, executionId: 'exec-b' });
		await runPlaceCall(sim, { parameters, executionId: 'exec-a' });
		const keys = callRequests(sim).map(idempotencyKeyOf);
		expect(keys[0]).not.toBe(keys[1]);
		expect(keys[2]).toBe(keys[0]);
		expect(sim.calls.size).toBe(2);
	});
});

describe('response shapes', () => {
	test('the envelope and the bare shape give the same output', async () => {
		const parameters = {
			agent: agentById(SIM_AGENTS.active),
			phoneNumber: '={{ $json.phone }}',
			variables: { variable: [{ name: 'first_name', value: '={{ $json.name }}' }] },
		};
		const input = items(
			{ phone: '+14155551234', name: 'Ann' },
			{ phone: '+14155551235', name: 'Bob' },
		);
		const normalise = (json: any) => ({ ...json, id: 'call', created_at: 'time' });

		sim.configure({ responseShape: 'envelope' });
		const enveloped = await runPlaceCall(sim, { parameters, items: input });
		const envelopeIds = [...sim.calls.keys()];
		sim.reset();
		sim.configure({ responseShape: 'bare' });
		const bare = await runPlaceCall(sim, { parameters, items: input });
		const bareIds = [...sim.calls.keys()];

		expect(enveloped.nodeError(NODE)).toBeUndefined();
		expect(bare.nodeError(NODE)).toBeUndefined();
		expect(enveloped.output(NODE).map((o) => o.json.id)).toEqual(envelopeIds);
		expect(bare.output(NODE).map((o) => o.json.id)).toEqual(bareIds);
		expect(bare.output(NODE).map((o) => normalise(o.json))).toEqual(
			enveloped.output(NODE).map((o) => normalise(o.json)),
		);
		expect(bare.output(NODE)[0].json).not.toHaveProperty('data');
		expect(bare.output(NODE)[0].json).not.toHaveProperty('meta');
		expect(bare.output(NODE).map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
	});
});
