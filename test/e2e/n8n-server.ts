/**
 * Harness that runs a real n8n server (and its CLI) for end-to-end tests.
 *
 * n8n 2.x needs Node 24; this file runs under the system Node (20) and spawns n8n under the
 * Node 24 binary installed by install-n8n.sh. Every n8n process is started through
 * supervisor.js (its own process group, dies with us) and is killed on stop(), on dispose(),
 * on process exit and on SIGINT/SIGTERM/SIGHUP.
 *
 * Recipe and traps: test/e2e/README.md, "Traps".
 */
import { spawn, ChildProcess } from 'child_process';
import { createRequire } from 'module';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

// ---------------------------------------------------------------------------------------------
// Types

export interface N8nInstall {
	cacheDir: string;
	node24Bin: string;
	/** n8n's bin script (node_modules/n8n/bin/n8n); run it with node24Bin. */
	n8nBin: string;
	/** Folder whose node_modules holds n8n and its dependencies. */
	n8nDir: string;
	n8nVersion: string;
}

export interface CliResult {
	args: string[];
	/** Exit code; 128 + signal number when n8n died from a signal (139 = SIGSEGV). */
	code: number;
	stdout: string;
	stderr: string;
	durationMs: number;
}

export interface CliOptions {
	timeoutMs?: number;
	env?: Record<string, string>;
	/** Resolve with the result instead of throwing when the exit code is not 0. */
	allowFailure?: boolean;
}

export interface NodeItem {
	json: Record<string, any>;
	[key: string]: unknown;
}

export interface NodeRun {
	executionStatus?: string;
	error?: { message?: string; [key: string]: unknown };
	data?: { main?: Array<NodeItem[] | null> };
	[key: string]: unknown;
}

/** The run record `n8n execute --rawOutput` prints (and the public API returns as `data`). */
export interface WorkflowRun {
	status: string;
	finished?: boolean;
	mode?: string;
	data: {
		resultData: {
			runData: Record<string, NodeRun[]>;
			lastNodeExecuted?: string;
			error?: { message?: string; [key: string]: unknown };
		};
		[key: string]: unknown;
	};
	[key: string]: unknown;
}

/** An execution as listed by the public API (`GET /api/v1/executions`). */
export interface ExecutionSummary {
	id: string;
	workflowId: string;
	status: string;
	mode: string;
	finished: boolean;
	startedAt: string;
	stoppedAt: string | null;
	data?: WorkflowRun['data'];
	[key: string]: unknown;
}

/**
 * Credential in the shape `n8n import:credentials` accepts. `data` may be a plain object:
 * n8n 2.41.1 encrypts it with the instance key on import (see importCredentials).
 */
export interface CredentialImport {
	id: string;
	name: string;
	type: string;
	data: Record<string, unknown> | string;
	[key: string]: unknown;
}

export interface OwnerAccount {
	email: string;
	password: string;
	firstName: string;
	lastName: string;
}

export interface N8nServerOptions {
	install: N8nInstall;
	/** HTTP port (default: a free port). */
	port?: number;
	/** Task broker port of the server (default: a free port; must differ from `port`). */
	brokerPort?: number;
	/** Extra environment for every n8n process (server and CLI); wins over the defaults. */
	env?: Record<string, string>;
	/** User folder (N8N_USER_FOLDER); default: a fresh temporary folder, removed by dispose(). */
	userFolder?: string;
	owner?: Partial<OwnerAccount>;
	/** Budget for start() to reach readiness (default: $TRUEDY_E2E_READY_TIMEOUT_MS or 60 s). */
	readyTimeoutMs?: number;
	/** Progress lines (default: process.stderr). */
	log?: (line: string) => void;
}

// ---------------------------------------------------------------------------------------------
// Constants

const INSTALL_SCRIPT = path.join(__dirname, 'install-n8n.sh');
const SUPERVISOR = path.join(__dirname, 'supervisor.js');
const INSTALL_RESULT_PREFIX = 'TRUEDY_E2E_INSTALL=';
const READY_LOG_LINE = 'Editor is now accessible';
const STOP_GRACE_MS = 10_000;
const DEFAULT_READY_TIMEOUT_MS = 60_000;
const DEFAULT_CLI_TIMEOUT_MS = 180_000;
const ENCRYPTION_KEY = 'truedy-e2e-not-a-secret';
const BROWSER_ID = 'truedy-e2e-browser';

export const DEFAULT_OWNER: OwnerAccount = {
	email: 'owner@example.com',
	password: 'E2e-Password-1',
	firstName: 'E2E',
	lastName: 'Owner',
};

const defaultLog = (line: string): void => {
	process.stderr.write(`[n8n-e2e] ${line}\n`);
};

// ---------------------------------------------------------------------------------------------
// Process registry: nothing we spawn survives us

const liveGroups = new Set<number>();
/** Temporary user folders to remove at process exit if dispose() was never called. */
const ownedFolders = new Set<string>();
let exitHandlersInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(-pgid, signal);
	} catch {
		// ESRCH: the group is already gone
	}
}

/** SIGKILLs every process group this module started and has not reaped yet. */
export function killAllSpawned(): void {
	for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
	liveGroups.clear();
}

function removeOwnedFolders(): void {
	if (process.env.TRUEDY_E2E_KEEP === '1') return;
	for (const folder of ownedFolders) fs.rmSync(folder, { recursive: true, force: true });
	ownedFolders.clear();
}

function installExitHandlers(): void {
	if (exitHandlersInstalled) return;
	exitHandlersInstalled = true;
	process.on('exit', () => {
		killAllSpawned();
		removeOwnedFolders();
	});
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) {
		const handler = (): void => {
			killAllSpawned();
			removeOwnedFolders();
			process.removeListener(signal, handler);
			// Let the default action (or other handlers) run as if we had not been here.
			if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
		};
		process.on(signal, handler);
	}
}

interface Supervised {
	child: ChildProcess;
	exited: Promise<number>;
}

/** Starts `node24 n8n <args>` under supervisor.js in a new process group. */
function spawnSupervised(
	install: N8nInstall,
	args: string[],
	env: NodeJS.ProcessEnv,
	stdio: 'pipe' | number,
): Supervised {
	installExitHandlers();
	const out = stdio === 'pipe' ? 'pipe' : stdio;
	const child = spawn(process.execPath, [SUPERVISOR, install.node24Bin, install.n8nBin, ...args], {
		cwd: env.N8N_USER_FOLDER ?? os.tmpdir(),
		env,
		detached: true,
		stdio: ['pipe', out, out],
	});
	const pgid = child.pid;
	if (pgid === undefined) throw new Error(`could not spawn n8n ${args.join(' ')}`);
	liveGroups.add(pgid);
	const exited = new Promise<number>((resolve) => {
		child.on('exit', (code, signal) => {
			// Leftovers of the group (e.g. the task runner) go with it.
			killGroup(pgid, 'SIGKILL');
			liveGroups.delete(pgid);
			child.stdin?.destroy();
			resolve(code ?? 128 + (os.constants.signals[signal as NodeJS.Signals] ?? 0));
		});
	});
	return { child, exited };
}

// ---------------------------------------------------------------------------------------------
// Install

let installPromise: Promise<N8nInstall> | undefined;

/**
 * Runs install-n8n.sh (idempotent; about 6 min cold, about 1 s warm), streaming its output,
 * and returns where Node 24 and n8n are. Memoized per process.
 */
export function ensureN8nInstalled(log: (line: string) => void = defaultLog): Promise<N8nInstall> {
	installPromise ??= runInstallScript(log).catch((error) => {
		installPromise = undefined;
		throw error;
	});
	return installPromise;
}

function runInstallScript(log: (line: string) => void): Promise<N8nInstall> {
	return new Promise((resolve, reject) => {
		installExitHandlers();
		// Own process group, so an interrupted test run also stops npm (the next run redoes the step).
		const child = spawn('bash', [INSTALL_SCRIPT], {
			stdio: ['ignore', 'pipe', 'pipe'],
			detached: true,
		});
		if (child.pid !== undefined) liveGroups.add(child.pid);
		let result: N8nInstall | undefined;
		const tail: string[] = [];
		const onLine = (line: string): void => {
			if (line.startsWith(INSTALL_RESULT_PREFIX)) {
				result = parseInstallResult(line.slice(INSTALL_RESULT_PREFIX.length));
				return;
			}
			if (
				line.includes('Unknown user config "nodedir"') ||
				line.includes('Unknown env config "nodedir"')
			)
				return;
			tail.push(line);
			if (tail.length > 40) tail.shift();
			log(line);
		};
		forEachLine(child.stdout!, onLine);
		forEachLine(child.stderr!, onLine);
		child.on('error', reject);
		child.on('close', (code) => {
			if (child.pid !== undefined) liveGroups.delete(child.pid);
			if (code === 0 && result) resolve(result);
			else reject(new Error(`install-n8n.sh failed (rc ${code}):\n${tail.join('\n')}`));
		});
	});
}

function parseInstallResult(json: string): N8nInstall {
	const raw = JSON.parse(json) as Omit<N8nInstall, 'n8nDir'>;
	// n8nBin = <n8nDir>/node_modules/n8n/bin/n8n
	return { ...raw, n8nDir: path.resolve(raw.n8nBin, '..', '..', '..', '..') };
}

function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
	let buffer = '';
	stream.setEncoding('utf8');
	stream.on('data', (chunk: string) => {
		buffer += chunk;
		const lines = buffer.split('\n');
		buffer = lines.pop() ?? '';
		for (const line of lines) onLine(line);
	});
	stream.on('end', () => {
		if (buffer) onLine(buffer);
	});
}

// ---------------------------------------------------------------------------------------------
// Community package

export interface InstalledPackage {
	name: string;
	version: string;
	tarball: string;
}

/**
 * Packs the (already built) package in `packageDir` and installs the tarball into
 * `<userFolder>/.n8n/nodes`, the folder n8n scans for community packages. Node types then
 * appear as `<package name>.<node name>`, exactly as users get them.
 */
export async function packAndInstallPackage(
	install: N8nInstall,
	userFolder: string,
	packageDir: string,
): Promise<InstalledPackage> {
	assertPackageBuilt(packageDir);
	const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-e2e-pack-'));
	try {
		const packed = await run('npm', ['pack', '--json', '--pack-destination', packDir], {
			cwd: packageDir,
		});
		const info = JSON.parse(packed.stdout) as Array<{
			name: string;
			version: string;
			filename: string;
		}>;
		const tarball = path.join(packDir, info[0].filename);
		const nodesDir = path.join(userFolder, '.n8n', 'nodes');
		fs.mkdirSync(nodesDir, { recursive: true });
		const manifest = path.join(nodesDir, 'package.json');
		if (!fs.existsSync(manifest)) fs.writeFileSync(manifest, '{"private":true}\n');
		// Like n8n's own community-package installer: no scripts, no dev or peer dependencies
		// (n8n puts its own node_modules on NODE_PATH, so `n8n-workflow` resolves to n8n's copy).
		await run(
			'npm',
			[
				'install',
				tarball,
				'--no-audit',
				'--no-fund',
				'--ignore-scripts',
				'--omit=dev',
				'--legacy-peer-deps',
				'--no-package-lock',
			],
			{
				cwd: nodesDir,
				env: {
					...process.env,
					PATH: `${path.dirname(install.node24Bin)}:${process.env.PATH ?? ''}`,
				},
			},
		);
		return { name: info[0].name, version: info[0].version, tarball: path.basename(tarball) };
	} finally {
		fs.rmSync(packDir, { recursive: true, force: true });
	}
}

function assertPackageBuilt(packageDir: string): void {
	const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
		n8n?: { nodes?: string[]; credentials?: string[] };
	};
	const files = [...(manifest.n8n?.nodes ?? []), ...(manifest.n8n?.credentials ?? [])];
	const missing = files.filter((file) => !fs.existsSync(path.join(packageDir, file)));
	if (missing.length > 0) {
		throw new Error(
			`package in ${packageDir} is not built (missing ${missing.join(', ')}); run npm run build first`,
		);
	}
}

interface RunResult {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs a short helper command (npm), throwing with its output when it fails. */
function run(
	command: string,
	args: string[],
	options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, {
			cwd: options.cwd,
			env: options.env ?? process.env,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		child.on('error', reject);
		child.on('close', (code) => {
			const result = { code: code ?? 1, stdout, stderr };
			if (code === 0) resolve(result);
			else
				reject(
					new Error(
						`${command} ${args.join(' ')} failed (rc ${code}) in ${options.cwd}:\n${stdout}\n${stderr}`,
					),
				);
		});
	});
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function getFreePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address() as net.AddressInfo;
			server.close(() => resolve(address.port));
		});
	});
}

async function distinctFreePorts(count: number, taken: number[]): Promise<number[]> {
	const ports: number[] = [];
	while (ports.length < count) {
		const port = await getFreePort();
		if (!taken.includes(port) && !ports.includes(port)) ports.push(port);
	}
	return ports;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Parses `n8n execute --rawOutput` stdout: the JSON starts at the first line that is exactly `{`. */
export function parseRunOutput(stdout: string): WorkflowRun | undefined {
	const lines = stdout.split('\n');
	const start = lines.findIndex((line) => line.trimEnd() === '{');
	if (start < 0) return undefined;
	for (let end = lines.length; end > start; end--) {
		if (lines[end - 1].trimEnd() !== '}') continue;
		try {
			return JSON.parse(lines.slice(start, end).join('\n')) as WorkflowRun;
		} catch {
			// try an earlier closing brace
		}
	}
	return undefined;
}

/** The items a node produced on its first run, output `outputIndex` (default 0). */
export function nodeOutput(
	run: Pick<WorkflowRun, 'data'>,
	nodeName: string,
	outputIndex = 0,
): NodeItem[] {
	const runs = run.data.resultData.runData[nodeName];
	if (!runs || runs.length === 0) {
		throw new Error(
			`node "${nodeName}" did not run; ran: ${Object.keys(run.data.resultData.runData).join(', ')}`,
		);
	}
	return runs[0].data?.main?.[outputIndex] ?? [];
}

function tailOf(file: string, lines: number): string {
	try {
		return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
	} catch {
		return '(no log)';
	}
}

/** The environment every n8n process gets, minus variables of the calling shell that could leak in. */
function cleanBaseEnv(): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (
			/^(N8N_|DB_|QUEUE_|EXECUTIONS_|WEBHOOK_URL$|NODE_OPTIONS$|NODE_ENV$|JEST_|npm_|TS_NODE_|E2E_TESTS$)/.test(
				key,
			)
		)
			continue;
		env[key] = value;
	}
	return env;
}

function bcryptHash(install: N8nInstall, password: string): string {
	const requireFromN8n = createRequire(
		path.join(install.n8nDir, 'node_modules', 'n8n', 'package.json'),
	);
	const bcrypt = requireFromN8n('bcryptjs') as {
		hashSync(password: string, rounds: number): string;
	};
	return bcrypt.hashSync(password, 10);
}

// ---------------------------------------------------------------------------------------------
// The server

/**
 * One n8n instance: a user folder (SQLite DB, community packages, logs) plus, while started, the
 * `n8n start` process. CLI helpers work whether or not the server is running, so workflows can
 * be imported and published before start() (publishing is only picked up at start).
 */
export class N8nServer {
	readonly install: N8nInstall;
	readonly userFolder: string;
	readonly port: number;
	readonly brokerPort: number;
	readonly owner: OwnerAccount;
	/** Log of the current (or last) server run. */
	logPath = '';
	/** Milliseconds from spawn to readiness, for the last start(). */
	lastStartupMs = 0;

	private readonly ownsUserFolder: boolean;
	private readonly env: NodeJS.ProcessEnv;
	private readonly readyTimeoutMs: number;
	private readonly log: (line: string) => void;
	private server?: Supervised;
	private startCount = 0;
	private cliCount = 0;
	private cookie?: string;
	private apiKey?: string;

	private constructor(
		options: N8nServerOptions,
		ports: { port: number; brokerPort: number },
		ownerHash: string,
	) {
		this.install = options.install;
		this.ownsUserFolder = options.userFolder === undefined;
		this.userFolder = options.userFolder ?? fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-e2e-'));
		if (this.ownsUserFolder) ownedFolders.add(this.userFolder);
		installExitHandlers();
		fs.mkdirSync(path.join(this.userFolder, 'logs'), { recursive: true });
		this.port = ports.port;
		this.brokerPort = ports.brokerPort;
		this.owner = { ...DEFAULT_OWNER, ...options.owner };
		this.readyTimeoutMs =
			options.readyTimeoutMs ??
			(Number(process.env.TRUEDY_E2E_READY_TIMEOUT_MS) || DEFAULT_READY_TIMEOUT_MS);
		this.log = options.log ?? defaultLog;
		this.env = this.buildEnv(ownerHash, options.env ?? {});
	}

	/** Prepares an instance (user folder, ports, environment) without starting the server. */
	static async create(options: N8nServerOptions): Promise<N8nServer> {
		const [port] = options.port
			? [options.port]
			: await distinctFreePorts(1, [options.brokerPort ?? 0]);
		const [brokerPort] = options.brokerPort
			? [options.brokerPort]
			: await distinctFreePorts(1, [port]);
		if (port === brokerPort) throw new Error(`port and brokerPort must differ (both ${port})`);
		const owner = { ...DEFAULT_OWNER, ...options.owner };
		return new N8nServer(
			options,
			{ port, brokerPort },
			bcryptHash(options.install, owner.password),
		);
	}

	/** create() + start(). */
	static async start(options: N8nServerOptions): Promise<N8nServer> {
		const server = await N8nServer.create(options);
		try {
			await server.start();
		} catch (error) {
			await server.dispose();
			throw error;
		}
		return server;
	}

	get baseUrl(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	get isRunning(): boolean {
		return this.server !== undefined;
	}

	/** Production webhook URL, e.g. webhookUrl('e2e-smoke') → http://127.0.0.1:PORT/webhook/e2e-smoke. */
	webhookUrl(webhookPath: string): string {
		return `${this.baseUrl}/webhook/${webhookPath.replace(/^\/+/, '')}`;
	}

	private buildEnv(ownerHash: string, extra: Record<string, string>): NodeJS.ProcessEnv {
		return {
			...cleanBaseEnv(),
			PATH: `${path.dirname(this.install.node24Bin)}:${process.env.PATH ?? ''}`,
			N8N_USER_FOLDER: this.userFolder,
			N8N_PORT: String(this.port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_PROTOCOL: 'http',
			N8N_WEBHOOK_URL: `${this.baseUrl}/`,
			N8N_RUNNERS_BROKER_PORT: String(this.brokerPort),
			N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
			N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
			N8N_SECURE_COOKIE: 'false',
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_DISABLED_MODULES: 'mcp-registry',
			N8N_EXPRESSION_ENGINE: 'quickjs',
			N8N_USE_WORKFLOW_PUBLICATION_SERVICE: 'false',
			N8N_LOG_LEVEL: 'info', // 'error' would also hide `execute --rawOutput` JSON
			N8N_LOG_OUTPUT: 'console',
			N8N_INSTANCE_OWNER_MANAGED_BY_ENV: 'true',
			N8N_INSTANCE_OWNER_EMAIL: this.owner.email,
			N8N_INSTANCE_OWNER_PASSWORD_HASH: ownerHash,
			N8N_INSTANCE_OWNER_FIRST_NAME: this.owner.firstName,
			N8N_INSTANCE_OWNER_LAST_NAME: this.owner.lastName,
			...extra,
		};
	}

	// ----- CLI ----------------------------------------------------------------------------------

	/**
	 * Runs `n8n <args>` against this user folder and DB. Uses its own task-broker port, so it also
	 * works while the server runs. Throws when the exit code is not 0 unless `allowFailure`.
	 */
	async cli(args: string[], options: CliOptions = {}): Promise<CliResult> {
		const [brokerPort] = await distinctFreePorts(1, [this.port, this.brokerPort]);
		const env = { ...this.env, N8N_RUNNERS_BROKER_PORT: String(brokerPort), ...options.env };
		const started = Date.now();
		const { child, exited } = spawnSupervised(this.install, args, env, 'pipe');
		const output = Promise.all([collect(child.stdout!), collect(child.stderr!)]);
		const timeoutMs = options.timeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			killGroup(child.pid!, 'SIGKILL');
		}, timeoutMs);
		const code = await exited.finally(() => clearTimeout(timer));
		const [stdout, stderr] = await output;
		const result: CliResult = { args, code, stdout, stderr, durationMs: Date.now() - started };
		this.appendCliLog(result);
		if (timedOut)
			throw new Error(
				`n8n ${args.join(' ')} timed out after ${timeoutMs} ms:\n${lastLines(stdout + '\n' + stderr, 40)}`,
			);
		if (code !== 0 && !options.allowFailure) {
			throw new Error(
				`n8n ${args.join(' ')} failed (rc ${code}, ${result.durationMs} ms):\n${lastLines(stdout + '\n' + stderr, 40)}`,
			);
		}
		return result;
	}

	private appendCliLog(result: CliResult): void {
		this.cliCount++;
		const header = `\n===== #${this.cliCount} n8n ${result.args.join(' ')} → rc ${result.code} in ${result.durationMs} ms\n`;
		fs.appendFileSync(
			path.join(this.userFolder, 'logs', 'cli.log'),
			header + result.stdout + result.stderr,
		);
	}

	private writeInputFile(kind: string, content: unknown): string {
		const file = path.join(this.userFolder, 'logs', `${kind}-${Date.now()}-${this.cliCount}.json`);
		fs.writeFileSync(file, JSON.stringify(content, null, 2));
		return file;
	}

	/** `n8n import:workflow`: a workflow object, an array of them, or a path to a JSON file. */
	async importWorkflow(workflow: object | object[] | string): Promise<void> {
		const file =
			typeof workflow === 'string' ? workflow : this.writeInputFile('workflow', workflow);
		await this.cli(['import:workflow', `--input=${file}`]);
	}

	/**
	 * `n8n import:credentials`: credential objects (or a JSON file path). `data` may be a plain
	 * object; n8n 2.41.1 encrypts plain data with the instance key on import (verified by the
	 * smoke test). Credentials go to the owner's personal project, like imported workflows.
	 */
	async importCredentials(
		credentials: CredentialImport | CredentialImport[] | string,
	): Promise<void> {
		// The CLI wants an array in the file.
		const list =
			typeof credentials === 'string' || Array.isArray(credentials) ? credentials : [credentials];
		const file = typeof list === 'string' ? list : this.writeInputFile('credentials', list);
		await this.cli(['import:credentials', `--input=${file}`]);
	}

	/**
	 * `n8n export:credentials --id=<id>`: as stored (`data` is an encrypted string) or, with
	 * `decrypted`, with `data` as a plain object.
	 */
	async exportCredentials(
		id: string,
		options: { decrypted?: boolean } = {},
	): Promise<CredentialImport[]> {
		const file = path.join(
			this.userFolder,
			'logs',
			`export-credentials-${Date.now()}-${this.cliCount}.json`,
		);
		await this.cli([
			'export:credentials',
			`--id=${id}`,
			`--output=${file}`,
			...(options.decrypted ? ['--decrypted'] : []),
		]);
		return JSON.parse(fs.readFileSync(file, 'utf8')) as CredentialImport[];
	}

	/** `n8n publish:workflow` (the 2.x name for activating). Takes effect at the next start(). */
	async publishWorkflow(id: string): Promise<void> {
		await this.cli(['publish:workflow', `--id=${id}`]);
	}

	/**
	 * `n8n execute --id=<id> --rawOutput` and the parsed run record. Judged by the record's
	 * `status`: a segfault at CLI exit (rc 139) after a successful run is tolerated. Throws when the
	 * status is not `success`, unless `allowFailure` (then the record is returned if printed).
	 */
	async executeWorkflow(id: string, options: CliOptions = {}): Promise<WorkflowRun> {
		const result = await this.cli(['execute', `--id=${id}`, '--rawOutput'], {
			...options,
			allowFailure: true,
		});
		const run = parseRunOutput(result.stdout);
		if (run && (run.status === 'success' || options.allowFailure)) return run;
		const why = run
			? `status ${run.status}: ${run.data.resultData.error?.message ?? ''}`
			: 'no run JSON';
		throw new Error(
			`n8n execute --id=${id} failed (rc ${result.code}, ${why}):\n${lastLines(textAfterJson(result.stdout) + '\n' + result.stderr, 40)}`,
		);
	}

	// ----- server lifecycle -----------------------------------------------------------------------

	/** Starts `n8n start` and waits for readiness (GET /healthz/readiness ok + the editor log line). */
	async start(): Promise<void> {
		if (this.server) throw new Error('n8n is already running');
		this.startCount++;
		this.logPath = path.join(this.userFolder, 'logs', `server-${this.startCount}.log`);
		const logFd = fs.openSync(this.logPath, 'a');
		const started = Date.now();
		let server: Supervised;
		try {
			server = spawnSupervised(this.install, ['start'], this.env, logFd);
		} finally {
			fs.closeSync(logFd);
		}
		this.server = server;
		void server.exited.then((code) => {
			if (this.server !== server) return; // stopped on purpose
			this.server = undefined;
			this.log(`n8n exited unexpectedly (rc ${code}); log: ${this.logPath}`);
		});
		try {
			await this.waitForReady(server, started);
		} catch (error) {
			await this.stop();
			throw error;
		}
		this.lastStartupMs = Date.now() - started;
		this.log(`n8n ready at ${this.baseUrl} in ${this.lastStartupMs} ms (log ${this.logPath})`);
	}

	private async waitForReady(server: Supervised, started: number): Promise<void> {
		let exitCode: number | undefined;
		void server.exited.then((code) => (exitCode = code));
		while (Date.now() - started < this.readyTimeoutMs) {
			if (exitCode !== undefined) {
				throw new Error(
					`n8n start exited with rc ${exitCode} before it was ready; log tail:\n${tailOf(this.logPath, 40)}`,
				);
			}
			if (
				(await this.readinessOk()) &&
				fs.readFileSync(this.logPath, 'utf8').includes(READY_LOG_LINE)
			)
				return;
			await sleep(250);
		}
		throw new Error(
			`n8n was not ready after ${this.readyTimeoutMs} ms; log tail:\n${tailOf(this.logPath, 40)}`,
		);
	}

	private async readinessOk(): Promise<boolean> {
		try {
			const response = await fetch(`${this.baseUrl}/healthz/readiness`, {
				signal: AbortSignal.timeout(2000),
			});
			const body = (await response.json()) as { status?: string };
			return response.ok && body.status === 'ok';
		} catch {
			return false;
		}
	}

	/** SIGTERM, then SIGKILL (whole process group) after 10 s. Resolves once n8n is gone. */
	async stop(): Promise<void> {
		const server = this.server;
		if (!server) return;
		this.server = undefined;
		this.cookie = undefined;
		const pgid = server.child.pid!;
		server.child.kill('SIGTERM');
		const timer = setTimeout(() => killGroup(pgid, 'SIGKILL'), STOP_GRACE_MS);
		await server.exited.finally(() => clearTimeout(timer));
	}

	async restart(): Promise<void> {
		await this.stop();
		await this.start();
	}

	/** stop() and remove the user folder if this instance made it (kept with TRUEDY_E2E_KEEP=1). */
	async dispose(): Promise<void> {
		await this.stop();
		if (this.ownsUserFolder && process.env.TRUEDY_E2E_KEEP !== '1') {
			fs.rmSync(this.userFolder, { recursive: true, force: true });
			ownedFolders.delete(this.userFolder);
		} else {
			this.log(`kept n8n user folder ${this.userFolder}`);
		}
	}

	/** The last lines of the current server log, for assertion messages. */
	logTail(lines = 40): string {
		return tailOf(this.logPath, lines);
	}

	// ----- REST (session) and public API ----------------------------------------------------------

	/** POST /rest/login as the owner; keeps the session cookie for rest(). */
	async login(): Promise<void> {
		const response = await fetch(`${this.baseUrl}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'browser-id': BROWSER_ID },
			body: JSON.stringify({ emailOrLdapLoginId: this.owner.email, password: this.owner.password }),
		});
		if (!response.ok)
			throw new Error(`login failed: HTTP ${response.status} ${await response.text()}`);
		const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
		if (cookies.length === 0) throw new Error('login returned no cookie');
		this.cookie = cookies.join('; ');
	}

	/** Internal REST API (/rest/...) with the login cookie. Returns the `data` field. */
	async rest<T = unknown>(method: string, restPath: string, body?: unknown): Promise<T> {
		if (!this.cookie) await this.login();
		const response = await fetch(`${this.baseUrl}/rest${restPath}`, {
			method,
			headers: {
				'content-type': 'application/json',
				'browser-id': BROWSER_ID,
				cookie: this.cookie!,
			},
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await response.text();
		if (!response.ok)
			throw new Error(`${method} /rest${restPath}: HTTP ${response.status} ${text}`);
		return (JSON.parse(text) as { data: T }).data;
	}

	/** Node type names the running server has loaded (GET /types/nodes.json, needs the login cookie). */
	async nodeTypeNames(): Promise<string[]> {
		if (!this.cookie) await this.login();
		const response = await fetch(`${this.baseUrl}/types/nodes.json`, {
			headers: { 'browser-id': BROWSER_ID, cookie: this.cookie! },
		});
		if (!response.ok) throw new Error(`GET /types/nodes.json: HTTP ${response.status}`);
		const types = (await response.json()) as Array<{ name: string }>;
		return Array.from(new Set(types.map((type) => type.name)));
	}

	/** Creates an API key with every scope the owner may grant (and remembers it for api()). */
	async createApiKey(label = 'e2e'): Promise<string> {
		const scopes = await this.rest<string[]>('GET', '/api-keys/scopes');
		const created = await this.rest<{ rawApiKey: string }>('POST', '/api-keys', {
			label,
			expiresAt: null,
			scopes,
		});
		this.apiKey = created.rawApiKey;
		return created.rawApiKey;
	}

	/** Public API call (`apiPath` like '/executions'; '/api/v1' is added). Creates a key if needed. */
	async api<T = unknown>(method: string, apiPath: string, body?: unknown): Promise<T> {
		if (!this.apiKey) await this.createApiKey();
		const response = await fetch(`${this.baseUrl}/api/v1${apiPath}`, {
			method,
			headers: { 'content-type': 'application/json', 'X-N8N-API-KEY': this.apiKey! },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await response.text();
		if (!response.ok)
			throw new Error(`${method} /api/v1${apiPath}: HTTP ${response.status} ${text}`);
		return (text ? JSON.parse(text) : undefined) as T;
	}

	async listExecutions(
		workflowId: string,
		options: { includeData?: boolean; limit?: number } = {},
	): Promise<ExecutionSummary[]> {
		const query = new URLSearchParams({
			workflowId,
			limit: String(options.limit ?? 250),
			includeData: String(options.includeData ?? false),
		});
		const page = await this.api<{ data: ExecutionSummary[] }>(
			'GET',
			`/executions?${query.toString()}`,
		);
		return page.data;
	}

	async getExecution(id: string, includeData = true): Promise<ExecutionSummary> {
		return this.api<ExecutionSummary>('GET', `/executions/${id}?includeData=${includeData}`);
	}

	/** Polls until the workflow has at least `count` finished executions (any final status). */
	async waitForExecutions(
		workflowId: string,
		count: number,
		timeoutMs = 30_000,
	): Promise<ExecutionSummary[]> {
		const deadline = Date.now() + timeoutMs;
		let executions: ExecutionSummary[] = [];
		while (Date.now() < deadline) {
			executions = await this.listExecutions(workflowId);
			const done = executions.filter(
				(execution) => !['new', 'running', 'waiting'].includes(execution.status),
			);
			if (done.length >= count) return done;
			await sleep(300);
		}
		throw new Error(
			`workflow ${workflowId}: wanted ${count} finished executions within ${timeoutMs} ms, have ` +
				JSON.stringify(
					executions.map((execution) => ({ id: execution.id, status: execution.status })),
				),
		);
	}
}

function collect(stream: NodeJS.ReadableStream): Promise<string> {
	return new Promise((resolve) => {
		let text = '';
		stream.setEncoding('utf8');
		stream.on('data', (chunk: string) => (text += chunk));
		stream.on('end', () => resolve(text));
		stream.on('error', () => resolve(text));
	});
}

/** What `n8n execute` printed after the run JSON (the error summary and stack, if any). */
function textAfterJson(stdout: string): string {
	const lines = stdout.split('\n');
	let lastBrace = -1;
	lines.forEach((line, index) => {
		if (line.trimEnd() === '}') lastBrace = index;
	});
	return lines.slice(lastBrace + 1).join('\n');
}

function lastLines(text: string, count: number): string {
	return text.trimEnd().split('\n').slice(-count).join('\n');
}
