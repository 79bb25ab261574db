/**
 * The "Waiting for calls under the organisation rate limit" section of docs/benchmarks.md (see
 * wait-budget.ts) and its Targets rows. `npm run bench -- --only wait` replaces just these in the
 * existing page (spliceWaitSection).
 */
import type { WaitBudgetResults, WaitBudgetRow } from './results';

export const WAIT_SECTION_HEADING = '## Waiting for calls under the organisation rate limit';
const TARGET_PREFIX = '| Wait for Call to End';

const percent = (share: number) => (Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'n/a');
const secs = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a');
const times = (value: number, base: number) =>
	base > 0 && Number.isFinite(value / base) ? `${(value / base).toFixed(2)}×` : 'n/a';

/** A measure shown side by side for every mode, with new/old as a ratio where one makes sense. */
interface Measure {
	name: string;
	cell: (row: WaitBudgetRow) => string;
	value?: (row: WaitBudgetRow) => number;
}

/** A measure whose cell is the number itself. */
const counted = (name: string, pick: (row: WaitBudgetRow) => number): Measure => ({
	name,
	cell: (row) => String(pick(row)),
	value: pick,
});

const MEASURES: Measure[] = [
	{ name: 'Calls ended', cell: (r) => `${r.ended} of ${r.calls}` },
	counted('Items failed', (r) => r.itemsFailed),
	counted('Requests in all (answered 429 or not)', (r) => r.requests),
	counted('… creates (`POST /calls`)', (r) => r.creates),
	counted('… list reads (`GET /calls`)', (r) => r.listReads),
	counted('… single reads (`GET /calls/{id}`)', (r) => r.callReads),
	{
		name: 'GETs per poll cycle (mean, max)',
		cell: (r) => `${r.getsPerPollCycle.toFixed(2)}, ${r.maxGetsPerPollCycle}`,
		value: (r) => r.getsPerPollCycle,
	},
	counted('429 answers', (r) => r.answered429),
	counted('… to GETs (the rest to creates)', (r) => r.answered429ToReads),
	{
		name: "Share of the organisation's limit, busiest window",
		cell: (r) => percent(r.peakWindowShare),
		value: (r) => r.peakWindowShare,
	},
	{
		name: "Share of the organisation's limit, mean per window",
		cell: (r) => percent(r.meanShare),
		value: (r) => r.meanShare,
	},
	{
		name: 'Time to the last outcome',
		cell: (r) => secs(r.timeToLastOutcomeMs),
		value: (r) => r.timeToLastOutcomeMs,
	},
];

export function renderWaitSection(results: WaitBudgetResults, measuredBy?: string): string[] {
	const old = results.rows.find((row) => row.mode === 'old');
	const others = results.rows.filter((row) => row !== old);
	const limit = `${results.rateLimit.limit} requests per ${results.rateLimit.windowMs / 1000} s`;
	const loads = results.rows.flatMap((row) => [row.loadAverageBefore, row.loadAverageAfter]);
	const header = [
		'Measure',
		...results.rows.map((row) => row.mode),
		...(old ? others.map((row) => `${row.mode} / old`) : []),
	];
	const lines = [
		WAIT_SECTION_HEADING,
		'',
		...(measuredBy ? [measuredBy, ''] : []),
		`Place Call with Wait for Call to End for ${results.calls} calls of about ${results.callSeconds} s each (queued 1 s, ringing 2 s, then in progress), through n8n's engine in the bench process (\`test/support\`) against the simulator with Truedy's organisation limit of ${limit} (fixed windows, \`reset_at\` in the 429 body). Poll Interval ${results.pollIntervalS} s (the default), Transcript Wait 0, so neither way reads a call again for its transcript after the end (the simulator's calls end with their transcript, in lists too). The ways of waiting ran one after the other in the same process, each on a fresh simulator, from the same run:`,
		'',
		"- **old**: every waiting item reads its own call, one `GET /calls/{id}` per call per poll, as 0.1.0 did. Reproduced by the watcher's bench-only mode `usePerCallPollingForTests` (`callWatcher.ts`): the same poll schedule, transport and 429 handling, only the list read replaced by the single read; no budget.",
		`- **new**: Wait for Call to End as it is now: one \`GET /calls\` list (agent, \`created_after\`, 100 a page) per poll cycle answers for every call still followed; a call the list does not return is read alone. Requests per Minute at the node's default (${results.defaultRequestsPerMinute === 0 ? '0, no budget' : results.defaultRequestsPerMinute}).`,
		'- **new-budget**: the same with Requests per Minute 60, which leaves 40 of the 100 to other workflows.',
		'',
		`| ${header.join(' | ')} |`,
		`|---|${header
			.slice(1)
			.map(() => '---:')
			.join('|')}|`,
	];
	for (const measure of MEASURES) {
		const ratios =
			old && measure.value
				? others.map((row) => times(measure.value!(row), measure.value!(old)))
				: others.map(() => (old ? '–' : ''));
		lines.push(
			`| ${[measure.name, ...results.rows.map(measure.cell), ...(old ? ratios : [])].join(' | ')} |`,
		);
	}
	lines.push(
		'',
		`Counted from the simulator's request log. A *poll cycle* is one Poll Interval (${results.pollIntervalS} s), counted from the first GET to the last. The *share of the limit* counts the requests the simulator answered (not 429) in one window of the limiter, as a share of its ${results.rateLimit.limit}: in the busiest window, and on average over the windows the run touched (from the first request's window to the last's, each counted whole); the creates count too. Without a budget the creates go out as fast as the limit lets them, so the busiest window is theirs whichever way the node waits; the cost of the wait itself is in the GETs per poll cycle. *Time to the last outcome* is from the start of the node to its return, which is when the last call's outcome is known. 1-minute load average of the machine during the runs: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} (2 cores shared with other work; the counts do not depend on it, the times a little).`,
		'',
	);
	return lines;
}

export function waitTargetRows(results: WaitBudgetResults): string[] {
	const old = results.rows.find((row) => row.mode === 'old');
	const fresh = results.rows.find((row) => row.mode === 'new');
	if (!fresh) return [];
	const listFloor = Math.ceil(results.calls / 100);
	const yes = (met: boolean) => (met ? 'yes' : '**no**');
	const budgeted = results.rows.find((row) => row.mode === 'new-budget');
	return [
		`${TARGET_PREFIX}, ${results.calls} calls: GETs per poll cycle grow with N/100 (at most ${listFloor + 1} at N = ${results.calls}), not N | ${fresh.getsPerPollCycle.toFixed(2)} (max ${fresh.maxGetsPerPollCycle}) vs ${old ? `${old.getsPerPollCycle.toFixed(2)} (max ${old.maxGetsPerPollCycle})` : 'n/a'} per-call | ${yes(fresh.maxGetsPerPollCycle <= listFloor + 1)} |`,
		`${TARGET_PREFIX}, ${results.calls} calls: 0 429s when nothing else uses the budget (Requests per Minute 60), 0 items failed | ${budgeted ? `${budgeted.answered429} with 60` : 'not measured with 60'}; ${fresh.answered429} at the default (${fresh.answered429ToReads} to GETs), old ${old?.answered429 ?? 'n/a'}; failed ${fresh.itemsFailed}${budgeted ? ` and ${budgeted.itemsFailed}` : ''} | ${yes(!!budgeted && budgeted.answered429 === 0 && budgeted.itemsFailed === 0 && fresh.itemsFailed === 0)} |`,
	];
}

/**
 * Replaces, in an existing benchmarks page, the wait section (up to the next `## ` heading; new
 * pages get it before *Targets*) and the wait rows of the Targets table (appended to it when new).
 */
export function spliceWaitSection(page: string, results: WaitBudgetResults, measuredBy?: string) {
	const section = renderWaitSection(results, measuredBy);
	let lines = page.split('\n');
	const start = lines.findIndex((line) => line.trim() === WAIT_SECTION_HEADING);
	if (start >= 0) {
		let end = lines.findIndex((line, index) => index > start && /^## /.test(line));
		if (end < 0) end = lines.length;
		lines = [...lines.slice(0, start), ...section, ...lines.slice(end)];
	} else {
		const targets = lines.findIndex((line) => line.trim() === '## Targets');
		const at = targets >= 0 ? targets : lines.length;
		lines = [...lines.slice(0, at), ...section, ...lines.slice(at)];
	}
	lines = lines.filter((line) => !line.startsWith(TARGET_PREFIX));
	const tableStart = lines.findIndex((line) => line.trim() === '## Targets');
	if (tableStart >= 0) {
		let last = lines.findIndex((line, index) => index > tableStart && line.startsWith('|'));
		while (last >= 0 && lines[last + 1]?.startsWith('|')) last++;
		if (last >= 0) lines.splice(last + 1, 0, ...waitTargetRows(results));
	}
	return lines.join('\n');
}
