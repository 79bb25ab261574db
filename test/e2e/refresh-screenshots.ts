/**
 * Regenerates the editor screenshots in docs/ (SCREENSHOT_NAMES in editor-scenario.ts): the canvas
 * (editor.png), the Place Call parameters (editor-place-call.png), the Truedy Trigger's trigger
 * panel (editor-trigger-panel.png) and Get Call with the schema view of Place Call's output
 * (editor-schema.png), from a real n8n in headless chromium.
 *
 *   npx ts-node --transpile-only -P test/tsconfig.json test/e2e/refresh-screenshots.ts [--no-build] [--out DIR]
 *
 * Builds the package first (tsc + gulp, as `npm run build`) unless --no-build. Installs n8n
 * (cached) and Debian's chromium when missing. The e2e test does the same checks but writes the
 * pictures into docs/ only when TRUEDY_E2E_SCREENSHOTS=1.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { ROOT } from './crm-flow';
import {
	captureEditor,
	DOCS_DIR,
	SCREENSHOT_NAMES,
	startEditorEnvironment,
} from './editor-scenario';

function build(): void {
	const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);
	for (const [command, args] of [
		[bin('tsc'), []],
		[bin('gulp'), ['build']],
	] as Array<[string, string[]]>) {
		const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
		if (result.status !== 0)
			throw new Error(`${path.basename(command)} ${args.join(' ')} failed (rc ${result.status})`);
	}
}

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	const outIndex = args.indexOf('--out');
	const outDir = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : DOCS_DIR;
	const log = (line: string) => process.stderr.write(`  ${line}\n`);
	if (!args.includes('--no-build')) {
		console.log('Building the package...');
		build();
	}
	console.log('Starting a real n8n with n8n-nodes-truedy and the Truedy simulator...');
	const env = await startEditorEnvironment(log);
	try {
		console.log(`Opening the editor at ${env.n8n.baseUrl} in ${env.chromiumPath}...`);
		const seen = await captureEditor(env, outDir);
		// Only the package's nodes: n8n's own (a Code node, say) draw an icon font, not an <img>.
		const missingIcon = seen.canvas.filter(
			(node) =>
				node.type?.startsWith('n8n-nodes-truedy.') && (!node.icon || node.icon.naturalWidth === 0),
		);
		if (missingIcon.length > 0)
			throw new Error(
				`nodes without their icon: ${missingIcon.map((node) => node.name).join(', ')}`,
			);
		for (const file of Object.values(SCREENSHOT_NAMES)) {
			const full = path.join(outDir, file);
			console.log(
				`wrote ${path.relative(process.cwd(), full) || full} (${fs.statSync(full).size} bytes)`,
			);
		}
	} finally {
		await env.dispose();
	}
}

main().then(
	() => process.exit(0),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
