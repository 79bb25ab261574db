/** Medians over runs, per scenario and variant, shared by the report and the chart. */
import { itemsPerSecond, median } from './results';
import type { BenchResults, RawRun, ScenarioKey, VariantRun } from './results';

export interface VariantSummary {
	scenario: ScenarioKey;
	variant: string;
	label: string;
	runs: number;
	/** Runs whose execution succeeded. */
	succeeded: number;
	nodeMs: number;
	itemsPerSec: number;
	wallMs: number;
	cpuMs: number;
	callsCreated: number;
	duplicateDials: number;
	lostItems: number;
	rejected429: number;
	maxInFlight: number;
	/** Worst run (highest) duplicates and lost items: "must be 0" is judged on every run. */
	worstDuplicates: number;
	worstLost: number;
	concurrency?: number;
	error?: string;
}

export interface RawSummary {
	scenario: ScenarioKey;
	connections: number;
	durationMs: number;
	itemsPerSec: number;
	ok: number;
	runs: number;
}

export interface Summary {
	variants: VariantSummary[];
	raw: RawSummary[];
	get(scenario: ScenarioKey, variant: string): VariantSummary | undefined;
	rawAt(scenario: ScenarioKey, connections: number): RawSummary | undefined;
	/** The Place Call variant with the highest median throughput in a scenario (successful runs only). */
	bestPlace(scenario: ScenarioKey): VariantSummary | undefined;
	/** Place Call's concurrency of a variant (the default's is the node default). */
	concurrencyOf(variant: string): number | undefined;
}

export function summarize(results: BenchResults): Summary {
	const labels = new Map(results.variants.map((variant) => [variant.key, variant.label]));
	const concurrencyOf = (key: string): number | undefined => {
		const variant = results.variants.find((v) => v.key === key);
		if (!variant || variant.kind !== 'place') return undefined;
		return variant.concurrency ?? results.options.defaultConcurrency;
	};
	const groups = new Map<string, VariantRun[]>();
	for (const run of results.runs) {
		const key = `${run.scenario}|${run.variant}`;
		groups.set(key, [...(groups.get(key) ?? []), run]);
	}
	const variants: VariantSummary[] = [...groups.values()].map((runs) => {
		const pick = (field: keyof VariantRun) => median(runs.map((run) => Number(run[field])));
		const nodeMs = pick('nodeMs');
		return {
			scenario: runs[0].scenario,
			variant: runs[0].variant,
			label: labels.get(runs[0].variant) ?? runs[0].variant,
			runs: runs.length,
			succeeded: runs.filter((run) => run.status === 'success').length,
			nodeMs,
			itemsPerSec: itemsPerSecond(runs[0].items, nodeMs),
			wallMs: pick('wallMs'),
			cpuMs: pick('cpuMs'),
			callsCreated: pick('callsCreated'),
			duplicateDials: pick('duplicateDials'),
			lostItems: pick('lostItems'),
			rejected429: pick('rejected429'),
			maxInFlight: pick('maxInFlight'),
			worstDuplicates: Math.max(...runs.map((run) => run.duplicateDials)),
			worstLost: Math.max(...runs.map((run) => run.lostItems)),
			concurrency: concurrencyOf(runs[0].variant),
			error: runs.find((run) => run.error)?.error,
		};
	});
	const rawGroups = new Map<string, RawRun[]>();
	for (const run of results.raw) {
		const key = `${run.scenario}|${run.connections}`;
		rawGroups.set(key, [...(rawGroups.get(key) ?? []), run]);
	}
	const raw: RawSummary[] = [...rawGroups.values()].map((runs) => {
		const durationMs = median(runs.map((run) => run.durationMs));
		return {
			scenario: runs[0].scenario,
			connections: runs[0].connections,
			durationMs,
			itemsPerSec: itemsPerSecond(runs[0].amount, durationMs),
			ok: median(runs.map((run) => run.ok)),
			runs: runs.length,
		};
	});
	const get = (scenario: ScenarioKey, variant: string) =>
		variants.find((v) => v.scenario === scenario && v.variant === variant);
	return {
		variants,
		raw,
		get,
		rawAt: (scenario, connections) =>
			raw.find((r) => r.scenario === scenario && r.connections === connections),
		bestPlace: (scenario) =>
			variants
				.filter(
					(v) =>
						v.scenario === scenario &&
						v.variant.startsWith('place-') &&
						v.variant !== 'place-c1' &&
						v.succeeded === v.runs,
				)
				.sort((a, b) => b.itemsPerSec - a.itemsPerSec)[0],
		concurrencyOf,
	};
}
