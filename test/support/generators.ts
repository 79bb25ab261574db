/**
 * fast-check generators of bad input, for the reliability suite "generated bad input"
 * (test/reliability/bad-input.*.test.ts, docs/reliability.md): what Place Call's fields may be
 * given through expressions, and what may arrive at the trigger's webhook.
 */
import fc from 'fast-check';

// ------------------------------------------------------------------------------------------
// Place Call: phone numbers, variables, call settings

export const VALID_E164_NUMBERS = [
	'+14155551234',
	'+442071838750',
	'+33142685300',
	'+4930901820',
	'+61293744000',
	'+81312345678',
	'+5511987654321',
	'+919876543210',
];
const DIGIT_SETS = [
	'٠١٢٣٤٥٦٧٨٩', // Arabic-Indic
	'۰۱۲۳۴۵۶۷۸۹', // Extended Arabic-Indic
	'０１２３４５６７８９', // fullwidth
	'०१२३४५६७८९', // Devanagari
	'๐๑๒๓๔๕๖๗๘๙', // Thai
	'𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗', // mathematical bold
];
const SPACES = [' ', '\t', '\n', '\u00a0', '\u2009', '\u200b', '\u3000', '\ufeff'];
const EMOJI = ['📞', '🙂', '👍🏽', '🇺🇸', '☎️', '\u200d'];

const validNumber = fc.constantFrom(...VALID_E164_NUMBERS);
const usDigits = fc.tuple(
	fc.integer({ min: 201, max: 989 }),
	fc.integer({ min: 200, max: 999 }),
	fc.integer({ min: 0, max: 9999 }),
);
const nationalFormat = usDigits.chain(([a, b, c]) => {
	const line = String(c).padStart(4, '0');
	return fc.constantFrom(
		`(${a}) ${b}-${line}`,
		`${a}.${b}.${line}`,
		`${a} ${b} ${line}`,
		`${a}${b}${line}`,
		`1-${a}-${b}-${line}`,
		`+1 (${a}) ${b}-${line}`,
		`00 1 ${a} ${b} ${line}`,
	);
});
const unicodeDigits = fc
	.tuple(validNumber, fc.integer({ min: 0, max: DIGIT_SETS.length - 1 }))
	.map(([n, set]) =>
		[...n].map((ch) => (/\d/.test(ch) ? [...DIGIT_SETS[set]][Number(ch)] : ch)).join(''),
	);
const withInserted = (pool: string[]) =>
	fc
		.tuple(
			validNumber,
			fc.array(fc.tuple(fc.nat(), fc.constantFrom(...pool)), { minLength: 1, maxLength: 4 }),
		)
		.map(([n, inserts]) => {
			const chars = [...n];
			for (const [at, ch] of inserts) chars.splice(at % (chars.length + 1), 0, ch);
			return chars.join('');
		});
const letters = fc
	.tuple(validNumber, fc.stringMatching(/^[A-Za-z]{1,4}$/), fc.nat())
	.map(
		([n, l, at]) => n.slice(0, 2 + (at % (n.length - 1))) + l + n.slice(2 + (at % (n.length - 1))),
	);
const vanity = fc.stringMatching(/^\+1 ?800[ -]?[A-Z]{3}[ -]?[A-Z]{4}$/);
const tooShort = fc.stringMatching(/^\+[1-9]\d{0,5}$/);
const tooLong = fc.oneof(
	fc.stringMatching(/^\+[1-9]\d{15,40}$/),
	// Valid for libphonenumber's German metadata, but longer than E.164's 15 digits (found by the soak run).
	fc.constantFrom('+4960000000000000', '+49 6000 0000 0000 00', '+49600000000000000'),
);
const blank = fc.constantFrom('', ' ', '\t', '\n', '\u00a0', '   \u200b  ');
const extension = validNumber.map((n) => `${n} ext. 12`);
const nonText = fc.oneof(
	fc.integer(),
	fc.double(),
	fc.constantFrom(14155551234, 4155551234, 0, -1, NaN, Infinity, 1e21),
	fc.boolean(),
	fc.constant(null),
	fc.constant(undefined),
	fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
	fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
	fc.constant({ phone: '+14155551234' }),
);

export const phoneInput: fc.Arbitrary<unknown> = fc.oneof(
	{ arbitrary: validNumber, weight: 3 },
	{ arbitrary: nationalFormat, weight: 2 },
	{ arbitrary: unicodeDigits, weight: 2 },
	{ arbitrary: withInserted(SPACES), weight: 2 },
	{ arbitrary: withInserted(EMOJI), weight: 2 },
	{ arbitrary: letters, weight: 2 },
	{ arbitrary: vanity, weight: 1 },
	{ arbitrary: tooShort, weight: 1 },
	{ arbitrary: tooLong, weight: 1 },
	{ arbitrary: blank, weight: 1 },
	{ arbitrary: extension, weight: 1 },
	{ arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 2 },
	{ arbitrary: nonText, weight: 3 },
);

export const variableName = fc.oneof(
	{ arbitrary: fc.string({ minLength: 1, maxLength: 12 }), weight: 6 },
	{
		arbitrary: fc.constantFrom(
			'',
			' ',
			'__proto__',
			'constructor',
			'prototype',
			'toString',
			'first name',
			'ünïcødé',
			'🙂',
			'a.b',
			'$json',
		),
		weight: 2,
	},
);
export const HUGE_TEXT = 'x'.repeat(100_000);
export const variableValue = fc.oneof(
	{ arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 6 },
	{ arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 3 },
	{
		arbitrary: fc.constantFrom(null, true, 0, -1.5, 1e21, HUGE_TEXT, '', '{{ $json.x }}', '=1+1'),
		weight: 1,
	},
);
const variablesObject = fc.dictionary(variableName, variableValue, { maxKeys: 6 });
const deepObject = fc.integer({ min: 5, max: 60 }).map((depth) => {
	let v: unknown = 'bottom';
	for (let i = 0; i < depth; i++) v = i % 2 ? { nested: v } : [v];
	return { deep: v };
});
export const variablesInput: fc.Arbitrary<unknown> = fc.oneof(
	{ arbitrary: variablesObject, weight: 5 },
	{ arbitrary: variablesObject.map((o) => JSON.stringify(o)), weight: 3 },
	{ arbitrary: deepObject, weight: 1 },
	{
		arbitrary: fc
			.jsonValue({ maxDepth: 3 })
			.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
		weight: 2,
	},
	{ arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 1 },
	{ arbitrary: variablesObject.map((o) => JSON.stringify(o).slice(0, -1)), weight: 2 }, // cut-off JSON
	{ arbitrary: fc.string({ maxLength: 40 }), weight: 2 }, // mostly not JSON
	{
		arbitrary: fc.constantFrom('', '   ', '{}', '[]', 'null', '{"a":1,}', "{'a':1}", '{"a":NaN}'),
		weight: 1,
	},
	{ arbitrary: fc.constant(undefined), weight: 1 },
);

export const durationInput: fc.Arbitrary<unknown> = fc.oneof(
	{ arbitrary: fc.integer({ min: 1, max: 86_400 }), weight: 3 },
	{ arbitrary: fc.integer({ min: -1_000_000, max: 0 }), weight: 2 },
	{ arbitrary: fc.integer({ min: 86_401, max: 2 ** 31 }), weight: 2 },
	{ arbitrary: fc.double(), weight: 2 },
	{
		arbitrary: fc.constantFrom(
			0,
			-0,
			1,
			86_400,
			86_401,
			1.5,
			1e21,
			Number.MAX_SAFE_INTEGER,
			Infinity,
			-Infinity,
			NaN,
		),
		weight: 2,
	},
	{
		arbitrary: fc.constantFrom(
			'30',
			' 30 ',
			'1e3',
			'0x10',
			'abc',
			'',
			'30s',
			'-5',
			null,
			true,
			false,
			[],
			[30],
			{},
		),
		weight: 2,
	},
	{ arbitrary: fc.string({ maxLength: 8 }), weight: 1 },
);

/** A greeting: text mostly; empty, null, numbers, booleans, 5,000 characters, lists and objects. */
export const greetingInput: fc.Arbitrary<unknown> = fc.oneof(
	{ arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 4 },
	{ arbitrary: fc.constantFrom('', '   ', null, 0, 42, true, HUGE_TEXT.slice(0, 5000)), weight: 1 },
	{
		arbitrary: fc.oneof(
			fc.array(fc.string(), { maxLength: 2 }),
			fc.dictionary(fc.string({ maxLength: 4 }), fc.string(), { maxKeys: 2 }),
		),
		weight: 1,
	},
);

/** Call Settings as expressions see them: Max Duration, Join Timeout, Greeting. */
export const callSettingsInput = fc.record({
	maxDuration: durationInput,
	joinTimeout: durationInput,
	greeting: greetingInput,
});

// ------------------------------------------------------------------------------------------
// Trigger: webhook bodies

export const anyJsonValue = fc.oneof(
	fc.string({ maxLength: 20 }),
	fc.integer(),
	fc.double(),
	fc.boolean(),
	fc.constant(null),
	fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
	fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);
const eventName = fc.oneof(
	{
		arbitrary: fc.constantFrom(
			'call.ended',
			'call.completed',
			' CALL.ENDED ',
			'call.failed',
			'call.started',
			'batch.completed',
		),
		weight: 3,
	},
	{ arbitrary: anyJsonValue, weight: 1 },
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, anyJsonValue);
const callObject = fc.record(
	{
		callId: maybe(fc.constantFrom('call_abc', 'call_' + 'x'.repeat(300))),
		agent: maybe(fc.record({ agentId: maybe(fc.constant('agt_1')) }, { requiredKeys: [] })),
		endReason: maybe(fc.constantFrom('hangup', 'unjoined', 'CANCELLED')),
		billedDuration: maybe(fc.constantFrom('42s', '42.5s', '-3s', 'abc')),
		joined: maybe(fc.constant('2026-01-01T00:00:00Z')),
		ended: maybe(fc.constantFrom('2026-01-01T00:01:00Z', 'not a date')),
		summary: anyJsonValue,
		shortSummary: anyJsonValue,
		metadata: anyJsonValue,
		transcript: anyJsonValue,
		recordingUrl: anyJsonValue,
	},
	{ requiredKeys: [] },
);
const dataObject = fc.record(
	{
		id: anyJsonValue,
		call: maybe(callObject),
		call_id: anyJsonValue,
		agent_id: anyJsonValue,
		status: maybe(fc.constantFrom('ended', 'completed', 'failed', 'in-progress')),
		duration_seconds: anyJsonValue,
		transcript: anyJsonValue,
		recording_url: anyJsonValue,
		batch: anyJsonValue,
		voice: anyJsonValue,
	},
	{ requiredKeys: [] },
);
export const webhookEnvelope = fc.record(
	{ event: eventName, timestamp: anyJsonValue, data: maybe(dataObject), id: anyJsonValue },
	{ requiredKeys: [] },
);
const deepBody = fc
	.tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean())
	.map(([depth, arrays]) => {
		const open = arrays ? '[' : '{"a":';
		const close = arrays ? ']' : '}';
		return `{"event":"call.ended","data":{"id":"deep-${depth}-${arrays}","call":${open.repeat(depth)}1${close.repeat(depth)}}}`;
	});
const FIVE_MB = 5 * 1024 * 1024;
export const bigWebhookBody = fc.constantFrom('summary', 'transcript').map((field) =>
	JSON.stringify({
		event: 'call.ended',
		data: { id: `big-${field}`, call: { callId: 'call_big', [field]: 'y'.repeat(FIVE_MB) } },
	}),
);
export const webhookBody: fc.Arbitrary<string> = fc.oneof(
	{ arbitrary: webhookEnvelope.map((e) => JSON.stringify(e)), weight: 10 },
	{ arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 2 },
	{ arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }), weight: 2 },
	{ arbitrary: webhookEnvelope.map((e) => JSON.stringify(e).slice(0, -1)), weight: 1 },
	{
		arbitrary: fc.constantFrom(
			'',
			' ',
			'null',
			'[]',
			'{}',
			'"call.ended"',
			'\u0000',
			'{"event":"call.ended","data":',
		),
		weight: 1,
	},
	{ arbitrary: deepBody, weight: 1 },
);
export const webhookContentType = fc.constantFrom<string | undefined>(
	'application/json',
	'application/json; charset=utf-8',
	'text/plain',
	undefined,
);
