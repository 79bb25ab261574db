// Runs one command as the leader of its own process group and makes sure it does not outlive
// the test process that started it: the parent keeps our stdin open, so EOF on stdin means the
// parent died (even by SIGKILL), and we then stop the command and kill the whole group.
// Usage: node supervisor.js <command> [args...]
'use strict';
const { spawn } = require('child_process');
const os = require('os');

const [command, ...args] = process.argv.slice(2);
const graceMs = Number(process.env.TRUEDY_E2E_KILL_GRACE_MS || 10000);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;

function killGroup() {
	try {
		process.kill(-process.pid, 'SIGKILL');
	} catch {
		process.exit(137);
	}
}

function stop() {
	if (stopping) return;
	stopping = true;
	child.kill('SIGTERM');
	setTimeout(killGroup, graceMs);
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

child.on('error', (error) => {
	process.stderr.write(`supervisor: cannot start ${command}: ${error.message}\n`);
	process.exit(127);
});
child.on('exit', (code, signal) => {
	process.exit(code !== null ? code : 128 + (os.constants.signals[signal] || 0));
});
