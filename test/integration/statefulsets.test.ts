// StatefulSets and DaemonSets on an in-process engine with real pods on a
// process node and simulated nodes beside it: ordinal order and claim names,
// a pod's data surviving its re-creation, reverse scale-down that keeps
// claims, Parallel, the claim retention policy, partitioned rolling updates,
// OnDelete, a missing Service; a DaemonSet following nodes as they come, go,
// change labels and taints, and rolling its pods.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import {isPodReady} from '../../source/api/pods.js';
import {typeByPlural} from '../../source/api/resources.js';
import {daemonSetRolloutStatus, statefulSetRolloutStatus} from '../../source/client/operations/rollout.js';
import type {NodeConfig} from '../../source/engine/config.js';
import {Engine} from '../../source/engine/engine.js';
import {eventually, removeHome, tempHome} from '../helpers.js';

type Rec = Record<string, any>;
const stsType = typeByPlural('statefulsets')!;
const dsType = typeByPlural('daemonsets')!;
const podType = typeByPlural('pods')!;
const nodeType = typeByPlural('nodes')!;
const simulated = {kind: 'simulated' as const, cpu: '4', memory: '8Gi', pods: 110, taints: []};
const nodes: NodeConfig[] = [
	{name: 'local', kind: 'process', cpu: '8', memory: '16Gi', pods: 110, labels: {}, taints: []},
	{name: 'sim-1', ...simulated, labels: {tier: 'edge'}},
	{name: 'sim-2', ...simulated, labels: {tier: 'edge'}},
];

/** A StatefulSet of busybox pods on the process node; each appends its hostname to /data/log and is ready once `ready` exists. */
function statefulSet(name: string, spec: Rec = {}, script = 'echo $(hostname) >> $D/log; sleep 0.3; touch ready; sleep 3600'): KubeObject {
	return {
		apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name, namespace: 'default'},
		spec: {
			serviceName: name, replicas: 3, selector: {matchLabels: {app: name}},
			template: {
				metadata: {labels: {app: name}},
				spec: {
					nodeSelector: {'kubernetes.io/hostname': 'local'}, terminationGracePeriodSeconds: 1,
					containers: [{
						name: 'main', image: 'busybox', command: ['sh', '-c', `D=\${KUBEDECK_MOUNT_DATA:-/data}; ${script}`],
						volumeMounts: [{name: 'data', mountPath: '/data'}],
						readinessProbe: {exec: {command: ['test', '-f', 'ready']}, periodSeconds: 1},
					}],
				},
			},
			volumeClaimTemplates: [{metadata: {name: 'data'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '10Mi'}}}}],
			...spec,
		},
	};
}

describe('StatefulSets and DaemonSets', () => {
	let engine: Engine;
	let home: string;
	before(async () => {
		home = tempHome();
		engine = await Engine.start({home, config: {nodes, images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
		await engine.registry.create(typeByPlural('services')!, 'default', {apiVersion: 'v1', kind: 'Service', metadata: {name: 'web', namespace: 'default'}, spec: {clusterIP: 'None', selector: {app: 'web'}, ports: [{port: 80}]}});
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});
	const pod = (name: string) => engine.store.get('pods', 'default', name);
	const claim = (name: string) => engine.store.get('persistentvolumeclaims', 'default', name);
	const sts = (name: string) => engine.store.get('statefulsets', 'default', name)!;
	const podsOf = (app: string) => engine.store.scan('pods', 'default', p => p.metadata.labels?.app === app && !p.metadata.deletionTimestamp);
	const reasons = (name: string) => engine.store.list('events', 'default').items.filter(e => (e.involvedObject as Rec).name === name).map(e => e.reason as string);
	const revisionOf = (p: KubeObject | undefined) => p?.metadata.labels?.['controller-revision-hash'];
	const patch = (type: typeof stsType, name: string, body: Rec) => engine.registry.patch(type, 'default', name, 'application/merge-patch+json', body);
	const allReady = (app: string, n: number) => eventually(() => {
		const pods = podsOf(app);
		return pods.length === n && pods.every(isPodReady) && pods;
	}, `${n} ready ${app} pods`, 60_000);

	it('creates ordinal pods in order, each ready before the next, each with its own claim, hostname and DNS name', async () => {
		// Each pod's creation is checked against the pods before it at that moment.
		const early: string[] = [];
		const stop = engine.store.watch('pods', 'default', Number(engine.store.resourceVersion), event => {
			if (event.type !== 'ADDED' || event.object.metadata.labels?.app !== 'web') return;
			const ordinal = Number(event.object.metadata.name!.split('-').pop());
			for (let i = 0; i < ordinal; i++) if (!isPodReady(pod(`web-${i}`) ?? ({metadata: {}} as KubeObject))) early.push(`${event.object.metadata.name} before web-${i} was ready`);
		});
		await engine.registry.create(stsType, 'default', statefulSet('web'));
		const pods = await allReady('web', 3);
		stop();
		assert.deepEqual(early, []);
		assert.deepEqual(pods.map(p => p.metadata.name).sort(), ['web-0', 'web-1', 'web-2']);
		for (const p of pods) {
			const spec = p.spec as Rec;
			assert.equal(spec.hostname, p.metadata.name);
			assert.equal(spec.subdomain, 'web');
			assert.equal(p.metadata.labels?.['statefulset.kubernetes.io/pod-name'], p.metadata.name);
			assert.equal(p.metadata.labels?.['apps.kubernetes.io/pod-index'], p.metadata.name!.slice(4));
			assert.deepEqual(spec.volumes.find((v: Rec) => v.name === 'data').persistentVolumeClaim, {claimName: `data-${p.metadata.name}`});
			assert.equal((claim(`data-${p.metadata.name}`)?.status as Rec)?.phase, 'Bound');
		}
		const status = (await eventually(() => (sts('web').status as Rec)?.readyReplicas === 3 && sts('web'), 'status')).status as Rec;
		assert.equal(status.currentRevision, status.updateRevision);
		assert.equal(status.currentReplicas, 3);
		assert.deepEqual(statefulSetRolloutStatus(sts('web')), ['partitioned roll out complete: 3 new pods have been updated...', true]);
		// The headless Service gives each pod a name of its own.
		const endpoints = await eventually(() => {
			const ep = engine.store.get('endpoints', 'default', 'web');
			const addresses: Rec[] = (ep?.subsets as Rec[] | undefined)?.[0]?.addresses ?? [];
			return addresses.length === 3 && addresses;
		}, 'three endpoints');
		assert.deepEqual(endpoints.map(a => a.hostname).sort(), ['web-0', 'web-1', 'web-2']);
	});

	it('gives a re-created pod its name and its claim back, with the data it wrote', async () => {
		const before = pod('web-1')!;
		await engine.registry.delete(podType, 'default', 'web-1');
		await eventually(() => pod('web-1') && pod('web-1')!.metadata.uid !== before.metadata.uid && isPodReady(pod('web-1')!), 'web-1 back and ready', 60_000);
		// Both lives of web-1 wrote their hostname into the same volume.
		const pv = engine.store.get('persistentvolumes', '', (claim('data-web-1')!.spec as Rec).volumeName)!;
		assert.equal(fs.readFileSync(path.join((pv.spec as Rec).local.path, 'log'), 'utf8'), 'web-1\nweb-1\n');
	});

	it('scales down from the highest ordinal, one at a time, and keeps the claims', async () => {
		const deleted: string[] = [];
		const stop = engine.store.watch('pods', 'default', Number(engine.store.resourceVersion), event => {
			if (event.type === 'MODIFIED' && event.object.metadata.deletionTimestamp && !deleted.includes(event.object.metadata.name!)) deleted.push(event.object.metadata.name!);
		});
		await patch(stsType, 'web', {spec: {replicas: 1}});
		await eventually(() => !pod('web-1') && !pod('web-2'), 'web-1 and web-2 gone', 60_000);
		stop();
		assert.deepEqual(deleted.filter(n => n.startsWith('web-')), ['web-2', 'web-1']);
		for (const n of [0, 1, 2]) assert.ok(claim(`data-web-${n}`) && !claim(`data-web-${n}`)!.metadata.deletionTimestamp, `data-web-${n} kept`);
		await patch(stsType, 'web', {spec: {replicas: 3}});
		await allReady('web', 3);
		assert.equal((pod('web-2')!.spec as Rec).volumes.find((v: Rec) => v.name === 'data').persistentVolumeClaim.claimName, 'data-web-2');
	});

	it('rolls a new template from the highest ordinal down to the partition, then the rest', async () => {
		const old = revisionOf(pod('web-0'));
		await patch(stsType, 'web', {spec: {updateStrategy: {type: 'RollingUpdate', rollingUpdate: {partition: 1}}, template: {metadata: {annotations: {version: 'two'}}}}});
		await eventually(() => revisionOf(pod('web-1')) !== old && revisionOf(pod('web-2')) !== old && isPodReady(pod('web-1')!) && isPodReady(pod('web-2')!), 'web-1 and web-2 updated', 60_000);
		const status = (await eventually(() => (sts('web').status as Rec)?.updatedReplicas === 2 && (sts('web').status as Rec).readyReplicas === 3 && sts('web'), 'two updated')).status as Rec;
		assert.equal(revisionOf(pod('web-0')), old, 'the pod below the partition keeps its revision');
		assert.equal(status.currentRevision, old);
		assert.deepEqual(statefulSetRolloutStatus(sts('web')), ['partitioned roll out complete: 2 new pods have been updated...', true]);
		await patch(stsType, 'web', {spec: {updateStrategy: {rollingUpdate: {partition: 0}}}});
		await eventually(() => (sts('web').status as Rec)?.currentRevision === status.updateRevision && (sts('web').status as Rec).readyReplicas === 3, 'the rollout complete', 60_000);
		assert.equal(revisionOf(pod('web-0')), status.updateRevision);
		const revisions = engine.store.scan('controllerrevisions', 'default', r => r.metadata.ownerReferences?.[0]?.name === 'web');
		assert.deepEqual(revisions.map(r => r.revision).sort(), [1, 2]);
	});

	it('replaces pods only when deleted under OnDelete', async () => {
		const current = (sts('web').status as Rec).currentRevision;
		await patch(stsType, 'web', {spec: {updateStrategy: {type: 'OnDelete', rollingUpdate: null}, template: {metadata: {annotations: {version: 'three'}}}}});
		const update = await eventually(() => (sts('web').status as Rec).updateRevision !== current && (sts('web').status as Rec).updateRevision, 'a new update revision');
		await new Promise(r => setTimeout(r, 1500));
		assert.ok(podsOf('web').every(p => revisionOf(p) === current), 'no pod replaced on its own');
		await engine.registry.delete(podType, 'default', 'web-2');
		await eventually(() => revisionOf(pod('web-2')) === update, 'web-2 back at the update revision', 60_000);
		assert.equal(revisionOf(pod('web-1')), current);
	});

	it('starts Parallel pods at once, and deletes claims as the retention policy says', async () => {
		// Never ready: OrderedReady would stop at db-0; Parallel makes all three.
		await engine.registry.create(stsType, 'default', statefulSet('db', {
			podManagementPolicy: 'Parallel', persistentVolumeClaimRetentionPolicy: {whenScaled: 'Delete', whenDeleted: 'Delete'},
		}, 'sleep 3600'));
		await eventually(() => podsOf('db').length === 3, 'three db pods while none is ready', 60_000);
		assert.ok(podsOf('db').every(p => !isPodReady(p)));
		await eventually(() => [0, 1, 2].every(n => claim(`data-db-${n}`)), 'three claims');
		await eventually(() => reasons('db').includes('FailedToFindService'), 'a missing Service is a warning, not a failure');
		await patch(stsType, 'db', {spec: {replicas: 1}});
		await eventually(() => !claim('data-db-1') && !claim('data-db-2'), 'the scaled-away claims deleted', 60_000);
		assert.ok(claim('data-db-0'));
		await engine.registry.delete(stsType, 'default', 'db');
		await eventually(() => !claim('data-db-0') && podsOf('db').length === 0, 'the last claim deleted with the set', 60_000);
		// Retain (web's default) keeps claims after the set is gone.
	});

	it('keeps history for a set whose selector has only matchExpressions', async () => {
		const set = statefulSet('expr', {replicas: 1, selector: {matchExpressions: [{key: 'app', operator: 'In', values: ['expr']}]}}, 'sleep 3600');
		await engine.registry.create(stsType, 'default', set);
		await eventually(() => podsOf('expr').length === 1, 'the pod');
		await patch(stsType, 'expr', {spec: {template: {metadata: {annotations: {version: 'two'}}}}});
		const revisions = () => engine.store.scan('controllerrevisions', 'default', r => r.metadata.ownerReferences?.[0]?.name === 'expr').map(r => r.revision).sort();
		await eventually(() => revisions().join() === '1,2', 'revisions 1 and 2');
		await engine.registry.delete(stsType, 'default', 'expr');
		await eventually(() => podsOf('expr').length === 0, 'its pod gone', 30_000);
	});

	it('runs a DaemonSet pod on every fitting node, following nodes as they come, change and go', async () => {
		await engine.registry.create(dsType, 'default', {
			apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {name: 'agent', namespace: 'default'},
			spec: {
				selector: {matchLabels: {app: 'agent'}},
				template: {metadata: {labels: {app: 'agent'}}, spec: {nodeSelector: {tier: 'edge'}, containers: [{name: 'main', image: 'busybox', command: ['sleep', '3600']}]}},
			},
		} as KubeObject);
		const nodesOf = () => podsOf('agent').map(p => (p.spec as Rec).nodeName).sort();
		await eventually(() => nodesOf().join() === 'sim-1,sim-2', 'a pod on each edge node');
		const ds = () => engine.store.get('daemonsets', 'default', 'agent')!;
		await eventually(() => (ds().status as Rec)?.numberReady === 2, 'both ready');
		assert.deepEqual(daemonSetRolloutStatus(ds()), ['daemon set "agent" successfully rolled out', true]);
		// A node that joins (a Node object with no kubelet: its pod is bound, not run).
		const now = new Date().toISOString();
		await engine.registry.create(nodeType, undefined, {
			apiVersion: 'v1', kind: 'Node', metadata: {name: 'joined', labels: {tier: 'edge', 'kubernetes.io/hostname': 'joined'}},
			status: {conditions: [{type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now}], allocatable: {cpu: '4', memory: '8Gi', pods: '110'}, capacity: {cpu: '4', memory: '8Gi', pods: '110'}},
		} as KubeObject);
		await eventually(() => nodesOf().join() === 'joined,sim-1,sim-2', 'a pod on the new node');
		// A node whose labels stop matching loses its pod; a NoSchedule taint keeps the pod there, NoExecute does not.
		await patch(nodeType, 'sim-2', {metadata: {labels: {tier: 'core'}}});
		await eventually(() => nodesOf().join() === 'joined,sim-1', 'sim-2 without its pod');
		await patch(nodeType, 'sim-1', {spec: {taints: [{key: 'maintenance', effect: 'NoSchedule'}]}});
		await new Promise(r => setTimeout(r, 500));
		assert.deepEqual(nodesOf(), ['joined', 'sim-1']);
		await patch(nodeType, 'sim-1', {spec: {taints: [{key: 'maintenance', effect: 'NoExecute'}]}});
		await eventually(() => nodesOf().join() === 'joined', 'sim-1 without its pod');
		await patch(nodeType, 'sim-1', {spec: {taints: null}});
		await patch(nodeType, 'sim-2', {metadata: {labels: {tier: 'edge'}}});
		await eventually(() => nodesOf().join() === 'joined,sim-1,sim-2', 'pods back on both');
		// A cordoned node keeps its daemon pod, and takes a replacement: daemon pods tolerate unschedulable.
		await patch(nodeType, 'sim-1', {spec: {unschedulable: true}});
		const onSim1 = podsOf('agent').find(p => (p.spec as Rec).nodeName === 'sim-1')!;
		await engine.registry.delete(podType, 'default', onSim1.metadata.name!);
		await eventually(() => podsOf('agent').some(p => (p.spec as Rec).nodeName === 'sim-1' && p.metadata.uid !== onSim1.metadata.uid && isPodReady(p)), 'a new pod on the cordoned node');
		await patch(nodeType, 'sim-1', {spec: {unschedulable: null}});
		// A node that goes takes its pod with it.
		await engine.registry.delete(nodeType, undefined, 'joined');
		await eventually(() => nodesOf().join() === 'sim-1,sim-2', 'the gone node\'s pod removed', 30_000);
	});

	it('runs a DaemonSet whose template names a node on that node alone, without churn', async () => {
		await engine.registry.create(dsType, 'default', {
			apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {name: 'pinned', namespace: 'default'},
			spec: {selector: {matchLabels: {app: 'pinned'}}, template: {metadata: {labels: {app: 'pinned'}}, spec: {nodeName: 'sim-2', containers: [{name: 'main', image: 'busybox', command: ['sleep', '3600']}]}}},
		} as KubeObject);
		await eventually(() => podsOf('pinned').length === 1 && isPodReady(podsOf('pinned')[0]), 'one pod');
		const first = podsOf('pinned')[0].metadata.uid;
		await new Promise(r => setTimeout(r, 500));
		assert.deepEqual(podsOf('pinned').map(p => p.metadata.uid), [first], 'the same pod, not replaced');
		assert.equal((engine.store.get('daemonsets', 'default', 'pinned')!.status as Rec).desiredNumberScheduled, 1);
		await engine.registry.delete(dsType, 'default', 'pinned');
	});

	it('rolls a DaemonSet\'s pods to a new template, keeping its revisions', async () => {
		const first = podsOf('agent').map(revisionOf);
		await patch(dsType, 'agent', {spec: {template: {metadata: {annotations: {version: 'two'}}}}});
		const ds = () => engine.store.get('daemonsets', 'default', 'agent')!;
		await eventually(() => {
			const pods = podsOf('agent');
			return pods.length === 2 && pods.every(p => !first.includes(revisionOf(p)) && isPodReady(p)) && (ds().status as Rec)?.updatedNumberScheduled === 2 && (ds().status as Rec)?.numberAvailable === 2;
		}, 'both pods at the new revision', 30_000);
		assert.deepEqual(daemonSetRolloutStatus(ds()), ['daemon set "agent" successfully rolled out', true]);
		const revisions = engine.store.scan('controllerrevisions', 'default', r => r.metadata.ownerReferences?.[0]?.name === 'agent');
		assert.equal(revisions.length, 2);
		assert.ok(podsOf('agent').every(p => (p.spec as Rec).tolerations.some((t: Rec) => t.key === 'node.kubernetes.io/unreachable')), 'daemon pods tolerate node trouble');
	});

	it('surges a DaemonSet update: the new pod beside the old one, so no node is ever without an available pod', async () => {
		await patch(dsType, 'agent', {spec: {updateStrategy: {type: 'RollingUpdate', rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}}});
		const before = podsOf('agent').map(revisionOf);
		let bare = 0, most = 0;
		const stop = engine.store.watch('pods', 'default', Number(engine.store.resourceVersion), () => {
			for (const node of ['sim-1', 'sim-2']) {
				const here = podsOf('agent').filter(p => (p.spec as Rec).nodeName === node);
				if (!here.some(isPodReady)) bare++;
			}
			most = Math.max(most, podsOf('agent').length);
		});
		await patch(dsType, 'agent', {spec: {template: {metadata: {annotations: {version: 'three'}}}}});
		await eventually(() => {
			const pods = podsOf('agent');
			return pods.length === 2 && pods.every(p => !before.includes(revisionOf(p)) && isPodReady(p));
		}, 'both pods replaced', 30_000);
		stop();
		assert.equal(bare, 0, 'a node was left without a ready daemon pod');
		assert.equal(most, 3, 'one surge pod at a time (maxSurge 1)');
	});
});
