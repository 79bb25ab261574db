/* eslint-disable */
// Suite 2 — generated bad input (docs/reliability.md).
// fast-check generates phone numbers, variables, call settings and webhook bodies. Each property
// is checked twice: on the node's pure builders with thousands of cases, and through n8n's real
// engine (or the real trigger webhook over HTTP) with 500 generated items in one run. Every case
// must give a valid request (the simulator accepts it) or a clear per-item error; nothing may
// crash the node, the workflow or the trigger.
import fc from 'fast-check';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { normalizePhoneNumber } from '../../nodes/Truedy/shared/phone';
import { quote } from '../../nodes/Truedy/shared/validation';
import { parsePhoneNumberFromString } from '../../nodes/Truedy/shared/vendor/libphonenumber';
import { deliveryKey } from '../../nodes/Truedy/trigger/dedupe';
import { filterMismatch } from '../../nodes/Truedy/trigger/filter';
import { normalizeDelivery } from '../../nodes/Truedy/trigger/delivery';
import { SIM_AGENTS, startSimulator, type TruedySimulator } from '../simulator/server';
import { prepareDelivery } from '../simulator/webhooks';
import { startTriggerHarness, type TriggerHarness } from '../support/webhook-engine';
import {
	CANARY_API_KEY,
	CANARY_SIGNING_SECRET,
	captureLogs,
	LeakScanner,
	NODE,
	runPlace,
	SOAK,
	writeSuiteResults,
	type LogCapture,
} from './support';

const CASES = 500;
/** Engine batches per property (each of CASES items); more under TRUEDY_SOAK=1. */
const ENGINE_RUNS = SOAK ? 4 : 1;
/** Cases per pure property. */
const PURE_RUNS = SOAK ? 20_000 : 2000;
const SEED = 20240607;

let sim: TruedySimulator;
let logs: LogCapture;
const scanner = new LeakScanner();
const properties: IDataObject[] = [];

beforeAll(async () => {
	logs = captureLogs();
	sim = await startSimulator({ apiKey: CANARY_API_KEY, autoAdvance: false });
});

afterAll(async () => {
	await sim.close();
	scanner.scanLogs(logs);
	logs.restore();
	writeSuiteResults('bad-input', {
		cases: CASES,
		engineRuns: ENGINE_RUNS,
		pureRuns: PURE_RUNS,
		seed: SEED,
		properties,
		secretScan: scanner.summary(),
	});
	expect(scanner.hits).toEqual([]);
});

const E164 = /^\+[1-9]\d{6,14}$/;
const agent = { __rl: true, mode: 'id', value: SIM_AGENTS.active };

// ------------------------------------------------------------------------------------------
// Generators

const VALID_NUMBERS = [
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

const validNumber = fc.constantFrom(...VALID_NUMBERS);
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

const phoneInput: fc.Arbitrary<unknown> = fc.oneof(
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

const awkwardKey = fc.oneof(
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
const HUGE = 'x'.repeat(100_000);
const variableValue = fc.oneof(
	{ arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 6 },
	{ arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 3 },
	{
		arbitrary: fc.constantFrom(null, true, 0, -1.5, 1e21, HUGE, '', '{{ $json.x }}', '=1+1'),
		weight: 1,
	},
);
const variablesObject = fc.dictionary(awkwardKey, variableValue, { maxKeys: 6 });
const deepObject = fc.integer({ min: 5, max: 60 }).map((depth) => {
	let v: unknown = 'bottom';
	for (let i = 0; i < depth; i++) v = i % 2 ? { nested: v } : [v];
	return { deep: v };
});
const variablesInput: fc.Arbitrary<unknown> = fc.oneof(
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

const duration: fc.Arbitrary<unknown> = fc.oneof(
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

// ------------------------------------------------------------------------------------------
// Oracles

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
	typeof v === 'object' && v !== null && !Array.isArray(v);

/** Names n8n strips from request bodies; the node refuses them rather than lose them. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const nameProblem = (name: string) =>
	name === ''
		? /"Variables" contain a variable without a name/
		: new RegExp(`"Variables" contain the name "${name}", which n8n does not send`);

/** What the node should send as `variables` for a JSON-mode input, or the error it should give. */
function expectedVariables(
	input: unknown,
): { ok: true; variables: Array<[string, string]> } | { ok: false; problem: RegExp } {
	let value = input;
	if (typeof input === 'string') {
		if (input.trim() === '') value = {};
		else {
			try {
				value = JSON.parse(input);
			} catch {
				return { ok: false, problem: /"Variables \(JSON\)" is not valid JSON/ };
			}
		}
	}
	if (!isPlainObject(value))
		return { ok: false, problem: /"Variables \(JSON\)" must be a JSON object/ };
	const entries = Object.entries(value);
	const firstBadName = entries.find(([k]) => k === '' || RESERVED.has(k));
	if (firstBadName) return { ok: false, problem: nameProblem(firstBadName[0]) };
	return {
		ok: true,
		variables: entries.map(([k, v]) => [
			k,
			v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v),
		]),
	};
}

function durationVerdict(value: unknown): string | undefined {
	const n = Number(value);
	return Number.isInteger(n) && n >= 1 && n <= 86_400 ? `${n}s` : undefined;
}

interface BatchTally {
	cases: number;
	validRequests: number;
	itemErrors: number;
	problems: string[];
}

/** Runs `values` as items through Place Call (Continue On Fail) and checks each against `check`. */
async function engineBatch(
	label: string,
	values: unknown[],
	parameters: IDataObject,
	check: (
		value: unknown,
		index: number,
		out: IDataObject,
		body: IDataObject | undefined,
	) => string | undefined,
): Promise<BatchTally> {
	sim.reset();
	const items: INodeExecutionData[] = values.map((v, i) => ({
		json: { v, phone: `+1415555${String(1000 + i)}` } as IDataObject,
	}));
	const result = await runPlace(sim, {
		parameters: { agent, phoneNumber: '={{ $json.phone }}', ...parameters },
		items,
		settings: { onError: 'continueRegularOutput' },
	});
	scanner.scanRun(label, result);
	const problems: string[] = [];
	if (result.run.status !== 'success')
		problems.push(`run status ${result.run.status}: ${result.nodeError(NODE)?.message}`);
	const output = result.nodeError(NODE) ? [] : result.output(NODE);
	if (output.length !== values.length)
		problems.push(`${output.length} items out for ${values.length} in`);
	const bodyByCall = new Map<string, IDataObject>();
	for (const r of sim.requests) {
		if (r.method !== 'POST' || r.path !== '/calls') continue;
		if (r.status !== 201)
			problems.push(`the simulator rejected a request (${r.status}): ${r.rawBody.slice(0, 200)}`);
	}
	for (const call of sim.calls.values())
		bodyByCall.set(
			call.id,
			sim.requests.find((r) => r.status === 201 && r.rawBody.includes(call.to))
				?.body as IDataObject,
		);
	let validRequests = 0;
	let itemErrors = 0;
	output.forEach((item, i) => {
		const out = item.json;
		if (out.error === undefined) validRequests++;
		else {
			itemErrors++;
			const details = out.details as IDataObject | undefined;
			if (details?.itemIndex !== i || !String(out.error).startsWith(`Item ${i}: "`))
				problems.push(
					`item ${i}: error does not name its index and field: ${String(out.error).slice(0, 120)}`,
				);
		}
		const body = out.error === undefined ? bodyByCall.get(String(out.id)) : undefined;
		const problem = check(values[i], i, out, body);
		if (problem) problems.push(`item ${i} (${quote(values[i])}): ${problem}`);
	});
	return { cases: values.length, validRequests, itemErrors, problems };
}

/** The same values without Continue On Fail: the first bad item fails the node before anyone is called. */
async function failFastBatch(
	label: string,
	values: unknown[],
	parameters: IDataObject,
	firstBad: number,
): Promise<string[]> {
	sim.reset();
	const items = values.map((v, i) => ({
		json: { v, phone: `+1415555${String(1000 + i)}` } as IDataObject,
	}));
	const result = await runPlace(sim, {
		parameters: { agent, phoneNumber: '={{ $json.phone }}', ...parameters },
		items,
	});
	scanner.scanRun(label, result);
	const problems: string[] = [];
	const error = result.nodeError(NODE);
	if (firstBad < 0) {
		if (error) problems.push(`node failed although every item is valid: ${error.message}`);
		return problems;
	}
	if (!error) problems.push('node did not fail');
	else if (!error.message.startsWith(`Item ${firstBad}: "`))
		problems.push(`node error does not name item ${firstBad}: ${error.message}`);
	if (sim.calls.size !== 0)
		problems.push(`${sim.calls.size} calls were placed before the bad item failed the node`);
	return problems;
}

function record(name: string, data: IDataObject) {
	properties.push({ name, ...data });
}

/** Sums the engine batches of one property; `finish` records the sums and checks them. */
class PropertyTally {
	cases = 0;
	validRequests = 0;
	itemErrors = 0;
	readonly problems: string[] = [];

	add(batch: BatchTally): void {
		this.cases += batch.cases;
		this.validRequests += batch.validRequests;
		this.itemErrors += batch.itemErrors;
		this.problems.push(...batch.problems);
	}

	finish(name: string, { expectValidRequests = true } = {}): void {
		const { cases, validRequests, itemErrors, problems } = this;
		record(name, { cases, validRequests, itemErrors, crashes: 0, problems: problems.length });
		expect(problems).toEqual([]);
		if (expectValidRequests) expect(validRequests).toBeGreaterThan(0);
		expect(itemErrors).toBeGreaterThan(0);
	}
}

/** Runs `fn`; a throw counts as a crash and gives undefined. */
function guard<T>(crashes: { count: number }, fn: () => T): T | undefined {
	try {
		return fn();
	} catch {
		crashes.count++;
		return undefined;
	}
}

/** Records a pure property's outcome (also when it fails), then fails the test with fast-check's report. */
function recordCheck(
	name: string,
	details: fc.RunDetails<any>,
	crashes: number,
	extra: IDataObject = {},
) {
	record(name, {
		cases: details.numRuns,
		...extra,
		crashes,
		problems: details.failed ? 1 : 0,
		...(details.failed && {
			counterexample: JSON.stringify(details.counterexample)?.slice(0, 200),
		}),
	});
	expect(details.failed ? fc.defaultReportMessage(details) : 'passed').toBe('passed');
}

const sample = <T>(arb: fc.Arbitrary<T>, run: number) =>
	fc.sample(arb, { numRuns: CASES, seed: SEED + run });

// ------------------------------------------------------------------------------------------
// Phone numbers

describe('phone numbers', () => {
	test(`pure: normalizePhoneNumber never throws, gives E.164 or a reason (${PURE_RUNS} cases)`, () => {
		let ok = 0;
		let tried = 0;
		const crashes = { count: 0 };
		const details = fc.check(
			fc.property(
				phoneInput,
				fc.option(fc.constantFrom('US', 'GB', 'de', ' fr ', 'XX', '', '12'), { nil: undefined }),
				(input, country) => {
					tried++;
					const result = guard(crashes, () => normalizePhoneNumber(input, country));
					if (!result) return false;
					if (result.ok) {
						ok++;
						return (
							E164.test(result.e164) && parsePhoneNumberFromString(result.e164)?.isValid() === true
						);
					}
					return typeof result.reason === 'string' && result.reason.length > 0;
				},
			),
			// Always tried: the soak run's counterexample (valid for libphonenumber, 16 digits).
			{ numRuns: PURE_RUNS, seed: SEED, examples: [['+4960000000000000', undefined]] },
		);
		recordCheck('phone numbers (pure builder)', details, crashes.count, {
			valid: ok,
			rejected: tried - ok,
		});
	});

	test(`engine: ${CASES} generated numbers per run; each is dialled as E.164 or fails with a clear error`, async () => {
		const tally = new PropertyTally();
		for (let run = 0; run < ENGINE_RUNS; run++) {
			const values = sample(phoneInput, run);
			const t = await engineBatch(
				'phone',
				values,
				{ phoneNumber: '={{ $json.v }}' },
				(value, i, out, body) => {
					const verdict = normalizePhoneNumber(value);
					if (verdict.ok) {
						if (out.error !== undefined) return `valid number failed: ${out.error}`;
						if (body?.phone_number !== verdict.e164 || out.phone_number !== verdict.e164)
							return `sent ${String(body?.phone_number)}, expected ${verdict.e164}`;
						return undefined;
					}
					const expected = `Item ${i}: "Phone Number" ${quote(value)} is not valid: ${verdict.reason}`;
					return out.error === expected
						? undefined
						: `expected error ${expected}, got ${JSON.stringify(out).slice(0, 200)}`;
				},
			);
			const firstBad = values.findIndex((v) => !normalizePhoneNumber(v).ok);
			t.problems.push(
				...(await failFastBatch(
					'phone fail-fast',
					values,
					{ phoneNumber: '={{ $json.v }}' },
					firstBad,
				)),
			);
			tally.add(t);
		}
		tally.finish('phone numbers (engine)');
	});
});

// ------------------------------------------------------------------------------------------
// Variables

describe('variables', () => {
	test(`engine, JSON mode: ${CASES} generated values per run (nested, arrays, null, huge, bad JSON)`, async () => {
		const tally = new PropertyTally();
		const parameters = { variablesInput: 'json', variablesJson: '={{ $json.v }}' };
		for (let run = 0; run < ENGINE_RUNS; run++) {
			const values = sample(variablesInput, 100 + run);
			const t = await engineBatch('variables json', values, parameters, (value, _i, out, body) => {
				const expected = expectedVariables(value);
				if (!expected.ok)
					return expected.problem.test(String(out.error))
						? undefined
						: `expected ${expected.problem}, got ${JSON.stringify(out).slice(0, 200)}`;
				if (out.error !== undefined) return `valid variables failed: ${out.error}`;
				const sent = (body?.variables ?? {}) as Record<string, unknown>;
				const sentEntries = Object.entries(sent);
				if (expected.variables.length === 0)
					return sentEntries.length === 0 ? undefined : 'variables sent for an empty object';
				if (sentEntries.some(([, v]) => typeof v !== 'string'))
					return 'a variable was not sent as text';
				const want = JSON.stringify(expected.variables);
				const got = JSON.stringify(sentEntries);
				return want === got
					? undefined
					: `sent ${got.slice(0, 200)}, expected ${want.slice(0, 200)}`;
			});
			const firstBad = values.findIndex((v) => !expectedVariables(v).ok);
			t.problems.push(
				...(await failFastBatch('variables fail-fast', values, parameters, firstBad)),
			);
			tally.add(t);
		}
		tally.finish('variables, JSON (engine)');
	});

	test(`engine, key/value mode: ${CASES} generated names and values per run`, async () => {
		const tally = new PropertyTally();
		const pair = fc.tuple(
			fc.oneof(awkwardKey, fc.constantFrom(null, 42, true, { a: 1 }, ['x'])),
			variableValue,
		);
		const parameters = {
			variables: { variable: [{ name: '={{ $json.v[0] }}', value: '={{ $json.v[1] }}' }] },
		};
		for (let run = 0; run < ENGINE_RUNS; run++) {
			const values = sample(pair, 200 + run);
			const t = await engineBatch(
				'variables key/value',
				values,
				parameters,
				(value, _i, out, body) => {
					const [name, v] = value as [unknown, unknown];
					if (typeof name === 'object' && name !== null)
						return /"Variables" contain a name that is not text/.test(String(out.error))
							? undefined
							: `expected a name error, got ${JSON.stringify(out).slice(0, 200)}`;
					const trimmed = String(name ?? '').trim();
					if (!trimmed || RESERVED.has(trimmed))
						return nameProblem(trimmed).test(String(out.error))
							? undefined
							: `expected a name error, got ${JSON.stringify(out).slice(0, 200)}`;
					if (out.error !== undefined) return `valid variable failed: ${out.error}`;
					const sent = Object.entries((body?.variables ?? {}) as Record<string, unknown>);
					const text =
						v === null || v === undefined
							? ''
							: typeof v === 'object'
								? JSON.stringify(v)
								: String(v);
					return JSON.stringify(sent) === JSON.stringify([[trimmed, text]])
						? undefined
						: `sent ${JSON.stringify(sent).slice(0, 200)}`;
				},
			);
			tally.add(t);
		}
		tally.finish('variables, key/value (engine)', { expectValidRequests: false });
	});
});

// ------------------------------------------------------------------------------------------
// Call settings

describe('call settings', () => {
	test(`engine: ${CASES} generated durations per run (negative, zero, huge, fractions, text)`, async () => {
		const tally = new PropertyTally();
		const greeting = fc.oneof(
			{ arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 4 },
			{ arbitrary: fc.constantFrom('', '   ', null, 0, 42, true, HUGE.slice(0, 5000)), weight: 1 },
			{
				arbitrary: fc.oneof(
					fc.array(fc.string(), { maxLength: 2 }),
					fc.dictionary(fc.string({ maxLength: 4 }), fc.string(), { maxKeys: 2 }),
				),
				weight: 1,
			},
		);
		const settings = fc.record({ maxDuration: duration, joinTimeout: duration, greeting });
		const parameters = {
			callSettings: {
				maxDuration: '={{ $json.v.maxDuration }}',
				joinTimeout: '={{ $json.v.joinTimeout }}',
				greeting: '={{ $json.v.greeting }}',
			},
		};
		for (let run = 0; run < ENGINE_RUNS; run++) {
			const values = sample(settings, 300 + run);
			const t = await engineBatch('call settings', values, parameters, (value, _i, out, body) => {
				const v = value as IDataObject;
				if (typeof v.greeting === 'object' && v.greeting !== null)
					return /"Greeting" must be text/.test(String(out.error))
						? undefined
						: `expected a Greeting error, got ${JSON.stringify(out).slice(0, 200)}`;
				const maxDuration = durationVerdict(v.maxDuration);
				const joinTimeout = durationVerdict(v.joinTimeout);
				if (!maxDuration)
					return /"Max Duration \(Seconds\)" must be a whole number of seconds from 1 to 86400/.test(
						String(out.error),
					)
						? undefined
						: `expected a Max Duration error, got ${JSON.stringify(out).slice(0, 200)}`;
				if (!joinTimeout)
					return /"Join Timeout \(Seconds\)" must be a whole number of seconds from 1 to 86400/.test(
						String(out.error),
					)
						? undefined
						: `expected a Join Timeout error, got ${JSON.stringify(out).slice(0, 200)}`;
				if (out.error !== undefined) return `valid settings failed: ${out.error}`;
				const cs = (body?.call_settings ?? {}) as IDataObject;
				if (cs.max_duration !== maxDuration || cs.join_timeout !== joinTimeout)
					return `sent ${JSON.stringify(cs)}`;
				const text = v.greeting === null || v.greeting === undefined ? '' : String(v.greeting);
				if ((cs.greeting ?? '') !== (text.trim() === '' ? '' : text))
					return `sent greeting ${JSON.stringify(cs.greeting)?.slice(0, 80)}`;
				return undefined;
			});
			tally.add(t);
		}
		tally.finish('call settings (engine)');
	});
});

// ------------------------------------------------------------------------------------------
// Webhook bodies

const anyValue = fc.oneof(
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
	{ arbitrary: anyValue, weight: 1 },
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, anyValue);
const callObject = fc.record(
	{
		callId: maybe(fc.constantFrom('call_abc', 'call_' + 'x'.repeat(300))),
		agent: maybe(fc.record({ agentId: maybe(fc.constant('agt_1')) }, { requiredKeys: [] })),
		endReason: maybe(fc.constantFrom('hangup', 'unjoined', 'CANCELLED')),
		billedDuration: maybe(fc.constantFrom('42s', '42.5s', '-3s', 'abc')),
		joined: maybe(fc.constant('2026-01-01T00:00:00Z')),
		ended: maybe(fc.constantFrom('2026-01-01T00:01:00Z', 'not a date')),
		summary: anyValue,
		shortSummary: anyValue,
		metadata: anyValue,
		transcript: anyValue,
		recordingUrl: anyValue,
	},
	{ requiredKeys: [] },
);
const dataObject = fc.record(
	{
		id: anyValue,
		call: maybe(callObject),
		call_id: anyValue,
		agent_id: anyValue,
		status: maybe(fc.constantFrom('ended', 'completed', 'failed', 'in-progress')),
		duration_seconds: anyValue,
		transcript: anyValue,
		recording_url: anyValue,
		batch: anyValue,
		voice: anyValue,
	},
	{ requiredKeys: [] },
);
const envelope = fc.record(
	{ event: eventName, timestamp: anyValue, data: maybe(dataObject), id: anyValue },
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
const bigBody = fc
	.constantFrom('summary', 'transcript')
	.map((field) =>
		JSON.stringify({
			event: 'call.ended',
			data: { id: `big-${field}`, call: { callId: 'call_big', [field]: 'y'.repeat(FIVE_MB) } },
		}),
	);
const bodyText: fc.Arbitrary<string> = fc.oneof(
	{ arbitrary: envelope.map((e) => JSON.stringify(e)), weight: 10 },
	{ arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 2 },
	{ arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }), weight: 2 },
	{ arbitrary: envelope.map((e) => JSON.stringify(e).slice(0, -1)), weight: 1 },
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
const contentType = fc.constantFrom<string | undefined>(
	'application/json',
	'application/json; charset=utf-8',
	'text/plain',
	undefined,
);

describe('webhook bodies', () => {
	test(`pure: normalizeDelivery, deliveryKey and the filters never throw (${PURE_RUNS} cases)`, () => {
		const crashes = { count: 0 };
		const details = fc.check(
			fc.property(
				fc.oneof(envelope, fc.dictionary(fc.string(), fc.anything(), { maxKeys: 5 })),
				(body) => {
					const delivery = guard(crashes, () => {
						const d = normalizeDelivery(body as IDataObject);
						deliveryKey(body as IDataObject, d.event, JSON.stringify(body) ?? '');
						filterMismatch(d, {
							agentIds: 'agt_1, agt_2',
							statuses: ['ended'],
							endReasons: ['hangup'],
						});
						return d;
					});
					return delivery !== undefined && typeof delivery.event === 'string';
				},
			),
			{ numRuns: PURE_RUNS, seed: SEED },
		);
		recordCheck('webhook bodies (pure normalizer)', details, crashes.count);
	});

	test(`trigger over HTTP: ${CASES} generated signed bodies (not JSON, empty, deep, wrong types, 5 MB) never crash it`, async () => {
		const harness: TriggerHarness = await startTriggerHarness({
			parameters: { events: ['call.ended', 'call.failed', 'call.started', 'batch.completed'] },
			credentials: { truedyWebhookApi: { signingSecret: CANARY_SIGNING_SECRET } },
		});
		const problems: string[] = [];
		const byStatus: Record<string, number> = {};
		let sent = 0;
		try {
			for (let run = 0; run < ENGINE_RUNS; run++) {
				const cases = fc.sample(fc.tuple(bodyText, contentType), {
					numRuns: CASES - 2,
					seed: SEED + 400 + run,
				});
				cases.push(
					...fc.sample(fc.tuple(bigBody, fc.constant('application/json')), {
						numRuns: 2,
						seed: SEED + run,
					}),
				);
				const queue = [...cases];
				const worker = async () => {
					for (let next = queue.shift(); next; next = queue.shift()) {
						const [raw, type] = next;
						const prepared = prepareDelivery(raw, {
							secret: CANARY_SIGNING_SECRET,
							omitHeaders: ['content-type'],
							extraHeaders: type ? { 'Content-Type': type } : {},
						});
						const response = await fetch(harness.url, {
							method: 'POST',
							headers: prepared.headers,
							body: prepared.rawBody,
						});
						const text = await response.text();
						sent++;
						byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
						if (![200, 204, 400].includes(response.status))
							problems.push(`${response.status} for ${quote(raw)}: ${text.slice(0, 200)}`);
						if (
							response.status === 400 &&
							!text.includes('not a JSON object') &&
							!text.includes('Failed to parse request body')
						)
							problems.push(`unclear 400 for ${quote(raw)}: ${text.slice(0, 200)}`);
						scanner.scan('webhook answer', text);
					}
				};
				await Promise.all(Array.from({ length: 8 }, worker));
			}
			await harness.idle();
		} finally {
			await harness.close();
		}
		const failedRequests = harness.requests.filter((r) => r.outcome === 'failed');
		const failedExecutions = harness.executions.filter((e) => e.status !== 'success');
		for (const r of failedRequests) problems.push(`webhook() threw: ${r.error?.message}`);
		for (const e of failedExecutions)
			problems.push(`execution ${e.status}: ${e.run.data.resultData.error?.message}`);
		for (const e of harness.executions) scanner.scan('trigger execution', e.run);
		const started = harness.requests.filter((r) => r.outcome === 'started').length;
		record('webhook bodies (trigger over HTTP)', {
			cases: sent,
			started,
			ignored: harness.requests.filter((r) => r.outcome === 'ignored').length,
			rejected400: byStatus['400'] ?? 0,
			byStatus,
			crashes: failedRequests.length + failedExecutions.length,
			problems: problems.length,
		});
		expect(problems).toEqual([]);
		expect(sent).toBe(CASES * ENGINE_RUNS);
		expect(harness.executions).toHaveLength(started);
		expect(started).toBeGreaterThan(0);
	});
});
