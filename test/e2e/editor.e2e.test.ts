/* eslint-disable */
/**
 * The n8n editor in a real browser (Debian's chromium, headless, driven by playwright-core): the
 * owner signs in through the form, opens a workflow with the Truedy Trigger and a Truedy Place Call
 * node, and sees both nodes with their icons and the Place Call parameters.
 *
 * Screenshots go to a temporary folder (removed afterwards unless the browser part failed or
 * TRUEDY_E2E_KEEP=1; a failure also saves failure.png there and names it in the error). With
 * TRUEDY_E2E_SCREENSHOTS=1 they go to docs/ (docs/editor.png, docs/editor-place-call.png), so a
 * normal or CI run never changes the work tree. test/e2e/refresh-screenshots.ts does the same
 * without jest. TRUEDY_E2E_SKIP_BROWSER=1 skips this file (e.g. on a machine without apt).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { e2eLog, Timings } from './e2e-helpers';
import {
	captureEditor,
	DOCS_DIR,
	PLACE_CALL_NODE,
	startEditorEnvironment,
	TRIGGER_NODE,
} from './editor-scenario';
import type { EditorEnvironment, EditorObservations } from './editor-scenario';

const skip = process.env.TRUEDY_E2E_SKIP_BROWSER === '1';
const writeDocs = process.env.TRUEDY_E2E_SCREENSHOTS === '1';
const timings = new Timings();
let env: EditorEnvironment | undefined;
let seen: EditorObservations | undefined;
let shotDir: string | undefined;

(skip ? describe.skip : describe)('n8n editor with n8n-nodes-truedy, in headless chromium', () => {
	beforeAll(async () => {
		env = await timings.time('setup: chromium + n8n (pack, import, start)', () =>
			startEditorEnvironment(e2eLog('editor')),
		);
		shotDir = writeDocs ? DOCS_DIR : fs.mkdtempSync(path.join(os.tmpdir(), 'truedy-e2e-editor-'));
		seen = await timings.time('browser: sign in, canvas, Place Call panel', () =>
			captureEditor(env!, shotDir!),
		);
		for (const [label, ms] of Object.entries(seen.timingsMs))
			process.stderr.write(`[editor]   ${label}: ${ms} ms\n`);
		process.stderr.write(
			`[editor] screenshots: ${seen.screenshots.canvas}, ${seen.screenshots.placeCall}\n`,
		);
	}, 10 * 60_000);

	afterAll(async () => {
		await env?.dispose();
		// Temporary screenshots go when the browser part worked; after a failure they stay for a look.
		if (shotDir && !writeDocs && seen && process.env.TRUEDY_E2E_KEEP !== '1')
			fs.rmSync(shotDir, { recursive: true, force: true });
		timings.print('editor.e2e.test.ts');
	}, 60_000);

	test('the canvas shows the Truedy Trigger and the Truedy node, each with its SVG icon', () => {
		const nodes = seen!.canvas;
		const trigger = nodes.find((node) => node.name === TRIGGER_NODE);
		const placeCall = nodes.find((node) => node.name === PLACE_CALL_NODE);
		expect(trigger?.type).toBe('n8n-nodes-truedy.truedyTrigger');
		expect(placeCall?.type).toBe('n8n-nodes-truedy.truedy');
		// Subtitles come from the node descriptions.
		expect(trigger?.subtitle).toContain('call.ended');
		expect(placeCall?.subtitle).toContain('place: call');

		for (const node of [trigger!, placeCall!]) {
			// An <img> of the package's own icon (n8n's fallback is a generic icon without one), loaded.
			expect(node.icon?.src).toMatch(
				/^\/icons\/n8n-nodes-truedy\/dist\/nodes\/Truedy\/truedy(\.dark)?\.svg$/,
			);
			expect(node.icon?.complete).toBe(true);
			expect(node.icon?.naturalWidth).toBeGreaterThan(0);
			expect(node.icon?.naturalHeight).toBeGreaterThan(0);
		}
		// n8n serves exactly the SVG the package ships.
		expect(seen!.icons).toHaveLength(2);
		for (const icon of seen!.icons) {
			expect(icon.status).toBe(200);
			expect(icon.contentType).toContain('image/svg+xml');
			expect(icon.sameAsPackage).toBe(true);
		}
	});

	test('the Truedy node opens on Place Call with its parameters', () => {
		const { ndv } = seen!;
		expect(ndv.title).toContain(PLACE_CALL_NODE);
		expect(ndv.resource).toBe('Call');
		expect(ndv.operation).toBe('Place Call');
		expect(ndv.agent).toContain('Appointment Reminder');
		for (const label of [
			'Credential',
			'Agent',
			'Phone Number',
			'Variables Input',
			'Variables',
			'From Number',
			'Call Settings',
			'Max Duration (Seconds)',
			'Greeting',
			'Wait for Call to End',
			'Options',
			'Default Country',
			'Idempotency Key',
		]) {
			expect(ndv.text).toContain(label);
		}
		for (const input of [
			'agent',
			'phoneNumber',
			'variablesInput',
			'fromNumber',
			'maxDuration',
			'greeting',
			'waitForEnd',
			'defaultCountry',
			'idempotencyKey',
		]) {
			expect(ndv.testIds).toContain(`parameter-input-${input}`);
		}
		expect(ndv.testIds).toContain('fixed-collection-variables');
		expect(ndv.text).toContain('Place Call dials a real person');
	});

	test("From Number lists the agent's outbound numbers, loaded from the Truedy API", () => {
		const { ndv } = seen!;
		expect(ndv.fromNumberOptions).toEqual(expect.arrayContaining(['+18005559876', '+14155550101']));
		// n8n called the node's loadOptions method, which asked the (simulated) API for the agent.
		const agentReads = env!.simulator.requests.filter(
			(request) =>
				request.method === 'GET' && request.path === '/agents/3f1c2a9e-7b4d-4e8a-9c1f-0a1b2c3d4e01',
		);
		expect(agentReads.length).toBeGreaterThan(0);
		for (const request of agentReads)
			expect(request.headers['authorization']).toBe(`Bearer ${env!.simulator.apiKey}`);
	});

	test('the screenshots were written', () => {
		for (const file of Object.values(seen!.screenshots)) {
			expect(fs.statSync(file).size).toBeGreaterThan(10_000);
			// PNG signature
			expect(fs.readFileSync(file).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
		}
	});
});
