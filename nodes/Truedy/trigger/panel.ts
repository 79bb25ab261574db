import type { TriggerPanelDefinition } from 'n8n-workflow';

/**
 * The panel n8n shows on the trigger's input side (as its own webhook triggers have): a header,
 * the setup steps and what test and production mode do. Both URLs are under Webhook URLs in the
 * parameters (a click copies one): n8n shows a URL in this panel only for its own Webhook node.
 */
const SETUP =
	'<b>Connect Truedy once</b> (Truedy has no API for registering webhooks):<br />' +
	'1. Copy the <b>Production URL</b> from <b>Webhook URLs</b> in the parameters.<br />' +
	'2. In Truedy, open <b>Settings → Webhooks → Add Endpoint</b>, paste the URL and tick the events you selected.<br />' +
	"3. Copy the endpoint's <b>Signing Secret</b> (whsec_…) into the Truedy Webhook credential.<br /><br />";

const TEST =
	'<b>To try it in the editor</b>, copy the <b>Test URL</b> from <b>Webhook URLs</b>, add it as a second endpoint in Truedy, put its signing secret after the first one in the same credential (separated by a space), click <b>Execute step</b> and end a call. The execution shows up in the editor.<br /><br />';

export const TRIGGER_PANEL: TriggerPanelDefinition = {
	header: 'Listen for Truedy call events',
	executionsHelp: {
		inactive:
			SETUP +
			TEST +
			"<b>To run it automatically</b>, publish the workflow. Deliveries to the Production URL then start executions, listed in the <a data-key='executions'>executions list</a>.",
		active:
			SETUP +
			TEST +
			"<b>This workflow is published</b>: deliveries to the Production URL start executions, listed in the <a data-key='executions'>executions list</a>, not in the editor.",
	},
	activationHint:
		'Once Truedy delivers to the Production URL, publish the workflow: it then runs on every matching event without this button.',
};
