/**
 * Shared by the reliability suites (docs/reliability.md):
 * - canary secrets: every suite runs with a recognisable API key and signing secret;
 * - log capture: n8n-core's Logger, n8n-workflow's LoggerProxy and the console are recorded
 *   (and kept off the test output), so suites can read and scan every log line;
 * - a leak scanner for output items, errors (message, description, stack, context) and logs;
 * - counts: each suite writes its numbers to test-results/reliability/<suite>.json, from which
 *   `node test/reliability/report.js` writes docs/reliability.md;
 * - useReliabilitySuite(): the frame of a suite (logs captured, scanned, counts written, no leak);
 * - the short transport policy (time-out and backoff) that makes fault mixes run in seconds;
 * - what the two files of suite 2 (generated bad input) share.
 * Running the node, leads and sleep come from the common support module (test/support).
 */
import fc from 'fast-check';
import fs from 'fs';
import path from 'path';
import type { IDataObject } from 'n8n-workflow';
import { LoggerProxy } from 'n8n-workflow';

import { overrideRetryPolicyForTests, type RetryPolicy } from '../../nodes/Truedy/transport/retry';
import { NODE, sleep, type RunResult } from '../support';

export { NODE, sleep };

/** TRUEDY_SOAK=1: bigger batches, more generated cases, more seeds. */
export const SOAK = process.env.TRUEDY_SOAK === '1';
// These suites count outcomes, not speed: a loaded machine gets time (a timed-out test's run would
// keep going into the next test).
jest.setTimeout(SOAK ? 15 * 60_000 : 120_000);

/** When this suite's module was loaded: its wall-clock time goes into the results. */
const SUITE_STARTED = Date.now();

// ------------------------------------------------------------------------------------------
// Canary secrets

export const CANARY_API_KEY = 'truedy_live_CANARYk3y7Qz9Xw2Lp5Rt8Vn4Bm6Hj1Fd3Sa0Gc';
export const CANARY_SIGNING_SECRET = 'whsec_CANARYs1gn4Tg7Yh2Uj5Ik8Ol1Pz3Xc6Vb9Nm0Qw';

/**
 * What counts as a leak: the whole secrets, their distinctive middles (a truncated or re-prefixed
 * copy still matches), and base64 forms (Basic auth, Buffers serialised as base64).
 */
export const LEAK_PATTERNS: Array<{ name: string; needle: string }> = [
	{ name: 'API key', needle: CANARY_API_KEY },
	{ name: 'API key (fragment)', needle: 'CANARYk3y7Qz9' },
	{ name: 'API key (base64)', needle: Buffer.from(CANARY_API_KEY).toString('base64').slice(0, 24) },
	{ name: 'signing secret', needle: CANARY_SIGNING_SECRET },
	{ name: 'signing secret (fragment)', needle: 'CANARYs1gn4Tg7' },
	{
		name: 'signing secret (base64)',
		needle: Buffer.from(CANARY_SIGNING_SECRET).toString('base64').slice(0, 24),
	},
];

// ------------------------------------------------------------------------------------------
// Log capture

export interface LogLine {
	source: 'n8n-logger' | 'logger-proxy' | 'console';
	level: string;
	message: string;
	meta?: unknown;
	/** message + meta as one string, for scanning. */
	text: string;
}

export interface LogCapture {
	readonly lines: LogLine[];
	/** Lines whose text contains `needle`. */
	grep(needle: string | RegExp): LogLine[];
	clear(): void;
	restore(): void;
}

/**
 * Installs a recording logger as n8n-core's Logger (what `this.logger` is in a node) and as
 * n8n-workflow's LoggerProxy, and wraps console.*. TRUEDY_RELIABILITY_VERBOSE=1 also prints them.
 */
export function captureLogs(): LogCapture {
	const lines: LogLine[] = [];
	const verbose = process.env.TRUEDY_RELIABILITY_VERBOSE === '1';
	const push = (source: LogLine['source'], level: string, message: unknown, meta?: unknown) => {
		const text = `${level} ${deepText(message)} ${meta === undefined ? '' : deepText(meta)}`;
		lines.push({
			source,
			level,
			message: typeof message === 'string' ? message : deepText(message),
			meta,
			text,
		});
	};
	const make = (source: LogLine['source']) => {
		const logger: Record<string, unknown> = {};
		for (const level of ['error', 'warn', 'info', 'debug', 'verbose']) {
			logger[level] = (message: unknown, meta?: unknown) => push(source, level, message, meta);
		}
		logger.scoped = () => logger;
		return logger;
	};

	// n8n-core resolves its own copies of @n8n/di and @n8n/backend-common.
	const fromCore = (name: string) =>
		require(require.resolve(name, { paths: [path.dirname(require.resolve('n8n-core'))] }));
	const { Container } = fromCore('@n8n/di');
	const { Logger } = fromCore('@n8n/backend-common');
	const previousLogger = Container.has?.(Logger) ? Container.get(Logger) : undefined;
	Container.set(Logger, make('n8n-logger'));
	LoggerProxy.init(make('logger-proxy') as any);

	/* eslint-disable no-console -- the capture replaces console.* and puts it back in restore() */
	const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
	const originals = methods.map((m) => console[m]);
	methods.forEach((m, i) => {
		console[m] = (...args: unknown[]) => {
			push('console', m, args.map((a) => (typeof a === 'string' ? a : deepText(a))).join(' '));
			if (verbose) originals[i].apply(console, args as []);
		};
	});

	return {
		lines,
		grep: (needle) =>
			lines.filter((l) =>
				typeof needle === 'string' ? l.text.includes(needle) : needle.test(l.text),
			),
		clear: () => void (lines.length = 0),
		restore() {
			methods.forEach((m, i) => (console[m] = originals[i]));
			if (previousLogger) Container.set(Logger, previousLogger);
		},
	};
	/* eslint-enable no-console */
}

// ------------------------------------------------------------------------------------------
// Leak scanning

/** Everything in a value as text: own and inherited error fields, nested causes, Buffers; cycles cut. */
export function deepText(value: unknown): string {
	const seen = new WeakSet<object>();
	const walk = (v: unknown, depth: number): unknown => {
		if (v === null || v === undefined) return v;
		if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function') return String(v);
		if (typeof v !== 'object') return v;
		if (Buffer.isBuffer(v)) return `${v.toString('utf8')} base64:${v.toString('base64')}`;
		if (seen.has(v) || depth > 50) return '[seen]';
		seen.add(v);
		if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
		const out: Record<string, unknown> = {};
		if (v instanceof Error) {
			const e = v as Error & IDataObject;
			out.message = e.message;
			out.stack = e.stack;
			out.description = e.description;
			out.cause = walk((e as { cause?: unknown }).cause, depth + 1);
		}
		for (const key of Object.getOwnPropertyNames(v)) {
			try {
				out[key] = walk((v as Record<string, unknown>)[key], depth + 1);
			} catch {
				out[key] = '[unreadable]';
			}
		}
		return out;
	};
	try {
		return typeof value === 'string' ? value : (JSON.stringify(walk(value, 0)) ?? String(value));
	} catch {
		return String(value);
	}
}

export interface LeakHit {
	where: string;
	pattern: string;
	excerpt: string;
}

export class LeakScanner {
	texts = 0;
	chars = 0;
	logLines = 0;
	readonly hits: LeakHit[] = [];

	/** Scans anything (items, errors, run data, HTTP bodies) as text. */
	scan(where: string, value: unknown): void {
		const text = deepText(value);
		this.texts++;
		this.chars += text.length;
		for (const { name, needle } of LEAK_PATTERNS) {
			const at = text.indexOf(needle);
			if (at >= 0)
				this.hits.push({
					where,
					pattern: name,
					excerpt: text.slice(Math.max(0, at - 60), at + needle.length + 20),
				});
		}
	}

	/** Scans every captured log line. */
	scanLogs(logs: LogCapture): void {
		for (const line of logs.lines) {
			this.logLines++;
			const before = this.texts;
			this.scan(`log (${line.source} ${line.level})`, line.text);
			this.texts = before;
		}
	}

	/** Everything a run produced: run data (items, errors), the node error, and its fields. */
	scanRun(where: string, result: RunResult, nodeName = 'Truedy'): void {
		this.scan(`${where}: run data`, result.run);
		const error = result.nodeError(nodeName);
		if (error)
			this.scan(`${where}: node error`, {
				error,
				message: error.message,
				description: error.description,
			});
	}

	summary() {
		return {
			textsScanned: this.texts,
			charsScanned: this.chars,
			logLinesScanned: this.logLines,
			hits: this.hits.length,
		};
	}
}

// ------------------------------------------------------------------------------------------
// Counts → test-results/reliability/<suite>.json (reliability-soak/ with TRUEDY_SOAK=1)

/** Soak runs keep their own results (and report: docs/reliability-soak.md), so they never mix with the standard ones. */
export const RESULTS_DIR = path.resolve(
	__dirname,
	'../../test-results',
	SOAK ? 'reliability-soak' : 'reliability',
);

export function writeSuiteResults(suite: string, data: IDataObject): void {
	fs.mkdirSync(RESULTS_DIR, { recursive: true });
	const file = path.join(RESULTS_DIR, `${suite}.json`);
	const durationMs = Date.now() - SUITE_STARTED;
	fs.writeFileSync(
		file,
		JSON.stringify(
			{
				suite,
				soak: SOAK,
				writtenAt: new Date().toISOString(),
				durationMs,
				node: process.version,
				...data,
			},
			null,
			2,
		),
	);
}

// ------------------------------------------------------------------------------------------
// Transport policy for fault mixes

/** 300 ms time-out, 10–100 ms backoff: the same retry logic, compressed. */
export const FAST_POLICY: Partial<RetryPolicy> = {
	requestTimeoutMs: 300,
	baseDelayMs: 10,
	maxDelayMs: 100,
	maxTotalWaitMs: 20_000,
};

export function useFastRetries(policy: Partial<RetryPolicy> = FAST_POLICY): () => void {
	return overrideRetryPolicyForTests(policy);
}

// ------------------------------------------------------------------------------------------
// Suite frame

export interface ReliabilitySuite {
	/** Everything logged while the suite runs (from its beforeAll on). */
	readonly logs: LogCapture;
	/** Scans what the suite produced; every captured log line is added in afterAll. */
	readonly scanner: LeakScanner;
}

/**
 * The frame every reliability suite shares: logs are captured from beforeAll on; in afterAll
 * every log line is scanned, `results()` and the scan summary are written to
 * test-results/reliability/<suite>.json, and a single leak fails the suite.
 * `logLines` and `logHits` tell `results()` what the log scan found.
 */
export function useReliabilitySuite(
	suite: string,
	results: (logScan: { logLines: number; logHits: number }) => IDataObject,
): ReliabilitySuite {
	const scanner = new LeakScanner();
	let logs: LogCapture | undefined;
	beforeAll(() => {
		logs = captureLogs();
	});
	afterAll(() => {
		if (!logs) return;
		const before = scanner.hits.length;
		scanner.scanLogs(logs);
		const logScan = { logLines: logs.lines.length, logHits: scanner.hits.length - before };
		logs.restore();
		writeSuiteResults(suite, { ...results(logScan), secretScan: scanner.summary() });
		expect(scanner.hits).toEqual([]);
	});
	return {
		scanner,
		get logs(): LogCapture {
			if (!logs) throw new Error('useReliabilitySuite(): logs are captured from beforeAll on');
			return logs;
		},
	};
}

// ------------------------------------------------------------------------------------------
// Suite 2 (generated bad input): what its two files share

/** Items per engine run, engine runs and pure cases per property, and the seed. */
export const BAD_INPUT = {
	cases: 500,
	engineRuns: SOAK ? 4 : 1,
	pureRuns: SOAK ? 20_000 : 2000,
	seed: 20240607,
};

/** Runs `fn`; a throw counts as a crash and gives undefined. */
export function guard<T>(crashes: { count: number }, fn: () => T): T | undefined {
	try {
		return fn();
	} catch {
		crashes.count++;
		return undefined;
	}
}

/** The properties one file of suite 2 checked, with their counts, for its results. */
export class PropertyLog {
	readonly properties: IDataObject[] = [];

	record(name: string, data: IDataObject): void {
		this.properties.push({ name, ...data });
	}

	/** Records a pure property's outcome (also when it fails), then fails the test with fast-check's report. */
	recordCheck<Ts>(
		name: string,
		details: fc.RunDetails<Ts>,
		crashes: number,
		extra: IDataObject = {},
	): void {
		this.record(name, {
			cases: details.numRuns,
			...extra,
			crashes,
			problems: details.failed ? 1 : 0,
			...(details.failed && {
				counterexample: JSON.stringify(details.counterexample)?.slice(0, 200),
			}),
		});
		expect(details.failed ? fc.defaultReportMessage(details) : 'passed').toBe('passed');
	}
}

/**
 * The frame of one file of suite 2: its results go to bad-input.<part>.json (report.js merges
 * the parts), with the settings and the properties recorded in `log`.
 */
export function useBadInputSuite(part: string): { log: PropertyLog; scanner: LeakScanner } {
	const log = new PropertyLog();
	const { scanner } = useReliabilitySuite(`bad-input.${part}`, () => ({
		...BAD_INPUT,
		properties: log.properties,
	}));
	return { log, scanner };
}

/** Active timers of this process ('Timeout' resources), for "no timer left behind". */
export function activeTimers(): number {
	return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
