// Unit tests for the Truedy Trigger's payload normalisation, filters and dedupe store.
import { deliveryKey, sha256Hex } from '../../../../nodes/Truedy/trigger/dedupe';
import { filterMismatch, parseIdList } from '../../../../nodes/Truedy/trigger/filter';
import { transcriptExpected } from '../../../../nodes/Truedy/shared/calls';
import { parseDurationSeconds } from '../../../../nodes/Truedy/shared/time';
import { mergeCall, needsEnrichment } from '../../../../nodes/Truedy/trigger/enrich';
import {
	agentIdsOf,
	callIdsOf,
	normalizeDelivery,
} from '../../../../nodes/Truedy/trigger/delivery';
import { normalizeEventName } from '../../../../nodes/Truedy/trigger/events';

const ULTRAVOX = {
	event: 'call.ended',
	timestamp: '2026-01-15T12:00:05Z',
	data: {
		event: 'call.ended',
		id: 'uv_evt_123',
		call: {
			callId: 'uv_call_123',
			agent: { agentId: 'uv_agent_123' },
			created: '2026-01-15T11:59:00Z',
			joined: '2026-01-15T11:59:10Z',
			ended: '2026-01-15T12:00:00Z',
			endReason: 'hangup',
			billedDuration: '50.5s',
			billingStatus: 'BILLING_STATUS_BILLED',
			summary: 'Long summary',
			shortSummary: 'Short',
			metadata: { crm_id: '42' },
		},
	},
};

const FLAT = {
	event: 'call.completed',
	timestamp: '2026-01-15T12:00:05.000Z',
	id: 'evt_top',
	data: {
		call_id: 'call_abc',
		status: 'completed',
		agent_id: 'agt_1',
		duration_seconds: 42,
		end_reason: 'agent_hangup',
		summary: 'Flat summary',
		transcript: [{ speaker: 'agent', text: 'Hi', timestamp: 0.4 }],
		recording_url: 'https://rec/1.mp3',
	},
};

describe('normalizeDelivery', () => {
	test('Ultravox passthrough shape', () => {
		expect(normalizeDelivery(ULTRAVOX)).toEqual({
			event: 'call.ended',
			eventId: 'uv_evt_123',
			// Ultravox ids: the Truedy ones are known only once the call is resolved.
			callId: 'uv_call_123',
			ultravoxCallId: 'uv_call_123',
			agentId: null,
			ultravoxAgentId: 'uv_agent_123',
			batchId: null,
			status: 'ended',
			endReason: 'hangup',
			durationSeconds: 50.5,
			summary: 'Long summary',
			shortSummary: 'Short',
			transcript: null,
			recordingUrl: null,
			variables: {},
			phoneNumber: null,
			fromNumber: null,
			occurredAt: '2026-01-15T12:00:05.000Z',
			resolution: { resolved: false, method: null, reason: 'The call has not been looked up' },
			payload: ULTRAVOX,
		});
	});

	test('flat snake_case shape, call.completed and status completed', () => {
		expect(normalizeDelivery(FLAT)).toMatchObject({
			event: 'call.ended',
			eventId: 'evt_top',
			callId: 'call_abc',
			ultravoxCallId: null,
			agentId: 'agt_1',
			ultravoxAgentId: null,
			status: 'ended',
			endReason: 'agent_hangup',
			durationSeconds: 42,
			summary: 'Flat summary',
			transcript: FLAT.data.transcript,
			recordingUrl: 'https://rec/1.mp3',
			occurredAt: '2026-01-15T12:00:05.000Z',
		});
	});

	test.each([
		[
			'passthrough',
			{ call: { callId: 'uv1', agent: { agentId: 'uva' } } },
			{ truedy: null, ultravox: 'uv1' },
			{ truedy: null, ultravox: 'uva' },
		],
		[
			'flat',
			{ call_id: 'c1', agent_id: 'a1' },
			{ truedy: 'c1', ultravox: null },
			{ truedy: 'a1', ultravox: null },
		],
		[
			'flat with explicit Ultravox ids',
			{ call_id: 'c1', ultravox_call_id: 'uv1', agent_id: 'a1', ultravox_agent_id: 'uva' },
			{ truedy: 'c1', ultravox: 'uv1' },
			{ truedy: 'a1', ultravox: 'uva' },
		],
		[
			'a Truedy call object inside data.call',
			{ call: { id: 'c1', ultravox_call_id: 'uv1' } },
			{ truedy: 'c1', ultravox: 'uv1' },
			{ truedy: null, ultravox: null },
		],
		[
			'passthrough repeating the same id as ultravox_call_id',
			{ call: { callId: 'uv1', ultravox_call_id: 'uv1' } },
			{ truedy: null, ultravox: 'uv1' },
			{ truedy: null, ultravox: null },
		],
	])('ids of the %s shape', (_name, data, callIds, agentIds) => {
		expect(callIdsOf({ event: 'call.ended', data })).toEqual(callIds);
		expect(agentIdsOf({ event: 'call.ended', data })).toEqual(agentIds);
	});

	test('flat: variables and phone numbers when the payload has them', () => {
		const delivery = normalizeDelivery({
			event: 'call.ended',
			data: { call_id: 'c', variables: { lead_id: 'L1' }, to: '+1', from: '+2' },
		});
		expect(delivery).toMatchObject({
			variables: { lead_id: 'L1' },
			phoneNumber: '+1',
			fromNumber: '+2',
		});
		expect(
			normalizeDelivery({ event: 'call.ended', data: { call_id: 'c', variables: 'x' } }).variables,
		).toEqual({});
	});

	test.each([
		['call.ended', 'unjoined', 'failed'],
		['call.ended', 'connection_error', 'failed'],
		['call.ended', 'system_error', 'failed'],
		['call.ended', 'timeout', 'ended'],
		['call.ended', 'agent_hangup', 'ended'],
		['call.ended', 'cancelled', 'cancelled'],
		['call.ended', null, 'ended'],
		['call.failed', null, 'failed'],
		['call.billed', 'hangup', 'ended'],
		['call.started', null, null],
	])('%s with end reason %s has status %s (no status in payload)', (event, endReason, status) => {
		expect(normalizeDelivery({ event, data: { call: { callId: 'c', endReason } } }).status).toBe(
			status,
		);
	});

	test.each([
		['in_progress', 'in-progress'],
		['canceled', 'cancelled'],
		['FAILED', 'failed'],
		['completed', 'ended'],
	])('explicit status %s becomes %s', (status, expected) => {
		expect(normalizeDelivery({ event: 'call.ended', data: { call_id: 'c', status } }).status).toBe(
			expected,
		);
	});

	test('missing fields are null, a bare event without data is read too', () => {
		const bare = { event: 'call.ended', call: { callId: 'c1' } };
		expect(normalizeDelivery(bare)).toMatchObject({
			callId: 'c1',
			agentId: null,
			durationSeconds: null,
			summary: null,
			occurredAt: null,
		});
		expect(normalizeDelivery({})).toMatchObject({ event: '', callId: null, status: null });
	});

	test('duration from joined/ended when nothing else is given', () => {
		const envelope = {
			event: 'call.ended',
			data: {
				call: { callId: 'c', joined: '2026-01-01T00:00:00Z', ended: '2026-01-01T00:01:30Z' },
			},
		};
		expect(normalizeDelivery(envelope).durationSeconds).toBe(90);
	});

	test('batch events', () => {
		expect(
			normalizeDelivery({
				event: 'batch.status.changed',
				data: { batchId: 'b1', status: 'Paused' },
			}),
		).toMatchObject({ batchId: 'b1', status: 'paused', callId: null });
	});

	test.each([
		['42s', 42],
		['42.5s', 42.5],
		['42', 42],
		[42, 42],
		[' 7 s ', 7],
		['-1s', null],
		['abc', null],
		[null, null],
		[-3, null],
	])('parseDurationSeconds(%p) = %p', (value, expected) => {
		expect(parseDurationSeconds(value)).toBe(expected);
	});

	test('normalizeEventName', () => {
		expect(normalizeEventName(' Call.Completed ')).toBe('call.ended');
		expect(normalizeEventName('call.failed')).toBe('call.failed');
		expect(normalizeEventName(undefined)).toBe('');
	});
});

describe('filters', () => {
	const ended = normalizeDelivery(ULTRAVOX);
	test.each([
		[{}, true],
		[{ agentIds: 'uv_agent_123' }, true],
		[{ agentIds: 'other, uv_agent_123' }, true],
		[{ agentIds: 'other' }, false],
		[{ statuses: ['ended'] }, true],
		[{ statuses: ['failed', 'cancelled'] }, false],
		[{ endReasons: ['hangup'] }, true],
		[{ endReasons: ['unjoined'] }, false],
		[{ statuses: ['ended'], endReasons: ['timeout'] }, false],
	])('%p matches: %p', (filters, matches) => {
		expect(filterMismatch(ended, filters) === undefined).toBe(matches);
	});

	test.each([
		[{ agentId: 'truedy_a', ultravoxAgentId: null }, 'truedy_a', true],
		[{ agentId: 'truedy_a', ultravoxAgentId: 'uv_a' }, 'uv_a', true],
		[{ agentId: null, ultravoxAgentId: 'uv_a' }, 'truedy_a', false],
		[{ agentId: null, ultravoxAgentId: null }, 'truedy_a', false],
	])(
		'agent IDs match the Truedy or the Ultravox agent: %p with %s → %p',
		(agents, filter, matches) => {
			expect(filterMismatch({ ...ended, ...agents }, { agentIds: filter }) === undefined).toBe(
				matches,
			);
		},
	);

	test('an agent not known yet is no mismatch while the call is still to be resolved', () => {
		expect(filterMismatch(ended, { agentIds: 'truedy_a' }, { agentPending: true })).toBeUndefined();
		expect(
			filterMismatch(ended, { agentIds: 'truedy_a', statuses: ['failed'] }, { agentPending: true }),
		).toMatch(/status ended/);
		const unresolved = {
			...ended,
			resolution: { resolved: false, method: null, reason: 'No Truedy API credential' },
		};
		expect(filterMismatch(unresolved, { agentIds: 'truedy_a' })).toBe(
			'Ultravox agent uv_agent_123 is not in the Agent IDs filter; its Truedy agent is unknown (No Truedy API credential)',
		);
		expect(filterMismatch({ ...ended, agentId: 'truedy_b' }, { agentIds: 'truedy_a' })).toBe(
			'agent truedy_b (Ultravox agent uv_agent_123) is not in the Agent IDs filter',
		);
	});

	test('status and end reason filters do not apply to call.started', () => {
		const started = normalizeDelivery({
			event: 'call.started',
			data: { call: { callId: 'c', agent: { agentId: 'a' } } },
		});
		expect(
			filterMismatch(started, { statuses: ['failed'], endReasons: ['unjoined'] }),
		).toBeUndefined();
		expect(filterMismatch(started, { agentIds: 'b' })).toMatch(/agent a/);
	});

	test('parseIdList', () => {
		expect(parseIdList(' a, b;c\nd  ')).toEqual(['a', 'b', 'c', 'd']);
		expect(parseIdList(undefined)).toEqual([]);
	});
});

describe('dedupe keys, in the documented order', () => {
	const raw = '{"x":1}';
	test.each([
		[{ data: { id: 'e1', eventId: 'e2', call: { callId: 'c' } } }, 'call.ended|event:e1'],
		[{ data: { eventId: 'e2', call_id: 'c' } }, 'call.ended|event:e2'],
		[{ id: 'top', data: { call_id: 'c' } }, 'call.ended|event:top'],
		[{ data: { call: { callId: 'c1' } } }, 'call.ended|call:c1'],
		[{ data: { call_id: 'c2' } }, 'call.ended|call:c2'],
		[{ data: { callId: 'c3' } }, 'call.ended|call:c3'],
		[{ data: { batch_id: 'b1', status: 'active' } }, 'call.ended|batch:b1:active'],
		[{ data: { batchId: 'b2' } }, 'call.ended|batch:b2:'],
		[{ data: { voice_id: 'v1' } }, 'call.ended|voice:v1'],
		[{ data: { voiceId: 'v2' } }, 'call.ended|voice:v2'],
		[{ data: {} }, `call.ended|body:${sha256Hex(raw)}`],
	])('%p → %s', (envelope, key) => {
		expect(deliveryKey(envelope, 'call.ended', raw)).toBe(key);
	});

	test('the body hash is over the exact bytes, Buffer or string', () => {
		expect(deliveryKey({}, 'x', Buffer.from(raw))).toBe(deliveryKey({}, 'x', raw));
	});

	test('very long IDs are hashed', () => {
		const key = deliveryKey({ data: { id: 'x'.repeat(500) } }, 'call.ended', raw);
		expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
	});
});

describe('enrichment decisions', () => {
	test('needsEnrichment', () => {
		expect(needsEnrichment(normalizeDelivery(ULTRAVOX))).toBe(true);
		expect(needsEnrichment(normalizeDelivery(FLAT))).toBe(false);
		expect(
			needsEnrichment(normalizeDelivery({ event: 'call.started', data: { call_id: 'c' } })),
		).toBe(false);
		expect(needsEnrichment(normalizeDelivery({ event: 'call.ended', data: {} }))).toBe(false);
	});

	test.each([
		[{ status: 'ended', transcript: null, duration_seconds: 40 }, true],
		[{ status: 'completed', transcript: [], duration_seconds: 40 }, true],
		[{ status: 'in_progress', transcript: null }, true],
		[{ status: 'ended', transcript: [{ text: 'hi' }] }, false],
		[{ status: 'failed', transcript: null }, false],
		[{ status: 'cancelled', transcript: null }, false],
		[{ status: 'ended', transcript: null, duration_seconds: 0 }, false],
		[{ status: 'ended', transcript: null, call_settings: { transcription_enabled: false } }, false],
	])('transcriptExpected(%p) = %p', (call, expected) => {
		expect(transcriptExpected(call as any)).toBe(expected);
	});

	test('mergeCall fills only what the webhook lacked and keeps the API call', () => {
		const merged = mergeCall(normalizeDelivery(ULTRAVOX), {
			id: 'uv_call_123',
			status: 'completed',
			agent_id: 'truedy_agent',
			summary: 'API summary',
			transcript: [{ speaker: 'agent', text: 'Hi' }],
			recording_url: 'https://rec',
			to_number: '+1',
		});
		expect(merged).toMatchObject({
			agentId: 'truedy_agent',
			ultravoxAgentId: 'uv_agent_123',
			summary: 'Long summary',
			status: 'ended',
			transcript: [{ speaker: 'agent', text: 'Hi' }],
			recordingUrl: 'https://rec',
			call: expect.objectContaining({
				phone_number: '+1',
				status: 'ended',
				api_status: 'completed',
			}),
		});
	});
});
