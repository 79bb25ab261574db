/**
 * Serves the Truedy Trigger's production webhook over real HTTP on 127.0.0.1, the way n8n's
 * webhook server does (n8n 2.41: live-webhooks → webhook-helpers.executeWebhook):
 *
 * - the raw request bytes are kept as `req.rawBody` (Buffer) and JSON bodies parsed into `req.body`;
 * - the workflow is loaded per request with its persisted static data, as n8n loads it from the DB;
 * - the node's `webhook()` runs in n8n-core's real WebhookContext;
 * - the answer follows the node's webhook description: `noWebhookResponse` → whatever the node
 *   wrote; no `workflowData` → the description's `responseCode` with `webhookResponse` (or
 *   "Webhook call received"); otherwise (`onReceived`) the execution is started and then the
 *   `responseCode` is sent;
 * - static data is saved after the answer if the node changed it, and at the end of an execution
 *   (which loads it at its start) if the execution changed it; saves commit one after another,
 *   each taking `saveLatencyMs` (a database that is behind);
 * - executions run through n8n's real engine (runWorkflow in ./engine) and are recorded.
 */
import { randomUUID } from 'crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import type { AddressInfo, Socket } from 'net';
import { ExecutionLifecycleHooks, WebhookContext } from 'n8n-core';
import {
	NodeHelpers,
	Workflow,
	type ICredentialDataDecryptedObject,
	type IConnections,
	type IDataObject,
	type IExecuteFunctions,
	type INode,
	type INodeExecutionData,
	type INodeParameters,
	type INodeType,
	type IRun,
	type IWebhookData,
	type IWebhookDescription,
	type IWebhookResponseData,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import {
	buildAdditionalData,
	PACKAGE,
	PackageNodeTypes,
	runWorkflow,
	TestCredentialsHelper,
} from './engine';

export const TRIGGER_NAME = 'Truedy Trigger';
export const AFTER_NAME = 'After Trigger';

/** A plain downstream step, so executions run past the trigger as in a real workflow. */
class Passthrough implements INodeType {
	description = {
		displayName: 'Passthrough',
		name: 'passthrough',
		group: ['transform'],
		version: 1,
		description: 'Returns its input',
		defaults: { name: 'Passthrough' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions) {
		return [this.getInputData()];
	}
}

export interface TriggerHarnessOptions {
	/** The trigger node's parameters (defaults are filled in by n8n's Workflow, as in n8n). */
	parameters?: INodeParameters;
	/** Test credentials by type, e.g. `{ truedyWebhookApi: { signingSecret } }`. */
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	mode?: WorkflowExecuteMode;
	workflowId?: string;
	/** Static data the workflow starts with (as saved in n8n's database). */
	staticData?: IDataObject;
	/** How long each save of the static data takes to commit, in order (0, the default: at once). */
	saveLatencyMs?: number;
}

export type RequestOutcome = 'rejected' | 'ignored' | 'started' | 'failed' | 'not_found';

export interface HandledRequest {
	status: number;
	outcome: RequestOutcome;
	headers: IncomingMessage['headers'];
	rawBody: Buffer;
	responseBody: string;
	/** ms from receiving the last byte to finishing the answer. */
	answeredInMs: number;
	/** Epoch ms the last byte was received, and the answer was ended (null: never). */
	receivedAt: number;
	answeredAt: number | null;
	error?: Error;
}

export interface TriggerExecution {
	run: IRun;
	/** Items the trigger emitted. */
	items: INodeExecutionData[];
	/** Items the downstream step received and passed on. */
	after: INodeExecutionData[];
	/** First item's JSON, for convenience. */
	json: IDataObject;
	status: IRun['status'];
}

export interface TriggerHarness {
	/** The production webhook URL to deliver to. */
	url: string;
	baseUrl: string;
	node: INode;
	workflowId: string;
	readonly executions: TriggerExecution[];
	readonly requests: HandledRequest[];
	/** The static data as n8n would have saved it (committed saves only). */
	readonly staticData: IDataObject;
	/** See {@link TriggerHarnessOptions.saveLatencyMs}; can be changed between deliveries. */
	saveLatencyMs: number;
	/** Resolves once `count` executions have finished (rejects after `timeoutMs`). */
	waitForExecutions(count: number, timeoutMs?: number): Promise<TriggerExecution[]>;
	/** Resolves when no request or execution is in flight. */
	idle(): Promise<void>;
	close(): Promise<void>;
}

type ExpressLikeResponse = ServerResponse & {
	status(code: number): ExpressLikeResponse;
	json(body: unknown): ExpressLikeResponse;
	send(body?: unknown): ExpressLikeResponse;
};

function expressLikeResponse(res: ServerResponse): ExpressLikeResponse {
	const r = res as ExpressLikeResponse;
	r.status = (code: number) => {
		if (!Number.isInteger(code))
			throw new TypeError(`Invalid status code: ${JSON.stringify(code)}`);
		res.statusCode = code;
		return r;
	};
	r.json = (body: unknown) => {
		if (!res.headersSent) res.setHeader('Content-Type', 'application/json; charset=utf-8');
		res.end(JSON.stringify(body));
		return r;
	};
	r.send = (body?: unknown) => {
		if (body === undefined) res.end();
		else if (typeof body === 'string' || Buffer.isBuffer(body)) res.end(body);
		else return r.json(body);
		return r;
	};
	return r;
}

function readRaw(req: IncomingMessage): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

function clone<T>(value: T): T {
	return JSON.parse(JSON.stringify(value ?? {}));
}

export async function startTriggerHarness(
	options: TriggerHarnessOptions = {},
): Promise<TriggerHarness> {
	const nodeTypes = new PackageNodeTypes({ 'test.passthrough': new Passthrough() });
	const triggerType = nodeTypes.getByName(`${PACKAGE}.truedyTrigger`);
	const description = triggerType.description.webhooks![0] as IWebhookDescription;
	const workflowId = options.workflowId ?? `wf-${randomUUID()}`;
	const mode = options.mode ?? 'webhook';
	const credentials = options.credentials ?? {};

	const node: INode = {
		id: `trigger-${randomUUID()}`,
		name: TRIGGER_NAME,
		type: `${PACKAGE}.truedyTrigger`,
		typeVersion: 1,
		position: [0, 0],
		webhookId: randomUUID(),
		parameters: options.parameters ?? {},
		credentials: Object.fromEntries(
			Object.keys(credentials).map((type) => [
				type,
				{ id: `cred-${type}`, name: `${type} (test)` },
			]),
		),
	};
	const after: INode = {
		id: 'after-node',
		name: AFTER_NAME,
		type: 'test.passthrough',
		typeVersion: 1,
		position: [200, 0],
		parameters: {},
	};
	const connections: IConnections = {
		[TRIGGER_NAME]: { main: [[{ node: AFTER_NAME, type: 'main', index: 0 }]] },
	} as IConnections;

	const executions: TriggerExecution[] = [];
	const requests: HandledRequest[] = [];
	const inFlight = new Set<Promise<unknown>>();
	const executionWaiters: Array<() => void> = [];
	let savedStaticData: IDataObject = clone(options.staticData ?? {});
	let saveLatencyMs = options.saveLatencyMs ?? 0;
	let commits: Promise<void> = Promise.resolve();
	/** Saves `staticData` if it changed: serialized now, committed after the saves before it. */
	const saveIfChanged = (staticData: IDataObject) => {
		if (staticData.__dataChanged !== true) return;
		const snapshot = clone(staticData);
		if (saveLatencyMs === 0) {
			savedStaticData = snapshot;
			return;
		}
		const latency = saveLatencyMs;
		commits = track(
			commits
				.then(() => new Promise((resolve) => setTimeout(resolve, latency)))
				.then(() => {
					savedStaticData = snapshot;
				}),
		);
	};
	const sockets = new Set<Socket>();
	let baseUrl = '';
	let webhookPath = '';

	const track = <T>(promise: Promise<T>): Promise<T> => {
		inFlight.add(promise);
		void promise.then(
			() => inFlight.delete(promise),
			() => inFlight.delete(promise),
		);
		return promise;
	};

	const loadWorkflow = () =>
		new Workflow({
			id: workflowId,
			name: 'Truedy Trigger test',
			nodes: [clone(node), clone(after)],
			connections,
			nodeTypes,
			active: true,
			staticData: clone(savedStaticData),
			settings: { executionOrder: 'v1' },
		});

	async function startExecution(items: INodeExecutionData[]): Promise<void> {
		const result = await runWorkflow({
			nodes: [clone(node), clone(after)],
			connections,
			items,
			credentials,
			mode,
			nodeTypes,
			workflowId,
			staticData: clone(savedStaticData),
		});
		saveIfChanged(result.staticData);
		const { run } = result;
		const emitted = run.data.resultData.runData[TRIGGER_NAME]?.[0]?.data?.main?.[0] ?? [];
		const passed = run.data.resultData.runData[AFTER_NAME]?.[0]?.data?.main?.[0] ?? [];
		executions.push({
			run,
			items: emitted,
			after: passed,
			json: emitted[0]?.json ?? {},
			status: run.status,
		});
		for (const wake of executionWaiters.splice(0)) wake();
	}

	async function handle(req: IncomingMessage, rawRes: ServerResponse): Promise<void> {
		const res = expressLikeResponse(rawRes);
		const rawBody = await readRaw(req);
		const received = Date.now();
		const record = (outcome: RequestOutcome, responseBody: string, error?: Error) => {
			requests.push({
				status: res.statusCode,
				outcome,
				headers: req.headers,
				rawBody,
				responseBody,
				answeredInMs: Date.now() - received,
				receivedAt: received,
				answeredAt,
				...(error ? { error } : {}),
			});
		};
		let written = '';
		let answeredAt: number | null = null;
		const end = rawRes.end.bind(rawRes);
		(rawRes as any).end = (chunk?: any, ...rest: any[]) => {
			answeredAt ??= Date.now();
			if (chunk !== undefined && typeof chunk !== 'function')
				written += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
			return end(chunk, ...rest);
		};

		const url = new URL(req.url ?? '/', baseUrl);
		if (req.method !== 'POST' || url.pathname !== webhookPath) {
			res.status(404).json({ code: 404, message: 'The requested webhook is not registered.' });
			record('not_found', written);
			return;
		}

		// What n8n's body parser does: keep the raw bytes, parse JSON into `body`.
		const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
		const request = req as IncomingMessage & IDataObject;
		request.rawBody = rawBody;
		request.contentType = contentType;
		request.body = {};
		if (contentType === 'application/json' && rawBody.length > 0) {
			try {
				request.body = JSON.parse(rawBody.toString('utf8'));
			} catch {
				res.status(400).json({ message: 'Failed to parse request body' });
				record('rejected', written);
				return;
			}
		}
		request.query = Object.fromEntries(url.searchParams);
		request.params = {};

		const workflow = loadWorkflow();
		const workflowNode = workflow.getNode(TRIGGER_NAME)!;
		const executionId = `webhook-${randomUUID()}`;
		const hooks = new ExecutionLifecycleHooks(mode, executionId, {
			id: workflowId,
			nodes: [],
			connections: {},
		} as any);
		const additionalData = buildAdditionalData(
			new TestCredentialsHelper(credentials),
			hooks,
			executionId,
		);
		Object.assign(additionalData, {
			httpRequest: request,
			httpResponse: res,
			webhookBaseUrl: `${baseUrl}/webhook`,
			webhookTestBaseUrl: `${baseUrl}/webhook-test`,
		});
		const webhookData: IWebhookData = {
			httpMethod: 'POST',
			node: TRIGGER_NAME,
			path: description.path,
			webhookDescription: description,
			workflowId,
			isTest: mode === 'manual',
			webhookId: node.webhookId,
			workflowExecuteAdditionalData: additionalData,
		};
		const context = new WebhookContext(
			workflow,
			workflowNode,
			additionalData,
			mode,
			webhookData,
			[],
			null,
		);
		const responseCode = workflow.expression.getSimpleParameterValue(
			workflowNode,
			description.responseCode as string | undefined,
			mode,
			{},
			undefined,
			200,
		) as number;

		const saveStaticData = () => saveIfChanged(workflow.staticData as IDataObject);
		const answer = (code: number, body: unknown) => {
			if (rawRes.headersSent || rawRes.writableEnded) return;
			res.status(code).json(body);
		};

		let result: IWebhookResponseData;
		try {
			result = await triggerType.webhook!.call(context);
		} catch (error) {
			// n8n answers 500 and records a failed execution.
			answer(500, { code: 0, message: 'Workflow Webhook Error: Workflow could not be started!' });
			record('failed', written, error as Error);
			return;
		}

		if (result.noWebhookResponse === true) saveStaticData();
		if (result.workflowData === undefined) {
			if (result.noWebhookResponse !== true) {
				answer(
					responseCode,
					result.webhookResponse !== undefined
						? result.webhookResponse
						: { message: 'Webhook call received' },
				);
				saveStaticData();
			}
			record(res.statusCode === 401 || res.statusCode === 400 ? 'rejected' : 'ignored', written);
			return;
		}

		void track(startExecution(result.workflowData[0] ?? []));
		if (result.noWebhookResponse !== true) {
			answer(
				responseCode,
				result.webhookResponse !== undefined
					? result.webhookResponse
					: { message: 'Workflow was started' },
			);
			saveStaticData();
		}
		record('started', written);
	}

	const server: Server = createServer((req, res) => {
		void track(
			handle(req, res).catch((error) => {
				if (!res.headersSent) {
					res.statusCode = 500;
					res.end(String(error?.stack ?? error));
				}
			}),
		);
	});
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	const url = NodeHelpers.getNodeWebhookUrl(
		`${baseUrl}/webhook`,
		workflowId,
		node,
		description.path,
		false,
	);
	webhookPath = new URL(url).pathname;

	async function idle(): Promise<void> {
		while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
	}

	return {
		url,
		baseUrl,
		node,
		workflowId,
		executions,
		requests,
		get staticData() {
			return savedStaticData;
		},
		get saveLatencyMs() {
			return saveLatencyMs;
		},
		set saveLatencyMs(ms: number) {
			saveLatencyMs = ms;
		},
		async waitForExecutions(count: number, timeoutMs = 5000) {
			const deadline = Date.now() + timeoutMs;
			while (executions.length < count) {
				const remaining = deadline - Date.now();
				if (remaining <= 0)
					throw new Error(`Expected ${count} executions, got ${executions.length}`);
				await new Promise<void>((resolve) => {
					const timer = setTimeout(resolve, Math.min(remaining, 50));
					executionWaiters.push(() => {
						clearTimeout(timer);
						resolve();
					});
				});
			}
			return executions.slice(0, count);
		},
		idle,
		async close() {
			await idle();
			const closed = new Promise<void>((resolve) => server.close(() => resolve()));
			for (const socket of sockets) socket.destroy();
			server.closeAllConnections?.();
			await closed;
		},
	};
}
