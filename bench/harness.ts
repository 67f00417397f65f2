// What every benchmark reports: a figure measured beside a baseline in the
// same run, their ratio, and the goal the ratio is held to.

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
