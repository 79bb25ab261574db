/**
 * CPU profile of the running n8n server over one load window, through the V8 inspector: SIGUSR1
 * opens the inspector of the `n8n start` process (Node's standard way, on 127.0.0.1:9229), then
 * Profiler.start / Profiler.stop over its WebSocket, and the samples summed per function. Nothing
 * about n8n's start-up changes.
 */
import { spawn, type ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

import { sleep } from './util';

export interface ProfileFrame {
	/** `function (file:line)`, file shortened to the part after node_modules/. */
	frame: string;
	/** Share of all samples in this frame itself (not its callees), %. */
	selfPercent: number;
	selfMs: number;
}

export interface ProfileSummary {
	durationMs: number;
	/** Deliveries sent while profiling (set by the caller), for per-delivery figures. */
	deliveries?: number;
	samples: number;
	/** Share of samples that are not idle (`(idle)`, `(program)` and the GC are counted apart), %. */
	busyPercent: number;
	gcPercent: number;
	top: ProfileFrame[];
	/** Self time summed by package (n8n, n8n-core, isolated-vm, @n8n/expression-runtime, …), %. */
	byPackage: Array<{ name: string; selfPercent: number }>;
	/** Share of samples with a frame of each group on the stack (inclusive), %. */
	inclusive: Array<{ name: string; percent: number }>;
}

interface CdpProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
	hitCount?: number;
}

interface CdpProfile {
	nodes: CdpProfileNode[];
	startTime: number;
	endTime: number;
	samples: number[];
	timeDeltas: number[];
}

/**
 * The inspector client runs in a Node 24 child process (the harness's Node, which has a global
 * WebSocket), so the bench needs no WebSocket package: it connects, starts the profiler, prints
 * STARTED, and on "stop" on its stdin writes the profile to a file and prints DONE.
 */
const CLIENT = `
const [port, samplingUs, out] = process.argv.slice(1);
const fs = require('fs');
(async () => {
	let url;
	for (let i = 0; i < 50 && !url; i++) {
		try { url = (await (await fetch('http://127.0.0.1:' + port + '/json/list')).json())[0]?.webSocketDebuggerUrl; } catch {}
		if (!url) await new Promise((r) => setTimeout(r, 200));
	}
	if (!url) { console.log('ERROR no inspector on port ' + port); process.exit(1); }
	const ws = new WebSocket(url);
	await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
	let id = 0;
	const pending = new Map();
	ws.onmessage = (event) => { const m = JSON.parse(event.data); if (m.id !== undefined) pending.get(m.id)?.(m.result ?? m.error); };
	const send = (method, params = {}) => new Promise((resolve) => { const n = ++id; pending.set(n, resolve); ws.send(JSON.stringify({ id: n, method, params })); });
	await send('Profiler.enable');
	await send('Profiler.setSamplingInterval', { interval: Number(samplingUs) });
	await send('Profiler.start');
	console.log('STARTED');
	process.stdin.once('data', async () => {
		const { profile } = await send('Profiler.stop');
		await send('Profiler.disable');
		fs.writeFileSync(out, JSON.stringify(profile));
		console.log('DONE');
		ws.close();
		process.exit(0);
	});
})().catch((error) => { console.log('ERROR ' + error.message); process.exit(1); });
`;

export class ServerProfiler {
	private child?: ChildProcess;
	private output = '';
	private readonly file = path.join(
		os.tmpdir(),
		`truedy-profile-${process.pid}-${Date.now()}.cpuprofile`,
	);

	/** `node24Bin`: a Node with a global WebSocket (22+). */
	constructor(
		private readonly pid: number,
		private readonly node24Bin: string,
		private readonly port = 9229,
	) {}

	async start(samplingIntervalUs = 500): Promise<void> {
		process.kill(this.pid, 'SIGUSR1');
		this.child = spawn(
			this.node24Bin,
			['-e', CLIENT, String(this.port), String(samplingIntervalUs), this.file],
			{ stdio: ['pipe', 'pipe', 'inherit'] },
		);
		this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
		await this.waitFor('STARTED');
	}

	/** Stops the profiler; the raw profile is kept at `saveTo` (for Chrome DevTools) if given. */
	async stop(saveTo?: string): Promise<ProfileSummary> {
		this.child!.stdin!.write('stop\n');
		await this.waitFor('DONE');
		const profile = JSON.parse(fs.readFileSync(this.file, 'utf8')) as CdpProfile;
		if (saveTo) fs.renameSync(this.file, saveTo);
		else fs.rmSync(this.file, { force: true });
		return summarizeProfile(profile);
	}

	private async waitFor(marker: string): Promise<void> {
		const deadline = Date.now() + 30_000;
		while (!this.output.includes(marker)) {
			if (this.output.includes('ERROR')) throw new Error(`profiler: ${this.output.trim()}`);
			if (Date.now() > deadline)
				throw new Error(`profiler: no ${marker} (output: ${this.output.trim()})`);
			await sleep(100);
		}
	}
}

function shortUrl(url: string): string {
	const index = url.lastIndexOf('node_modules/');
	const tail =
		index >= 0 ? url.slice(index + 'node_modules/'.length) : url.replace(/^file:\/\//, '');
	return tail.replace(/^\/.*\/(n8n-nodes-truedy\/)/, '$1');
}

function packageOf(url: string): string {
	if (url === '') return '(native)';
	const index = url.lastIndexOf('node_modules/');
	if (index < 0) return url.startsWith('node:') ? 'node' : '(other)';
	const rest = url.slice(index + 'node_modules/'.length).split('/');
	return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

const isIsolateWork = (n: CdpProfileNode) =>
	/@n8n\/expression-runtime/.test(n.callFrame.url) &&
	/^(createBridge|ExpressionEvaluator\.createBridge|acquire|acquireBridgeSync|release|dispose|replenish|initialize|IsolatedVmBridge|QuickJsBridge)$/.test(
		n.callFrame.functionName,
	);
const inFile = (pattern: RegExp) => (stack: CdpProfileNode[]) =>
	stack.some((n) => pattern.test(n.callFrame.url));
const isolateWorkFor = (pattern: RegExp) => (stack: CdpProfileNode[]) =>
	stack.some(isIsolateWork) && inFile(pattern)(stack);

/** Groups whose inclusive share is reported: the sample's stack (leaf to root) matches. */
const INCLUSIVE_GROUPS: Array<{ name: string; test: (stack: CdpProfileNode[]) => boolean }> = [
	{
		name: 'expression isolates: create, acquire, release, dispose (all)',
		test: (stack) => stack.some(isIsolateWork),
	},
	{
		name: '… for the webhook phase (live-webhooks acquireIsolate/releaseIsolate)',
		test: isolateWorkFor(/webhooks\/live-webhooks\.js/),
	},
	{
		name: '… for a credential read in the webhook (credentials-helper)',
		test: isolateWorkFor(/credentials-helper\.js/),
	},
	{ name: '… for the execution (workflow-execute)', test: isolateWorkFor(/workflow-execute\.js/) },
	{
		name: '… refilling the pool (replenish)',
		test: (stack) =>
			stack.some(
				(n) =>
					n.callFrame.functionName === 'replenish' && /expression-runtime/.test(n.callFrame.url),
			),
	},
	{ name: 'TypeORM / SQLite', test: inFile(/@n8n\/typeorm|sqlite3\//) },
	{ name: 'Truedy Trigger code (n8n-nodes-truedy)', test: inFile(/n8n-nodes-truedy\//) },
	{ name: "n8n's Webhook node code", test: inFile(/n8n-nodes-base\/dist\/nodes\/Webhook\//) },
];

export function summarizeProfile(profile: CdpProfile): ProfileSummary {
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const parent = new Map<number, number>();
	for (const node of profile.nodes)
		for (const child of node.children ?? []) parent.set(child, node.id);
	const durationMs = (profile.endTime - profile.startTime) / 1000;
	const msPerSample = profile.samples.length > 0 ? durationMs / profile.samples.length : 0;

	const selfCount = new Map<string, number>();
	const packageCount = new Map<string, number>();
	const inclusiveCount = new Map<string, number>();
	let idle = 0;
	let gc = 0;
	for (const id of profile.samples) {
		const node = byId.get(id)!;
		const name = node.callFrame.functionName || '(anonymous)';
		if (name === '(idle)') {
			idle++;
			continue;
		}
		if (name === '(garbage collector)') gc++;
		const frame = SPECIAL.has(name)
			? name
			: `${name} (${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1})`;
		selfCount.set(frame, (selfCount.get(frame) ?? 0) + 1);
		const pkg = SPECIAL.has(name) ? name : packageOf(node.callFrame.url);
		packageCount.set(pkg, (packageCount.get(pkg) ?? 0) + 1);
		const stack: CdpProfileNode[] = [];
		for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor))
			stack.push(byId.get(cursor)!);
		for (const group of INCLUSIVE_GROUPS)
			if (group.test(stack))
				inclusiveCount.set(group.name, (inclusiveCount.get(group.name) ?? 0) + 1);
	}
	const total = profile.samples.length || 1;
	const pct = (count: number) => (count * 100) / total;
	return {
		durationMs,
		samples: profile.samples.length,
		busyPercent: pct(total - idle),
		gcPercent: pct(gc),
		top: [...selfCount.entries()]
			.sort((a, b) => b[1] - a[1])
			.slice(0, 15)
			.map(([frame, count]) => ({ frame, selfPercent: pct(count), selfMs: count * msPerSample })),
		byPackage: [...packageCount.entries()]
			.sort((a, b) => b[1] - a[1])
			.slice(0, 10)
			.map(([name, count]) => ({ name, selfPercent: pct(count) })),
		inclusive: INCLUSIVE_GROUPS.map((group) => ({
			name: group.name,
			percent: pct(inclusiveCount.get(group.name) ?? 0),
		})),
	};
}
