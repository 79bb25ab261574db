/**
 * n8n 2.41.1 in queue mode, started by the test itself: a fresh in-memory Redis, PostgreSQL in a
 * folder of its own, `n8n start` (main), `n8n worker` × N and one `n8n webhook` process, all on
 * 127.0.0.1 with free ports, sharing one user folder with the package installed the way users
 * install it (npm pack + install into `.n8n/nodes`, via the e2e harness's packAndInstallPackage).
 *
 * Every process runs under test/e2e/supervisor.js in its own process group: it dies with the test
 * process (EOF on the supervisor's stdin, even when jest is SIGKILLed), on stop(), on dispose(),
 * and at exit or SIGINT/SIGTERM/SIGHUP (killAllQueueProcesses). Recipe and timings:
 * the "Running at scale" section of the README.
 */
import { execFileSync, spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { ensureN8nInstalled, getFreePort, N8nServer, packAndInstallPackage } from '../n8n-server';
import type { ExecutionSummary, N8nInstall } from '../n8n-server';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SUPERVISOR = path.join(__dirname, '..', 'supervisor.js');
const DEPS_SCRIPT = path.join(__dirname, '..', 'install-queue-deps.sh');
const STOP_GRACE_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Process groups: nothing started here outlives the test process

const liveGroups = new Set<number>();
/** Cluster folders to remove at exit when dispose() did not run. */
const liveFolders = new Set<string>();
let hooksInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(-pgid, signal);
	} catch {
		// ESRCH: already gone
	}
}

/** SIGKILLs every process group this module started that is still alive. */
export function killAllQueueProcesses(): void {
	for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
	liveGroups.clear();
}

function installHooks(): void {
	if (hooksInstalled) return;
	hooksInstalled = true;
	const cleanUp = (): void => {
		killAllQueueProcesses();
		if (process.env.TRUEDY_E2E_KEEP === '1') return;
		for (const folder of liveFolders) fs.rmSync(folder, { recursive: true, force: true });
	};
	process.on('exit', cleanUp);
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) {
		const handler = (): void => {
			cleanUp();
			process.removeListener(signal, handler);
			if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
		};
		process.on(signal, handler);
	}
}

/** One supervised process (its own process group) writing to a log file. */
export class GroupProcess {
	readonly exited: Promise<number>;
	exitCode?: number;
	readonly logPath: string;
	private readonly child: ChildProcess;

	constructor(
		readonly name: string,
		command: string,
		args: string[],
		options: { env: NodeJS.ProcessEnv; cwd: string; logPath: string },
	) {
		installHooks();
		this.logPath = options.logPath;
		const fd = fs.openSync(options.logPath, 'a');
		try {
			this.child = spawn(process.execPath, [SUPERVISOR, command, ...args], {
				cwd: options.cwd,
				env: options.env,
				detached: true,
				stdio: ['pipe', fd, fd],
			});
		} finally {
			fs.closeSync(fd);
		}
		const pgid = this.child.pid;
		if (pgid === undefined) throw new Error(`could not spawn ${name} (${command})`);
		liveGroups.add(pgid);
		this.exited = new Promise((resolve) => {
			this.child.on('exit', (code, signal) => {
				killGroup(pgid, 'SIGKILL'); // leftovers of the group (n8n's task runner)
				liveGroups.delete(pgid);
				this.child.stdin?.destroy();
				this.exitCode = code ?? 128 + (os.constants.signals[signal as NodeJS.Signals] ?? 0);
				resolve(this.exitCode);
			});
		});
	}

	get pgid(): number {
		return this.child.pid!;
	}

	get running(): boolean {
		return this.exitCode === undefined;
	}

	log(): string {
		try {
			return fs.readFileSync(this.logPath, 'utf8');
		} catch {
			return '';
		}
	}

	tail(lines = 30): string {
		return this.log().trimEnd().split('\n').slice(-lines).join('\n');
	}

	/** SIGKILL to the whole group (n8n and its task runner), as a crash or the OOM killer would. */
	async crash(): Promise<void> {
		killGroup(this.pgid, 'SIGKILL');
		await this.exited;
	}

	/** `signal` to the supervisor (it forwards SIGTERM), SIGKILL to the group after the grace. */
	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
		if (!this.running) return;
		try {
			this.child.kill(signal);
		} catch {
			// gone
		}
		const timer = setTimeout(() => killGroup(this.pgid, 'SIGKILL'), STOP_GRACE_MS);
		await this.exited.finally(() => clearTimeout(timer));
	}
}

// ---------------------------------------------------------------------------------------------
// Redis and PostgreSQL

interface QueueDeps {
	redis: string;
	pgbin: string;
}

/** Runs install-queue-deps.sh (apt-get installs redis-server / postgresql if missing). */
export function ensureQueueDeps(): QueueDeps {
	const out = execFileSync('bash', [DEPS_SCRIPT], {
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const found: Record<string, string> = {};
	for (const line of out.split('\n')) {
		const match = /^TRUEDY_QUEUE_DEP (\w+)=(.*)$/.exec(line.trim());
		if (match) found[match[1]] = match[2];
	}
	if (!found.redis || !found.pgbin)
		throw new Error(`install-queue-deps.sh printed no paths:\n${out}`);
	return { redis: found.redis, pgbin: found.pgbin };
}

/** When root, PostgreSQL runs as `postgres` (initdb refuses root): `setpriv` execs in place. */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
	if (process.getuid?.() !== 0) return [command, args];
	return [
		'setpriv',
		['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args],
	];
}

async function waitFor(
	what: string,
	probe: () => Promise<boolean> | boolean,
	timeoutMs: number,
	detail: () => string,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await probe()) return;
		await sleep(250);
	}
	throw new Error(`${what} not ready after ${timeoutMs} ms:\n${detail()}`);
}

async function httpOk(url: string): Promise<boolean> {
	try {
		const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
		const body = (await response.json()) as { status?: string };
		return response.ok && body.status === 'ok';
	} catch {
		return false;
	}
}

// ---------------------------------------------------------------------------------------------
// The cluster

export interface QueueClusterOptions {
	workers?: number;
	/** Environment for every n8n process (wins over the defaults). */
	env?: Record<string, string>;
	/** Budget for all n8n processes to become ready (default 120 s; measured 25–47 s on 2 cores). */
	readyTimeoutMs?: number;
	log?: (line: string) => void;
	/** Imports (credentials, workflows) and publishes, run with the CLI before the processes start. */
	prepare?: (main: N8nServer) => Promise<void>;
}

export interface N8nRole {
	name: string;
	process: GroupProcess;
	/** HTTP port: main and webhook serve webhooks there, a worker its health check. */
	port: number;
}

export class QueueCluster {
	readonly baseDir: string;
	readonly logsDir: string;
	main!: N8nServer;
	workers: N8nRole[] = [];
	webhook!: N8nRole;
	redisPort = 0;
	pgPort = 0;
	/** Spawn → every process ready, ms. */
	startupMs = 0;
	private redis?: GroupProcess;
	private postgres?: GroupProcess;
	private pgbin = '';
	private install?: N8nInstall;
	private sharedEnv: NodeJS.ProcessEnv = {};
	private readonly log: (line: string) => void;

	private constructor(private readonly options: QueueClusterOptions) {
		this.log = options.log ?? ((line) => process.stderr.write(`[queue] ${line}\n`));
		this.baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'truedy-queue-'));
		fs.chmodSync(this.baseDir, 0o755); // the postgres user must reach pg/
		installHooks();
		liveFolders.add(this.baseDir);
		this.logsDir = path.join(this.baseDir, 'logs');
		fs.mkdirSync(this.logsDir);
	}

	/** Starts everything; on any failure stops what was started and throws. */
	static async start(options: QueueClusterOptions = {}): Promise<QueueCluster> {
		const cluster = new QueueCluster(options);
		try {
			await cluster.boot();
		} catch (error) {
			await cluster.dispose(true);
			throw error;
		}
		return cluster;
	}

	private async boot(): Promise<void> {
		const deps = ensureQueueDeps();
		this.install = await ensureN8nInstalled(this.log);
		const ports = new Set<number>();
		const port = async (): Promise<number> => {
			for (;;) {
				const candidate = await getFreePort();
				if (!ports.has(candidate)) {
					ports.add(candidate);
					return candidate;
				}
			}
		};
		this.redisPort = await port();
		this.pgPort = await port();
		await Promise.all([this.startRedis(deps.redis), this.startPostgres(deps.pgbin)]);

		const userFolder = path.join(this.baseDir, 'home');
		fs.mkdirSync(userFolder);
		const mainPort = await port();
		const mainBroker = await port();
		this.main = await N8nServer.create({
			install: this.install,
			userFolder,
			port: mainPort,
			brokerPort: mainBroker,
			log: this.log,
			readyTimeoutMs: this.options.readyTimeoutMs ?? 120_000,
			env: {
				EXECUTIONS_MODE: 'queue',
				QUEUE_BULL_REDIS_HOST: '127.0.0.1',
				QUEUE_BULL_REDIS_PORT: String(this.redisPort),
				OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
				DB_TYPE: 'postgresdb',
				DB_POSTGRESDB_HOST: '127.0.0.1',
				DB_POSTGRESDB_PORT: String(this.pgPort),
				DB_POSTGRESDB_DATABASE: 'n8n',
				DB_POSTGRESDB_USER: 'n8n',
				DB_POSTGRESDB_PASSWORD: 'unused',
				...this.options.env,
			},
		});
		// N8nServer builds the environment every n8n process must share (encryption key, user
		// folder, owner, quiet defaults); workers and the webhook process take it from there.
		const env = (this.main as unknown as { env?: NodeJS.ProcessEnv }).env;
		if (!env?.N8N_ENCRYPTION_KEY)
			throw new Error('N8nServer no longer exposes its environment; update queue-cluster.ts');
		this.sharedEnv = env;

		await timed(this.log, 'pack and install the package into the shared user folder', () =>
			packAndInstallPackage(this.install!, userFolder, ROOT),
		);
		// The first CLI command runs the migrations on the empty database (8–12 s).
		if (this.options.prepare)
			await timed(this.log, 'import and publish (CLI)', () => this.options.prepare!(this.main));

		const started = Date.now();
		const workerCount = this.options.workers ?? 2;
		const workerPorts = [];
		for (let index = 0; index < workerCount; index++)
			workerPorts.push({ health: await port(), broker: await port() });
		const webhookPort = await port();
		const webhookBroker = await port();
		// Main first (it registers the webhooks the webhook process then serves), the rest alongside.
		const mainReady = this.main.start();
		this.workers = workerPorts.map(({ health, broker }, index) => {
			const name = `worker${index + 1}`;
			const proc = this.spawnN8n(name, ['worker', '--concurrency=10'], {
				N8N_RUNNERS_BROKER_PORT: String(broker),
				QUEUE_HEALTH_CHECK_ACTIVE: 'true',
				QUEUE_HEALTH_CHECK_PORT: String(health),
				N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
			});
			return { name, process: proc, port: health };
		});
		this.webhook = {
			name: 'webhook',
			port: webhookPort,
			process: this.spawnN8n('webhook', ['webhook'], {
				N8N_PORT: String(webhookPort),
				N8N_RUNNERS_BROKER_PORT: String(webhookBroker),
			}),
		};
		const budget = this.options.readyTimeoutMs ?? 120_000;
		await Promise.all([
			mainReady,
			...this.workers.map((worker) => this.waitForRole(worker, 'n8n worker is now ready', budget)),
			this.waitForRole(this.webhook, 'Webhook listener waiting for requests.', budget),
		]);
		this.startupMs = Date.now() - started;
		this.log(
			`queue mode ready in ${this.startupMs} ms: main :${mainPort}, ${this.workers.map((w) => `${w.name} health :${w.port}`).join(', ')}, webhook :${webhookPort} (logs ${this.logsDir})`,
		);
	}

	private async startRedis(redisServer: string): Promise<void> {
		const dir = path.join(this.baseDir, 'redis');
		fs.mkdirSync(dir);
		this.redis = new GroupProcess(
			'redis',
			redisServer,
			[
				'--bind',
				'127.0.0.1',
				'--port',
				String(this.redisPort),
				'--save',
				'',
				'--appendonly',
				'no',
				'--dir',
				dir,
				'--protected-mode',
				'no',
			],
			{ env: process.env, cwd: dir, logPath: path.join(this.logsDir, 'redis.log') },
		);
		const net = await import('net');
		await waitFor(
			'Redis',
			() =>
				new Promise<boolean>((resolve) => {
					const socket = net.connect(this.redisPort, '127.0.0.1');
					socket.setTimeout(1000);
					socket.on('connect', () => socket.write('PING\r\n'));
					socket.on('data', (data) => {
						socket.destroy();
						resolve(data.toString().startsWith('+PONG'));
					});
					socket.on('error', () => resolve(false));
					socket.on('timeout', () => {
						socket.destroy();
						resolve(false);
					});
				}),
			15_000,
			() => this.redis!.tail(),
		);
	}

	private async startPostgres(pgbin: string): Promise<void> {
		this.pgbin = pgbin;
		const pgDir = path.join(this.baseDir, 'pg');
		const data = path.join(pgDir, 'data');
		fs.mkdirSync(pgDir);
		if (process.getuid?.() === 0) {
			const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
			const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
			fs.chownSync(pgDir, uid, gid);
		}
		const [initdb, initArgs] = asPostgresUser(path.join(pgbin, 'initdb'), [
			'-D',
			data,
			'-U',
			'n8n',
			'--auth=trust',
			'-E',
			'UTF8',
			'--no-locale',
		]);
		execFileSync(initdb, initArgs, { cwd: pgDir, stdio: ['ignore', 'ignore', 'pipe'] });
		const [postgres, pgArgs] = asPostgresUser(path.join(pgbin, 'postgres'), [
			'-D',
			data,
			'-c',
			'listen_addresses=127.0.0.1',
			'-c',
			`port=${this.pgPort}`,
			'-c',
			`unix_socket_directories=${pgDir}`,
			'-c',
			'fsync=off',
			'-c',
			'synchronous_commit=off',
			'-c',
			'full_page_writes=off',
			'-c',
			'max_connections=200',
		]);
		this.postgres = new GroupProcess('postgres', postgres, pgArgs, {
			env: process.env,
			cwd: pgDir,
			logPath: path.join(this.logsDir, 'postgres.log'),
		});
		const isReady = path.join(pgbin, 'pg_isready');
		await waitFor(
			'PostgreSQL',
			() => {
				try {
					execFileSync(isReady, ['-q', '-h', '127.0.0.1', '-p', String(this.pgPort)], {
						stdio: 'ignore',
					});
					return true;
				} catch {
					return false;
				}
			},
			20_000,
			() => this.postgres!.tail(),
		);
		execFileSync(
			path.join(pgbin, 'createdb'),
			['-h', '127.0.0.1', '-p', String(this.pgPort), '-U', 'n8n', 'n8n'],
			{ stdio: ['ignore', 'ignore', 'pipe'] },
		);
	}

	private spawnN8n(name: string, args: string[], env: Record<string, string>): GroupProcess {
		return new GroupProcess(name, this.install!.node24Bin, [this.install!.n8nBin, ...args], {
			env: { ...this.sharedEnv, ...env },
			cwd: this.main.userFolder,
			logPath: path.join(this.logsDir, `${name}.log`),
		});
	}

	private async waitForRole(role: N8nRole, line: string, timeoutMs: number): Promise<void> {
		await waitFor(
			role.name,
			async () => {
				if (!role.process.running)
					throw new Error(
						`${role.name} exited with rc ${role.process.exitCode}:\n${role.process.tail(40)}`,
					);
				return (
					role.process.log().includes(line) &&
					(await httpOk(`http://127.0.0.1:${role.port}/healthz/readiness`))
				);
			},
			timeoutMs,
			() => role.process.tail(40),
		);
	}

	/**
	 * Runs one SQL statement with psql against the cluster's database; rows as arrays of columns
	 * (psql's unaligned, tab-separated output). For diagnostics: what n8n stored, not what its API lists.
	 */
	sql(statement: string): string[][] {
		const out = execFileSync(
			path.join(this.pgbin, 'psql'),
			['-h', '127.0.0.1', '-p', String(this.pgPort), '-U', 'n8n', '-d', 'n8n', '-AtX', '-F', '\t'],
			{ input: statement, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 },
		);
		return out
			.split('\n')
			.filter((line) => line !== '')
			.map((line) => line.split('\t'));
	}

	/** Every n8n process's log: main, the workers and the webhook process. */
	processLogs(): Array<{ name: string; text: string }> {
		const read = (file: string): string => {
			try {
				return fs.readFileSync(file, 'utf8');
			} catch {
				return '';
			}
		};
		return [
			{ name: 'main', text: read(this.main.logPath) },
			...this.workers.map((worker) => ({ name: worker.name, text: worker.process.log() })),
			{ name: 'webhook', text: this.webhook.process.log() },
		];
	}

	/** Production webhook URL on main or on the webhook process. */
	webhookUrl(webhookPath: string, on: 'main' | 'webhook'): string {
		const port = on === 'main' ? this.main.port : this.webhook.port;
		return `http://127.0.0.1:${port}/webhook/${webhookPath}`;
	}

	/** The worker whose log says it started execution `id` (undefined if none did). */
	workerOf(executionId: string): N8nRole | undefined {
		const pattern = new RegExp(`Worker started execution ${executionId}\\b`);
		return this.workers.find((worker) => pattern.test(worker.process.log()));
	}

	/** How many executions each worker's log says it started. */
	workerStartCounts(): Record<string, number> {
		const counts: Record<string, number> = {};
		for (const worker of this.workers)
			counts[worker.name] = (
				worker.process.log().match(/Worker started execution \d+/g) ?? []
			).length;
		return counts;
	}

	/** Every execution of the workflow (all pages of the public API). */
	async executions(workflowId: string, includeData = false): Promise<ExecutionSummary[]> {
		const all: ExecutionSummary[] = [];
		let cursor: string | undefined;
		for (;;) {
			const query = new URLSearchParams({
				workflowId,
				limit: '250',
				includeData: String(includeData),
			});
			if (cursor) query.set('cursor', cursor);
			const page = await this.main.api<{ data: ExecutionSummary[]; nextCursor?: string | null }>(
				'GET',
				`/executions?${query.toString()}`,
			);
			all.push(...page.data);
			if (!page.nextCursor || page.data.length === 0) return all;
			cursor = page.nextCursor;
		}
	}

	/**
	 * Stops every process (n8n first, then Redis and PostgreSQL) and removes the folder; the logs
	 * are copied to test-results/queue-e2e-logs first. TRUEDY_E2E_KEEP=1 keeps the folder.
	 */
	async dispose(failed = false): Promise<void> {
		const n8n = [
			...this.workers.map((worker) => worker.process),
			...(this.webhook ? [this.webhook.process] : []),
		];
		await Promise.all([...n8n.map((proc) => proc.stop()), this.main?.stop()]);
		await Promise.all([this.redis?.stop(), this.postgres?.stop('SIGINT')]);
		killAllQueueProcesses();
		const keepLogs = path.join(ROOT, 'test-results', 'queue-e2e-logs');
		try {
			fs.rmSync(keepLogs, { recursive: true, force: true });
			fs.mkdirSync(keepLogs, { recursive: true });
			for (const file of fs.readdirSync(this.logsDir))
				fs.copyFileSync(path.join(this.logsDir, file), path.join(keepLogs, file));
			const mainLogs = path.join(this.baseDir, 'home', 'logs');
			if (fs.existsSync(mainLogs)) {
				for (const file of fs.readdirSync(mainLogs).filter((name) => name.endsWith('.log'))) {
					fs.copyFileSync(path.join(mainLogs, file), path.join(keepLogs, `main-${file}`));
				}
			}
		} catch (error) {
			this.log(`could not copy logs: ${(error as Error).message}`);
		}
		if (process.env.TRUEDY_E2E_KEEP === '1') this.log(`kept ${this.baseDir}`);
		else fs.rmSync(this.baseDir, { recursive: true, force: true });
		liveFolders.delete(this.baseDir);
		if (failed) this.log(`logs in ${keepLogs}`);
	}
}

async function timed<T>(
	log: (line: string) => void,
	label: string,
	work: () => Promise<T>,
): Promise<T> {
	const started = Date.now();
	try {
		return await work();
	} finally {
		log(`${label}: ${Date.now() - started} ms`);
	}
}
