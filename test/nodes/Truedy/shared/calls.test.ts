// shared/calls.ts: the one status vocabulary and the number naming behind Get, Get Many and
// Wait for Call to End.
import {
	isTerminalStatus,
	normalizeCall,
	normalizeCallStatus,
} from '../../../../nodes/Truedy/shared/calls';

describe('call status', () => {
	test.each([
		['queued', 'queued', false],
		['created', 'queued', false],
		['ringing', 'ringing', false],
		['in-progress', 'in-progress', false],
		['in_progress', 'in-progress', false],
		['In_Progress', 'in-progress', false],
		['ended', 'ended', true],
		['completed', 'ended', true],
		['failed', 'failed', true],
		['cancelled', 'cancelled', true],
		['canceled', 'cancelled', true],
		[' Completed ', 'ended', true],
		['voicemail', 'voicemail', false],
	])('%p → %p (terminal: %p)', (status, canonical, terminal) => {
		expect(normalizeCallStatus(status)).toBe(canonical);
		expect(isTerminalStatus(status)).toBe(terminal);
	});

	test.each([[undefined], [null], [''], [42]])('%p is no status and not terminal', (status) => {
		expect(normalizeCallStatus(status)).toBeUndefined();
		expect(isTerminalStatus(status)).toBe(false);
	});
});

describe('normalizeCall', () => {
	test.each([
		[{ phone_number: '+1', from_number: '+2' }, '+1', '+2'],
		[{ to: '+1', from: '+2' }, '+1', '+2'],
		[{ to_number: '+1', from_number: '+2' }, '+1', '+2'],
		[{ phone_number: '+1', to: '+9', from_number: '+2', from: '+8' }, '+1', '+2'],
		[{ to_number: '', to: '+1', from: '+2' }, '+1', '+2'],
	])('%j → phone_number %s, from_number %s', (fields, phone, from) => {
		expect(normalizeCall({ id: 'call_1', ...fields })).toMatchObject({
			phone_number: phone,
			from_number: from,
		});
	});

	test('the API status is kept as api_status only when it differs', () => {
		expect(normalizeCall({ status: 'canceled' })).toEqual({
			status: 'cancelled',
			api_status: 'canceled',
		});
		expect(normalizeCall({ status: 'ended' })).toEqual({ status: 'ended' });
		expect(normalizeCall({})).toEqual({});
	});
});
