/* eslint-disable */
/**
 * Helpers for the follow-call suites: run any Truedy operation through n8n's real engine
 * against the simulator, create calls over real HTTP, and read the simulator's request log.
 */
import type { IDataObject, INode, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { runWorkflow, singleNodeWorkflow, type RunResult } from '../support/engine';
import type { RecordedRequest, TruedySimulator } from '../simulator/server';

export const NODE = 'Truedy';

export interface TruedyRun {
	parameters: IDataObject;
	items?: INodeExecutionData[];
	/** Node settings such as onError, or rewireOutputLogTo. */
	settings?: Partial<INode> & IDataObject;
	onStarted?: (cancel: () => void) => void;
}

/** Runs Start → Truedy through WorkflowExecute with the simulator's credential. */
export async function runTruedy(sim: TruedySimulator, run: TruedyRun): Promise<RunResult> {
	return await runWorkflow({
		...singleNodeWorkflow({ parameters: run.parameters as INodeParameters, ...(run.settings as Partial<INode>) }),
		items: run.items,
		onStarted: run.onStarted,
		credentials: { truedyApi: { apiKey: sim.apiKey, baseUrl: sim.baseUrl } },
	});
}

/** Output JSONs of the Truedy node. */
export function outputJson(result: RunResult): IDataObject[] {
	return result.output(NODE).map((item) => item.json);
}

/** Creates a call the way a client would (real HTTP POST /calls) and returns its id. */
export async function createCall(sim: TruedySimulator, body: IDataObject): Promise<string> {
	const response = await fetch(`${sim.baseUrl}/calls`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sim.apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	const payload = (await response.json()) as IDataObject;
	if (response.status !== 201) throw new Error(`POST /calls answered ${response.status}: ${JSON.stringify(payload)}`);
	const call = (payload.data ?? payload) as IDataObject;
	return String(call.id);
}

/** Requests the node made, excluding the ones the test itself made with `createCall`. */
export function apiRequests(sim: TruedySimulator, method: string, path: string | RegExp): RecordedRequest[] {
	return sim.requests.filter(
		(r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
	);
}

/** GET /calls/{id} polls, optionally for one call. */
export function pollsOf(sim: TruedySimulator, callId?: string): RecordedRequest[] {
	return apiRequests(sim, 'GET', callId ? `/calls/${callId}` : /^\/calls\/[^/]+$/);
}

/** Distinct valid E.164 test numbers: +14155552000, +14155552001, ... */
export function number(i: number): string {
	return `+1415555${String(2000 + i).padStart(4, '0')}`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
