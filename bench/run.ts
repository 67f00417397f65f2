// npm run bench [-- NAME] [--quick]: runs the benchmarks, prints a table of
// figure, value, unit, baseline, ratio and goal, and writes the same rows to
// bench/results/latest.json.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {repoRoot} from '../test/helpers.js';
import {type BenchRow, type Benchmark, formatRows} from './harness.js';

// Each benchmark runs in a process of its own, which loads only its module: the dashboard's
// memory is then the dashboard's (the other benchmarks' modules added 21 MB to it), and no
// benchmark inherits another's garbage, timers or engines.
const benchmarks: Record<string, () => Promise<Benchmark>> = {
	'store-writes': async () => (await import('./store-writes.js')).storeWrites,
	'pod-start': async () => (await import('./pod-start.js')).podStart,
	scheduler: async () => (await import('./scheduler.js')).scheduler,
	dashboard: async () => (await import('./dashboard.js')).dashboard,
	network: async () => (await import('./network.js')).network,
	workloads: async () => (await import('./workloads.js')).workloads,
	access: async () => (await import('./access.js')).access,
	api: async () => (await import('./api.js')).api,
	ssh: async () => (await import('./ssh.js')).ssh,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const child = args.indexOf('--child');

if (child >= 0) {
	// One benchmark, its rows to the file the parent named.
	const bench = await benchmarks[args[child + 1]]();
	console.log(`# ${bench.name}: ${bench.description}${quick ? ' (quick)' : ''}`);
	const rows = await bench.run({quick, log: line => console.log(`  ${line}`)});
	fs.writeFileSync(args[child + 2], JSON.stringify(rows));
	process.exit(0);
}

const names = args.filter(a => !a.startsWith('--'));
const unknown = names.filter(n => !benchmarks[n]);
if (unknown.length) {
	console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`);
	process.exit(1);
}
const rows: BenchRow[] = [];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-bench-'));
try {
	for (const name of names.length ? names : Object.keys(benchmarks)) {
		const file = path.join(scratch, `${name}.json`);
		const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name, file, ...(quick ? ['--quick'] : [])], {stdio: 'inherit'});
		if (run.status !== 0) throw new Error(`benchmark ${name} failed (exit ${run.status ?? run.signal})`);
		rows.push(...(JSON.parse(fs.readFileSync(file, 'utf8')) as BenchRow[]));
	}
} finally {
	fs.rmSync(scratch, {recursive: true, force: true});
}
console.log(`\n${formatRows(rows)}`);
const out = path.join(repoRoot, 'bench', 'results');
fs.mkdirSync(out, {recursive: true});
fs.writeFileSync(path.join(out, 'latest.json'), `${JSON.stringify({date: new Date().toISOString(), quick, rows}, null, 2)}\n`);
