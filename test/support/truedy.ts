/**
 * Running the Truedy node: Start → Truedy through n8n's real engine (support/engine.ts) with
 * the simulator's credential, and reading what it did, from its output and from the simulator's
 * request log.
 */
import type { IDataObject, INode, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import type { RecordedRequest, TruedySimulator } from '../simulator/server';
import { runWorkflow, singleNodeWorkflow, type RunResult } from './engine';

/** The Truedy node's name in every workflow these helpers build. */
export const NODE = 'Truedy';

export interface TruedyRun {
	/** The node's parameters, `resource` and `operation` included (see placeCall). */
	parameters: INodeParameters | IDataObject;
	/** Items the Start node emits (default: one empty item). */
	items?: INodeExecutionData[];
	/** Node settings such as onError, retryOnFail, maxTries, waitBetweenTries, rewireOutputLogTo. */
	settings?: Partial<INode> & IDataObject;
	/** The credential's API key and base URL (default: the simulator's). */
	apiKey?: string;
	baseUrl?: string;
	executionId?: string;
	/** Lets a test cancel the run, as n8n's Stop button does. */
	onStarted?: (cancel: () => void) => void;
}

/** Runs Start → Truedy through WorkflowExecute against the simulator. */
export async function runTruedy(sim: TruedySimulator, run: TruedyRun): Promise<RunResult> {
	return await runWorkflow({
		...singleNodeWorkflow({
			parameters: run.parameters as INodeParameters,
			...(run.settings as Partial<INode>),
		}),
		items: run.items,
		executionId: run.executionId,
		onStarted: run.onStarted,
		credentials: {
			truedyApi: { apiKey: run.apiKey ?? sim.apiKey, baseUrl: run.baseUrl ?? sim.baseUrl },
		},
	});
}

export type PlaceCallRun = TruedyRun & { parameters: INodeParameters };

/**
 * Runs Call › Place Call one call at a time unless the test says otherwise (options.concurrency),
 * so request order is item order.
 */
export async function runPlaceCall(sim: TruedySimulator, run: PlaceCallRun): Promise<RunResult> {
	const options = { concurrency: 1, ...(run.parameters.options as IDataObject | undefined) };
	return await runTruedy(sim, { ...run, parameters: placeCall({ ...run.parameters, options }) });
}

/** Call › Place Call parameters. */
export function placeCall(parameters: IDataObject = {}): INodeParameters {
	return { resource: 'call', operation: 'place', ...parameters } as INodeParameters;
}

/** A resource-locator value for the Agent field (an ID or an expression). */
export function agentById(id: string) {
	return { __rl: true, mode: 'id', value: id };
}

export function items(...jsons: IDataObject[]): INodeExecutionData[] {
	return jsons.map((json) => ({ json }));
}

/** Output JSONs of the Truedy node. */
export function outputJson(result: RunResult): IDataObject[] {
	return result.output(NODE).map((item) => item.json);
}

/** Everything the run recorded, as one string (for "the key never leaks" checks). */
export function runText(result: RunResult): string {
	const error = result.nodeError(NODE);
	return [
		JSON.stringify(result.run),
		error
			? JSON.stringify({ ...error, message: error.message, description: error.description })
			: '',
	].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The simulator's request log

/** API requests the simulator received with this method and path, in order. */
export function apiRequests(
	sim: TruedySimulator,
	method: string,
	path: string | RegExp,
): RecordedRequest[] {
	return sim.requests.filter(
		(r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
	);
}

/** The POST /calls requests, in order. */
export function callRequests(sim: TruedySimulator): RecordedRequest[] {
	return apiRequests(sim, 'POST', '/calls');
}

/**
 * Status checks, optionally of one call: its `GET /calls/{id}` and every `GET /calls` list read
 * (Wait for Call to End reads one list for all the calls it follows).
 */
export function pollsOf(sim: TruedySimulator, callId?: string): RecordedRequest[] {
	return apiRequests(
		sim,
		'GET',
		callId ? new RegExp(`^/calls(/${callId})?$`) : /^\/calls(\/[^/]+)?$/,
	);
}

/** `GET /calls/{id}` reads only, optionally of one call. */
export function callReadsOf(sim: TruedySimulator, callId?: string): RecordedRequest[] {
	return apiRequests(sim, 'GET', callId ? `/calls/${callId}` : /^\/calls\/[^/]+$/);
}

/** `GET /calls` list reads. */
export function listReadsOf(sim: TruedySimulator): RecordedRequest[] {
	return apiRequests(sim, 'GET', '/calls');
}

export function idempotencyKeyOf(request: RecordedRequest): string | undefined {
	return request.headers['x-idempotency-key'];
}

/** Calls in the simulator, counted by destination number. */
export function callsPerNumber(sim: TruedySimulator): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const call of sim.calls.values()) counts[call.to] = (counts[call.to] ?? 0) + 1;
	return counts;
}

/** Creates a call the way any client would (real HTTP POST /calls) and returns its id. */
export async function createCall(sim: TruedySimulator, body: IDataObject): Promise<string> {
	const response = await fetch(`${sim.baseUrl}/calls`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sim.apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	const payload = (await response.json()) as IDataObject;
	if (response.status !== 201)
		throw new Error(`POST /calls answered ${response.status}: ${JSON.stringify(payload)}`);
	const call = (payload.data ?? payload) as IDataObject;
	return String(call.id);
}
