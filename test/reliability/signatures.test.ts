// Suite 3 — signature attacks on the Truedy Trigger (docs/reliability.md).
// Every attack is a real HTTP request to the trigger's production webhook, served through
// n8n-core's WebhookContext (test/support/webhook-engine.ts). Each must get 401 and start no
// execution. Genuine deliveries are sent alongside as controls, so "0 accepted" means something.
import { createHmac } from 'crypto';
import fc from 'fast-check';

import { pythonSortedDumps } from '../simulator/pyjson';
import { startTriggerHarness, type TriggerHarness } from '../support/webhook-engine';
import {
	CANARY_SIGNING_SECRET,
	captureLogs,
	LeakScanner,
	SOAK,
	writeSuiteResults,
	type LogCapture,
} from './support';

const PER_CATEGORY = SOAK ? 500 : 60;
const SEED = 424242;
const TOLERANCE = 300;

/** The second endpoint's secret (Test URL), in the same credential as the canary. */
const SECOND_SIGNING_SECRET = 'whsec_SECONDs3cr3tQa7Ws2Ed4Rf6Tg8Yh0Uj2Ik4Ol';
let harness: TriggerHarness;
let emptySecretHarness: TriggerHarness;
/** Credential with two secrets (one per line), key-sorted signing off. */
let twoSecretHarness: TriggerHarness;
/** The same credential with Accept Key-Sorted Signing on. */
let sortedHarness: TriggerHarness;
let logs: LogCapture;
const scanner = new LeakScanner();
const categories: Array<{
	name: string;
	tried: number;
	rejected401: number;
	accepted: number;
	executions: number;
	reasons: Record<string, number>;
}> = [];
const controls: Array<{ name: string; tried: number; accepted: number }> = [];

const sign = (secret: string, timestamp: string, body: string | Buffer) =>
	createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
const nowSeconds = () => Math.floor(Date.now() / 1000);

let eventSeq = 0;
/** A genuine call.ended body with a unique event id (so dedupe never hides an acceptance). */
function body(extra: Record<string, unknown> = {}): string {
	eventSeq++;
	return JSON.stringify({
		event: 'call.ended',
		timestamp: new Date().toISOString(),
		data: {
			id: `evt_sig_${eventSeq}`,
			call: { callId: `call_sig_${eventSeq}`, endReason: 'hangup', summary: 'ok', ...extra },
		},
	});
}

interface Attempt {
	headers: Record<string, string | string[]>;
	body: string | Buffer;
	/** Default application/json. */
	contentType?: string;
}

async function send(
	target: TriggerHarness,
	attempt: Attempt,
): Promise<{ status: number; text: string }> {
	const headers = new Headers();
	headers.set('Content-Type', attempt.contentType ?? 'application/json');
	for (const [name, value] of Object.entries(attempt.headers)) {
		for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
	}
	const response = await fetch(target.url, {
		method: 'POST',
		headers,
		body: attempt.body as unknown as BodyInit,
	});
	const text = await response.text();
	scanner.scan('trigger answer', text);
	return { status: response.status, text };
}

/** Sends every attack, counts answers and executions started by them. */
async function attack(name: string, attempts: Attempt[], target: TriggerHarness = harness) {
	const executionsBefore = target.executions.length;
	const requestsBefore = target.requests.length;
	const reasons: Record<string, number> = {};
	let rejected401 = 0;
	let accepted = 0;
	for (const attempt of attempts) {
		const { status, text } = await send(target, attempt);
		if (status === 401) rejected401++;
		else accepted++;
		try {
			const reason = JSON.parse(text)?.error?.reason ?? `status ${status}`;
			reasons[reason] = (reasons[reason] ?? 0) + 1;
		} catch {
			reasons[`status ${status}`] = (reasons[`status ${status}`] ?? 0) + 1;
		}
	}
	await target.idle();
	const started = target.requests
		.slice(requestsBefore)
		.filter((r) => r.outcome === 'started').length;
	const executions = target.executions.length - executionsBefore;
	const row = { name, tried: attempts.length, rejected401, accepted, executions, reasons };
	categories.push(row);
	expect({ name, accepted, started, executions }).toEqual({
		name,
		accepted: 0,
		started: 0,
		executions: 0,
	});
	expect(rejected401).toBe(attempts.length);
	return row;
}

async function control(name: string, attempts: Attempt[], target: TriggerHarness = harness) {
	const before = target.executions.length;
	let ok = 0;
	for (const attempt of attempts) if ((await send(target, attempt)).status === 204) ok++;
	await target.waitForExecutions(before + attempts.length);
	controls.push({ name, tried: attempts.length, accepted: target.executions.length - before });
	expect(ok).toBe(attempts.length);
}

const genuine = (raw: string, timestamp = String(nowSeconds()), spelling = 'Truedy'): Attempt => ({
	headers: {
		[`X-${spelling}-Timestamp`]: timestamp,
		[`X-${spelling}-Signature`]: sign(CANARY_SIGNING_SECRET, timestamp, raw),
	},
	body: raw,
});

const sample = <T>(arb: fc.Arbitrary<T>, offset: number) =>
	fc.sample(arb, { numRuns: PER_CATEGORY, seed: SEED + offset });
const hex = (min: number, max: number) =>
	fc.stringMatching(new RegExp(`^[0-9a-f]{${min},${max}}$`));

beforeAll(async () => {
	logs = captureLogs();
	harness = await startTriggerHarness({
		parameters: { events: ['call.ended'] },
		credentials: { truedyWebhookApi: { signingSecret: CANARY_SIGNING_SECRET } },
	});
	emptySecretHarness = await startTriggerHarness({
		parameters: { events: ['call.ended'] },
		credentials: { truedyWebhookApi: { signingSecret: '' } },
	});
	const twoSecrets = {
		truedyWebhookApi: { signingSecret: `${CANARY_SIGNING_SECRET}\n${SECOND_SIGNING_SECRET}` },
	};
	twoSecretHarness = await startTriggerHarness({
		parameters: { events: ['call.ended'] },
		credentials: twoSecrets,
	});
	sortedHarness = await startTriggerHarness({
		parameters: { events: ['call.ended'], options: { acceptSortedKeys: true } },
		credentials: twoSecrets,
	});
});

afterAll(async () => {
	await harness.close();
	await emptySecretHarness.close();
	await twoSecretHarness.close();
	await sortedHarness.close();
	for (const e of [
		...harness.executions,
		...emptySecretHarness.executions,
		...twoSecretHarness.executions,
		...sortedHarness.executions,
	])
		scanner.scan('execution', e.run);
	scanner.scanLogs(logs);
	const rejectionLogs = logs.grep('Truedy Trigger rejected a delivery with 401').length;
	logs.restore();
	const attacks = categories.reduce((n, c) => n + c.tried, 0);
	writeSuiteResults('signatures', {
		perCategory: PER_CATEGORY,
		categories,
		controls,
		totals: {
			attacks,
			rejected401: categories.reduce((n, c) => n + c.rejected401, 0),
			accepted: categories.reduce((n, c) => n + c.accepted, 0),
			executionsFromAttacks: categories.reduce((n, c) => n + c.executions, 0),
			genuineAccepted: controls.reduce((n, c) => n + c.accepted, 0),
			rejectionLogLines: rejectionLogs,
		},
		secretScan: scanner.summary(),
	});
	expect(scanner.hits).toEqual([]);
	// Every rejection is logged (without the secret).
	expect(rejectionLogs).toBe(attacks);
});

test('control: genuine deliveries are accepted (both spellings, ISO and ms timestamps, rotation lists)', async () => {
	const b = () => body();
	await control('genuine deliveries', [
		...Array.from({ length: 20 }, () => genuine(b())),
		...Array.from({ length: 5 }, () => genuine(b(), String(nowSeconds()), 'Trudy')),
		...Array.from({ length: 5 }, () => {
			const raw = b();
			const ts = String(Date.now());
			return {
				headers: {
					'X-Truedy-Timestamp': ts,
					'X-Truedy-Signature': sign(CANARY_SIGNING_SECRET, ts, raw),
				},
				body: raw,
			};
		}),
		...Array.from({ length: 5 }, () => {
			const raw = b();
			const ts = new Date().toISOString();
			return {
				headers: {
					'x-truedy-timestamp': ts,
					'X-TRUEDY-SIGNATURE': sign(CANARY_SIGNING_SECRET, ts, raw).toUpperCase(),
				},
				body: raw,
			};
		}),
		...Array.from({ length: 5 }, () => {
			const raw = b();
			const ts = String(nowSeconds());
			return {
				headers: {
					'X-Truedy-Timestamp': ts,
					'X-Truedy-Signature': `${'0'.repeat(64)}, ${sign(CANARY_SIGNING_SECRET, ts, raw)}`,
				},
				body: raw,
			};
		}),
		...Array.from({ length: 5 }, () => {
			const raw = b();
			const ts = String(nowSeconds());
			return {
				headers: {
					'X-Truedy-Timestamp': ts,
					'X-Trudy-Signature': sign(CANARY_SIGNING_SECRET, ts, raw),
				},
				body: raw,
			};
		}),
	]);
});

test('forged signatures: random hex, other secrets, empty-key HMAC, the secret itself', async () => {
	const wrongSecrets = sample(
		fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim() !== CANARY_SIGNING_SECRET),
		1,
	);
	const randomHex = sample(hex(64, 64), 2);
	const attempts: Attempt[] = [];
	wrongSecrets.forEach((secret, i) => {
		const raw = body();
		const ts = String(nowSeconds());
		const variants = [
			sign(secret, ts, raw), // signed with another secret
			randomHex[i], // made up
			sign('', ts, raw), // HMAC with an empty key
			sign(CANARY_SIGNING_SECRET.replace('whsec_', ''), ts, raw), // secret without its prefix
			sign(CANARY_SIGNING_SECRET, ts, ''), // right secret, signature of an empty body
			createHmac('sha256', CANARY_SIGNING_SECRET).update(raw).digest('hex'), // body only, no timestamp
			createHmac('sha1', CANARY_SIGNING_SECRET)
				.update(`${ts}.${raw}`)
				.digest('hex')
				.padEnd(64, '0'), // wrong algorithm
		];
		attempts.push({
			headers: { 'X-Truedy-Timestamp': ts, 'X-Truedy-Signature': variants[i % variants.length] },
			body: raw,
		});
	});
	await attack('forged signature', attempts);
});

test('right signature, tampered body', async () => {
	const tamper = fc.tuple(
		fc.nat(),
		fc.constantFrom(
			'flip',
			'append',
			'prepend',
			'reencode',
			'field',
			'truncate',
			'whitespace',
			'bom',
		),
	);
	const attempts = sample(tamper, 3).map(([n, how]) => {
		const raw = body();
		const ts = String(nowSeconds());
		const signature = sign(CANARY_SIGNING_SECRET, ts, raw);
		let sent: string | Buffer = raw;
		// Tampered bodies stay valid JSON, so the trigger itself has to catch them (n8n's body
		// parser would answer 400 to broken JSON before the trigger runs).
		const letters = [...raw.matchAll(/[A-Za-z0-9]/g)].map((m) => m.index!);
		const at = letters[n % letters.length];
		if (how === 'flip')
			sent = raw.slice(0, at) + String.fromCharCode(raw.charCodeAt(at) ^ 1) + raw.slice(at + 1);
		if (how === 'append') sent = raw + ' ';
		if (how === 'prepend') sent = '\n' + raw;
		if (how === 'reencode') sent = JSON.stringify(JSON.parse(raw), null, 1);
		if (how === 'field') sent = raw.replace('"summary":"ok"', '"summary":"ok!"');
		if (how === 'truncate') sent = raw.replace('"summary":"ok"', '"summary":"o"');
		if (how === 'whitespace') sent = raw.replace(':', ': ');
		if (how === 'bom') sent = '\ufeff' + raw;
		expect(sent).not.toEqual(raw);
		// A BOM is not JSON to n8n's parser: send it as text so it reaches the trigger.
		return {
			headers: { 'X-Truedy-Timestamp': ts, 'X-Truedy-Signature': signature },
			body: sent,
			contentType: how === 'bom' ? 'text/plain' : undefined,
		};
	});
	await attack('tampered body', attempts);
});

test(`replay of a valid delivery signed more than ${TOLERANCE} s ago`, async () => {
	const ages = sample(
		fc.oneof(
			fc.integer({ min: TOLERANCE + 2, max: 3600 }),
			fc.integer({ min: 3600, max: 10 * 365 * 86400 }),
		),
		4,
	);
	const attempts = ages.map((age, i) => {
		const raw = body();
		const seconds = nowSeconds() - age;
		// Unix seconds, milliseconds and ISO dates are all understood, so all are replayable in form.
		const ts =
			i % 3 === 0
				? String(seconds)
				: i % 3 === 1
					? String(seconds * 1000)
					: new Date(seconds * 1000).toISOString();
		return genuine(raw, ts);
	});
	await attack('replay outside the tolerance', attempts);
});

test('future timestamps', async () => {
	const ahead = sample(
		fc.oneof(
			fc.integer({ min: TOLERANCE + 2, max: 3600 }),
			fc.integer({ min: 3600, max: 100 * 365 * 86400 }),
		),
		5,
	);
	const attempts = ahead.map((s, i) => {
		const raw = body();
		const seconds = nowSeconds() + s;
		const ts = i % 2 === 0 ? String(seconds) : new Date(seconds * 1000).toISOString();
		return genuine(raw, ts);
	});
	await attack('future timestamp', attempts);
});

test('mixed header spellings: a pair that does not belong together', async () => {
	const kinds = sample(fc.integer({ min: 0, max: 5 }), 6);
	const attempts = kinds.map((k): Attempt => {
		const raw = body();
		const fresh = String(nowSeconds());
		const old = String(nowSeconds() - 3600);
		const oldSig = sign(CANARY_SIGNING_SECRET, old, raw);
		const forged = sign('attacker', fresh, raw);
		switch (k) {
			// An old genuine pair under X-Trudy-*, a fresh timestamp under X-Truedy-* (read first).
			case 0:
				return {
					headers: {
						'X-Truedy-Timestamp': fresh,
						'X-Trudy-Timestamp': old,
						'X-Trudy-Signature': oldSig,
					},
					body: raw,
				};
			// A forged signature under the documented spelling, a genuine old one under the other.
			case 1:
				return {
					headers: {
						'X-Truedy-Timestamp': old,
						'X-Truedy-Signature': forged,
						'X-Trudy-Timestamp': old,
						'X-Trudy-Signature': oldSig,
					},
					body: raw,
				};
			// The old pair with the fresh timestamp repeated in front.
			case 2:
				return {
					headers: { 'X-Truedy-Timestamp': [fresh, old], 'X-Truedy-Signature': oldSig },
					body: raw,
				};
			// Signature present only under a misspelling the trigger does not read.
			case 3:
				return {
					headers: {
						'X-Truedy-Timestamp': fresh,
						'X-Truedy-Signatures': sign(CANARY_SIGNING_SECRET, fresh, raw),
					},
					body: raw,
				};
			// Timestamp only under a misspelling.
			case 4:
				return {
					headers: {
						'X-Truedy-Time': fresh,
						'X-Truedy-Signature': sign(CANARY_SIGNING_SECRET, fresh, raw),
					},
					body: raw,
				};
			// A forged signature repeated in front of the genuine old one.
			default:
				return {
					headers: { 'X-Truedy-Timestamp': old, 'X-Truedy-Signature': [forged, oldSig] },
					body: raw,
				};
		}
	});
	await attack('mixed header spellings', attempts);
});

test('wrong-length and malformed signatures', async () => {
	const shapes = sample(
		fc.oneof(
			hex(1, 63),
			hex(65, 200),
			fc.string({ maxLength: 80 }),
			fc.stringMatching(/^[0-9a-f]{63}[g-z]$/),
			fc.constantFrom('', ' ', 'sha256=', 'v1,', '0x' + 'a'.repeat(62)),
		),
		7,
	);
	const attempts = shapes.map((shape, i) => {
		const raw = body();
		const ts = String(nowSeconds());
		const real = sign(CANARY_SIGNING_SECRET, ts, raw);
		// Also: the real signature cut short or lengthened, and prefixed like other providers do.
		const variants = [
			shape,
			real.slice(0, 63),
			real + '0',
			real.slice(0, 32),
			`sha256=${real}`,
			`v1=${real}`,
			real + real,
		];
		return {
			headers: { 'X-Truedy-Timestamp': ts, 'X-Truedy-Signature': variants[i % variants.length] },
			body: raw,
		};
	});
	// Header values must be valid HTTP: drop the rare generated control characters.
	for (const a of attempts)
		a.headers['X-Truedy-Signature'] = String(a.headers['X-Truedy-Signature']).replace(
			/[^\x20-\x7e]/g,
			'',
		);
	await attack('wrong-length or malformed signature', attempts);
});

test('empty signing secret in the credential: nothing is accepted, whatever is sent', async () => {
	const attempts = sample(fc.integer({ min: 0, max: 3 }), 8).map((k) => {
		const raw = body();
		const ts = String(nowSeconds());
		const signature = [
			sign('', ts, raw),
			sign(' ', ts, raw),
			sign(CANARY_SIGNING_SECRET, ts, raw),
			'0'.repeat(64),
		][k];
		return { headers: { 'X-Truedy-Timestamp': ts, 'X-Truedy-Signature': signature }, body: raw };
	});
	const row = await attack('empty signing secret', attempts, emptySecretHarness);
	expect(row.reasons).toEqual({ missing_secret: attempts.length });
});

test('unicode bodies: signed over one encoding or normalisation, sent in another', async () => {
	const text = sample(
		fc
			.string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
			.filter((s) => s.normalize('NFD') !== s.normalize('NFC') || /[^\x00-\x7f]/.test(s)),
		9,
	);
	const attempts = text.map((t, i) => {
		const summary = `Café ${t} ✓`;
		const raw = body({ summary });
		const ts = String(nowSeconds());
		const kind = i % 4;
		if (kind === 0) {
			// Signed over NFC, sent as NFD.
			const nfc = raw.normalize('NFC');
			return {
				headers: {
					'X-Truedy-Timestamp': ts,
					'X-Truedy-Signature': sign(CANARY_SIGNING_SECRET, ts, nfc),
				},
				body: Buffer.from(nfc.normalize('NFD'), 'utf8'),
			};
		}
		if (kind === 1) {
			// Signed over latin1 bytes, sent as UTF-8.
			return {
				headers: {
					'X-Truedy-Timestamp': ts,
					'X-Truedy-Signature': sign(CANARY_SIGNING_SECRET, ts, Buffer.from(raw, 'latin1')),
				},
				body: Buffer.from(raw, 'utf8'),
			};
		}
		if (kind === 2) {
			// Signed over the \u-escaped form, sent raw.
			const escaped = raw.replace(
				/[^\x00-\x7f]/g,
				(c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
			);
			if (escaped === raw)
				return {
					headers: {
						'X-Truedy-Timestamp': ts,
						'X-Truedy-Signature': sign(CANARY_SIGNING_SECRET, ts, raw + ' '),
					},
					body: raw,
				};
			return {
				headers: {
					'X-Truedy-Timestamp': ts,
					'X-Truedy-Signature': sign(CANARY_SIGNING_SECRET, ts, escaped),
				},
				body: raw,
			};
		}
		// Signed correctly, then one character of the text swapped for a look-alike.
		const swapped = raw.replace('Café', 'Cafe\u0301');
		return {
			headers: {
				'X-Truedy-Timestamp': ts,
				'X-Truedy-Signature': sign(CANARY_SIGNING_SECRET, ts, raw),
			},
			body: Buffer.from(swapped, 'utf8'),
		};
	});
	await attack('unicode body, other encoding', attempts);
});

test('missing headers', async () => {
	const attempts = sample(fc.integer({ min: 0, max: 2 }), 10).map((k) => {
		const raw = body();
		const ts = String(nowSeconds());
		const sig = sign(CANARY_SIGNING_SECRET, ts, raw);
		const headers = [{ 'X-Truedy-Timestamp': ts }, { 'X-Truedy-Signature': sig }, {}][k] as Record<
			string,
			string
		>;
		return { headers, body: raw };
	});
	await attack('missing headers', attempts);
});

test('control: a replay inside the tolerance is accepted once, then dropped as a duplicate', async () => {
	const raw = body();
	const delivery = genuine(raw);
	const before = harness.executions.length;
	expect((await send(harness, delivery)).status).toBe(204);
	const again = await Promise.all(Array.from({ length: 5 }, () => send(harness, delivery)));
	await harness.idle();
	expect(again.map((a) => a.status)).toEqual([204, 204, 204, 204, 204]);
	expect(harness.executions.length - before).toBe(1);
	controls.push({
		name: 'same genuine delivery sent 6 times inside the tolerance (executions)',
		tried: 6,
		accepted: harness.executions.length - before,
	});
});

/** `${timestamp}.${json.dumps(body, sort_keys=True)}`, as Truedy's early backend signed (simulator's own serializer). */
const signSorted = (secret: string, timestamp: string, raw: string) =>
	sign(secret, timestamp, pythonSortedDumps(JSON.parse(raw)));

test('control: two secrets in one credential (one per endpoint) and rotation lists: either secret is accepted', async () => {
	const withSecret = (secret: string, header = (signature: string) => signature): Attempt => {
		const raw = body();
		const ts = String(nowSeconds());
		return {
			headers: { 'X-Truedy-Timestamp': ts, 'X-Truedy-Signature': header(sign(secret, ts, raw)) },
			body: raw,
		};
	};
	const stranger = 'whsec_NOTinTHEcredential0000000000';
	await control(
		'two secrets in the credential, rotation lists',
		[
			...Array.from({ length: 10 }, () => withSecret(CANARY_SIGNING_SECRET)),
			...Array.from({ length: 10 }, () => withSecret(SECOND_SIGNING_SECRET)),
			// Ultravox-style rotation: the old secret (not in the credential) and the new one, comma-separated.
			...Array.from({ length: 5 }, () => {
				const raw = body();
				const ts = String(nowSeconds());
				return {
					headers: {
						'X-Truedy-Timestamp': ts,
						'X-Truedy-Signature': `${sign(stranger, ts, raw)},${sign(SECOND_SIGNING_SECRET, ts, raw)}`,
					},
					body: raw,
				};
			}),
		],
		twoSecretHarness,
	);
});

test('two secrets in the credential: keys made from them together, or near them, are refused', async () => {
	const both = [CANARY_SIGNING_SECRET, SECOND_SIGNING_SECRET];
	const keys = [
		`${both[0]}\n${both[1]}`, // the credential text as one key
		`${both[0]} ${both[1]}`,
		`${both[0]},${both[1]}`,
		both[0] + both[1],
		both[1] + both[0],
		'', // what an empty part between separators would give
		both[1].slice(0, -1),
		`${both[1]} `,
	];
	const attempts = sample(fc.integer({ min: 0, max: keys.length - 1 }), 11).map((k) => {
		const raw = body();
		const ts = String(nowSeconds());
		return {
			headers: { 'X-Truedy-Timestamp': ts, 'X-Truedy-Signature': sign(keys[k], ts, raw) },
			body: raw,
		};
	});
	await attack('two secrets: combined or near-miss keys', attempts, twoSecretHarness);
});

test('key-sorted signing with the option off is refused, and the reason says what to turn on', async () => {
	const attempts = sample(fc.integer({ min: 0, max: 1 }), 12).map((k) => {
		const raw = body();
		const ts = String(nowSeconds());
		return {
			headers: { 'X-Truedy-Timestamp': ts, 'X-Truedy-Signature': signSorted(both(k), ts, raw) },
			body: raw,
		};
	});
	const row = await attack('key-sorted signing, option off', attempts, twoSecretHarness);
	expect(row.reasons).toEqual({ signature_mismatch: attempts.length });
	const raw = body();
	const ts = String(nowSeconds());
	const answer = await send(twoSecretHarness, {
		headers: {
			'X-Truedy-Timestamp': ts,
			'X-Truedy-Signature': signSorted(CANARY_SIGNING_SECRET, ts, raw),
		},
		body: raw,
	});
	expect(JSON.parse(answer.text).error.message).toMatch(/Accept Key-Sorted Signing/);
	categories[categories.length - 1].tried++;
	categories[categories.length - 1].rejected401++;
});

const both = (k: number) => (k === 0 ? CANARY_SIGNING_SECRET : SECOND_SIGNING_SECRET);

test('control: with Accept Key-Sorted Signing on, key-sorted and raw signatures are accepted', async () => {
	const sorted = (secret: string, extra: Record<string, unknown> = {}): Attempt => {
		const raw = body(extra);
		const ts = String(nowSeconds());
		return {
			headers: { 'X-Truedy-Timestamp': ts, 'X-Truedy-Signature': signSorted(secret, ts, raw) },
			body: raw,
		};
	};
	await control(
		'key-sorted signing accepted with the option on',
		[
			...Array.from({ length: 10 }, () => sorted(CANARY_SIGNING_SECRET)),
			...Array.from({ length: 5 }, () =>
				sorted(SECOND_SIGNING_SECRET, { summary: 'Grüße – 日本 😀', score: 1.5, big: 1e16 }),
			),
			...Array.from({ length: 5 }, () => genuine(body())),
		],
		sortedHarness,
	);
});

test('with Accept Key-Sorted Signing on: other secrets, tampered values, stale or future timestamps are still refused', async () => {
	const attempts = sample(fc.integer({ min: 0, max: 4 }), 13).map((k): Attempt => {
		const raw = body();
		const ts = String(nowSeconds());
		switch (k) {
			case 0:
				return {
					headers: {
						'X-Truedy-Timestamp': ts,
						'X-Truedy-Signature': signSorted('whsec_attacker', ts, raw),
					},
					body: raw,
				};
			case 1: // a value changed after signing (the sorted text changes with it)
				return {
					headers: {
						'X-Truedy-Timestamp': ts,
						'X-Truedy-Signature': signSorted(CANARY_SIGNING_SECRET, ts, raw),
					},
					body: raw.replace('"summary":"ok"', '"summary":"OK"'),
				};
			case 2: {
				const old = String(nowSeconds() - 3600);
				return {
					headers: {
						'X-Truedy-Timestamp': old,
						'X-Truedy-Signature': signSorted(CANARY_SIGNING_SECRET, old, raw),
					},
					body: raw,
				};
			}
			case 3: {
				const ahead = String(nowSeconds() + 3600);
				return {
					headers: {
						'X-Truedy-Timestamp': ahead,
						'X-Truedy-Signature': signSorted(SECOND_SIGNING_SECRET, ahead, raw),
					},
					body: raw,
				};
			}
			default: // sorted JSON signed with compact separators (not what Python writes)
				return {
					headers: {
						'X-Truedy-Timestamp': ts,
						'X-Truedy-Signature': sign(
							CANARY_SIGNING_SECRET,
							ts,
							JSON.stringify(JSON.parse(pythonSortedDumps(JSON.parse(raw)))),
						),
					},
					body: raw,
				};
		}
	});
	await attack('key-sorted signing on: forged, tampered, stale', attempts, sortedHarness);
});
