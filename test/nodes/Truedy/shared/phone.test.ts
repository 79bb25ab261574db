// shared/phone.ts: phone numbers to E.164, with libphonenumber, before anything is sent.
import { normalizePhoneNumber } from '../../../../nodes/Truedy/shared/phone';

const ok = (e164: string) => ({ ok: true, e164 });
const fail = (reason: string | RegExp) => ({
	ok: false,
	reason: typeof reason === 'string' ? reason : expect.stringMatching(reason),
});

const NOT_INTERNATIONAL =
	'it is not in international format (+ and country code); set Default Country to accept national formats';

describe('normalizePhoneNumber', () => {
	test.each<[unknown, string | undefined, string]>([
		['+14155551234', undefined, '+14155551234'],
		['+1 415 555 1234', undefined, '+14155551234'],
		['+1 (415) 555-1234', undefined, '+14155551234'],
		['+1.415.555.1234', undefined, '+14155551234'],
		['  +14155551234\t', undefined, '+14155551234'],
		['+44 7911 123456', undefined, '+447911123456'],
		['+61 2 9123 4567', undefined, '+61291234567'],
		['+１４１５５５５１２３４', undefined, '+14155551234'], // full-width digits (NFKC)
		['(415) 555-1234', 'US', '+14155551234'],
		['415-555-1234', 'us', '+14155551234'],
		['415.555.1234', ' US ', '+14155551234'],
		['1 415 555 1234', 'US', '+14155551234'],
		['14155551234', 'US', '+14155551234'],
		[4155551234, 'US', '+14155551234'],
		['07911 123456', 'GB', '+447911123456'],
		['0044 7911 123456', 'GB', '+447911123456'],
		['02 9123 4567', 'AU', '+61291234567'],
		['+447911123456', 'US', '+447911123456'], // an international number ignores Default Country
	])('%j with country %j → %s', (input, country, e164) => {
		expect(normalizePhoneNumber(input, country)).toEqual(ok(e164));
	});

	test.each<[unknown, string | undefined, string | RegExp]>([
		['', undefined, 'it is empty'],
		['   ', 'US', 'it is empty'],
		['call me maybe', undefined, 'it is not a phone number'],
		['call me maybe', 'US', 'it is not a phone number'],
		['+1 415 555 CALL', undefined, 'it is not a phone number'],
		['1-800-FLOWERS', 'US', 'it is not a phone number'],
		['tel:+14155551234', undefined, 'it is not a phone number'],
		['+999123456', undefined, 'it is not a phone number'],
		['(415) 555-1234', undefined, NOT_INTERNATIONAL],
		['14155551234', undefined, NOT_INTERNATIONAL],
		[14155551234, undefined, NOT_INTERNATIONAL],
		['+1415', undefined, 'it is not a valid number for its country'],
		['555-1234', 'US', 'it is not a valid number for its country'],
		['+12345678901234567', undefined, 'it is not a valid number for its country'],
		['+14155551234 ext. 12', undefined, 'extensions cannot be dialled'],
		['+14155551234', 'XX', '"XX" is not a supported country code'],
		['(415) 555-1234', 'USA', '"USA" is not a supported country code'],
		[null, undefined, 'expected text but got null'],
		[undefined, undefined, 'expected text but got undefined'],
		[{ phone: '+14155551234' }, undefined, 'expected text but got an object'],
		[['+14155551234'], undefined, 'expected text but got a list'],
		[true, undefined, 'expected text but got boolean'],
		[Number.NaN, undefined, 'expected text but got number'],
	])('%j with country %j is rejected: %s', (input, country, reason) => {
		expect(normalizePhoneNumber(input, country)).toEqual(fail(reason));
	});

	test('every accepted number matches the API pattern ^\\+[1-9]\\d{1,14}$', () => {
		for (const input of [
			'+14155551234',
			'(415) 555-1234',
			'+44 7911 123456',
			'+61 2 9123 4567',
			'+49 30 901820',
			'+81 3-1234-5678',
		]) {
			const result = normalizePhoneNumber(input, 'US');
			if (result.ok) expect(result.e164).toMatch(/^\+[1-9]\d{1,14}$/);
		}
	});
});
