/**
 * The "Call Ended trigger under load" section of docs/benchmarks.md: Truedy Trigger vs n8n's Webhook
 * node per expression engine (see trigger-bench.ts). `npm run bench -- --only trigger` replaces just
 * this section of the existing page (spliceTriggerSection).
 */
import type { ProfileSummary } from './cpu-profile';
import type { TriggerComparison, TriggerResult } from './results';

export const TRIGGER_SECTION_HEADING = '## Call Ended trigger under load';

const num = (value: number | undefined, digits = 0): string =>
	value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
const seconds = (ms: number): string =>
	Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a';

const LABELS: Record<string, string> = {
	webhook: "n8n's Webhook node",
	truedy: 'Truedy Trigger 1.1',
	'truedy-v1': 'Truedy Trigger 1 (existing workflows)',
	'truedy-full': 'Truedy Trigger 1.1, 20,000 keys saved',
};

function row(engine: string, key: string, r: TriggerResult): string {
	return `| ${engine} | ${LABELS[key] ?? key} | ${r.deliveries} | ${r.acknowledged} | ${r.notReadyAnswers ?? 0} | ${r.executionsStarted} | ${r.lostDeliveries} | ${r.duplicateExecutions} | ${seconds(r.ackP50Ms)} | ${seconds(r.ackP99Ms)} | ${num(r.deliveriesPerSecond, 1)} | ${num(r.executedPerSecond, 1)} | ${num(r.cpuMsPerDelivery, 1)} |`;
}

const ratio = (a: number | undefined, b: number | undefined) =>
	a && b && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : 'n/a';

function profileTable(engine: string, key: string, profile: ProfileSummary): string[] {
	return [
		`**${engine}, ${LABELS[key] ?? key}**: ${profile.deliveries ?? '?'} deliveries in ${(profile.durationMs / 1000).toFixed(1)} s, main thread busy in ${num(profile.busyPercent)}% of the samples (${profile.deliveries ? num(((profile.busyPercent / 100) * profile.durationMs) / profile.deliveries, 1) : 'n/a'} ms per delivery), GC ${num(profile.gcPercent, 1)}%.`,
		'',
		'| Self time | Frame |',
		'|---:|---|',
		...profile.top
			.slice(0, 8)
			.map(
				(frame) => `| ${num(frame.selfPercent, 1)}% | \`${frame.frame.replace(/\|/g, '\\|')}\` |`,
			),
		'',
		'| Inclusive (a frame of the group on the stack) | Share | ms per delivery |',
		'|---|---:|---:|',
		...profile.inclusive.map(
			(group) =>
				`| ${group.name} | ${num(group.percent, 1)}% | ${profile.deliveries ? num((group.percent / 100) * (profile.durationMs / profile.deliveries), 1) : 'n/a'} |`,
		),
		'',
	];
}

export function renderTriggerComparison(comparisons: TriggerComparison[]): string[] {
	if (comparisons.length === 0) return [];
	const first = comparisons[0];
	const lines: string[] = [
		TRIGGER_SECTION_HEADING,
		'',
		`${first.deliveries} signed \`call.ended\` deliveries (each its own call and event id), ${first.concurrency} at a time, to the production URL of a published workflow, per expression engine (\`N8N_EXPRESSION_ENGINE\`) on a fresh server: Truedy Trigger (Call Ended, Verify Signature on, Resolve Call off) → No Operation, and n8n's own Webhook node (v2, answers 204 on receipt, no signature check) → No Operation **in the same server and run**, in halves (Webhook, Truedy, Truedy, Webhook). Then the same load to the Truedy Trigger at typeVersion 1 and with its dedupe store at the 20,000-key cap.`,
		'',
		'| Engine | Workflow | Deliveries | Acknowledged (2xx) | n8n 503s resent | Executions | Lost | Duplicate executions | Ack p50 | Ack p99 | Acks/s | Executed/s | Server CPU per delivery (ms) |',
		'|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
	];
	for (const comparison of comparisons) {
		for (const key of ['webhook', 'truedy', 'truedy-v1', 'truedy-full']) {
			const result = comparison.results[key];
			if (result) lines.push(row(comparison.engine, key, result));
		}
	}
	lines.push(
		'',
		"*Ack* is from sending a delivery to its final answer with the given number in flight (n8n's own 503 'Database is not ready!', sent before any workflow runs when its SQLite health ping is slow, is resent after 1 s, as Truedy would resend it), so it is mostly queueing: by Little's law about concurrency / acks per second. *Executed/s* counts from the first send until the last execution had finished: the Truedy Trigger answers before n8n creates the execution, so its executions can finish after its last answer. *Executions* are counted through n8n's public API and matched to the delivered event ids; *lost* deliveries were answered 2xx but started no execution. *Server CPU* is utime + stime of the `n8n start` process and its task runner from /proc from the first send until the last execution had finished (the bench's polling of n8n's API for that included), divided by the number of deliveries.",
		'',
	);
	lines.push(
		`1-minute load average of the machine (2 cores, shared with other work) before each engine's loads and after its last one: ${comparisons
			.map(
				(c) =>
					`${c.engine} ${num(c.conditions.loadAverageBefore, 2)} → ${num(c.conditions.loadAverageAfter, 2)}`,
			)
			.join(
				', ',
			)}. The Webhook and Truedy halves alternate so that drift falls on both, but a load that comes and goes within a half does not; the variants ran after them, under whatever load there was then.`,
		'',
	);
	const bullets: string[] = [];
	for (const c of comparisons) {
		const t = c.results.truedy;
		const w = c.results.webhook;
		const v1 = c.results['truedy-v1'];
		const full = c.results['truedy-full'];
		if (!t || !w) continue;
		let text = `- **${c.engine}**: Truedy Trigger ack p50 ${seconds(t.ackP50Ms)} vs ${seconds(w.ackP50Ms)} (${ratio(t.ackP50Ms, w.ackP50Ms)}), p99 ${seconds(t.ackP99Ms)} vs ${seconds(w.ackP99Ms)}, ${num(t.deliveriesPerSecond, 1)} vs ${num(w.deliveriesPerSecond, 1)} acks/s (executed ${num(t.executedPerSecond, 1)} vs ${num(w.executedPerSecond, 1)}/s), ${num(t.cpuMsPerDelivery, 1)} vs ${num(w.cpuMsPerDelivery, 1)} ms of server CPU per delivery.`;
		if (v1)
			text += ` At typeVersion 1: ${num(v1.cpuMsPerDelivery, 1)} ms per delivery, p50 ${seconds(v1.ackP50Ms)}.`;
		if (full) {
			const storeMs = (full.cpuMsPerDelivery ?? NaN) - (t.cpuMsPerDelivery ?? NaN);
			text += ` With 20,000 keys saved: ${num(full.cpuMsPerDelivery, 1)} ms per delivery (${storeMs > 0 ? `${num(storeMs, 1)} ms more for loading, merging and saving the dedupe store` : `${num(-storeMs, 1)} ms less than the 1.1 row: the store's cost is within this run's noise`}), p50 ${seconds(full.ackP50Ms)}.`;
		}
		bullets.push(text);
	}
	lines.push(...bullets, '');
	const profiled = comparisons.filter((c) => c.profiles && Object.keys(c.profiles).length > 0);
	if (profiled.length > 0) {
		lines.push(
			'### Where the time goes (CPU profiles of the server)',
			'',
			'The V8 inspector of the running `n8n start` process (opened with SIGUSR1) sampled every 0.5 ms while one more load of each workflow ran. Self time per frame, share of all samples:',
			'',
		);
		for (const c of profiled) {
			for (const [key, profile] of Object.entries(c.profiles!))
				lines.push(...profileTable(c.engine, key, profile));
		}
		lines.push(...gapExplanation(profiled), '');
	}
	return lines;
}

/** ms per delivery of an inclusive group in a profile. */
function groupMs(profile: ProfileSummary | undefined, prefix: string): number {
	const group = profile?.inclusive.find((g) => g.name.startsWith(prefix));
	return group && profile?.deliveries
		? (group.percent / 100) * (profile.durationMs / profile.deliveries)
		: NaN;
}

function busyMs(profile: ProfileSummary | undefined): number {
	return profile?.deliveries
		? ((profile.busyPercent / 100) * profile.durationMs) / profile.deliveries
		: NaN;
}

/** How much of the extra main-thread time per Truedy delivery is isolate work and database work. */
function isolateShare(t: ProfileSummary, w: ProfileSummary): string {
	const busy = busyMs(t) - busyMs(w);
	const isolates = groupMs(t, 'expression isolates') - groupMs(w, 'expression isolates');
	const database = groupMs(t, 'TypeORM') - groupMs(w, 'TypeORM');
	if (!Number.isFinite(busy) || !Number.isFinite(isolates)) return '';
	if (busy <= 0)
		return ` The Truedy delivery kept the main thread no busier than the Webhook node's (${num(busy, 1)} ms).`;
	const share = (ms: number) => `${num(ms, 1)} ms (${num((ms / busy) * 100)}%)`;
	return (
		` Of the ${num(busy, 1)} ms more per Truedy delivery, ${share(isolates)} are expression isolate work` +
		(Number.isFinite(database) && database > 0
			? ` and ${share(database)} TypeORM/SQLite, where the Truedy Trigger adds the save of its dedupe store.`
			: '.')
	);
}

/** What the profiles say about the difference between the two workflows, per engine. */
function gapExplanation(comparisons: TriggerComparison[]): string[] {
	const lines = [
		'**Where the difference comes from.** Per delivery, from the profiles above (main thread of the `n8n start` process):',
		'',
	];
	for (const c of comparisons) {
		const t = c.profiles?.truedy;
		const w = c.profiles?.webhook;
		if (!t || !w) continue;
		lines.push(
			`- **${c.engine}**: the main thread was busy ${num(busyMs(t), 1)} ms per Truedy delivery and ${num(busyMs(w), 1)} ms per Webhook node delivery. ` +
				`Expression isolates (create, acquire, release, dispose): ${num(groupMs(t, 'expression isolates'), 1)} vs ${num(groupMs(w, 'expression isolates'), 1)} ms, of which the webhook phase ${num(groupMs(t, '… for the webhook phase'), 1)} vs ${num(groupMs(w, '… for the webhook phase'), 1)} ms, ` +
				`a credential read ${num(groupMs(t, '… for a credential read'), 1)} vs ${num(groupMs(w, '… for a credential read'), 1)} ms and the execution ${num(groupMs(t, '… for the execution'), 1)} vs ${num(groupMs(w, '… for the execution'), 1)} ms. ` +
				`TypeORM/SQLite ${num(groupMs(t, 'TypeORM'), 1)} vs ${num(groupMs(w, 'TypeORM'), 1)} ms; the Truedy Trigger's own code ${num(groupMs(t, 'Truedy Trigger code'), 1)} ms.` +
				isolateShare(t, w),
		);
	}
	const lazy = comparisons.some((c) => c.engine.includes('+lazy'));
	lines.push(
		'',
		"- *n8n's, not the node's*: before calling any webhook node other than its own Webhook node (v2, static parameters), n8n 2.41 acquires an expression isolate for the webhook phase (`live-webhooks.js` `webhookPhaseNeedsIsolate`: `startNode.type !== WEBHOOK_NODE_TYPE`), and releases it only after the request is done. With `vm` and `quickjs` the pool holds one warm isolate, so under load each delivery creates one and disposes of it. The Truedy Trigger evaluates no expression in its webhook phase (its response code is a number and, from typeVersion 1.1, n8n's version-1 `binaryData` check is skipped), so with `N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true` (an administrator setting: an isolate only once an expression needs one) n8n " +
			(lazy
				? 'creates none for it: see the `+lazy` rows and profiles.'
				: 'should create none for it (not measured in this run; `--trigger-engines vm+lazy` measures it).'),
		'- *Removed from the node*: the per-request `={{204}}` response code (a number now), the per-request expression of typeVersion 1 (1.1 is the default for new nodes), and reading the credential for every delivery (in a webhook n8n resolves each credential read in an isolate of its own, `credentials-helper.js` `applyDefaultsAndOverwrites`; the secrets are now read at most once a minute).',
		'- *Kept on purpose*: the static data save after each new delivery (one `UPDATE` of the workflow row, the price of dedupe that survives restarts; its cost at the 20,000-key cap is the *20,000 keys saved* row) and, while those saves are behind, leaving the answer to n8n until the execution exists (as for its Webhook node) rather than answering first.',
	);
	return lines;
}

/** The Targets rows for the trigger (also used by report.ts for a full run). */
export function triggerTargetRows(comparisons: TriggerComparison[]): string[] {
	const rows: string[] = [];
	for (const c of comparisons) {
		const t = c.results.truedy;
		const w = c.results.webhook;
		if (!t || !w) continue;
		const met =
			t.ackP50Ms <= w.ackP50Ms &&
			t.ackP99Ms <= w.ackP99Ms &&
			t.lostDeliveries === 0 &&
			t.acknowledged === t.deliveries;
		rows.push(
			`| Trigger (${c.engine}): acks at least as fast as n8n's Webhook node, 0 lost | p50 ${seconds(t.ackP50Ms)} vs ${seconds(w.ackP50Ms)}, p99 ${seconds(t.ackP99Ms)} vs ${seconds(w.ackP99Ms)}; ${t.lostDeliveries} lost of ${t.deliveries} | ${met ? 'yes' : '**no**'} |`,
		);
	}
	return rows;
}

export const TRIGGER_TIME_BULLET =
	"- **The trigger's acknowledgement** is measured against n8n's own Webhook node in the same server for each expression engine; see *Call Ended trigger under load* for the figures and the CPU profiles.";

/**
 * Replaces, in an existing benchmarks page, the trigger section (up to the next `## ` heading, or
 * appends it), the trigger rows of the Targets table, and the trigger bullet of "Where the time
 * and memory go".
 */
export function spliceTriggerSection(
	page: string,
	section: string[],
	comparisons: TriggerComparison[] = [],
): string {
	let lines = page.split('\n');
	const start = lines.findIndex((line) => line.trim() === TRIGGER_SECTION_HEADING);
	if (start < 0) {
		lines = [...lines, '', ...section];
	} else {
		let end = lines.findIndex((line, index) => index > start && /^## /.test(line));
		if (end < 0) end = lines.length;
		lines = [...lines.slice(0, start), ...section, ...lines.slice(end)];
	}
	const isTriggerTarget = (line: string) => /^\| Trigger[: (]/.test(line);
	const targets = lines.findIndex(isTriggerTarget);
	if (targets >= 0 && comparisons.length > 0) {
		const rest = lines.filter((line) => !isTriggerTarget(line));
		lines = [...rest.slice(0, targets), ...triggerTargetRows(comparisons), ...rest.slice(targets)];
	}
	return lines
		.map((line) =>
			line.startsWith('- **The trigger pays for an isolate per delivery.**')
				? TRIGGER_TIME_BULLET
				: line,
		)
		.join('\n');
}
