// Small HTTP helpers: routing table, body reading, errors, canonical JSON, query parsing.
import type { IncomingMessage, ServerResponse } from 'http';

/** A handler result: either a JSON payload or a pre-serialized body (idempotent replays). */
export interface ApiResult {
	status: number;
	payload?: unknown;
	rawBody?: string;
	headers?: Record<string, string>;
	/** Overrides the request id (replays keep the original one so header and body agree). */
	requestId?: string;
}

/** Thrown by handlers; rendered as `{error:{code, message, details?}, meta}`. */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly details?: Record<string, unknown>,
		readonly headers?: Record<string, string>,
	) {
		super(message);
	}
}

export const validationError = (
	field: string,
	message: string,
	extra: Record<string, unknown> = {},
): ApiError => new ApiError(422, 'validation_error', message, { field, ...extra });

// ---------- routing ----------

export interface Route<C> {
	method: string;
	pattern: RegExp;
	handler: (ctx: C, params: string[]) => ApiResult | Promise<ApiResult>;
}

/** `route('GET', '/calls/:id', h)`: `:name` segments become decoded positional params. */
export function route<C>(method: string, template: string, handler: Route<C>['handler']): Route<C> {
	const source = template
		.split('/')
		.map((seg) => (seg.startsWith(':') ? '([^/]+)' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
		.join('/');
	return { method, pattern: new RegExp(`^${source}$`), handler };
}

export function matchRoute<C>(
	routes: Route<C>[],
	method: string,
	path: string,
): { route: Route<C>; params: string[] } | undefined {
	for (const r of routes) {
		if (r.method !== method) continue;
		const m = r.pattern.exec(path);
		if (m) return { route: r, params: m.slice(1).map(safeDecode) };
	}
	return undefined;
}

function safeDecode(s: string): string {
	try {
		return decodeURIComponent(s);
	} catch {
		return s;
	}
}

// ---------- request parsing ----------

export function readBody(req: IncomingMessage, maxBytes = 1_000_000): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (c: Buffer) => {
			size += c.length;
			if (size <= maxBytes) chunks.push(c);
		});
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

export type ParsedBody = { ok: true; value: unknown } | { ok: false; error: string };

export function parseJson(raw: string): ParsedBody {
	if (raw.trim() === '') return { ok: false, error: 'Request body is empty' };
	try {
		return { ok: true, value: JSON.parse(raw) };
	} catch (e) {
		return { ok: false, error: `Malformed JSON: ${(e as Error).message}` };
	}
}

export function flattenHeaders(h: IncomingMessage['headers']): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(h))
		if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
	return out;
}

export function parseQuery(params: URLSearchParams): Record<string, string | string[]> {
	const out: Record<string, string | string[]> = {};
	for (const key of new Set(params.keys())) {
		const all = params.getAll(key);
		out[key] = all.length === 1 ? all[0] : all;
	}
	return out;
}

/** Last value of a query parameter. */
export function queryValue(
	query: Record<string, string | string[]>,
	name: string,
): string | undefined {
	const v = query[name];
	return Array.isArray(v) ? v[v.length - 1] : v;
}

export interface Paging {
	limit: number;
	offset: number;
}

/** limit 1–100 (default 50), offset >= 0 (default 0); otherwise 422 validation_error. */
export function parsePaging(query: Record<string, string | string[]>): Paging {
	const limit = intParam(query, 'limit', 50, 1, 100);
	const offset = intParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
	return { limit, offset };
}

function intParam(
	query: Record<string, string | string[]>,
	name: string,
	dflt: number,
	min: number,
	max: number,
): number {
	const raw = queryValue(query, name);
	if (raw === undefined) return dflt;
	const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
	if (!Number.isInteger(n) || n < min || n > max) {
		throw validationError(
			name,
			`${name} must be an integer between ${min} and ${max === Number.MAX_SAFE_INTEGER ? 'infinity' : max}`,
			{ value: raw },
		);
	}
	return n;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
	typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with recursively sorted object keys (idempotency body comparison). */
export function canonicalJson(value: unknown): string {
	return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
	if (Array.isArray(v)) return v.map(sortKeys);
	if (!isPlainObject(v)) return v;
	const out: Record<string, unknown> = {};
	for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
	return out;
}

export function clientIp(req: IncomingMessage): string {
	const ip = req.socket.remoteAddress ?? '';
	return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export function writeJson(
	res: ServerResponse,
	status: number,
	body: string,
	headers: Record<string, string> = {},
): void {
	if (res.writableEnded || res.destroyed) return;
	res.writeHead(status, {
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': String(Buffer.byteLength(body)),
		...headers,
	});
	res.end(body);
}
