import { createHash, randomUUID } from 'crypto';
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

/**
 * One run of the node, as every try of n8n's Retry On Fail sees it. WorkflowExecute computes the
 * run index once, before its retry loop, and passes the same run index and the same execute-data
 * object to every try (n8n-core `workflow-execute`: `runIndex = this.computeRunIndex(executionData)`,
 * then `for (let tryIndex = 0; tryIndex < maxTries; tryIndex++) … this.runNode(…, runIndex, …)`;
 * n8n 1.x reads `runData[node].length` once before the same loop). A later run of the node in the
 * same execution (a loop back to it) has the next run index.
 */
export interface NodeRun {
	/** The execution id; without one, a random id kept for this node run (see nodeRunOf). */
	executionRef: string;
	nodeId: string;
	/** n8n's run index, or `tool` when the node runs as an AI agent's tool (see nodeRunOf). */
	run: string;
	/** Bodies an earlier try of this node run sent, by intent (see CallIntent.intent). */
	sent: Map<string, IDataObject>;
}

/** Per node run (the execute-data object every try of the run shares): what the tries share. */
const memoryByRun = new WeakMap<object, { executionRef: string; sent: Map<string, IDataObject> }>();

/** Read once per node run (the run index costs a workflow data proxy). */
export function nodeRunOf(this: IExecuteFunctions): NodeRun {
	const executeData = this.getExecuteData?.() as object | undefined;
	let memory = executeData ? memoryByRun.get(executeData) : undefined;
	if (!memory) {
		// Without an execution id (some test harnesses), a random id per node run keeps retries on one
		// key and gives separate executions separate keys. Without an execute-data object either, a
		// fixed id: separate executions then share keys, which can replay a call but never dials twice.
		const executionRef =
			this.getExecutionId() || (executeData ? `run-${randomUUID()}` : 'no-execution');
		memory = { executionRef, sent: new Map() };
		if (executeData) memoryByRun.set(executeData, memory);
	}
	// As an AI agent's tool, n8n gives every try of Retry On Fail its own run index
	// (n8n-core `get-input-connection-data`: `const localRunIndex = runIndex++` inside the try loop),
	// so the run index cannot tell a retry from a new call there: tool calls for the same item,
	// agent and number share one key per execution, and a repeat gets the first call back.
	const run = this.isToolExecution?.() === true ? 'tool' : String(runIndexOf(this));
	return { executionRef: memory.executionRef, nodeId: this.getNode().id, run, sent: memory.sent };
}

function runIndexOf(context: IExecuteFunctions): number {
	const runIndex = (context.getWorkflowDataProxy(0) as { $runIndex?: unknown }).$runIndex;
	return typeof runIndex === 'number' && Number.isInteger(runIndex) && runIndex >= 0 ? runIndex : 0;
}

export interface CallIntent {
	idempotencyKey: string;
	/** The user's Idempotency Key option (true) or the derived default (false). */
	custom: boolean;
	/** Run, item, agent and number (and key): equal only for tries of the same call. */
	intent: string;
}

/**
 * The user's key, or the default: execution, node, node run, item, agent and destination number.
 * Nothing that can change between tries of the same call (no hash of variables or settings), so
 * every retry of a run sends the same key, and a later run of the node for the item a new one.
 */
export function callIntentOf(
	run: NodeRun,
	itemIndex: number,
	body: IDataObject,
	options: IDataObject,
): CallIntent {
	const destination = createHash('sha256')
		.update(`${String(body.agent_id)}\n${String(body.phone_number)}`)
		.digest('hex')
		.slice(0, 16);
	const custom = String(options.idempotencyKey ?? '').trim();
	const idempotencyKey =
		custom || ['n8n', run.executionRef, run.nodeId, run.run, itemIndex, destination].join(':');
	return {
		idempotencyKey,
		custom: custom !== '',
		intent: [run.run, itemIndex, destination, idempotencyKey].join('\n'),
	};
}
