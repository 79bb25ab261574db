/* eslint-disable */
// Unit tests: the polling schedule, and the status and number normalisation behind Get,
// Get Many and Wait for Call to End.
import { isTerminalStatus, MIN_POLL_INTERVAL_SECONDS, normalizeCall, normalizeCallStatus } from '../../nodes/Truedy/shared/calls';
import { pollDelay } from '../../nodes/Truedy/resources/call/place/waitForEnd';

describe('pollDelay', () => {
	/** The delays waitForCallEnd would use, polling from t = 0 for `totalMs`. */
	function schedule(baseMs: number, totalMs: number): Array<{ at: number; delay: number }> {
		const out: Array<{ at: number; delay: number }> = [];
		let elapsed = 0;
		let delay = baseMs;
		while (elapsed < totalMs) {
			delay = pollDelay(elapsed, baseMs, delay);
			out.push({ at: elapsed, delay });
			elapsed += delay;
		}
		return out;
	}

	test('the minimum interval is 5 s', () => {
		expect(MIN_POLL_INTERVAL_SECONDS).toBe(5);
	});

	test('5 s for the first two minutes, whatever the previous delay', () => {
		for (const elapsed of [0, 1, 5_000, 60_000, 119_999]) {
			expect(pollDelay(elapsed, 5_000, 5_000)).toBe(5_000);
			expect(pollDelay(elapsed, 5_000, 25_000)).toBe(5_000);
		}
	});

	test('after two minutes each delay is 20% longer than the one before, up to 30 s', () => {
		expect(pollDelay(120_000, 5_000, 5_000)).toBe(6_000);
		expect(pollDelay(126_000, 5_000, 6_000)).toBe(7_200);
		expect(pollDelay(133_200, 5_000, 7_200)).toBe(8_640);
		expect(pollDelay(500_000, 5_000, 26_000)).toBe(30_000);
		expect(pollDelay(600_000, 5_000, 30_000)).toBe(30_000);
	});

	test('the whole schedule of a 30-minute wait', () => {
		const delays = schedule(5_000, 30 * 60_000);
		const steady = delays.filter(({ at }) => at < 120_000);
		expect(steady).toHaveLength(24);
		expect(steady.every(({ delay }) => delay === 5_000)).toBe(true);

		const growing = delays.slice(24).map(({ delay }) => delay);
		expect(growing.slice(0, 10)).toEqual([6000, 7200, 8640, 10368, 12442, 14930, 17916, 21499, 25799, 30000]);
		expect(growing.slice(10).every((delay) => delay === 30_000)).toBe(true);
		for (let i = 1; i < delays.length; i++) {
			expect(delays[i].delay).toBeGreaterThanOrEqual(delays[i - 1].delay);
			expect(delays[i].delay).toBeLessThanOrEqual(Math.round(delays[i - 1].delay * 1.2));
		}
		// 85 checks in 30 minutes instead of 360 at a flat 5 s.
		expect(delays).toHaveLength(85);
	});

	test('a longer Poll Interval is the floor and also grows to 30 s', () => {
		expect(pollDelay(10_000, 10_000, 10_000)).toBe(10_000);
		expect(pollDelay(130_000, 10_000, 10_000)).toBe(12_000);
		expect(pollDelay(900_000, 10_000, 29_000)).toBe(30_000);
	});

	test('a Poll Interval above 30 s is kept as it is', () => {
		expect(pollDelay(0, 45_000, 45_000)).toBe(45_000);
		expect(pollDelay(300_000, 45_000, 45_000)).toBe(45_000);
	});
});

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
		expect(normalizeCall({ id: 'call_1', ...fields })).toMatchObject({ phone_number: phone, from_number: from });
	});

	test('the API status is kept as api_status only when it differs', () => {
		expect(normalizeCall({ status: 'canceled' })).toEqual({ status: 'cancelled', api_status: 'canceled' });
		expect(normalizeCall({ status: 'ended' })).toEqual({ status: 'ended' });
		expect(normalizeCall({})).toEqual({});
	});
});
