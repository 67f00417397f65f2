// Pod start throughput: a Deployment of N pods of the built-in pause image on
// one process node, timed until all are Running, beside spawning the same N
// processes directly with execa in this script (the baseline; goal
// >= 0.5), and, for context, with bare child_process.spawn.
import {spawn} from 'node:child_process';
import {typeByPlural} from '../source/api/resources.js';
import {withEngine} from '../test/helpers.js';
import {execa} from 'execa';
import {type Benchmark, info, row} from './harness.js';

async function rawSpawn(count: number, how: 'execa' | 'child_process'): Promise<number> {
	const start = process.hrtime.bigint();
	const children: {pid?: number; once(event: 'spawn', fn: () => void): unknown}[] = [];
	for (let i = 0; i < count; i++) {
		const child = how === 'execa'
			? execa('sleep', ['infinity'], {detached: true, reject: false})
			: spawn('sleep', ['infinity'], {detached: true, stdio: ['ignore', 'pipe', 'pipe']});
		children.push(child);
		await new Promise<void>(resolve => child.once('spawn', () => resolve()));
	}
	const seconds = Number(process.hrtime.bigint() - start) / 1e9;
	for (const child of children) process.kill(-child.pid!, 'SIGKILL');
	return count / seconds;
}

async function deploymentStart(count: number): Promise<number> {
	return withEngine({configYaml: `nodes:\n- {name: bench, cpu: "64", memory: 64Gi, pods: ${count + 10}}\n`}, async ({client}) => {
		const start = process.hrtime.bigint();
		await client.create({
			apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'pause', namespace: 'default'},
			spec: {replicas: count, selector: {matchLabels: {app: 'pause'}}, template: {metadata: {labels: {app: 'pause'}}, spec: {terminationGracePeriodSeconds: 0, containers: [{name: 'pause', image: 'pause'}]}}},
		});
		for (;;) {
			const pods = (await client.list(typeByPlural('pods')!, {namespace: 'default'})).items;
			if (pods.filter(p => (p.status as {phase?: string})?.phase === 'Running').length === count) break;
			await new Promise(r => setTimeout(r, 20));
		}
		return count / (Number(process.hrtime.bigint() - start) / 1e9);
	});
}

export const podStart: Benchmark = {
	name: 'pod-start',
	description: 'pods of the pause image Running per second vs spawning the same processes directly',
	async run({quick, log}) {
		const count = quick ? 50 : 200;
		const viaExeca = await rawSpawn(count, 'execa');
		log(`spawn of ${count} sleep processes with execa: ${viaExeca.toFixed(0)}/s`);
		const bare = await rawSpawn(count, 'child_process');
		log(`spawn of ${count} sleep processes with child_process.spawn: ${bare.toFixed(0)}/s`);
		const pods = await deploymentStart(count);
		log(`Deployment of ${count} pause pods to Running: ${pods.toFixed(0)} pods/s`);
		return [
			row(`pod start (${count} pause pods) vs execa spawn`, pods, 'pods/s', viaExeca, 0.5),
			info(`pod start (${count} pause pods) vs bare spawn`, pods, 'pods/s', bare),
		];
	},
};
