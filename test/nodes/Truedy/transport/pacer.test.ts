// Evenly spaced request slots (transport/pacer.ts): the pace of Place Call's Calls per Minute and of
// the trigger's per-process enrichment budget. Real time; slots 1 s apart, so a busy machine's timer
// lateness (a few hundred ms) cannot blur "at once" and "one slot later".
import { createSlotTaker } from '../../../../nodes/Truedy/transport/pacer';

const SPACING_MS = 1000;
const AT_ONCE_MS = SPACING_MS / 2;
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
	expect(times[0]).toBeLessThan(AT_ONCE_MS);
	expect(times[1]).toBeGreaterThanOrEqual(SPACING_MS - 5);
	expect(times[2]).toBeGreaterThanOrEqual(2 * SPACING_MS - 5);
});

test('a wait that would end past the deadline is refused at once; the slot stays free for the next caller', async () => {
	const takeSlot = createSlotTaker(perMinute);
	await takeSlot(); // the next free slot is SPACING_MS ahead
	const asked = Date.now();
	expect(await takeSlot(asked + SPACING_MS / 2)).toBe(false);
	expect(Date.now() - asked).toBeLessThan(AT_ONCE_MS);
	expect(await takeSlot(asked + 2 * SPACING_MS)).toBe(true);
	expect(Date.now() - asked).toBeLessThan(SPACING_MS + AT_ONCE_MS);
});

test('a free slot is taken even when the deadline has passed (Max Wait 0 still fetches once)', async () => {
	const takeSlot = createSlotTaker(perMinute);
	expect(await takeSlot(Date.now() - 1)).toBe(true);
	expect(await takeSlot(Date.now() - 1)).toBe(false);
});

test('a cancel ends the wait for a slot', async () => {
	const takeSlot = createSlotTaker(perMinute);
	await takeSlot();
	const controller = new AbortController();
	const waiting = takeSlot(Infinity, controller.signal);
	const asked = Date.now();
	controller.abort();
	await expect(waiting).rejects.toThrow();
	expect(Date.now() - asked).toBeLessThan(AT_ONCE_MS);
});
