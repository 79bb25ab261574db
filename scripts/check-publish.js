/* eslint-disable */
/**
 * Checks that this package can only be published the way n8n requires (from GitHub Actions, with
 * npm provenance: .github/workflows/publish.yml), and that a publish would succeed there:
 *
 * 1. A plain `npm publish` from a machine stops before anything is uploaded, twice over:
 *    - `publishConfig.provenance: true`: npm refuses to publish without a provenance statement,
 *      which only a CI with an OIDC identity (GitHub Actions with `id-token: write`) can make.
 *      Checked with a fake token against a closed local port, so nothing can be uploaded.
 *    - `prepublishOnly: n8n-node prerelease` (n8n's starter): exits 1 unless RELEASE_MODE is set.
 *      This repository's .npmrc has ignore-scripts=true (its dev dependencies' install scripts
 *      need the internet), which also skips lifecycle scripts, so the check runs with
 *      --ignore-scripts=false.
 * 2. `npm publish --dry-run` passes, with RELEASE_MODE=dry-run for the prerelease guard (a dry
 *    run uploads nothing and makes no provenance statement).
 *
 *   node scripts/check-publish.js    # after npm run build
 */
const { spawnSync } = require('child_process');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
// Port 9 (discard) on loopback: nothing listens, so even a guard that let go could upload nothing.
const CLOSED_REGISTRY = 'http://127.0.0.1:9/';

/** The environment without what a parent `npm run` adds (npm_config_*, npm_lifecycle_*, …), so each check sees npm as a user does. */
function cleanEnv(extra) {
	const env = {};
	for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
	return { ...env, ...extra };
}

function npm(args, env = {}) {
	const result = spawnSync('npm', args, { cwd: ROOT, encoding: 'utf8', env: cleanEnv(env) });
	return { code: result.status, output: `${result.stdout}\n${result.stderr}` };
}

const withoutReleaseMode = { RELEASE_MODE: '' };
// In the publish job (id-token: write) npm can make a provenance statement, which would be signed
// and logged publicly: there the first check is skipped.
const canSignProvenance = Boolean(process.env.ACTIONS_ID_TOKEN_REQUEST_URL);
const checks = [
	{
		label: 'a plain `npm publish` is refused for want of provenance',
		skip: canSignProvenance && 'this job can make provenance statements (publish.yml)',
		run: () =>
			npm(
				[
					'publish',
					'--registry',
					CLOSED_REGISTRY,
					`--${CLOSED_REGISTRY.replace(/^http:/, '')}:_authToken=not-a-token`,
				],
				withoutReleaseMode,
			),
		ok: ({ code, output }) =>
			code !== 0 && /provenance/i.test(output) && !/ECONNREFUSED/.test(output),
	},
	{
		label: '`npm publish` with scripts on is stopped by n8n-node prerelease',
		run: () => npm(['publish', '--dry-run', '--ignore-scripts=false'], withoutReleaseMode),
		ok: ({ code, output }) =>
			code !== 0 && output.includes('n8n-node prerelease') && /npm run release/.test(output),
	},
	{
		label: '`RELEASE_MODE=dry-run npm publish --dry-run` passes',
		run: () => npm(['publish', '--dry-run', '--ignore-scripts=false'], { RELEASE_MODE: 'dry-run' }),
		ok: ({ code, output }) => code === 0 && /\+ n8n-nodes-truedy@/.test(output),
	},
];

let failed = 0;
for (const check of checks) {
	if (check.skip) {
		console.log(`[publish] skipped: ${check.label} (${check.skip})`);
		continue;
	}
	const result = check.run();
	const passed = check.ok(result);
	console.log(`[publish] ${passed ? 'pass' : 'FAIL'}: ${check.label}`);
	if (!passed) {
		failed++;
		console.log(result.output.trim().split('\n').slice(-15).join('\n'));
	}
}
process.exit(failed === 0 ? 0 : 1);
