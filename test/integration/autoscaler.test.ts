// The HorizontalPodAutoscaler on an in-process engine whose clock moves only
// when the test says: real pods of the built-in CPU burner scale their
// Deployment up to maxReplicas, and once the load stops, down to minReplicas
// only after the 300 s scale-down stabilization window. CPU is measured from
// the processes over real time; the syncs and windows follow the manual clock.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import {typeByPlural} from '../../source/api/resources.js';
import {ManualClock} from '../../source/engine/clock.js';
import type {NodeConfig} from '../../source/engine/config.js';
import {Engine} from '../../source/engine/engine.js';
import {hasBubblewrap} from '../../source/engine/kubelet/kubelet.js';
import {eventually, passing, removeHome, tempHome} from '../helpers.js';

type Rec = Record<string, any>;
const deployType = typeByPlural('deployments')!;
const hpaType = typeByPlural('horizontalpodautoscalers')!;
const node: NodeConfig = {name: 'local', kind: 'process', cpu: '8', memory: '16Gi', pods: 110, labels: {}, taints: []};

describe('HorizontalPodAutoscaler (real CPU load, manual clock)', () => {
	let engine: Engine;
	let home: string;
	let control: string;
	const clock = new ManualClock(Date.now());
	// Each 5 s step (the kubelet samples every 5 s) gets 250 ms of real time, so a CPU sample spans a fair window.
	const pass = passing(clock, 250);
	before(async () => {
		home = tempHome();
		control = fs.mkdtempSync(path.join(path.dirname(home), 'kubedeck-hpa-'));
		// The pods' own uids must be able to look in it.
		fs.chmodSync(control, 0o755);
		engine = await Engine.start({home, clock, config: {nodes: [node], images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
		fs.rmSync(control, {recursive: true, force: true});
	});
	const hpa = () => engine.store.get('horizontalpodautoscalers', 'default', 'load')!;
	const status = () => (hpa().status ?? {}) as Rec;
	const condition = (type: string) => (status().conditions ?? []).find((c: Rec) => c.type === type) as Rec | undefined;
	const replicas = () => Number((engine.store.get('deployments', 'default', 'load')!.spec as Rec).replicas);
	const reasons = () => engine.store.list('events', 'default').items.filter(e => (e.involvedObject as Rec).kind === 'HorizontalPodAutoscaler').map(e => `${e.reason}: ${e.message}`);

	it('scales up under CPU load to maxReplicas, and down to minReplicas after the stabilization window once the load stops', async () => {
		// The burner stops when this file appears; without bubblewrap the host path is what the pod sees.
		const stopFile = hasBubblewrap() ? '/ctl/stop' : path.join(control, 'stop');
		await engine.registry.create(deployType, 'default', {
			apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'load', namespace: 'default'},
			spec: {
				replicas: 1, selector: {matchLabels: {app: 'load'}},
				template: {
					metadata: {labels: {app: 'load'}},
					spec: {
						terminationGracePeriodSeconds: 1,
						containers: [{name: 'main', image: 'kubedeck/agnhost', args: ['burn-cpu', '--millicores=500', `--until-file=${stopFile}`], resources: {requests: {cpu: '100m'}}, volumeMounts: [{name: 'ctl', mountPath: '/ctl'}]}],
						volumes: [{name: 'ctl', hostPath: {path: control}}],
					},
				},
			},
		} as KubeObject);
		await engine.registry.create(hpaType, 'default', {
			apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {name: 'load', namespace: 'default'},
			spec: {scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'load'}, minReplicas: 1, maxReplicas: 3, metrics: [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 50}}}]},
		} as KubeObject);
		await eventually(async () => {
			await pass(15_000);
			return replicas() === 3 && status().desiredReplicas === 3;
		}, 'the Deployment scaled to maxReplicas', 90_000);
		assert.equal(condition('ScalingActive')?.reason, 'ValidMetricFound');
		assert.ok((status().currentMetrics[0].resource.current.averageUtilization as number) > 50, `utilization above target: ${JSON.stringify(status().currentMetrics)}`);
		// Events are written best effort, after the scale: waited for, not raced.
		await eventually(() => reasons().some(r => /^SuccessfulRescale: New size: \d; reason: cpu resource utilization \(percentage of request\) above target$/.test(r)), 'the SuccessfulRescale event');
		await eventually(async () => {
			await pass(15_000);
			return condition('ScalingLimited')?.reason === 'TooManyReplicas';
		}, 'ScalingLimited: TooManyReplicas while the load wants more', 60_000);

		// The load stops: the recommendation drops at once, the replicas only after 300 s of clock.
		fs.writeFileSync(path.join(control, 'stop'), '');
		await eventually(async () => {
			await pass(15_000);
			return condition('AbleToScale')?.reason === 'ScaleDownStabilized';
		}, 'a stabilized scale-down', 60_000);
		const stabilizedAt = clock.now();
		assert.equal(replicas(), 3, 'no scale-down inside the window');
		await eventually(async () => {
			await pass(15_000);
			return replicas() === 1;
		}, 'the Deployment back at minReplicas', 120_000);
		assert.ok(clock.now() - stabilizedAt >= 240_000, `the scale-down waited for the window (${(clock.now() - stabilizedAt) / 1000} s)`);
		await eventually(() => reasons().some(r => r === 'SuccessfulRescale: New size: 1; reason: All metrics below target'), 'the scale-down event');
	});

	it('scales on the connections a Service takes, counted by the service proxy', async () => {
		await engine.registry.create(deployType, 'default', {
			apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web', namespace: 'default'},
			spec: {replicas: 1, selector: {matchLabels: {app: 'web'}}, template: {metadata: {labels: {app: 'web'}}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: 'main', image: 'kubedeck/agnhost', args: ['netexec', '--http-port=8080']}]}}},
		} as KubeObject);
		await engine.registry.create(typeByPlural('services')!, 'default', {apiVersion: 'v1', kind: 'Service', metadata: {name: 'web', namespace: 'default'}, spec: {selector: {app: 'web'}, ports: [{port: 80, targetPort: 8080}]}} as KubeObject);
		const ip = (engine.store.get('services', 'default', 'web')!.spec as Rec).clusterIP as string;
		await eventually(() => ((engine.store.get('endpoints', 'default', 'web')?.subsets as Rec[] | undefined)?.[0]?.addresses ?? []).length === 1, 'a ready endpoint', 30_000);
		// Each connection is one HTTP request answered through the proxy.
		const connect = () => new Promise<void>((resolve, reject) => {
			const socket = net.connect(80, ip, () => socket.end('GET / HTTP/1.0\r\n\r\n'));
			socket.on('data', () => {});
			socket.on('close', () => resolve());
			socket.on('error', reject);
		});
		await engine.registry.create(hpaType, 'default', {
			apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {name: 'web', namespace: 'default'},
			spec: {
				scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'web'}, minReplicas: 1, maxReplicas: 3,
				metrics: [{type: 'Object', object: {metric: {name: 'connections_per_second'}, describedObject: {apiVersion: 'v1', kind: 'Service', name: 'web'}, target: {type: 'Value', value: '1'}}}],
			},
		} as KubeObject);
		const web = () => engine.store.get('horizontalpodautoscalers', 'default', 'web')!;
		// The first reading of a rate is only a starting point.
		await eventually(async () => {
			await pass(15_000);
			return ((web().status as Rec)?.conditions ?? []).some((c: Rec) => c.type === 'ScalingActive');
		}, 'a first sync', 30_000);
		// 60 connections in 15 s of clock: 4 a second against a target of 1.
		await eventually(async () => {
			await Promise.all(Array.from({length: 60}, connect));
			await pass(15_000);
			return Number((engine.store.get('deployments', 'default', 'web')!.spec as Rec).replicas) === 3;
		}, 'the Deployment scaled on connections', 60_000);
		const current = (web().status as Rec).currentMetrics[0].object;
		assert.equal(current.metric.name, 'connections_per_second');
		assert.ok(Number(String(current.current.value).replace(/m$/, '')) / 1000 >= 2, `a rate above target: ${JSON.stringify(current)}`);
		await eventually(() => reasons().some(r => r.startsWith('SuccessfulRescale: New size: 3; reason: connections_per_second metric on Service/web above target')), 'the SuccessfulRescale event');
	});

	it('brings a target outside minReplicas..maxReplicas inside without asking the metrics', async () => {
		await engine.registry.create(deployType, 'default', {
			apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'crowd', namespace: 'default'},
			spec: {replicas: 5, selector: {matchLabels: {app: 'crowd'}}, template: {metadata: {labels: {app: 'crowd'}}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: 'main', image: 'kubedeck/agnhost', args: ['pause']}]}}},
		} as KubeObject);
		await engine.registry.create(hpaType, 'default', {
			apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {name: 'crowd', namespace: 'default'},
			spec: {scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'crowd'}, minReplicas: 1, maxReplicas: 3},
		} as KubeObject);
		await eventually(() => Number((engine.store.get('deployments', 'default', 'crowd')!.spec as Rec).replicas) === 3, 'scaled to maxReplicas');
		await eventually(() => reasons().includes('SuccessfulRescale: New size: 3; reason: Current number of replicas above Spec.MaxReplicas'), 'the event');
		await engine.registry.delete(deployType, 'default', 'crowd');
	});

	it('does not scale down on one metric while another cannot be read', async () => {
		await engine.registry.create(deployType, 'default', {
			apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'idle', namespace: 'default'},
			spec: {replicas: 2, selector: {matchLabels: {app: 'idle'}}, template: {metadata: {labels: {app: 'idle'}}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: 'main', image: 'kubedeck/agnhost', args: ['pause'], resources: {requests: {cpu: '100m'}}}]}}},
		} as KubeObject);
		await engine.registry.create(hpaType, 'default', {
			apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {name: 'idle', namespace: 'default'},
			spec: {
				scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'idle'}, minReplicas: 1, maxReplicas: 4,
				metrics: [
					{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 50}}},
					{type: 'Object', object: {metric: {name: 'queue_depth'}, describedObject: {apiVersion: 'v1', kind: 'Service', name: 'idle'}, target: {type: 'Value', value: '10'}}},
				],
			},
		} as KubeObject);
		const active = await eventually(async () => {
			await pass(15_000);
			// Once the pods have CPU samples, the one failure left is the Object metric's.
			return ((engine.store.get('horizontalpodautoscalers', 'default', 'idle')?.status as Rec)?.conditions ?? []).find((c: Rec) => c.type === 'ScalingActive' && c.status === 'False' && c.reason === 'FailedGetObjectMetric');
		}, 'ScalingActive False on the unreadable metric', 60_000);
		assert.equal(typeof (engine.store.get('horizontalpodautoscalers', 'default', 'idle')!.status as Rec).currentMetrics[0].resource.current.averageUtilization, 'number', 'the CPU metric was read');
		// The idle CPU alone would ask for 1; the unreadable metric might want more, so nothing moves.
		assert.match(active.message, /queue_depth/);
		assert.equal(Number((engine.store.get('deployments', 'default', 'idle')!.spec as Rec).replicas), 2);
		assert.equal((engine.store.get('horizontalpodautoscalers', 'default', 'idle')!.status as Rec).desiredReplicas, 2);
		await engine.registry.delete(deployType, 'default', 'idle');
	});

	it('says why it cannot scale: a target that does not exist, a container without a request', async () => {
		await engine.registry.create(hpaType, 'default', {
			apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {name: 'orphan', namespace: 'default'},
			spec: {scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'nothing'}, maxReplicas: 3},
		} as KubeObject);
		const orphan = await eventually(() => ((engine.store.get('horizontalpodautoscalers', 'default', 'orphan')?.status as Rec)?.conditions ?? []).find((c: Rec) => c.type === 'AbleToScale'), 'a condition');
		assert.equal(orphan.status, 'False');
		assert.equal(orphan.message, 'the HPA controller was unable to get the target\'s current scale: deployments.apps "nothing" not found');

		await engine.registry.create(deployType, 'default', {
			apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'norequest', namespace: 'default'},
			spec: {replicas: 1, selector: {matchLabels: {app: 'norequest'}}, template: {metadata: {labels: {app: 'norequest'}}, spec: {containers: [{name: 'main', image: 'kubedeck/agnhost', args: ['pause']}]}}},
		} as KubeObject);
		await engine.registry.create(hpaType, 'default', {
			apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {name: 'norequest', namespace: 'default'},
			spec: {scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'norequest'}, maxReplicas: 3},
		} as KubeObject);
		const active = await eventually(async () => {
			await pass(15_000);
			return ((engine.store.get('horizontalpodautoscalers', 'default', 'norequest')?.status as Rec)?.conditions ?? []).find((c: Rec) => c.type === 'ScalingActive' && c.status === 'False' && /missing request/.test(c.message));
		}, 'ScalingActive False', 30_000);
		assert.equal(active.reason, 'FailedGetResourceMetric');
		assert.match(active.message, /missing request for cpu in container main of Pod norequest-/);
	});
});
