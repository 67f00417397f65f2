// Scheduler throughput, measured the way kube-scheduler's scheduler_perf
// measures it (the source of the reference figure): 100 Node objects
// registered through the API with no kubelet behind them, 10,000 pending
// pods, and the rate at which the scheduler binds them, each binding written
// to the store along with its Scheduled event. Goal: >= 5,000 pods/s.
//
// Beside it, the end-to-end figure: the same pods onto 100 simulated nodes
// whose kubelets run them (each pod then also gets a status write to
// Running, in the same process), timed until every pod is Running. And the
// floor both pay: the same number of plain pod writes through the same store.
// Then the engine's memory (RSS, a separate engine process) with a
// 10,000-replica Deployment Running on 100 simulated nodes, settled (see
// engineMemory); goal under 300 MB. Right after the burst is shown beside it.
import fs from 'node:fs';
import type {KubeObject} from '../source/api/object.js';
import {typeByPlural} from '../source/api/resources.js';
import {isoTime} from '../source/api/time.js';
import type {NodeConfig} from '../source/engine/config.js';
import {ControllerRunner} from '../source/engine/controllers/runner.js';
import {Engine} from '../source/engine/engine.js';
import {nodeObject} from '../source/engine/nodes.js';
import {Scheduler} from '../source/engine/scheduler.js';
import {removeHome, tempHome} from '../test/helpers.js';
import {type Benchmark, type BenchRow, info, row, withSimulatedPods} from './harness.js';

const podType = typeByPlural('pods')!;
const nodeType = typeByPlural('nodes')!;

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

/**
 * Time `count` pending pods until `done(pod)` holds for each, counted from
 * the watch (so measuring costs nothing); the scheduler is held while the
 * pods are created, then timed alone. Then the plain-write floor.
 */
async function schedulingRate(count: number, withKubelets: boolean): Promise<{rate: number; plainWrites: number}> {
	const home = tempHome();
	const nodes = simulatedNodes(100);
	const engine = await Engine.start({home, config: {nodes: withKubelets ? nodes : [], images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
	try {
		if (!withKubelets) {
			// Node objects only, as scheduler_perf registers them: Ready, with nothing to run their pods.
			const now = isoTime(engine.clock.now());
			for (const node of nodes) {
				const object = nodeObject(node, now);
				const created = await engine.registry.create(nodeType, undefined, {...object, status: undefined} as KubeObject);
				await engine.registry.update(nodeType, undefined, node.name, {...created, status: object.status}, {subresource: 'status'});
			}
		}
		engine.runners[0].stop();
		await createPods(engine, count);
		const scheduler = new Scheduler(engine.store, engine.registry, engine.events, engine.clock);
		const runner = new ControllerRunner(scheduler, engine.store, engine.clock);
		const done = new Set<string>();
		let finished!: () => void;
		const allDone = new Promise<void>(resolve => (finished = resolve));
		const stopWatch = engine.store.watch('pods', 'default', Number(engine.store.resourceVersion), event => {
			const p = event.object;
			if (withKubelets ? (p.status as {phase?: string}).phase === 'Running' : (p.spec as {nodeName?: string}).nodeName) done.add(p.metadata.uid!);
			if (done.size === count) finished();
		});
		const start = process.hrtime.bigint();
		runner.start();
		await allDone;
		const rate = count / (Number(process.hrtime.bigint() - start) / 1e9);
		stopWatch();
		runner.stop();
		// The floor: the same number of single-pod writes through the same store.
		const pods = engine.store.list('pods', 'default').items;
		const writeStart = process.hrtime.bigint();
		await Promise.all(pods.map(p => engine.store.write(tx => tx.update(podType, {...p, metadata: {...p.metadata, resourceVersion: '', annotations: {touched: '1'}}}))));
		const plainWrites = count / (Number(process.hrtime.bigint() - writeStart) / 1e9);
		return {rate, plainWrites};
	} finally {
		await engine.stop();
		removeHome(home);
	}
}

/**
 * The engine's RSS once the Deployment is available, and settled: V8 keeps
 * the heap the burst of creating the pods grew to until its memory reducer
 * runs, some 20-30 s later with little allocation. Sampled every 5 s for a
 * minute; settled is the last sample.
 */
async function engineMemory(count: number): Promise<{afterBurst: number; settled: number}> {
	return withSimulatedPods(count, async ({engine}) => {
		const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${engine.pid}/status`, 'utf8'))![1]) / 1024;
		const afterBurst = rss();
		let settled = afterBurst;
		for (let i = 0; i < 12; i++) {
			await new Promise(r => setTimeout(r, 5000));
			settled = rss();
		}
		return {afterBurst, settled};
	});
}

export const scheduler: Benchmark = {
	name: 'scheduler',
	description: 'pods bound per second onto 100 simulated nodes, and engine memory with those pods',
	async run({quick, log}) {
		const count = quick ? 2000 : 10_000;
		const scheduled = await schedulingRate(count, false);
		log(`${count} pods bound onto 100 nodes: ${scheduled.rate.toFixed(0)} pods/s (plain pod writes: ${scheduled.plainWrites.toFixed(0)}/s)`);
		const running = await schedulingRate(count, true);
		log(`${count} pods to Running on 100 simulated nodes: ${running.rate.toFixed(0)} pods/s (plain pod writes: ${running.plainWrites.toFixed(0)}/s)`);
		const rows: BenchRow[] = [
			{...row(`scheduler: ${count} pods bound onto 100 nodes`, scheduled.rate, 'pods/s', 5000, 1), goal: '>= 5000 pods/s'},
			info(`scheduler: ${count} pods bound, vs plain pod writes`, scheduled.rate, 'pods/s', scheduled.plainWrites),
			info(`${count} pods to Running on 100 simulated nodes`, running.rate, 'pods/s', running.plainWrites),
		];
		const rss = await engineMemory(count);
		log(`engine RSS with a ${count}-replica Deployment Running: ${rss.afterBurst.toFixed(0)} MB right after the burst, ${rss.settled.toFixed(0)} MB settled a minute later`);
		rows.push({figure: `engine memory with ${count} pods (settled)`, value: rss.settled, unit: 'MB', baseline: 300, ratio: rss.settled / 300, goal: '<= 300 MB', met: rss.settled <= 300});
		rows.push(info(`engine memory right after creating ${count} pods`, rss.afterBurst, 'MB', rss.settled));
		return rows;
	},
};
