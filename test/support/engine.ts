/**
 * Runs workflows through n8n's real engine (n8n-core's WorkflowExecute) in-process, with this
 * package's node and credential classes. Only the credential store is ours (it holds plain test
 * credentials); authentication is the credential class's own, resolved by n8n's expression engine.
 */
import { randomUUID } from 'crypto';
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import {
	ICredentialsHelper,
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentialType,
	type IConnections,
	type IDataObject,
	type IHttpRequestOptions,
	type INode,
	type INodeExecutionData,
	type INodeType,
	type INodeTypes,
	type IRun,
	type IRunExecutionData,
	type IWorkflowBase,
	type IWorkflowExecuteAdditionalData,
	type IExecuteFunctions,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import { TruedyApi } from '../../credentials/TruedyApi.credentials';
import { TruedyWebhookApi } from '../../credentials/TruedyWebhookApi.credentials';
import { Truedy } from '../../nodes/Truedy/Truedy.node';
import { TruedyTrigger } from '../../nodes/Truedy/TruedyTrigger.node';

/** A manual-trigger stand-in that emits the items the test gives it. */
class TestStart implements INodeType {
	description = {
		displayName: 'Test Start',
		name: 'testStart',
		group: ['trigger'],
		version: 1,
		description: 'Emits test items',
		defaults: { name: 'Start' },
		inputs: [],
		outputs: ['main'],
		properties: [],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions) {
		return [this.getInputData()];
	}
}

export const PACKAGE = 'n8n-nodes-truedy';

export class PackageNodeTypes implements INodeTypes {
	private readonly types: Record<string, INodeType>;

	constructor(extra: Record<string, INodeType> = {}) {
		this.types = {
			'test.start': new TestStart(),
			[`${PACKAGE}.truedy`]: new Truedy(),
			[`${PACKAGE}.truedyTrigger`]: new TruedyTrigger(),
			...extra,
		};
	}

	getByName(name: string): INodeType {
		const type = this.types[name];
		if (!type) throw new Error(`Unknown node type ${name}`);
		return type;
	}

	getByNameAndVersion(name: string): INodeType {
		return this.getByName(name);
	}

	getKnownTypes(): IDataObject {
		return {};
	}
}

/** The Truedy node type, as n8n loads it (for its methods: list searches, loadOptions). */
export function truedyNodeType(): INodeType {
	return new PackageNodeTypes().getByName(`${PACKAGE}.truedy`);
}

export const credentialTypes: Record<string, ICredentialType> = {
	truedyApi: new TruedyApi(),
	truedyWebhookApi: new TruedyWebhookApi(),
};

/** Serves plain test credentials and applies each credential class's real `authenticate`. */
export class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly store: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	getParentTypes(): string[] {
		return [];
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const authenticate = credentialTypes[typeName]?.authenticate;
		if (authenticate === undefined) return requestOptions;
		if (typeof authenticate !== 'function')
			throw new Error(`${typeName}: only authenticate functions are supported here`);
		return await authenticate(credentials, requestOptions);
	}

	async preAuthentication() {
		return undefined;
	}

	async runPreAuthentication() {
		return undefined;
	}

	async getCredentials(): Promise<never> {
		throw new Error('not used');
	}

	async getDecrypted(_data: unknown, _node: unknown, type: string) {
		const credentials = this.store[type];
		if (!credentials) throw new Error(`No test credentials of type ${type}`);
		return { ...credentials };
	}

	async updateCredentials() {}

	async updateCredentialsOauthTokenData() {}

	getCredentialsProperties(type: string) {
		return credentialTypes[type]?.properties ?? [];
	}
}

export interface RunOptions {
	nodes: INode[];
	connections: IConnections;
	/** Items the Start node emits. */
	items?: INodeExecutionData[];
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	mode?: WorkflowExecuteMode;
	executionId?: string;
	/** Lets a test cancel the run, as the UI's Stop button does. */
	onStarted?: (cancel: () => void) => void;
	nodeTypes?: INodeTypes;
	staticData?: IDataObject;
	workflowId?: string;
}

export interface RunResult {
	run: IRun;
	/** The static data the run worked on (n8n saves it at the end if `__dataChanged`). */
	staticData: IDataObject;
	/** Output items of a node's first run, first output. */
	output(nodeName: string, outputIndex?: number): INodeExecutionData[];
	/** The error a node failed with, if any. */
	nodeError(nodeName: string): (Error & IDataObject) | undefined;
}

export function buildAdditionalData(
	credentialsHelper: ICredentialsHelper,
	hooks: ExecutionLifecycleHooks,
	executionId: string,
): IWorkflowExecuteAdditionalData {
	return {
		credentialsHelper,
		hooks,
		executionId,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://127.0.0.1:5678/rest',
		instanceBaseUrl: 'http://127.0.0.1:5678/',
		formBaseUrl: 'http://127.0.0.1:5678/form',
		formWaitingBaseUrl: 'http://127.0.0.1:5678/form-waiting',
		formTestBaseUrl: 'http://127.0.0.1:5678/form-test',
		webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
		webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
		mcpBaseUrl: 'http://127.0.0.1:5678/mcp',
		mcpTestBaseUrl: 'http://127.0.0.1:5678/mcp-test',
		variables: {},
		executeWorkflow: async () => {
			throw new Error('not supported in tests');
		},
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		logAiEvent: () => {},
		startRunnerTask: async () => {
			throw new Error('not supported in tests');
		},
	} as unknown as IWorkflowExecuteAdditionalData;
}

/** The lifecycle hooks n8n gives an execution of `workflow` (no handlers yet). */
export function lifecycleHooks(
	mode: WorkflowExecuteMode,
	executionId: string,
	workflow: Pick<IWorkflowBase, 'id' | 'name' | 'nodes' | 'connections'>,
): ExecutionLifecycleHooks {
	const now = new Date();
	return new ExecutionLifecycleHooks(mode, executionId, {
		active: false,
		isArchived: false,
		createdAt: now,
		updatedAt: now,
		...workflow,
	} as IWorkflowBase);
}

/** Runs a workflow through WorkflowExecute and resolves when the engine reports it finished. */
export async function runWorkflow(options: RunOptions): Promise<RunResult> {
	const nodeTypes = options.nodeTypes ?? new PackageNodeTypes();
	const workflow = new Workflow({
		id: options.workflowId ?? 'test-workflow',
		nodes: options.nodes,
		connections: options.connections,
		nodeTypes,
		active: false,
		staticData: options.staticData,
		settings: { executionOrder: 'v1' },
	});
	const executionId = options.executionId ?? `test-${randomUUID()}`;
	const hooks = lifecycleHooks(options.mode ?? 'manual', executionId, {
		id: 'test-workflow',
		name: 'test',
		nodes: options.nodes,
		connections: options.connections,
	});
	let resolveFinished!: (run: IRun) => void;
	const finished = new Promise<IRun>((resolve) => (resolveFinished = resolve));
	hooks.addHandler('workflowExecuteAfter', (run) => resolveFinished(run));

	const additionalData = buildAdditionalData(
		new TestCredentialsHelper(options.credentials ?? {}),
		hooks,
		executionId,
	);
	const startNode = options.nodes[0];
	const runExecutionData: IRunExecutionData = {
		startData: {},
		resultData: { runData: {} },
		executionData: {
			contextData: {},
			metadata: {},
			nodeExecutionStack: [
				{ node: startNode, data: { main: [options.items ?? [{ json: {} }]] }, source: null },
			],
			waitingExecution: {},
			waitingExecutionSource: {},
		},
	} as unknown as IRunExecutionData;
	const execute = new WorkflowExecute(additionalData, options.mode ?? 'manual', runExecutionData);
	const cancelable = execute.processRunExecutionData(workflow);
	options.onStarted?.(() => cancelable.cancel());
	await cancelable.catch(() => undefined);
	const run = await finished;

	return {
		run,
		staticData: workflow.staticData as IDataObject,
		output(nodeName, outputIndex = 0) {
			const taskData = run.data.resultData.runData[nodeName]?.[0];
			if (!taskData) throw new Error(`Node "${nodeName}" did not run`);
			return taskData.data?.main?.[outputIndex] ?? [];
		},
		nodeError(nodeName) {
			return run.data.resultData.runData[nodeName]?.[0]?.error as (Error & IDataObject) | undefined;
		},
	};
}

/** Start → one node, the common shape of these tests. */
export function singleNodeWorkflow(node: Partial<INode> & { parameters: INode['parameters'] }) {
	const start: INode = {
		id: 'start-node',
		name: 'Start',
		type: 'test.start',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const target: INode = {
		id: 'truedy-node-id',
		name: 'Truedy',
		type: `${PACKAGE}.truedy`,
		typeVersion: 1,
		position: [200, 0],
		credentials: { truedyApi: { id: 'cred-1', name: 'Truedy account' } },
		...node,
	} as INode;
	return {
		nodes: [start, target],
		connections: {
			Start: { main: [[{ node: target.name, type: 'main', index: 0 }]] },
		} as IConnections,
	};
}
