import * as n8nWorkflow from 'n8n-workflow';
import type { NodeConnectionType } from 'n8n-workflow';

/**
 * What differs between the n8n versions this package runs on (README → Compatibility).
 * n8n loads community nodes against its own copy of n8n-workflow, so an export can be missing.
 */
const workflowExports = n8nWorkflow as unknown as {
	NodeConnectionTypes?: { Main: NodeConnectionType; AiTool: NodeConnectionType };
	sleepWithAbort?: unknown;
	sleep?: (...args: unknown[]) => unknown;
};

/** The oldest n8n the package is tested on and supports. */
export const MINIMUM_N8N_VERSION = '1.101.1';

/**
 * `NodeConnectionTypes` only exists from n8n-workflow 1.83 on (n8n 1.85.3 has it; n8n 1.82 has the
 * `NodeConnectionType` enum instead); the values are the same strings, so older versions still get a node that loads and can say why it
 * cannot run (see assertSupportedN8n) instead of a TypeError.
 */
export const MAIN_CONNECTION: NodeConnectionType =
	workflowExports.NodeConnectionTypes?.Main ?? ('main' as NodeConnectionType);
export const AI_TOOL_CONNECTION: NodeConnectionType =
	workflowExports.NodeConnectionTypes?.AiTool ?? ('ai_tool' as NodeConnectionType);

/**
 * Whether this n8n can stop a wait as soon as the execution is cancelled: n8n-workflow 1.98
 * (n8n 1.101.1) added `sleepWithAbort`, and 2.x folds it into `sleep(ms, signal)`. Before that,
 * `sleep(ms)` ignores the signal, and Wait for Call to End or a rate-limit pause would outlive a
 * cancelled execution.
 */
export function hasAbortableSleep(exports: typeof workflowExports = workflowExports): boolean {
	return (
		typeof exports.sleepWithAbort === 'function' ||
		(typeof exports.sleep === 'function' && exports.sleep.length >= 2)
	);
}

/** Called by each node's constructor, so an older n8n logs this instead of failing obscurely later. */
export function assertSupportedN8n(): void {
	if (hasAbortableSleep()) return;
	throw new Error(
		`n8n-nodes-truedy needs n8n ${MINIMUM_N8N_VERSION} or newer. This n8n is older (its n8n-workflow has no abortable sleep): update n8n, then restart it.`,
	);
}
