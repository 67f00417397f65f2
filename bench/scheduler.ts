// Scheduler throughput: 10,000 pending pods bound onto 100 simulated nodes,
// every binding written to the store, beside the same number of plain pod
// writes through the same store (the floor any scheduler pays). Goal:
// >= 5,000 pods/s. Then the engine's memory (RSS, a separate engine process)
// with a 10,000-replica Deployment Running on 100 simulated nodes; goal
// under 300 MB.
import fs from 'node:fs';
import type {KubeObject} from '../source/api/object.js';
import {typeByPlural} from '../source/api/resources.js';
import type {NodeConfig} from '../source/engine/config.js';
import {ControllerRunner} from '../source/engine/controllers/runner.js';
import {Engine} from '../source/engine/engine.js';
import {Scheduler} from '../source/engine/scheduler.js';
import {removeHome, tempHome} from '../test/helpers.js';
import {type Benchmark, type BenchRow, row, withSimulatedPods} from './harness.js';

const podType = typeByPlural('pods')!;

function simulatedNodes(count: number): NodeConfig[] {
	return Array.from({length: count}, (_, i) => ({name: `sim-${i}`, kind: 'simulated', cpu: '64', memory: '256Gi', pods: 500, labels: {}, taints: []}));
}

const pod = (i: number): KubeObject => ({
	apiVersion: 'v1', kind: 'Pod', metadata: {name: `p-${i}`, namespace: 'default'},
	spec: {containers: [{name: 'c', image: 'pause', resources: {requests: {cpu: '10m', memory: '16Mi'}}}]},
});

async function createPods(engine: Engine, count: number): Promise<void> {
	for (let i = 0; i < count; i += 1000) {
		await Promise.all(Array.from({length: Math.min(1000, count - i)}, (_, j) => engine.registry.create(podType, 'default', pod(i + j))));
	}
}

async function schedulingRate(count: number): Promise<{scheduled: number; plainWrites: number}> {
	const home = tempHome();
	const engine = await Engine.start({home, config: {nodes: simulatedNodes(100), images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
	try {
		// Hold the scheduler while the pods are created, then time it alone.
		engine.runners[0].stop();
		await createPods(engine, count);
		const scheduler = new Scheduler(engine.store, engine.registry, engine.events, engine.clock);
		const runner = new ControllerRunner(scheduler, engine.store, engine.clock);
		// Count bindings from the watch rather than polling the store, so measuring costs nothing.
		const bound = new Set<string>();
		let done!: () => void;
		const allBound = new Promise<void>(resolve => (done = resolve));
		const stopWatch = engine.store.watch('pods', 'default', Number(engine.store.resourceVersion), event => {
			if ((event.object.spec as {nodeName?: string}).nodeName) bound.add(event.object.metadata.uid!);
			if (bound.size === count) done();
		});
		const start = process.hrtime.bigint();
		runner.start();
		await allBound;
		const scheduled = count / (Number(process.hrtime.bigint() - start) / 1e9);
		stopWatch();
		runner.stop();
		// The floor: the same number of single-pod writes through the same store.
		const pods = engine.store.list('pods', 'default').items;
		const writeStart = process.hrtime.bigint();
		await Promise.all(pods.map(p => engine.store.write(tx => tx.update(podType, {...p, metadata: {...p.metadata, resourceVersion: '', annotations: {touched: '1'}}}))));
		const plainWrites = count / (Number(process.hrtime.bigint() - writeStart) / 1e9);
		return {scheduled, plainWrites};
	} finally {
		await engine.stop();
		removeHome(home);
	}
}

async function engineMemory(count: number): Promise<number> {
	return withSimulatedPods(count, async ({engine}) => {
		const status = fs.readFileSync(`/proc/${engine.pid}/status`, 'utf8');
		return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
	});
}

export const scheduler: Benchmark = {
	name: 'scheduler',
	description: 'pods bound per second onto 100 simulated nodes, and engine memory with those pods',
	async run({quick, log}) {
		const count = quick ? 2000 : 10_000;
		const {scheduled, plainWrites} = await schedulingRate(count);
		log(`${count} pods onto 100 simulated nodes: ${scheduled.toFixed(0)} pods/s (plain pod writes: ${plainWrites.toFixed(0)}/s)`);
		const rows: BenchRow[] = [row(`scheduler: ${count} pods onto 100 nodes`, scheduled, 'pods/s', plainWrites, 0.5)];
		rows.push({...row(`scheduler: ${count} pods, absolute`, scheduled, 'pods/s', 5000, 1), goal: '>= 5000 pods/s'});
		const rss = await engineMemory(count);
		log(`engine RSS with a ${count}-replica Deployment Running: ${rss.toFixed(0)} MB`);
		rows.push({figure: `engine memory with ${count} pods`, value: rss, unit: 'MB', baseline: 300, ratio: rss / 300, goal: '<= 300 MB', met: rss <= 300});
		return rows;
	},
};
