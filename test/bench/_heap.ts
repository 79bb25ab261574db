/* eslint-disable */
// TEMPORARY: heap usage of the n8n server while one 10k variant runs. Deleted before hand-off.
import { execFileSync, spawn } from 'child_process';
import fs from 'fs';
import { buildVariants, configureScenario, nodeDefaultConcurrency, parseOptions, runVariant, SCENARIOS, setUp } from './run-bench';

(async () => {
	const [engine, key, n] = process.argv.slice(2);
	const options = parseOptions([]);
	const variants = buildVariants(options, nodeDefaultConcurrency());
	const bench = await setUp(variants, engine);
	try {
		configureScenario(bench.sim, SCENARIOS[0]);
		process.kill(bench.serverPid, 'SIGUSR1');
		await new Promise((r) => setTimeout(r, 1000));
		const list = JSON.parse(execFileSync('curl', ['-s', 'http://127.0.0.1:9229/json/list']).toString());
		const stop = `/tmp/heap-${key}.stop`;
		fs.rmSync(stop, { force: true });
		fs.rmSync(stop + '.started', { force: true });
		const child = spawn(bench.install.node24Bin, ['/tmp/cdp-heap.js', list[0].webSocketDebuggerUrl, String(bench.serverPid), stop], { stdio: 'inherit' });
		while (!fs.existsSync(stop + '.started')) await new Promise((r) => setTimeout(r, 50));
		const run = await runVariant(bench, 'fast', key, Number(n), 1);
		fs.writeFileSync(stop, '1');
		await new Promise((r) => child.on('close', r));
		console.log(key, run.nodeMs, run.cpuMs);
	} finally {
		await bench.n8n.dispose();
		await bench.sim.close();
	}
	process.exit(0);
})();
