/* eslint-disable */
/**
 * `npm run demo`: a real n8n (with this package installed from its tarball) places calls for the
 * example contacts through the Truedy simulator, and reacts to each call's end with the Truedy
 * Trigger. Prints contacts → call id → final status → trigger execution.
 * `npm run demo -- --keep-open` leaves n8n running and prints the editor URL and login.
 */
import { formatOutcomeTable, runCrmToCallFlow, startFlowEnvironment } from '../e2e/crm-flow';

async function main() {
	const keepOpen = process.argv.includes('--keep-open');
	const started = Date.now();
	const log = (line: string) => process.stderr.write(`  ${line}\n`);
	console.log('Starting the Truedy simulator and a real n8n server with n8n-nodes-truedy installed...');
	const env = await startFlowEnvironment({ port: keepOpen ? 5678 : undefined, log });
	try {
		console.log(`n8n is up at ${env.n8n.baseUrl}; Truedy simulator at ${env.simulator.baseUrl}`);
		console.log(`Call Ended trigger listens at ${env.triggerUrl}\n`);
		console.log('Running "Truedy: call new CRM contacts" with the n8n CLI...');
		const result = await runCrmToCallFlow(env);
		console.log('\n' + formatOutcomeTable(result.outcomes) + '\n');
		const deliveries = env.simulator.webhookDeliveries.length;
		console.log(
			`${result.outcomes.length} calls placed, ${deliveries} signed call.ended deliveries, ` +
				`${result.triggerExecutions.length} trigger executions, ${env.simulator.crmRecords.length} CRM updates ` +
				`(${((Date.now() - started) / 1000).toFixed(1)} s).`,
		);
		if (keepOpen) {
			console.log(`\nn8n stays up: open ${env.n8n.baseUrl} and log in as ${env.n8n.owner.email} / ${env.n8n.owner.password}.`);
			console.log('Press Ctrl+C to stop n8n and the simulator.');
			await new Promise<void>((resolve) => {
				process.once('SIGINT', resolve);
				process.once('SIGTERM', resolve);
			});
		}
	} finally {
		await env.dispose();
	}
}

main().then(
	() => process.exit(0),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
