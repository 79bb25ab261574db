// transport/request.ts: reading Truedy's response envelope, and the credential's base URL.
import { normalizeBaseUrl, unwrapEnvelope } from '../../../../nodes/Truedy/transport/request';

describe('unwrapEnvelope', () => {
	test('envelope with one object: data and request ID', () => {
		const call = { id: 'call_1', status: 'queued' };
		expect(
			unwrapEnvelope({ data: call, meta: { request_id: 'req_abc', ts: '2026-01-01T00:00:00Z' } }),
		).toEqual({
			data: call,
			requestId: 'req_abc',
			pagination: undefined,
		});
	});

	test('envelope with meta.timestamp instead of meta.ts', () => {
		expect(
			unwrapEnvelope({ data: { id: 'x' }, meta: { request_id: 'req_1', timestamp: 'now' } }),
		).toMatchObject({
			data: { id: 'x' },
			requestId: 'req_1',
		});
	});

	test('list with a pagination object', () => {
		expect(
			unwrapEnvelope({
				data: [{ id: 'a' }],
				meta: { request_id: 'req_2' },
				pagination: { total: 120, limit: 50, offset: 50, has_more: true },
			}),
		).toEqual({
			data: [{ id: 'a' }],
			requestId: 'req_2',
			pagination: { total: 120, limit: 50, offset: 50, hasMore: true },
		});
	});

	test('list with pagination fields inside meta', () => {
		expect(
			unwrapEnvelope({
				data: [],
				meta: { request_id: 'req_3', total: 2, limit: 50, offset: 0, has_more: false },
			}),
		).toEqual({
			data: [],
			requestId: 'req_3',
			pagination: { total: 2, limit: 50, offset: 0, hasMore: false },
		});
	});

	test('list without meta (bare list envelope) and without has_more', () => {
		expect(unwrapEnvelope({ data: [1], pagination: { total: 1 } })).toEqual({
			data: [1],
			requestId: undefined,
			pagination: { total: 1, limit: undefined, offset: undefined, hasMore: false },
		});
	});

	test('bare objects and arrays are returned as they are', () => {
		const call = { id: 'call_1', status: 'queued', variables: {} };
		expect(unwrapEnvelope(call)).toEqual({ data: call });
		expect(unwrapEnvelope([call])).toEqual({ data: [call] });
	});

	test('an object with a "data" field among other fields is not an envelope', () => {
		const body = { id: 'evt_1', data: { x: 1 }, type: 'call.ended' };
		expect(unwrapEnvelope(body)).toEqual({ data: body });
	});

	test('empty bodies', () => {
		expect(unwrapEnvelope(undefined)).toEqual({ data: undefined });
		expect(unwrapEnvelope(null)).toEqual({ data: null });
		expect(unwrapEnvelope('')).toEqual({ data: '' });
		expect(unwrapEnvelope({ data: null })).toMatchObject({ data: null });
	});
});

describe('normalizeBaseUrl', () => {
	test.each([
		[undefined, 'https://api.truedy.ai/api/public/v1'],
		['', 'https://api.truedy.ai/api/public/v1'],
		['https://api.truedy.ai/api/public/v1/', 'https://api.truedy.ai/api/public/v1'],
		['  http://127.0.0.1:4010/api/public/v1//  ', 'http://127.0.0.1:4010/api/public/v1'],
	])('%j → %s', (input, expected) => {
		expect(normalizeBaseUrl(input)).toBe(expected);
	});
});
