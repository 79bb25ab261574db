/* eslint-disable */
/**
 * n8n's community-package scanner (@n8n/scan-community-package) on this package, before it is
 * published. `npx @n8n/scan-community-package <name>` only scans a published version (it checks npm
 * provenance, then lints the attested source and the registry tarball); this runs the same two
 * lint legs on what would be published:
 *   - the packed tarball (npm pack): every .js file and package.json, as the scanner lints the
 *     registry tarball;
 *   - the source: package.json and {nodes,credentials}/**, as it lints the attested source checkout.
 * Provenance can only be checked once published from GitHub Actions (.github/workflows/publish.yml).
 *
 * The scanner installs only with --ignore-scripts (isolated-vm and ssh2 in its tree build native
 * code), so it lives in a cache folder, not in devDependencies:
 * ${TRUEDY_SCAN_CACHE:-~/.cache/n8n-nodes-truedy-scan}/<version> (about 220 MB, 1–2 min cold).
 *
 *   node scripts/scan-package.js     # after npm run build; exit 1 on any ESLint error
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');

const SCANNER_VERSION = '0.32.0';
const ROOT = path.resolve(__dirname, '..');
const CACHE = path.join(
	process.env.TRUEDY_SCAN_CACHE || path.join(os.homedir(), '.cache', 'n8n-nodes-truedy-scan'),
	SCANNER_VERSION,
);
const SCANNER = path.join(
	CACHE,
	'node_modules',
	'@n8n',
	'scan-community-package',
	'scanner',
	'scanner.mjs',
);
const MARKER = path.join(CACHE, '.install-complete');

function run(command, args, cwd) {
	const result = spawnSync(command, args, {
		cwd,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	if (result.status !== 0)
		throw new Error(
			`${command} ${args.join(' ')} failed (rc ${result.status}):\n${result.stdout}\n${result.stderr}`,
		);
	return result.stdout;
}

function ensureScanner() {
	if (fs.existsSync(MARKER) && fs.existsSync(SCANNER)) return 'cached';
	const started = Date.now();
	fs.rmSync(CACHE, { recursive: true, force: true });
	fs.mkdirSync(CACHE, { recursive: true });
	fs.writeFileSync(path.join(CACHE, 'package.json'), '{"private":true}\n');
	run(
		'npm',
		[
			'install',
			`@n8n/scan-community-package@${SCANNER_VERSION}`,
			'--ignore-scripts',
			'--no-audit',
			'--no-fund',
			'--loglevel=error',
		],
		CACHE,
	);
	fs.writeFileSync(MARKER, `${SCANNER_VERSION}\n`);
	return `installed in ${((Date.now() - started) / 1000).toFixed(0)} s`;
}

/** Packs the built package and unpacks the tarball; returns the folder and the file list. */
function packAndExtract(workDir) {
	const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', workDir], ROOT));
	const packageDir = path.join(workDir, 'package');
	fs.mkdirSync(packageDir);
	run(
		'tar',
		['-xzf', path.join(workDir, info.filename), '-C', packageDir, '--strip-components=1'],
		workDir,
	);
	return { packageDir, filename: info.filename, files: info.files.length };
}

async function main() {
	const started = Date.now();
	if (!fs.existsSync(path.join(ROOT, 'dist', 'nodes')))
		throw new Error('dist/ is missing: run npm run build first');
	const scannerState = ensureScanner();
	const scanner = await import(pathToFileURL(SCANNER).href);
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'truedy-scan-'));
	try {
		const packed = packAndExtract(workDir);
		const legs = [
			{
				label: `tarball ${packed.filename} (**/*.js, package.json)`,
				dir: packed.packageDir,
				patterns: ['**/*.js', 'package.json'],
			},
			{
				label: `source (${scanner.SOURCE_FILE_PATTERNS.join(', ')})`,
				dir: ROOT,
				patterns: scanner.SOURCE_FILE_PATTERNS,
			},
		];
		let passed = true;
		for (const leg of legs) {
			const result = await scanner.analyzePackage(leg.dir, leg.patterns);
			console.log(
				`[scan] ${result.passed ? 'pass' : 'FAIL'}: ${leg.label}${result.message ? ` — ${result.message}` : ''}`,
			);
			if (result.details) console.log(result.details);
			passed &&= result.passed;
		}
		console.log(
			`[scan] @n8n/scan-community-package ${SCANNER_VERSION} (${scannerState}): ${passed ? '0 errors' : 'errors found'} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
		);
		process.exitCode = passed ? 0 : 1;
	} finally {
		fs.rmSync(workDir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
