/**
 * `npm run demo`: a real n8n (with this package installed from its tarball) keeps leads in its own
 * Data Table, calls each of them through the Truedy simulator ("Truedy: call new leads", run from
 * its Manual Trigger on the server), and each call's end, delivered to the published Truedy
 * Trigger in Truedy's documented passthrough shape (Ultravox ids), updates that lead's row
 * ("Truedy: write each call's outcome to its lead"), found through the call variable lead_id.
 * Prints the table before and after, and how each row compares with its own call.
 * `npm run demo -- --keep-open` leaves n8n running and prints the editor URL and login.
 */
import { formatRows } from '../e2e/data-table';
import {
	itemsOut,
	LEAD_TABLE_VIEW,
	NODES,
	runLeadsFlow,
	startFlowEnvironment,
} from '../e2e/crm-flow';
import { triggerItem } from '../e2e/e2e-helpers';

async function main() {
	const keepOpen = process.argv.includes('--keep-open');
	const started = Date.now();
	const log = (line: string) => process.stderr.write(`  ${line}\n`);
	const table = (rows: Array<Record<string, unknown>>) =>
		formatRows(rows, LEAD_TABLE_VIEW.columns, LEAD_TABLE_VIEW);
	console.log(
		'Starting the Truedy simulator and a real n8n server with n8n-nodes-truedy installed...',
	);
	const env = await startFlowEnvironment({
		port: keepOpen ? 5678 : undefined,
		log,
		// Passthrough deliveries (the simulator's default) carry Ultravox ids only; with
		// exposeUltravoxIds the simulator's call objects carry ultravox_call_id, so the trigger can find
		// the Truedy call and its variables. Without it, see README "Tying an outcome back to its lead".
		simulator: { exposeUltravoxIds: true },
	});
	try {
		console.log(`n8n is up at ${env.n8n.baseUrl}; Truedy simulator at ${env.simulator.baseUrl}`);
		console.log(`"${env.workflows.ended.name}" is published at ${env.triggerUrl}\n`);
		console.log(`Data table "${env.leads.name}" (id ${env.leads.id}) before:\n`);
		console.log(table(await env.leads.rows()) + '\n');

		console.log(
			`Running "${env.workflows.place.name}" on the server (as the editor's Execute workflow button)...`,
		);
		const result = await runLeadsFlow(env);
		console.log(`\nData table "${env.leads.name}" after:\n`);
		console.log(table(result.rows) + '\n');

		console.log('Each row against its own call:');
		for (const check of result.checks) {
			const call = result.callsByLead.get(check.leadId);
			// Resolved outputs name the Truedy call id; every output names the Ultravox one.
			const execution = result.triggerExecutions.find((candidate) => {
				const item = triggerItem(candidate);
				return (
					call !== undefined &&
					(item?.callId === call.id || item?.ultravoxCallId === call.ultravox_call_id)
				);
			});
			const output = execution ? triggerItem(execution) : undefined;
			const delivery = env.simulator.webhookDeliveries.find(
				(d) => d.callId === check.callId && d.event === 'call.ended',
			);
			console.log(
				`  ${check.leadId}: ${check.verdict}${check.mismatches.length ? ` (${check.mismatches.join(', ')})` : ''}; ` +
					`call ${call?.id ?? '(none)'}, webhook callId ${delivery?.ultravoxCallId ?? '(none)'} (Ultravox), ` +
					`resolved by ${output?.resolution?.method ?? 'nothing'}, execution ${execution?.id ?? '(none)'} (${execution?.status ?? '-'})`,
			);
		}
		const deliveries = env.simulator.webhookDeliveries.filter(
			(d) => d.event === 'call.ended',
		).length;
		const writes = result.triggerExecutions.filter(
			(execution) => itemsOut(execution, NODES.writeOutcome) > 0,
		).length;
		console.log(
			`\n${result.callsByLead.size} calls placed, ${deliveries} signed call.ended deliveries (passthrough shape), ` +
				`${result.triggerExecutions.length} trigger executions, ${writes} row updates: ` +
				`${result.counts.right} rows right, ${result.counts.wrong} wrong, ${result.counts['not updated']} not updated ` +
				`(${((Date.now() - started) / 1000).toFixed(1)} s).`,
		);
		if (result.counts.wrong > 0 || result.counts.right !== result.rows.length) process.exitCode = 1;
		if (keepOpen) {
			console.log(
				`\nn8n stays up: open ${env.n8n.baseUrl} and log in as ${env.n8n.owner.email} / ${env.n8n.owner.password}.`,
			);
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
	() => process.exit(process.exitCode ?? 0),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
