import { isSupportedCountry, parsePhoneNumberFromString } from './vendor/libphonenumber';
import type { CountryCode } from './vendor/libphonenumber';

const E164 = /^\+[1-9]\d{1,14}$/;

export type PhoneResult = { ok: true; e164: string } | { ok: false; reason: string };

/** Turns user input into an E.164 number, or explains why it cannot. */
export function normalizePhoneNumber(input: unknown, defaultCountry?: string): PhoneResult {
	if (typeof input === 'number' && Number.isFinite(input)) input = String(input);
	if (typeof input !== 'string') {
		return { ok: false, reason: `expected text but got ${describeType(input)}` };
	}
	const text = input.normalize('NFKC').trim();
	if (text === '') return { ok: false, reason: 'it is empty' };

	const country = defaultCountry?.trim().toUpperCase() || undefined;
	if (country && !isSupportedCountry(country)) {
		return { ok: false, reason: `"${defaultCountry}" is not a supported country code` };
	}
	const parsed = parsePhoneNumberFromString(text, {
		defaultCountry: country as CountryCode | undefined,
		extract: false,
	});
	if (!parsed) {
		// Only digits and separators without "+" look like a national number missing its country.
		const looksNational = /^[\d\s().-]+$/.test(text);
		return {
			ok: false,
			reason:
				country || !looksNational
					? 'it is not a phone number'
					: 'it is not in international format (+ and country code); set Default Country to accept national formats',
		};
	}
	if (parsed.ext) return { ok: false, reason: 'extensions cannot be dialled' };
	if (!parsed.isValid()) return { ok: false, reason: 'it is not a valid number for its country' };
	// Some countries' metadata accepts longer numbers than E.164 allows (15 digits); Truedy would refuse them.
	if (!E164.test(parsed.number))
		return { ok: false, reason: 'it has more than the 15 digits an international number can have' };
	return { ok: true, e164: parsed.number };
}

function describeType(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'a list';
	return typeof value === 'object' ? 'an object' : typeof value;
}
