// place/waitForEnd.ts: the polling schedule of "Wait for Call to End".
import { pollDelay } from '../../../../../nodes/Truedy/resources/call/place/waitForEnd';
import { MIN_POLL_INTERVAL_SECONDS } from '../../../../../nodes/Truedy/shared/calls';

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
		expect(growing.slice(0, 10)).toEqual([
			6000, 7200, 8640, 10368, 12442, 14930, 17916, 21499, 25799, 30000,
		]);
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
