// Suite 2 — generated bad input, Place Call's half (docs/reliability.md; the trigger's half is
// bad-input.trigger.test.ts). fast-check generates phone numbers, variables and call settings
// (test/support/generators.ts). Each property is checked on the node's pure builders with
// thousands of cases, and through n8n's real engine with 500 generated items in one run. Every
// case must give a valid request (the simulator accepts it) or a clear per-item error; nothing may
// crash the node or the workflow.
import fc from 'fast-check';
import type { IDataObject } from 'n8n-workflow';

import { normalizePhoneNumber } from '../../nodes/Truedy/shared/phone';
import { quote } from '../../nodes/Truedy/shared/validation';
import { parsePhoneNumberFromString } from '../../nodes/Truedy/shared/vendor/libphonenumber';
import {
	agentById,
	callSettingsInput,
	makeLeads,
	phoneInput,
	placeCall,
	runTruedy,
	SIM_AGENTS,
	useSimulator,
	variableName,
	variablesInput,
	variableValue,
} from '../support';
import { BAD_INPUT, CANARY_API_KEY, guard, NODE, useBadInputSuite } from './support';

const { cases: CASES, engineRuns: ENGINE_RUNS, pureRuns: PURE_RUNS, seed: SEED } = BAD_INPUT;
const sim = useSimulator({ apiKey: CANARY_API_KEY, autoAdvance: false });
const { log, scanner } = useBadInputSuite('place-call');

const E164 = /^\+[1-9]\d{6,14}$/;
const agent = agentById(SIM_AGENTS.active);

// ------------------------------------------------------------------------------------------
// Oracles and batches

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
	const result = await runTruedy(sim, {
		parameters: placeCall({ agent, phoneNumber: '={{ $json.phone }}', ...parameters }),
		items: valuesAsLeads(values),
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
	const result = await runTruedy(sim, {
		parameters: placeCall({ agent, phoneNumber: '={{ $json.phone }}', ...parameters }),
		items: valuesAsLeads(values),
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
		log.record(name, { cases, validRequests, itemErrors, crashes: 0, problems: problems.length });
		expect(problems).toEqual([]);
		if (expectValidRequests) expect(validRequests).toBeGreaterThan(0);
		expect(itemErrors).toBeGreaterThan(0);
	}
}

const sample = <T>(arb: fc.Arbitrary<T>, run: number) =>
	fc.sample(arb, { numRuns: CASES, seed: SEED + run });

/** One item per generated value: `{ v, phone }`, each with its own lead number. */
const valuesAsLeads = (values: unknown[]) =>
	makeLeads(values.length, (i) => ({ v: values[i] as IDataObject }));

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
		log.recordCheck('phone numbers (pure builder)', details, crashes.count, {
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
			fc.oneof(variableName, fc.constantFrom(null, 42, true, { a: 1 }, ['x'])),
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
		const parameters = {
			callSettings: {
				maxDuration: '={{ $json.v.maxDuration }}',
				joinTimeout: '={{ $json.v.joinTimeout }}',
				greeting: '={{ $json.v.greeting }}',
			},
		};
		for (let run = 0; run < ENGINE_RUNS; run++) {
			const values = sample(callSettingsInput, 300 + run);
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
