/* eslint-disable */
/**
 * The editor scenario shared by editor.e2e.test.ts (asserts) and refresh-screenshots.ts (writes
 * docs/editor.png and docs/editor-place-call.png): a real n8n with the packed package, a workflow
 * with the Truedy Trigger and a Truedy Place Call node, opened in headless chromium.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';

import type { TruedySimulator } from '../simulator/server';
import {
	canvasNodes,
	ensureChromium,
	launchChromium,
	openNodeDetails,
	openWorkflow,
	signIn,
} from './browser';
import type { CanvasNodeView } from './browser';
import { ROOT, startWithSimulator } from './crm-flow';
import { ensureN8nInstalled, N8nServer } from './n8n-server';

export const EDITOR_WORKFLOW_FILE = path.join(__dirname, 'fixtures', 'editor-workflow.json');
export const EDITOR_WORKFLOW = JSON.parse(fs.readFileSync(EDITOR_WORKFLOW_FILE, 'utf8')) as {
	id: string;
	nodes: Array<{ name: string; type: string }>;
};
export const TRIGGER_NODE = EDITOR_WORKFLOW.nodes.find(
	(node) => node.type === 'n8n-nodes-truedy.truedyTrigger',
)!.name;
export const PLACE_CALL_NODE = EDITOR_WORKFLOW.nodes.find(
	(node) => node.type === 'n8n-nodes-truedy.truedy',
)!.name;
export const DOCS_DIR = path.join(ROOT, 'docs');
export const SCREENSHOT_NAMES = { canvas: 'editor.png', placeCall: 'editor-place-call.png' };

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
	screenshots: { canvas: string; placeCall: string };
	timingsMs: Record<string, number>;
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
	const browser = await step('launch chromium', () => launchChromium(env.chromiumPath));
	let page: Page | undefined;
	try {
		const context = await browser.newContext({
			viewport: { width: 1280, height: 760 },
			deviceScaleFactor: 1,
		});
		page = await context.newPage();
		page.setDefaultTimeout(60_000);
		const base = env.n8n.baseUrl;

		await step('sign in (UI form)', () => signIn(page!, base, env.n8n.owner));
		await step('open workflow, icons loaded', () =>
			openWorkflow(page!, base, EDITOR_WORKFLOW.id, [TRIGGER_NODE, PLACE_CALL_NODE]),
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

		const screenshots = {
			canvas: path.join(screenshotDir, SCREENSHOT_NAMES.canvas),
			placeCall: path.join(screenshotDir, SCREENSHOT_NAMES.placeCall),
		};
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

		await context.close();
		return { canvas, icons, ndv: { ...ndvBase, fromNumberOptions }, screenshots, timingsMs };
	} catch (error) {
		const failure = path.join(screenshotDir, 'failure.png');
		await page?.screenshot({ path: failure }).catch(() => undefined);
		(error as Error).message +=
			`\n(screenshot of the page: ${failure}; n8n log: ${env.n8n.logPath})`;
		throw error;
	} finally {
		await browser.close();
	}
}
