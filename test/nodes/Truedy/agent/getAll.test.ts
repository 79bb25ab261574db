// Agent › Get Many through n8n's real engine against the simulator: paging, Limit, filters.
import type { IDataObject } from 'n8n-workflow';

import {
	apiRequests,
	NODE,
	outputJson,
	runTruedy,
	SIM_AGENTS,
	SIM_NUMBERS,
	useSimulator,
} from '../../../support';

const sim = useSimulator({ autoAdvance: false });

const getMany = (parameters: IDataObject = {}) => ({
	resource: 'agent',
	operation: 'getAll',
	...parameters,
});

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
		outbound_phone_numbers: SIM_NUMBERS.appointmentReminder.map((phone_number) =>
			expect.objectContaining({ phone_number }),
		),
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
	const result = await runTruedy(sim, {
		parameters: getMany({ returnAll: true, filters: { status: 'draft' } }),
	});
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
	const result = await runTruedy(sim, {
		parameters: getMany({ limit: 10, filters: { name: 'nobody' } }),
	});
	expect(result.nodeError(NODE)).toBeUndefined();
	expect(result.output(NODE)).toEqual([]);
});
