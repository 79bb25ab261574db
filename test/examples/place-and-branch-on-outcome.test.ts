// examples/place-and-branch-on-outcome.workflow.json: its shape, and its Truedy node run through
// the real engine against the simulator with the Code node's contacts. The n8n-nodes-base nodes
// (Code, IF, Set) are not installed here, so the Code node's items are evaluated directly and the
// IF node's condition is read from its parameters.
import * as fs from 'fs';
import * as path from 'path';
import { NodeHelpers, type IDataObject, type INodeExecutionData } from 'n8n-workflow';

import { NODE, PackageNodeTypes, pollsOf, runTruedy, SIM_AGENTS, useSimulator } from '../support';

const example = JSON.parse(
	fs.readFileSync(
		path.join(__dirname, '..', '..', 'examples', 'place-and-branch-on-outcome.workflow.json'),
		'utf8',
	),
);
const byName = (name: string) => example.nodes.find((node: IDataObject) => node.name === name);

test('is importable: fixed ids, the expected node types and versions, connections between existing nodes', () => {
	expect(example.id).toBe('truedyPlaceBranch1');
	expect(
		example.nodes.map((node: IDataObject) => [node.name, node.type, node.typeVersion]),
	).toEqual([
		["When clicking 'Execute workflow'", 'n8n-nodes-base.manualTrigger', 1],
		['Contacts to call', 'n8n-nodes-base.code', 2],
		['Call and wait for the outcome', 'n8n-nodes-truedy.truedy', 1],
		['Answered?', 'n8n-nodes-base.if', 2],
		['Answered: log summary', 'n8n-nodes-base.set', 3.4],
		['Not reached: schedule retry', 'n8n-nodes-base.set', 3.4],
	]);
	expect(new Set(example.nodes.map((node: IDataObject) => node.id)).size).toBe(
		example.nodes.length,
	);
	const names = new Set(example.nodes.map((node: IDataObject) => node.name));
	for (const [from, outputs] of Object.entries(example.connections as IDataObject)) {
		expect(names.has(from)).toBe(true);
		for (const branch of (outputs as { main: Array<Array<{ node: string }>> }).main) {
			for (const target of branch) expect(names.has(target.node)).toBe(true);
		}
	}
	// IF: true branch first, false branch second.
	expect(
		example.connections['Answered?'].main.map((branch: Array<{ node: string }>) =>
			branch.map((c) => c.node),
		),
	).toEqual([['Answered: log summary'], ['Not reached: schedule retry']]);
	const truedy = byName('Call and wait for the outcome');
	expect(truedy.credentials).toEqual({
		truedyApi: { id: 'truedySimulatorCred', name: 'Truedy (simulator)' },
	});
	expect(truedy.parameters.agent).toEqual({ __rl: true, mode: 'id', value: SIM_AGENTS.active });
	expect(truedy.parameters.waitForEnd).toBe(true);
});

test('the IF node is in the v2 format and tests {{$json.status}} equals "ended"', () => {
	const { conditions, options } = byName('Answered?').parameters;
	expect(options).toEqual({});
	expect(conditions).toEqual({
		options: { caseSensitive: true, leftValue: '', typeValidation: 'strict' },
		conditions: [
			{
				id: expect.stringMatching(/^[0-9a-f-]{36}$/),
				leftValue: '={{ $json.status }}',
				rightValue: 'ended',
				operator: { type: 'string', operation: 'equals' },
			},
		],
		combinator: 'and',
	});
});

test("the Truedy node's parameters are valid for the node", () => {
	const truedy = byName('Call and wait for the outcome');
	const type = new PackageNodeTypes().getByName(truedy.type);
	const parameters = NodeHelpers.getNodeParameters(
		type.description.properties,
		truedy.parameters,
		true,
		false,
		truedy,
		type.description,
	);
	expect(
		NodeHelpers.getNodeParametersIssues(
			type.description.properties,
			{ ...truedy, parameters },
			type.description,
		),
	).toBeNull();
	// Nothing in the example is dropped as a parameter the node does not know.
	expect(parameters).toMatchObject(truedy.parameters);
});

describe('run against the simulator', () => {
	const sim = useSimulator({ callTimings: { queuedMs: 200, ringingMs: 300, inProgressMs: 1500 } });

	test("the answered contact takes the IF node's true branch, the unreachable one the false branch", async () => {
		const contacts = new Function(
			byName('Contacts to call').parameters.jsCode,
		)() as INodeExecutionData[];
		expect(contacts).toHaveLength(2);
		const truedy = byName('Call and wait for the outcome');

		const result = await runTruedy(sim, { parameters: truedy.parameters, items: contacts });

		expect(result.nodeError(NODE)).toBeUndefined();
		const calls = result.output(NODE).map((item) => item.json);
		const [condition] = byName('Answered?').parameters.conditions.conditions;
		const answered = calls.filter((call) => call.status === condition.rightValue);
		const notReached = calls.filter((call) => call.status !== condition.rightValue);
		expect(answered).toEqual([
			expect.objectContaining({
				phone_number: '+14155550123',
				status: 'ended',
				summary: expect.stringContaining('Sarah'),
				duration_seconds: 42,
				recording_url: expect.any(String),
				transcript: expect.any(Array),
			}),
		]);
		expect(notReached).toEqual([
			expect.objectContaining({
				phone_number: '+14155550000',
				status: 'failed',
				end_reason: 'unjoined',
				waitTimedOut: false,
			}),
		]);
		// One list read answers for both calls.
		expect(pollsOf(sim)).toHaveLength(1);
	});
});
