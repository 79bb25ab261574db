/**
 * Small helpers shared by the end-to-end test files (polling, timings, reading executions).
 */
import { SIM_AGENTS } from '../simulator/server';
import type { DeliveryRecord, SimCall, TruedySimulator } from '../simulator/server';
import type { ExecutionSummary, N8nServer } from './n8n-server';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns a truthy value (which is returned) or `timeoutMs` passes (then
 * throws, naming `what` and the last value or error seen).
 */
export async function eventually<T>(
	what: string,
	probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
	timeoutMs = 30_000,
	intervalMs = 200,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			const value = await probe();
			if (value) return value;
			last = value;
		} catch (error) {
			last = error;
		}
		if (Date.now() >= deadline) {
			const detail = last instanceof Error ? last.message : JSON.stringify(last);
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
		}
		await sleep(intervalMs);
	}
}

/** Wall-clock timings of named steps, printed by `printTimings` in afterAll. */
export class Timings {
	private readonly entries: Array<[string, number]> = [];
	private readonly started = Date.now();

	async time<T>(label: string, work: () => Promise<T>): Promise<T> {
		const started = Date.now();
		try {
			return await work();
		} finally {
			this.entries.push([label, Date.now() - started]);
		}
	}

	print(file: string): void {
		const lines = this.entries.map(
			([label, ms]) => `  ${label.padEnd(48)} ${(ms / 1000).toFixed(1)} s`,
		);
		process.stderr.write(
			`[e2e timings] ${file} (${((Date.now() - this.started) / 1000).toFixed(1)} s in this file)\n${lines.join('\n')}\n`,
		);
	}
}

/** Progress lines of the harness, prefixed so they are easy to find in jest's output. */
export function e2eLog(prefix: string): (line: string) => void {
	return (line: string) => process.stderr.write(`[${prefix}] ${line}\n`);
}

/** The first item the Truedy Trigger node emitted in an execution (fetched with its data). */
export function triggerItem(
	execution: ExecutionSummary,
	nodeName = 'Truedy Trigger',
): Record<string, any> | undefined {
	return (execution as any).data?.resultData?.runData?.[nodeName]?.[0]?.data?.main?.[0]?.[0]?.json;
}

/** Executions of the workflow, any status (running ones included), as listed by the public API. */
export async function executionIds(n8n: N8nServer, workflowId: string): Promise<string[]> {
	return (await n8n.listExecutions(workflowId)).map((execution) => execution.id);
}

/** Ids of every execution of the workflow right now: the "before" of a no-execution proof. */
export async function executionBaseline(n8n: N8nServer, workflowId: string): Promise<Set<string>> {
	return new Set(await executionIds(n8n, workflowId));
}

/** Places a call through the simulator's public API, the way any Truedy client would. */
export async function placeSimulatorCall(
	simulator: TruedySimulator,
	phone = '+14155550123',
): Promise<SimCall> {
	const response = await fetch(`${simulator.baseUrl}/calls`, {
		method: 'POST',
		headers: { authorization: `Bearer ${simulator.apiKey}`, 'content-type': 'application/json' },
		body: JSON.stringify({
			agent_id: SIM_AGENTS.active,
			phone_number: phone,
			variables: { first_name: 'Sarah' },
		}),
	});
	if (response.status !== 201)
		throw new Error(`POST /calls: HTTP ${response.status} ${await response.text()}`);
	const { data } = (await response.json()) as { data: { id: string } };
	return simulator.calls.get(data.id)!;
}

/** The simulator's first delivery of `event` for a call, once the receiver has answered it. */
export function deliveryFor(
	simulator: TruedySimulator,
	callId: string,
	event = 'call.ended',
): Promise<DeliveryRecord> {
	return eventually(`the simulator's ${event} delivery for ${callId}`, () =>
		simulator.webhookDeliveries.find(
			(delivery) => delivery.callId === callId && delivery.event === event,
		),
	);
}

/** Places a call and ends it at once (the simulator then delivers a signed call.ended). */
export async function placeAndEndCall(
	simulator: TruedySimulator,
): Promise<{ call: SimCall; delivery: DeliveryRecord }> {
	const call = await placeSimulatorCall(simulator);
	simulator.endCall(call.id);
	return { call, delivery: await deliveryFor(simulator, call.id) };
}

/** Waits until `count` executions not in `since` have finished; returns them with their data. */
export async function newExecutions(
	n8n: N8nServer,
	workflowId: string,
	since: Set<string>,
	count: number,
	timeoutMs = 30_000,
): Promise<ExecutionSummary[]> {
	const finished = await eventually(
		`${count} new finished execution(s) of ${workflowId}`,
		async () => {
			const fresh = (await n8n.listExecutions(workflowId)).filter(
				(execution) => !since.has(execution.id),
			);
			const done = fresh.filter(
				(execution) => !['new', 'running', 'waiting'].includes(execution.status),
			);
			return done.length >= count ? done : undefined;
		},
		timeoutMs,
		300,
	);
	const full = await Promise.all(finished.map((execution) => n8n.getExecution(execution.id, true)));
	return full.sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * Proves that nothing since `since` started an execution of the Call Ended workflow: a genuine call
 * ends now (the simulator delivers call.ended) and, once its execution has finished, it must be the
 * only execution (of any status, running ones included) that appeared since. Deliveries are answered
 * before their execution starts, so one started by an earlier delivery would show up by then.
 */
export async function expectOnlySentinelSince(
	env: { n8n: N8nServer; simulator: TruedySimulator; endedWorkflowId: string },
	since: Set<string>,
): Promise<ExecutionSummary> {
	const { call, delivery } = await placeAndEndCall(env.simulator);
	expect(delivery.status).toBe(204);
	const [sentinel] = await newExecutions(env.n8n, env.endedWorkflowId, since, 1);
	expect(triggerItem(sentinel)?.callId).toBe(call.id);
	const appeared = (await executionIds(env.n8n, env.endedWorkflowId)).filter(
		(id) => !since.has(id),
	);
	expect(appeared).toEqual([sentinel.id]);
	return sentinel;
}
