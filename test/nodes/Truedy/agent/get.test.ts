// Agent › Get through n8n's real engine against the simulator: by ID, from the list, per item,
// and the errors.
import type { IDataObject } from 'n8n-workflow';

import {
	agentById,
	apiRequests,
	NODE,
	outputJson,
	runTruedy,
	SIM_AGENTS,
	SIM_NUMBERS,
	useSimulator,
} from '../../../support';

const sim = useSimulator({ autoAdvance: false });

const getOne = (agent: IDataObject) => ({ resource: 'agent', operation: 'get', agent });

test('by ID returns the agent as the API sent it', async () => {
	const result = await runTruedy(sim, {
		parameters: getOne(agentById(SIM_AGENTS.leadQualifier)),
	});
	expect(result.nodeError(NODE)).toBeUndefined();
	const [agent] = outputJson(result);
	expect(agent).toMatchObject({
		id: SIM_AGENTS.leadQualifier,
		name: 'Lead Qualifier',
		status: 'active',
		outbound_phone_numbers: [
			expect.objectContaining({ phone_number: SIM_NUMBERS.leadQualifier[0] }),
		],
	});
	expect(apiRequests(sim, 'GET', `/agents/${SIM_AGENTS.leadQualifier}`)).toHaveLength(1);
});

test('from the list, or by an expression per item', async () => {
	const fromList = await runTruedy(sim, {
		parameters: getOne({
			__rl: true,
			mode: 'list',
			value: SIM_AGENTS.draft,
			cachedResultName: 'Onboarding Survey (Draft)',
		}),
	});
	expect(outputJson(fromList)).toEqual([
		expect.objectContaining({ id: SIM_AGENTS.draft, status: 'draft' }),
	]);

	const perItem = await runTruedy(sim, {
		parameters: getOne(agentById('={{ $json.agentId }}')),
		items: [
			{ json: { agentId: SIM_AGENTS.active } },
			{ json: { agentId: SIM_AGENTS.salesFollowUp } },
		],
	});
	expect(outputJson(perItem).map((agent) => agent.name)).toEqual([
		'Appointment Reminder',
		'Sales Follow-up',
	]);
});

test('an unknown agent fails with the 404 explained; with Continue On Fail it becomes an error item', async () => {
	const missing = agentById('00000000-0000-4000-8000-000000000000');
	const failed = await runTruedy(sim, { parameters: getOne(missing) });
	expect(failed.nodeError(NODE)?.message).toContain('The Truedy resource was not found');
	expect(failed.nodeError(NODE)?.httpCode).toBe('404');

	const continued = await runTruedy(sim, {
		parameters: getOne(agentById('={{ $json.agentId }}')),
		items: [{ json: { agentId: missing.value } }, { json: { agentId: SIM_AGENTS.active } }],
		settings: { onError: 'continueRegularOutput' },
	});
	const output = outputJson(continued);
	expect(output[0]).toEqual({
		error: expect.stringContaining('not found'),
		details: expect.objectContaining({ itemIndex: 0, httpCode: '404' }),
	});
	expect(output[1]).toMatchObject({ id: SIM_AGENTS.active });
});

test('an agent expression that resolves to nothing is refused before anything is sent', async () => {
	const result = await runTruedy(sim, { parameters: getOne(agentById('={{ $json.missing }}')) });
	expect(result.nodeError(NODE)?.message).toBe('Item 0: "Agent" is empty');
	expect(sim.requests).toHaveLength(0);
});
