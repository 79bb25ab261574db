// Call › Get through n8n's real engine against the simulator: one status vocabulary and one
// number naming in the output, whichever the API used.
import type { CallFieldNaming, StatusVocabulary } from '../../../simulator/server';
import {
	createCall,
	leadPhone,
	NODE,
	outputJson,
	pollsOf,
	runTruedy,
	SIM_AGENTS,
	SIM_NUMBERS,
	useSimulator,
} from '../../../support';

const sim = useSimulator({ autoAdvance: false });

const get = (callId: string) => ({ resource: 'call', operation: 'get', callId });

// [simulator state, status the API shows per vocabulary, canonical status]
const STATES: Array<[string, Record<StatusVocabulary, string>, string]> = [
	['queued', { ended: 'queued', completed: 'queued' }, 'queued'],
	['ringing', { ended: 'ringing', completed: 'ringing' }, 'ringing'],
	['in_progress', { ended: 'in-progress', completed: 'in_progress' }, 'in-progress'],
	['ended', { ended: 'ended', completed: 'completed' }, 'ended'],
	['failed', { ended: 'failed', completed: 'failed' }, 'failed'],
	['cancelled', { ended: 'cancelled', completed: 'cancelled' }, 'cancelled'],
];

const VOCABULARIES: StatusVocabulary[] = ['ended', 'completed'];
const NAMINGS: CallFieldNaming[] = ['phone_number', 'to_from', 'to_number'];

describe.each(VOCABULARIES)('status vocabulary "%s"', (vocabulary) => {
	test.each(NAMINGS)(
		'every state reads back in one vocabulary, numbers named phone_number/from_number (API naming "%s")',
		async (naming) => {
			sim.configure({ statusVocabulary: vocabulary, callFieldNaming: naming });
			const ids: string[] = [];
			for (const [index, [state]] of STATES.entries()) {
				const id = await createCall(sim, {
					agent_id: SIM_AGENTS.active,
					phone_number: leadPhone(index),
				});
				if (state !== 'queued') sim.setCallStatus(id, state);
				ids.push(id);
			}

			const result = await runTruedy(sim, {
				parameters: get('={{ $json.callId }}'),
				items: ids.map((callId) => ({ json: { callId } })),
			});

			expect(result.nodeError(NODE)).toBeUndefined();
			const output = outputJson(result);
			expect(output).toHaveLength(STATES.length);
			expect(result.output(NODE).map((item) => item.pairedItem)).toEqual(
				ids.map((_, item) => ({ item })),
			);
			for (const [index, [, apiStatus, canonical]] of STATES.entries()) {
				const call = output[index];
				const raw = sim.renderCall(ids[index])!;
				expect(raw.status).toBe(apiStatus[vocabulary]);
				expect(call.id).toBe(ids[index]);
				expect(call.status).toBe(canonical);
				if (apiStatus[vocabulary] === canonical) expect(call).not.toHaveProperty('api_status');
				else expect(call.api_status).toBe(apiStatus[vocabulary]);
				expect(call.phone_number).toBe(leadPhone(index));
				expect(call.from_number).toBe(SIM_NUMBERS.appointmentReminder[0]);
				// Everything else the API sent is kept as it was, including its own number fields.
				expect(call).toMatchObject({ ...raw, status: canonical });
			}
			// An ended call carries its outcome.
			const ended = output[STATES.findIndex(([state]) => state === 'ended')];
			expect(ended).toMatchObject({ duration_seconds: 42, end_reason: 'hangup' });
			expect(ended.summary).toEqual(expect.any(String));
			expect(ended.transcript).toEqual(
				expect.arrayContaining([expect.objectContaining({ speaker: 'agent' })]),
			);
			expect(ended.recording_url).toMatch(/^https:\/\/.+\.mp3/);
			expect(pollsOf(sim).map((r) => r.path)).toEqual(ids.map((id) => `/calls/${id}`));
		},
	);
});

test('a bare (un-enveloped) response is read the same way', async () => {
	sim.configure({
		responseShape: 'bare',
		statusVocabulary: 'completed',
		callFieldNaming: 'to_number',
	});
	const id = await createCall(sim, {
		agent_id: SIM_AGENTS.leadQualifier,
		phone_number: '+447911123456',
	});
	sim.endCall(id);

	const result = await runTruedy(sim, { parameters: get(id) });

	expect(result.nodeError(NODE)).toBeUndefined();
	expect(outputJson(result)).toEqual([
		expect.objectContaining({
			id,
			status: 'ended',
			api_status: 'completed',
			phone_number: '+447911123456',
			to_number: '+447911123456',
			from_number: SIM_NUMBERS.leadQualifier[0],
		}),
	]);
});

test('the call ID is trimmed and URL-encoded into the path', async () => {
	const id = await createCall(sim, { agent_id: SIM_AGENTS.active, phone_number: leadPhone(1) });
	const result = await runTruedy(sim, { parameters: get(`  ${id}  `) });
	expect(result.nodeError(NODE)).toBeUndefined();
	expect(outputJson(result)[0].id).toBe(id);

	sim.requests.length = 0;
	const odd = await runTruedy(sim, { parameters: get('call/../agents') });
	expect(sim.requests.map((r) => r.fullPath)).toEqual(['/api/public/v1/calls/call%2F..%2Fagents']);
	expect(odd.nodeError(NODE)?.message).toMatch(/not found/i);
});

test('an unknown call fails the node with the 404 explained', async () => {
	const result = await runTruedy(sim, { parameters: get('call_doesnotexist') });
	const error = result.nodeError(NODE)!;
	expect(error.message).toContain('The Truedy resource was not found');
	expect(error.message).toContain('Call call_doesnotexist not found');
	expect(error.httpCode).toBe('404');
});

test('with Continue On Fail, an unknown call becomes an error item and the others still come back', async () => {
	const id = await createCall(sim, { agent_id: SIM_AGENTS.active, phone_number: leadPhone(2) });
	const result = await runTruedy(sim, {
		parameters: get('={{ $json.callId }}'),
		items: [{ json: { callId: 'call_missing' } }, { json: { callId: id } }],
		settings: { onError: 'continueRegularOutput' },
	});
	const output = outputJson(result);
	expect(output).toHaveLength(2);
	expect(output[0]).toEqual({
		error: expect.stringContaining('not found'),
		details: expect.objectContaining({ itemIndex: 0, httpCode: '404' }),
	});
	expect(output[1]).toMatchObject({ id, status: 'queued' });
});

test('an empty call ID is refused before anything is sent', async () => {
	const result = await runTruedy(sim, { parameters: get('={{ $json.nothing }}') });
	expect(result.nodeError(NODE)?.message).toBe('Item 0: "Call ID" is empty');
	expect(sim.requests).toHaveLength(0);
});

describe('the Call resource locator and Simplify', () => {
	test('a call picked From List (locator value) reads the same as a plain Call ID of a saved workflow', async () => {
		const id = await createCall(sim, { agent_id: SIM_AGENTS.active, phone_number: leadPhone(0) });
		const picked = await runTruedy(sim, {
			parameters: { ...get(''), callId: { __rl: true, mode: 'list', value: id } },
		});
		const plain = await runTruedy(sim, { parameters: get(id) });
		expect(picked.nodeError(NODE)).toBeUndefined();
		expect(outputJson(picked)).toEqual(outputJson(plain));
		expect(outputJson(picked)[0].id).toBe(id);
	});

	test('Simplify is off by default; on, it keeps the ten main fields', async () => {
		const id = await createCall(sim, { agent_id: SIM_AGENTS.active, phone_number: leadPhone(1) });
		sim.setCallStatus(id, 'ended');
		const full = outputJson(await runTruedy(sim, { parameters: get(id) }))[0];
		expect(full).toHaveProperty('transcript');
		const simplified = outputJson(
			await runTruedy(sim, { parameters: { ...get(id), simplify: true } }),
		)[0];
		expect(Object.keys(simplified)).toEqual([
			'id',
			'status',
			'end_reason',
			'duration_seconds',
			'summary',
			'recording_url',
			'agent_id',
			'phone_number',
			'from_number',
			'created_at',
		]);
		for (const key of Object.keys(simplified)) expect(simplified[key]).toEqual(full[key] ?? null);
	});
});
