/**
 * Reads and writes a workflow's static data straight in n8n's SQLite database
 * (`<user folder>/.n8n/database.sqlite`), with Node 24's built-in node:sqlite (the harness's Node 24;
 * the test process itself runs Node 20). What n8n saved is read here, not what its API reports.
 * Write only while the server is stopped.
 */
import { execFileSync } from 'child_process';
import path from 'path';

import type { N8nServer } from './n8n-server';

function runSql(n8n: N8nServer, script: string, args: string[], input?: string): string {
	const database = path.join(n8n.userFolder, '.n8n', 'database.sqlite');
	return execFileSync(
		n8n.install.node24Bin,
		[
			'--no-warnings',
			'-e',
			`const { DatabaseSync } = require('node:sqlite'); ${script}`,
			database,
			...args,
		],
		{
			encoding: 'utf8',
			maxBuffer: 64 * 1024 * 1024,
			input: input ?? '',
		},
	);
}

/** The workflow's `staticData` column, parsed (null when empty). */
export function readWorkflowStaticData(n8n: N8nServer, workflowId: string): any {
	const out = runSql(
		n8n,
		`const db = new DatabaseSync(process.argv[1], { readOnly: true });
		 const row = db.prepare('SELECT "staticData" AS s FROM workflow_entity WHERE id = ?').get(process.argv[2]);
		 process.stdout.write(row && row.s ? String(row.s) : 'null');`,
		[workflowId],
	);
	return JSON.parse(out);
}

/** Replaces the workflow's `staticData` column (the server must be stopped). */
export function writeWorkflowStaticData(
	n8n: N8nServer,
	workflowId: string,
	staticData: unknown,
): void {
	const out = runSql(
		n8n,
		`const db = new DatabaseSync(process.argv[1]);
		 const result = db.prepare('UPDATE workflow_entity SET "staticData" = ? WHERE id = ?').run(require('fs').readFileSync(0, 'utf8'), process.argv[2]);
		 process.stdout.write(String(result.changes));`,
		[workflowId],
		JSON.stringify(staticData),
	);
	if (out.trim() !== '1') throw new Error(`no workflow ${workflowId} to write static data to`);
}
