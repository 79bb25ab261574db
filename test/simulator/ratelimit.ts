// Rate limiting of the simulator: fixed windows aligned to the epoch, shared per organisation,
// per API key or per organisation and path. See README.md › Rate limits.
import { ApiError } from './http-util';
import type { RateLimitOptions, RateLimitScope, RateLimitStyle, RateLimitWindow } from './types';

/** Rate-limits guide, version A (the more detailed one, which matches the early backend): the default of `rateLimit: {}`. */
export const RATE_LIMIT_VERSION_A: Readonly<Required<Omit<RateLimitOptions, 'tiers'>>> =
	Object.freeze({
		limit: 100,
		windowMs: 60_000,
		style: 'reset_at',
		scope: 'organization',
		code: 'rate_limit_exceeded',
	});

/** Rate-limits guide, version B: per key 60/min, 1 000/hour, 10 000/day, with rate-limit headers. */
export const RATE_LIMIT_VERSION_B: Readonly<RateLimitOptions> = Object.freeze({
	limit: 60,
	windowMs: 60_000,
	style: 'headers',
	scope: 'apiKey',
	tiers: [
		{ limit: 1_000, windowMs: 3_600_000 },
		{ limit: 10_000, windowMs: 86_400_000 },
	],
	code: 'rate_limit_exceeded',
});

/** Truedy's early backend (docs/truedy-api.md, "Rate limits"): 100/min per organisation and per path, reset_at, no headers. */
export const RATE_LIMIT_EARLY_BACKEND: Readonly<RateLimitOptions> = Object.freeze({
	...RATE_LIMIT_VERSION_A,
	scope: 'organizationPath',
});

/** Who is asking: what the scope picks its window key from. */
export interface RateLimitSubject {
	org: string;
	apiKey: string;
	path: string;
}

export interface RateLimitOutcome {
	/** Headers for the answer ('headers' style only; also on successful answers). */
	headers: Record<string, string>;
	/** Set when the request is over a limit: answer it with this 429. */
	error?: ApiError;
}

/** ISO 8601 with microseconds, as the version A example spells it ("2026-03-03T12:01:00.000000Z"). */
export function isoMicros(ms: number): string {
	return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const WINDOW_NAMES: Record<number, string> = {
	60_000: 'Minute',
	3_600_000: 'Hour',
	86_400_000: 'Day',
};

function scopeKey(scope: RateLimitScope, who: RateLimitSubject): string {
	if (scope === 'apiKey') return `key ${who.apiKey}`;
	if (scope === 'organizationPath') return `org ${who.org} ${who.path}`;
	return `org ${who.org}`;
}

export class RateLimiter {
	private readonly windows = new Map<string, { start: number; count: number }>();

	clear(): void {
		this.windows.clear();
	}

	/** Counts the request against every window of its scope, unless one of them is full. */
	check(rl: RateLimitOptions, who: RateLimitSubject, now = Date.now()): RateLimitOutcome {
		const style: RateLimitStyle = rl.style ?? RATE_LIMIT_VERSION_A.style;
		const primary: RateLimitWindow = {
			limit: rl.limit ?? RATE_LIMIT_VERSION_A.limit,
			windowMs: rl.windowMs ?? RATE_LIMIT_VERSION_A.windowMs,
		};
		const all = [primary, ...(rl.tiers ?? [])];
		const key = scopeKey(rl.scope ?? RATE_LIMIT_VERSION_A.scope, who);
		const states = all.map((w, i) => {
			const start = Math.floor(now / w.windowMs) * w.windowMs;
			const id = `${key}\n${i}:${w.windowMs}`;
			let state = this.windows.get(id);
			if (!state || state.start !== start) {
				state = { start, count: 0 };
				this.windows.set(id, state);
			}
			return { window: w, state, resetAt: start + w.windowMs };
		});
		const full = states.filter((s) => s.state.count >= s.window.limit);
		if (full.length === 0) for (const s of states) s.state.count++;

		const headers: Record<string, string> = {};
		if (style === 'headers') {
			const put = (suffix: string, s: (typeof states)[number]) => {
				headers[`X-RateLimit-Limit${suffix}`] = String(s.window.limit);
				headers[`X-RateLimit-Remaining${suffix}`] = String(
					Math.max(0, s.window.limit - s.state.count),
				);
				headers[`X-RateLimit-Reset${suffix}`] = String(Math.ceil(s.resetAt / 1000));
			};
			put('', states[0]);
			if (states.length > 1)
				for (const s of states)
					put(`-${WINDOW_NAMES[s.window.windowMs] ?? `${s.window.windowMs}ms`}`, s);
		}
		if (full.length === 0) return { headers };

		// The request can succeed once the last of the full windows has rolled over.
		const worst = full.reduce((a, b) => (b.resetAt > a.resetAt ? b : a));
		const details: Record<string, unknown> = { limit: worst.window.limit };
		if (style === 'reset_at') details.reset_at = isoMicros(worst.resetAt);
		if (style === 'headers' || style === 'retry_after')
			headers['Retry-After'] = String(Math.max(1, Math.ceil((worst.resetAt - now) / 1000)));
		const message = `Rate limit of ${worst.window.limit} requests per ${worst.window.windowMs} ms exceeded`;
		const error = new ApiError(429, rl.code ?? 'rate_limit_exceeded', message, details, headers);
		return { headers, error };
	}
}
