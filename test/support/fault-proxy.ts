/**
 * A tiny fault-injecting HTTP proxy between the node and the simulator (real HTTP on both legs):
 * it forwards every request, and can break chosen responses after the simulator has handled them
 * (the call exists, the client sees a failure).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'http';
import type { AddressInfo, Socket } from 'net';

import type { TruedySimulator } from '../simulator/server';

export type Fault = 'status500' | 'dropConnection';

export interface FaultProxy {
	url: string;
	/** Base URL to give the credential (same path as the simulator's). */
	baseUrl: string;
	/** Requests the proxy broke, in order. */
	broken: Array<{ method: string; path: string; fault: Fault }>;
	close(): Promise<void>;
}

/**
 * `decide(method, path, n)` is asked for every request (n = 1-based count of requests with the
 * same method and path); returning a fault breaks that response after forwarding it.
 */
export async function startFaultProxy(
	sim: TruedySimulator,
	decide: (method: string, path: string, n: number) => Fault | undefined,
): Promise<FaultProxy> {
	const target = new URL(sim.url);
	const counts = new Map<string, number>();
	const sockets = new Set<Socket>();
	const broken: FaultProxy['broken'] = [];

	const server: Server = createServer((req: IncomingMessage, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const method = req.method ?? 'GET';
			const path = new URL(req.url ?? '/', 'http://proxy').pathname;
			const key = `${method} ${path}`;
			const n = (counts.get(key) ?? 0) + 1;
			counts.set(key, n);
			const fault = decide(method, path, n);
			const upstream = httpRequest(
				{
					host: target.hostname,
					port: target.port,
					method,
					path: req.url,
					headers: { ...req.headers, host: target.host, connection: 'close' },
					agent: false,
				},
				(up) => {
					const body: Buffer[] = [];
					up.on('data', (c: Buffer) => body.push(c));
					up.on('end', () => {
						if (fault) broken.push({ method, path, fault });
						if (fault === 'dropConnection') {
							req.socket.destroy();
							return;
						}
						if (fault === 'status500') {
							res.writeHead(500, { 'Content-Type': 'application/json' });
							res.end(
								JSON.stringify({
									error: { code: 'internal_error', message: 'Upstream timeout' },
									meta: { request_id: 'req_proxy_500', ts: new Date().toISOString() },
								}),
							);
							return;
						}
						res.writeHead(up.statusCode ?? 502, up.headers);
						res.end(Buffer.concat(body));
					});
				},
			);
			upstream.on('error', () => {
				res.writeHead(502);
				res.end();
			});
			upstream.end(Buffer.concat(chunks));
		});
	});
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	const url = `http://127.0.0.1:${port}`;
	return {
		url,
		baseUrl: url + new URL(sim.baseUrl).pathname,
		broken,
		close: () =>
			new Promise<void>((resolve) => {
				for (const s of sockets) s.destroy();
				server.closeAllConnections?.();
				server.close(() => resolve());
			}),
	};
}
