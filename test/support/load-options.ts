/**
 * n8n-core's real LoadOptionsContext, built the way n8n's editor backend builds it for list
 * searches and loadOptions requests.
 */
import { LoadOptionsContext } from 'n8n-core';
import { Workflow, type INode, type INodeParameters } from 'n8n-workflow';

import {
	PACKAGE,
	PackageNodeTypes,
	TestCredentialsHelper,
	buildAdditionalData,
	lifecycleHooks,
} from './engine';

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
	const hooks = lifecycleHooks('internal', executionId, {
		id: 'load-options-workflow',
		name: 'load options',
		nodes: [node],
		connections: {},
	});
	const additionalData = buildAdditionalData(
		new TestCredentialsHelper({ truedyApi: { apiKey: setup.apiKey, baseUrl: setup.baseUrl } }),
		hooks,
		executionId,
	);
	additionalData.currentNodeParameters = parameters;
	return new LoadOptionsContext(
		workflow,
		workflow.getNode(node.name)!,
		additionalData,
		setup.path ?? 'parameters.agent',
	);
}
