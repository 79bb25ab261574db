// Place Call with "Wait for Call to End", through n8n's real engine against the simulator with
// compressed call timings (calls end about 2 s after they are placed; the first check is 5 s in).
import type { IDataObject } from 'n8n-workflow';

import {
	agentById,
	callRequests,
	lead,
	leadPhone,
	makeLeads,
	NODE,
	outputJson,
	placeCall,
	pollsOf,
	runTruedy,
	SIM_AGENTS,
	callReadsOf,
	listReadsOf,
	SIM_NUMBERS,
	useSimulator,
} from '../../../../support';

/** Queued 0.2 s, ringing 0.3 s, talking 1.5 s: a call ends about 2 s after it is placed. */
const sim = useSimulator({ callTimings: { queuedMs: 200, ringingMs: 300, inProgressMs: 1500 } });

const place = (parameters: IDataObject = {}) =>
	placeCall({
		agent: agentById(SIM_AGENTS.active),
		phoneNumber: '={{ $json.phone }}',
		variables: { variable: [{ name: 'first_name', value: '={{ $json.name }}' }] },
		waitForEnd: true,
		...parameters,
	});

test('an answered call: the output is the final call, read once after the 5 s interval', async () => {
	const started = Date.now();
	const result = await runTruedy(sim, { parameters: place(), items: [lead(1, { name: 'Sarah' })] });
	const elapsed = Date.now() - started;

	expect(result.nodeError(NODE)).toBeUndefined();
	const [item] = result.output(NODE);
	const [call] = [...sim.calls.values()];
	expect(item.pairedItem).toEqual({ item: 0 });
	expect(item.json).toEqual({ ...sim.renderCall(call.id), waitTimedOut: false });
	expect(item.json).toMatchObject({
		id: call.id,
		status: 'ended',
		duration_seconds: 42,
		end_reason: 'hangup',
		phone_number: leadPhone(1),
		from_number: SIM_NUMBERS.appointmentReminder[0],
		waitTimedOut: false,
	});
	expect(item.json.summary).toContain('Sarah');
	expect(item.json.transcript).toHaveLength(5);
	expect(item.json.recording_url).toMatch(/^https:\/\/.+\.mp3/);

	const [post] = callRequests(sim);
	const polls = pollsOf(sim, call.id);
	expect(polls).toHaveLength(1);
	expect(polls[0].receivedAt - post.receivedAt).toBeGreaterThanOrEqual(5000);
	expect(elapsed).toBeLessThan(7000);
});

test('the "completed" vocabulary and to_number/from_number naming come out as ended and phone_number', async () => {
	sim.configure({ statusVocabulary: 'completed', callFieldNaming: 'to_number' });
	const result = await runTruedy(sim, { parameters: place(), items: [lead(2, { name: 'Omar' })] });

	expect(result.nodeError(NODE)).toBeUndefined();
	expect(outputJson(result)).toEqual([
		expect.objectContaining({
			status: 'ended',
			api_status: 'completed',
			phone_number: leadPhone(2),
			to_number: leadPhone(2),
			from_number: SIM_NUMBERS.appointmentReminder[0],
			transcript: expect.any(Array),
			waitTimedOut: false,
		}),
	]);
});

test('a failed call, and a call without transcription, come back at once with no transcript wait', async () => {
	sim.configure({ transcriptDelayMs: 60_000 });
	const started = Date.now();
	const result = await runTruedy(sim, {
		parameters: place({ callSettings: { transcriptionEnabled: '={{ $json.transcribe }}' } }),
		items: [
			{ json: { phone: '+14155550000', name: 'Nobody', transcribe: true } },
			lead(3, { name: 'Mei', transcribe: false }),
		],
	});
	const elapsed = Date.now() - started;

	expect(result.nodeError(NODE)).toBeUndefined();
	const [failed, untranscribed] = outputJson(result);
	expect(failed).toMatchObject({
		status: 'failed',
		phone_number: '+14155550000',
		duration_seconds: 0,
		end_reason: 'unjoined',
		transcript: null,
		recording_url: null,
		waitTimedOut: false,
	});
	expect(untranscribed).toMatchObject({ status: 'ended', transcript: null, waitTimedOut: false });
	expect(untranscribed.summary).toContain('Mei');
	for (const call of sim.calls.values()) expect(pollsOf(sim, call.id)).toHaveLength(1);
	expect(elapsed).toBeLessThan(7000);
});

test('five items wait together: the node takes about one call, not five', async () => {
	const contacts = makeLeads(5, (i) => ({ name: `Contact ${i}` }));
	const started = Date.now();
	const result = await runTruedy(sim, { parameters: place(), items: contacts });
	const elapsed = Date.now() - started;

	expect(result.nodeError(NODE)).toBeUndefined();
	const output = result.output(NODE);
	expect(output.map((item) => [item.json.phone_number, item.json.status, item.pairedItem])).toEqual(
		contacts.map((contact, i) => [contact.json.phone, 'ended', { item: i }]),
	);
	// One list read answers for all five, 5 s after the calls were placed; no call is read alone.
	const polls = pollsOf(sim);
	expect(polls).toHaveLength(1);
	expect(listReadsOf(sim)[0].query).toMatchObject({ agent_id: SIM_AGENTS.active, limit: '100' });
	expect(callReadsOf(sim)).toHaveLength(0);
	expect(elapsed).toBeLessThan(8000); // one after the other would be over 25 s
});

test('items that failed to be placed stay errors; the others are still followed to the end', async () => {
	const result = await runTruedy(sim, {
		parameters: place(),
		items: [{ json: { phone: 'not a number', name: 'X' } }, lead(4, { name: 'Ana' })],
		settings: { onError: 'continueRegularOutput' },
	});
	const [bad, good] = outputJson(result);
	expect(bad).toEqual({
		error: expect.stringContaining('"Phone Number"'),
		details: expect.objectContaining({ itemIndex: 0 }),
	});
	expect(good).toMatchObject({ status: 'ended', phone_number: leadPhone(4), waitTimedOut: false });
	expect(pollsOf(sim)).toHaveLength(1);
});

test('off by default: the call is returned as placed and never polled', async () => {
	const { waitForEnd: _ignored, ...parameters } = place();
	const result = await runTruedy(sim, { parameters, items: [lead(5, { name: 'Lee' })] });
	expect(outputJson(result)).toEqual([expect.objectContaining({ status: 'queued' })]);
	expect(outputJson(result)[0]).not.toHaveProperty('waitTimedOut');
	expect(pollsOf(sim)).toHaveLength(0);
});

test('ignored when the node runs as an AI agent tool', async () => {
	const started = Date.now();
	const result = await runTruedy(sim, {
		parameters: place(),
		items: [lead(6, { name: 'Bot' })],
		settings: { rewireOutputLogTo: 'ai_tool' },
	});
	expect(Date.now() - started).toBeLessThan(2000);
	const taskData = result.run.data.resultData.runData[NODE][0];
	expect(taskData.error).toBeUndefined();
	expect(taskData.data?.ai_tool?.[0]?.map((item) => item.json)).toEqual([
		expect.objectContaining({ status: 'queued' }),
	]);
	expect(pollsOf(sim)).toHaveLength(0);
});
