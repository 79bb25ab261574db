/**
 * Compatibility matrix: for each n8n version (one at a time), install it with its Node major
 * (install-n8n.sh, cached per pair), then run matrix.compat.ts against it: one server per version.
 * Prints install and test times per version, the case × version table and the wall time.
 *
 *   node test/e2e/compat/run-matrix.js                 # the CI rows of matrix.js
 *   node test/e2e/compat/run-matrix.js 1.101.1 1.82.0  # any rows of matrix.js, by n8n version
 *   node test/e2e/compat/run-matrix.js --all           # every row
 *
 * TRUEDY_COMPAT_REPORT=<file> also writes the results as JSON. The package must be built first
 * (npm run build), as for the other e2e suites.
 */
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { MATRIX } = require('./matrix');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const INSTALL_SCRIPT = path.join(__dirname, '..', 'install-n8n.sh');
const JEST = path.join(ROOT, 'node_modules', '.bin', 'jest');
const RESULT_PREFIX = 'TRUEDY_E2E_INSTALL=';

const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`;
const say = (line) => process.stdout.write(`[compat] ${line}\n`);

function selectRows(args) {
	if (args.includes('--all')) return MATRIX;
	if (args.length === 0) return MATRIX.filter((row) => row.ci);
	return args.map((version) => {
		const row = MATRIX.find((candidate) => candidate.n8n === version);
		if (!row) throw new Error(`n8n ${version} is not in test/e2e/compat/matrix.js`);
		return row;
	});
}

/** Runs install-n8n.sh for the pair, streaming its log; resolves with its result line and timing. */
function install(row) {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const child = spawn('bash', [INSTALL_SCRIPT, row.n8n, String(row.node)], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let result;
		let cacheHit = false;
		let buffer = '';
		const onData = (chunk) => {
			buffer += chunk.toString();
			const lines = buffer.split('\n');
			buffer = lines.pop();
			for (const line of lines) {
				if (line.startsWith(RESULT_PREFIX)) result = line.slice(RESULT_PREFIX.length);
				else if (!/Unknown (user|env) config "nodedir"/.test(line))
					process.stdout.write(`  ${line}\n`);
				if (line.includes('cache hit in')) cacheHit = true;
			}
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		child.on('error', reject);
		child.on('close', (code) => {
			if (code === 0 && result) resolve({ result, cacheHit, ms: Date.now() - started });
			else reject(new Error(`install-n8n.sh ${row.n8n} ${row.node} failed (rc ${code})`));
		});
	});
}

function runCases(row, installResult) {
	const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'truedy-compat-')), 'report.json');
	const started = Date.now();
	const status = spawnSync(
		JEST,
		['-c', 'test/e2e/compat/jest.config.js', '--json', `--outputFile=${report}`],
		{
			cwd: ROOT,
			stdio: 'inherit',
			env: {
				...process.env,
				TRUEDY_COMPAT_INSTALL: installResult,
				TRUEDY_COMPAT_ENV: JSON.stringify(row.env ?? {}),
				TRUEDY_COMPAT_EXPECT: row.expect ?? 'works',
			},
		},
	).status;
	const cases = [];
	if (fs.existsSync(report)) {
		for (const file of JSON.parse(fs.readFileSync(report, 'utf8')).testResults) {
			for (const test of file.assertionResults)
				cases.push({ name: test.title, status: test.status });
			// A failure outside any test (e.g. in beforeAll with no test run) still fails the version.
			if (file.assertionResults.length === 0)
				cases.push({ name: '(suite)', status: 'failed', message: file.message });
		}
	}
	if (cases.length === 0) cases.push({ name: '(suite)', status: 'failed' });
	return {
		ok: status === 0 && cases.every((test) => test.status === 'passed'),
		cases,
		ms: Date.now() - started,
	};
}

function printTable(results) {
	const names = [];
	for (const result of results)
		for (const test of result.cases) if (!names.includes(test.name)) names.push(test.name);
	const header = `| case | ${results.map((result) => `${result.row.n8n} (Node ${result.row.node})`).join(' | ')} |`;
	const rule = `|---|${results.map(() => '---').join('|')}|`;
	const mark = (result, name) => {
		const test = result.cases.find((candidate) => candidate.name === name);
		if (!test) return '–';
		return test.status === 'passed' ? 'pass' : test.status === 'pending' ? 'skipped' : 'FAIL';
	};
	const rows = names.map(
		(name) => `| ${name} | ${results.map((result) => mark(result, name)).join(' | ')} |`,
	);
	const timing = [
		`| n8n install | ${results.map((result) => `${seconds(result.install.ms)}${result.install.cacheHit ? ' (cached)' : ' (cold)'}`).join(' | ')} |`,
		`| cases (one server) | ${results.map((result) => seconds(result.ms)).join(' | ')} |`,
	];
	process.stdout.write(['', header, rule, ...rows, ...timing, ''].join('\n') + '\n');
}

async function main() {
	const rows = selectRows(process.argv.slice(2));
	const started = Date.now();
	const results = [];
	for (const row of rows) {
		say(`n8n ${row.n8n} on Node ${row.node} (${row.note})`);
		let installed;
		try {
			installed = await install(row);
		} catch (error) {
			say(String(error.message));
			results.push({
				row,
				install: { ms: 0, cacheHit: false },
				ok: false,
				cases: [{ name: '(install)', status: 'failed' }],
				ms: 0,
			});
			continue;
		}
		say(
			`n8n ${row.n8n}: install ${installed.cacheHit ? 'cached' : 'cold'} in ${seconds(installed.ms)}`,
		);
		const outcome = runCases(row, installed.result);
		results.push({ row, install: installed, ...outcome });
		say(`n8n ${row.n8n}: ${outcome.ok ? 'green' : 'FAILED'} in ${seconds(outcome.ms)}`);
	}
	const wallMs = Date.now() - started;
	printTable(results);
	const passed = results.reduce(
		(sum, result) => sum + result.cases.filter((test) => test.status === 'passed').length,
		0,
	);
	const failed = results.reduce(
		(sum, result) => sum + result.cases.filter((test) => test.status !== 'passed').length,
		0,
	);
	// Not the plain "N passed, N failed" form: the closing line of `npm test` stays the one that counts.
	say(
		`matrix of ${results.length} version(s): ${passed} case runs green, ${failed} not, wall time ${seconds(wallMs)}`,
	);
	if (process.env.TRUEDY_COMPAT_REPORT) {
		const report = results.map(({ row, install: inst, cases, ms, ok }) => ({
			n8n: row.n8n,
			node: row.node,
			expect: row.expect ?? 'works',
			ok,
			installMs: inst.ms,
			installCached: inst.cacheHit,
			casesMs: ms,
			cases,
		}));
		fs.writeFileSync(
			process.env.TRUEDY_COMPAT_REPORT,
			JSON.stringify({ wallMs, results: report }, null, 2) + '\n',
		);
	}
	process.exit(results.every((result) => result.ok) ? 0 : 1);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
