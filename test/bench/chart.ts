/**
 * The throughput chart: one panel per scenario (each with its own scale), bars for Place Call,
 * n8n's HTTP Request node and the simulator's raw capacity (or the ideal under the rate limit).
 * Drawn as SVG and screenshotted to PNG with headless chromium (playwright-core).
 */
import fs from 'fs';

import { ensureChromium, launchChromium } from '../e2e/browser';
import type { BenchResults, ScenarioKey } from './results';
import { summarize } from './summary';
import type { Summary, VariantSummary } from './summary';

interface Bar {
	label: string[];
	value: number;
	color: string;
	/** A reference bar (raw capacity) that may run off the scale, so the nodes stay readable. */
	reference?: boolean;
	/** Shown above the bar instead of the value (e.g. "failed"). */
	note?: string;
}

interface Panel {
	title: string;
	subtitle: string;
	bars: Bar[];
}

const CHART_WIDTH = 1400;
const CHART_HEIGHT = 560;
const COLORS = {
	place: '#5b3df5',
	placeBest: '#9b87ff',
	http: '#f08c2b',
	httpRetry: '#f5b46e',
	raw: '#9aa3ad',
	ideal: '#2f9e6b',
};

function fmt(value: number): string {
	if (!Number.isFinite(value)) return 'n/a';
	return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function variantBar(
	summary: VariantSummary | undefined,
	label: string[],
	color: string,
	_items: number,
): Bar | undefined {
	if (!summary) return undefined;
	if (summary.succeeded < summary.runs || summary.lostItems > 0) {
		return { label, value: 0, color, note: `failed|${fmt(summary.lostItems)} lost` };
	}
	return { label, value: summary.itemsPerSec, color };
}

function panels(results: BenchResults, summary: Summary): Panel[] {
	const items = results.options.items;
	const out: Panel[] = [];
	for (const scenario of results.scenarios) {
		const key = scenario.key as ScenarioKey;
		const bars: Array<Bar | undefined> = [];
		const def = summary.get(key, 'place-default');
		bars.push(
			variantBar(
				def,
				['Place Call', `default, c=${results.options.defaultConcurrency}`],
				COLORS.place,
				items,
			),
		);
		if (key === 'ratelimit') {
			bars.push(
				variantBar(
					summary.get(key, 'place-paced'),
					['Place Call', 'Calls/Min set'],
					COLORS.placeBest,
					items,
				),
			);
			bars.push(
				variantBar(
					summary.get(key, 'http-default'),
					['HTTP Request', 'default'],
					COLORS.http,
					items,
				),
			);
			bars.push(
				variantBar(
					summary.get(key, 'http-retry'),
					['HTTP Request', '+ Retry On Fail'],
					COLORS.httpRetry,
					items,
				),
			);
			const limit = scenario.rateLimit!;
			bars.push({
				label: ['Ideal', `${limit.limit} / ${limit.windowMs / 1000} s`],
				value: (limit.limit * 1000) / limit.windowMs,
				color: COLORS.ideal,
			});
		} else {
			const best = summary.bestPlace(key);
			if (best && best.variant !== 'place-default') {
				bars.push(
					variantBar(best, ['Place Call', `best, c=${best.concurrency}`], COLORS.placeBest, items),
				);
			}
			bars.push(
				variantBar(
					summary.get(key, 'http-default'),
					['HTTP Request', 'default'],
					COLORS.http,
					items,
				),
			);
			const rawC = best?.concurrency ?? results.options.defaultConcurrency;
			const raw = summary.rawAt(key, rawC);
			if (raw)
				bars.push({
					label: ['Raw capacity', `c=${rawC}`],
					value: raw.itemsPerSec,
					color: COLORS.raw,
					reference: true,
				});
		}
		out.push({
			title: scenario.label,
			subtitle: `${items} calls; medians of up to ${results.options.runs} run${results.options.runs === 1 ? '' : 's'}`,
			bars: bars.filter((bar): bar is Bar => bar !== undefined),
		});
	}
	return out;
}

function niceMax(value: number): number {
	if (!(value > 0)) return 1;
	const exponent = 10 ** Math.floor(Math.log10(value));
	for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10])
		if (step * exponent >= value) return step * exponent;
	return 10 * exponent;
}

const escape = (text: string): string =>
	text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(results: BenchResults): string {
	const summary = summarize(results);
	const list = panels(results, summary);
	const width = CHART_WIDTH;
	const height = CHART_HEIGHT;
	// Panels get room in proportion to their bars.
	const totalBars = list.reduce((sum, panel) => sum + panel.bars.length, 0);
	const panelWidths = list.map((panel) => ((width - 40) * panel.bars.length) / totalBars);
	const top = 110;
	const plotHeight = 300;
	const parts: string[] = [];
	parts.push(
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
		`<rect width="100%" height="100%" fill="#ffffff"/>`,
		`<text x="20" y="34" font-size="22" font-weight="bold" fill="#1d1d1f">Place Call throughput in a real n8n ${escape(results.machine.n8n)} (items per second, higher is better)</text>`,
		`<text x="20" y="58" font-size="13" fill="#555">Node executionTime from n8n's run data; Truedy simulator on 127.0.0.1; ${results.machine.cores} cores, ${escape(results.machine.cpuModel)}</text>`,
	);
	list.forEach((panel, index) => {
		const x0 = 20 + panelWidths.slice(0, index).reduce((sum, w) => sum + w, 0) + 50;
		const innerWidth = panelWidths[index] - 70;
		// The scale follows the nodes; a reference bar more than twice as tall is cut off and labelled.
		const nodeMax = Math.max(
			...panel.bars.filter((bar) => !bar.reference).map((bar) => bar.value),
			0,
		);
		const allMax = Math.max(...panel.bars.map((bar) => bar.value));
		const max = niceMax((allMax > nodeMax * 2.5 && nodeMax > 0 ? nodeMax * 2.2 : allMax) * 1.12);
		parts.push(
			`<text x="${x0}" y="${top - 24}" font-size="16" font-weight="bold" fill="#1d1d1f">${escape(panel.title)}</text>`,
		);
		parts.push(
			`<text x="${x0}" y="${top - 8}" font-size="12" fill="#666">${escape(panel.subtitle)}</text>`,
		);
		for (let tick = 0; tick <= 4; tick++) {
			const value = (max * tick) / 4;
			const y = top + plotHeight - (plotHeight * tick) / 4;
			parts.push(
				`<line x1="${x0}" x2="${x0 + innerWidth}" y1="${y}" y2="${y}" stroke="${tick === 0 ? '#333' : '#e3e3e3'}"/>`,
			);
			parts.push(
				`<text x="${x0 - 6}" y="${y + 4}" font-size="11" fill="#666" text-anchor="end">${fmt(value)}</text>`,
			);
		}
		const slot = innerWidth / panel.bars.length;
		const barWidth = Math.min(60, slot * 0.6);
		panel.bars.forEach((bar, barIndex) => {
			const cx = x0 + slot * barIndex + slot / 2;
			const clipped = bar.value > max;
			const h = (plotHeight * Math.min(bar.value, max)) / max;
			const y = top + plotHeight - h;
			parts.push(
				`<rect x="${cx - barWidth / 2}" y="${y}" width="${barWidth}" height="${Math.max(0, h)}" fill="${bar.color}" rx="2"/>`,
			);
			if (clipped) {
				// A white zigzag across the bar marks the cut.
				const zy = y + 18;
				const w = barWidth / 2;
				parts.push(
					`<polyline points="${cx - w - 2},${zy} ${cx - w / 2},${zy - 6} ${cx},${zy} ${cx + w / 2},${zy - 6} ${cx + w + 2},${zy}" fill="none" stroke="#fff" stroke-width="5"/>`,
				);
			}
			if (clipped) {
				parts.push(
					`<text x="${cx}" y="${y + 44}" font-size="12" font-weight="bold" fill="#fff" text-anchor="middle">${fmt(bar.value)}/s</text>`,
				);
				parts.push(
					`<text x="${cx}" y="${y + 59}" font-size="11" fill="#fff" text-anchor="middle">off scale</text>`,
				);
			}
			const note = bar.note ?? (clipped ? '' : `${fmt(bar.value)}/s`);
			const noteLines = note ? note.split('|') : [];
			noteLines.forEach((line, lineIndex) => {
				parts.push(
					`<text x="${cx}" y="${y - 6 - (noteLines.length - 1 - lineIndex) * 14}" font-size="12" font-weight="bold" fill="${bar.note ? '#c0392b' : '#1d1d1f'}" text-anchor="middle">${escape(line)}</text>`,
				);
			});
			bar.label.forEach((line, lineIndex) => {
				parts.push(
					`<text x="${cx}" y="${top + plotHeight + 18 + lineIndex * 15}" font-size="12" fill="#333" text-anchor="middle">${escape(line)}</text>`,
				);
			});
		});
	});
	const legendY = height - 40;
	parts.push(
		`<text x="20" y="${legendY}" font-size="12" fill="#555">Raw capacity: autocannon POSTing the same creates straight to the simulator at the same concurrency. Ideal: the rate limit itself (${results.options.rateLimit.limit} calls per ${results.options.rateLimit.windowMs / 1000} s window).</text>`,
		`<text x="20" y="${legendY + 18}" font-size="12" fill="#555">A failed bar means the node stopped with an error before every lead had a call. Full tables: docs/benchmarks.md.</text>`,
		`</svg>`,
	);
	return parts.join('\n');
}

/** Writes the chart as PNG (chromium screenshot of the SVG). */
export async function renderChart(results: BenchResults, pngPath: string): Promise<void> {
	const svg = chartSvg(results);
	const executable = await ensureChromium();
	const browser = await launchChromium(executable);
	try {
		const page = await browser.newPage({
			viewport: { width: CHART_WIDTH, height: CHART_HEIGHT },
			deviceScaleFactor: 1,
		});
		await page.setContent(
			`<!doctype html><html><body style="margin:0;background:#fff">${svg}</body></html>`,
		);
		const png = await page.locator('svg').screenshot({ type: 'png' });
		fs.writeFileSync(pngPath, png);
	} finally {
		await browser.close();
	}
}
