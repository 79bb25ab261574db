// The Agent list search (listSearch/searchAgents.ts), called the way n8n's editor backend calls
// it: on the node type's methods, with n8n-core's real LoadOptionsContext, over real HTTP.
import type { ILoadOptionsFunctions, INodeListSearchResult, NodeApiError } from 'n8n-workflow';

import {
	apiRequests,
	loadOptionsContext,
	SIM_AGENTS,
	truedyNodeType,
	useSimulator,
} from '../../../support';

const sim = useSimulator({ autoAdvance: false });
const nodeType = truedyNodeType();

const agentRequests = () => apiRequests(sim, 'GET', /^\/agents/);

async function searchAgents(
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const context = loadOptionsContext({
		apiKey: sim.apiKey,
		baseUrl: sim.baseUrl,
		path: 'parameters.agent',
	});
	return await nodeType.methods!.listSearch!.searchAgents.call(
		context as unknown as ILoadOptionsFunctions,
		filter,
		paginationToken,
	);
}

/** Every page, following the pagination token as the editor does when scrolling. */
async function allPages(filter?: string) {
	const pages: INodeListSearchResult[] = [];
	let token: string | undefined;
	do {
		const page = await searchAgents(filter, token);
		pages.push(page);
		token = page.paginationToken as string | undefined;
	} while (token !== undefined && pages.length < 20);
	return pages;
}

test('lists only active agents, with name and ID, through the real authenticated request', async () => {
	const { results, paginationToken } = await searchAgents();
	expect(results).toEqual([
		{ name: 'Appointment Reminder', value: SIM_AGENTS.active },
		{ name: 'Inbound Support', value: SIM_AGENTS.noNumbers },
		{ name: 'Lead Qualifier', value: SIM_AGENTS.leadQualifier },
		{ name: 'Sales Follow-up', value: SIM_AGENTS.salesFollowUp },
	]);
	expect(results.map((r) => r.value)).not.toContain(SIM_AGENTS.draft);
	expect(paginationToken).toBeUndefined();

	const [request] = agentRequests();
	expect(request.path).toBe('/agents');
	expect(request.query).toEqual({ status: 'active', limit: '50', offset: '0' });
	expect(request.headers['authorization']).toBe(`Bearer ${sim.apiKey}`);
	expect(request.status).toBe(200);
});

test('filters by name (case-insensitive substring, done by Truedy)', async () => {
	expect((await searchAgents('LEAD')).results).toEqual([
		{ name: 'Lead Qualifier', value: SIM_AGENTS.leadQualifier },
	]);
	expect(agentRequests()[0].query).toEqual({
		status: 'active',
		limit: '50',
		offset: '0',
		name: 'LEAD',
	});
	// The draft agent matches the name but is not active.
	expect((await searchAgents('survey')).results).toEqual([]);
});

test('pages by offset until has_more is false', async () => {
	sim.configure({ extraAgents: 120 });
	const pages = await allPages();
	expect(pages.map((p) => p.results.length)).toEqual([50, 50, 24]);
	expect(pages.map((p) => p.paginationToken)).toEqual(['50', '100', undefined]);
	expect(agentRequests().map((r) => r.query.offset)).toEqual(['0', '50', '100']);

	const values = pages.flatMap((p) => p.results.map((r) => r.value));
	expect(new Set(values).size).toBe(124);
	expect(values).not.toContain(SIM_AGENTS.draft);
	expect(values).toContain(SIM_AGENTS.active);
	expect(values).toContain('9e000000-0000-4000-8000-000000000120');
});

test('pages a name filter too', async () => {
	sim.configure({ extraAgents: 120 });
	// "generated agent 0" matches Generated Agent 001–099: 99 agents, two pages.
	const pages = await allPages('generated agent 0');
	expect(pages.map((p) => p.results.length)).toEqual([50, 49]);
	expect(pages[1].results.at(-1)).toEqual({
		name: 'Generated Agent 099',
		value: '9e000000-0000-4000-8000-000000000099',
	});
	expect(agentRequests().map((r) => [r.query.name, r.query.offset])).toEqual([
		['generated agent 0', '0'],
		['generated agent 0', '50'],
	]);
});

test.each([
	['pagination inside meta', { paginationIn: 'meta' as const }],
	['bare responses', { responseShape: 'bare' as const }],
])('paging also works with %s', async (_label, shape) => {
	sim.configure({ extraAgents: 60, ...shape });
	const pages = await allPages();
	expect(pages.map((p) => p.results.length)).toEqual([50, 14]);
	expect(pages.map((p) => p.paginationToken)).toEqual(['50', undefined]);
});

test('a bad key gives a NodeApiError without the key in it', async () => {
	const context = loadOptionsContext({
		apiKey: 'truedy_notTheRightKey000000000000000000',
		baseUrl: sim.baseUrl,
	});
	const error = (await nodeType
		.methods!.listSearch!.searchAgents.call(context as unknown as ILoadOptionsFunctions)
		.catch((e: unknown) => e)) as NodeApiError;
	expect(error.name).toBe('NodeApiError');
	expect(error.httpCode).toBe('401');
	expect(error.message).toMatch(/^Truedy rejected the API key/);
	expect(
		JSON.stringify({ ...error, message: error.message, description: error.description }),
	).not.toContain('truedy_notTheRightKey');
});
