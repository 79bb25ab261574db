import type { IDataObject, IHookFunctions } from 'n8n-workflow';

import { isObject } from '../shared/values';

/**
 * Truedy has no API to create, list or delete webhook endpoints: the user adds the n8n URL in
 * Truedy's dashboard (Settings → Webhooks). So these lifecycle methods register nothing remotely.
 * They only keep a record, in the node's static data, of the URL and events n8n is serving, and log
 * what the user must set up in Truedy. `checkExists` answers "has n8n recorded this URL and these
 * events?", so after a change of URL or events `create` records and logs the new setup again.
 */

const ENDPOINT_PROPERTY = 'endpoint';

interface RecordedEndpoint extends IDataObject {
	url: string;
	events: string[];
	recordedAt: string;
}

function selectedEvents(context: IHookFunctions): string[] {
	const events = context.getNodeParameter('events', []) as string[];
	return [...events].sort();
}

function webhookUrl(context: IHookFunctions): string {
	return context.getNodeWebhookUrl('default') ?? '';
}

export async function checkExists(this: IHookFunctions): Promise<boolean> {
	const recorded = this.getWorkflowStaticData('node')[ENDPOINT_PROPERTY];
	if (!isObject(recorded)) return false;
	const events = Array.isArray(recorded.events) ? [...(recorded.events as string[])].sort() : [];
	return (
		recorded.url === webhookUrl(this) &&
		JSON.stringify(events) === JSON.stringify(selectedEvents(this))
	);
}

export async function create(this: IHookFunctions): Promise<boolean> {
	const endpoint: RecordedEndpoint = {
		url: webhookUrl(this),
		events: selectedEvents(this),
		recordedAt: new Date().toISOString(),
	};
	this.getWorkflowStaticData('node')[ENDPOINT_PROPERTY] = endpoint;
	this.logger.info(
		`Truedy Trigger "${this.getNode().name}" is listening. Truedy cannot be set up from n8n: in Truedy, ` +
			`open Settings → Webhooks, add an endpoint with URL ${endpoint.url} and the events ` +
			`${endpoint.events.join(', ')}, then copy its signing secret into the Truedy Webhook credential.`,
		{ workflowId: this.getWorkflow().id, node: this.getNode().name },
	);
	return true;
}

export async function deleteEndpoint(this: IHookFunctions): Promise<boolean> {
	const data = this.getWorkflowStaticData('node');
	const recorded = data[ENDPOINT_PROPERTY];
	delete data[ENDPOINT_PROPERTY];
	if (isObject(recorded) && typeof recorded.url === 'string') {
		this.logger.info(
			`Truedy Trigger "${this.getNode().name}" stopped listening. Truedy keeps delivering to ` +
				`${recorded.url} until you delete that endpoint in Truedy under Settings → Webhooks.`,
			{ workflowId: this.getWorkflow().id, node: this.getNode().name },
		);
	}
	return true;
}
