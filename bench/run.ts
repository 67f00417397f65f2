// npm run bench [-- NAME] [--quick]: runs the benchmarks, prints a table of
// figure, value, unit, baseline, ratio and goal, and writes the same rows to
// bench/results/latest.json.
import fs from 'node:fs';
import path from 'node:path';
import {repoRoot} from '../test/helpers.js';
import {type BenchRow, type Benchmark, formatRows} from './harness.js';
import {access} from './access.js';
import {dashboard} from './dashboard.js';
import {network} from './network.js';
import {podStart} from './pod-start.js';
import {scheduler} from './scheduler.js';
import {storeWrites} from './store-writes.js';
import {workloads} from './workloads.js';

const benchmarks: Benchmark[] = [storeWrites, podStart, scheduler, dashboard, network, workloads, access];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter(a => !a.startsWith('--'));
const selected = names.length ? benchmarks.filter(b => names.includes(b.name)) : benchmarks;
if (selected.length === 0) {
	console.error(`unknown benchmark ${names.join(', ')}; known: ${benchmarks.map(b => b.name).join(', ')}`);
	process.exit(1);
}
const rows: BenchRow[] = [];
for (const bench of selected) {
	console.log(`# ${bench.name}: ${bench.description}${quick ? ' (quick)' : ''}`);
	rows.push(...await bench.run({quick, log: line => console.log(`  ${line}`)}));
}
console.log(`\n${formatRows(rows)}`);
const out = path.join(repoRoot, 'bench', 'results');
fs.mkdirSync(out, {recursive: true});
fs.writeFileSync(path.join(out, 'latest.json'), `${JSON.stringify({date: new Date().toISOString(), quick, rows}, null, 2)}\n`);
