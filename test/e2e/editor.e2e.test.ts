/**
 * The n8n editor in a real browser (Debian's chromium, headless, driven by playwright-core): the
 * owner signs in through the form, opens a workflow with the Truedy Trigger, Place Call and Get
 * Call, and sees the nodes with their icons, the Place Call parameters, the trigger panel, the
 * agent picker, the Call picker and, before any run, the output fields from __schema__.
 *
 * Screenshots go to a temporary folder (removed afterwards unless the browser part failed or
 * TRUEDY_E2E_KEEP=1; a failure also saves failure.png there and names it in the error). With
 * TRUEDY_E2E_SCREENSHOTS=1 they go to docs/ (docs/editor*.png), so a
 * normal or CI run never changes the work tree. test/e2e/refresh-screenshots.ts does the same
 * without jest. TRUEDY_E2E_SKIP_BROWSER=1 skips this file (e.g. on a machine without apt).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { TRIGGER_PANEL } from '../../nodes/Truedy/trigger/panel';
import { e2eLog, Timings } from './e2e-helpers';
import {
	captureEditor,
	DOCS_DIR,
	EDITOR_WORKFLOW,
	GET_CALL_NODE,
	PLACE_CALL_NODE,
	RECENT_CALL_PHONES,
	startEditorEnvironment,
	TRIGGER_NODE,
} from './editor-scenario';
import { ROOT } from './crm-flow';
import { seedAgents } from '../simulator/agents';
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
		process.stderr.write(`[editor] screenshots: ${Object.values(seen.screenshots).join(', ')}\n`);
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
		// n8n serves exactly the SVG the package ships (Trigger, Place Call, Get Call).
		const truedyIcons = seen!.icons.filter((icon) => icon.url.includes('/n8n-nodes-truedy/'));
		expect(truedyIcons).toHaveLength(3);
		for (const icon of truedyIcons) {
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

	test('the Truedy Trigger shows its trigger panel with the setup steps and the URL to copy', () => {
		const { trigger } = seen!;
		// nodes/Truedy/trigger/panel.ts, as n8n renders it (its HTML as text).
		expect(trigger.header).toBe(TRIGGER_PANEL.header);
		const panelText = trigger.panelText.replace(/\s+/g, ' ');
		for (const html of [
			TRIGGER_PANEL.activationHint,
			(TRIGGER_PANEL.executionsHelp as { inactive: string }).inactive,
		]) {
			const sentences = textOf(html as string).split(/(?<=[.:])\s+/);
			for (const sentence of sentences.filter((line) => line.length > 20))
				expect(panelText).toContain(sentence);
		}
		// Webhook URLs shows the Production URL of this node's webhook; a click copies it.
		const { webhookId } = EDITOR_WORKFLOW.nodes.find((node) => node.name === TRIGGER_NODE)!;
		expect(trigger.productionUrl).toBe(env!.n8n.webhookUrl(`${webhookId}/webhook`));
		expect(trigger.copiedToast).toBe(true);
		expect(trigger.clipboard).toBe(trigger.productionUrl);
	});

	test("the trigger's agent picker lists the API's agents and shows the saved one by name", () => {
		const { trigger } = seen!;
		expect(trigger.agentChips).toContain('Appointment Reminder');
		// Every agent the simulator has, drafts included, as "name (status)" with its ID beside it.
		const agents = seedAgents();
		expect(trigger.agentOptions).toHaveLength(agents.length);
		for (const agent of agents) {
			const option = trigger.agentOptions.find((text) => text.includes(agent.id));
			expect(option).toContain(agent.name);
		}
		expect(
			env!.simulator.requests.some(
				(request) => request.method === 'GET' && request.path === '/agents',
			),
		).toBe(true);
	});

	test('Call → Get picks a recent call from the list, and By ID keeps its ID', () => {
		const { getCall, recentCallIds } = seen!;
		expect(getCall.savedMode).toBe('By ID');
		expect(getCall.savedValue).toBe('call_01hx3k9p2qw7v8n4m6j5r0y1tz');
		// n8n's own labels for the standard mode names.
		expect(getCall.modes).toEqual(['From list', 'By ID']);
		// Newest first, labelled with the number called, the status and when it was placed.
		expect(getCall.listItems).toHaveLength(RECENT_CALL_PHONES.length);
		expect(getCall.listItems[0]).toContain(RECENT_CALL_PHONES[1]);
		expect(getCall.listItems[1]).toContain(RECENT_CALL_PHONES[0]);
		for (const item of getCall.listItems)
			expect(item).toMatch(/^\+\d+ · [a-z_-]+ · \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
		expect(getCall.pickedText).toContain(RECENT_CALL_PHONES[1]);
		expect(getCall.byIdValue).toBe(recentCallIds[1]);
		expect(
			env!.simulator.requests.some(
				(request) => request.method === 'GET' && request.path === '/calls',
			),
		).toBe(true);
	});

	test.each([
		[PLACE_CALL_NODE, 'call/place.json'],
		[GET_CALL_NODE, 'call/get.json'],
	])(
		"before any run, the schema view lists %s's output fields from __schema__/v1.0.0/%s",
		(node, file) => {
			const preview = seen!.schemaPreviews[node];
			const schema = JSON.parse(
				fs.readFileSync(path.join(ROOT, 'nodes', 'Truedy', '__schema__', 'v1.0.0', file), 'utf8'),
			) as { properties: Record<string, unknown> };
			expect(preview.previewNotice).toBe(true);
			// The list is virtual (only rows that fit are rendered, in recycled DOM order), so: some
			// fields, and none the file does not name (array items show as their index).
			const fields = preview.fields.filter((name) => !/^\[?\d+\]?$/.test(name));
			expect(fields.length).toBeGreaterThanOrEqual(5);
			for (const field of fields) expect(propertyNames(schema)).toContain(field);
		},
	);

	test('the screenshots were written', () => {
		for (const file of Object.values(seen!.screenshots)) {
			expect(fs.statSync(file).size).toBeGreaterThan(10_000);
			// PNG signature
			expect(fs.readFileSync(file).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
		}
	});
});

/** The text a browser shows for the panel's HTML: tags dropped, line breaks as spaces. */
function textOf(html: string): string {
	return html
		.replace(/<br\s*\/?>/g, ' ')
		.replace(/<[^>]+>/g, '')
		.replace(/\s+/g, ' ')
		.trim();
}

/** Every property name in a JSON schema, nested ones included. */
function propertyNames(schema: unknown): string[] {
	if (!schema || typeof schema !== 'object') return [];
	const { properties, items } = schema as { properties?: Record<string, unknown>; items?: unknown };
	return [
		...Object.entries(properties ?? {}).flatMap(([name, value]) => [name, ...propertyNames(value)]),
		...propertyNames(items),
	];
}
