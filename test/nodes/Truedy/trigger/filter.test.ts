// The trigger's Agent Names or IDs picker (filters.agents, a list) adds to the Agent IDs text
// (filters.agentIds); saved workflows with only the text behave as before.
import { filterMismatch } from '../../../../nodes/Truedy/trigger/filter';
import { normalizeDelivery } from '../../../../nodes/Truedy/trigger/delivery';

const delivery = {
	...normalizeDelivery({
		event: 'call.ended',
		data: { call_id: 'call_1', agent_id: 'truedy_a', status: 'ended' },
	}),
	agentId: 'truedy_a',
	ultravoxAgentId: 'uv_a',
};

test.each([
	[{ agents: ['truedy_a'] }, true],
	[{ agents: ['truedy_b', 'truedy_a'] }, true],
	[{ agents: ['truedy_b'] }, false],
	[{ agents: [] }, true],
	[{ agents: ['truedy_b'], agentIds: 'uv_a' }, true],
	[{ agents: ['truedy_b'], agentIds: 'uv_b' }, false],
	// An expression in the picker can give a comma-separated string.
	[{ agents: 'truedy_b, truedy_a' }, true],
	[{ agentIds: 'truedy_a' }, true],
])('%p matches: %p', (filters, matches) => {
	expect(filterMismatch(delivery, filters) === undefined).toBe(matches);
});

test('a picked agent that does not match is named in the reason', () => {
	expect(filterMismatch(delivery, { agents: ['truedy_b'] })).toMatch(
		/agent truedy_a .*not in the Agent IDs filter/,
	);
});
