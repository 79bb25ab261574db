/* eslint-disable */
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
} from '../../nodes/Truedy/trigger/signature';
import { signWebhook } from '../simulator/webhooks';

const SECRET = 'whsec_test_0123456789abcdef';
const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW_S = NOW_MS / 1000;
const BODY = JSON.stringify({ event: 'call.ended', timestamp: '2026-01-15T12:00:00Z', data: { id: 'uv_evt_1', call: { callId: 'c1' } } });

/** Headers as the documented sender (or the early `Trudy` backend) would send them. */
function signed(opts: {
	body?: string;
	timestamp?: string | number;
	secret?: string;
	spelling?: 'Truedy' | 'Trudy';
	signatureSpelling?: 'Truedy' | 'Trudy';
	signature?: string;
} = {}): HeaderBag {
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
	{ name: 'valid signature (X-Trudy-* spelling)', headers: signed({ spelling: 'Trudy' }), expected: true },
	{ name: 'mixed spellings: Truedy timestamp, Trudy signature', headers: signed({ signatureSpelling: 'Trudy' }), expected: true },
	{ name: 'mixed spellings: Trudy timestamp, Truedy signature', headers: signed({ spelling: 'Trudy', signatureSpelling: 'Truedy' }), expected: true },
	{
		name: 'header names in any case',
		headers: { 'X-TRUEDY-TIMESTAMP': String(NOW_S), 'X-Truedy-Signature': signWebhook(SECRET, NOW_S, BODY) },
		expected: true,
	},
	{ name: 'uppercase hex signature', headers: signed({ signature: signWebhook(SECRET, NOW_S, BODY).toUpperCase() }), expected: true },
	{ name: 'signature with surrounding spaces', headers: signed({ signature: `  ${signWebhook(SECRET, NOW_S, BODY)} ` }), expected: true },
	{
		name: 'several signatures (rotation), one valid',
		headers: signed({ signature: `${'0'.repeat(64)},${signWebhook(SECRET, NOW_S, BODY)}` }),
		expected: true,
	},
	{ name: 'raw body as Buffer', headers: signed(), rawBody: Buffer.from(BODY, 'utf8'), expected: true },
	{
		name: 'non-ASCII body as Buffer (exact bytes)',
		headers: signed({ body: '{"event":"call.ended","data":{"summary":"Grüße – 日本"}}' }),
		rawBody: Buffer.from('{"event":"call.ended","data":{"summary":"Grüße – 日本"}}', 'utf8'),
		expected: true,
	},
	{ name: 'secret pasted with a trailing newline', headers: signed(), secret: `${SECRET}\n`, expected: true },
	{ name: 'timestamp in milliseconds', headers: signed({ timestamp: NOW_MS }), expected: true },
	{ name: 'timestamp as ISO 8601', headers: signed({ timestamp: iso(NOW_S - 10) }), expected: true },
	{ name: 'timestamp 299 s old (inside 300 s)', headers: signed({ timestamp: NOW_S - 299 }), expected: true },
	{ name: 'timestamp 299 s ahead (inside 300 s)', headers: signed({ timestamp: NOW_S + 299 }), expected: true },
	{ name: 'custom tolerance allows 20 min', headers: signed({ timestamp: NOW_S - 1200 }), tolerance: 1800, expected: true },

	{ name: 'wrong secret', headers: signed({ secret: 'whsec_other' }), expected: 'signature_mismatch' },
	{ name: 'secret without its whsec_ prefix', headers: signed(), secret: SECRET.replace(/^whsec_/, ''), expected: 'signature_mismatch' },
	{ name: 'tampered body', headers: signed(), rawBody: BODY.replace('c1', 'c2'), expected: 'signature_mismatch' },
	{ name: 'body re-serialised (whitespace added)', headers: signed(), rawBody: JSON.stringify(JSON.parse(BODY), null, 2), expected: 'signature_mismatch' },
	{ name: 'signature over another timestamp', headers: { ...signed(), 'x-truedy-timestamp': String(NOW_S - 1) }, expected: 'signature_mismatch' },
	{ name: 'missing signature header', headers: { 'x-truedy-timestamp': String(NOW_S) }, expected: 'missing_signature' },
	{ name: 'missing timestamp header', headers: { 'x-truedy-signature': signWebhook(SECRET, NOW_S, BODY) }, expected: 'missing_timestamp' },
	{ name: 'no headers at all', headers: {}, expected: 'missing_timestamp' },
	{ name: 'empty header values', headers: { 'x-truedy-timestamp': '', 'x-truedy-signature': '' }, expected: 'missing_timestamp' },
	{ name: 'wrong-length signature (63 hex chars)', headers: signed({ signature: signWebhook(SECRET, NOW_S, BODY).slice(1) }), expected: 'malformed_signature' },
	{ name: 'wrong-length signature (SHA-1 size)', headers: signed({ signature: 'a'.repeat(40) }), expected: 'malformed_signature' },
	{ name: 'signature with a scheme prefix', headers: signed({ signature: `v1=${signWebhook(SECRET, NOW_S, BODY)}` }), expected: 'malformed_signature' },
	{ name: 'signature in base64', headers: signed({ signature: createHmac('sha256', SECRET).update(`${NOW_S}.${BODY}`).digest('base64') }), expected: 'malformed_signature' },
	{ name: 'stale timestamp (301 s old)', headers: signed({ timestamp: NOW_S - 301 }), expected: 'timestamp_too_old' },
	{ name: 'stale timestamp (1 day old)', headers: signed({ timestamp: NOW_S - 86400 }), expected: 'timestamp_too_old' },
	{ name: 'future timestamp (301 s ahead)', headers: signed({ timestamp: NOW_S + 301 }), expected: 'timestamp_in_future' },
	{ name: 'stale timestamp in milliseconds', headers: signed({ timestamp: NOW_MS - 600_000 }), expected: 'timestamp_too_old' },
	{ name: 'stale ISO timestamp', headers: signed({ timestamp: iso(NOW_S - 600) }), expected: 'timestamp_too_old' },
	{ name: 'future ISO timestamp', headers: signed({ timestamp: iso(NOW_S + 600) }), expected: 'timestamp_in_future' },
	{ name: 'garbage timestamp', headers: signed({ timestamp: 'yesterday' }), expected: 'invalid_timestamp' },
	{ name: 'negative timestamp', headers: signed({ timestamp: '-5' }), expected: 'invalid_timestamp' },
	{ name: 'empty secret', headers: signed(), secret: '', expected: 'missing_secret' },
	{ name: 'whitespace-only secret', headers: signed(), secret: '   ', expected: 'missing_secret' },
	{ name: 'signature computed with an empty secret is still refused', headers: signed({ secret: '' }), secret: '', expected: 'missing_secret' },
	{ name: 'missing raw body', headers: signed(), noBody: true, expected: 'missing_body' },
];

describe('verifySignature', () => {
	test.each(cases)('$name', ({ headers, rawBody, noBody, secret, tolerance, expected }) => {
		const result = verifySignature({
			secret: secret ?? SECRET,
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
		expect(verifySignature({ secret: SECRET, rawBody: BODY, headers: signed({ spelling: 'Trudy' }), nowMs: NOW_MS })).toEqual({
			valid: true,
			timestampSeconds: NOW_S,
		});
	});

	test('prefers X-Truedy-* when both spellings are present', () => {
		// The X-Trudy-* pair is signed with another secret: only reading X-Truedy-* first verifies.
		const headers = { ...signed({ spelling: 'Trudy', secret: 'whsec_other' }), ...signed() };
		expect(verifySignature({ secret: SECRET, rawBody: BODY, headers, nowMs: NOW_MS })).toEqual({ valid: true, timestampSeconds: NOW_S });
	});

	test('failure messages never contain the secret or the expected signature', () => {
		const expectedSignature = signWebhook(SECRET, NOW_S, BODY);
		for (const c of cases.filter((c) => c.expected !== true)) {
			const result = verifySignature({ secret: c.secret ?? SECRET, rawBody: BODY, headers: c.headers, nowMs: NOW_MS });
			const text = JSON.stringify(result);
			expect(text).not.toContain(SECRET);
			expect(text).not.toContain(expectedSignature);
		}
	});

	test('never throws on odd input', () => {
		expect(() => verifySignature({ secret: SECRET, rawBody: BODY, headers: { 'x-truedy-timestamp': ['1', '2'], 'x-truedy-signature': undefined }, nowMs: NOW_MS })).not.toThrow();
		expect(() => verifySignature({ secret: undefined, rawBody: undefined, headers: undefined as any })).not.toThrow();
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
		expect(computeSignature(SECRET, '123', Buffer.from(BODY))).toBe(signWebhook(SECRET, '123', BODY));
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
