/**
 * Proves the real-n8n harness with n8n's own nodes: CLI import/execute before start, credential
 * import with plain data, a published webhook workflow served after start, and the public API.
 * Tests run in order and share one n8n instance.
 */
import * as http from 'http';
import * as path from 'path';
import { AddressInfo } from 'net';

import {
	ensureN8nInstalled,
	N8nInstall,
	N8nServer,
	nodeOutput,
	packAndInstallPackage,
} from './n8n-server';

const MINUTE = 60_000;
const MANUAL_ID = 'e2eSmokeManual01';
const WEBHOOK_ID = 'e2eSmokeWebhk001';
const HEADER_WF_ID = 'e2eSmokeHeader01';
const HEADER_CRED_ID = 'e2eSmokeCred0001';
const WEBHOOK_PATH = 'e2e-smoke';
/** A tiny community package (plain JS) installed the way users get packages: npm pack + npm install. */
const FIXTURE_PACKAGE = 'n8n-nodes-e2e-fixture';
const FIXTURE_DIR = path.join(__dirname, 'fixtures', FIXTURE_PACKAGE);

const timings: Record<string, number> = {};
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
	const started = Date.now();
	try {
		return await work();
	} finally {
		timings[label] = Date.now() - started;
	}
}

const manualWorkflow = {
	id: MANUAL_ID,
	name: 'E2E smoke: manual → set',
	active: false,
	settings: {},
	nodes: [
		{
			id: '6f0e1a52-0000-4000-8000-000000000001',
			name: 'Manual Trigger',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		{
			id: '6f0e1a52-0000-4000-8000-000000000002',
			name: 'Set',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			position: [220, 0],
			parameters: {
				mode: 'manual',
				assignments: {
					assignments: [
						{ id: 'a1', name: 'greeting', value: 'hello-e2e', type: 'string' },
						{ id: 'a2', name: 'sum', value: '={{ 1 + 2 }}', type: 'number' },
					],
				},
				options: {},
			},
		},
		{
			id: '6f0e1a52-0000-4000-8000-000000000003',
			name: 'E2E Fixture',
			type: `${FIXTURE_PACKAGE}.fixture`,
			typeVersion: 1,
			position: [440, 0],
			parameters: { tag: 'from-community-package' },
		},
	],
	connections: {
		'Manual Trigger': { main: [[{ node: 'Set', type: 'main', index: 0 }]] },
		Set: { main: [[{ node: 'E2E Fixture', type: 'main', index: 0 }]] },
	},
};

const webhookWorkflow = {
	id: WEBHOOK_ID,
	name: 'E2E smoke: webhook → set',
	active: false,
	settings: {},
	nodes: [
		{
			id: '6f0e1a52-0000-4000-8000-000000000011',
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: '6f0e1a52-0000-4000-8000-0000000000aa',
			parameters: { httpMethod: 'POST', path: WEBHOOK_PATH, responseMode: 'lastNode', options: {} },
		},
		{
			id: '6f0e1a52-0000-4000-8000-000000000012',
			name: 'Reply',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			position: [220, 0],
			parameters: {
				mode: 'manual',
				assignments: {
					assignments: [
						{ id: 'b1', name: 'reply', value: "={{ 'hi ' + $json.body.name }}", type: 'string' },
					],
				},
				options: {},
			},
		},
	],
	connections: { Webhook: { main: [[{ node: 'Reply', type: 'main', index: 0 }]] } },
};

function headerAuthWorkflow(url: string) {
	return {
		id: HEADER_WF_ID,
		name: 'E2E smoke: HTTP Request with imported header credential',
		active: false,
		settings: {},
		nodes: [
			{
				id: '6f0e1a52-0000-4000-8000-000000000021',
				name: 'Manual Trigger',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: '6f0e1a52-0000-4000-8000-000000000022',
				name: 'HTTP Request',
				type: 'n8n-nodes-base.httpRequest',
				typeVersion: 4.2,
				position: [220, 0],
				parameters: {
					url,
					authentication: 'genericCredentialType',
					genericAuthType: 'httpHeaderAuth',
					options: {},
				},
				credentials: { httpHeaderAuth: { id: HEADER_CRED_ID, name: 'E2E header auth' } },
			},
		],
		connections: {
			'Manual Trigger': { main: [[{ node: 'HTTP Request', type: 'main', index: 0 }]] },
		},
	};
}

/** A local HTTP server that records the X-E2E-Token header of each request. */
async function startHeaderEcho(): Promise<{
	url: string;
	seen: string[];
	close: () => Promise<void>;
}> {
	const seen: string[] = [];
	const server = http.createServer((request, response) => {
		const token = request.headers['x-e2e-token'];
		seen.push(typeof token === 'string' ? token : '');
		response.setHeader('content-type', 'application/json');
		response.end(JSON.stringify({ token: token ?? null }));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/check`,
		seen,
		close: () => new Promise((resolve) => server.close(() => resolve())),
	};
}

describe('real n8n harness (smoke, n8n built-in nodes only)', () => {
	const suiteStarted = Date.now();
	let install: N8nInstall;
	let n8n: N8nServer;

	beforeAll(async () => {
		install = await timed('install check', () => ensureN8nInstalled());
		n8n = await N8nServer.create({ install });
	}, 15 * MINUTE);

	afterAll(async () => {
		await n8n?.dispose();
		timings['whole suite'] = Date.now() - suiteStarted;
		process.stderr.write(`[n8n-e2e] timings (ms): ${JSON.stringify(timings)}\n`);
	}, MINUTE);

	test(
		'installs a community package into the user folder (npm pack + npm install)',
		async () => {
			const installed = await timed('pack and install package', () =>
				packAndInstallPackage(install, n8n.userFolder, FIXTURE_DIR),
			);
			expect(installed.name).toBe(FIXTURE_PACKAGE);
		},
		3 * MINUTE,
	);

	test(
		'imports and executes a workflow through the CLI (server not running)',
		async () => {
			await timed('cli import', () => n8n.importWorkflow(manualWorkflow));
			const run = await timed('cli execute', () => n8n.executeWorkflow(MANUAL_ID));

			expect(run.status).toBe('success');
			expect(nodeOutput(run, 'Set').map((item) => item.json)).toEqual([
				{ greeting: 'hello-e2e', sum: 3 },
			]);
			expect(nodeOutput(run, 'E2E Fixture').map((item) => item.json)).toEqual([
				{ greeting: 'hello-e2e', sum: 3, tag: 'from-community-package', fromPackage: true },
			]);
		},
		3 * MINUTE,
	);

	test(
		'imports and publishes a webhook workflow before start, then starts n8n',
		async () => {
			await n8n.importWorkflow(webhookWorkflow);
			await n8n.publishWorkflow(WEBHOOK_ID);

			await timed('server start to readiness', () => n8n.start());
			expect(n8n.isRunning).toBe(true);
			expect(n8n.logTail(400)).toContain(`Activated workflow "${webhookWorkflow.name}"`);
		},
		3 * MINUTE,
	);

	test(
		'serves the production webhook',
		async () => {
			const response = await timed('webhook call', () =>
				fetch(n8n.webhookUrl(WEBHOOK_PATH), {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ name: 'e2e' }),
				}),
			);

			expect(response.status).toBe(200);
			expect(await response.json()).toEqual({ reply: 'hi e2e' });
		},
		MINUTE,
	);

	test(
		'lists the webhook execution through the public API (owner from env + API key)',
		async () => {
			await n8n.login();
			const apiKey = await n8n.createApiKey();
			expect(apiKey).toMatch(/\S{20,}/);

			expect(await n8n.nodeTypeNames()).toEqual(
				expect.arrayContaining([`${FIXTURE_PACKAGE}.fixture`, 'n8n-nodes-base.webhook']),
			);

			const executions = await n8n.waitForExecutions(WEBHOOK_ID, 1, 20_000);
			expect(executions).toHaveLength(1);
			expect(executions[0]).toMatchObject({
				workflowId: WEBHOOK_ID,
				mode: 'webhook',
				status: 'success',
			});

			const detailed = await n8n.getExecution(executions[0].id, true);
			expect(nodeOutput({ data: detailed.data! }, 'Reply').map((item) => item.json)).toEqual([
				{ reply: 'hi e2e' },
			]);
		},
		MINUTE,
	);

	test(
		'imports a credential with plain data; n8n encrypts it and workflows can use it',
		async () => {
			const echo = await startHeaderEcho();
			try {
				await n8n.importCredentials({
					id: HEADER_CRED_ID,
					name: 'E2E header auth',
					type: 'httpHeaderAuth',
					data: { name: 'X-E2E-Token', value: 'secret-e2e-123' },
				});
				await n8n.importWorkflow(headerAuthWorkflow(echo.url));

				// Stored encrypted: the default export shows an opaque string, --decrypted the plain data.
				const [stored] = await n8n.exportCredentials(HEADER_CRED_ID);
				expect(typeof stored.data).toBe('string');
				expect(String(stored.data)).not.toContain('secret-e2e-123');
				const [decrypted] = await n8n.exportCredentials(HEADER_CRED_ID, { decrypted: true });
				expect(decrypted).toMatchObject({
					type: 'httpHeaderAuth',
					data: { name: 'X-E2E-Token', value: 'secret-e2e-123' },
				});

				// CLI execute while the server runs (separate task-broker port).
				const run = await n8n.executeWorkflow(HEADER_WF_ID);
				expect(echo.seen).toEqual(['secret-e2e-123']);
				expect(nodeOutput(run, 'HTTP Request').map((item) => item.json)).toEqual([
					{ token: 'secret-e2e-123' },
				]);
			} finally {
				await echo.close();
			}
		},
		3 * MINUTE,
	);

	test(
		'restarts on the same user folder and port, then stops cleanly',
		async () => {
			await timed('server restart', () => n8n.restart());
			const response = await fetch(n8n.webhookUrl(WEBHOOK_PATH), {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ name: 'again' }),
			});
			expect(await response.json()).toEqual({ reply: 'hi again' });

			await timed('server stop', () => n8n.stop());
			expect(n8n.isRunning).toBe(false);
			await expect(fetch(`${n8n.baseUrl}/healthz`)).rejects.toThrow();
		},
		MINUTE,
	);
});
