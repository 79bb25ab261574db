// The From Number dropdown (methods/getFromNumbers.ts), called the way n8n's editor backend calls
// it: on the node type's methods, with n8n-core's real LoadOptionsContext, over real HTTP.
import type { ILoadOptionsFunctions, INodeParameters, INodePropertyOptions } from 'n8n-workflow';

import {
	apiRequests,
	loadOptionsContext,
	SIM_AGENTS,
	SIM_NUMBERS,
	truedyNodeType,
	useSimulator,
} from '../../../support';

const sim = useSimulator({ autoAdvance: false });
const nodeType = truedyNodeType();

const agentRequests = () => apiRequests(sim, 'GET', /^\/agents/);

async function getFromNumbers(agent: unknown): Promise<INodePropertyOptions[]> {
	const context = loadOptionsContext({
		apiKey: sim.apiKey,
		baseUrl: sim.baseUrl,
		parameters: agent === undefined ? {} : { agent: agent as INodeParameters[string] },
		path: 'parameters.fromNumber',
	});
	return await nodeType.methods!.loadOptions!.getFromNumbers.call(
		context as unknown as ILoadOptionsFunctions,
	);
}

const AUTOMATIC = { name: 'Automatic (Agent Default)', value: '' };

test("lists the chosen agent's outbound numbers after Automatic", async () => {
	const options = await getFromNumbers({
		__rl: true,
		mode: 'list',
		value: SIM_AGENTS.active,
		cachedResultName: 'Appointment Reminder',
	});
	expect(options).toEqual([
		AUTOMATIC,
		{ name: SIM_NUMBERS.appointmentReminder[0], value: SIM_NUMBERS.appointmentReminder[0] },
		{ name: SIM_NUMBERS.appointmentReminder[1], value: SIM_NUMBERS.appointmentReminder[1] },
	]);
	const [request] = agentRequests();
	expect(request.path).toBe(`/agents/${SIM_AGENTS.active}`);
	expect(request.headers['authorization']).toBe(`Bearer ${sim.apiKey}`);
});

test('works with an agent given by ID, and with bare responses', async () => {
	sim.configure({ responseShape: 'bare' });
	expect(await getFromNumbers({ __rl: true, mode: 'id', value: SIM_AGENTS.salesFollowUp })).toEqual(
		[AUTOMATIC, { name: SIM_NUMBERS.salesFollowUp[0], value: SIM_NUMBERS.salesFollowUp[0] }],
	);
});

test('an agent without outbound numbers offers only Automatic', async () => {
	expect(await getFromNumbers({ __rl: true, mode: 'list', value: SIM_AGENTS.noNumbers })).toEqual([
		AUTOMATIC,
	]);
});

test('no agent chosen yet: only Automatic, and nothing is requested', async () => {
	expect(await getFromNumbers({ __rl: true, mode: 'list', value: '' })).toEqual([AUTOMATIC]);
	expect(await getFromNumbers(undefined)).toEqual([AUTOMATIC]);
	expect(agentRequests()).toHaveLength(0);
});
