/**
 * The Truedy tool as an AI agent sees it, proven without a language model: a published workflow
 * with n8n's MCP Server Trigger (`@n8n/n8n-nodes-langchain.mcpTrigger` v2, Bearer auth) and Place
 * Call attached as its tool (`n8n-nodes-truedy.truedyTool`, `ai_tool` connection, agent, phone
 * number and a variable from `$fromAI`). The official MCP client SDK lists the tools and calls the
 * Truedy tool over Streamable HTTP, as Claude Desktop or any MCP client would; the simulator's
 * request log shows what reached Truedy.
 *
 * The MCP trigger (v2) serves `<N8N_ENDPOINT_MCP, default "mcp">/<path>` on the production URL of
 * a published workflow: GET/POST without a session id set up a session, POST with one handles
 * messages. Authentication is none, Bearer, header or n8n OAuth2; Bearer checks
 * `Authorization: Bearer <token>` against an httpBearerAuth credential.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { randomBytes } from 'crypto';
import fs from 'fs';
import path from 'path';

import { SIM_AGENTS } from '../simulator/agents';
import type { RecordedRequest } from '../simulator/types';
import {
	createWorkflow,
	publishNow,
	startWithSimulator,
	TRUEDY_API_CREDENTIAL_ID,
} from './crm-flow';
import { e2eLog, Timings } from './e2e-helpers';
import { ensureN8nInstalled, N8nServer } from './n8n-server';
import type { TruedySimulator } from '../simulator/server';

const timings = new Timings();
const MCP_PATH = 'truedy-mcp';
const TOOL_NAME = 'Place_Call';
const BEARER_CREDENTIAL_ID = 'mcpBearerCred001';
const token = `mcp_${randomBytes(16).toString('hex')}`;

let n8n: N8nServer | undefined;
let simulator: TruedySimulator | undefined;
let dispose: (() => Promise<void>) | undefined;
let client: Client | undefined;

const fromAI = (key: string, description: string) =>
	`={{ $fromAI('${key}', '${description}', 'string') }}`;

function mcpWorkflow() {
	return {
		name: 'Truedy as an MCP tool',
		nodes: [
			{
				id: 'a1d6f3b0-0000-4000-8000-000000000001',
				name: 'MCP Server Trigger',
				type: '@n8n/n8n-nodes-langchain.mcpTrigger',
				typeVersion: 2,
				position: [0, 0],
				webhookId: 'a1d6f3b0-0000-4000-8000-0000000000ff',
				parameters: { authentication: 'bearerAuth', path: MCP_PATH },
				credentials: { httpBearerAuth: { id: BEARER_CREDENTIAL_ID, name: 'MCP bearer token' } },
			},
			{
				id: 'a1d6f3b0-0000-4000-8000-000000000002',
				name: 'Place Call',
				type: 'n8n-nodes-truedy.truedyTool',
				typeVersion: 1,
				position: [0, 200],
				parameters: {
					resource: 'call',
					operation: 'place',
					agent: {
						__rl: true,
						mode: 'id',
						value: fromAI('agent_id', 'The Truedy agent ID that makes the call'),
					},
					phoneNumber: fromAI(
						'phone_number',
						'The number to call, in E.164 format, e.g. +14155551234',
					),
					variablesInput: 'keyValue',
					variables: {
						variable: [
							{
								name: 'first_name',
								value: fromAI('first_name', 'The first name of the person called'),
							},
						],
					},
				},
				credentials: { truedyApi: { id: TRUEDY_API_CREDENTIAL_ID, name: 'Truedy (simulator)' } },
			},
		],
		connections: {
			'Place Call': { ai_tool: [[{ node: 'MCP Server Trigger', type: 'ai_tool', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

async function connect(bearer: string): Promise<Client> {
	const mcp = new Client({ name: 'truedy-e2e', version: '1.0.0' });
	const transport = new StreamableHTTPClientTransport(new URL(`${n8n!.baseUrl}/mcp/${MCP_PATH}`), {
		requestInit: { headers: { authorization: `Bearer ${bearer}` } },
	});
	await mcp.connect(transport);
	return mcp;
}

const postCalls = (): RecordedRequest[] =>
	simulator!.requests.filter((request) => request.method === 'POST' && request.path === '/calls');

beforeAll(async () => {
	const log = e2eLog('mcp');
	const install = await ensureN8nInstalled(log);
	n8n = await N8nServer.create({ install, log });
	const server = n8n;
	const started = await timings.time('setup: simulator, pack, credentials, start', () =>
		startWithSimulator(server, install, { autoAdvance: false }, 'whsec_unused', async () => {
			await server.importCredentials({
				id: BEARER_CREDENTIAL_ID,
				name: 'MCP bearer token',
				type: 'httpBearerAuth',
				data: { token },
			});
			return {};
		}),
	);
	simulator = started.simulator;
	dispose = started.dispose;
	const workflow = mcpWorkflow();
	await timings.time('create + publish the MCP workflow (public API)', async () => {
		await createWorkflow(server, workflow);
		await publishNow(server, (workflow as { id?: string }).id!);
	});
	client = await timings.time('MCP client: connect (initialize)', () => connect(token));
}, 10 * 60_000);

afterAll(async () => {
	await client?.close();
	await dispose?.();
	timings.print('mcp.e2e.test.ts');
}, 60_000);

test('an MCP client lists the Truedy tool with its description and an input schema from $fromAI', async () => {
	const { tools } = await timings.time('tools/list', () => client!.listTools());
	process.stderr.write(`[mcp] tools/list:\n${JSON.stringify(tools, null, 2)}\n`);
	expect(tools.map((tool) => tool.name)).toEqual([TOOL_NAME]);
	const [tool] = tools;
	expect(tool.description).toMatch(/^Places one outbound phone call now/);
	expect(tool.description).toMatch(/Returns at once with the queued call/);
	expect(tool.description).toMatch(/does not wait for the call to end/);
	expect(tool.description).toMatch(/dials a real person/);
	expect(tool.inputSchema.type).toBe('object');
	expect(tool.inputSchema.properties).toEqual({
		agent_id: { type: 'string', description: 'The Truedy agent ID that makes the call' },
		phone_number: {
			type: 'string',
			description: 'The number to call, in E.164 format, e.g. +14155551234',
		},
		first_name: { type: 'string', description: 'The first name of the person called' },
	});
	expect([...(tool.inputSchema.required ?? [])].sort()).toEqual([
		'agent_id',
		'first_name',
		'phone_number',
	]);
});

test('calling the tool places exactly that call, with an idempotency key, and returns the simplified call', async () => {
	simulator!.reset();
	const result = await timings.time('tools/call Place_Call', () =>
		client!.callTool({
			name: TOOL_NAME,
			arguments: {
				agent_id: SIM_AGENTS.active,
				phone_number: '+1 415 555 0123',
				first_name: 'Sarah',
			},
		}),
	);
	process.stderr.write(`[mcp] tools/call result:\n${JSON.stringify(result, null, 2)}\n`);
	expect(result.isError).toBeFalsy();

	const posts = postCalls();
	expect(posts).toHaveLength(1);
	const [post] = posts;
	expect(post.status).toBe(201);
	expect(post.headers['authorization']).toBe(`Bearer ${simulator!.apiKey}`);
	expect(post.headers['x-idempotency-key']).toMatch(/\S{16,}/);
	expect(post.body).toEqual({
		agent_id: SIM_AGENTS.active,
		phone_number: '+14155550123',
		variables: { first_name: 'Sarah' },
	});

	const content = result.content as Array<{ type: string; text: string }>;
	expect(content).toHaveLength(1);
	expect(content[0].type).toBe('text');
	const parsed = JSON.parse(content[0].text) as unknown;
	const calls = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
	expect(calls).toHaveLength(1);
	const [call] = calls;
	expect(Object.keys(call)).toEqual([
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
	expect(call.status).toBe('queued');
	expect(call.agent_id).toBe(SIM_AGENTS.active);
	expect(call.phone_number).toBe('+14155550123');
	expect(simulator!.calls.get(String(call.id))?.variables).toEqual({ first_name: 'Sarah' });
});

test('an invalid phone number is a clear tool error, and nothing is sent to Truedy', async () => {
	simulator!.reset();
	const result = await timings.time('tools/call with an invalid number', () =>
		client!.callTool({
			name: TOOL_NAME,
			arguments: { agent_id: SIM_AGENTS.active, phone_number: '555-0123', first_name: 'Omar' },
		}),
	);
	process.stderr.write(
		`[mcp] tools/call (invalid number) result:\n${JSON.stringify(result, null, 2)}\n`,
	);
	expect(result.isError).toBe(true);
	const text = (result.content as Array<{ text: string }>).map((part) => part.text).join('\n');
	expect(text).toMatch(/phone number/i);
	expect(text).toContain('555-0123');
	expect(postCalls()).toHaveLength(0);
});

test('a wrong bearer token is refused before any tool is listed', async () => {
	await expect(connect('wrong-token')).rejects.toThrow(/403|401|Authorization|forbidden/i);
});

test('n8n serves the package output schemas (__schema__) for Place Call, Get Call and the trigger', async () => {
	const schema = async (path: string) => {
		const response = await fetch(`${n8n!.baseUrl}/schemas/${path}`);
		return {
			status: response.status,
			body: response.status === 200 ? ((await response.json()) as any) : undefined,
		};
	};
	const place = await schema('n8n-nodes-truedy.truedy/1.0.0/call/place.json');
	expect(place.status).toBe(200);
	expect(Object.keys(place.body.properties)).toEqual(
		expect.arrayContaining(['id', 'status', 'summary', 'transcript', 'waitTimedOut']),
	);
	const get = await schema('n8n-nodes-truedy.truedy/1.0.0/call/get.json');
	expect(get.status).toBe(200);
	expect(Object.keys(get.body.properties)).toContain('recording_url');
	// The tool variant shares the node's folder, so its schema too.
	expect((await schema('n8n-nodes-truedy.truedyTool/1.0.0/call/place.json')).status).toBe(200);
	// The trigger's schema is for n8n's output-schema lookup (version fallback, `output.json`); the
	// 2.41.1 editor shows no schema preview for trigger nodes.
	const installed = path.join(n8n!.userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-nodes-truedy');
	const triggerSchema = path.join(
		installed,
		'dist',
		'nodes',
		'Truedy',
		'__schema__',
		'v1.1.0',
		'output.json',
	);
	expect(Object.keys(JSON.parse(fs.readFileSync(triggerSchema, 'utf8')).properties)).toContain(
		'resolution',
	);
});
