// Fault injection for the simulator: deterministic rules, seeded rates, and an X-Sim-Fault header.
//
// Every API request (never the /__sim control endpoints) is offered to `FaultInjector.decide`
// before it is handled. A fault either replaces the handling ("before" faults: nothing happens
// on the server) or spoils the answer after the request was handled ("after" faults: for
// POST /calls the call exists, the client never sees a good answer). See README.md › Faults.
import type { FaultKind, FaultOptions, FaultRecord, FaultRule } from './types';

/** The order rates are laid out on [0, 1): fixed, so a seed always means the same thing. */
export const FAULT_KINDS: readonly FaultKind[] = [
	'status500',
	'status503',
	'resetBefore',
	'resetAfter',
	'slow',
	'malformedJson',
	'status429',
];

/** Faults that are applied after the request was handled (the call was created). */
export const AFTER_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>([
	'status500',
	'resetAfter',
	'slow',
	'malformedJson',
]);

export const DEFAULT_SLOW_MS = 5000;
export const DEFAULT_RETRY_AFTER_MS = 200;

export function isFaultKind(value: unknown): value is FaultKind {
	return typeof value === 'string' && (FAULT_KINDS as readonly string[]).includes(value);
}

/** What a rule or a rate is matched against. */
export interface FaultRequest {
	method: string;
	/** API path without the base, e.g. '/calls' or '/calls/call_abc'. */
	path: string;
	/** Route template, e.g. '/calls/:id'. */
	route: string;
	headers: Record<string, string>;
	rawBody: string;
	/** Canonical JSON of the body (sorted keys), or the raw body when it is not JSON. */
	canonicalBody: string;
	/**
	 * A content key that does not depend on random ids: the caller gives e.g. the call's
	 * destination for GET /calls/:id, so seeded decisions repeat from run to run.
	 */
	stableKey: string;
}

/** FNV-1a 32-bit. */
function fnv1a(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

/** mulberry32 step → a number in [0, 1). */
function mulberry32(seed: number): number {
	let t = (seed + 0x6d2b79f5) | 0;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A uniform number in [0, 1) that depends only on the seed and the key. */
export function seededUnit(seed: number, key: string): number {
	return mulberry32((fnv1a(key) ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0);
}

interface RuleState {
	rule: FaultRule;
	fired: number;
	/** Epoch ms until which a `forMs` rule is live. */
	until?: number;
	/** Requests matching method/path/body/when so far (for `nth`). */
	seen: number;
}

export class FaultInjector {
	private options: FaultOptions | undefined;
	private rules: RuleState[] = [];
	/** Times each identical request (method, stable path, body) was seen: `occurrence`. */
	private readonly occurrences = new Map<string, number>();
	readonly log: FaultRecord[] = [];

	configure(options: FaultOptions | undefined): void {
		this.options = options;
		const now = Date.now();
		this.rules = (options?.rules ?? []).map((rule) => ({
			rule,
			fired: 0,
			seen: 0,
			until: rule.forMs !== undefined ? now + rule.forMs : undefined,
		}));
		this.occurrences.clear();
	}

	/** Forgets what was seen and fired (reset()); the configuration stays. */
	reset(): void {
		this.configure(this.options);
		this.log.length = 0;
	}

	get slowMs(): number {
		return this.options?.slowMs ?? DEFAULT_SLOW_MS;
	}

	get retryAfterMs(): number {
		return this.options?.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
	}

	/** Injected faults by kind. */
	counts(): Record<FaultKind, number> {
		const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
		for (const r of this.log) out[r.fault]++;
		return out;
	}

	/** The fault for this request, if any: the X-Sim-Fault header, then rules in order, then rates. */
	decide(
		req: FaultRequest,
	): { fault: FaultKind; source: FaultRecord['source']; occurrence: number } | undefined {
		const identity = `${req.method} ${req.stableKey} ${req.canonicalBody}`;
		const occurrence = (this.occurrences.get(identity) ?? 0) + 1;
		this.occurrences.set(identity, occurrence);

		const header = req.headers['x-sim-fault'];
		if (
			header !== undefined &&
			this.options?.honourHeader !== false &&
			isFaultKind(header.trim())
		) {
			return { fault: header.trim() as FaultKind, source: 'header', occurrence };
		}
		if (!this.options) return undefined;

		const now = Date.now();
		for (const state of this.rules) {
			const { rule } = state;
			if (!matches(rule, req)) continue;
			if (rule.occurrence && !rule.occurrence.includes(occurrence)) continue;
			state.seen++;
			if (rule.nth && !rule.nth.includes(state.seen)) continue;
			if (state.until !== undefined && now >= state.until) continue;
			if (rule.times !== undefined && state.fired >= rule.times) continue;
			state.fired++;
			return { fault: rule.fault, source: 'rule', occurrence };
		}

		const rates = this.options.rates;
		if (!rates) return undefined;
		const scope = this.options.ratesFor;
		if (scope && !matches(scope, req)) return undefined;
		const u = seededUnit(this.options.seed ?? 1, `${identity} #${occurrence}`);
		let edge = 0;
		for (const kind of FAULT_KINDS) {
			edge += Math.max(0, rates[kind] ?? 0);
			if (u < edge) return { fault: kind, source: 'rate', occurrence };
		}
		return undefined;
	}
}

function matches(
	rule: Pick<FaultRule, 'method' | 'path' | 'bodyIncludes' | 'when'>,
	req: FaultRequest,
): boolean {
	if (rule.method && rule.method.toUpperCase() !== req.method) return false;
	if (rule.path && rule.path !== req.path && rule.path !== req.route) return false;
	if (rule.bodyIncludes !== undefined && !req.rawBody.includes(rule.bodyIncludes)) return false;
	if (rule.when && !rule.when(req)) return false;
	return true;
}

/** Half of a JSON body: what a connection cut mid-answer, or a broken proxy, leaves behind. */
export function malformedBody(body: string): string {
	const cut = Math.max(1, Math.floor(body.length / 2));
	return body.slice(0, cut);
}
