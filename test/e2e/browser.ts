/**
 * A real browser for the end-to-end tests: Debian's chromium (installed by install-chromium.sh,
 * never playwright's own download) driven headless by playwright-core.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

const INSTALL_SCRIPT = path.join(__dirname, 'install-chromium.sh');
const RESULT_PREFIX = 'TRUEDY_CHROMIUM=';

/** Flags for a headless chromium with no network of its own and no first-run UI. */
export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-dev-shm-usage',
];

let chromiumPromise: Promise<string> | undefined;

/**
 * Runs install-chromium.sh (apt-get install chromium when it is missing; under 1 s when present)
 * and returns the chromium executable. `$TRUEDY_CHROMIUM` names another binary. Memoized.
 */
export function ensureChromium(
	log: (line: string) => void = (line) => process.stderr.write(`[chromium] ${line}\n`),
): Promise<string> {
	chromiumPromise ??= new Promise<string>((resolve, reject) => {
		const child = spawn('bash', [INSTALL_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
		let result: string | undefined;
		const tail: string[] = [];
		const onData = (chunk: Buffer) => {
			for (const line of chunk.toString().split('\n')) {
				if (!line.trim()) continue;
				if (line.startsWith(RESULT_PREFIX)) {
					result = line.slice(RESULT_PREFIX.length).trim();
					continue;
				}
				tail.push(line);
				if (tail.length > 30) tail.shift();
				log(line);
			}
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		child.on('error', reject);
		child.on('close', (code) => {
			if (code === 0 && result) resolve(result);
			else reject(new Error(`install-chromium.sh failed (rc ${code}):\n${tail.join('\n')}`));
		});
	}).catch((error) => {
		chromiumPromise = undefined;
		throw error;
	});
	return chromiumPromise;
}

/** Launches headless chromium (playwright gives it a fresh, temporary user-data-dir). */
export async function launchChromium(executablePath: string): Promise<Browser> {
	return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Logs in through n8n's sign-in form and waits until the app has left /signin. */
export async function signIn(
	page: Page,
	baseUrl: string,
	owner: { email: string; password: string },
): Promise<void> {
	await page.goto(`${baseUrl}/signin`, { waitUntil: 'domcontentloaded' });
	const email = page.locator('input[name="emailOrLdapLoginId"]');
	await email.waitFor({ state: 'visible', timeout: 60_000 });
	await email.fill(owner.email);
	await page.locator('input[name="password"]').fill(owner.password);
	await page.locator('[data-test-id="form-submit-button"]').click();
	await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 60_000 });
}

export interface CanvasNodeView {
	name: string;
	type: string;
	/** The node icon's <img> (absent when n8n fell back to a generic icon). */
	icon?: {
		src: string;
		currentSrc: string;
		complete: boolean;
		naturalWidth: number;
		naturalHeight: number;
	};
	subtitle: string;
}

/** The nodes the canvas shows, with their icon image (if any). */
export async function canvasNodes(page: Page): Promise<CanvasNodeView[]> {
	return page.locator('[data-test-id="canvas-node"]').evaluateAll((elements) =>
		elements.map((element) => {
			const img = element.querySelector('img') as HTMLImageElement | null;
			return {
				name: element.getAttribute('data-node-name') ?? '',
				type: element.getAttribute('data-node-type') ?? '',
				icon: img
					? {
							src: img.getAttribute('src') ?? '',
							currentSrc: img.currentSrc,
							complete: img.complete,
							naturalWidth: img.naturalWidth,
							naturalHeight: img.naturalHeight,
						}
					: undefined,
				subtitle: (element as HTMLElement).innerText.replace(/\s+/g, ' ').trim(),
			};
		}),
	);
}

/**
 * Opens a workflow in the editor and waits until the canvas shows `nodeNames` with every node icon
 * image loaded (complete, non-zero size).
 */
export async function openWorkflow(
	page: Page,
	baseUrl: string,
	workflowId: string,
	nodeNames: string[],
): Promise<void> {
	await page.goto(`${baseUrl}/workflow/${workflowId}`, { waitUntil: 'domcontentloaded' });
	await page.waitForFunction(
		(names: string[]) => {
			const nodes = Array.from(document.querySelectorAll('[data-test-id="canvas-node"]'));
			return names.every((name) => {
				const node = nodes.find((candidate) => candidate.getAttribute('data-node-name') === name);
				const img = node?.querySelector('img') as HTMLImageElement | null;
				return !!img && img.complete && img.naturalWidth > 0;
			});
		},
		nodeNames,
		{ timeout: 90_000, polling: 250 },
	);
}

/** Double-clicks a canvas node and waits for its parameters panel. */
export async function openNodeDetails(page: Page, nodeName: string): Promise<void> {
	await page.locator(`[data-test-id="canvas-node"][data-node-name="${nodeName}"]`).dblclick();
	await page
		.locator('[data-test-id="ndv"] [data-test-id="node-parameters"]')
		.waitFor({ state: 'visible', timeout: 30_000 });
}

/** Closes the node details view (if open) and waits until it is gone. */
export async function closeNodeDetails(page: Page): Promise<void> {
	const close = page.locator('[data-test-id="ndv"] [data-test-id="ndv-close-button"]');
	if (await close.isVisible()) await close.click();
	await page.locator('[data-test-id="ndv"]').waitFor({ state: 'hidden', timeout: 30_000 });
}

/**
 * The visible options of the open dropdown (element-plus renders them at the end of <body>), once
 * one of them contains `expected`.
 */
export async function dropdownOptions(page: Page, expected: string): Promise<string[]> {
	const options = page.locator('.el-select-dropdown__item:visible');
	await options
		.filter({ hasText: expected })
		.first()
		.waitFor({ state: 'visible', timeout: 30_000 });
	return (await options.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
}
