import * as n8nWorkflow from 'n8n-workflow';

type SleepFn = (ms: number, abortSignal?: AbortSignal) => Promise<void>;

const workflowExports = n8nWorkflow as unknown as { sleepWithAbort?: SleepFn; sleep: SleepFn };

/**
 * Waits `ms`, rejecting as soon as the execution is cancelled.
 * n8n-workflow exports `sleepWithAbort` in some versions; newer ones fold it into `sleep(ms, signal)`.
 */
export async function sleepWithAbort(ms: number, abortSignal?: AbortSignal): Promise<void> {
	if (abortSignal?.aborted) throw new Error('The execution was cancelled');
	const sleep = workflowExports.sleepWithAbort ?? workflowExports.sleep;
	await sleep(Math.max(0, Math.round(ms)), abortSignal);
}
