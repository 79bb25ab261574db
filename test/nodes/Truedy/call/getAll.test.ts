// Call › Get Many through n8n's real engine against the simulator: limit/offset paging,
// Return All vs Limit, pagination in `meta`, filters in the query string, and the 422
// status-spelling fallback.
import type { IDataObject } from 'n8n-workflow';

import {
	apiRequests,
	createCall,
	leadPhone,
	NODE,
	outputJson,
	runTruedy,
	SIM_AGENTS,
	useSimulator,
} from '../../../support';
import { forgetStatusSpellingsForTests } from '../../../../nodes/Truedy/resources/call/getAll';

const sim = useSimulator({ autoAdvance: false });
// Which status spelling a server accepted is remembered per process: every test starts afresh.
beforeEach(() => forgetStatusSpellingsForTests());

const getMany = (parameters: IDataObject = {}) => ({
	resource: 'call',
	operation: 'getAll',
	...parameters,
});

/** Creates `count` calls (newest last); the API lists them newest first. */
async function createCalls(count: number, agentId: string = SIM_AGENTS.active): Promise<string[]> {
	const ids: string[] = [];
	for (let i = 0; i < count; i++)
		ids.push(await createCall(sim, { agent_id: agentId, phone_number: leadPhone(i % 1000) }));
	return ids;
}

/** The GET /calls requests the node made, as { query } without the noise. */
function listQueries(): Array<Record<string, string | string[]>> {
	return apiRequests(sim, 'GET', '/calls').map((r) => r.query);
}

describe('paging', () => {
	test('Return All reads 100 per page, following offset until has_more is false', async () => {
		const ids = await createCalls(230);
		const result = await runTruedy(sim, { parameters: getMany({ returnAll: true }) });

		expect(result.nodeError(NODE)).toBeUndefined();
		const output = outputJson(result);
		expect(output.map((call) => call.id)).toEqual([...ids].reverse());
		expect(new Set(output.map((call) => call.id)).size).toBe(230);
		expect(listQueries()).toEqual([
			{ limit: '100', offset: '0' },
			{ limit: '100', offset: '100' },
			{ limit: '100', offset: '200' },
		]);
		// Every call is normalised like Get's output, and paired with the one input item.
		expect(
			output.every((call) => call.status === 'queued' && typeof call.phone_number === 'string'),
		).toBe(true);
		expect(
			result.output(NODE).every((item) => (item.pairedItem as { item: number }).item === 0),
		).toBe(true);
	});

	test('a last page that is exactly full stops on has_more: false, with no extra request', async () => {
		await createCalls(200);
		const result = await runTruedy(sim, { parameters: getMany({ returnAll: true }) });
		expect(outputJson(result)).toHaveLength(200);
		expect(listQueries()).toEqual([
			{ limit: '100', offset: '0' },
			{ limit: '100', offset: '100' },
		]);
	});

	test('Limit above one page asks for the remainder on the last page', async () => {
		const ids = await createCalls(230);
		const result = await runTruedy(sim, { parameters: getMany({ returnAll: false, limit: 150 }) });
		expect(outputJson(result).map((call) => call.id)).toEqual([...ids].reverse().slice(0, 150));
		expect(listQueries()).toEqual([
			{ limit: '100', offset: '0' },
			{ limit: '50', offset: '100' },
		]);
	});

	test('Limit within one page is a single request; the default Limit is 50', async () => {
		const ids = await createCalls(60);
		const five = await runTruedy(sim, { parameters: getMany({ limit: 5 }) });
		expect(outputJson(five).map((call) => call.id)).toEqual([...ids].reverse().slice(0, 5));
		expect(listQueries()).toEqual([{ limit: '5', offset: '0' }]);

		sim.requests.length = 0;
		const byDefault = await runTruedy(sim, { parameters: getMany() });
		expect(outputJson(byDefault)).toHaveLength(50);
		expect(listQueries()).toEqual([{ limit: '50', offset: '0' }]);
	});

	test('Limit larger than what exists returns everything and stops', async () => {
		await createCalls(7);
		const result = await runTruedy(sim, { parameters: getMany({ limit: 80 }) });
		expect(outputJson(result)).toHaveLength(7);
		expect(listQueries()).toEqual([{ limit: '80', offset: '0' }]);
	});

	test.each([
		['Return All', { returnAll: true }, '100'],
		['Limit', { limit: 10 }, '10'],
	])('an empty result (%s) outputs no items and succeeds', async (_label, parameters, limit) => {
		const result = await runTruedy(sim, { parameters: getMany(parameters) });
		expect(result.nodeError(NODE)).toBeUndefined();
		expect(result.output(NODE)).toEqual([]);
		expect(listQueries()).toEqual([{ limit, offset: '0' }]);
	});

	test.each([['envelope'], ['bare']] as const)(
		'pagination in `meta` instead of `pagination` (%s response) pages the same way',
		async (responseShape) => {
			sim.configure({ paginationIn: 'meta', responseShape });
			const ids = await createCalls(230);
			sim.requests.length = 0;

			const all = await runTruedy(sim, { parameters: getMany({ returnAll: true }) });
			expect(all.nodeError(NODE)).toBeUndefined();
			expect(outputJson(all).map((call) => call.id)).toEqual([...ids].reverse());
			expect(listQueries()).toEqual([
				{ limit: '100', offset: '0' },
				{ limit: '100', offset: '100' },
				{ limit: '100', offset: '200' },
			]);

			sim.requests.length = 0;
			const limited = await runTruedy(sim, { parameters: getMany({ limit: 120 }) });
			expect(outputJson(limited)).toHaveLength(120);
			expect(listQueries()).toEqual([
				{ limit: '100', offset: '0' },
				{ limit: '20', offset: '100' },
			]);
		},
	);

	test('each input item runs its own list', async () => {
		await createCalls(3, SIM_AGENTS.active);
		await createCalls(2, SIM_AGENTS.leadQualifier);
		const result = await runTruedy(sim, {
			parameters: getMany({ returnAll: true, filters: { agentId: '={{ $json.agent }}' } }),
			items: [
				{ json: { agent: SIM_AGENTS.active } },
				{ json: { agent: SIM_AGENTS.leadQualifier } },
			],
		});
		const output = result.output(NODE);
		expect(
			output.map((item) => [item.json.agent_id, (item.pairedItem as { item: number }).item]),
		).toEqual([
			[SIM_AGENTS.active, 0],
			[SIM_AGENTS.active, 0],
			[SIM_AGENTS.active, 0],
			[SIM_AGENTS.leadQualifier, 1],
			[SIM_AGENTS.leadQualifier, 1],
		]);
	});
});

describe('filters', () => {
	/** Four calls with distinct agents, statuses and creation times. */
	async function seedCalls() {
		const plan = [
			{ agent: SIM_AGENTS.active, status: 'ended', created: '2025-03-01T10:00:00.000Z' },
			{ agent: SIM_AGENTS.active, status: 'failed', created: '2025-03-02T10:00:00.000Z' },
			{ agent: SIM_AGENTS.leadQualifier, status: 'failed', created: '2025-03-03T10:00:00.000Z' },
			{ agent: SIM_AGENTS.active, status: 'failed', created: '2025-03-05T10:00:00.000Z' },
			{ agent: SIM_AGENTS.active, status: 'in_progress', created: '2025-03-03T12:00:00.000Z' },
		];
		const ids: string[] = [];
		for (const [i, { agent, status, created }] of plan.entries()) {
			const id = await createCall(sim, { agent_id: agent, phone_number: leadPhone(i) });
			sim.setCallStatus(id, status);
			sim.calls.get(id)!.created_at = created;
			ids.push(id);
		}
		sim.requests.length = 0;
		return ids;
	}

	test('status, direction, agent and created after/before all reach the query string', async () => {
		const ids = await seedCalls();
		const result = await runTruedy(sim, {
			parameters: getMany({
				returnAll: true,
				filters: {
					status: 'failed',
					direction: 'outbound',
					agentId: ` ${SIM_AGENTS.active} `,
					createdAfter: '2025-03-02T00:00:00.000Z',
					createdBefore: '2025-03-04T00:00:00.000Z',
				},
			}),
		});

		expect(result.nodeError(NODE)).toBeUndefined();
		expect(listQueries()).toEqual([
			{
				status: 'failed',
				direction: 'outbound',
				agent_id: SIM_AGENTS.active,
				created_after: '2025-03-02T00:00:00.000Z',
				created_before: '2025-03-04T00:00:00.000Z',
				limit: '100',
				offset: '0',
			},
		]);
		expect(outputJson(result).map((call) => call.id)).toEqual([ids[1]]);
	});

	test.each([
		['an ISO string with an offset', '2025-03-03T02:00:00+02:00'],
		['epoch milliseconds from an expression', '={{ $json.sinceMs }}'],
		['epoch seconds from an expression', '={{ $json.sinceSeconds }}'],
		[
			'a Luxon DateTime from an expression',
			"={{ DateTime.fromISO('2025-03-03T01:00:00', { zone: 'Europe/Paris' }) }}",
		],
		['a JavaScript Date from an expression', '={{ new Date(Date.UTC(2025, 2, 3)) }}'],
	])('Created After given as %s is sent as ISO 8601 UTC', async (_label, createdAfter) => {
		await seedCalls();
		const at = Date.parse('2025-03-03T00:00:00Z');
		const result = await runTruedy(sim, {
			parameters: getMany({ limit: 10, filters: { createdAfter } }),
			items: [{ json: { sinceMs: at, sinceSeconds: at / 1000 } }],
		});
		expect(result.nodeError(NODE)).toBeUndefined();
		expect(listQueries()).toEqual([
			{ created_after: '2025-03-03T00:00:00.000Z', limit: '10', offset: '0' },
		]);
		expect(outputJson(result)).toHaveLength(3);
	});

	test('no filters sends only limit and offset', async () => {
		await seedCalls();
		const result = await runTruedy(sim, { parameters: getMany({ limit: 10, filters: {} }) });
		expect(outputJson(result)).toHaveLength(5);
		expect(listQueries()).toEqual([{ limit: '10', offset: '0' }]);
	});

	test.each([
		['ended', 'ended', 'completed'],
		['ended', 'completed', 'completed'],
		['in-progress', 'ended', 'in_progress'],
		['in-progress', 'completed', 'in_progress'],
	] as const)(
		'status "%s" is sent in the API-reference spelling first (API vocabulary "%s")',
		async (status, vocabulary, sent) => {
			sim.configure({ statusVocabulary: vocabulary });
			const ids = await seedCalls();
			const result = await runTruedy(sim, {
				parameters: getMany({ returnAll: true, filters: { status } }),
			});
			expect(result.nodeError(NODE)).toBeUndefined();
			expect(listQueries().map((q) => q.status)).toEqual([sent]);
			const expected = status === 'ended' ? ids[0] : ids[4];
			expect(outputJson(result)).toEqual([expect.objectContaining({ id: expected, status })]);
		},
	);

	test.each([
		['ended', ['completed', 'ended'], 0],
		['in-progress', ['in_progress', 'in-progress'], 4],
		['cancelled', ['cancelled'], -1],
	] as const)(
		'an API that rejects the reference spelling with 422 is asked again with the guide spelling (%s)',
		async (status, sent, expectedIndex) => {
			sim.configure({ statusFilterVocabulary: 'ended' });
			const ids = await seedCalls();
			const result = await runTruedy(sim, {
				parameters: getMany({ returnAll: true, filters: { status } }),
			});
			expect(result.nodeError(NODE)).toBeUndefined();
			expect(apiRequests(sim, 'GET', '/calls').map((r) => [r.query.status, r.status])).toEqual(
				sent.map((spelling, i) => [spelling, i < sent.length - 1 ? 422 : 200]),
			);
			expect(outputJson(result).map((call) => call.id)).toEqual(
				expectedIndex < 0 ? [] : [ids[expectedIndex]],
			);
		},
	);

	test('the accepted spelling is remembered per server: the 422 costs one request, not one per list', async () => {
		sim.configure({ statusFilterVocabulary: 'ended' });
		await seedCalls();
		for (let run = 0; run < 3; run++) {
			const result = await runTruedy(sim, {
				parameters: getMany({ returnAll: true, filters: { status: 'ended' } }),
			});
			expect(result.nodeError(NODE)).toBeUndefined();
		}
		expect(apiRequests(sim, 'GET', '/calls').map((r) => [r.query.status, r.status])).toEqual([
			['completed', 422],
			['ended', 200],
			['ended', 200],
			['ended', 200],
		]);
	});

	test('the guide spelling is kept for every page of the same list', async () => {
		sim.configure({ statusFilterVocabulary: 'ended' });
		for (let i = 0; i < 130; i++) {
			const id = await createCall(sim, { agent_id: SIM_AGENTS.active, phone_number: leadPhone(i) });
			sim.setCallStatus(id, 'ended');
		}
		sim.requests.length = 0;
		const result = await runTruedy(sim, {
			parameters: getMany({ returnAll: true, filters: { status: 'ended' } }),
		});
		expect(outputJson(result)).toHaveLength(130);
		expect(
			apiRequests(sim, 'GET', '/calls').map((r) => [r.query.status, r.query.offset, r.status]),
		).toEqual([
			['completed', '0', 422],
			['ended', '0', 200],
			['ended', '100', 200],
		]);
	});

	test('a 422 that no spelling fixes fails the node with the API message', async () => {
		const result = await runTruedy(sim, {
			parameters: getMany({
				limit: 5,
				filters: { status: 'failed', createdAfter: 'last tuesday' },
			}),
		});
		const error = result.nodeError(NODE)!;
		expect(error.httpCode).toBe('422');
		expect(error.message).toContain('created_after must be an ISO 8601 date-time');
		expect(apiRequests(sim, 'GET', '/calls')).toHaveLength(1);
	});

	test('a non-422 error is not retried with the other spelling', async () => {
		const result = await runTruedy(sim, {
			parameters: getMany({ limit: 5, filters: { status: 'ended' } }),
			apiKey: 'truedy_wrong_key',
		});
		expect(result.nodeError(NODE)?.message).toContain('Truedy rejected the API key');
		expect(apiRequests(sim, 'GET', '/calls').map((r) => r.query.status)).toEqual(['completed']);
	});
});
