/* eslint-disable */
// Agent › Get Many and Agent › Get through n8n's real engine against the simulator.
import type { IDataObject } from 'n8n-workflow';

import { SIM_AGENTS, SIM_NUMBERS, startSimulator, TruedySimulator } from '../simulator/server';
import { NODE, apiRequests, outputJson, runTruedy } from './helpers';

let sim: TruedySimulator;

beforeAll(async () => {
	sim = await startSimulator({ autoAdvance: false });
});

afterAll(async () => {
	await sim.close();
});

beforeEach(() => {
	sim.reset();
	sim.configure({ extraAgents: null, paginationIn: null, responseShape: null });
});

const getMany = (parameters: IDataObject = {}) => ({ resource: 'agent', operation: 'getAll', ...parameters });
const getOne = (agent: IDataObject) => ({ resource: 'agent', operation: 'get', agent });

const SEEDED_BY_NAME = [
	SIM_AGENTS.active, // Appointment Reminder
	SIM_AGENTS.noNumbers, // Inbound Support
	SIM_AGENTS.leadQualifier, // Lead Qualifier
	SIM_AGENTS.draft, // Onboarding Survey (Draft)
	SIM_AGENTS.salesFollowUp, // Sales Follow-up
];

function agentQueries() {
	return apiRequests(sim, 'GET', '/agents').map((r) => r.query);
}

describe('Get Many', () => {
	test('Return All pages through every agent, 100 at a time', async () => {
		sim.configure({ extraAgents: 150 });
		const result = await runTruedy(sim, { parameters: getMany({ returnAll: true }) });

		expect(result.nodeError(NODE)).toBeUndefined();
		const output = outputJson(result);
		expect(output).toHaveLength(155);
		expect(new Set(output.map((agent) => agent.id)).size).toBe(155);
		expect(agentQueries()).toEqual([
			{ limit: '100', offset: '0' },
			{ limit: '100', offset: '100' },
		]);
		// Agents come back as the API sent them.
		const reminder = output.find((agent) => agent.id === SIM_AGENTS.active)!;
		expect(reminder).toMatchObject({
			name: 'Appointment Reminder',
			status: 'active',
			model: 'ultravox-v0.7',
			outbound_phone_numbers: SIM_NUMBERS.appointmentReminder.map((phone_number) => expect.objectContaining({ phone_number })),
		});
	});

	test('Limit returns the first agents only; the default Limit is 50', async () => {
		const three = await runTruedy(sim, { parameters: getMany({ limit: 3 }) });
		expect(outputJson(three).map((agent) => agent.id)).toEqual(SEEDED_BY_NAME.slice(0, 3));
		expect(agentQueries()).toEqual([{ limit: '3', offset: '0' }]);

		sim.configure({ extraAgents: 60 });
		sim.requests.length = 0;
		const byDefault = await runTruedy(sim, { parameters: getMany() });
		expect(outputJson(byDefault)).toHaveLength(50);
		expect(agentQueries()).toEqual([{ limit: '50', offset: '0' }]);
	});

	test('pagination in `meta` pages the same way', async () => {
		sim.configure({ extraAgents: 150, paginationIn: 'meta' });
		const result = await runTruedy(sim, { parameters: getMany({ returnAll: true }) });
		expect(outputJson(result)).toHaveLength(155);
		expect(agentQueries()).toHaveLength(2);
	});

	test('the status filter reaches the query string', async () => {
		const result = await runTruedy(sim, { parameters: getMany({ returnAll: true, filters: { status: 'draft' } }) });
		expect(outputJson(result).map((agent) => agent.id)).toEqual([SIM_AGENTS.draft]);
		expect(agentQueries()).toEqual([{ status: 'draft', limit: '100', offset: '0' }]);
	});

	test('the name filter reaches the query string as typed; the API matches it case-insensitively', async () => {
		const result = await runTruedy(sim, {
			parameters: getMany({ returnAll: true, filters: { name: 'LEAD', status: 'active' } }),
		});
		expect(outputJson(result).map((agent) => agent.name)).toEqual(['Lead Qualifier']);
		expect(agentQueries()).toEqual([{ status: 'active', name: 'LEAD', limit: '100', offset: '0' }]);
	});

	test('no filters sends only limit and offset, and gets every status', async () => {
		const result = await runTruedy(sim, { parameters: getMany({ returnAll: true, filters: {} }) });
		expect(outputJson(result).map((agent) => agent.id)).toEqual(SEEDED_BY_NAME);
		expect(agentQueries()).toEqual([{ limit: '100', offset: '0' }]);
	});

	test('no match is an empty result, not an error', async () => {
		const result = await runTruedy(sim, { parameters: getMany({ limit: 10, filters: { name: 'nobody' } }) });
		expect(result.nodeError(NODE)).toBeUndefined();
		expect(result.output(NODE)).toEqual([]);
	});
});

describe('Get', () => {
	test('by ID returns the agent as the API sent it', async () => {
		const result = await runTruedy(sim, {
			parameters: getOne({ __rl: true, mode: 'id', value: SIM_AGENTS.leadQualifier }),
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		const [agent] = outputJson(result);
		expect(agent).toMatchObject({
			id: SIM_AGENTS.leadQualifier,
			name: 'Lead Qualifier',
			status: 'active',
			outbound_phone_numbers: [expect.objectContaining({ phone_number: SIM_NUMBERS.leadQualifier[0] })],
		});
		expect(apiRequests(sim, 'GET', `/agents/${SIM_AGENTS.leadQualifier}`)).toHaveLength(1);
	});

	test('from the list, or by an expression per item', async () => {
		const fromList = await runTruedy(sim, {
			parameters: getOne({ __rl: true, mode: 'list', value: SIM_AGENTS.draft, cachedResultName: 'Onboarding Survey (Draft)' }),
		});
		expect(outputJson(fromList)).toEqual([expect.objectContaining({ id: SIM_AGENTS.draft, status: 'draft' })]);

		const perItem = await runTruedy(sim, {
			parameters: getOne({ __rl: true, mode: 'id', value: '={{ $json.agentId }}' }),
			items: [{ json: { agentId: SIM_AGENTS.active } }, { json: { agentId: SIM_AGENTS.salesFollowUp } }],
		});
		expect(outputJson(perItem).map((agent) => agent.name)).toEqual(['Appointment Reminder', 'Sales Follow-up']);
	});

	test('an unknown agent fails with the 404 explained; with Continue On Fail it becomes an error item', async () => {
		const missing = { __rl: true, mode: 'id', value: '00000000-0000-4000-8000-000000000000' };
		const failed = await runTruedy(sim, { parameters: getOne(missing) });
		expect(failed.nodeError(NODE)?.message).toContain('The Truedy resource was not found');
		expect(failed.nodeError(NODE)?.httpCode).toBe('404');

		const continued = await runTruedy(sim, {
			parameters: getOne({ __rl: true, mode: 'id', value: '={{ $json.agentId }}' }),
			items: [{ json: { agentId: missing.value } }, { json: { agentId: SIM_AGENTS.active } }],
			settings: { onError: 'continueRegularOutput' },
		});
		const output = outputJson(continued);
		expect(output[0]).toEqual({ error: expect.stringContaining('not found'), details: expect.objectContaining({ itemIndex: 0, httpCode: '404' }) });
		expect(output[1]).toMatchObject({ id: SIM_AGENTS.active });
	});

	test('an agent expression that resolves to nothing is refused before anything is sent', async () => {
		const result = await runTruedy(sim, { parameters: getOne({ __rl: true, mode: 'id', value: '={{ $json.missing }}' }) });
		expect(result.nodeError(NODE)?.message).toBe('Item 0: "Agent" is empty');
		expect(sim.requests).toHaveLength(0);
	});
});
