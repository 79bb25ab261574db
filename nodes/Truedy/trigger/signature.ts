import { createHmac, timingSafeEqual } from 'crypto';

import { isEpochMilliseconds } from '../shared/time';
import { pythonSortedJson } from './pythonJson';

/**
 * Truedy webhook signatures, as documented at https://docs.truedy.ai/guides/securing-webhooks:
 *
 * - `X-Truedy-Timestamp`: the time of sending (Unix seconds).
 * - `X-Truedy-Signature`: hex HMAC-SHA256 of `"{timestamp}.{raw body}"`, keyed with the endpoint's
 *   signing secret exactly as shown in Truedy's dashboard (the `whsec_` prefix is part of the key).
 *
 * Truedy's own backend code has been seen sending `X-Trudy-*` instead, so both spellings are read.
 *
 * A delivery is valid if any signature in the header (several, comma-separated, during a secret
 * rotation) matches the HMAC under any of the credential's secrets (one per endpoint, or old and
 * new). Opt-in: the HMAC over `"{timestamp}.{json.dumps(body, sort_keys=True)}"`, which Truedy's
 * early backend signed while sending the unsorted body (see pythonJson.ts).
 * Pure functions only: no n8n context, no clock unless given.
 */

/** Header names in lookup order: the documented spelling first. */
export const TIMESTAMP_HEADERS = ['x-truedy-timestamp', 'x-trudy-timestamp'] as const;
export const SIGNATURE_HEADERS = ['x-truedy-signature', 'x-trudy-signature'] as const;

export const DEFAULT_TOLERANCE_SECONDS = 300;

export type HeaderBag = Record<string, string | string[] | undefined>;

export type VerificationFailure =
	| 'missing_secret'
	| 'missing_body'
	| 'missing_timestamp'
	| 'missing_signature'
	| 'invalid_timestamp'
	| 'malformed_signature'
	| 'signature_mismatch'
	| 'timestamp_too_old'
	| 'timestamp_in_future';

/** What the matching signature covered: the raw body, or the key-sorted JSON (opt-in). */
export type SigningVariant = 'raw' | 'sortedKeys';

export type VerificationResult =
	| {
			valid: true;
			/** The signed timestamp, as Unix seconds. */
			timestampSeconds: number;
			signing: SigningVariant;
			/** Position (0-based) of the secret that matched, in the credential's list. Never the secret. */
			secretIndex: number;
	  }
	| {
			valid: false;
			reason: VerificationFailure;
			/** Human-readable, safe to log: never contains the secret or a computed signature. */
			message: string;
	  };

export interface VerifyOptions {
	/**
	 * The signing secrets: the credential's text (secrets separated by new lines, spaces or commas,
	 * see {@link parseSecrets}) or a list.
	 */
	secrets: string | readonly string[] | undefined;
	/** The exact request bytes (`req.rawBody`): a Buffer or a string. */
	rawBody: Buffer | string | undefined;
	headers: HeaderBag;
	/** Maximum allowed distance between the signed timestamp and now, in both directions. */
	toleranceSeconds?: number;
	/** Current time in milliseconds (defaults to Date.now()). */
	nowMs?: number;
	/** Also accept signatures over Python's `json.dumps(body, sort_keys=True)` (default false). */
	acceptSortedKeys?: boolean;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Case-insensitive header lookup; a repeated header yields its first value. */
export function getHeader(headers: HeaderBag, name: string): string | undefined {
	const wanted = name.toLowerCase();
	for (const [key, value] of Object.entries(headers ?? {})) {
		if (key.toLowerCase() !== wanted) continue;
		const first = Array.isArray(value) ? value[0] : value;
		if (typeof first === 'string' && first.trim() !== '') return first.trim();
	}
	return undefined;
}

/** The first header present among `names`, in order. */
export function firstHeader(headers: HeaderBag, names: readonly string[]): string | undefined {
	for (const name of names) {
		const value = getHeader(headers, name);
		if (value !== undefined) return value;
	}
	return undefined;
}

/**
 * Parses the timestamp header into Unix seconds. Accepts Unix seconds (integer or decimal),
 * Unix milliseconds (13+ digits) and ISO 8601 dates; returns undefined for anything else.
 */
export function parseTimestamp(value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	const text = value.trim();
	if (text === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(text)) {
		const numeric = Number(text);
		if (!Number.isFinite(numeric)) return undefined;
		return isEpochMilliseconds(numeric) ? numeric / 1000 : numeric;
	}
	if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
	const ms = Date.parse(text);
	return Number.isNaN(ms) ? undefined : ms / 1000;
}

/**
 * The secrets in the credential's text: separated by new lines, spaces or commas (n8n's password
 * field has no new lines), none of which a Truedy secret contains. Duplicates are dropped.
 */
export function parseSecrets(value: string | readonly string[] | undefined): string[] {
	const parts = typeof value === 'string' ? value.split(/[\s,]+/) : [...(value ?? [])];
	const secrets: string[] = [];
	for (const part of parts) {
		const secret = part.trim();
		if (secret !== '' && !secrets.includes(secret)) secrets.push(secret);
	}
	return secrets;
}

/** Hex HMAC-SHA256 of `${timestamp}.${rawBody}` over the exact bytes of the body. */
export function computeSignature(
	secret: string,
	timestamp: string,
	rawBody: Buffer | string,
): string {
	const hmac = createHmac('sha256', secret);
	hmac.update(`${timestamp}.`, 'utf8');
	if (typeof rawBody === 'string') hmac.update(rawBody, 'utf8');
	else hmac.update(rawBody);
	return hmac.digest('hex');
}

/** Constant-time comparison of two hex digests, after a length check. */
export function signaturesMatch(expectedHex: string, providedHex: string): boolean {
	const expected = Buffer.from(expectedHex, 'utf8');
	const provided = Buffer.from(providedHex, 'utf8');
	if (expected.length !== provided.length) return false;
	return timingSafeEqual(expected, provided);
}

/**
 * Candidate signatures from the header: one hex digest, or several separated by commas or
 * spaces (as Ultravox sends during secret rotation). Lower-cased; surrounding space ignored.
 */
export function signatureCandidates(header: string): string[] {
	return header
		.split(/[\s,]+/)
		.map((part) => part.trim().toLowerCase())
		.filter((part) => part !== '');
}

function fail(reason: VerificationFailure, message: string): VerificationResult {
	return { valid: false, reason, message };
}

/**
 * Verifies one delivery. Never throws. The signature is checked before the timestamp window,
 * so a stale but genuine delivery is reported as stale, and a forged one as a mismatch.
 */
export function verifySignature(options: VerifyOptions): VerificationResult {
	const secrets = parseSecrets(options.secrets);
	if (secrets.length === 0) {
		return fail('missing_secret', 'No signing secret is set in the Truedy Webhook credential');
	}
	const { rawBody } = options;
	if (rawBody === undefined || rawBody === null) {
		return fail('missing_body', 'The request has no raw body to verify');
	}

	const timestamp = firstHeader(options.headers, TIMESTAMP_HEADERS);
	if (!timestamp) {
		return fail('missing_timestamp', 'The X-Truedy-Timestamp header is missing');
	}
	const signature = firstHeader(options.headers, SIGNATURE_HEADERS);
	if (!signature) {
		return fail('missing_signature', 'The X-Truedy-Signature header is missing');
	}

	const timestampSeconds = parseTimestamp(timestamp);
	if (timestampSeconds === undefined) {
		return fail(
			'invalid_timestamp',
			'The timestamp header is neither Unix time nor an ISO 8601 date',
		);
	}

	const candidates = signatureCandidates(signature).filter((candidate) =>
		HEX_SHA256.test(candidate),
	);
	if (candidates.length === 0) {
		return fail(
			'malformed_signature',
			'The signature header is not a 64-character hex HMAC-SHA256',
		);
	}

	let match = matchingSecret(secrets, timestamp, rawBody, candidates);
	let signing: SigningVariant = 'raw';
	if (match < 0) {
		const sorted = pythonSortedJson(
			typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'),
		);
		const sortedMatch =
			sorted === undefined ? -1 : matchingSecret(secrets, timestamp, sorted, candidates);
		if (sortedMatch < 0) {
			return fail(
				'signature_mismatch',
				'The signature does not match: the signing secret differs or the body was changed',
			);
		}
		if (!options.acceptSortedKeys) {
			return fail(
				'signature_mismatch',
				'The signature matches the key-sorted JSON of the body, not the body as sent: turn on "Accept Key-Sorted Signing" in the node\'s options to accept such deliveries',
			);
		}
		match = sortedMatch;
		signing = 'sortedKeys';
	}

	const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
	const nowSeconds = (options.nowMs ?? Date.now()) / 1000;
	const age = nowSeconds - timestampSeconds;
	if (age > tolerance) {
		return fail(
			'timestamp_too_old',
			`The delivery was signed ${Math.round(age)} s ago, more than the ${tolerance} s allowed`,
		);
	}
	if (-age > tolerance) {
		return fail(
			'timestamp_in_future',
			`The delivery is dated ${Math.round(-age)} s in the future, more than the ${tolerance} s allowed`,
		);
	}

	return { valid: true, timestampSeconds, signing, secretIndex: match };
}

/**
 * The index of the first secret whose HMAC over `${timestamp}.${signed}` equals one of the
 * candidates, or -1. Every secret is compared with every candidate in constant time, so the time
 * taken does not reveal which one matched.
 */
function matchingSecret(
	secrets: readonly string[],
	timestamp: string,
	signed: Buffer | string,
	candidates: readonly string[],
): number {
	let match = -1;
	secrets.forEach((secret, index) => {
		const expected = computeSignature(secret, timestamp, signed);
		for (const candidate of candidates) {
			if (signaturesMatch(expected, candidate) && match < 0) match = index;
		}
	});
	return match;
}
