import type { WaitBudgetResults, WaitBudgetRow } from './results';
import { spliceWaitSection, WAIT_SECTION_HEADING } from './wait-report';

function row(mode: string, requests: number, answered429: number): WaitBudgetRow {
	return {
		mode,
		label: mode,
		calls: 100,
		requests,
		creates: 100,
		listReads: mode === 'old' ? 0 : requests - 100,
		callReads: mode === 'old' ? requests - 100 : 0,
		answered429,
		answered429ToReads: answered429,
		getsPerPollCycle: mode === 'old' ? 18.5 : 1,
		maxGetsPerPollCycle: mode === 'old' ? 100 : 1,
		peakWindowShare: 1,
		meanShare: 0.5,
		timeToLastOutcomeMs: 120_000,
		itemsFailed: 0,
		ended: 100,
		loadAverageBefore: 1,
		loadAverageAfter: 2,
	};
}

const results = (oldRequests: number): WaitBudgetResults => ({
	startedAt: '2026-12-01T00:00:00.000Z',
	calls: 100,
	callSeconds: 90,
	pollIntervalS: 5,
	defaultRequestsPerMinute: 0,
	rateLimit: { limit: 100, windowMs: 60_000 },
	rows: [row('old', oldRequests, 200), row('new', 110, 1), row('new-budget', 118, 0)],
});

const PAGE = [
	'# Benchmarks',
	'',
	'## Results',
	'',
	'## Targets',
	'',
	'| Target | Measured | Met |',
	'|---|---|---|',
	'| Trigger (vm): fast | p50 | yes |',
	'',
	'## Method',
	'',
].join('\n');

describe('spliceWaitSection', () => {
	it('puts a new section before Targets and its rows at the end of the Targets table', () => {
		const lines = spliceWaitSection(PAGE, results(600)).split('\n');
		const section = lines.indexOf(WAIT_SECTION_HEADING);
		expect(section).toBeGreaterThan(lines.indexOf('## Results'));
		expect(section).toBeLessThan(lines.indexOf('## Targets'));
		const rows = lines.filter((line) => line.startsWith('| Wait for Call to End'));
		expect(rows).toHaveLength(2);
		expect(lines.indexOf(rows[0])).toBe(lines.indexOf('| Trigger (vm): fast | p50 | yes |') + 1);
		expect(lines.find((line) => line.startsWith('| Requests in all'))).toBe(
			'| Requests in all (answered 429 or not) | 600 | 110 | 118 | 0.18× | 0.20× |',
		);
	});

	it('replaces the section and its rows on the next run instead of adding them again', () => {
		const once = spliceWaitSection(PAGE, results(600));
		const twice = spliceWaitSection(once, results(500)).split('\n');
		expect(twice.filter((line) => line === WAIT_SECTION_HEADING)).toHaveLength(1);
		expect(twice.filter((line) => line.startsWith('| Wait for Call to End'))).toHaveLength(2);
		expect(twice.find((line) => line.startsWith('| Requests in all'))).toContain('| 500 |');
		expect(twice.join('\n')).not.toContain('| 600 |');
	});

	it('marks the 429 target met only when the budgeted run drew none and no item failed', () => {
		const met = spliceWaitSection(PAGE, results(600));
		expect(met).toMatch(/0 429s when nothing else uses the budget.*\| yes \|$/m);
		const drew = results(600);
		drew.rows[2].answered429 = 3;
		expect(spliceWaitSection(PAGE, drew)).toMatch(/0 429s when nothing else.*\| \*\*no\*\* \|$/m);
	});
});
