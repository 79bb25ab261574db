/**
 * The compatibility matrix's cases, for the one n8n version run-matrix.js hands over: one server,
 * one simulator and two workflows (fixtures/) per version.
 *
 * - The package is packed and installed into the user folder's nodes dir, as n8n installs
 *   community packages, and both nodes load.
 * - fixtures/cases.workflow.json, run once by `n8n execute`: Place Call with Wait for Call to End;
 *   "Continue (using error output)" with a failing item (invalid number) next to one that is
 *   called, and with a call still going at Max Wait; "Continue (using regular output)".
 * - fixtures/trigger.workflow.json, published: signed deliveries (accepted, forged, duplicate).
 *
 * A version below the stated minimum (`expect: 'refused'`) only checks that both nodes refuse to
 * load with a message naming the minimum.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { MINIMUM_N8N_VERSION } from '../../../nodes/Truedy/shared/compat';
import { SIM_AGENTS, startSimulator } from '../../simulator/server';
import type { DeliveryRecord, TruedySimulator, WebhookOptions } from '../../simulator/server';
import { sendDelivery } from '../../simulator/webhooks';
import {
	e2eLog,
	eventually,
	executionBaseline,
	executionIds,
	expectOnlySentinelSince,
	newExecutions,
	placeAndEndCall,
	Timings,
	triggerItem,
} from '../e2e-helpers';
import { N8nServer, nodeOutput, packAndInstallPackage } from '../n8n-server';
import type { WorkflowRun } from '../n8n-server';
import { compatTarget } from './target';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(__dirname, 'fixtures');
const API_CREDENTIAL = { id: 'truedyCompatCred01', name: 'Truedy (simulator)' };
const WEBHOOK_CREDENTIAL = { id: 'truedyCompatHook01', name: 'Truedy Webhook (simulator)' };
const TERMINAL = new Set(['ended', 'failed', 'cancelled']);

const target = compatTarget();
const version = target.install.n8nVersion;
const log = e2eLog(`compat ${version}`);
const timings = new Timings();

let n8n: N8nServer | undefined;
let simulator: TruedySimulator | undefined;

function readFixture(name: string): any {
	return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
}

async function startServer(
	simulatorUrl: string,
	apiKey: string,
	signingSecret: string,
): Promise<N8nServer> {
	const server = await N8nServer.create({ install: target.install, env: target.env, log });
	try {
		await timings.time('pack + npm install into .n8n/nodes', () =>
			packAndInstallPackage(target.install, server.userFolder, ROOT),
		);
		await timings.time('import:credentials', () =>
			server.importCredentials([
				{ ...API_CREDENTIAL, type: 'truedyApi', data: { apiKey, baseUrl: simulatorUrl } },
				{ ...WEBHOOK_CREDENTIAL, type: 'truedyWebhookApi', data: { signingSecret } },
			]),
		);
		await timings.time('n8n start (to readiness)', () => server.start());
	} catch (error) {
		await server.dispose();
		throw error;
	}
	return server;
}

/**
 * Logs in as the owner. n8n 2.41 makes the owner from the environment the harness sets; older
 * versions ignore those variables, so the owner is set up once through POST /rest/owner/setup.
 */
async function ensureOwner(server: N8nServer): Promise<void> {
	try {
		await server.login();
		return;
	} catch {
		// no owner yet
	}
	const response = await fetch(`${server.baseUrl}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(server.owner),
	});
	if (!response.ok)
		throw new Error(`POST /rest/owner/setup: HTTP ${response.status} ${await response.text()}`);
	await server.login();
}

/**
 * `n8n execute` of the cases workflow, which must succeed. n8n 1.101's CLI prints the record before
 * its status is final (`running`), and prints it only when the run has no error.
 */
async function executeCases(server: N8nServer, workflowId: string): Promise<WorkflowRun> {
	const result = await server.executeWorkflow(workflowId, { allowFailure: true });
	const error = result.data.resultData.error;
	if (error || !['success', 'running'].includes(result.status)) {
		throw new Error(`the cases workflow ended ${result.status}: ${error?.message ?? ''}`);
	}
	return result;
}

afterAll(async () => {
	await n8n?.dispose();
	await simulator?.close();
	timings.print(`matrix.compat.ts (n8n ${version})`);
}, 60_000);

if (target.expect === 'refused') {
	describe(`n8n ${version} (below the minimum ${MINIMUM_N8N_VERSION})`, () => {
		beforeAll(async () => {
			simulator = await startSimulator();
			n8n = await startServer(
				simulator.baseUrl,
				simulator.apiKey,
				`whsec_${randomBytes(16).toString('hex')}`,
			);
		}, 10 * 60_000);

		test('both nodes refuse to load, naming the minimum version', async () => {
			const serverLog = await eventually(
				'the load error in the server log',
				() => {
					const text = fs.readFileSync(n8n!.logPath, 'utf8');
					return text.includes(`needs n8n ${MINIMUM_N8N_VERSION} or newer`) ? text : undefined;
				},
				10_000,
			);
			expect(serverLog).not.toMatch(/Cannot read properties of undefined/);
			await ensureOwner(n8n!);
			const types = await n8n!.nodeTypeNames();
			expect(types).not.toContain('n8n-nodes-truedy.truedy');
			expect(types).not.toContain('n8n-nodes-truedy.truedyTrigger');
		});
	});
} else {
	describe(`n8n ${version}`, () => {
		let run: WorkflowRun;
		let triggerUrl = '';
		let triggerWorkflowId = '';
		let webhookSecret = '';
		let firstDelivery: DeliveryRecord | undefined;

		beforeAll(async () => {
			// Calls stay in progress for 6 s, so a 1 s Max Wait always times out and a 120 s one ends.
			// Calls carry their Ultravox id (Truedy's early backend), so the trigger can tie the
			// passthrough payload to the Truedy call.
			simulator = await startSimulator({
				callTimings: { queuedMs: 200, ringingMs: 300, inProgressMs: 6000 },
				exposeUltravoxIds: true,
			});
			const signingSecret = `whsec_${randomBytes(24).toString('hex')}`;
			n8n = await startServer(simulator.baseUrl, simulator.apiKey, signingSecret);
			await timings.time('owner + API key', async () => {
				await ensureOwner(n8n!);
				await n8n!.createApiKey('compat');
			});
			const cases = readFixture('cases.workflow.json');
			const trigger = readFixture('trigger.workflow.json');
			const created = await timings.time('create + activate workflows (public API)', async () => {
				const ids: string[] = [];
				for (const { name, nodes, connections, settings } of [cases, trigger]) {
					ids.push(
						(
							await n8n!.api<{ id: string }>('POST', '/workflows', {
								name,
								nodes,
								connections,
								settings,
							})
						).id,
					);
				}
				await n8n!.api('POST', `/workflows/${ids[1]}/activate`);
				return ids;
			});
			triggerWorkflowId = created[1];
			triggerUrl = n8n.webhookUrl(`${trigger.nodes[0].webhookId}/webhook`);
			webhookSecret = signingSecret;
			run = await timings.time('n8n execute (the Place Call cases)', () =>
				executeCases(n8n!, created[0]),
			);
		}, 10 * 60_000);

		test('installs as a community package; both nodes load', async () => {
			const types = await n8n!.nodeTypeNames();
			expect(types).toEqual(
				expect.arrayContaining(['n8n-nodes-truedy.truedy', 'n8n-nodes-truedy.truedyTrigger']),
			);
			expect(fs.readFileSync(n8n!.logPath, 'utf8')).not.toMatch(
				/Cannot read properties of undefined|needs n8n \d/,
			);
		});

		test('Place Call with Wait for Call to End outputs the ended call', () => {
			const [call, ...more] = nodeOutput(run, 'Place and wait, error output', 0);
			expect(more).toHaveLength(0);
			expect(call.json).toMatchObject({
				status: 'ended',
				waitTimedOut: false,
				agent_id: SIM_AGENTS.active,
				phone_number: '+14155550123',
			});
			expect(String(call.json.summary)).not.toBe('');
			expect(call.pairedItem).toEqual({ item: 0 });
			expect(nodeOutput(run, 'Called').map((item) => item.json.id)).toEqual([call.json.id]);
		});

		test('Continue (using error output): the failing item leaves through the error output', () => {
			const failed = nodeOutput(run, 'Place and wait, error output', 1);
			expect(failed).toHaveLength(1);
			// { error, message } plus the input item's fields, which n8n adds on the error output.
			expect(failed[0].json).toEqual({
				case: 'invalid number',
				phone: 'not a phone number',
				error: expect.stringMatching(/^Item 1: "Phone Number"/),
				message: expect.stringMatching(/Nothing was sent to Truedy/),
			});
			expect(failed[0].pairedItem).toEqual({ item: 1 });
			expect(nodeOutput(run, 'Not called')).toHaveLength(1);
			// The invalid number was never sent.
			const sent = simulator!.requests.filter(
				(request) => request.method === 'POST' && request.path === '/calls',
			);
			expect(
				sent.some((request) => JSON.stringify(request.body).includes('not a phone number')),
			).toBe(false);
		});

		test('Continue (using error output): a call still going at Max Wait leaves through the error output', () => {
			expect(nodeOutput(run, 'Wait times out, error output', 0)).toHaveLength(0);
			const failed = nodeOutput(run, 'Wait times out, error output', 1);
			expect(failed).toHaveLength(1);
			expect(failed[0].json).toEqual({
				case: 'still going at Max Wait',
				phone: '+14155550177',
				error: expect.stringMatching(/^Item 0: call call_\w+ had not ended after 1 s/),
				message: expect.stringMatching(/may still be going/),
			});
			expect(nodeOutput(run, 'Timed out')).toHaveLength(1);
			expect(run.data.resultData.runData['Ended in time']).toBeUndefined();
		});

		test('Continue (using regular output): the failing item is { error, details } on the main output', () => {
			const runData = run.data.resultData.runData['Place, regular output'][0];
			expect(runData.data?.main).toHaveLength(1);
			const [placed, failed] = nodeOutput(run, 'Place, regular output', 0);
			expect(placed.json).toMatchObject({
				phone_number: '+14155550123',
				agent_id: SIM_AGENTS.active,
			});
			expect(Object.keys(failed.json).sort()).toEqual(['details', 'error']);
			expect(String(failed.json.error)).toMatch(/phone number/i);
			expect(failed.json.details).toMatchObject({ itemIndex: 1 });
			expect(failed.pairedItem).toEqual({ item: 1 });
		});

		describe('Truedy Trigger, published', () => {
			// Set only now: until then no call event reaches the trigger.
			let webhook: WebhookOptions;

			beforeAll(async () => {
				// Calls of the Place Call cases end by themselves; none of them may reach the trigger.
				await eventually(
					'every simulator call to end',
					() => [...simulator!.calls.values()].every((call) => TERMINAL.has(String(call.status))),
					30_000,
				);
				webhook = { url: triggerUrl, secret: webhookSecret };
				simulator!.configure({ webhook: { ...webhook } });
				// Registered: an unsigned delivery is refused (401), not unknown (404).
				await eventually('the production webhook to answer', async () => {
					const response = await fetch(triggerUrl, {
						method: 'POST',
						headers: { 'content-type': 'application/json' },
						body: '{}',
					});
					return response.status === 401;
				});
			}, 60_000);

			afterEach(() => {
				simulator?.configure({ webhook: { ...webhook } });
			});

			const env = () => ({ n8n: n8n!, simulator: simulator!, endedWorkflowId: triggerWorkflowId });

			test('a signed call.ended starts one execution with the call', async () => {
				const before = await executionBaseline(n8n!, triggerWorkflowId);
				const { call, delivery } = await placeAndEndCall(simulator!);
				firstDelivery = delivery;
				expect(delivery.status).toBe(204);
				const [execution] = await newExecutions(n8n!, triggerWorkflowId, before, 1);
				expect(execution.status).toBe('success');
				expect(triggerItem(execution)).toMatchObject({
					event: 'call.ended',
					eventId: delivery.eventId,
					callId: call.id,
				});
				expect(
					(await executionIds(n8n!, triggerWorkflowId)).filter((id) => !before.has(id)),
				).toHaveLength(1);
			});

			test('a forged delivery (wrong secret) gets 401 and starts none', async () => {
				const before = await executionBaseline(n8n!, triggerWorkflowId);
				simulator!.configure({
					webhook: { ...webhook, secretOverride: `whsec_${randomBytes(24).toString('hex')}` },
				});
				const { delivery } = await placeAndEndCall(simulator!);
				expect(delivery.status).toBe(401);
				simulator!.configure({ webhook: { ...webhook } });
				await expectOnlySentinelSince(env(), before);
			});

			test('a duplicate delivery (same bytes and signature) gets 204 and starts none', async () => {
				expect(firstDelivery).toBeDefined();
				const before = await executionBaseline(n8n!, triggerWorkflowId);
				const again = await sendDelivery(triggerUrl, {
					rawBody: firstDelivery!.rawBody,
					headers: firstDelivery!.headers,
				});
				expect(again.status).toBe(204);
				await expectOnlySentinelSince(env(), before);
			});
		});
	});
}
