// The dashboard's projection of list objects (source/ui/slim.ts): what it
// keeps and drops, that the list views read the same from a projected object
// as from the whole one, and the feed option that applies it.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {KubeList, KubeObject} from '../../source/api/object.js';
import {resolveType} from '../../source/api/resources.js';
import type {ClusterClient, WatchEvent} from '../../source/client/types.js';
import {podStatus, rendererFor} from '../../source/render/columns.js';
import {ResourceFeed} from '../../source/ui/feed.js';
import {podSelectorOf} from '../../source/ui/objects.js';
import {forwardTarget} from '../../source/client/operations/port-forward.js';
import {pulsesLines, Pulses} from '../../source/ui/pulses.js';
import {Interner, slimKinds, slimObject} from '../../source/ui/slim.js';
import {xrayLines} from '../../source/ui/xray.js';

type Rec = Record<string, any>;
const now = Date.parse('2026-01-01T12:00:00Z');
const rsRef = {apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-uid', controller: true, blockOwnerDeletion: true};

/** A pod as a real cluster holds it: env, mounts, probes, command, security context, annotations, managedFields. */
function fullPod(name: string, overrides: {status?: Rec; deletionTimestamp?: string} = {}): KubeObject {
	return {
		apiVersion: 'v1', kind: 'Pod',
		metadata: {
			name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '42', generateName: 'web-abc-', generation: 1,
			creationTimestamp: '2026-01-01T11:00:00Z', ...(overrides.deletionTimestamp ? {deletionTimestamp: overrides.deletionTimestamp} : {}),
			labels: {app: 'web', 'pod-template-hash': 'abc'},
			annotations: {'kubectl.kubernetes.io/last-applied-configuration': '{"big":"manifest"}', 'prometheus.io/scrape': 'true'},
			ownerReferences: [rsRef],
			managedFields: [{manager: 'kubectl', operation: 'Update', fieldsV1: {'f:spec': {}}}],
		},
		spec: {
			nodeName: 'node-1', serviceAccountName: 'default', restartPolicy: 'Always', dnsPolicy: 'ClusterFirst',
			securityContext: {runAsUser: 1000},
			readinessGates: [{conditionType: 'example.com/ready'}],
			initContainers: [{name: 'init', image: 'busybox', command: ['sh', '-c', 'true'], env: [{name: 'A', value: 'b'}]}],
			containers: [{
				name: 'app', image: 'nginx:1.27', command: ['nginx'], args: ['-g', 'daemon off;'],
				env: [{name: 'SECRET', valueFrom: {secretKeyRef: {name: 's', key: 'k'}}}],
				ports: [{name: 'http', containerPort: 8080, protocol: 'TCP'}],
				resources: {requests: {cpu: '100m', memory: '64Mi'}, limits: {memory: '128Mi'}},
				volumeMounts: [{name: 'config', mountPath: '/etc/nginx'}, {name: 'data', mountPath: '/data'}],
				livenessProbe: {httpGet: {path: '/healthz', port: 8080}}, readinessProbe: {httpGet: {path: '/ready', port: 8080}},
				securityContext: {readOnlyRootFilesystem: true}, imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log',
			}, {name: 'sidecar', image: 'envoy', ports: [{containerPort: 9901}]}],
			volumes: [{name: 'config', configMap: {name: 'nginx-conf'}}, {name: 'data', persistentVolumeClaim: {claimName: 'web-data'}}],
		},
		status: overrides.status ?? {
			phase: 'Running', qosClass: 'Burstable', podIP: '10.0.0.7', podIPs: [{ip: '10.0.0.7'}], hostIP: '192.168.1.2', startTime: '2026-01-01T11:00:01Z',
			conditions: [
				{type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T11:00:02Z'},
				{type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T11:00:05Z'},
			],
			initContainerStatuses: [{name: 'init', ready: true, restartCount: 0, image: 'busybox', imageID: 'sha256:1', state: {terminated: {exitCode: 0, reason: 'Completed', finishedAt: '2026-01-01T11:00:02Z', containerID: 'x'}}}],
			containerStatuses: [
				{name: 'app', ready: true, started: true, restartCount: 2, image: 'nginx:1.27', imageID: 'sha256:2', containerID: 'c1', state: {running: {startedAt: '2026-01-01T11:30:00Z'}},
					lastState: {terminated: {exitCode: 137, reason: 'OOMKilled', message: 'a long message', startedAt: '2026-01-01T11:00:03Z', finishedAt: '2026-01-01T11:29:59Z'}}},
				{name: 'sidecar', ready: true, started: true, restartCount: 0, image: 'envoy', imageID: 'sha256:3', state: {running: {startedAt: '2026-01-01T11:00:04Z'}}, lastState: {}},
			],
		},
	};
}

const podType = resolveType('pods')!;
const sameView = (full: KubeObject, slim: KubeObject) => {
	assert.deepEqual(rendererFor(slim.kind).row(slim, now), rendererFor(full.kind).row(full, now));
	if (full.kind === 'Pod') assert.equal(podStatus(slim), podStatus(full));
};

describe('slimObject: pods', () => {
	const full = fullPod('web-abc-1');
	const before = structuredClone(full);
	const slim = slimObject(podType, full);
	const container = (slim.spec as Rec).containers[0];

	it('keeps what the list views read', () => {
		assert.equal(slim.metadata.name, 'web-abc-1');
		assert.equal(slim.metadata.namespace, 'shop');
		assert.equal(slim.metadata.uid, 'uid-web-abc-1');
		assert.equal(slim.metadata.creationTimestamp, '2026-01-01T11:00:00Z');
		assert.deepEqual(slim.metadata.labels, {app: 'web', 'pod-template-hash': 'abc'});
		assert.deepEqual(slim.metadata.ownerReferences, [{apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-uid', controller: true}]);
		assert.deepEqual(container, {name: 'app', image: 'nginx:1.27', ports: [{name: 'http', containerPort: 8080, protocol: 'TCP'}], resources: {requests: {cpu: '100m', memory: '64Mi'}, limits: {memory: '128Mi'}}});
		assert.deepEqual((slim.spec as Rec).initContainers, [{name: 'init', image: 'busybox'}]);
		assert.equal((slim.spec as Rec).nodeName, 'node-1');
		assert.deepEqual((slim.spec as Rec).readinessGates, [{conditionType: 'example.com/ready'}]);
		const status = slim.status as Rec;
		assert.equal(status.phase, 'Running');
		assert.equal(status.podIP, '10.0.0.7');
		assert.equal(status.hostIP, '192.168.1.2');
		assert.equal(status.startTime, '2026-01-01T11:00:01Z');
		assert.deepEqual(status.conditions, [{type: 'Initialized', status: 'True'}, {type: 'Ready', status: 'True'}]);
		assert.deepEqual(status.containerStatuses[0], {name: 'app', ready: true, started: true, restartCount: 2, image: 'nginx:1.27', state: {running: {startedAt: '2026-01-01T11:30:00Z'}},
			lastState: {terminated: {exitCode: 137, reason: 'OOMKilled', startedAt: '2026-01-01T11:00:03Z', finishedAt: '2026-01-01T11:29:59Z'}}});
		assert.equal(status.initContainerStatuses[0].state.terminated.exitCode, 0);
		// xray draws the pod's claims: only the claim volumes are kept, only their claim.
		assert.deepEqual((slim.spec as Rec).volumes, [{name: 'data', persistentVolumeClaim: {claimName: 'web-data'}}]);
	});

	it('drops env, mounts, probes, command, args, security contexts, annotations and managedFields', () => {
		for (const field of ['env', 'volumeMounts', 'livenessProbe', 'readinessProbe', 'command', 'args', 'securityContext', 'imagePullPolicy', 'terminationMessagePath']) {
			assert.equal(field in container, false, field);
		}
		for (const field of ['securityContext', 'serviceAccountName', 'restartPolicy', 'dnsPolicy']) assert.equal(field in (slim.spec as Rec), false, field);
		for (const field of ['annotations', 'managedFields', 'generateName', 'generation']) assert.equal(field in slim.metadata, false, field);
		for (const field of ['qosClass', 'podIPs']) assert.equal(field in (slim.status as Rec), false, field);
		assert.equal('imageID' in (slim.status as Rec).containerStatuses[0], false);
		assert.equal('message' in (slim.status as Rec).containerStatuses[0].lastState.terminated, false);
		assert.equal('lastTransitionTime' in (slim.status as Rec).conditions[0], false);
		assert.ok(JSON.stringify(slim).length < JSON.stringify(full).length * 0.6, `${JSON.stringify(slim).length} of ${JSON.stringify(full).length} characters kept`);
	});

	it('leaves the object it was given as it was', () => {
		assert.deepEqual(full, before);
	});

	it('gives the same STATUS and columns as the whole pod, in every state', () => {
		const waiting = {phase: 'Running', containerStatuses: [{name: 'app', ready: false, restartCount: 5, state: {waiting: {reason: 'CrashLoopBackOff', message: 'back-off 5m0s'}}, lastState: {terminated: {exitCode: 1, finishedAt: '2026-01-01T11:58:00Z'}}}]};
		const initWaiting = {phase: 'Pending', initContainerStatuses: [{name: 'init', ready: false, restartCount: 0, state: {waiting: {reason: 'ImagePullBackOff'}}}]};
		const initRunning = {phase: 'Pending', initContainerStatuses: [{name: 'init', ready: false, restartCount: 0, state: {running: {startedAt: '2026-01-01T11:59:00Z'}}}]};
		const initFailed = {phase: 'Pending', initContainerStatuses: [{name: 'init', ready: false, restartCount: 0, state: {terminated: {exitCode: 2, signal: 9}}}]};
		const completedRunning = {phase: 'Running', conditions: [{type: 'Ready', status: 'False'}], containerStatuses: [
			{name: 'app', ready: false, restartCount: 0, state: {terminated: {exitCode: 0, reason: 'Completed'}}},
			{name: 'sidecar', ready: true, restartCount: 0, state: {running: {startedAt: '2026-01-01T11:00:00Z'}}},
		]};
		const evicted = {phase: 'Failed', reason: 'Evicted', nominatedNodeName: 'node-2'};
		const pods = [
			full, fullPod('b', {status: waiting}), fullPod('c', {status: initWaiting}), fullPod('d', {status: initRunning}), fullPod('e', {status: initFailed}),
			fullPod('f', {status: completedRunning}), fullPod('g', {status: evicted}), fullPod('h', {deletionTimestamp: '2026-01-01T11:59:00Z'}),
		];
		for (const pod of pods) sameView(pod, slimObject(podType, pod));
		assert.deepEqual(pods.map(p => podStatus(slimObject(podType, p))), ['Running', 'CrashLoopBackOff', 'Init:ImagePullBackOff', 'Init:0/1', 'Init:Signal:9', 'NotReady', 'Evicted', 'Terminating']);
	});

	it('gives xray, port-forward and the workload selectors the same answers', () => {
		const pods = [full, fullPod('web-abc-2')];
		const slimPods = pods.map(p => slimObject(podType, p));
		const deployment: KubeObject = {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web', namespace: 'shop', uid: 'd-uid'}, spec: {replicas: 2, selector: {matchLabels: {app: 'web'}}}, status: {readyReplicas: 2}};
		const rs: KubeObject = {apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {name: 'web-abc', namespace: 'shop', uid: 'rs-uid', ownerReferences: [{apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true}]}, spec: {replicas: 2}, status: {readyReplicas: 2}};
		const pvcs: KubeObject[] = [{apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: 'web-data', namespace: 'shop'}, status: {phase: 'Bound'}}];
		assert.deepEqual(xrayLines('deployments', {deployments: [deployment], replicasets: [rs], pods: slimPods, pvcs}), xrayLines('deployments', {deployments: [deployment], replicasets: [rs], pods, pvcs}));
		assert.ok(xrayLines('deployments', {deployments: [deployment], replicasets: [rs], pods: slimPods, pvcs}).some(l => l.text.includes('PersistentVolumeClaim web-data Bound')));
		const service: KubeObject = {apiVersion: 'v1', kind: 'Service', metadata: {name: 'web', namespace: 'shop'}, spec: {selector: {app: 'web'}, ports: [{port: 80, targetPort: 'http'}]}};
		assert.deepEqual(forwardTarget(slimObject('Service', service), slimPods), forwardTarget(service, pods));
		assert.deepEqual(forwardTarget(slimPods[0], slimPods), {host: '10.0.0.7', port: 8080});
		assert.equal(podSelectorOf(slimObject('Service', service)), podSelectorOf(service));
	});
});

describe('slimObject: other kinds', () => {
	it('returns an object of a kind it does not know unchanged (the same object)', () => {
		const widget: KubeObject = {apiVersion: 'example.com/v1', kind: 'Widget', metadata: {name: 'w', annotations: {a: 'b'}, managedFields: []}, spec: {anything: {deep: [1, 2]}}};
		assert.equal(slimObject('Widget', widget), widget);
		assert.equal(slimKinds.includes('Widget'), false);
	});

	it('gives the same columns for every kind it projects', () => {
		const meta = (name: string, extra: Rec = {}) => ({name, namespace: 'shop', uid: `u-${name}`, creationTimestamp: '2026-01-01T10:00:00Z', annotations: {'kubectl.kubernetes.io/last-applied-configuration': '{}'}, managedFields: [{manager: 'x'}], ...extra});
		const template = {metadata: {labels: {app: 'web'}}, spec: {nodeSelector: {disk: 'ssd'}, containers: [{name: 'app', image: 'nginx', env: [{name: 'A', value: 'b'}]}, {name: 'log', image: 'fluentbit'}]}};
		const selector = {matchLabels: {app: 'web'}, matchExpressions: [{key: 'tier', operator: 'In', values: ['front']}]};
		const objects: KubeObject[] = [
			{apiVersion: 'v1', kind: 'Node', metadata: meta('node-1', {namespace: undefined, labels: {'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/os': 'linux'}}), spec: {unschedulable: true, taints: [{key: 'a', effect: 'NoSchedule'}]},
				status: {conditions: [{type: 'MemoryPressure', status: 'False', message: 'ok'}, {type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2026-01-01T11:59:50Z'}],
					addresses: [{type: 'InternalIP', address: '192.168.1.2'}, {type: 'Hostname', address: 'node-1'}], capacity: {cpu: '8', memory: '32Gi'}, allocatable: {cpu: '7', memory: '30Gi', pods: '110'},
					nodeInfo: {kubeletVersion: 'v1.32.0', osImage: 'Debian', kernelVersion: '6.1', containerRuntimeVersion: 'containerd://2', machineID: 'm', bootID: 'b'}, images: [{names: ['nginx'], sizeBytes: 1}]}},
			{apiVersion: 'v1', kind: 'Namespace', metadata: meta('shop', {namespace: undefined}), spec: {finalizers: ['kubernetes']}, status: {phase: 'Active'}},
			{apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('web', {annotations: {'deployment.kubernetes.io/revision': '3'}}), spec: {replicas: 3, selector, template, strategy: {type: 'RollingUpdate'}},
				status: {replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2, conditions: [{type: 'Available', status: 'True', message: 'long'}]}},
			{apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('web-abc', {annotations: {'deployment.kubernetes.io/revision': '3'}}), spec: {replicas: 3, selector, template}, status: {replicas: 3, readyReplicas: 2}},
			{apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('db'), spec: {replicas: 2, selector, template, volumeClaimTemplates: [{metadata: {name: 'data'}}]}, status: {readyReplicas: 1}},
			{apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('agent'), spec: {selector, template}, status: {desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2}},
			{apiVersion: 'batch/v1', kind: 'Job', metadata: meta('once'), spec: {completions: 3, parallelism: 2, selector, template}, status: {succeeded: 1, startTime: '2026-01-01T11:00:00Z', completionTime: '2026-01-01T11:05:00Z', conditions: [{type: 'Complete', status: 'True'}]}},
			{apiVersion: 'batch/v1', kind: 'Job', metadata: meta('running'), spec: {parallelism: 2, selector, template}, status: {succeeded: 0, startTime: '2026-01-01T11:00:00Z'}},
			{apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta('nightly'), spec: {schedule: '0 3 * * *', timeZone: 'UTC', suspend: false, jobTemplate: {spec: {selector, template}}}, status: {active: [{name: 'nightly-1'}], lastScheduleTime: '2026-01-01T03:00:00Z'}},
			{apiVersion: 'v1', kind: 'Service', metadata: meta('web'), spec: {type: 'LoadBalancer', clusterIP: '10.96.0.10', ports: [{name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP'}], selector: {app: 'web'}, sessionAffinity: 'None'},
				status: {loadBalancer: {ingress: [{ip: '1.2.3.4'}]}}},
			{apiVersion: 'v1', kind: 'Service', metadata: meta('ext'), spec: {type: 'ExternalName', externalName: 'example.com'}},
			{apiVersion: 'v1', kind: 'Endpoints', metadata: meta('web'), subsets: [{addresses: [{ip: '10.0.0.1', targetRef: {kind: 'Pod', name: 'a'}}, {ip: '10.0.0.2'}], notReadyAddresses: [{ip: '10.0.0.3'}], ports: [{port: 8080, name: 'http'}]}]},
			{apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta('web'), spec: {ingressClassName: 'nginx', rules: [{host: 'a.example.com', http: {paths: [{path: '/'}]}}, {}], tls: [{hosts: ['a.example.com'], secretName: 't'}]}, status: {loadBalancer: {ingress: [{hostname: 'lb.example.com'}]}}},
			{apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('conf'), data: {'nginx.conf': 'x'.repeat(10_000), 'b': 'c'}, binaryData: {bin: 'AAAA'}},
			{apiVersion: 'v1', kind: 'Secret', metadata: meta('tls'), type: 'kubernetes.io/tls', data: {'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5'}},
			{apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta('data'), spec: {volumeName: 'pv-1', storageClassName: 'fast', accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}, status: {phase: 'Bound', capacity: {storage: '1Gi'}, accessModes: ['ReadWriteOnce']}},
			{apiVersion: 'v1', kind: 'PersistentVolume', metadata: meta('pv-1', {namespace: undefined}), spec: {capacity: {storage: '1Gi'}, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Delete', claimRef: {namespace: 'shop', name: 'data', uid: 'x'}, storageClassName: 'fast', hostPath: {path: '/x'}}, status: {phase: 'Bound'}},
			{apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: meta('fast', {namespace: undefined, annotations: {'storageclass.kubernetes.io/is-default-class': 'true', other: 'x'}}), provisioner: 'kubedeck.io/hostpath', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true, parameters: {a: 'b'}},
			{apiVersion: 'v1', kind: 'Event', metadata: meta('web.1'), involvedObject: {kind: 'Pod', name: 'web-1', namespace: 'shop', fieldPath: 'spec.containers{app}'}, type: 'Warning', reason: 'BackOff', message: ' Back-off restarting ', count: 4,
				firstTimestamp: '2026-01-01T11:00:00Z', lastTimestamp: '2026-01-01T11:50:00Z', source: {component: 'kubelet'}},
			{apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta('web'), spec: {scaleTargetRef: {kind: 'Deployment', name: 'web'}, minReplicas: 2, maxReplicas: 10, metrics: [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 50}}}]},
				status: {currentReplicas: 3, currentMetrics: [{type: 'Resource', resource: {name: 'cpu', current: {averageUtilization: 30}}}]}},
			{apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('default'), secrets: [{name: 'a'}, {name: 'b'}]},
			{apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: meta('db-1', {ownerReferences: [{apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true}]}), revision: 2, data: {spec: {template}}},
		];
		for (const obj of objects) {
			const slim = slimObject(obj.kind, obj);
			assert.notEqual(slim, obj, obj.kind);
			sameView(obj, slim);
			assert.equal('managedFields' in slim.metadata, false, obj.kind);
			assert.equal(slim.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined, obj.kind);
			assert.equal(podSelectorOf(slim), podSelectorOf(obj), obj.kind);
		}
		const byKind = (kind: string) => slimObject(kind, objects.find(o => o.kind === kind)!);
		// A ConfigMap's and a Secret's values are not kept, only their keys (the Data column counts them).
		assert.deepEqual(byKind('ConfigMap').data, {'nginx.conf': '', b: ''});
		assert.deepEqual(byKind('Secret').data, {'tls.crt': '', 'tls.key': ''});
		assert.equal('data' in byKind('ControllerRevision'), false);
		assert.equal(byKind('ReplicaSet').metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
		// Pulses reads a node's readiness and allocatable CPU and memory.
		const node = objects[0];
		const pulses = new Pulses({} as ClusterClient, 'shop');
		assert.deepEqual(pulsesLines({namespace: 'shop', podTally: new Map([['Running', 1]]), nodes: [slimObject('Node', node)], pulses, now}), pulsesLines({namespace: 'shop', podTally: new Map([['Running', 1]]), nodes: [node], pulses, now}));
	});
});

describe('Interner', () => {
	it('shares repeated strings and subtrees between projected objects', () => {
		const interner = new Interner();
		const a = slimObject(podType, fullPod('web-abc-1'), interner);
		const b = slimObject(podType, fullPod('web-abc-2'), interner);
		assert.equal(a.metadata.labels, b.metadata.labels);
		assert.equal(a.metadata.ownerReferences, b.metadata.ownerReferences);
		assert.equal((a.spec as Rec).containers, (b.spec as Rec).containers);
		assert.equal((a.status as Rec).conditions, (b.status as Rec).conditions);
		assert.notEqual(a.metadata, b.metadata);
		assert.deepEqual(a, slimObject(podType, fullPod('web-abc-1')));
	});

	it('starts a table again past its limit', () => {
		const interner = new Interner(2);
		for (const s of ['a', 'b', 'c']) interner.string(s);
		assert.equal(interner.size, 1);
	});
});

/** A client with one list and a watch the test feeds events into. */
function fakeClient(items: KubeObject[]): {client: ClusterClient; emit: (event: WatchEvent) => void} {
	let onEvent: ((event: WatchEvent) => void) | undefined;
	const client = {
		list: async () => ({apiVersion: 'v1', kind: 'PodList', metadata: {resourceVersion: '1'}, items}) as KubeList,
		watch: (_type: unknown, _options: unknown, on: (event: WatchEvent) => void) => {
			onEvent = on;
			return {stop() {}, done: new Promise<void>(() => {})};
		},
	} as unknown as ClusterClient;
	return {client, emit: event => onEvent?.(event)};
}

/** Wait until the feed's snapshot passes `test` (its snapshot is published on a later turn of the event loop). */
async function until(feed: ResourceFeed, test: (items: KubeObject[]) => boolean): Promise<void> {
	for (const start = Date.now(); !test(feed.getSnapshot().items); await new Promise(r => setTimeout(r, 5))) {
		if (Date.now() - start > 5000) assert.fail(`the feed's snapshot never got there: ${feed.getSnapshot().items.map(o => o.metadata.name).join(', ')}`);
	}
}

describe('ResourceFeed with a projection', () => {
	it('stores objects as received without one', async () => {
		const pod = fullPod('web-abc-1');
		const {client, emit} = fakeClient([pod]);
		const feed = new ResourceFeed(client, podType, 'shop', podStatus);
		await until(feed, items => items.length === 1);
		assert.equal(feed.getSnapshot().items[0], pod);
		const next = fullPod('web-abc-0');
		emit({type: 'ADDED', object: next});
		await until(feed, items => items.length === 2);
		assert.deepEqual(feed.getSnapshot().items, [next, pod]);
		feed.stop();
	});

	it('stores what the projection keeps, from the list and from the watch, and tallies it', async () => {
		const {client, emit} = fakeClient([fullPod('web-abc-1')]);
		const feed = new ResourceFeed(client, podType, 'shop', podStatus, {project: slimObject});
		await until(feed, items => items.length === 1);
		assert.equal('managedFields' in feed.getSnapshot().items[0].metadata, false);
		emit({type: 'ADDED', object: fullPod('web-abc-2', {status: {phase: 'Pending'}})});
		emit({type: 'MODIFIED', object: fullPod('web-abc-1', {deletionTimestamp: '2026-01-01T11:59:00Z'})});
		await until(feed, items => items.length === 2 && !!items[0].metadata.deletionTimestamp);
		const items = feed.getSnapshot().items;
		assert.deepEqual(items.map(o => o.metadata.name), ['web-abc-1', 'web-abc-2']);
		assert.ok(items.every(o => !('env' in (o.spec as Rec).containers[0])));
		assert.equal(items[0].metadata.labels, items[1].metadata.labels, 'labels shared through the feed\'s interner');
		assert.deepEqual(new Map(feed.getSnapshot().tally), new Map([['Terminating', 1], ['Pending', 1]]));
		emit({type: 'DELETED', object: fullPod('web-abc-1')});
		await until(feed, items => items.length === 1);
		assert.deepEqual([...feed.getSnapshot().tally], [['Pending', 1]]);
		feed.stop();
	});
});
