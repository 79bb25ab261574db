// Call model helpers: ids, status vocabularies, field naming and fabricated call content.
import { createHash, randomBytes, randomUUID } from 'crypto';
import type {
	CallFieldNaming,
	CanonicalStatus,
	SimCall,
	StatusVocabulary,
	TranscriptTurn,
} from './types';

const ALNUM = '0123456789abcdefghijklmnopqrstuvwxyz';

/** `len` random lowercase alphanumerics. */
export function randomAlnum(len: number): string {
	const bytes = randomBytes(len);
	let out = '';
	for (let i = 0; i < len; i++) out += ALNUM[bytes[i] % ALNUM.length];
	return out;
}

export const newCallId = (): string => `call_${randomAlnum(26)}`;
export const newRequestId = (): string => `req_${randomAlnum(24)}`;
/** Ultravox ids are UUIDs. */
export const newUltravoxId = (): string => randomUUID();

/** A UUID (version 4 layout) that depends only on `seed`: stable Ultravox ids for seeded agents and hand-built calls. */
export function derivedUuid(seed: string): string {
	const h = createHash('sha256').update(seed).digest();
	h[6] = (h[6] & 0x0f) | 0x40;
	h[8] = (h[8] & 0x3f) | 0x80;
	const x = h.subarray(0, 16).toString('hex');
	return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The Ultravox agent id of a Truedy agent id, unless the agent names its own. */
export const ultravoxAgentIdOf = (agentId: string): string =>
	derivedUuid(`ultravox-agent:${agentId}`);

/** The call's Ultravox id (derived from the Truedy id for hand-built calls that have none). */
export const ultravoxCallIdOf = (call: Pick<SimCall, 'id' | 'ultravox_call_id'>): string =>
	call.ultravox_call_id ?? derivedUuid(`ultravox-call:${call.id}`);

const VOCABULARIES: Record<StatusVocabulary, Record<CanonicalStatus, string>> = {
	ended: {
		queued: 'queued',
		ringing: 'ringing',
		in_progress: 'in-progress',
		ended: 'ended',
		failed: 'failed',
		cancelled: 'cancelled',
	},
	completed: {
		queued: 'queued',
		ringing: 'ringing',
		in_progress: 'in_progress',
		ended: 'completed',
		failed: 'failed',
		cancelled: 'cancelled',
	},
};

const ALIASES: Record<string, CanonicalStatus> = {
	queued: 'queued',
	ringing: 'ringing',
	'in-progress': 'in_progress',
	in_progress: 'in_progress',
	ended: 'ended',
	completed: 'ended',
	failed: 'failed',
	cancelled: 'cancelled',
	canceled: 'cancelled',
};

/** Accepts either vocabulary (and 'canceled'); undefined if unknown. */
export function toCanonicalStatus(status: string): CanonicalStatus | undefined {
	return ALIASES[status.trim().toLowerCase()];
}

export function renderStatus(status: CanonicalStatus, vocabulary: StatusVocabulary): string {
	return VOCABULARIES[vocabulary][status];
}

export const TERMINAL_STATUSES: ReadonlySet<CanonicalStatus> = new Set<CanonicalStatus>([
	'ended',
	'failed',
	'cancelled',
]);
export const isTerminal = (status: CanonicalStatus): boolean => TERMINAL_STATUSES.has(status);

/** The next automatic lifecycle step (the ringing step's outcome depends on failNumbers). */
export function nextStatus(
	status: CanonicalStatus,
	willFail: boolean,
): CanonicalStatus | undefined {
	switch (status) {
		case 'queued':
			return 'ringing';
		case 'ringing':
			return willFail ? 'failed' : 'in_progress';
		case 'in_progress':
			return 'ended';
		default:
			return undefined;
	}
}

const NAMING: Record<CallFieldNaming, [to: string, from: string]> = {
	phone_number: ['phone_number', 'from_number'],
	to_from: ['to', 'from'],
	to_number: ['to_number', 'from_number'],
};

export interface RenderOptions {
	vocabulary: StatusVocabulary;
	naming: CallFieldNaming;
	/** Add `ultravox_call_id` (exposeUltravoxIds). */
	ultravoxIds?: boolean;
	now?: number;
}

/** The public JSON view of a call. */
export function renderCall(call: SimCall, opts: RenderOptions): Record<string, unknown> {
	const [toField, fromField] = NAMING[opts.naming];
	const now = opts.now ?? Date.now();
	const transcriptVisible = call.transcriptReadyAt !== null && now >= call.transcriptReadyAt;
	return {
		id: call.id,
		...(opts.ultravoxIds && { ultravox_call_id: ultravoxCallIdOf(call) }),
		status: renderStatus(call.status, opts.vocabulary),
		direction: call.direction,
		agent_id: call.agent_id,
		[toField]: call.to,
		[fromField]: call.from,
		duration_seconds: call.duration_seconds,
		transcript: transcriptVisible ? call.transcript : null,
		recording_url: call.recording_url,
		summary: call.summary,
		end_reason: call.end_reason,
		variables: call.variables,
		call_settings: call.call_settings,
		created_at: call.created_at,
		started_at: call.started_at,
		ended_at: call.ended_at,
	};
}

/** A short, plausible conversation using the call's variables. */
export function buildTranscript(call: SimCall, agentName: string): TranscriptTurn[] {
	const name = call.variables.first_name ?? 'there';
	const greeting =
		call.call_settings.greeting ??
		`Hi ${name}, this is the ${agentName} assistant calling from Truedy.`;
	const when = call.variables.appointment_date
		? ` on ${call.variables.appointment_date}${call.variables.appointment_time ? ` at ${call.variables.appointment_time}` : ''}`
		: '';
	return [
		{ speaker: 'agent', text: greeting, timestamp: 0.4 },
		{ speaker: 'contact', text: 'Hi, yes, speaking.', timestamp: 3.1 },
		{
			speaker: 'agent',
			text: `I'm calling to confirm your appointment${when}. Does that still work for you?`,
			timestamp: 5.2,
		},
		{ speaker: 'contact', text: 'Yes, that works. Thank you!', timestamp: 11.8 },
		{ speaker: 'agent', text: 'Great, you are all set. Have a nice day!', timestamp: 14.0 },
	];
}

export function buildSummary(call: SimCall, agentName: string): { summary: string; short: string } {
	const who = call.variables.first_name ?? call.to;
	return {
		summary: `${agentName} called ${who} (${call.to}). The contact confirmed and the call ended normally.`,
		short: `${who} confirmed.`,
	};
}
