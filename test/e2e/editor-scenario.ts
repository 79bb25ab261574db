/**
 * The editor scenario shared by editor.e2e.test.ts (asserts) and refresh-screenshots.ts (writes
 * docs/editor*.png): a real n8n with the packed package and a workflow (Truedy Trigger → Place
 * Call → Get Call → No Operation) opened in headless chromium.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';

import type { TruedySimulator } from '../simulator/server';
import {
	canvasNodes,
	closeNodeDetails,
	dropdownOptions,
	ensureChromium,
	launchChromium,
	openNodeDetails,
	openWorkflow,
	signIn,
} from './browser';
import type { CanvasNodeView } from './browser';
import { ROOT, startWithSimulator } from './crm-flow';
import { placeSimulatorCall } from './e2e-helpers';
import { ensureN8nInstalled, N8nServer } from './n8n-server';

export const EDITOR_WORKFLOW_FILE = path.join(__dirname, 'fixtures', 'editor-workflow.json');
export const EDITOR_WORKFLOW = JSON.parse(fs.readFileSync(EDITOR_WORKFLOW_FILE, 'utf8')) as {
	id: string;
	nodes: Array<{
		name: string;
		type: string;
		webhookId?: string;
		parameters?: { operation?: string };
	}>;
};
export const TRIGGER_NODE = EDITOR_WORKFLOW.nodes.find(
	(node) => node.type === 'n8n-nodes-truedy.truedyTrigger',
)!.name;
const truedyNode = (operation: string) =>
	EDITOR_WORKFLOW.nodes.find(
		(node) => node.type === 'n8n-nodes-truedy.truedy' && node.parameters?.operation === operation,
	)!.name;
export const PLACE_CALL_NODE = truedyNode('place');
export const GET_CALL_NODE = truedyNode('get');
/** The node after Get Call: its input panel previews Get Call's output. */
export const LAST_NODE = EDITOR_WORKFLOW.nodes.find(
	(node) => node.type === 'n8n-nodes-base.noOp',
)!.name;
export const DOCS_DIR = path.join(ROOT, 'docs');
export const SCREENSHOT_NAMES = {
	canvas: 'editor.png',
	placeCall: 'editor-place-call.png',
	triggerPanel: 'editor-trigger-panel.png',
	schema: 'editor-schema.png',
};
/** Numbers of the calls placed in the simulator before the editor opens, for the Call picker. */
export const RECENT_CALL_PHONES = ['+14155550123', '+14155550142'];

export interface EditorEnvironment {
	n8n: N8nServer;
	simulator: TruedySimulator;
	chromiumPath: string;
	dispose(): Promise<void>;
}

/**
 * n8n (packed package, simulator credentials, the editor fixture workflow) and chromium, prepared
 * in parallel. The simulator answers the node's agent list and From Number options in the editor.
 */
export async function startEditorEnvironment(
	log: (line: string) => void,
): Promise<EditorEnvironment> {
	const chromiumPath = ensureChromium(log);
	chromiumPath.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
	const install = await ensureN8nInstalled(log);
	const n8n = await N8nServer.create({ install, log });
	const prepared = await startWithSimulator(
		n8n,
		install,
		{},
		'whsec_editor_e2e_not_a_secret',
		async () => {
			await n8n.importWorkflow(EDITOR_WORKFLOW_FILE);
			return {};
		},
	);
	try {
		return { n8n, ...prepared, chromiumPath: await chromiumPath };
	} catch (error) {
		await prepared.dispose();
		throw error;
	}
}

export interface IconCheck {
	node: string;
	url: string;
	status: number;
	contentType: string;
	/** The served bytes equal the SVG the package ships (dist/...). */
	sameAsPackage: boolean;
}

export interface EditorObservations {
	canvas: CanvasNodeView[];
	icons: IconCheck[];
	ndv: {
		title: string;
		/** Text of the parameters panel. */
		text: string;
		/** data-test-id values inside the parameters panel. */
		testIds: string[];
		resource: string;
		operation: string;
		agent: string;
		fromNumberOptions: string[];
	};
	trigger: TriggerObservations;
	getCall: GetCallObservations;
	/** The schema view of the input panel, per node whose output it previews. */
	schemaPreviews: Record<string, SchemaPreview>;
	/** Ids of the simulator calls placed before the editor opened (RECENT_CALL_PHONES). */
	recentCallIds: string[];
	screenshots: Record<keyof typeof SCREENSHOT_NAMES, string>;
	timingsMs: Record<string, number>;
}

export interface TriggerObservations {
	/** The trigger panel (the input side of the trigger's node details view). */
	header: string;
	/** The panel's text with "When will this node trigger my flow?" opened. */
	panelText: string;
	/** The Production URL as Webhook URLs shows it, and what a click on it put on the clipboard. */
	productionUrl: string;
	copiedToast: boolean;
	clipboard: string;
	/** The Agent Names or IDs picker: the saved agent's chip and the options it lists. */
	agentChips: string;
	agentOptions: string[];
}

export interface GetCallObservations {
	/** Mode and value of the Call locator as the fixture saved it. */
	savedMode: string;
	savedValue: string;
	modes: string[];
	/** The From List dropdown's entries. */
	listItems: string[];
	/** After picking the first call from the list: the locator's text; then By ID's value. */
	pickedText: string;
	byIdValue: string;
}

export interface SchemaPreview {
	/** Field names the schema view lists under the node, in order. */
	fields: string[];
	/** n8n's "preview" callout (shown for a schema from __schema__, not from a run). */
	previewNotice: boolean;
}

/**
 * Signs in as the owner, opens the fixture workflow, checks what the canvas and the Place Call
 * node's panel show, and saves the two screenshots into `screenshotDir`. On a failure it saves
 * `failure.png` there and names it in the error.
 */
export async function captureEditor(
	env: EditorEnvironment,
	screenshotDir: string,
): Promise<EditorObservations> {
	fs.mkdirSync(screenshotDir, { recursive: true });
	const timingsMs: Record<string, number> = {};
	const step = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
		const started = Date.now();
		try {
			return await work();
		} finally {
			timingsMs[label] = Date.now() - started;
		}
	};
	const recentCallIds: string[] = [];
	for (const phone of RECENT_CALL_PHONES)
		recentCallIds.push((await placeSimulatorCall(env.simulator, phone)).id);
	const browser = await step('launch chromium', () => launchChromium(env.chromiumPath));
	let page: Page | undefined;
	try {
		const context = await browser.newContext({
			viewport: { width: 1280, height: 760 },
			deviceScaleFactor: 1,
			// Webhook URLs copies a URL with navigator.clipboard; the test reads it back.
			permissions: ['clipboard-read', 'clipboard-write'],
		});
		page = await context.newPage();
		page.setDefaultTimeout(60_000);
		const base = env.n8n.baseUrl;

		await step('sign in (UI form)', () => signIn(page!, base, env.n8n.owner));
		await step('open workflow, icons loaded', () =>
			openWorkflow(page!, base, EDITOR_WORKFLOW.id, [TRIGGER_NODE, PLACE_CALL_NODE, GET_CALL_NODE]),
		);
		const canvas = await canvasNodes(page);

		const icons: IconCheck[] = [];
		for (const node of canvas) {
			if (!node.icon) continue;
			const response = await page.request.get(node.icon.currentSrc);
			const body = await response.body();
			const relative = node.icon.src.split('/icons/n8n-nodes-truedy/')[1] ?? '';
			const shipped = relative ? path.join(ROOT, relative) : '';
			icons.push({
				node: node.name,
				url: node.icon.src,
				status: response.status(),
				contentType: response.headers()['content-type'] ?? '',
				sameAsPackage: !!shipped && fs.existsSync(shipped) && fs.readFileSync(shipped).equals(body),
			});
		}

		const screenshots = Object.fromEntries(
			Object.entries(SCREENSHOT_NAMES).map(([key, file]) => [key, path.join(screenshotDir, file)]),
		) as EditorObservations['screenshots'];
		// Zoom in one step so the nodes are easy to see, and wait until the canvas transform has
		// changed and then stayed put for 3 polls. Cosmetic only: if it does not settle in time, the
		// picture keeps the default zoom.
		const pane = '.vue-flow__transformationpane';
		const before = await page
			.locator(pane)
			.first()
			.evaluate((element) => getComputedStyle(element).transform);
		await page.locator('[data-test-id="zoom-in-button"]').click();
		await page
			.waitForFunction(
				([selector, initial]) => {
					const element = document.querySelector(selector);
					const now = element ? getComputedStyle(element).transform : initial;
					const state = window as unknown as { __truedyLast?: string; __truedySame?: number };
					state.__truedySame =
						now !== initial && now === state.__truedyLast ? (state.__truedySame ?? 0) + 1 : 0;
					state.__truedyLast = now;
					return state.__truedySame >= 3;
				},
				[pane, before] as const,
				{ polling: 100, timeout: 10_000 },
			)
			.catch(() => undefined);
		await page.mouse.move(0, 0);
		await page.screenshot({ path: screenshots.canvas });

		// A tall window, so the whole Place Call panel fits in one picture.
		await page.setViewportSize({ width: 1280, height: 1500 });
		await step('open Place Call panel', () => openNodeDetails(page!, PLACE_CALL_NODE));
		const panel = page.locator('[data-test-id="ndv"] [data-test-id="node-parameters"]');
		// The agent's name is shown once the resource locator has rendered.
		await panel.locator('[data-test-id="parameter-input-agent"]').waitFor({ state: 'visible' });
		const valueOf = async (name: string) =>
			(await panel
				.locator(`[data-test-id="parameter-input-${name}"] input`)
				.first()
				.inputValue()
				.catch(() => '')) ||
			(await panel
				.locator(`[data-test-id="parameter-input-${name}"]`)
				.first()
				.innerText()
				.catch(() => ''));
		const ndvBase = {
			title: (
				await page
					.locator('[data-test-id="ndv"] [data-test-id="node-title-container"]')
					.first()
					.innerText()
			).trim(),
			text: await panel.innerText(),
			testIds: await panel
				.locator('[data-test-id]')
				.evaluateAll((elements) =>
					Array.from(
						new Set(elements.map((element) => element.getAttribute('data-test-id') ?? '')),
					),
				),
			resource: (await valueOf('resource')).trim(),
			operation: (await valueOf('operation')).trim(),
			// The resource locator: mode selector ("From list") first, then the agent it shows.
			agent: (
				(await panel
					.locator('[data-test-id="rlc-input"] input, input[data-test-id="rlc-input"]')
					.first()
					.inputValue()
					.catch(() => '')) ||
				(await panel
					.locator('[data-test-id="rlc-input-container"]')
					.first()
					.innerText()
					.catch(() => ''))
			).trim(),
		};
		await page.mouse.move(0, 0);
		await page.screenshot({ path: screenshots.placeCall });

		// From Number options come from the node's loadOptions method (through n8n, from the API).
		const fromNumberOptions = await step('load From Number options', async () => {
			await panel.locator('[data-test-id="parameter-input-fromNumber"]').click();
			const option = page!.locator('[data-test-id="parameter-input-item"]:visible');
			await option.filter({ hasText: '+' }).first().waitFor({ state: 'visible', timeout: 30_000 });
			const texts = (await option.allInnerTexts()).map((text) => text.trim());
			await page!.keyboard.press('Escape');
			return texts;
		});

		await closeNodeDetails(page);

		await page.setViewportSize({ width: 1280, height: 1000 });
		const trigger = await step('trigger panel, Webhook URLs, agent picker', () =>
			checkTrigger(page!, screenshots.triggerPanel),
		);
		const schemaPreviews: Record<string, SchemaPreview> = {};
		const getCall = await step('Get Call: locator, list, schema of Place Call', async () => {
			await openNodeDetails(page!, GET_CALL_NODE);
			schemaPreviews[PLACE_CALL_NODE] = await schemaPreview(page!, PLACE_CALL_NODE);
			const observed = await checkCallLocator(page!);
			await page!.mouse.move(0, 0);
			await page!.screenshot({ path: screenshots.schema });
			await closeNodeDetails(page!);
			return observed;
		});
		await step('schema of Get Call', async () => {
			await openNodeDetails(page!, LAST_NODE);
			schemaPreviews[GET_CALL_NODE] = await schemaPreview(page!, GET_CALL_NODE);
			await closeNodeDetails(page!);
		});

		await context.close();
		return {
			canvas,
			icons,
			ndv: { ...ndvBase, fromNumberOptions },
			trigger,
			getCall,
			schemaPreviews,
			recentCallIds,
			screenshots,
			timingsMs,
		};
	} catch (error) {
		const failure = path.join(screenshotDir, 'failure.png');
		await page?.screenshot({ path: failure }).catch(() => undefined);
		// The page's text too: what the selectors missed is usually readable there.
		const text = await page
			?.locator('body')
			.innerText()
			.catch(() => '');
		if (text) fs.writeFileSync(path.join(screenshotDir, 'failure.txt'), text);
		(error as Error).message +=
			`\n(screenshot of the page: ${failure}; n8n log: ${env.n8n.logPath})`;
		throw error;
	} finally {
		await browser.close();
	}
}

/**
 * The Truedy Trigger's node details: the trigger panel with its setup steps opened, the
 * Production URL under Webhook URLs (clicked, so n8n copies it), then the Agent Names or IDs
 * picker. Leaves the view closed.
 */
async function checkTrigger(page: Page, screenshot: string): Promise<TriggerObservations> {
	await openNodeDetails(page, TRIGGER_NODE);
	const ndv = page.locator('[data-test-id="ndv"]');
	const header = (await ndv.locator('[data-test-id="trigger-header"]').innerText()).trim();
	// The trigger panel's collapsible "executions help" holds the setup steps.
	await ndv.getByText('When will this node trigger my flow?').click();
	await ndv.getByText('Connect Truedy once').waitFor({ state: 'visible' });
	// Its text, with the parameters' (the steps are the panel's own wording).
	const panelText = await ndv.innerText();

	const parameters = ndv.locator('[data-test-id="node-parameters"]');
	// n8n's NodeWebhooks block: a collapsed headline, then a Test URL / Production URL switch.
	const webhooks = parameters.locator('.webhooks');
	await webhooks.locator('.clickable.headline', { hasText: 'Webhook URLs' }).click();
	await webhooks.locator('.url-selection').getByText('Production URL', { exact: true }).click();
	const url = webhooks.locator('.webhook-url').first();
	await url.filter({ hasText: '/webhook/' }).waitFor({ state: 'visible' });
	const productionUrl = (await url.innerText()).trim();
	await page.mouse.move(0, 0);
	await page.screenshot({ path: screenshot });
	await url.click();
	const copiedToast = await page
		.getByText('URL copied')
		.first()
		.waitFor({ state: 'visible', timeout: 15_000 })
		.then(() => true)
		.catch(() => false);
	const clipboard = await page.evaluate(() => navigator.clipboard.readText()).catch(() => '');

	const agents = parameters.locator('[data-test-id="parameter-input-agents"]');
	// The saved agent ID shows as its name once n8n has loaded the options from the API.
	await agents.getByText('Appointment Reminder').waitFor({ state: 'visible' });
	const agentChips = (await agents.innerText()).replace(/\s+/g, ' ').trim();
	await agents.click();
	const agentOptions = await dropdownOptions(page, 'Lead Qualifier');
	await page.keyboard.press('Escape');
	await closeNodeDetails(page);
	return { header, panelText, productionUrl, copiedToast, clipboard, agentChips, agentOptions };
}

/**
 * Get Call's Call locator, in the open node details view: the saved By ID value, the modes, the
 * From List entries (recent calls from the API), the first one picked, then back to By ID.
 */
async function checkCallLocator(page: Page): Promise<GetCallObservations> {
	const locator = page.locator('[data-test-id="ndv"] [data-test-id="resource-locator-callId"]');
	const modeSelector = locator.locator('[data-test-id="rlc-mode-selector"]');
	const input = locator.locator('[data-test-id="rlc-input"]');
	// An <input> (or the one inside the element) shows its value; a select its selected label.
	const valueOf = async (target: typeof input) =>
		(
			await target.first().evaluate((element) => {
				const field =
					element instanceof HTMLInputElement ? element : element.querySelector('input');
				return field?.value || (element as HTMLElement).innerText || '';
			})
		).trim();
	await input.waitFor({ state: 'visible' });
	const savedMode = await valueOf(modeSelector);
	const savedValue = await valueOf(input);

	const chooseMode = async (label: string) => {
		await modeSelector.click();
		const modes = await dropdownOptions(page, label);
		await page.locator('.el-select-dropdown__item:visible', { hasText: label }).first().click();
		return modes;
	};
	const modes = await chooseMode('From list');
	await input.click();
	const item = page.locator('[data-test-id="rlc-item"]:visible');
	await item.filter({ hasText: RECENT_CALL_PHONES[0] }).first().waitFor({ state: 'visible' });
	const listItems = (await item.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
	await item.first().click();
	await item.first().waitFor({ state: 'hidden' });
	const pickedText = await valueOf(input);
	await chooseMode('By ID');
	const byIdValue = await valueOf(input);
	return { savedMode, savedValue, modes, listItems, pickedText, byIdValue };
}

/**
 * What the input panel's schema view (in the open node details view) lists under `nodeName`,
 * which has not run: the fields come from the package's __schema__ files.
 */
async function schemaPreview(page: Page, nodeName: string): Promise<SchemaPreview> {
	const ndv = page.locator('[data-test-id="ndv"]');
	const header = ndv
		.locator('[data-test-id="run-data-schema-header"]', { hasText: nodeName })
		.first();
	// The input panel opens on the schema view when a parent has a preview; else switch to it.
	const schemaButton = ndv.locator(
		'[data-test-id="ndv-input-panel"] [data-test-id="radio-button-schema"]',
	);
	await header.or(schemaButton).first().waitFor({ state: 'visible' });
	if (!(await header.isVisible())) await schemaButton.click();
	await header.waitFor({ state: 'visible' });
	const rows = ndv.locator(
		'[data-test-id="run-data-schema-header"], [data-test-id="run-data-schema-item"]',
	);
	// The preview is fetched (GET /schemas/...) after the header shows; its notice comes with it.
	const notice = ndv.locator('[data-test-id="schema-preview-warning"]').first();
	await notice.waitFor({ state: 'visible' });
	const listed = await rows.evaluateAll((elements) =>
		elements.map((element) => ({
			header: element.getAttribute('data-test-id') === 'run-data-schema-header',
			text: ((element as HTMLElement).innerText ?? '').trim(),
		})),
	);
	const fields: string[] = [];
	let current = '';
	for (const row of listed) {
		if (row.header) current = row.text;
		else if (current.includes(nodeName)) fields.push(row.text.split('\n')[0].trim());
	}
	return { fields, previewNotice: await notice.isVisible() };
}
