// Truedy's error answers, over real HTTP from the simulator, as n8n NodeApiErrors (engine runs),
// plus transport-level mapping through n8n-core's real LoadOptionsContext where the node's own
// validation makes an answer unreachable (invalid_phone_number, network failures).
import { createServer } from 'http';
import type { AddressInfo } from 'net';
import { NodeApiError } from 'n8n-workflow';

import { truedyRequest } from '../../../../../nodes/Truedy/transport/request';
import {
	SIM_AGENTS,
	startSimulator,
	TruedySimulator,
	type SimulatorOptionsPatch,
} from '../../../../simulator/server';
import {
	NODE,
	agentById,
	callRequests,
	items,
	loadOptionsContext,
	runPlaceCall,
	runText,
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
	sim.configure({ credits: null, allowedIps: null, rateLimit: null });
});

const WRONG_KEY = 'truedy_wrongKey0123456789abcdefghijklmn';
const MISSING_AGENT = 'agent_does_not_exist_42';

/** Two items; the second one carries the failing agent / from number. */
const twoItems = (second: Record<string, unknown> = {}) =>
	items(
		{ agent: SIM_AGENTS.active, phone: '+14155551001' },
		{ agent: SIM_AGENTS.active, phone: '+14155551002', ...second },
	);

const perItemParams = {
	agent: agentById('={{ $json.agent }}'),
	phoneNumber: '={{ $json.phone }}',
	fromNumber: '={{ $json.from ?? "" }}',
};

interface ErrorCase {
	label: string;
	setup?: SimulatorOptionsPatch;
	input: ReturnType<typeof items>;
	apiKey?: string;
	status: number;
	itemIndex: number;
	message: RegExp;
	description: RegExp;
	callsPlaced: number;
}

const CASES: ErrorCase[] = [
	{
		label: '404 agent_not_found',
		input: twoItems({ agent: MISSING_AGENT }),
		status: 404,
		itemIndex: 1,
		message: new RegExp(
			`^The Truedy agent was not found: No agent exists with id ${MISSING_AGENT}`,
		),
		description:
			/^No agent exists with this ID\. Pick the agent from the list or copy its ID from the Truedy dashboard\./,
		callsPlaced: 1,
	},
	{
		label: '422 no_phone_number_configured',
		input: twoItems({ agent: SIM_AGENTS.noNumbers }),
		status: 422,
		itemIndex: 1,
		message:
			/^The agent has no outbound phone number: The agent has no outbound phone number assigned/,
		description: /^Assign a phone number to the agent in Truedy under Settings → Phone Numbers\./,
		callsPlaced: 1,
	},
	{
		label: '422 agent_not_active',
		input: twoItems({ agent: SIM_AGENTS.draft }),
		status: 422,
		itemIndex: 1,
		message: /^The agent is not active: Agent is draft; publish it before placing calls/,
		description:
			/^The agent is in draft or paused state\. Publish it in the Truedy dashboard before placing calls\./,
		callsPlaced: 1,
	},
	{
		label: '422 validation_error (from_number not assigned to the agent)',
		input: twoItems({ from: '+14155550199' }),
		status: 422,
		itemIndex: 1,
		message:
			/^Truedy rejected the request: from_number must be one of the agent's outbound numbers/,
		description: /^Check the fields named in the message\./,
		callsPlaced: 1,
	},
	{
		label: '402 insufficient_credits',
		setup: { credits: 1 },
		input: twoItems(),
		status: 402,
		itemIndex: 1,
		message: /^Not enough Truedy credits: Your account balance is too low to place this call/,
		description: /^Top up credits or check your billing plan in the Truedy dashboard\./,
		callsPlaced: 1,
	},
	{
		label: '401 bad API key',
		apiKey: WRONG_KEY,
		input: twoItems(),
		status: 401,
		itemIndex: 0,
		message: /^Truedy rejected the API key: Invalid API key/,
		description: /^Check the API key in the Truedy API credential\./,
		callsPlaced: 0,
	},
	{
		label: '403 IP allow-list',
		setup: { allowedIps: ['203.0.113.7'] },
		input: twoItems(),
		status: 403,
		itemIndex: 0,
		message: /^Truedy refused access: IP not whitelisted/,
		description:
			/IP allow-list, add this n8n server's IP address in Truedy under Settings → API Keys\./,
		callsPlaced: 0,
	},
	{
		label: '429 rate_limit_exceeded whose reset is beyond the wait budget (no pointless waiting)',
		setup: {
			rateLimit: { limit: 1, windowMs: 1e12, style: 'reset_at', code: 'rate_limit_exceeded' },
		},
		input: twoItems(),
		status: 429,
		itemIndex: 1,
		message: /^Truedy rate limit reached: Rate limit of 1 requests per 1000000000000 ms exceeded/,
		description:
			/^Retries did not get through in time\. Lower the number of calls per minute, or try again later\./,
		callsPlaced: 1,
	},
];

describe('Truedy error answers become NodeApiErrors (Continue On Fail off)', () => {
	test.each(CASES.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
		if (c.setup) sim.configure(c.setup);
		const result = await runPlaceCall(sim, {
			parameters: perItemParams,
			items: c.input,
			apiKey: c.apiKey,
		});

		const error = result.nodeError(NODE)!;
		expect(error).toBeDefined();
		expect(error.name).toBe('NodeApiError');
		expect(error.httpCode).toBe(String(c.status));
		expect((error as any).context.itemIndex).toBe(c.itemIndex);
		expect(error.message).toMatch(c.message);
		expect(error.description).toMatch(c.description);

		// Truedy's request ID is in both the message and the description.
		const failed = callRequests(sim).at(-1)!;
		expect(failed.status).toBe(c.status);
		expect(failed.requestId).toMatch(/^req_/);
		expect(error.message.endsWith(`[request ID: ${failed.requestId}]`)).toBe(true);
		expect(error.description).toContain(`Truedy request ID: ${failed.requestId}.`);

		expect(sim.calls.size).toBe(c.callsPlaced);
		// The key (the real one and a wrong one) never shows up anywhere in the run.
		const text = runText(result);
		expect(text).not.toContain(sim.apiKey);
		expect(text).not.toContain(WRONG_KEY);
		expect(text).not.toMatch(/Bearer/i);
	});

	test('429 rate_limited exhausted: gives up after the attempt limit, reusing one idempotency key', async () => {
		sim.configure({
			rateLimit: { limit: 0, windowMs: 20, style: 'reset_at', code: 'rate_limited' },
		});
		const result = await runPlaceCall(sim, {
			parameters: perItemParams,
			items: items({ agent: SIM_AGENTS.active, phone: '+14155551001' }),
		});
		const error = result.nodeError(NODE)!;
		expect(error.name).toBe('NodeApiError');
		expect(error.httpCode).toBe('429');
		expect(error.message).toMatch(
			/^Truedy rate limit reached: Rate limit of 0 requests per 20 ms exceeded \[request ID: req_\w+\]$/,
		);
		expect(error.description).toMatch(
			/^Retries did not get through in time\..* Gave up after 8 attempts\. Truedy request ID: req_\w+\.$/,
		);
		const attempts = callRequests(sim);
		expect(attempts).toHaveLength(8);
		expect(new Set(attempts.map((r) => r.headers['x-idempotency-key'])).size).toBe(1);
		expect(error.message).toContain(attempts[7].requestId);
		expect(sim.calls.size).toBe(0);
		expect(runText(result)).not.toContain(sim.apiKey);
	});

	test('409 conflict: one custom key for different calls, the advice names the key and the fix', async () => {
		const result = await runPlaceCall(sim, {
			parameters: { ...perItemParams, options: { idempotencyKey: 'same-key-for-everyone' } },
			items: twoItems(),
		});
		const error = result.nodeError(NODE)!;
		expect(error.httpCode).toBe('409');
		expect((error as any).context.itemIndex).toBe(1);
		expect(error.message).toMatch(
			/^The idempotency key was already used for a different request: /,
		);
		expect(error.description).toMatch(
			/^Truedy already has a call under the idempotency key "same-key-for-everyone" that was made with other details .*, so it placed no call for this one\. If you set Options → Idempotency Key, make it unique per call, e\.g\. \{\{ \$json\.leadId \}\}/,
		);
		expect(sim.calls.size).toBe(1);
	});
});

describe('Truedy error answers with Continue On Fail on', () => {
	test('each failed item becomes {error, details} naming the item, valid items are placed', async () => {
		const result = await runPlaceCall(sim, {
			parameters: perItemParams,
			settings: { onError: 'continueRegularOutput' },
			items: items(
				{ agent: SIM_AGENTS.active, phone: '+14155551001' },
				{ agent: SIM_AGENTS.draft, phone: '+14155551002' },
				{ agent: MISSING_AGENT, phone: '+14155551003' },
				{ agent: SIM_AGENTS.noNumbers, phone: '+14155551004' },
				{ agent: SIM_AGENTS.leadQualifier, phone: '+14155551005' },
			),
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		const output = result.output(NODE);
		expect(output).toHaveLength(5);
		expect(output.map((o) => o.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
		expect(output[0].json.id).toMatch(/^call_/);
		expect(output[4].json.id).toMatch(/^call_/);
		const expected: Array<[number, RegExp, string]> = [
			[1, /^The agent is not active: .*\[request ID: req_\w+\]$/, '422'],
			[2, /^The Truedy agent was not found: .*\[request ID: req_\w+\]$/, '404'],
			[3, /^The agent has no outbound phone number: .*\[request ID: req_\w+\]$/, '422'],
		];
		for (const [i, message, httpCode] of expected) {
			expect(output[i].json).toEqual({
				error: expect.stringMatching(message),
				details: {
					itemIndex: i,
					description: expect.stringContaining('Truedy request ID: req_'),
					httpCode,
				},
			});
		}
		expect(sim.calls.size).toBe(2);
		expect(runText(result)).not.toContain(sim.apiKey);
	});

	test('credits running out mid-batch: the rest fail with 402, in order', async () => {
		sim.configure({ credits: 2 });
		const result = await runPlaceCall(sim, {
			parameters: perItemParams,
			settings: { onError: 'continueRegularOutput' },
			items: items(
				...[1, 2, 3, 4].map((i) => ({ agent: SIM_AGENTS.active, phone: `+1415555100${i}` })),
			),
		});
		const output = result.output(NODE);
		expect(
			output.map((o) => (o.json.error ? `error ${(o.json.details as any).httpCode}` : 'call')),
		).toEqual(['call', 'call', 'error 402', 'error 402']);
		expect(output[3].json.error).toMatch(/^Not enough Truedy credits/);
		expect(sim.calls.size).toBe(2);
	});
});

/** The NodeApiError a request fails with (fails the test if it succeeds). */
async function failure(request: Promise<unknown>): Promise<NodeApiError> {
	try {
		await request;
	} catch (error) {
		return error as NodeApiError;
	}
	throw new Error('expected the request to fail');
}

/** A base URL on 127.0.0.1 where nothing listens. */
async function deadBaseUrl(): Promise<string> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return `http://127.0.0.1:${port}/api/public/v1`;
}

describe('transport error mapping through a real LoadOptionsContext', () => {
	const context = (baseUrl = sim.baseUrl, apiKey = sim.apiKey) =>
		loadOptionsContext({ apiKey, baseUrl });

	test('422 invalid_phone_number (unreachable through the node, whose own check stops such numbers)', async () => {
		const error = await failure(
			truedyRequest.call(context(), {
				method: 'POST',
				path: '/calls',
				body: { agent_id: SIM_AGENTS.active, phone_number: '4155551234' },
				idempotencyKey: 'direct-1',
				itemIndex: 3,
			}),
		);
		expect(error).toBeInstanceOf(NodeApiError);
		const [request] = callRequests(sim);
		expect(request.status).toBe(422);
		expect(request.headers['authorization']).toBe(`Bearer ${sim.apiKey}`);
		expect(error.httpCode).toBe('422');
		expect(error.context.itemIndex).toBe(3);
		expect(error.message).toBe(
			`Truedy rejected the phone number: phone_number must be in E.164 format (e.g. +14155551234) [request ID: ${request.requestId}]`,
		);
		expect(error.description).toBe(
			`Phone numbers must be in E.164 format, e.g. +14155551234. Truedy request ID: ${request.requestId}.`,
		);
		expect(JSON.stringify(error)).not.toContain(sim.apiKey);
	});

	test('a 404 on GET uses the generic not-found advice', async () => {
		const error = await failure(
			truedyRequest.call(context(), { method: 'GET', path: `/agents/${MISSING_AGENT}` }),
		);
		expect(error.httpCode).toBe('404');
		expect(error.message).toMatch(
			/^The Truedy resource was not found: Agent agent_does_not_exist_42 not found \[request ID: req_\w+\]$/,
		);
	});

	test('network failure: retried when safe, then "Could not reach Truedy" without the key', async () => {
		const deadUrl = await deadBaseUrl();
		const error = await failure(
			truedyRequest.call(context(deadUrl, 'truedy_secretKeyThatMustNotLeak0123456789'), {
				method: 'POST',
				path: '/calls',
				body: { agent_id: SIM_AGENTS.active, phone_number: '+14155551234' },
				idempotencyKey: 'direct-2',
				itemIndex: 0,
				retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
			}),
		);
		expect(error).toBeInstanceOf(NodeApiError);
		// n8n's NodeApiError swaps in its own text for ECONNREFUSED and keeps ours in `messages`.
		expect(error.message).toBe('The service refused the connection - perhaps it is offline');
		expect(error.messages).toContainEqual(
			expect.stringMatching(/^Could not reach Truedy after 3 attempts: .*ECONNREFUSED/),
		);
		expect(error.description).toBe(
			'Check the Base URL in the Truedy API credential and the network.',
		);
		expect(
			JSON.stringify({ ...error, message: error.message, description: error.description }),
		).not.toContain('truedy_secretKeyThatMustNotLeak0123456789');
	});

	test('network failure on a POST without an idempotency key is not retried', async () => {
		const error = await failure(
			truedyRequest.call(context(await deadBaseUrl()), {
				method: 'POST',
				path: '/calls',
				body: { agent_id: SIM_AGENTS.active, phone_number: '+14155551234' },
				retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
			}),
		);
		expect(error.messages).toContainEqual(
			expect.stringMatching(/^Could not reach Truedy: .*ECONNREFUSED/),
		);
		expect(error.description).toBe(
			'The request was not retried because it carries no idempotency key.',
		);
	});
});
