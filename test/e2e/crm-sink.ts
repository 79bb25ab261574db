/* eslint-disable */
/**
 * A stand-in CRM for the example workflows (demo and end-to-end tests): a tiny HTTP server on
 * 127.0.0.1 that records what the "Log … in CRM" HTTP Request nodes post. It used to live inside
 * the Truedy simulator as `/__sim/crm`; it is not part of Truedy's API, so it is its own server now.
 *
 * - `POST /crm` (also `POST /__sim/crm`, the path the examples used) with a JSON object: recorded
 *   with `receivedAt`, answered `201 {data: record}`.
 * - `GET /crm` (also `/__sim/crm`): `{data: records}`.
 */
import { createServer } from 'http';
import type { AddressInfo, Socket } from 'net';

export interface CrmSink {
	/** e.g. `http://127.0.0.1:40123`; post to `${url}/crm`. */
	url: string;
	/** Everything posted since start or the last reset(), in order. */
	readonly records: Array<Record<string, unknown>>;
	reset(): void;
	close(): Promise<void>;
}

const PATHS = new Set(['/crm', '/__sim/crm']);

export async function startCrmSink(port = 0): Promise<CrmSink> {
	const records: Array<Record<string, unknown>> = [];
	const sockets = new Set<Socket>();
	const send = (res: import('http').ServerResponse, status: number, payload: unknown) => {
		const body = JSON.stringify(payload);
		res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
		res.end(body);
	};
	const server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
			if (!PATHS.has(path)) return send(res, 404, { error: { code: 'not_found', message: `No route ${req.method} ${path}` } });
			if (req.method === 'GET') return send(res, 200, { data: records });
			if (req.method !== 'POST') return send(res, 405, { error: { code: 'method_not_allowed', message: 'GET or POST' } });
			let body: unknown;
			try {
				body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
			} catch (e) {
				return send(res, 400, { error: { code: 'bad_request', message: `Malformed JSON: ${(e as Error).message}` } });
			}
			if (typeof body !== 'object' || body === null || Array.isArray(body)) {
				return send(res, 400, { error: { code: 'bad_request', message: 'Body must be a JSON object' } });
			}
			const record = { ...(body as Record<string, unknown>), receivedAt: new Date().toISOString() };
			records.push(record);
			send(res, 201, { data: record });
		});
	});
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => resolve());
	});
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	let closed = false;
	return {
		url,
		records,
		reset: () => void (records.length = 0),
		close: async () => {
			if (closed) return;
			closed = true;
			const done = new Promise<void>((resolve) => server.close(() => resolve()));
			for (const s of sockets) s.destroy();
			await done;
		},
	};
}
