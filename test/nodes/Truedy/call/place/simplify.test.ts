// Place Call's Simplify through n8n's real engine against the simulator: off by default (the
// output is the whole call, as before), on it keeps the ten main fields; a waited call keeps
// waitTimedOut.
import {
	agentById,
	leadPhone,
	NODE,
	outputJson,
	placeCall,
	runTruedy,
	SIM_AGENTS,
	useSimulator,
} from '../../../../support';

const sim = useSimulator({ autoAdvance: false });

const MAIN_FIELDS = [
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
];

test('Simplify is off by default: the output is the whole call', async () => {
	const result = await runTruedy(sim, {
		parameters: placeCall({ agent: agentById(SIM_AGENTS.active), phoneNumber: leadPhone(0) }),
	});
	expect(result.nodeError(NODE)).toBeUndefined();
	const [call] = outputJson(result);
	expect(Object.keys(call)).toEqual(
		expect.arrayContaining([...MAIN_FIELDS, 'variables', 'call_settings', 'transcript']),
	);
});

test('Simplify on: only the main fields, in that order', async () => {
	const result = await runTruedy(sim, {
		parameters: placeCall({
			agent: agentById(SIM_AGENTS.active),
			phoneNumber: leadPhone(1),
			simplify: true,
		}),
	});
	expect(result.nodeError(NODE)).toBeUndefined();
	const [call] = outputJson(result);
	expect(Object.keys(call)).toEqual(MAIN_FIELDS);
	expect(call).toMatchObject({
		status: 'queued',
		agent_id: SIM_AGENTS.active,
		phone_number: leadPhone(1),
	});
	expect(sim.calls.get(String(call.id))).toBeDefined();
});
