// Place Call input checks through n8n's real engine: invalid items never reach Truedy.
import type { INodeParameters } from 'n8n-workflow';

import { SIM_AGENTS, startSimulator, TruedySimulator } from '../../../../simulator/server';
import { NODE, agentById, callRequests, items, runPlaceCall } from '../../../../support';

let sim: TruedySimulator;

beforeAll(async () => {
	sim = await startSimulator({ autoAdvance: false });
});

afterAll(async () => {
	await sim.close();
});

beforeEach(() => sim.reset());

const CONTINUE = { onError: 'continueRegularOutput' as const };

const phoneParams = (options: INodeParameters = {}): INodeParameters => ({
	agent: agentById(SIM_AGENTS.active),
	phoneNumber: '={{ $json.phone }}',
	options,
});

const INVALID_NUMBERS: Array<[string, unknown, RegExp]> = [
	['letters', 'call me maybe', /is not a phone number/],
	['a vanity number', '+1 415 555 CALL', /is not a phone number/],
	['too short', '+1415', /not a valid number for its country/],
	['too long', '+12345678901234567', /not a valid number for its country/],
	['empty', '', /it is empty/],
	['only spaces', '   ', /it is empty/],
	[
		'a national number without Default Country',
		'(415) 555-1234',
		/not in international format.*set Default Country/,
	],
	['digits without + or country', '14155551234', /not in international format/],
	['an extension', '+14155551234 ext. 12', /extensions cannot be dialled/],
	['an unknown country code', '+999123456', /is not a phone number/],
];

describe('invalid phone numbers, Continue On Fail off', () => {
	test.each(INVALID_NUMBERS)(
		'%s: node error names the item and the value, nothing is sent',
		async (_label, phone, reason) => {
			const result = await runPlaceCall(sim, {
				parameters: phoneParams(),
				items: items({ phone: '+14155551001' }, { phone: '+14155551002' }, { phone: phone as any }),
			});
			const error = result.nodeError(NODE)!;
			expect(error).toBeDefined();
			expect(error.name).toBe('NodeOperationError');
			expect(error.message).toContain('Item 2: "Phone Number"');
			expect(error.message).toContain(`"${String(phone)}"`);
			expect(error.message).toMatch(reason);
			expect(error.description).toBe(
				'Fix the "Phone Number" field for item 2. Nothing was sent to Truedy for this item.',
			);
			expect((error as any).context.itemIndex).toBe(2);
			// The valid items before it were not dialled either.
			expect(sim.requests).toHaveLength(0);
			expect(sim.calls.size).toBe(0);
		},
	);

	test('a phone number that is not text (an object) is explained', async () => {
		const result = await runPlaceCall(sim, {
			parameters: phoneParams(),
			items: items({ phone: { number: '+14155551234' } }),
		});
		expect(result.nodeError(NODE)!.message).toMatch(
			/Item 0: "Phone Number" .* expected text but got an object/,
		);
		expect(sim.requests).toHaveLength(0);
	});

	test('an unsupported Default Country is explained', async () => {
		const result = await runPlaceCall(sim, {
			parameters: phoneParams({ defaultCountry: 'XX' }),
			items: items({ phone: '(415) 555-1234' }),
		});
		expect(result.nodeError(NODE)!.message).toContain('"XX" is not a supported country code');
		expect(sim.requests).toHaveLength(0);
	});

	test('the first bad item by order is reported', async () => {
		const result = await runPlaceCall(sim, {
			parameters: phoneParams(),
			items: items({ phone: '+14155551001' }, { phone: 'nope' }, { phone: '' }),
		});
		expect(result.nodeError(NODE)!.message).toMatch(/^Item 1: "Phone Number" "nope"/);
		expect(sim.requests).toHaveLength(0);
	});
});

describe('invalid phone numbers, Continue On Fail on', () => {
	test('every input item yields exactly one output item, in order, with pairedItem; valid items are still placed', async () => {
		const phones = [
			'+14155551001',
			'call me maybe',
			'+14155551002',
			'+1415',
			'',
			'(415) 555-1234',
			'+447911123456',
		];
		const result = await runPlaceCall(sim, {
			parameters: phoneParams(),
			settings: CONTINUE,
			items: items(...phones.map((phone) => ({ phone }))),
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		const output = result.output(NODE);
		expect(output).toHaveLength(phones.length);
		expect(output.map((o) => o.pairedItem)).toEqual(phones.map((_p, item) => ({ item })));

		const valid = [0, 2, 6];
		output.forEach((o, i) => {
			if (valid.includes(i)) {
				expect(o.json.error).toBeUndefined();
				expect(o.json.phone_number).toBe(phones[i]);
				expect(String(o.json.id)).toMatch(/^call_/);
			} else {
				expect(o.json).toEqual({
					error: expect.stringContaining(`Item ${i}: "Phone Number" "${phones[i]}" is not valid`),
					details: {
						itemIndex: i,
						description: `Fix the "Phone Number" field for item ${i}. Nothing was sent to Truedy for this item.`,
					},
				});
			}
		});
		expect(callRequests(sim).map((r) => (r.body as any).phone_number)).toEqual(
			valid.map((i) => phones[i]),
		);
		expect(sim.calls.size).toBe(3);
	});

	test("onError 'continueErrorOutput' routes failed items to the error output", async () => {
		const result = await runPlaceCall(sim, {
			parameters: phoneParams(),
			settings: { onError: 'continueErrorOutput' },
			items: items({ phone: '+14155551001' }, { phone: 'bad' }, { phone: '+14155551002' }),
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		const success = result.output(NODE, 0);
		const failed = result.output(NODE, 1);
		expect(success.map((o) => o.json.phone_number)).toEqual(['+14155551001', '+14155551002']);
		expect(success.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
		expect(failed).toHaveLength(1);
		// `{ error, message }`, the shape every n8n routes to the error output (items.ts errorItem),
		// with the input item's fields added by n8n.
		expect(failed[0].json).toEqual({
			phone: 'bad',
			error: expect.stringMatching(/^Item 1: "Phone Number" "bad"/),
			message: 'Fix the "Phone Number" field for item 1. Nothing was sent to Truedy for this item.',
		});
		expect(failed[0].pairedItem).toEqual({ item: 1 });
		expect(sim.calls.size).toBe(2);
	});
});

describe('Variables (JSON)', () => {
	const jsonParams = {
		agent: agentById(SIM_AGENTS.active),
		phoneNumber: '={{ $json.phone }}',
		variablesInput: 'json',
		variablesJson: '={{ $json.vars }}',
	};

	test('bad JSON fails the node with a clear per-item error and nothing is sent', async () => {
		const result = await runPlaceCall(sim, {
			parameters: jsonParams,
			items: items(
				{ phone: '+14155551001', vars: '{"first_name": "Ann"}' },
				{ phone: '+14155551002', vars: '{"first_name": "Bob",' },
			),
		});
		const error = result.nodeError(NODE)!;
		expect(error.message).toMatch(/^Item 1: "Variables \(JSON\)" is not valid JSON \(.+\)$/);
		expect(error.description).toBe(
			'Fix the "Variables (JSON)" field for item 1. Nothing was sent to Truedy for this item.',
		);
		expect((error as any).context.itemIndex).toBe(1);
		expect(sim.requests).toHaveLength(0);
	});

	test('with Continue On Fail, only the item with bad JSON fails', async () => {
		const result = await runPlaceCall(sim, {
			parameters: jsonParams,
			settings: CONTINUE,
			items: items(
				{ phone: '+14155551001', vars: '{"first_name": "Ann"}' },
				{ phone: '+14155551002', vars: 'first_name=Bob' },
				{ phone: '+14155551003', vars: '[1, 2]' },
				{ phone: '+14155551004', vars: '"text"' },
				{ phone: '+14155551005', vars: '{"first_name": "Eve"}' },
			),
		});
		const output = result.output(NODE);
		expect(output).toHaveLength(5);
		expect(output[0].json.variables).toEqual({ first_name: 'Ann' });
		expect(output[1].json.error).toMatch(/^Item 1: "Variables \(JSON\)" is not valid JSON/);
		expect(output[2].json.error).toBe(
			'Item 2: "Variables (JSON)" must be a JSON object like {"first_name": "Sarah"}',
		);
		expect(output[3].json.error).toBe(
			'Item 3: "Variables (JSON)" must be a JSON object like {"first_name": "Sarah"}',
		);
		expect(output[4].json.variables).toEqual({ first_name: 'Eve' });
		expect(output.map((o) => o.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
		expect(callRequests(sim).map((r) => (r.body as any).phone_number)).toEqual([
			'+14155551001',
			'+14155551005',
		]);
	});
});

describe('other fields', () => {
	test.each([
		// A static empty agent is caught by n8n's own "required parameter" check; an expression is not.
		[
			'an agent expression that resolves to nothing',
			{ agent: agentById('={{ $json.missing }}') },
			/^Item 0: "Agent" is empty$/,
		],
		[
			'a variable without a name',
			{ variables: { variable: [{ name: ' ', value: 'x' }] } },
			/^Item 0: "Variables" contain a variable without a name$/,
		],
		[
			'a zero Max Duration',
			{ callSettings: { maxDuration: 0 } },
			/"Max Duration \(Seconds\)" must be a whole number of seconds from 1 to 86400, got "0"/,
		],
		[
			'a fractional Join Timeout',
			{ callSettings: { joinTimeout: 1.5 } },
			/"Join Timeout \(Seconds\)" must be a whole number of seconds/,
		],
		[
			'a too long Max Duration',
			{ callSettings: { maxDuration: 90000 } },
			/from 1 to 86400, got "90000"/,
		],
		[
			'an invalid From Number',
			{ fromNumber: 'front desk' },
			/^Item 0: "From Number" "front desk" is not valid/,
		],
	])('%s is rejected before sending', async (_label, overrides, message) => {
		const result = await runPlaceCall(sim, {
			parameters: {
				agent: agentById(SIM_AGENTS.active),
				phoneNumber: '+14155551234',
				...overrides,
			},
		});
		const error = result.nodeError(NODE)!;
		expect(error.message).toMatch(message);
		expect((error as any).context.itemIndex).toBe(0);
		expect(sim.requests).toHaveLength(0);
	});
});
