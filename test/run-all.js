// The README's test command: builds the package, runs the in-process suites, then the
// end-to-end suites against a real n8n server, and closes with one summary line.
// `--fast` (npm run test:fast) or TRUEDY_SKIP_E2E=1 skips the real-server suites.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const jest = path.join(root, 'node_modules', '.bin', 'jest');
const fast = process.argv.includes('--fast') || process.env.TRUEDY_SKIP_E2E === '1';
const passThrough = process.argv.slice(2).filter((arg) => arg !== '--fast');

function run(command, args) {
	const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
	return result.status ?? 1;
}

function runJest(label, configArgs) {
	const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'truedy-jest-')), 'report.json');
	console.log(`\n== ${label}`);
	const status = run(jest, [...configArgs, '--json', `--outputFile=${report}`, ...passThrough]);
	const summary = fs.existsSync(report)
		? JSON.parse(fs.readFileSync(report, 'utf8'))
		: { numPassedTests: 0, numFailedTests: 1, numPendingTests: 0 };
	return { status, summary };
}

if (run('npm', ['run', '--silent', 'build']) !== 0) process.exit(1);

const suites = [runJest('in-process suites (real n8n engine + Truedy simulator)', [])];
if (!fast) {
	suites.push(runJest('end-to-end suites (real n8n server)', ['-c', 'test/e2e/jest.config.js']));
}

const total = (key) => suites.reduce((sum, { summary }) => sum + summary[key], 0);
const failed = suites.some(({ status }) => status !== 0);
console.log(
	`\nTests: ${total('numPassedTests')} passed, ${total('numFailedTests')} failed, ${total('numPendingTests')} skipped`,
);
process.exit(failed ? 1 : 0);
