// "Wait for Call to End", the timing side: the poll interval as the simulator sees it, a late
// transcript, Max Wait (both modes) and cancelling mid-wait. Real engine, real HTTP, compressed
// call timings.
import type { IDataObject } from 'n8n-workflow';

import {
	agentById,
	callRequests,
	lead,
	leadPhone,
	NODE,
	outputJson,
	placeCall,
	pollsOf,
	runTruedy,
	SIM_AGENTS,
	sleep,
	useSimulator,
} from '../../../../support';

/** A call ends about 2 s after it is placed. */
const sim = useSimulator({ callTimings: { queuedMs: 200, ringingMs: 300, inProgressMs: 1500 } });
/** A call that is still talking long after every test here is over. */
const LONG_CALL = { queuedMs: 200, ringingMs: 300, inProgressMs: 600_000 };

const place = (waitOptions: IDataObject = {}) =>
	placeCall({
		agent: agentById(SIM_AGENTS.active),
		phoneNumber: '={{ $json.phone }}',
		waitForEnd: true,
		waitOptions,
	});

/** Gaps between consecutive GET /calls/{id} requests for one call, and from the POST to the first. */
function pollGaps(callId: string): number[] {
	const post = callRequests(sim)[0];
	const times = [post.receivedAt, ...pollsOf(sim, callId).map((r) => r.receivedAt)];
	return times.slice(1).map((t, i) => t - times[i]);
}

test('a transcript that is still null when the call ends is fetched again, 5 s later', async () => {
	// Ends at ~2 s; the transcript shows up at ~6 s; the first check (5 s) sees it missing.
	sim.configure({ transcriptDelayMs: 4000 });
	const result = await runTruedy(sim, { parameters: place(), items: [lead(1)] });

	expect(result.nodeError(NODE)).toBeUndefined();
	const [call] = outputJson(result);
	expect(call).toMatchObject({ status: 'ended', waitTimedOut: false, summary: expect.any(String) });
	expect(call.transcript).toEqual(
		expect.arrayContaining([expect.objectContaining({ speaker: 'contact' })]),
	);

	const polls = pollsOf(sim, String(call.id));
	expect(polls).toHaveLength(2);
	expect(pollGaps(String(call.id)).every((gap) => gap >= 5000)).toBe(true);
});

test('the transcript is only waited for as long as Transcript Wait allows', async () => {
	sim.configure({ transcriptDelayMs: 60_000 });
	const started = Date.now();
	// 4 s leaves no room for another check at least 5 s after the first.
	const result = await runTruedy(sim, {
		parameters: place({ transcriptWait: 4 }),
		items: [lead(2)],
	});

	expect(outputJson(result)).toEqual([
		expect.objectContaining({ status: 'ended', transcript: null, waitTimedOut: false }),
	]);
	expect(pollsOf(sim)).toHaveLength(1);
	expect(Date.now() - started).toBeLessThan(7000);
});

test('a call still going at Max Wait is returned as it stands with waitTimedOut: true', async () => {
	sim.configure({ callTimings: LONG_CALL });
	const started = Date.now();
	const result = await runTruedy(sim, {
		parameters: place({ maxWait: 2 }),
		items: [lead(3), lead(4)],
	});
	const elapsed = Date.now() - started;

	expect(result.nodeError(NODE)).toBeUndefined();
	const output = outputJson(result);
	expect(output).toEqual([
		expect.objectContaining({
			phone_number: leadPhone(3),
			status: 'in-progress',
			waitTimedOut: true,
		}),
		expect.objectContaining({
			phone_number: leadPhone(4),
			status: 'in-progress',
			waitTimedOut: true,
		}),
	]);
	// The state is the one read at Max Wait, not the one from placing the call.
	for (const call of output) expect(call.started_at).toEqual(expect.any(String));
	// One list read at Max Wait answers for both calls.
	expect(pollsOf(sim)).toHaveLength(1);
	expect(elapsed).toBeGreaterThanOrEqual(2000);
	expect(elapsed).toBeLessThan(4000);
	expect([...sim.calls.values()].every((call) => call.status === 'in_progress')).toBe(true);
});

test('Max Wait never makes two checks closer than the poll interval', async () => {
	sim.configure({ callTimings: LONG_CALL });
	const started = Date.now();
	// Checks at 5 s; 7 s would be only 2 s later, so the wait stops at the 5 s check.
	const result = await runTruedy(sim, { parameters: place({ maxWait: 7 }), items: [lead(5)] });
	const elapsed = Date.now() - started;

	const [call] = outputJson(result);
	expect(call).toMatchObject({ status: 'in-progress', waitTimedOut: true });
	expect(pollGaps(String(call.id))).toEqual([expect.any(Number)]);
	expect(pollGaps(String(call.id))[0]).toBeGreaterThanOrEqual(5000);
	expect(elapsed).toBeLessThan(7000);
});

test('with Error on Time-Out, a call still going at Max Wait fails the node', async () => {
	sim.configure({ callTimings: LONG_CALL });
	const result = await runTruedy(sim, {
		parameters: place({ maxWait: 2, errorOnTimeout: true }),
		items: [lead(6)],
	});
	const [call] = [...sim.calls.values()];
	const error = result.nodeError(NODE)!;
	expect(error.message).toBe(
		`Item 0: call ${call.id} had not ended after 2 s (status: in-progress)`,
	);
	expect(error.description).toContain('may still be going');
});

test('with Error on Time-Out and Continue On Fail, the timed-out item becomes an error and the rest are kept', async () => {
	sim.configure({ autoAdvance: false });
	const result = await runTruedy(sim, {
		parameters: place({ maxWait: 2, errorOnTimeout: true }),
		items: [lead(7), lead(8)],
		settings: { onError: 'continueRegularOutput' },
		// The second call ends as soon as it is placed; the first one never does.
		onStarted: () =>
			void sim
				.waitFor((s) => [...s.calls.values()].find((c) => c.to === leadPhone(8)))
				.then((call) => sim.endCall(call.id)),
	});
	const [timedOut, ended] = outputJson(result);
	expect(timedOut).toEqual({
		error: expect.stringContaining('had not ended after 2 s (status: queued)'),
		details: expect.objectContaining({
			itemIndex: 0,
			call: expect.objectContaining({ phone_number: leadPhone(7) }),
		}),
	});
	expect(ended).toMatchObject({ phone_number: leadPhone(8), status: 'ended', waitTimedOut: false });
});

test('cancelling the execution mid-wait stops the polling at once, with no timer left behind', async () => {
	sim.configure({ callTimings: LONG_CALL });
	const started = Date.now();
	let cancelledAt = 0;
	const result = await runTruedy(sim, {
		parameters: place(),
		items: [lead(9), lead(10)],
		onStarted: (cancel) =>
			setTimeout(() => {
				cancelledAt = Date.now();
				cancel();
			}, 1000),
	});
	const finishedAt = Date.now();

	expect(result.run.status).toBe('canceled');
	expect(callRequests(sim)).toHaveLength(2);
	// The poll being interrupted was 4 s away: 1 s tells "at once" apart even on a busy machine.
	expect(finishedAt - cancelledAt).toBeLessThan(1000);
	expect(finishedAt - started).toBeLessThan(2500);

	// The first check would have been 5 s after the calls were placed; wait well past it.
	await sleep(6000 - (Date.now() - started));
	expect(pollsOf(sim)).toHaveLength(0);
	expect(sim.requests.filter((r) => r.receivedAt > cancelledAt)).toHaveLength(0);
});
