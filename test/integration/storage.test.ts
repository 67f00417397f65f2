// Storage, the notes' PV/PVC life cycle on a real engine with real pods:
// dynamic provisioning through the default local-path class (WaitForFirstConsumer),
// data that outlives the pod, pvc-protection while a pod uses a claim, Delete
// and Retain reclaiming, static volumes bound smallest-fit, claims that cannot
// bind, resizing, and the access modes the scheduler enforces.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import {typeByPlural} from '../../source/api/resources.js';
import type {NodeConfig} from '../../source/engine/config.js';
import {Engine} from '../../source/engine/engine.js';
import {hasBubblewrap} from '../../source/engine/kubelet/kubelet.js';
import {readLog, resolveLogFile} from '../../source/engine/kubelet/logs.js';
import {eventually, removeHome, tempHome} from '../helpers.js';

type Rec = Record<string, any>;
const pvcType = typeByPlural('persistentvolumeclaims')!;
const pvType = typeByPlural('persistentvolumes')!;
const podType = typeByPlural('pods')!;
const classType = typeByPlural('storageclasses')!;
const nodes: NodeConfig[] = [
	{name: 'local', kind: 'process', cpu: '4', memory: '8Gi', pods: 110, labels: {}, taints: []},
	{name: 'sim-1', kind: 'simulated', cpu: '4', memory: '8Gi', pods: 110, labels: {}, taints: []},
];

const claim = (name: string, spec: Rec = {}): KubeObject => ({
	apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name, namespace: 'default'},
	spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '100Mi'}}, ...spec},
});

const pod = (name: string, claimName: string, script: string, extra: Rec = {}): KubeObject => ({
	apiVersion: 'v1', kind: 'Pod', metadata: {name, namespace: 'default'},
	spec: {
		restartPolicy: 'Never', terminationGracePeriodSeconds: 1, ...extra,
		containers: [{name: 'main', image: 'busybox', command: ['sh', '-c', `D=\${KUBEDECK_MOUNT_DATA:-/data}; ${script}`], volumeMounts: [{name: 'data', mountPath: '/data'}]}],
		volumes: [{name: 'data', persistentVolumeClaim: {claimName}}],
	},
});

describe('storage: StorageClass, PersistentVolume, PersistentVolumeClaim', () => {
	let engine: Engine;
	let home: string;
	let hostDirs: string;
	before(async () => {
		home = tempHome();
		hostDirs = fs.mkdtempSync(path.join(path.dirname(home), 'kubedeck-hostpath-'));
		engine = await Engine.start({home, config: {nodes, images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
		fs.rmSync(hostDirs, {recursive: true, force: true});
	});
	const getClaim = (name: string) => engine.store.get('persistentvolumeclaims', 'default', name);
	const getPod = (name: string) => engine.store.get('pods', 'default', name);
	const getPV = (name: string) => engine.store.get('persistentvolumes', '', name);
	const phase = (obj: KubeObject | undefined) => (obj?.status as Rec | undefined)?.phase;
	const reasons = (name: string) => engine.store.list('events', 'default').items.filter(e => (e.involvedObject as Rec).name === name).map(e => e.reason as string);
	const logs = (name: string) => {
		const pod = getPod(name);
		if (phase(pod) !== 'Succeeded' && phase(pod) !== 'Failed') return undefined;
		return readLog(resolveLogFile(home, pod!, {query: {}}).file, {}).text;
	};
	const finished = (name: string) => eventually(() => logs(name), `pod ${name} to finish`, 60_000);
	const deletePod = async (name: string) => {
		await engine.registry.delete(podType, 'default', name);
		await eventually(() => !getPod(name), `pod ${name} gone`);
	};

	it('provisions a default-class claim on its first pod\'s node, and the data outlives the pod', async () => {
		await engine.registry.create(pvcType, 'default', claim('data'));
		const pending = await eventually(() => phase(getClaim('data')) === 'Pending' && getClaim('data'), 'the claim to wait');
		assert.equal((pending.spec as Rec).storageClassName, 'local-path', 'the default class is filled in');
		assert.ok(pending.metadata.finalizers?.includes('kubernetes.io/pvc-protection'));
		await eventually(() => reasons('data').includes('WaitForFirstConsumer'), 'the claim to say it waits for a pod');
		assert.equal((pending.spec as Rec).volumeName, undefined, 'no volume before a pod uses it');

		await engine.registry.create(podType, 'default', pod('writer', 'data', 'echo kept > $D/file && echo wrote'));
		assert.match(await finished('writer'), /wrote/);
		const bound = getClaim('data')!;
		assert.equal(phase(bound), 'Bound');
		const pvName = (bound.spec as Rec).volumeName as string;
		const pv = getPV(pvName)!;
		assert.equal(phase(pv), 'Bound');
		assert.equal((pv.spec as Rec).claimRef.uid, bound.metadata.uid);
		assert.deepEqual((pv.spec as Rec).nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [(getPod('writer')!.spec as Rec).nodeName]);
		assert.equal((bound.status as Rec).capacity.storage, '100Mi');
		await eventually(() => reasons('data').includes('ProvisioningSucceeded'), 'the ProvisioningSucceeded event');
		const dir = (pv.spec as Rec).local.path as string;
		assert.equal(fs.readFileSync(path.join(dir, 'file'), 'utf8'), 'kept\n');

		await deletePod('writer');
		await engine.registry.create(podType, 'default', pod('reader', 'data', 'cat $D/file'));
		assert.equal(await finished('reader'), 'kept\n');

		// pvc-protection: deleting the claim waits for the pod that uses it.
		await engine.registry.create(podType, 'default', pod('holder', 'data', 'sleep 30'));
		await eventually(() => phase(getPod('holder')) === 'Running', 'the holder to run', 60_000);
		await engine.registry.delete(pvcType, 'default', 'data');
		await new Promise(r => setTimeout(r, 300));
		assert.ok(getClaim('data')?.metadata.deletionTimestamp, 'the claim is terminating, not gone, while a pod uses it');
		assert.ok(fs.existsSync(dir));
		await deletePod('holder');
		await deletePod('reader');
		// reclaimPolicy Delete: the claim goes, then the volume and its directory.
		await eventually(() => !getClaim('data') && !getPV(pvName), 'the claim and its volume deleted');
		await eventually(() => !fs.existsSync(dir), 'the volume directory removed');
	});

	it('keeps a Retain volume and its data, Released, when its claim goes', async () => {
		await engine.registry.create(classType, undefined, {apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: {name: 'keep'}, provisioner: 'kubedeck.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'Immediate'} as KubeObject);
		await engine.registry.create(pvcType, 'default', claim('kept', {storageClassName: 'keep'}));
		// Immediate: bound before any pod asks.
		const bound = await eventually(() => phase(getClaim('kept')) === 'Bound' && getClaim('kept'), 'an Immediate claim to bind');
		const pvName = (bound.spec as Rec).volumeName as string;
		await engine.registry.create(podType, 'default', pod('keeper', 'kept', 'echo precious > $D/file && echo ok'));
		await finished('keeper');
		await deletePod('keeper');
		await engine.registry.delete(pvcType, 'default', 'kept');
		await eventually(() => phase(getPV(pvName)) === 'Released', 'the volume Released');
		const dir = (getPV(pvName)!.spec as Rec).local.path;
		assert.equal(fs.readFileSync(path.join(dir, 'file'), 'utf8'), 'precious\n');
		// A Released volume does not bind a new claim of the same name: its claimRef names the old one.
		await engine.registry.create(pvcType, 'default', claim('kept', {storageClassName: 'keep'}));
		const again = await eventually(() => phase(getClaim('kept')) === 'Bound' && getClaim('kept'), 'the new claim bound');
		assert.notEqual((again.spec as Rec).volumeName, pvName);
		assert.equal(phase(getPV(pvName)), 'Released');
	});

	it('binds static volumes smallest-fit, and leaves a claim nothing fits Pending with the reason', async () => {
		for (const [name, size] of [['static-big', '5Gi'], ['static-small', '1Gi']] as const) {
			fs.mkdirSync(path.join(hostDirs, name));
			await engine.registry.create(pvType, undefined, {
				apiVersion: 'v1', kind: 'PersistentVolume', metadata: {name},
				spec: {capacity: {storage: size}, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: '', hostPath: {path: path.join(hostDirs, name)}},
			} as KubeObject);
		}
		await eventually(() => phase(getPV('static-small')) === 'Available' && phase(getPV('static-big')) === 'Available', 'the volumes Available');
		await engine.registry.create(pvcType, 'default', claim('fits', {storageClassName: '', resources: {requests: {storage: '500Mi'}}}));
		const bound = await eventually(() => phase(getClaim('fits')) === 'Bound' && getClaim('fits'), 'the claim bound');
		assert.equal((bound.spec as Rec).volumeName, 'static-small');
		assert.equal((bound.status as Rec).capacity.storage, '1Gi', 'the claim gets the volume\'s whole capacity');

		await engine.registry.create(pvcType, 'default', claim('too-big', {storageClassName: '', resources: {requests: {storage: '10Gi'}}}));
		await eventually(() => reasons('too-big').includes('FailedBinding'), 'a FailedBinding event');
		assert.equal(phase(getClaim('too-big')), 'Pending');
		assert.equal(phase(getPV('static-big')), 'Available', 'a volume too small is not taken');

		// A pod on an Immediate claim that is unbound is not scheduled, and says why.
		await engine.registry.create(podType, 'default', pod('waits', 'too-big', 'true'));
		const unscheduled = await eventually(() => ((getPod('waits')?.status as Rec)?.conditions ?? []).find((c: Rec) => c.type === 'PodScheduled' && c.status === 'False'), 'the pod unschedulable');
		assert.match(unscheduled.message, /unbound immediate PersistentVolumeClaims/);
		await engine.registry.delete(podType, 'default', 'waits');

		// A claim that asks for ReadOnlyMany mounts read-only.
		await engine.registry.create(pvcType, 'default', claim('ro', {storageClassName: '', accessModes: ['ReadOnlyMany'], resources: {requests: {storage: '1Gi'}}}));
		await eventually(() => phase(getClaim('ro')) === 'Bound', 'the read-only claim bound');
		await engine.registry.create(podType, 'default', pod('ro-pod', 'ro', 'if echo x > $D/x 2>/dev/null; then echo writable; else echo read-only; fi', {nodeName: 'local'}));
		// Without bubblewrap nothing is mounted, so nothing can be read-only (the pod is warned).
		assert.match(await finished('ro-pod'), hasBubblewrap() ? /read-only/ : /writable/);
	});

	it('grows a claim through a class that allows expansion, and refuses one that does not', async () => {
		await engine.registry.create(pvcType, 'default', claim('grow', {storageClassName: 'local-path'}));
		await engine.registry.create(podType, 'default', pod('grower', 'grow', 'true'));
		await eventually(() => phase(getClaim('grow')) === 'Bound', 'the claim bound');
		await engine.registry.patch(pvcType, 'default', 'grow', 'application/merge-patch+json', {spec: {resources: {requests: {storage: '200Mi'}}}});
		await eventually(() => (getClaim('grow')?.status as Rec)?.capacity?.storage === '200Mi', 'the claim grown');
		assert.equal((getPV((getClaim('grow')!.spec as Rec).volumeName)!.spec as Rec).capacity.storage, '200Mi');

		// The Retain class above has no allowVolumeExpansion.
		await eventually(() => phase(getClaim('kept')) === 'Bound', 'the kept claim bound');
		await assert.rejects(
			engine.registry.patch(pvcType, 'default', 'kept', 'application/merge-patch+json', {spec: {resources: {requests: {storage: '1Gi'}}}}),
			(e: any) => e.status?.code === 422 && /spec\.resources\.requests\.storage: Forbidden: only dynamically provisioned pvc can be resized/.test(e.status.message),
		);
		// Shrinking is refused as kube-apiserver refuses it.
		await assert.rejects(
			engine.registry.patch(pvcType, 'default', 'grow', 'application/merge-patch+json', {spec: {resources: {requests: {storage: '50Mi'}}}}),
			(e: any) => e.status?.code === 422 && /spec\.resources\.requests\.storage/.test(e.status.message),
		);
	});

	it('keeps a ReadWriteOncePod claim to one pod and a ReadWriteOnce claim to one node', async () => {
		await engine.registry.create(pvcType, 'default', claim('single', {accessModes: ['ReadWriteOncePod']}));
		await engine.registry.create(podType, 'default', pod('first', 'single', 'sleep 30'));
		await eventually(() => phase(getPod('first')) === 'Running', 'the first pod to run', 60_000);
		await engine.registry.create(podType, 'default', pod('second', 'single', 'true'));
		const refused = await eventually(() => ((getPod('second')?.status as Rec)?.conditions ?? []).find((c: Rec) => c.type === 'PodScheduled' && c.status === 'False'), 'the second pod refused');
		assert.match(refused.message, /ReadWriteOncePod/);
		assert.equal((getPod('second')!.spec as Rec).nodeName, undefined);

		// RWO: a second pod may share the claim, but only on the node the first is on.
		await engine.registry.create(pvcType, 'default', claim('shared'));
		await engine.registry.create(podType, 'default', pod('on-sim', 'shared', 'true', {nodeSelector: {'kubernetes.io/hostname': 'sim-1'}}));
		await eventually(() => (getPod('on-sim')?.spec as Rec)?.nodeName === 'sim-1', 'the first pod on sim-1');
		await engine.registry.create(podType, 'default', pod('elsewhere', 'shared', 'true', {nodeSelector: {'kubernetes.io/hostname': 'local'}}));
		const conflict = await eventually(() => ((getPod('elsewhere')?.status as Rec)?.conditions ?? []).find((c: Rec) => c.type === 'PodScheduled' && c.status === 'False'), 'the pod on another node refused');
		assert.match(conflict.message, /volume node affinity conflict|ReadWriteOnce/);
		await engine.registry.create(podType, 'default', pod('beside', 'shared', 'true'));
		await eventually(() => (getPod('beside')?.spec as Rec)?.nodeName === 'sim-1', 'a pod without a selector lands beside the first');
	});

	it('keeps a pre-bound volume for its claim, and a claim that names a volume waits for it', async () => {
		const staticPV = (name: string, spec: Rec = {}) => {
			fs.mkdirSync(path.join(hostDirs, name), {recursive: true});
			return engine.registry.create(pvType, undefined, {
				apiVersion: 'v1', kind: 'PersistentVolume', metadata: {name},
				spec: {capacity: {storage: '1Gi'}, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: {path: path.join(hostDirs, name)}, ...spec},
			} as KubeObject);
		};
		// Reserved for a claim that does not exist yet: Available, and no other claim takes it.
		await staticPV('reserved', {claimRef: {namespace: 'default', name: 'later'}});
		await eventually(() => phase(getPV('reserved')) === 'Available', 'the reserved volume Available');
		await engine.registry.create(pvcType, 'default', claim('other', {storageClassName: 'manual'}));
		// No PV for it and no class of that name: as kube-controller-manager says it.
		await eventually(() => reasons('other').includes('ProvisioningFailed'), 'the other claim told there is nothing for it');
		assert.equal(phase(getPV('reserved')), 'Available');
		await engine.registry.create(pvcType, 'default', claim('later', {storageClassName: 'manual'}));
		await eventually(() => phase(getClaim('later')) === 'Bound' && (getClaim('later')!.spec as Rec).volumeName === 'reserved', 'the reserved claim bound to its volume');
		// A claim naming a volume that is not there yet waits, Pending (not Lost), and binds when it comes.
		await engine.registry.create(pvcType, 'default', claim('named', {storageClassName: 'manual', volumeName: 'future'}));
		await eventually(() => reasons('named').includes('FailedBinding'), 'the named claim waiting');
		assert.equal(phase(getClaim('named')), 'Pending');
		await staticPV('future');
		await eventually(() => phase(getClaim('named')) === 'Bound', 'the named claim bound once its volume exists');
		assert.equal((getPV('future')!.spec as Rec).claimRef.name, 'named');
	});

	it('lets a claim whose only user never got a node be deleted (pvc-protection counts scheduled pods)', async () => {
		await engine.registry.create(pvcType, 'default', claim('stranded', {storageClassName: 'no-such-class'}));
		await engine.registry.create(podType, 'default', pod('stuck', 'stranded', 'true'));
		await eventually(() => ((getPod('stuck')?.status as Rec)?.conditions ?? []).some((c: Rec) => c.type === 'PodScheduled' && c.status === 'False'), 'the pod unschedulable');
		await engine.registry.delete(pvcType, 'default', 'stranded');
		await eventually(() => !getClaim('stranded'), 'the claim gone although a pending pod names it');
		await engine.registry.delete(podType, 'default', 'stuck');
	});

	it('lets one of two pods created together have a ReadWriteOncePod claim, not neither', async () => {
		await engine.registry.create(pvcType, 'default', claim('solo', {accessModes: ['ReadWriteOncePod']}));
		await Promise.all(['solo-a', 'solo-b'].map(n => engine.registry.create(podType, 'default', pod(n, 'solo', 'sleep 30', {nodeName: undefined}))));
		await eventually(() => ['solo-a', 'solo-b'].filter(n => phase(getPod(n)) === 'Running').length === 1, 'one of them running', 60_000);
		await new Promise(r => setTimeout(r, 500));
		assert.equal(['solo-a', 'solo-b'].filter(n => (getPod(n)!.spec as Rec).nodeName).length, 1, 'the other is not scheduled');
	});

	it('never mounts a volume whose path reaches kubedeck\'s own files', async () => {
		await engine.registry.create(pvType, undefined, {
			apiVersion: 'v1', kind: 'PersistentVolume', metadata: {name: 'sneaky'},
			spec: {capacity: {storage: '1Gi'}, accessModes: ['ReadWriteOnce'], storageClassName: 'sneaky', hostPath: {path: home}},
		} as KubeObject);
		await engine.registry.create(pvcType, 'default', claim('sneaky', {storageClassName: 'sneaky'}));
		await eventually(() => phase(getClaim('sneaky')) === 'Bound', 'the claim bound to the volume');
		await engine.registry.create(podType, 'default', pod('snoop', 'sneaky', 'ls $D', {nodeName: 'local'}));
		// As the kubelet does with a volume it cannot set up: ContainerCreating, and a FailedMount event.
		const waiting = await eventually(() => ((getPod('snoop')?.status as Rec)?.containerStatuses?.[0]?.state?.waiting), 'the container held');
		assert.equal(waiting.reason, 'ContainerCreating');
		assert.match(waiting.message, /persistentvolume "sneaky" path/);
		await eventually(() => reasons('snoop').includes('FailedMount'), 'a FailedMount event');
		await new Promise(r => setTimeout(r, 300));
		assert.equal(phase(getPod('snoop')), 'Pending', 'the container never started');
	});
});
