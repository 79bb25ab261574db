/* eslint-disable */
/**
 * Helpers for the Place Call and picker tests: run the Truedy node through n8n's real engine
 * against the simulator, build a real n8n-core LoadOptionsContext, and a tiny fault-injecting
 * HTTP proxy that sits between the node and the simulator (real HTTP on both legs).
 */
import { createServer, request as httpRequest, IncomingMessage, Server } from 'http';
import type { AddressInfo, Socket } from 'net';
import { ExecutionLifecycleHooks, LoadOptionsContext } from 'n8n-core';
import { Workflow, type IDataObject, type INode, type INodeExecutionData, type INodeParameters } from 'n8n-workflow';

import {
	PACKAGE,
	PackageNodeTypes,
	TestCredentialsHelper,
	buildAdditionalData,
	runWorkflow,
	singleNodeWorkflow,
	type RunResult,
} from './engine';
import type { RecordedRequest, TruedySimulator } from '../simulator/server';

export const NODE = 'Truedy';

/** A resource-locator value for the Agent field. */
export function agentById(id: string) {
	return { __rl: true, mode: 'id', value: id };
}

export function items(...jsons: IDataObject[]): INodeExecutionData[] {
	return jsons.map((json) => ({ json }));
}

export interface PlaceCallRun {
	parameters: INodeParameters;
	items?: INodeExecutionData[];
	/** Node settings such as onError, retryOnFail, maxTries, waitBetweenTries. */
	settings?: Partial<INode>;
	apiKey?: string;
	baseUrl?: string;
	executionId?: string;
}

/** Runs Start → Truedy (Call › Place Call) through WorkflowExecute. */
export async function runPlaceCall(sim: TruedySimulator, run: PlaceCallRun): Promise<RunResult> {
	return await runWorkflow({
		...singleNodeWorkflow({
			parameters: {
				resource: 'call',
				operation: 'place',
				...run.parameters,
				// One call at a time unless a test says otherwise, so request order is item order;
				// test/place-call/concurrency.test.ts covers concurrent runs.
				options: { concurrency: 1, ...(run.parameters.options as IDataObject | undefined) },
			},
			...run.settings,
		}),
		items: run.items,
		executionId: run.executionId,
		credentials: { truedyApi: { apiKey: run.apiKey ?? sim.apiKey, baseUrl: run.baseUrl ?? sim.baseUrl } },
	});
}

/** The POST /calls requests the simulator received, in order. */
export function callRequests(sim: TruedySimulator): RecordedRequest[] {
	return sim.requests.filter((r) => r.method === 'POST' && r.path === '/calls');
}

export function idempotencyKeyOf(request: RecordedRequest): string | undefined {
	return request.headers['x-idempotency-key'];
}

/** Calls in the simulator, grouped by destination number. */
export function callsPerNumber(sim: TruedySimulator): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const call of sim.calls.values()) counts[call.to] = (counts[call.to] ?? 0) + 1;
	return counts;
}

/** Everything the run recorded, as one string (for "the key never leaks" checks). */
export function runText(result: RunResult): string {
	const error = result.nodeError(NODE);
	return [
		JSON.stringify(result.run),
		error ? JSON.stringify({ ...error, message: error.message, description: error.description }) : '',
	].join('\n');
}

/** Distinct valid E.164 test numbers: +14155551000, +14155551001, ... */
export function usNumber(i: number): string {
	return `+1415555${String(1000 + i).padStart(4, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// LoadOptionsContext: the same context n8n builds for list searches and loadOptions requests.

export interface LoadOptionsSetup {
	apiKey: string;
	baseUrl: string;
	/** The node's current parameters as the editor would send them. */
	parameters?: INodeParameters;
	/** Parameter path the request is for, e.g. 'parameters.agent'. */
	path?: string;
}

/**
 * Builds n8n-core's real LoadOptionsContext the way n8n's DynamicNodeParametersService does:
 * a temporary workflow holding just this node, additionalData with currentNodeParameters,
 * and the credential resolved through the credentials helper, so requests go through the real
 * httpRequestWithAuthentication.
 */
export function loadOptionsContext(setup: LoadOptionsSetup): LoadOptionsContext {
	const nodeTypes = new PackageNodeTypes();
	const parameters: INodeParameters = { resource: 'call', operation: 'place', ...setup.parameters };
	const node: INode = {
		id: 'temp-node-id',
		name: 'Temp-Node',
		type: `${PACKAGE}.truedy`,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		credentials: { truedyApi: { id: 'cred-1', name: 'Truedy account' } },
	};
	const workflow = new Workflow({
		id: 'load-options-workflow',
		nodes: [node],
		connections: {},
		nodeTypes,
		active: false,
	});
	const executionId = 'load-options';
	const hooks = new ExecutionLifecycleHooks('internal', executionId, {
		id: 'load-options-workflow',
		name: 'load options',
		active: false,
		nodes: [node],
		connections: {},
		isArchived: false,
		createdAt: new Date(),
		updatedAt: new Date(),
	} as any);
	const additionalData = buildAdditionalData(
		new TestCredentialsHelper({ truedyApi: { apiKey: setup.apiKey, baseUrl: setup.baseUrl } }),
		hooks,
		executionId,
	);
	additionalData.currentNodeParameters = parameters;
	return new LoadOptionsContext(workflow, workflow.getNode(node.name)!, additionalData, setup.path ?? 'parameters.agent');
}

// ---------------------------------------------------------------------------------------------
// Fault proxy: forwards to the simulator, and can break chosen responses after the simulator
// has already handled them (the call exists, the client sees a failure).

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
