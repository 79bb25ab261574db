// Evenly spaced request slots (transport/pacer.ts): the pace Place Call's Calls per Minute and the
// trigger's per-process enrichment budget share. Real time, 100 ms slots.
import { createSlotTaker } from '../../../../nodes/Truedy/transport/pacer';

const SPACING_MS = 100;
const perMinute = 60_000 / SPACING_MS;

test('callers get one slot each, SPACING_MS apart, the first at once', async () => {
	const takeSlot = createSlotTaker(perMinute);
	const started = Date.now();
	const times = await Promise.all(
		[0, 1, 2].map(async () => {
			expect(await takeSlot()).toBe(true);
			return Date.now() - started;
		}),
	);
	expect(times[0]).toBeLessThan(50);
	expect(times[1]).toBeGreaterThanOrEqual(SPACING_MS - 5);
	expect(times[2]).toBeGreaterThanOrEqual(2 * SPACING_MS - 5);
});

test('a slot past the deadline is refused at once and stays free for the next caller', async () => {
	const takeSlot = createSlotTaker(perMinute);
	await takeSlot(); // the next free slot is SPACING_MS ahead
	const asked = Date.now();
	expect(await takeSlot(asked + SPACING_MS / 2)).toBe(false);
	expect(Date.now() - asked).toBeLessThan(20);
	expect(await takeSlot(asked + 2 * SPACING_MS)).toBe(true);
	expect(Date.now() - asked).toBeLessThan(SPACING_MS + 50);
});

test('a cancel ends the wait for a slot', async () => {
	const takeSlot = createSlotTaker(perMinute / 10); // 1 s apart
	await takeSlot();
	const controller = new AbortController();
	const waiting = takeSlot(Infinity, controller.signal);
	const asked = Date.now();
	controller.abort();
	await expect(waiting).rejects.toThrow();
	expect(Date.now() - asked).toBeLessThan(100);
});
