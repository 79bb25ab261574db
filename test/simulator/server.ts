// Truedy Public API simulator: a real HTTP server on 127.0.0.1 (node `http`, no framework).
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import type { AddressInfo, Socket } from 'net';
import { setMaxListeners } from 'events';
import { completeAgent, generateAgents, seedAgents } from './agents';
import {
	buildSummary,
	buildTranscript,
	isTerminal,
	newCallId,
	newRequestId,
	newUltravoxId,
	nextStatus,
	renderCall,
	renderStatus,
	toCanonicalStatus,
	ultravoxAgentIdOf,
	ultravoxCallIdOf,
} from './calls';
import {
	ApiError,
	ApiResult,
	canonicalJson,
	clientIp,
	flattenHeaders,
	isPlainObject,
	matchRoute,
	parseJson,
	ParsedBody,
	parsePaging,
	Paging,
	parseQuery,
	queryValue,
	readBody,
	route,
	Route,
	validationError,
	writeJson,
} from './http-util';
import { AFTER_FAULTS, FaultInjector, malformedBody } from './faults';
import { isoMicros, RateLimiter } from './ratelimit';
import type {
	CallTimings,
	CanonicalStatus,
	DeliveryRecord,
	FaultKind,
	FaultRecord,
	RecordedRequest,
	SimAgent,
	SimCall,
	SimulatorOptions,
	SimulatorOptionsPatch,
	TruedySimulator,
	WebhookOptions,
} from './types';
import { validateCreateCall, CreateCallInput } from './validation';
import {
	buildCallEndedEvent,
	prepareDelivery,
	PreparedDelivery,
	sendDelivery,
	WebhookEnvelope,
} from './webhooks';

export * from './types';
export { SIM_AGENTS, SIM_NUMBERS, SIM_ULTRAVOX_AGENTS } from './agents';
export { FAULT_KINDS, seededUnit } from './faults';
export { RATE_LIMIT_EARLY_BACKEND, RATE_LIMIT_VERSION_A, RATE_LIMIT_VERSION_B } from './ratelimit';
export { ultravoxAgentIdOf, ultravoxCallIdOf } from './calls';

export const BASE_PATH = '/api/public/v1';
export const CONTROL_PREFIX = '/__sim';
export const DEFAULT_API_KEY = 'truedy_sim_0123456789abcdefghijklmnopqrstuv';
/** The organisation of `apiKey` (and of `apiKeys` entries without an `org`). */
export const DEFAULT_ORG = 'org_sim';
export const DEFAULT_CALL_TIMINGS: CallTimings = {
	queuedMs: 200,
	ringingMs: 300,
	inProgressMs: 1000,
};
const DEFAULT_EVENTS = ['call.ended'];

export type StartOptions = Omit<Partial<SimulatorOptions>, 'callTimings'> & {
	callTimings?: Partial<CallTimings>;
};

export function defaultOptions(): SimulatorOptions {
	return {
		port: 0,
		apiKey: DEFAULT_API_KEY,
		exposeUltravoxIds: false,
		ultravoxCallIdFilter: false,
		agents: seedAgents(),
		extraAgents: 0,
		responseShape: 'envelope',
		paginationIn: 'pagination',
		statusVocabulary: 'ended',
		callFieldNaming: 'phone_number',
		latencyMs: 0,
		callTimings: { ...DEFAULT_CALL_TIMINGS },
		failNumbers: ['*0000'],
		transcriptDelayMs: 0,
		autoAdvance: true,
		durationSeconds: 42,
		idempotencyMismatch: 'conflict',
	};
}

/** Deep copy of plain objects and arrays; RegExps, functions and other values are shared. */
function cloneOptionValue<T>(v: T): T {
	if (Array.isArray(v)) return v.map(cloneOptionValue) as unknown as T;
	if (isPlainObject(v) && Object.getPrototypeOf(v) === Object.prototype) {
		return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneOptionValue(x)])) as T;
	}
	return v;
}

/** Starts a simulator on 127.0.0.1 (port 0 = random). */
export async function startSimulator(options: StartOptions = {}): Promise<TruedySimulator> {
	const sim = new Simulator(options);
	await sim.listen();
	return sim;
}

interface Ctx {
	method: string;
	/** Path without BASE_PATH (or the full path when outside it). */
	path: string;
	fullPath: string;
	underBase: boolean;
	query: Record<string, string | string[]>;
	headers: Record<string, string>;
	rawBody: string;
	body: ParsedBody;
	clientIp: string;
	requestId: string;
	/** Set once the API key was accepted. */
	org?: string;
}

interface StoredResponse {
	/** The call the stored 201 created. */
	callId: string;
	canonicalBody: string;
	status: number;
	rawBody: string;
	requestId: string;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal.aborted) return resolve();
		const done = () => {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		signal.addEventListener('abort', done, { once: true });
	});
}

function newScope(): AbortController {
	const c = new AbortController();
	setMaxListeners(10_000, c.signal);
	return c;
}

class Simulator implements TruedySimulator {
	url = '';
	baseUrl = '';
	readonly options: SimulatorOptions = defaultOptions();
	readonly requests: RecordedRequest[] = [];
	readonly calls = new Map<string, SimCall>();
	readonly webhookDeliveries: DeliveryRecord[] = [];
	/** API requests being answered right now, and the most at once since the last reset. */
	inFlight = 0;
	maxInFlight = 0;

	private readonly server: Server;
	private readonly sockets = new Set<Socket>();
	private readonly agents = new Map<string, SimAgent>();
	private readonly callTimers = new Map<string, NodeJS.Timeout>();
	private readonly idempotency = new Map<string, StoredResponse>();
	private readonly rateLimiter = new RateLimiter();
	/** The options right after start-up: what reset() restores. */
	private readonly initialOptions: SimulatorOptions;
	private readonly pendingDeliveries = new Set<Promise<void>>();
	private creditsUsed = 0;
	private seq = 0;
	private readonly faults = new FaultInjector();
	private closed = false;
	/** Aborted on reset()/close(): cuts latency sleeps short and cancels in-flight webhook deliveries. */
	private inFlightScope = newScope();

	private readonly apiRoutes: Route<Ctx>[] = [
		route('GET', '/agents', (ctx) => this.listAgents(ctx)),
		route('GET', '/agents/:id', (ctx, [id]) =>
			this.one(ctx, 200, this.renderAgent(this.requireAgent(id))),
		),
		route('POST', '/calls', (ctx) => this.createCall(ctx)),
		route('GET', '/calls', (ctx) => this.listCalls(ctx)),
		route('GET', '/calls/:id', (ctx, [id]) =>
			this.one(ctx, 200, this.render(this.requireCall(id, ctx.org))),
		),
	];

	private readonly controlRoutes: Route<Ctx>[] = [
		route('GET', '/health', () =>
			this.control({ status: 'ok', url: this.url, baseUrl: this.baseUrl, apiKey: this.apiKey }),
		),
		route('GET', '/requests', (ctx) => this.control(this.filterRequests(ctx))),
		route('GET', '/calls', () =>
			this.control([...this.calls.values()].map((c) => this.controlView(c))),
		),
		route('GET', '/calls/:id', (_ctx, [id]) =>
			this.control(this.controlView(this.requireCall(id))),
		),
		route('POST', '/calls/:id/end', (ctx, [id]) =>
			this.control(this.controlView(this.endCall(id, this.controlField(ctx, 'status')))),
		),
		route('POST', '/calls/:id/advance', (_ctx, [id]) =>
			this.control(this.controlView(this.advanceCall(id))),
		),
		route('POST', '/calls/:id/status', (ctx, [id]) =>
			this.control(
				this.controlView(this.setCallStatus(id, this.controlField(ctx, 'status') ?? '')),
			),
		),
		route('GET', '/deliveries', () => this.control(this.webhookDeliveries)),
		route('GET', '/stats', () =>
			this.control({
				requests: this.requests.length,
				byStatus: this.statusCounts(),
				rateLimited: this.rateLimitedCount,
			}),
		),
		route('GET', '/faults', () => this.control({ counts: this.faultCounts(), log: this.faultLog })),
		route('GET', '/config', () => this.control(this.serializableOptions())),
		route('POST', '/configure', (ctx) => {
			this.configure(this.controlBody(ctx) as SimulatorOptionsPatch);
			return this.control(this.serializableOptions());
		}),
		route('POST', '/reset', () => {
			this.reset();
			return this.control({ reset: true });
		}),
		route('POST', '/agents', (ctx) =>
			this.control(this.addAgent(this.controlBody(ctx) as unknown as SimAgent), 201),
		),
	];

	constructor(options: StartOptions) {
		this.applyPatch(options as SimulatorOptionsPatch);
		this.rebuildAgents();
		this.initialOptions = cloneOptionValue(this.options);
		this.faults.configure(this.options.faults);
		this.server = createServer((req, res) => void this.handle(req, res));
		this.server.on('connection', (socket: Socket) => {
			this.sockets.add(socket);
			socket.on('close', () => this.sockets.delete(socket));
		});
	}

	get apiKey(): string {
		return this.options.apiKey;
	}

	listen(): Promise<void> {
		return new Promise((resolve, reject) => {
			this.server.once('error', reject);
			this.server.listen(this.options.port, '127.0.0.1', () => {
				const { port } = this.server.address() as AddressInfo;
				this.url = `http://127.0.0.1:${port}`;
				this.baseUrl = this.url + BASE_PATH;
				resolve();
			});
		});
	}

	// ================= public handle API =================

	configure(patch: SimulatorOptionsPatch): void {
		this.applyPatch(patch);
		if ('agents' in patch || 'extraAgents' in patch) this.rebuildAgents();
		if ('rateLimit' in patch || 'apiKey' in patch || 'apiKeys' in patch) this.rateLimiter.clear();
		if ('credits' in patch) this.creditsUsed = 0;
		if ('faults' in patch) this.faults.configure(this.options.faults);
	}

	get faultLog(): FaultRecord[] {
		return this.faults.log;
	}

	faultCounts(): Record<FaultKind, number> {
		return this.faults.counts();
	}

	statusCounts(): Record<number, number> {
		const out: Record<number, number> = {};
		for (const r of this.requests) out[r.status] = (out[r.status] ?? 0) + 1;
		return out;
	}

	get rateLimitedCount(): number {
		return this.requests.filter((r) => r.status === 429).length;
	}

	reset(): void {
		for (const t of this.callTimers.values()) clearTimeout(t);
		this.callTimers.clear();
		this.inFlightScope.abort();
		this.inFlightScope = newScope();
		this.requests.length = 0;
		this.webhookDeliveries.length = 0;
		this.maxInFlight = 0;
		this.calls.clear();
		this.idempotency.clear();
		this.rateLimiter.clear();
		this.creditsUsed = 0;
		this.restoreInitialOptions();
		this.faults.reset();
	}

	/** Every option back to its start-up value (the port stays: the server cannot move). */
	private restoreInitialOptions(): void {
		const target = this.options as unknown as Record<string, unknown>;
		const port = this.options.port;
		for (const key of Object.keys(target)) delete target[key];
		Object.assign(target, cloneOptionValue(this.initialOptions), { port });
		this.rebuildAgents();
		this.faults.configure(this.options.faults);
	}

	addAgent(partial: Partial<SimAgent> & { name: string }): SimAgent {
		if (!isPlainObject(partial) || typeof partial.name !== 'string')
			throw new ApiError(400, 'bad_request', 'agent needs a name');
		const agent = completeAgent(partial);
		this.options.agents.push(agent);
		agent.ultravox_agent_id ??= ultravoxAgentIdOf(agent.id);
		this.agents.set(agent.id, agent);
		return agent;
	}

	renderCall(id: string): Record<string, unknown> | undefined {
		const call = this.calls.get(id);
		return call && this.render(call);
	}

	setCallStatus(id: string, status: string): SimCall {
		const call = this.requireCall(id);
		this.transition(call, this.requireStatus(status));
		return call;
	}

	advanceCall(id: string): SimCall {
		const call = this.requireCall(id);
		const next = nextStatus(call.status, this.willFail(call.to));
		if (!next) throw new ApiError(409, 'conflict', `Call ${id} is already ${call.status}`);
		this.transition(call, next);
		return call;
	}

	endCall(id: string, status = 'ended'): SimCall {
		const call = this.requireCall(id);
		const target = this.requireStatus(status);
		if (!isTerminal(target))
			throw new ApiError(422, 'validation_error', `${status} is not a terminal status`);
		if (!isTerminal(call.status)) this.transition(call, target);
		return call;
	}

	waitFor<T>(
		predicate: (sim: TruedySimulator) => T | undefined | null | false,
		timeoutMs = 2000,
	): Promise<T> {
		const deadline = Date.now() + timeoutMs;
		return new Promise<T>((resolve, reject) => {
			const tick = () => {
				let value: T | undefined | null | false;
				try {
					value = predicate(this);
				} catch (e) {
					return reject(e);
				}
				if (value) return resolve(value);
				if (Date.now() >= deadline)
					return reject(new Error(`waitFor: condition not met within ${timeoutMs} ms`));
				setTimeout(tick, 10);
			};
			tick();
		});
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		for (const t of this.callTimers.values()) clearTimeout(t);
		this.callTimers.clear();
		this.inFlightScope.abort();
		const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
		for (const s of this.sockets) s.destroy();
		this.server.closeAllConnections?.();
		await closed;
		await Promise.allSettled([...this.pendingDeliveries]);
	}

	// ================= options & agents =================

	private applyPatch(patch: SimulatorOptionsPatch): void {
		const defaults = defaultOptions();
		const target = this.options as unknown as Record<string, unknown>;
		for (const [key, value] of Object.entries(patch)) {
			if (key === 'port' && this.url) continue; // cannot move a running server
			if (key === 'callTimings') {
				const base = value === null ? DEFAULT_CALL_TIMINGS : this.options.callTimings;
				this.options.callTimings = { ...base, ...((value ?? {}) as Partial<CallTimings>) };
			} else if (value === null || value === undefined) {
				target[key] = (defaults as unknown as Record<string, unknown>)[key];
			} else {
				target[key] = value;
			}
		}
	}

	private rebuildAgents(): void {
		this.agents.clear();
		for (const a of [...this.options.agents, ...generateAgents(this.options.extraAgents)]) {
			a.ultravox_agent_id ??= ultravoxAgentIdOf(a.id);
			this.agents.set(a.id, a);
		}
	}

	private serializableOptions(): Record<string, unknown> {
		return {
			...this.options,
			failNumbers: this.options.failNumbers.map((p) => (p instanceof RegExp ? String(p) : p)),
			agents: [...this.agents.values()],
		};
	}

	// ================= request pipeline =================

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		try {
			const ctx = await this.buildContext(req);
			if (ctx.fullPath === CONTROL_PREFIX || ctx.fullPath.startsWith(CONTROL_PREFIX + '/'))
				return this.handleControl(ctx, res);
			await this.handleApi(ctx, req, res);
		} catch (e) {
			writeJson(
				res,
				500,
				JSON.stringify({
					error: { code: 'internal_error', message: String((e as Error)?.stack ?? e) },
				}),
			);
		}
	}

	private async buildContext(req: IncomingMessage): Promise<Ctx> {
		const rawBody = await readBody(req);
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const fullPath = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
		const underBase = fullPath === BASE_PATH || fullPath.startsWith(BASE_PATH + '/');
		return {
			method: (req.method ?? 'GET').toUpperCase(),
			path: underBase ? fullPath.slice(BASE_PATH.length) || '/' : fullPath,
			fullPath,
			underBase,
			query: parseQuery(url.searchParams),
			headers: flattenHeaders(req.headers),
			rawBody,
			body: parseJson(rawBody),
			clientIp: clientIp(req),
			requestId: newRequestId(),
		};
	}

	private async handleApi(ctx: Ctx, req: IncomingMessage, res: ServerResponse): Promise<void> {
		const record: RecordedRequest = {
			method: ctx.method,
			path: ctx.path,
			fullPath: ctx.fullPath,
			query: ctx.query,
			headers: ctx.headers,
			body: ctx.body.ok ? ctx.body.value : undefined,
			rawBody: ctx.rawBody,
			status: 0,
			receivedAt: Date.now(),
			requestId: ctx.requestId,
			clientIp: ctx.clientIp,
		};
		this.requests.push(record);
		this.inFlight++;
		this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
		try {
			const decision = this.faults.decide(this.faultRequest(ctx));
			const fault = decision?.fault;
			const logFault = (extra: Partial<FaultRecord> = {}) => {
				record.fault = fault;
				this.faults.log.push({
					fault: fault!,
					source: decision!.source,
					method: ctx.method,
					path: ctx.path,
					requestId: record.requestId,
					occurrence: decision!.occurrence,
					at: Date.now(),
					...extra,
				});
			};
			if (fault === 'resetBefore') {
				logFault();
				req.socket.destroy();
				return;
			}
			const result =
				fault === 'status503' || fault === 'status429'
					? this.injectedError(ctx, fault)
					: await this.dispatch(ctx, record);
			record.status = result.status;
			if (result.requestId) record.requestId = result.requestId;
			if (result.headers?.['Idempotent-Replayed'] === 'true') record.replayed = true;
			const body = result.rawBody ?? JSON.stringify(result.payload);
			if (fault && AFTER_FAULTS.has(fault))
				logFault({
					handledStatus: result.status,
					callId: this.createdCallId(ctx, result.status, body),
				});
			else if (fault) logFault();
			if (this.options.latencyMs > 0)
				await delay(this.options.latencyMs, this.inFlightScope.signal);
			if (fault === 'resetAfter') {
				req.socket.destroy();
				return;
			}
			if (fault === 'slow') await delay(this.faults.slowMs, this.inFlightScope.signal);
			if (fault === 'status500') {
				const error = this.errorResult(
					ctx,
					new ApiError(
						500,
						'internal_error',
						'Injected fault: the server failed after handling the request',
					),
				);
				writeJson(res, 500, JSON.stringify(error.payload), { 'X-Request-Id': ctx.requestId });
				return;
			}
			writeJson(res, result.status, fault === 'malformedJson' ? malformedBody(body) : body, {
				'X-Request-Id': result.requestId ?? ctx.requestId,
				...result.headers,
			});
		} finally {
			this.inFlight--;
		}
	}

	/** What the fault injector matches on; `stableKey` avoids random call ids so seeded decisions repeat. */
	private faultRequest(ctx: Ctx) {
		const m = /^\/(calls|agents)\/([^/]+)$/.exec(ctx.path);
		const route = m ? `/${m[1]}/:id` : ctx.path;
		const call = m && m[1] === 'calls' ? this.calls.get(m[2]) : undefined;
		return {
			method: ctx.method,
			path: ctx.path,
			route,
			headers: ctx.headers,
			rawBody: ctx.rawBody,
			canonicalBody: ctx.body.ok ? canonicalJson(ctx.body.value) : ctx.rawBody,
			stableKey: call ? `/calls/to:${call.to}` : ctx.path,
		};
	}

	/** The answer of a before-fault (503, 429); the request is not handled. */
	private injectedError(ctx: Ctx, fault: 'status503' | 'status429'): ApiResult {
		if (fault === 'status503') {
			return this.errorResult(
				ctx,
				new ApiError(503, 'service_unavailable', 'Injected fault: the service is unavailable'),
			);
		}
		const ms = this.faults.retryAfterMs;
		return this.errorResult(
			ctx,
			new ApiError(
				429,
				'rate_limit_exceeded',
				'Injected fault: rate limit exceeded',
				{ reset_at: isoMicros(Date.now() + ms) },
				{
					'Retry-After': String(Math.max(1, Math.ceil(ms / 1000))),
				},
			),
		);
	}

	private createdCallId(ctx: Ctx, status: number, body: string): string | undefined {
		if (ctx.method !== 'POST' || ctx.path !== '/calls' || status !== 201) return undefined;
		try {
			const parsed = JSON.parse(body);
			const id = parsed?.data?.id ?? parsed?.id;
			return typeof id === 'string' ? id : undefined;
		} catch {
			return undefined;
		}
	}

	private async dispatch(ctx: Ctx, record: RecordedRequest): Promise<ApiResult> {
		let rateHeaders: Record<string, string> = {};
		const withRateHeaders = (r: ApiResult): ApiResult =>
			Object.keys(rateHeaders).length ? { ...r, headers: { ...rateHeaders, ...r.headers } } : r;
		try {
			ctx.org = record.org = this.authenticate(ctx);
			this.checkIp(ctx);
			rateHeaders = this.checkRateLimit(ctx);
			if (!ctx.underBase)
				throw new ApiError(
					404,
					'not_found',
					`No route ${ctx.method} ${ctx.fullPath}; API routes live under ${BASE_PATH}`,
				);
			const match = matchRoute(this.apiRoutes, ctx.method, ctx.path);
			if (!match) throw new ApiError(404, 'not_found', `No route ${ctx.method} ${ctx.fullPath}`);
			return withRateHeaders(await match.route.handler(ctx, match.params));
		} catch (e) {
			if (e instanceof ApiError) return withRateHeaders(this.errorResult(ctx, e));
			throw e;
		}
	}

	private handleControl(ctx: Ctx, res: ServerResponse): void {
		const path = ctx.fullPath.slice(CONTROL_PREFIX.length) || '/';
		let result: ApiResult;
		try {
			const match = matchRoute(this.controlRoutes, ctx.method, path);
			if (!match)
				throw new ApiError(404, 'not_found', `No control route ${ctx.method} ${ctx.fullPath}`);
			result = match.route.handler(ctx, match.params) as ApiResult;
		} catch (e) {
			if (!(e instanceof ApiError)) throw e;
			result = this.errorResult(ctx, e);
		}
		writeJson(res, result.status, JSON.stringify(result.payload), result.headers);
	}

	private control(data: unknown, status = 200): ApiResult {
		return { status, payload: { data } };
	}

	private controlBody(ctx: Ctx): Record<string, unknown> {
		if (ctx.rawBody.trim() === '') return {};
		if (!ctx.body.ok) throw new ApiError(400, 'bad_request', ctx.body.error);
		if (!isPlainObject(ctx.body.value))
			throw new ApiError(400, 'bad_request', 'Body must be a JSON object');
		return ctx.body.value;
	}

	private controlField(ctx: Ctx, name: string): string | undefined {
		const v = this.controlBody(ctx)[name];
		return typeof v === 'string' ? v : undefined;
	}

	private filterRequests(ctx: Ctx): RecordedRequest[] {
		const method = queryValue(ctx.query, 'method')?.toUpperCase();
		const path = queryValue(ctx.query, 'path');
		return this.requests.filter(
			(r) => (!method || r.method === method) && (!path || r.path === path),
		);
	}

	// ================= cross-cutting checks =================

	/** The organisation of the presented key. */
	private authenticate(ctx: Ctx): string {
		const header = ctx.headers['authorization'];
		if (!header)
			throw new ApiError(
				401,
				'unauthorized',
				'Missing Authorization header (expected "Bearer <api_key>")',
			);
		const m = /^Bearer\s+(.+)$/i.exec(header.trim());
		const org = m ? this.orgOfKey(m[1]) : undefined;
		if (!org) throw new ApiError(401, 'unauthorized', 'Invalid API key');
		return org;
	}

	private orgOfKey(key: string): string | undefined {
		if (key === this.options.apiKey) return DEFAULT_ORG;
		const extra = this.options.apiKeys?.find((k) => k.key === key);
		return extra && (extra.org ?? DEFAULT_ORG);
	}

	private presentedKey(ctx: Ctx): string {
		return /^Bearer\s+(.+)$/i.exec(ctx.headers['authorization']?.trim() ?? '')?.[1] ?? '';
	}

	private checkIp(ctx: Ctx): void {
		const allowed = this.options.allowedIps;
		if (allowed && !allowed.includes(ctx.clientIp))
			throw new ApiError(403, 'forbidden', 'IP not whitelisted', { ip: ctx.clientIp });
	}

	/**
	 * Fixed windows (aligned to the epoch) counted over every authenticated API request, shared per
	 * organisation by default (rate-limits guide version A). Returns the headers to add ('headers' style).
	 */
	private checkRateLimit(ctx: Ctx): Record<string, string> {
		const rl = this.options.rateLimit;
		if (!rl) return {};
		const outcome = this.rateLimiter.check(rl, {
			org: ctx.org ?? DEFAULT_ORG,
			apiKey: this.presentedKey(ctx),
			path: ctx.path,
		});
		if (outcome.error) throw outcome.error;
		return outcome.headers;
	}

	// ================= response shapes =================

	private meta(ctx: Ctx): { request_id: string; ts: string } {
		return { request_id: ctx.requestId, ts: new Date().toISOString() };
	}

	private errorResult(ctx: Ctx, e: ApiError): ApiResult {
		const error: Record<string, unknown> = { code: e.code, message: e.message };
		if (e.details) error.details = e.details;
		return { status: e.status, payload: { error, meta: this.meta(ctx) }, headers: e.headers };
	}

	private one(ctx: Ctx, status: number, data: unknown): ApiResult {
		return {
			status,
			payload: this.options.responseShape === 'bare' ? data : { data, meta: this.meta(ctx) },
		};
	}

	private list<T>(ctx: Ctx, all: T[], paging: Paging): ApiResult {
		const data = all.slice(paging.offset, paging.offset + paging.limit);
		const page = {
			total: all.length,
			limit: paging.limit,
			offset: paging.offset,
			has_more: paging.offset + data.length < all.length,
		};
		const meta = this.options.responseShape === 'envelope' ? this.meta(ctx) : undefined;
		const payload =
			this.options.paginationIn === 'meta'
				? { data, meta: { ...meta, ...page } }
				: { data, ...(meta && { meta }), pagination: page };
		return { status: 200, payload };
	}

	// ================= agents =================

	private listAgents(ctx: Ctx): ApiResult {
		const paging = parsePaging(ctx.query);
		const status = queryValue(ctx.query, 'status');
		const name = queryValue(ctx.query, 'name')?.toLowerCase();
		const agents = [...this.agents.values()]
			.filter(
				(a) => (!status || a.status === status) && (!name || a.name.toLowerCase().includes(name)),
			)
			.sort((a, b) => a.name.localeCompare(b.name, 'en') || a.id.localeCompare(b.id));
		return this.list(
			ctx,
			agents.map((a) => this.renderAgent(a)),
			paging,
		);
	}

	/** The public view of an agent: `ultravox_agent_id` only with exposeUltravoxIds. */
	private renderAgent(agent: SimAgent): Record<string, unknown> {
		const { id, ultravox_agent_id, ...rest } = agent;
		return this.options.exposeUltravoxIds
			? { id, ultravox_agent_id: ultravox_agent_id ?? ultravoxAgentIdOf(id), ...rest }
			: { id, ...rest };
	}

	private requireAgent(id: string): SimAgent {
		const agent = this.agents.get(id);
		if (!agent) throw new ApiError(404, 'not_found', `Agent ${id} not found`);
		return agent;
	}

	// ================= calls =================

	private createCall(ctx: Ctx): ApiResult {
		if (!ctx.body.ok) throw new ApiError(400, 'bad_request', ctx.body.error);
		const idemKey = ctx.headers['x-idempotency-key'];
		const storeKey = idemKey ? `${ctx.org}\n${idemKey}` : undefined; // keys are scoped per organisation
		const canonicalBody = canonicalJson(ctx.body.value);
		const replay = storeKey ? this.replayIdempotent(storeKey, canonicalBody) : undefined;
		if (replay) return replay;

		const input = validateCreateCall(ctx.body.value, (id) => this.agents.get(id));
		this.chargeCredit();
		const call = this.newCall(input, ctx.org ?? DEFAULT_ORG);
		const result = this.one(ctx, 201, this.render(call));
		const rawBody = JSON.stringify(result.payload);
		if (storeKey)
			this.idempotency.set(storeKey, {
				callId: call.id,
				canonicalBody,
				status: 201,
				rawBody,
				requestId: ctx.requestId,
			});
		return { status: 201, rawBody };
	}

	/** Which X-Idempotency-Key created each call (call id → key), read from the idempotency store. */
	callKeys(): Map<string, string> {
		const keys = new Map<string, string>();
		for (const [storeKey, stored] of this.idempotency)
			keys.set(stored.callId, storeKey.slice(storeKey.indexOf('\n') + 1));
		return keys;
	}

	private replayIdempotent(storeKey: string, canonicalBody: string): ApiResult | undefined {
		const stored = this.idempotency.get(storeKey);
		if (!stored) return undefined;
		if (stored.canonicalBody !== canonicalBody && this.options.idempotencyMismatch !== 'replay') {
			throw new ApiError(
				409,
				'conflict',
				'X-Idempotency-Key was already used with a different request body',
			);
		}
		return {
			status: stored.status,
			rawBody: stored.rawBody,
			requestId: stored.requestId,
			headers: { 'Idempotent-Replayed': 'true' },
		};
	}

	private chargeCredit(): void {
		const credits = this.options.credits;
		if (credits !== undefined && this.creditsUsed >= credits) {
			throw new ApiError(
				402,
				'insufficient_credits',
				'Your account balance is too low to place this call',
				{ credits_remaining: 0 },
			);
		}
		this.creditsUsed++;
	}

	private newCall(input: CreateCallInput, org: string): SimCall {
		const call: SimCall = {
			id: newCallId(),
			ultravox_call_id: newUltravoxId(),
			ultravox_agent_id: input.agent.ultravox_agent_id ?? ultravoxAgentIdOf(input.agent.id),
			org,
			seq: ++this.seq,
			status: 'queued',
			direction: 'outbound',
			agent_id: input.agent.id,
			to: input.to,
			from: input.from,
			variables: input.variables,
			call_settings: input.call_settings,
			created_at: new Date().toISOString(),
			started_at: null,
			ended_at: null,
			duration_seconds: null,
			end_reason: null,
			summary: null,
			short_summary: null,
			transcript: null,
			recording_url: null,
			transcriptReadyAt: null,
			history: [{ status: 'queued', at: Date.now() }],
		};
		this.calls.set(call.id, call);
		this.schedule(call);
		return call;
	}

	private listCalls(ctx: Ctx): ApiResult {
		const paging = parsePaging(ctx.query);
		const filters = this.callFilters(ctx.query);
		const org = ctx.org ?? DEFAULT_ORG;
		const calls = [...this.calls.values()]
			.filter((c) => (c.org ?? DEFAULT_ORG) === org && filters.every((f) => f(c)))
			.sort((a, b) => b.seq - a.seq);
		return this.list(
			ctx,
			calls.map((c) => this.render(c)),
			paging,
		);
	}

	/**
	 * The documented filters (status, direction, agent_id, created_after/created_before); `ultravox_call_id`
	 * only with ultravoxCallIdFilter. Any other query parameter is ignored.
	 */
	private callFilters(query: Record<string, string | string[]>): Array<(c: SimCall) => boolean> {
		const filters: Array<(c: SimCall) => boolean> = [];
		const status = queryValue(query, 'status');
		if (status) {
			const canonical = toCanonicalStatus(status);
			if (!canonical)
				throw validationError('status', `Unknown status ${status}`, { value: status });
			const only = this.options.statusFilterVocabulary;
			if (only && renderStatus(canonical, only) !== status)
				throw validationError('status', `Unknown status ${status}`, { value: status });
			filters.push((c) => c.status === canonical);
		}
		const direction = queryValue(query, 'direction');
		if (direction) {
			if (!['inbound', 'outbound', 'webrtc'].includes(direction))
				throw validationError('direction', 'direction must be inbound, outbound or webrtc');
			filters.push((c) => c.direction === direction);
		}
		const agentId = queryValue(query, 'agent_id');
		if (agentId) filters.push((c) => c.agent_id === agentId);
		const after = this.dateParam(query, 'created_after');
		if (after !== undefined) filters.push((c) => Date.parse(c.created_at) >= after);
		const before = this.dateParam(query, 'created_before');
		if (before !== undefined) filters.push((c) => Date.parse(c.created_at) <= before);
		const ultravoxCallId = queryValue(query, 'ultravox_call_id');
		if (this.options.ultravoxCallIdFilter && ultravoxCallId)
			filters.push((c) => ultravoxCallIdOf(c) === ultravoxCallId);
		return filters;
	}

	private dateParam(query: Record<string, string | string[]>, name: string): number | undefined {
		const raw = queryValue(query, name);
		if (!raw) return undefined;
		const t = Date.parse(raw);
		if (Number.isNaN(t))
			throw validationError(name, `${name} must be an ISO 8601 date-time`, { value: raw });
		return t;
	}

	/** The call, or 404; with `org`, calls of other organisations are not found either. */
	private requireCall(id: string, org?: string): SimCall {
		const call = this.calls.get(id);
		if (!call || (org !== undefined && (call.org ?? DEFAULT_ORG) !== org))
			throw new ApiError(404, 'not_found', `Call ${id} not found`);
		return call;
	}

	private requireStatus(status: string): CanonicalStatus {
		const canonical = toCanonicalStatus(status);
		if (!canonical) throw new ApiError(422, 'validation_error', `Unknown status ${status}`);
		return canonical;
	}

	private render(call: SimCall): Record<string, unknown> {
		return renderCall(call, {
			vocabulary: this.options.statusVocabulary,
			naming: this.options.callFieldNaming,
			ultravoxIds: this.options.exposeUltravoxIds,
		});
	}

	/** /__sim views: the API view plus the simulator's own truth (Ultravox ids, organisation) whatever the options. */
	private controlView(call: SimCall): Record<string, unknown> {
		const { id, ...rest } = renderCall(call, {
			vocabulary: this.options.statusVocabulary,
			naming: this.options.callFieldNaming,
			ultravoxIds: true,
		});
		return {
			id,
			...rest,
			ultravox_agent_id: call.ultravox_agent_id ?? ultravoxAgentIdOf(call.agent_id),
			org: call.org ?? DEFAULT_ORG,
		};
	}

	// ================= call lifecycle =================

	private willFail(to: string): boolean {
		return this.options.failNumbers.some((p) =>
			p instanceof RegExp ? p.test(to) : p.startsWith('*') ? to.endsWith(p.slice(1)) : p === to,
		);
	}

	private schedule(call: SimCall): void {
		this.clearCallTimer(call.id);
		if (!this.options.autoAdvance || this.closed) return;
		const t = this.options.callTimings;
		const waits: Partial<Record<CanonicalStatus, number>> = {
			queued: t.queuedMs,
			ringing: t.ringingMs,
			in_progress: t.inProgressMs,
		};
		const wait = waits[call.status];
		if (wait === undefined) return;
		const timer = setTimeout(() => {
			this.callTimers.delete(call.id);
			const next = nextStatus(call.status, this.willFail(call.to));
			if (next) this.transition(call, next);
		}, wait);
		timer.unref();
		this.callTimers.set(call.id, timer);
	}

	private clearCallTimer(id: string): void {
		const t = this.callTimers.get(id);
		if (t) clearTimeout(t);
		this.callTimers.delete(id);
	}

	private transition(call: SimCall, to: CanonicalStatus): void {
		this.clearCallTimer(call.id);
		if (call.status === to) return;
		call.status = to;
		call.history.push({ status: to, at: Date.now() });
		const now = new Date().toISOString();
		if (to === 'in_progress') {
			call.started_at ??= now;
			this.emit(call, 'call.started');
		}
		if (isTerminal(to)) {
			this.finalize(call, to, now);
			this.emit(call, 'call.ended');
			if (to === 'failed') this.emit(call, 'call.failed');
		}
		this.schedule(call);
	}

	private finalize(call: SimCall, status: CanonicalStatus, now: string): void {
		call.ended_at = now;
		if (status !== 'ended') {
			call.duration_seconds = 0;
			call.end_reason =
				status === 'cancelled' ? 'cancelled' : call.started_at ? 'connection_error' : 'unjoined';
			return;
		}
		const agentName = this.agents.get(call.agent_id)?.name ?? 'Truedy';
		call.started_at ??= now;
		call.duration_seconds = this.options.durationSeconds;
		call.end_reason = 'hangup';
		const { summary, short } = buildSummary(call, agentName);
		call.summary = summary;
		call.short_summary = short;
		if (call.call_settings.transcription_enabled !== false) {
			call.transcript = buildTranscript(call, agentName);
			call.transcriptReadyAt = Date.now() + this.options.transcriptDelayMs;
		}
		if (call.call_settings.recording_enabled !== false) {
			call.recording_url = `https://storage.truedy.test/recordings/${call.id}.mp3?X-Sim-Signature=${call.id.slice(5, 13)}`;
		}
	}

	// ================= webhooks =================

	private emit(call: SimCall, event: string): void {
		const wh = this.options.webhook;
		if (!wh || !(wh.events ?? DEFAULT_EVENTS).includes(event)) return;
		const envelope = buildCallEndedEvent(call, wh.payloadShape ?? 'ultravox', event, {
			vocabulary: this.options.statusVocabulary,
			includeTranscript: wh.includeTranscript,
			metadata: wh.metadata,
		});
		const info = {
			event,
			eventId: String(envelope.data.id),
			callId: call.id,
			ultravoxCallId: ultravoxCallIdOf(call),
		};
		const job: Promise<void> = this.deliverEvent(wh, envelope, info, this.inFlightScope)
			.catch(() => undefined)
			.finally(() => this.pendingDeliveries.delete(job));
		this.pendingDeliveries.add(job);
	}

	private prepare(wh: WebhookOptions, envelope: WebhookEnvelope): PreparedDelivery {
		return prepareDelivery(envelope, {
			secret: wh.secretOverride ?? wh.secret,
			secrets: wh.secretOverride !== undefined ? undefined : wh.secrets,
			signing: wh.signing,
			bodyEncoding: wh.bodyEncoding,
			timestamp: Math.floor(Date.now() / 1000) + (wh.clockSkewSeconds ?? 0),
			headerSpelling: wh.headerSpelling ?? 'Truedy',
		});
	}

	/** The original delivery, then `duplicates` identical copies (same timestamp and signature), sequentially. */
	private async deliverEvent(
		wh: WebhookOptions,
		envelope: WebhookEnvelope,
		info: DeliveryInfo,
		scope: AbortController,
	): Promise<void> {
		const first = this.prepare(wh, envelope);
		for (let copy = 0; copy <= (wh.duplicates ?? 0) && !scope.signal.aborted; copy++) {
			await this.deliverWithRetries(wh, envelope, first, { ...info, copy }, scope);
		}
	}

	/** Retries (fresh timestamp + signature) on non-2xx or network errors, 50 ms * attempt backoff. */
	private async deliverWithRetries(
		wh: WebhookOptions,
		envelope: WebhookEnvelope,
		first: PreparedDelivery,
		info: DeliveryInfo & { copy: number },
		scope: AbortController,
	): Promise<void> {
		const maxAttempts = 1 + Math.max(0, wh.retryOnNon2xx ?? 0);
		for (let attempt = 1; attempt <= maxAttempts; attempt++) {
			const prepared = attempt === 1 ? first : this.prepare(wh, envelope);
			const at = Date.now();
			const outcome = await sendDelivery(wh.url, prepared, {
				timeoutMs: wh.timeoutMs,
				signal: scope.signal,
			}).then(
				(r) => ({ status: r.status, responseBody: r.body, error: undefined as string | undefined }),
				(e: Error) => ({ status: 0, responseBody: '', error: e.message }),
			);
			if (scope.signal.aborted) return;
			const record: DeliveryRecord = {
				...info,
				...outcome,
				attempt,
				headers: prepared.headers,
				rawBody: prepared.rawBody,
				durationMs: Date.now() - at,
				at,
			};
			if (!record.error) delete record.error;
			this.webhookDeliveries.push(record);
			if (outcome.status >= 200 && outcome.status < 300) return;
			if (attempt < maxAttempts) await delay(50 * attempt, scope.signal);
		}
	}
}

interface DeliveryInfo {
	event: string;
	eventId: string;
	callId: string;
	ultravoxCallId: string;
}

export { Simulator };
