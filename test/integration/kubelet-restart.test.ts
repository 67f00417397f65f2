// The kubelet across engine restarts and crash loops: a container lost with
// the last engine is never read as running, and a crash-looping container
// keeps only the logs `logs` and `logs -p` read.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {describe, it} from 'node:test';
import {typeByPlural} from '../../source/api/resources.js';
import {ManualClock} from '../../source/engine/clock.js';
import {Engine} from '../../source/engine/engine.js';
import {podDirectory} from '../../source/engine/kubelet/logs.js';
import {eventually, removeHome, runCli, startEngine, tempHome} from '../helpers.js';

type Rec = Record<string, any>;

describe('the kubelet across restarts', () => {
	it('reports a container lost with the last engine before anyone can read it as running', async () => {
		const home = tempHome();
		let engine = await startEngine(home);
		const kd = (args: string[]) => runCli(args, {home});
		try {
			assert.equal((await kd(['create', 'deployment', 'web', '--image=busybox', '--', 'sleep', '3600'])).code, 0);
			const before = await eventually(async () => {
				const pods = JSON.parse((await kd(['get', 'pods', '-o', 'json'])).stdout).items as Rec[];
				return pods[0]?.status?.containerStatuses?.[0]?.state?.running && pods[0];
			}, 'the pod to run');
			await engine.stop();
			engine = await startEngine(home);
			// The very first read after the restart.
			const pod = JSON.parse((await kd(['get', 'pod', before.metadata.name, '-o', 'json'])).stdout);
			const status = pod.status.containerStatuses[0];
			const lost = status.state.terminated ?? status.lastState.terminated;
			assert.equal(lost?.reason, 'ContainerStatusUnknown', JSON.stringify(status));
			assert.equal(lost.exitCode, 137);
			assert.ok(!status.state.running || status.restartCount === 1, 'running only as a new instance');
			assert.doesNotMatch((await kd(['get', 'pod', before.metadata.name])).stdout, /1\/1\s+Running\s+0/);
			await eventually(async () => /1\/1\s+Running\s+1/.test((await kd(['get', 'pod', before.metadata.name])).stdout), 'the container to restart');
		} finally {
			await engine.stop();
			removeHome(home);
		}
	});

	it('keeps the current and the previous log of a crash-looping container, and no more', async () => {
		const home = tempHome();
		const clock = new ManualClock();
		const engine = await Engine.start({home, clock, config: {nodes: [{name: 'n', kind: 'process', cpu: '4', memory: '8Gi', pods: 10, labels: {}, taints: []}], images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
		try {
			await engine.registry.create(typeByPlural('pods')!, 'default', {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'crash', namespace: 'default'}, spec: {containers: [{name: 'main', image: 'busybox', command: ['sh', '-c', 'echo run $$; exit 1']}]}});
			const restarts = () => ((engine.store.get('pods', 'default', 'crash')?.status as Rec)?.containerStatuses?.[0]?.restartCount ?? 0) as number;
			// Past each back-off (10 s doubling to 5 min) on the manual clock, until it has restarted four times.
			await eventually(() => {
				clock.advance(30_000);
				return restarts() >= 4;
			}, 'four restarts', 30_000);
			await eventually(() => (engine.store.get('pods', 'default', 'crash')!.status as Rec).containerStatuses[0].state.waiting?.reason === 'CrashLoopBackOff', 'the last instance to have exited');
			const pod = engine.store.get('pods', 'default', 'crash')!;
			const count = restarts();
			const logs = fs.readdirSync(podDirectory(home, pod)).sort();
			assert.deepEqual(logs, [`main.${count - 1}.log`, `main.${count}.log`].sort(), `only the previous and the current instance's logs: ${logs.join(', ')}`);
			assert.match(fs.readFileSync(path.join(podDirectory(home, pod), `main.${count - 1}.log`), 'utf8'), /stdout F run \d+/);
		} finally {
			await engine.stop();
			removeHome(home);
		}
	});
});
