// What every benchmark reports: a figure measured beside a baseline in the
// same run, their ratio, and the goal the ratio is held to; and the setup
// several of them share.
import {resolveType} from '../source/api/resources.js';
import type {EmbeddedClient} from '../source/client/embedded.js';
import {type EngineProcess, withEngine} from '../test/helpers.js';

export interface BenchRow {
	figure: string;
	value: number;
	unit: string;
	baseline: number;
	/** value / baseline (for "higher is better" figures). */
	ratio: number;
	/** The ratio the issue asks for, e.g. ">= 0.5". */
	goal: string;
	met: boolean;
}

export interface BenchContext {
	quick: boolean;
	log: (line: string) => void;
}

export interface Benchmark {
	name: string;
	description: string;
	run(ctx: BenchContext): Promise<BenchRow[]>;
}

/** The nearest-rank percentile (p in 0..1); NaN of nothing. */
export function percentile(values: number[], p: number): number {
	if (values.length === 0) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

export function row(figure: string, value: number, unit: string, baseline: number, minRatio: number): BenchRow {
	const ratio = value / baseline;
	return {figure, value, unit, baseline, ratio, goal: `>= ${minRatio}`, met: ratio >= minRatio};
}

/** A figure shown for context, held to no goal. */
export function info(figure: string, value: number, unit: string, baseline: number): BenchRow {
	return {figure, value, unit, baseline, ratio: value / baseline, goal: '-', met: true};
}

export function formatRows(rows: BenchRow[]): string {
	const table = [['figure', 'value', 'unit', 'baseline', 'ratio', 'goal', 'met'],
		...rows.map(r => [r.figure, r.value.toFixed(0), r.unit, r.baseline.toFixed(0), r.ratio.toFixed(2), r.goal, r.goal === '-' ? '' : r.met ? 'yes' : 'NO'])];
	const widths = table[0].map((_, i) => Math.max(...table.map(t => t[i].length)) + 2);
	return table.map(t => t.map((c, i) => c.padEnd(widths[i])).join('').trimEnd()).join('\n');
}

/**
 * An engine process with 100 simulated nodes and a Deployment of `count`
 * pause pods, all available, for `fn`.
 */
export function withSimulatedPods<T>(count: number, fn: (ctx: {home: string; engine: EngineProcess; client: EmbeddedClient}) => Promise<T>): Promise<T> {
	const nodes = Array.from({length: 100}, (_, i) => `- {name: sim-${i}, kind: simulated, cpu: "64", memory: 256Gi, pods: 500}`).join('\n');
	return withEngine({configYaml: `nodes:\n${nodes}\n`}, async ctx => {
		await ctx.client.create({
			apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'many', namespace: 'default'},
			spec: {replicas: count, selector: {matchLabels: {app: 'many'}}, template: {metadata: {labels: {app: 'many'}}, spec: {containers: [{name: 'c', image: 'pause'}]}}},
		});
		for (;;) {
			const d = await ctx.client.get(resolveType('deployments')!, 'default', 'many');
			if ((d.status as {availableReplicas?: number})?.availableReplicas === count) break;
			await new Promise(r => setTimeout(r, 250));
		}
		return fn(ctx);
	});
}
