/** One status vocabulary, whichever one the API used (the docs use both). */
export type CallStatus = 'queued' | 'ringing' | 'in-progress' | 'ended' | 'failed' | 'cancelled';

const STATUS_ALIASES: Record<string, CallStatus> = {
	created: 'queued',
	queued: 'queued',
	ringing: 'ringing',
	'in-progress': 'in-progress',
	in_progress: 'in-progress',
	inprogress: 'in-progress',
	ended: 'ended',
	completed: 'ended',
	failed: 'failed',
	cancelled: 'cancelled',
	canceled: 'cancelled',
};

export const TERMINAL_STATUSES: readonly CallStatus[] = ['ended', 'failed', 'cancelled'];

/** Maps any documented spelling to the canonical status; unknown values pass through lower-cased. */
export function normalizeCallStatus(status: unknown): CallStatus | string | undefined {
	if (typeof status !== 'string' || status.trim() === '') return undefined;
	const key = status.trim().toLowerCase();
	return STATUS_ALIASES[key] ?? key;
}

export function isTerminalStatus(status: unknown): boolean {
	return TERMINAL_STATUSES.includes(normalizeCallStatus(status) as CallStatus);
}
