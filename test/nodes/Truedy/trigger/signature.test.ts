// Unit table for the Truedy Trigger's signature helper (like n8n's Stripe/GitHub trigger helper tests).
import { createHmac } from 'crypto';
import {
	computeSignature,
	getHeader,
	parseTimestamp,
	signatureCandidates,
	signaturesMatch,
	verifySignature,
	type HeaderBag,
	type VerificationFailure,
} from '../../../../nodes/Truedy/trigger/signature';
import {
	compareCodePoints,
	pythonFloatRepr,
	pythonSortedJson,
} from '../../../../nodes/Truedy/trigger/pythonJson';
import { parseSecrets } from '../../../../nodes/Truedy/trigger/signature';
import { pythonSortedDumps } from '../../../simulator/pyjson';
import { signWebhook } from '../../../simulator/webhooks';

const SECRET = 'whsec_test_0123456789abcdef';
const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW_S = NOW_MS / 1000;
const BODY = JSON.stringify({
	event: 'call.ended',
	timestamp: '2026-01-15T12:00:00Z',
	data: { id: 'uv_evt_1', call: { callId: 'c1' } },
});

/** Headers as the documented sender (or the early `Trudy` backend) would send them. */
function signed(
	opts: {
		body?: string;
		timestamp?: string | number;
		secret?: string;
		spelling?: 'Truedy' | 'Trudy';
		signatureSpelling?: 'Truedy' | 'Trudy';
		signature?: string;
	} = {},
): HeaderBag {
	const timestamp = String(opts.timestamp ?? NOW_S);
	const body = opts.body ?? BODY;
	const spelling = opts.spelling ?? 'Truedy';
	const signature = opts.signature ?? signWebhook(opts.secret ?? SECRET, timestamp, body);
	return {
		[`x-${spelling.toLowerCase()}-timestamp`]: timestamp,
		[`x-${(opts.signatureSpelling ?? spelling).toLowerCase()}-signature`]: signature,
		'content-type': 'application/json',
	};
}

interface Case {
	name: string;
	headers: HeaderBag;
	rawBody?: Buffer | string;
	/** Send no raw body at all. */
	noBody?: boolean;
	secret?: string;
	tolerance?: number;
	expected: true | VerificationFailure;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

const cases: Case[] = [
	{ name: 'valid signature (X-Truedy-*)', headers: signed(), expected: true },
	{
		name: 'valid signature (X-Trudy-* spelling)',
		headers: signed({ spelling: 'Trudy' }),
		expected: true,
	},
	{
		name: 'mixed spellings: Truedy timestamp, Trudy signature',
		headers: signed({ signatureSpelling: 'Trudy' }),
		expected: true,
	},
	{
		name: 'mixed spellings: Trudy timestamp, Truedy signature',
		headers: signed({ spelling: 'Trudy', signatureSpelling: 'Truedy' }),
		expected: true,
	},
	{
		name: 'header names in any case',
		headers: {
			'X-TRUEDY-TIMESTAMP': String(NOW_S),
			'X-Truedy-Signature': signWebhook(SECRET, NOW_S, BODY),
		},
		expected: true,
	},
	{
		name: 'uppercase hex signature',
		headers: signed({ signature: signWebhook(SECRET, NOW_S, BODY).toUpperCase() }),
		expected: true,
	},
	{
		name: 'signature with surrounding spaces',
		headers: signed({ signature: `  ${signWebhook(SECRET, NOW_S, BODY)} ` }),
		expected: true,
	},
	{
		name: 'several signatures (rotation), one valid',
		headers: signed({ signature: `${'0'.repeat(64)},${signWebhook(SECRET, NOW_S, BODY)}` }),
		expected: true,
	},
	{
		name: 'raw body as Buffer',
		headers: signed(),
		rawBody: Buffer.from(BODY, 'utf8'),
		expected: true,
	},
	{
		name: 'non-ASCII body as Buffer (exact bytes)',
		headers: signed({ body: '{"event":"call.ended","data":{"summary":"Grüße – 日本"}}' }),
		rawBody: Buffer.from('{"event":"call.ended","data":{"summary":"Grüße – 日本"}}', 'utf8'),
		expected: true,
	},
	{
		name: 'secret pasted with a trailing newline',
		headers: signed(),
		secret: `${SECRET}\n`,
		expected: true,
	},
	{ name: 'timestamp in milliseconds', headers: signed({ timestamp: NOW_MS }), expected: true },
	{
		name: 'timestamp as ISO 8601',
		headers: signed({ timestamp: iso(NOW_S - 10) }),
		expected: true,
	},
	{
		name: 'timestamp 299 s old (inside 300 s)',
		headers: signed({ timestamp: NOW_S - 299 }),
		expected: true,
	},
	{
		name: 'timestamp 299 s ahead (inside 300 s)',
		headers: signed({ timestamp: NOW_S + 299 }),
		expected: true,
	},
	{
		name: 'custom tolerance allows 20 min',
		headers: signed({ timestamp: NOW_S - 1200 }),
		tolerance: 1800,
		expected: true,
	},

	{
		name: 'wrong secret',
		headers: signed({ secret: 'whsec_other' }),
		expected: 'signature_mismatch',
	},
	{
		name: 'secret without its whsec_ prefix',
		headers: signed(),
		secret: SECRET.replace(/^whsec_/, ''),
		expected: 'signature_mismatch',
	},
	{
		name: 'tampered body',
		headers: signed(),
		rawBody: BODY.replace('c1', 'c2'),
		expected: 'signature_mismatch',
	},
	{
		name: 'body re-serialised (whitespace added)',
		headers: signed(),
		rawBody: JSON.stringify(JSON.parse(BODY), null, 2),
		expected: 'signature_mismatch',
	},
	{
		name: 'signature over another timestamp',
		headers: { ...signed(), 'x-truedy-timestamp': String(NOW_S - 1) },
		expected: 'signature_mismatch',
	},
	{
		name: 'missing signature header',
		headers: { 'x-truedy-timestamp': String(NOW_S) },
		expected: 'missing_signature',
	},
	{
		name: 'missing timestamp header',
		headers: { 'x-truedy-signature': signWebhook(SECRET, NOW_S, BODY) },
		expected: 'missing_timestamp',
	},
	{ name: 'no headers at all', headers: {}, expected: 'missing_timestamp' },
	{
		name: 'empty header values',
		headers: { 'x-truedy-timestamp': '', 'x-truedy-signature': '' },
		expected: 'missing_timestamp',
	},
	{
		name: 'wrong-length signature (63 hex chars)',
		headers: signed({ signature: signWebhook(SECRET, NOW_S, BODY).slice(1) }),
		expected: 'malformed_signature',
	},
	{
		name: 'wrong-length signature (SHA-1 size)',
		headers: signed({ signature: 'a'.repeat(40) }),
		expected: 'malformed_signature',
	},
	{
		name: 'signature with a scheme prefix',
		headers: signed({ signature: `v1=${signWebhook(SECRET, NOW_S, BODY)}` }),
		expected: 'malformed_signature',
	},
	{
		name: 'signature in base64',
		headers: signed({
			signature: createHmac('sha256', SECRET).update(`${NOW_S}.${BODY}`).digest('base64'),
		}),
		expected: 'malformed_signature',
	},
	{
		name: 'stale timestamp (301 s old)',
		headers: signed({ timestamp: NOW_S - 301 }),
		expected: 'timestamp_too_old',
	},
	{
		name: 'stale timestamp (1 day old)',
		headers: signed({ timestamp: NOW_S - 86400 }),
		expected: 'timestamp_too_old',
	},
	{
		name: 'future timestamp (301 s ahead)',
		headers: signed({ timestamp: NOW_S + 301 }),
		expected: 'timestamp_in_future',
	},
	{
		name: 'stale timestamp in milliseconds',
		headers: signed({ timestamp: NOW_MS - 600_000 }),
		expected: 'timestamp_too_old',
	},
	{
		name: 'stale ISO timestamp',
		headers: signed({ timestamp: iso(NOW_S - 600) }),
		expected: 'timestamp_too_old',
	},
	{
		name: 'future ISO timestamp',
		headers: signed({ timestamp: iso(NOW_S + 600) }),
		expected: 'timestamp_in_future',
	},
	{
		name: 'garbage timestamp',
		headers: signed({ timestamp: 'yesterday' }),
		expected: 'invalid_timestamp',
	},
	{
		name: 'negative timestamp',
		headers: signed({ timestamp: '-5' }),
		expected: 'invalid_timestamp',
	},
	{ name: 'empty secret', headers: signed(), secret: '', expected: 'missing_secret' },
	{ name: 'whitespace-only secret', headers: signed(), secret: '   ', expected: 'missing_secret' },
	{
		name: 'signature computed with an empty secret is still refused',
		headers: signed({ secret: '' }),
		secret: '',
		expected: 'missing_secret',
	},
	{ name: 'missing raw body', headers: signed(), noBody: true, expected: 'missing_body' },
];

describe('verifySignature', () => {
	test.each(cases)('$name', ({ headers, rawBody, noBody, secret, tolerance, expected }) => {
		const result = verifySignature({
			secrets: secret ?? SECRET,
			rawBody: noBody ? undefined : (rawBody ?? BODY),
			headers,
			toleranceSeconds: tolerance,
			nowMs: NOW_MS,
		});
		if (expected === true) {
			expect(result).toMatchObject({ valid: true });
		} else {
			expect(result).toMatchObject({ valid: false, reason: expected });
		}
	});

	test('reports the parsed timestamp', () => {
		expect(
			verifySignature({
				secrets: SECRET,
				rawBody: BODY,
				headers: signed({ spelling: 'Trudy' }),
				nowMs: NOW_MS,
			}),
		).toEqual({
			valid: true,
			timestampSeconds: NOW_S,
			signing: 'raw',
			secretIndex: 0,
		});
	});

	test('prefers X-Truedy-* when both spellings are present', () => {
		// The X-Trudy-* pair is signed with another secret: only reading X-Truedy-* first verifies.
		const headers = { ...signed({ spelling: 'Trudy', secret: 'whsec_other' }), ...signed() };
		expect(verifySignature({ secrets: SECRET, rawBody: BODY, headers, nowMs: NOW_MS })).toEqual({
			valid: true,
			timestampSeconds: NOW_S,
			signing: 'raw',
			secretIndex: 0,
		});
	});

	test('failure messages never contain the secret or the expected signature', () => {
		const expectedSignature = signWebhook(SECRET, NOW_S, BODY);
		for (const c of cases.filter((c) => c.expected !== true)) {
			const result = verifySignature({
				secrets: c.secret ?? SECRET,
				rawBody: BODY,
				headers: c.headers,
				nowMs: NOW_MS,
			});
			const text = JSON.stringify(result);
			expect(text).not.toContain(SECRET);
			expect(text).not.toContain(expectedSignature);
		}
	});

	test('never throws on odd input', () => {
		expect(() =>
			verifySignature({
				secrets: SECRET,
				rawBody: BODY,
				headers: { 'x-truedy-timestamp': ['1', '2'], 'x-truedy-signature': undefined },
				nowMs: NOW_MS,
			}),
		).not.toThrow();
		expect(() =>
			verifySignature({ secrets: undefined, rawBody: undefined, headers: undefined as any }),
		).not.toThrow();
	});
});

describe('signature building blocks', () => {
	test.each([
		['1700000000', 1700000000],
		['1700000000.5', 1700000000.5],
		['1700000000123', 1700000000.123],
		['2023-11-14T22:13:20Z', 1700000000],
		['2023-11-14T22:13:20.000+00:00', 1700000000],
		[' 1700000000 ', 1700000000],
		['', undefined],
		['abc', undefined],
		['1e9', undefined],
		['Tue, 14 Nov 2023 22:13:20 GMT', undefined],
		[undefined, undefined],
	])('parseTimestamp(%p) = %p', (input, expected) => {
		expect(parseTimestamp(input as string | undefined)).toBe(expected);
	});

	test('getHeader is case-insensitive and takes the first of repeated values', () => {
		expect(getHeader({ 'X-Truedy-Timestamp': '1' }, 'x-truedy-timestamp')).toBe('1');
		expect(getHeader({ 'x-truedy-timestamp': ['2', '3'] }, 'X-TRUEDY-TIMESTAMP')).toBe('2');
		expect(getHeader({ 'x-truedy-timestamp': '  ' }, 'x-truedy-timestamp')).toBeUndefined();
		expect(getHeader({}, 'x-truedy-timestamp')).toBeUndefined();
	});

	test('computeSignature matches the simulator signer for strings and Buffers', () => {
		expect(computeSignature(SECRET, '123', BODY)).toBe(signWebhook(SECRET, '123', BODY));
		expect(computeSignature(SECRET, '123', Buffer.from(BODY))).toBe(
			signWebhook(SECRET, '123', BODY),
		);
	});

	test('signaturesMatch checks the length before comparing', () => {
		const sig = signWebhook(SECRET, '1', BODY);
		expect(signaturesMatch(sig, sig)).toBe(true);
		expect(signaturesMatch(sig, sig.slice(2))).toBe(false);
		expect(signaturesMatch(sig, `${sig}00`)).toBe(false);
		expect(signaturesMatch(sig, 'f'.repeat(64))).toBe(false);
	});

	test('signatureCandidates splits on commas and spaces', () => {
		expect(signatureCandidates(' AA, bb  cc ')).toEqual(['aa', 'bb', 'cc']);
	});
});

describe('several secrets (one per endpoint, or old and new during a rotation)', () => {
	const OTHER = 'whsec_second_endpoint_fedcba9876543210';
	const ROTATED = 'whsec_rotated_00112233445566778899';

	test.each([
		['new lines', `${SECRET}\n${OTHER}`],
		['Windows new lines and blank lines', `\r\n${SECRET}\r\n\r\n${OTHER}\r\n`],
		['spaces', `${SECRET} ${OTHER}`],
		['commas', `${SECRET},${OTHER}`],
		['commas and spaces', ` ${SECRET} ,  ${OTHER} `],
		['tabs', `${SECRET}\t${OTHER}`],
	])('secrets separated by %s are read as two', (_name, text) => {
		expect(parseSecrets(text)).toEqual([SECRET, OTHER]);
	});

	test('parseSecrets drops duplicates and empty parts, and takes a list', () => {
		expect(parseSecrets(`${SECRET}\n${SECRET},,${OTHER}`)).toEqual([SECRET, OTHER]);
		expect(parseSecrets([` ${OTHER} `, '', SECRET])).toEqual([OTHER, SECRET]);
		expect(parseSecrets(undefined)).toEqual([]);
		expect(parseSecrets(' \n , ')).toEqual([]);
	});

	test('a delivery signed with the second secret is valid, and says which secret matched', () => {
		const headers = signed({ secret: OTHER });
		expect(
			verifySignature({ secrets: `${SECRET}\n${OTHER}`, rawBody: BODY, headers, nowMs: NOW_MS }),
		).toEqual({
			valid: true,
			timestampSeconds: NOW_S,
			signing: 'raw',
			secretIndex: 1,
		});
		expect(
			verifySignature({ secrets: SECRET, rawBody: BODY, headers, nowMs: NOW_MS }),
		).toMatchObject({ valid: false, reason: 'signature_mismatch' });
	});

	test('a delivery signed with none of the secrets is refused', () => {
		const headers = signed({ secret: 'whsec_attacker' });
		expect(
			verifySignature({ secrets: [SECRET, OTHER, ROTATED], rawBody: BODY, headers, nowMs: NOW_MS }),
		).toMatchObject({ valid: false, reason: 'signature_mismatch' });
	});

	test('Ultravox-style rotation: several comma-separated signatures in one header, any one valid', () => {
		const old = signWebhook(ROTATED, NOW_S, BODY);
		const fresh = signWebhook(OTHER, NOW_S, BODY);
		for (const header of [`${old},${fresh}`, `${old}, ${fresh}`, `${fresh},${old}`]) {
			expect(
				verifySignature({
					secrets: [SECRET, OTHER],
					rawBody: BODY,
					headers: signed({ signature: header }),
					nowMs: NOW_MS,
				}),
			).toMatchObject({ valid: true, secretIndex: 1 });
		}
		// Only the old secret in the credential: the header's first signature matches.
		expect(
			verifySignature({
				secrets: ROTATED,
				rawBody: BODY,
				headers: signed({ signature: `${old},${fresh}` }),
				nowMs: NOW_MS,
			}),
		).toMatchObject({ valid: true, secretIndex: 0 });
		// Junk next to a valid signature does not spoil it; junk alone is malformed.
		expect(
			verifySignature({
				secrets: OTHER,
				rawBody: BODY,
				headers: signed({ signature: `v1=abc,${fresh}` }),
				nowMs: NOW_MS,
			}),
		).toMatchObject({ valid: true });
		expect(
			verifySignature({
				secrets: OTHER,
				rawBody: BODY,
				headers: signed({ signature: 'v1=abc,zzz' }),
				nowMs: NOW_MS,
			}),
		).toMatchObject({ valid: false, reason: 'malformed_signature' });
	});

	test('messages and results never contain a secret', () => {
		const text = JSON.stringify([
			verifySignature({
				secrets: `${SECRET}\n${OTHER}`,
				rawBody: BODY,
				headers: signed({ secret: 'whsec_attacker' }),
				nowMs: NOW_MS,
			}),
			verifySignature({
				secrets: `${SECRET}\n${OTHER}`,
				rawBody: BODY,
				headers: signed({ secret: OTHER }),
				nowMs: NOW_MS,
			}),
		]);
		for (const secret of [SECRET, OTHER]) expect(text).not.toContain(secret);
	});
});

/**
 * Python's json.dumps(json.loads(body), sort_keys=True) and the HMAC over `${timestamp}.${that}`,
 * generated with python3 (3.x) and pasted as literals:
 *
 *   canon = json.dumps(json.loads(body), sort_keys=True)
 *   sig = hmac.new(secret.encode(), f"{ts}.{canon}".encode(), hashlib.sha256).hexdigest()
 *
 * with secret 'whsec_test_0123456789abcdef' and ts '1768478400' (= NOW_S).
 */
const PYTHON_CASES: Array<{ name: string; body: string; canonical: string; signature: string }> = [
	{
		name: 'a call.ended envelope (compact, unsorted)',
		body: '{"event":"call.ended","timestamp":"2026-01-15T12:00:00Z","data":{"id":"uv_evt_1","call":{"callId":"c1","z":1,"a":2}}}',
		canonical:
			'{"data": {"call": {"a": 2, "callId": "c1", "z": 1}, "id": "uv_evt_1"}, "event": "call.ended", "timestamp": "2026-01-15T12:00:00Z"}',
		signature: '37353cccd75463f8d91a2d1b66589344fbb21cf6eb5ca3662feab74b561af24c',
	},
	{
		name: 'floats, big ints, -0, non-ASCII, astral and control characters',
		body: '{"z": 1.0, "a": [1, 2.5, 1e-05, 1e16, 12345678901234567890, -0, -0.0], "m": {"b": true, "a": null}, "\u00e9": "Gr\u00fc\u00dfe \u2013 \u65e5\u672c \ud83d\ude00", "ctl": "tab\\there\\n\\u0001\\u007f", "q": "\\"quote\\" \\\\ /"}',
		canonical:
			'{"a": [1, 2.5, 1e-05, 1e+16, 12345678901234567890, 0, -0.0], "ctl": "tab\\there\\n\\u0001\\u007f", "m": {"a": null, "b": true}, "q": "\\"quote\\" \\\\ /", "z": 1.0, "\\u00e9": "Gr\\u00fc\\u00dfe \\u2013 \\u65e5\\u672c \\ud83d\\ude00"}',
		signature: 'aa320de001f9ac6d907b5f99b3674ab882eb4bfbf887cca0ef4d7f5157eeab4b',
	},
	{
		name: 'nested sorting, empty containers, code-point order (U+FFFF before U+1F600), repeated key',
		body: '{"b":{"y":[{"d":1,"c":2}],"x":{}},"a":[],"\\ud83d\\ude00":1,"\\uffff":2,"dup":1,"dup":2}',
		canonical:
			'{"a": [], "b": {"x": {}, "y": [{"c": 2, "d": 1}]}, "dup": 2, "\\uffff": 2, "\\ud83d\\ude00": 1}',
		signature: '43d098cfb81ab6846bd10a4e2d046f8d2c9753bb3557623a6e1a034f0a22bb1a',
	},
	{
		name: 'whitespace around tokens, an overflowing float, exponents',
		body: '  {"event" :  "call.ended" ,\n "data":{"n": 3.14159, "big": 1E400, "neg": -1.5e-7, "int": 100}}  ',
		canonical:
			'{"data": {"big": Infinity, "int": 100, "n": 3.14159, "neg": -1.5e-07}, "event": "call.ended"}',
		signature: '848340efb7bc3d5eb9e4b69bf5ee3084749b2592258f5129d020105321afb5b6',
	},
];

describe("key-sorted signing (Truedy's early backend), opt-in", () => {
	test.each(PYTHON_CASES)('pythonSortedJson matches Python: $name', ({ body, canonical }) => {
		expect(pythonSortedJson(body)).toBe(canonical);
	});

	test.each(PYTHON_CASES)(
		'the signature Python made is accepted only with the option: $name',
		({ body, signature }) => {
			const headers = { 'x-truedy-timestamp': String(NOW_S), 'x-truedy-signature': signature };
			expect(
				verifySignature({
					secrets: SECRET,
					rawBody: body,
					headers,
					nowMs: NOW_MS,
					acceptSortedKeys: true,
				}),
			).toEqual({
				valid: true,
				timestampSeconds: NOW_S,
				signing: 'sortedKeys',
				secretIndex: 0,
			});
			expect(
				verifySignature({
					secrets: SECRET,
					rawBody: Buffer.from(body, 'utf8'),
					headers,
					nowMs: NOW_MS,
					acceptSortedKeys: true,
				}),
			).toMatchObject({ valid: true, signing: 'sortedKeys' });
			const off = verifySignature({ secrets: SECRET, rawBody: body, headers, nowMs: NOW_MS });
			expect(off).toMatchObject({ valid: false, reason: 'signature_mismatch' });
			// The rejection says what to turn on.
			expect(off.valid === false && off.message).toMatch(/Accept Key-Sorted Signing/);
		},
	);

	test('a raw signature still works with the option on, and is reported as raw', () => {
		expect(
			verifySignature({
				secrets: SECRET,
				rawBody: BODY,
				headers: signed(),
				nowMs: NOW_MS,
				acceptSortedKeys: true,
			}),
		).toMatchObject({ valid: true, signing: 'raw' });
	});

	test('key-sorted signing does not open a way around the secret or the body', () => {
		const { body, signature } = PYTHON_CASES[0];
		const headers = { 'x-truedy-timestamp': String(NOW_S), 'x-truedy-signature': signature };
		// Another secret.
		expect(
			verifySignature({
				secrets: 'whsec_other',
				rawBody: body,
				headers,
				nowMs: NOW_MS,
				acceptSortedKeys: true,
			}),
		).toMatchObject({ valid: false, reason: 'signature_mismatch' });
		// A changed value (the sorted text changes too).
		expect(
			verifySignature({
				secrets: SECRET,
				rawBody: body.replace('"c1"', '"c2"'),
				headers,
				nowMs: NOW_MS,
				acceptSortedKeys: true,
			}),
		).toMatchObject({ valid: false, reason: 'signature_mismatch' });
		// Reordering keys or whitespace keeps the sorted text: still the same signed content, accepted.
		expect(
			verifySignature({
				secrets: SECRET,
				rawBody: JSON.stringify(JSON.parse(body), null, 2),
				headers,
				nowMs: NOW_MS,
				acceptSortedKeys: true,
			}),
		).toMatchObject({ valid: true });
		// Stale stays stale.
		expect(
			verifySignature({
				secrets: SECRET,
				rawBody: body,
				headers,
				nowMs: NOW_MS + 3_600_000,
				acceptSortedKeys: true,
			}),
		).toMatchObject({ valid: false, reason: 'timestamp_too_old' });
		// Not JSON: nothing to sort, a mismatch.
		expect(
			verifySignature({
				secrets: SECRET,
				rawBody: 'not json',
				headers,
				nowMs: NOW_MS,
				acceptSortedKeys: true,
			}),
		).toMatchObject({ valid: false, reason: 'signature_mismatch' });
	});

	test('the second secret works for key-sorted signing too', () => {
		const { body, signature } = PYTHON_CASES[0];
		const headers = {
			'x-truedy-timestamp': String(NOW_S),
			'x-truedy-signature': `${'0'.repeat(64)},${signature}`,
		};
		expect(
			verifySignature({
				secrets: ['whsec_other', SECRET],
				rawBody: body,
				headers,
				nowMs: NOW_MS,
				acceptSortedKeys: true,
			}),
		).toMatchObject({ valid: true, signing: 'sortedKeys', secretIndex: 1 });
	});

	test.each([
		'',
		'{',
		'{"a":1,}',
		'[1,]',
		'{"a" 1}',
		'{"a":01}',
		'{"a":.5}',
		'{"a":"\\u12"}',
		'{"a":"raw\u0001control"}',
		'{"a":1} x',
		'NaN',
		"{'a':1}",
		'{"a":tru}',
	])('pythonSortedJson(%p) is undefined (json.loads would raise)', (text) => {
		expect(pythonSortedJson(text)).toBeUndefined();
	});

	test('scalars and deep nesting', () => {
		expect(pythonSortedJson(' 1.5 ')).toBe('1.5');
		expect(pythonSortedJson('"x"')).toBe('"x"');
		expect(pythonSortedJson('[[[[]]]]')).toBe('[[[[]]]]');
		expect(pythonSortedJson('['.repeat(600) + ']'.repeat(600))).toBeUndefined();
	});

	test.each([
		[1, '1.0'],
		[0.1, '0.1'],
		[1e-4, '0.0001'],
		[1e-5, '1e-05'],
		[123456789.123, '123456789.123'],
		[1e15, '1000000000000000.0'],
		[1e16, '1e+16'],
		[1.5e300, '1.5e+300'],
		[-0, '-0.0'],
		[Infinity, 'Infinity'],
		[-Infinity, '-Infinity'],
	])('pythonFloatRepr(%p) = %p (Python repr)', (value, expected) => {
		expect(pythonFloatRepr(value)).toBe(expected);
	});

	test('compareCodePoints orders astral characters after U+FFFF, as Python does', () => {
		expect(['\u{1F600}', '\uFFFF', 'a'].sort(compareCodePoints)).toEqual([
			'a',
			'\uFFFF',
			'\u{1F600}',
		]);
	});

	test("agrees with the simulator's independent serializer on simulator envelopes", () => {
		const envelope = JSON.parse(BODY);
		expect(pythonSortedJson(BODY)).toBe(pythonSortedDumps(envelope));
	});
});
