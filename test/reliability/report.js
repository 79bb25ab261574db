#!/usr/bin/env node
/**
 * Writes docs/reliability.md from the counts the reliability suites leave in
 * test-results/reliability/*.json (every run of `npm test` or `npx jest test/reliability`).
 *
 *   node test/reliability/report.js          # from the last run
 *   node test/reliability/report.js --run    # run the suites first (npx jest test/reliability)
 *   TRUEDY_SOAK=1 node test/reliability/report.js --run    # run the soak variant; its summary joins the page
 *   node test/reliability/report.js --stdout # print instead of writing the file
 *
 * Exits 1 when a suite's results are missing or a count that must be 0 is not.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../..');
const SOAK_RUN = process.env.TRUEDY_SOAK === '1';
const resultsDir = path.join(root, 'test-results', 'reliability');
const soakDir = path.join(root, 'test-results', 'reliability-soak');
const docPath = path.join(root, 'docs', 'reliability.md');
const SUITES = ['no-duplicates', 'bad-input', 'signatures', 'secrets', 'cancellation'];
const args = process.argv.slice(2);

if (args.includes('--run')) {
	const dir = SOAK_RUN ? soakDir : resultsDir;
	for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : [])
		if (SUITES.some((suite) => file === `${suite}.json` || file.startsWith(`${suite}.`)))
			fs.rmSync(path.join(dir, file), { force: true });
	const jest = path.join(root, 'node_modules', '.bin', 'jest');
	const result = spawnSync(jest, ['test/reliability'], { cwd: root, stdio: 'inherit' });
	if (result.status !== 0)
		console.error('\nSome reliability tests failed; the report shows what they counted.\n');
}

/**
 * A suite's results: <suite>.json, or the parts a suite split over several files writes
 * (<suite>.<part>.json, e.g. bad-input.place-call.json and bad-input.trigger.json), merged:
 * properties, scenarios and durations add up, scan counts too.
 */
function loadSuite(dir, suite) {
	const parts = fs.existsSync(dir)
		? fs.readdirSync(dir).filter((f) => f.startsWith(`${suite}.`) && f.endsWith('.json'))
		: [];
	// The parts, when there are any: a <suite>.json beside them is left from before the split.
	const split = parts.filter((f) => f !== `${suite}.json`).sort();
	const files = split.length > 0 ? split : parts;
	if (files.length === 0) return undefined;
	const [first, ...rest] = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
	return rest.reduce(
		(merged, part) => ({
			...merged,
			writtenAt: [merged.writtenAt, part.writtenAt].sort().at(-1),
			durationMs: merged.durationMs + part.durationMs,
			properties: [...(merged.properties ?? []), ...(part.properties ?? [])],
			scenarios: [...(merged.scenarios ?? []), ...(part.scenarios ?? [])],
			secretScan: Object.fromEntries(
				Object.entries(merged.secretScan).map(([k, n]) => [k, n + (part.secretScan[k] ?? 0)]),
			),
		}),
		first,
	);
}
const load = (dir) => {
	const results = SUITES.map((s) => [s, loadSuite(dir, s)]);
	return results.every(([, res]) => res) ? Object.fromEntries(results) : undefined;
};
const r = load(resultsDir);
if (!r) {
	const missing = SUITES.filter((s) => !loadSuite(resultsDir, s));
	console.error(
		`No results for: ${missing.join(', ')}. Run: npx jest test/reliability (or add --run).`,
	);
	process.exit(1);
}
const soakResults = load(soakDir);

// ---------------------------------------------------------------------------------------------
const sum = (rows, key) => rows.reduce((n, row) => n + (Number(row[key]) || 0), 0);
const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n ?? ''));
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** A markdown table; columns whose cells are all numbers are right-aligned. */
const table = (head, rows) => {
	const numeric = head.map(
		(_h, i) =>
			rows.length > 0 && rows.every((row) => /^\**[\d,.]+( ms| s)?\**$/.test(String(row[i]))),
	);
	return [
		`| ${head.join(' | ')} |`,
		`| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
		...rows.map((row) => `| ${row.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`),
	].join('\n');
};
const faultText = (faults) =>
	Object.entries(faults ?? {})
		.filter(([, n]) => n > 0)
		.map(([k, n]) => `${k} ${n}`)
		.join(', ') || '—';

/** Rows each suite writes when every test in it ran to the end. */
const EXPECTED_ROWS = (res) => [
	['no-duplicates runs', res['no-duplicates'].runs.length, 24 * res['no-duplicates'].seeds.length],
	['no-duplicates proofs', res['no-duplicates'].proofs.length, 4],
	['bad-input properties', res['bad-input'].properties.length, 7],
	['signature attack kinds', res.signatures.categories.length, 9],
	['signature controls', res.signatures.controls.length, 2],
	['secrets scenarios', res.secrets.scenarios.length, 18],
	['cancellation scenarios', res.cancellation.scenarios.length, 8],
];

/** The counts that must be 0, for one set of results. */
function zeroCounts(res) {
	const nd = res['no-duplicates'];
	const bi = res['bad-input'];
	const sg = res.signatures;
	const cx = res.cancellation;
	const scans = SUITES.map((s) => res[s].secretScan);
	const incomplete = EXPECTED_ROWS(res).filter(([, got, want]) => got < want);
	return [
		[
			'Duplicate dials (calls beyond the first to one person)',
			sum(nd.runs, 'duplicates') +
				sum(
					nd.proofs.filter((p) => !p.name.startsWith('control')),
					'duplicates',
				),
			`${nd.runs.length + nd.proofs.length - 1} engine runs of ${nd.batch} items under faults`,
		],
		[
			'Lost items (items in ≠ items out, success without its call, calls nobody reports)',
			sum(nd.runs, 'lost') + sum(nd.proofs, 'lost'),
			'same runs',
		],
		['Calls to numbers that were not in the batch', sum(nd.runs, 'phantom'), 'same runs'],
		[
			'Generated inputs that crashed the node, the workflow or the trigger',
			sum(bi.properties, 'crashes'),
			`${fmt(sum(bi.properties, 'cases'))} generated cases`,
		],
		[
			'Generated inputs without a valid request or a clear per-item error',
			sum(bi.properties, 'problems'),
			'engine and trigger runs',
		],
		['Forged deliveries accepted', sg.totals.accepted, `${fmt(sg.totals.attacks)} attacks`],
		['Executions started by forged deliveries', sg.totals.executionsFromAttacks, 'same attacks'],
		[
			'Secret leaks (API key or signing secret, whole, in part or base64)',
			sum(scans, 'hits'),
			`${fmt(sum(scans, 'textsScanned'))} outputs/errors/answers and ${fmt(sum(scans, 'logLinesScanned'))} log lines scanned`,
		],
		[
			'Requests sent after a cancel',
			sum(cx.scenarios, 'requestsAfterCancel'),
			`${cx.scenarios.length} cancellation scenarios`,
		],
		['Timers left running after a cancel', sum(cx.scenarios, 'timersLeft'), 'same scenarios'],
		[
			'Created calls a cancelled run did not report',
			sum(cx.scenarios, 'unaccounted'),
			'same scenarios',
		],
		[
			'Tests that stopped before recording their counts',
			incomplete.reduce((n, [, got, want]) => n + want - got, 0),
			incomplete.length
				? incomplete.map(([name, got, want]) => `${name}: ${got}/${want}`).join('; ')
				: 'every test recorded',
		],
	];
}

const nd = r['no-duplicates'];
const bi = r['bad-input'];
const sg = r.signatures;
const sc = r.secrets;
const cx = r.cancellation;
const scans = SUITES.map((s) => ({ suite: s, ...r[s].secretScan }));
const zero = zeroCounts(r);
const soakZero = soakResults && zeroCounts(soakResults);
const failures = [
	...zero,
	...(soakZero ?? []).map(([name, n, of]) => [`${name} (soak)`, n, of]),
].filter(([, n]) => n !== 0);

const runDate = SUITES.map((s) => r[s].writtenAt)
	.sort()
	.at(-1);
const totalMs = sum(
	SUITES.map((s) => r[s]),
	'durationMs',
);

const out = [];
const p = (...lines) => out.push(...lines);

p(
	'# Reliability and security, counted',
	'',
	`<!-- Generated by \`node test/reliability/report.js\` from test-results/reliability/*.json. Do not edit by hand. -->`,
	'',
	`Calls cost money and reach real people: never dial twice, never lose an item, never start a workflow from a forged webhook, never leak a key. Each promise is checked by counted tests in \`test/reliability/\`, through n8n's real engine (n8n-core \`WorkflowExecute\`) and, for the trigger, n8n-core's real \`WebhookContext\` over HTTP, against the Truedy simulator with injected faults.`,
	'',
	`Last run: ${runDate} · Node ${r['no-duplicates'].node} · ${secs(totalMs)} for the five suites${soakResults ? " · the soak variant's summary is at the end" : ''}.`,
	'',
	'The suites run with `npm test` (they are part of the in-process jest run). To refresh this page:',
	'',
	'```sh',
	'npx jest test/reliability && node test/reliability/report.js   # or: node test/reliability/report.js --run',
	'TRUEDY_SOAK=1 node test/reliability/report.js --run            # soak: 1000-item batches, 3 seeds, 4–10× the generated cases',
	'```',
	'',
	'## Summary: every count that must be 0',
	'',
	table(
		['Count', 'Value', 'Out of'],
		zero.map(([name, n, of]) => [name, n === 0 ? '**0**' : `**${n}** ✗`, of]),
	),
	'',
);

// 1 -------------------------------------------------------------------------------------------
p(
	'## 1. No duplicate dials, nothing lost',
	'',
	`\`test/reliability/no-duplicates.test.ts\` — batches of ${nd.batch} Place Call items (concurrency 10, the default) under each fault mix, in three modes: fail-fast (no Continue On Fail), Continue On Fail, and n8n's Retry On Fail (3 tries, 10 ms apart). Faults come from the simulator with seed ${nd.seeds.join(', ')}; a fault decision depends only on the seed and the request's content and repetition, so the same mix injects the same faults in every mode.`,
	'',
	'Columns: *requests* = POST /calls received; *replays* = answered from the idempotency store (the key did its job); *calls* = calls the simulator created; *dup* = calls beyond the first to one person; *lost* = items in minus items out (Continue On Fail), success items without exactly one matching call, and calls neither in the output nor in the node\'s log; *unsure* = items that failed after an attempt whose outcome is unknown and whose call does exist — each such error says "Truedy may have created the call … (idempotency key …)", and a run that fails lists them in its log.',
	'',
	table(
		[
			'Fault mix',
			'Mode',
			'Items in',
			'Items out',
			'Faults injected',
			'Requests',
			'Replays',
			'Calls',
			'Dup',
			'Lost',
			'Unsure',
			'Node',
		],
		nd.runs.map((x) => [
			x.mix,
			x.mode,
			x.itemsIn,
			x.nodeFailed ? '— (node failed)' : x.itemsOut,
			faultText(x.faults),
			x.requests,
			x.replays,
			x.callsCreated,
			x.duplicates,
			x.lost,
			x.uncertain,
			x.nodeFailed
				? 'failed, named the item; created calls logged'
				: x.failedItems
					? `${x.failedItems} error items, each naming its index`
					: 'all placed',
		]),
	),
	'',
	'The reset-after-create case is what idempotency keys exist for: every first attempt creates the call and the connection is cut before the answer.',
	'',
	table(
		['Proof', 'Items', 'Calls', 'Replays', 'Dup', 'Lost'],
		nd.proofs.map((x) => [
			x.name,
			x.itemsIn,
			x.callsCreated,
			x.replays ?? '—',
			x.duplicates,
			x.lost ?? '—',
		]),
	),
	'',
	'The control row is a plain client retrying the same faults without a key: it dials everyone twice, which shows that the duplicate counter finds duplicates when there are some.',
	'',
);

// 2 -------------------------------------------------------------------------------------------
p(
	'## 2. Generated bad input',
	'',
	`\`test/reliability/bad-input.place-call.test.ts\` and \`bad-input.trigger.test.ts\` (generators in \`test/support/generators.ts\`) — fast-check (seed ${bi.seed}). Each property runs ${fmt(bi.pureRuns)} cases on the node's pure builders, and ${bi.cases} generated items in one workflow run through the engine (Continue On Fail, then fail-fast: the first bad item must fail the node before anyone is dialled). Webhook bodies go over HTTP to the trigger, signed with the right secret so they reach the parser. The oracle for every engine item: the simulator accepted the request (201, never a 4xx) and it carries exactly the expected value, or the item is an error that starts with \`Item <index>: "<field>"\`.`,
	'',
	'Generated: phone numbers (E.164, national formats, letters, vanity numbers, Arabic-Indic/fullwidth/Devanagari/Thai/bold digits, spaces and zero-width characters, emoji, extensions, too short, too long, empty, numbers, booleans, null, objects, lists — through `{{ $json.v }}` expressions); variables (nested objects, lists, null, 100 kB strings, JSON text, cut-off and invalid JSON, empty and reserved names, object names); call settings (negative, zero, fractional, huge, infinite, NaN and text durations; text, empty, null, object greetings); webhook bodies (envelopes with wrong types in every field, any JSON, not JSON, cut-off JSON, empty, nesting up to 20,000 levels, 5 MB, four content types).',
	'',
	table(
		['Property', 'Cases', 'Valid requests', 'Per-item errors', 'Crashes', 'Wrong answers'],
		bi.properties.map((x) => [
			x.name,
			fmt(x.cases),
			fmt(x.validRequests ?? x.valid) ||
				(x.started !== undefined ? `${x.started} started, ${x.ignored} ignored (204)` : '—'),
			fmt(x.itemErrors ?? x.rejected) ||
				(x.rejected400 !== undefined ? `${x.rejected400} × 400 "not a JSON object"` : '—'),
			x.crashes,
			x.problems ?? 0,
		]),
	),
	'',
);

// 3 -------------------------------------------------------------------------------------------
p(
	'## 3. Signature attacks on the trigger',
	'',
	`\`test/reliability/signatures.test.ts\` — ${sg.perCategory} generated attacks per kind, each a real HTTP request to the trigger's production webhook. Every one must be answered 401 by the trigger and start no execution; every rejection is logged (${fmt(sg.totals.rejectionLogLines)} log lines, none with the secret). Tampered bodies stay valid JSON, so the trigger — not n8n's body parser — has to catch them.`,
	'',
	table(
		['Attack', 'Tried', '401', 'Accepted', 'Executions', 'Reasons given'],
		sg.categories.map((x) => [
			x.name,
			x.tried,
			x.rejected401,
			x.accepted,
			x.executions,
			Object.entries(x.reasons)
				.map(([k, n]) => `${k} ${n}`)
				.join(', '),
		]),
	),
	'',
	'Controls (genuine deliveries must still get through, or the zeros above would mean nothing):',
	'',
	table(
		['Control', 'Sent', 'Executions'],
		sg.controls.map((x) => [x.name, x.tried, x.accepted]),
	),
	'',
);

// 4 -------------------------------------------------------------------------------------------
p(
	'## 4. Secret hygiene',
	'',
	"Every suite runs with a recognisable API key (`truedy_live_CANARY…`) and signing secret (`whsec_CANARY…`) and scans everything it produced: output items, node errors (message, description, stack, context, cause), full run data, the trigger's HTTP answers, and every line logged through n8n-core's Logger, n8n-workflow's LoggerProxy and the console. A hit is the whole secret, its distinctive middle, or its base64 form.",
	'',
	table(
		['Suite', 'Texts scanned', 'Characters', 'Log lines', 'Hits'],
		scans.map((x) => [
			x.suite,
			fmt(x.textsScanned),
			fmt(x.charsScanned),
			fmt(x.logLinesScanned),
			x.hits,
		]),
	),
	'',
	'`test/reliability/secrets.test.ts` adds the paths where a secret most likely slips out, including an API that echoes the `Authorization` header in its errors:',
	'',
	table(
		['Scenario', 'Texts scanned', 'Hits'],
		sc.scenarios.map((x) => [x.name, x.texts, x.hits]),
	),
	'',
);

// 5 -------------------------------------------------------------------------------------------
p(
	'## 5. Cancellation',
	'',
	'`test/reliability/cancellation.test.ts` — the run is cancelled through the engine (what n8n\'s Stop button does). n8n discards the output of a cancelled run, so Place Call logs what it had created at the moment of the cancel (`this.logger.warn`: "Truedy Place Call was cancelled after creating N call(s): item 0 → call_…", with `createdCalls` and `unanswered` in the metadata). *Unanswered* are requests in flight or in backoff: Truedy may have created those calls, and the log gives their idempotency keys. A request the server reads after the cancel is excused only if the node reported its item as in flight (client and server share one process); anything else counts as sent after the cancel. Timers are counted with `process.getActiveResourcesInfo()` before the run and after the watch window (allowing up to 1 s for callbacks already due to run; every wait interrupted here had at least 1.4 s left). "Stopped within" must stay under 1 s.',
	'',
	table(
		[
			'Scenario',
			'Items',
			'Cancelled at',
			'Run stopped within',
			'Requests after',
			'Timers left',
			'Calls created',
			'Reported created',
			'Reported unanswered',
			'Unaccounted',
		],
		cx.scenarios.map((x) => [
			x.name,
			x.items,
			`${x.cancelAfterMs} ms`,
			`${x.stoppedWithinMs} ms`,
			x.requestsAfterCancel,
			x.timersLeft,
			x.callsCreated,
			x.callsReported,
			x.unansweredReported,
			x.unaccounted,
		]),
	),
	'',
	'`jest --detectOpenHandles` over the reliability suites reports no open handles.',
	'',
);

// runtime -------------------------------------------------------------------------------------
p(
	'## Runtime',
	'',
	table(
		['Suite', 'Wall clock'],
		SUITES.map((s) => [s, secs(r[s].durationMs)]).concat([['total', secs(totalMs)]]),
	),
	'',
);

// how -----------------------------------------------------------------------------------------
p(
	'## How the faults are injected',
	'',
	'The simulator injects faults itself (`test/simulator/faults.ts`; see test/simulator/README.md › Faults): `configure({ faults: { seed, rates, ratesFor, rules, slowMs, retryAfterMs } })`, an `X-Sim-Fault: <kind>` request header, `sim.faultLog` and `sim.faultCounts()`, `GET /__sim/faults`. Each recorded request carries its `fault` and whether it was an idempotent `replayed` answer. `test/reliability/simulator-faults.test.ts` checks every kind, the rules and the seeding over HTTP.',
	'',
	table(
		['Kind', 'What the client sees', 'Handled by the server?'],
		[
			['`status500`', '500 internal_error', 'yes (the call exists)'],
			['`status503`', '503 service_unavailable', 'no'],
			['`resetBefore`', 'connection reset, no answer', 'no'],
			['`resetAfter`', 'connection reset, no answer', 'yes (the call exists)'],
			['`slow`', 'the answer is held `slowMs` (past the client time-out)', 'yes (the call exists)'],
			['`malformedJson`', 'the real status with half of the JSON body', 'yes (the call exists)'],
			['`status429`', '429 with `reset_at` and `Retry-After` `retryAfterMs` ahead', 'no'],
			['`credits: N` (existing option)', '402 insufficient_credits after N calls', 'no'],
		],
	),
	'',
	"The transport's time-out (30 s) and backoff (0.5–30 s) are compressed for these suites with `overrideRetryPolicyForTests({ requestTimeoutMs: 300, baseDelayMs: 10, maxDelayMs: 100 })` from `nodes/Truedy/transport/retry.ts`: an internal, documented test hook that changes the defaults every request starts from and returns a restore function. It is not reachable from node parameters, credentials or environment variables, so users always get `DEFAULT_RETRY_POLICY`. Retry counts and replays therefore vary a little with machine load (a busy machine times out more often); the counts that must be 0 do not.",
	'',
);

// soak ----------------------------------------------------------------------------------------
if (soakResults) {
	const soakDate = SUITES.map((s) => soakResults[s].writtenAt)
		.sort()
		.at(-1);
	const sbi = soakResults['bad-input'];
	p(
		'## Soak run',
		'',
		`\`TRUEDY_SOAK=1\` (last run ${soakDate}): ${soakResults['no-duplicates'].batch}-item batches with seeds ${soakResults['no-duplicates'].seeds.join(', ')}, ${fmt(sbi.pureRuns)} cases per pure property and ${sbi.engineRuns} × ${sbi.cases} engine cases per property, ${soakResults.signatures.perCategory} attacks per kind. ${secs(
			sum(
				SUITES.map((s) => soakResults[s]),
				'durationMs',
			),
		)} in all. Its detailed counts are in test-results/reliability-soak/.`,
		'',
		table(
			['Count', 'Value', 'Out of'],
			soakZero.map(([name, n, of]) => [name, n === 0 ? '**0**' : `**${n}** ✗`, of]),
		),
		'',
	);
}

// bugs ----------------------------------------------------------------------------------------
p(
	'## Bugs the suites found, and the fixes',
	'',
	'1. **A cut-off JSON answer became a "successful" item of single characters** (`{"0":"{","1":"\\"",…}`) with no call id, while the call had been created (suite 1, malformed JSON). A 2xx answer that is not JSON is now treated like a lost answer: retried with the same idempotency key when that is safe, otherwise an error "Truedy\'s answer could not be read … Truedy may have created the call". (`transport/request.ts`)',
	"2. **An API that repeats the `Authorization` header in its errors leaked the API key** into the node error, the execution data and n8n's logs (suite 4). Everything taken from an error answer is now passed through `redactSecret` with the credential's key. (`transport/errors.ts`)",
	"3. **Variables named `__proto__`, `constructor` or `prototype` vanished silently**: n8n's request layer drops these keys (a prototype-pollution guard) (suite 2). The node now fails that item with a clear error naming the variable. (`place/body.ts`)",
	'4. **A variable name or a greeting that resolved to an object was sent as "[object Object]"**, and a null greeting as "null" (suite 2). Object names and greetings are now per-item errors; a null greeting is left out. (`place/body.ts`)',
	'5. **A cancelled or failed Place Call said nothing about the calls it had already created** — n8n discards the output of such a run, so they were invisible (suite 5 requires the report; suite 1 uses it to account for every call of a failed run). Place Call now logs the created call ids and the unanswered items with their idempotency keys (`PlacedCallLedger`, `nodes/Truedy/resources/call/place/ledger.ts`).',
	'6. **Errors after an attempt whose outcome is unknown did not say so** — e.g. a lost answer followed by 429s until the retries gave up reported only "rate limit reached" although the call existed (found while building suite 1\'s check that every failed item whose call exists says so). The transport now remembers an unknown outcome (lost connection after sending, 5xx, unreadable answer) and every error that ends such a request says "Truedy may have created the call … check Truedy before placing it again (idempotency key …)"; `mayHaveTakenEffect(error)` exposes it to the ledger. (`transport/request.ts`, `transport/errors.ts`)',
	"7. **A 16-digit number passed as valid** — `+4960000000000000` is valid for libphonenumber's German metadata but longer than E.164's 15 digits, so Truedy would refuse it (found by the soak run, 20,000 cases; now always tried). `normalizePhoneNumber` now rejects numbers over 15 digits. (`phone.ts`)",
	"8. **A cancel while Place Call was checking thousands of items took effect only after the check** — 5,000 items kept the event loop busy for about 1.7 s, so the Stop button waited (suite 5, added with the benchmark's 10,000-item runs, where the check takes about 17 s). Place Call now yields to the event loop every 100 items and stops there. (`place/index.ts`)",
	'',
	'Not bugs, but worth knowing: a re-run of a failed execution gets a new execution id and therefore new idempotency keys; set the Idempotency Key option (e.g. to a CRM lead id) to make "never dial twice" hold across executions. Refused connections (`ECONNREFUSED`, DNS failures) never reached Truedy and are reported as such.',
	'',
);

const markdown = out.join('\n');
if (args.includes('--stdout')) process.stdout.write(markdown);
else {
	fs.mkdirSync(path.dirname(docPath), { recursive: true });
	fs.writeFileSync(docPath, markdown);
	console.log(
		`Wrote ${path.relative(root, docPath)} (${SUITES.map((s) => `${s}: ${secs(r[s].durationMs)}`).join(', ')}).`,
	);
}
if (failures.length > 0) {
	console.error(
		`Counts that must be 0 are not: ${failures.map(([name, n]) => `${name} = ${n}`).join('; ')}`,
	);
	process.exit(1);
}
