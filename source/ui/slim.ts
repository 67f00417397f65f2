// What the dashboard's lists keep of an object: a projection a ResourceFeed
// can be given (`{project: slimObject}`), so 10,000 pods are not held whole.
// A keep-list per kind: the fields the list views read (the columns of
// source/render/columns.ts, the header's tallies, filters, xray, pulses,
// logs, port-forwards, the keys that act on the selected row) and nothing
// else; env, volume mounts, probes, command and args, security contexts,
// managedFields and annotations (but the two a view reads) are dropped.
// Describe, YAML and edit fetch the whole object with a GET. A kind not
// listed here is kept whole.
//
// With an Interner, strings that repeat across objects (namespace, node,
// image, label values, timestamps) are shared, and so are whole subtrees
// that repeat (the labels, owner references, container specs and
// conditions of a ReplicaSet's pods): an object from a feed is never
// mutated, so sharing is safe.
import type {KubeObject} from '../api/object.js';
import type {ResourceType} from '../api/resources.js';

/**
 * How a value is kept: 'keep' as it is (shared with the original), 'string' as it is but a string
 * interned, 'keys' an object's keys with '' for values (a count of them is all a column reads), an
 * object of shapes its listed fields only, `[shape]` an array of such, `{'*': shape}` every field;
 * share(shape) projected by `shape`, then replaced by an equal value kept before (by its JSON);
 * Having only an array's elements that have a field.
 */
type Shape = 'keep' | 'string' | 'keys' | Share | Having | {readonly [field: string]: Shape} | readonly [Shape];

class Share {
	constructor(readonly shape: Shape) {}
}

/** An array's elements that have `field`, each by `shape` (a pod's claim volumes, not its other volumes). */
class Having {
	constructor(readonly field: string, readonly shape: Shape) {}
}

const S = 'string' as const;
const share = (shape: Shape): Shape => new Share(shape);

/** Strings and subtrees seen before, to share them. Bounded: past `limit` entries a table starts again (what was shared stays shared). */
export class Interner {
	private strings = new Map<string, string>();
	private values = new Map<string, unknown>();

	constructor(private readonly limit = 50_000) {}

	string(s: string): string {
		const seen = this.strings.get(s);
		if (seen !== undefined) return seen;
		if (this.strings.size >= this.limit) this.strings = new Map();
		this.strings.set(s, s);
		return s;
	}

	/** A value equal (as JSON) to one shared before, else this one (kept for next time). */
	value<T>(value: T): T {
		const key = JSON.stringify(value);
		const seen = this.values.get(key);
		if (seen !== undefined) return seen as T;
		if (this.values.size >= this.limit) this.values = new Map();
		this.values.set(key, value);
		return value;
	}

	clear(): void {
		this.strings = new Map();
		this.values = new Map();
	}

	get size(): number {
		return this.strings.size + this.values.size;
	}
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function project(value: unknown, shape: Shape, interner: Interner | undefined): unknown {
	if (value === null || value === undefined || shape === 'keep') return value;
	if (shape === S) return typeof value === 'string' && interner ? interner.string(value) : value;
	if (shape === 'keys') return isRecord(value) ? Object.fromEntries(Object.keys(value).map(k => [k, ''])) : value;
	if (Array.isArray(shape)) return Array.isArray(value) ? value.map(v => project(v, shape[0], interner)) : value;
	if (shape instanceof Having) {
		if (!Array.isArray(value)) return value;
		return value.filter(v => isRecord(v) && v[shape.field] !== undefined).map(v => project(v, shape.shape, interner));
	}
	if (shape instanceof Share) {
		const kept = project(value, shape.shape, interner);
		return interner && typeof kept === 'object' ? interner.value(kept) : kept;
	}
	const fields = shape as Record<string, Shape>;
	// A value not of the shape expected (not an object where fields are listed) is kept as it is.
	if (!isRecord(value)) return value;
	const out: Record<string, unknown> = {};
	if ('*' in fields) {
		for (const key of Object.keys(value)) out[key] = project(value[key], fields['*'], interner);
		return out;
	}
	for (const key in fields) {
		if (value[key] === undefined) continue;
		const kept = project(value[key], fields[key], interner);
		if (kept !== undefined) out[key] = kept;
	}
	// Annotations none of which a view reads are left out, not kept as an empty object per pod.
	if (shape === annotationsShape && Object.keys(out).length === 0) return undefined;
	return out;
}

// ---- the pieces several kinds share

/** Annotations a list view reads: StorageClass's default mark; a ReplicaSet's (and Deployment's) revision, for xray and the details. */
const annotationsShape: Shape = {
	'storageclass.kubernetes.io/is-default-class': 'keep',
	'deployment.kubernetes.io/revision': 'keep',
};

const metadataShape: Shape = {
	// Who the object is (name, namespace, uid: keys, xray's owner matching, usage columns), its version.
	name: 'keep', namespace: S, uid: 'keep', resourceVersion: 'keep',
	// Age, Terminating.
	creationTimestamp: S, deletionTimestamp: S,
	// Label filters, workload logs and port-forward targets (selectors), node roles.
	labels: share({'*': S}),
	// o (owner), xray (uid), ControllerRevision's Controller column.
	ownerReferences: share([{apiVersion: S, kind: S, name: S, uid: S, controller: 'keep'}]),
	annotations: annotationsShape,
};

const conditionsShape: Shape = share([{type: S, status: S}]);

const portShape: Shape = {name: S, containerPort: 'keep', protocol: S};
/** Containers: names (logs, shell, xray, Containers column), images (Images column, xray), ports (port-forward), resources. */
const containerShape: Shape = {name: S, image: S, ports: [portShape], resources: 'keep'};
const containersShape: Shape = share([containerShape]);

/** A workload's pod template as the Containers and Images columns (and DaemonSet's Node Selector) read it. */
const templateShape: Shape = {spec: {containers: containersShape, initContainers: containersShape, nodeSelector: share({'*': S})}};

const stateShape: Shape = {
	running: {startedAt: S},
	waiting: {reason: S},
	terminated: {exitCode: 'keep', signal: 'keep', reason: S, startedAt: S, finishedAt: S},
};
/** Ready, Restarts (and the last restart's time), the STATUS column's reasons, xray's container lines. */
const containerStatusShape: Shape = {name: S, ready: 'keep', started: 'keep', restartCount: 'keep', image: S, state: stateShape, lastState: share(stateShape)};

const loadBalancerShape: Shape = {ingress: [{ip: S, hostname: S}]};

const base = (rest: Record<string, Shape>): Shape => ({apiVersion: S, kind: S, metadata: metadataShape, ...rest});

const shapes: Record<string, Shape> = {
	Pod: base({
		spec: {
			// Node (wide), o (go to the node), the details' NODE.
			nodeName: S,
			// Readiness Gates (wide).
			readinessGates: share([{conditionType: S}]),
			containers: containersShape,
			// The STATUS column counts them ("Init:0/2").
			initContainers: containersShape,
			// xray draws a pod's PersistentVolumeClaims: only claim volumes, only their claim.
			volumes: share(new Having('persistentVolumeClaim', {name: S, persistentVolumeClaim: {claimName: S}})),
		},
		status: {
			// STATUS (podStatus): phase, reason, container and init container states, Ready condition.
			phase: S, reason: S, conditions: conditionsShape,
			containerStatuses: [containerStatusShape], initContainerStatuses: [containerStatusShape],
			// IP, Nominated Node (wide), port-forward's address, the details' IP.
			podIP: 'keep', hostIP: S, startTime: S, nominatedNodeName: S,
		},
	}),
	Node: base({
		// SchedulingDisabled.
		spec: {unschedulable: 'keep'},
		status: {
			// Status, the header's ready count, pulses.
			conditions: conditionsShape,
			// Internal-IP, External-IP (wide).
			addresses: share([{type: S, address: S}]),
			// Version, OS-Image, Kernel-Version, Container-Runtime.
			nodeInfo: share({kubeletVersion: S, osImage: S, kernelVersion: S, containerRuntimeVersion: S}),
			// Pulses' CPU and MEM bars.
			allocatable: share({cpu: S, memory: S}),
		},
	}),
	Namespace: base({status: {phase: S}}),
	Deployment: base({
		// Ready, scale (its prompt, + and -), enter (its pods' selector), Containers, Images, Selector.
		spec: {replicas: 'keep', selector: 'keep', template: templateShape, paused: 'keep'},
		status: {replicas: 'keep', readyReplicas: 'keep', updatedReplicas: 'keep', availableReplicas: 'keep', unavailableReplicas: 'keep', observedGeneration: 'keep', conditions: conditionsShape},
	}),
	ReplicaSet: base({
		spec: {replicas: 'keep', selector: 'keep', template: templateShape},
		status: {replicas: 'keep', readyReplicas: 'keep', availableReplicas: 'keep'},
	}),
	StatefulSet: base({
		spec: {replicas: 'keep', selector: 'keep', template: templateShape},
		status: {replicas: 'keep', readyReplicas: 'keep', currentReplicas: 'keep', updatedReplicas: 'keep', availableReplicas: 'keep'},
	}),
	DaemonSet: base({
		spec: {selector: 'keep', template: templateShape},
		status: {desiredNumberScheduled: 'keep', currentNumberScheduled: 'keep', numberReady: 'keep', updatedNumberScheduled: 'keep', numberAvailable: 'keep'},
	}),
	Job: base({
		// Completions, Status, Duration; the selector for enter and logs.
		spec: {completions: 'keep', parallelism: 'keep', selector: 'keep', suspend: 'keep', template: templateShape},
		status: {conditions: conditionsShape, succeeded: 'keep', failed: 'keep', active: 'keep', startTime: S, completionTime: S},
	}),
	CronJob: base({
		spec: {schedule: S, timeZone: S, suspend: 'keep', jobTemplate: {spec: {selector: 'keep', template: templateShape}}},
		status: {active: 'keep', lastScheduleTime: S},
	}),
	Service: base({
		// Type, Cluster-IP, External-IP, Port(s), Selector; enter, logs and port-forward (selector, ports).
		spec: {type: S, clusterIP: 'keep', externalName: 'keep', externalIPs: 'keep', ports: 'keep', selector: share({'*': S})},
		status: {loadBalancer: loadBalancerShape},
	}),
	Endpoints: base({subsets: [{addresses: [{ip: 'keep'}], ports: [{name: S, port: 'keep', protocol: S}]}]}),
	Ingress: base({
		// Class, Hosts, Ports (TLS or not), Address.
		spec: {ingressClassName: S, rules: [{host: 'keep'}], tls: [{hosts: 'keep'}]},
		status: {loadBalancer: loadBalancerShape},
	}),
	// Data: only how many keys (values can be megabytes, and a Secret's are secret).
	ConfigMap: base({data: 'keys', binaryData: 'keys'}),
	Secret: base({type: S, data: 'keys'}),
	PersistentVolumeClaim: base({
		spec: {volumeName: 'keep', storageClassName: S, volumeAttributesClassName: S, volumeMode: S},
		status: {phase: S, capacity: {storage: S}, accessModes: 'keep'},
	}),
	PersistentVolume: base({
		spec: {capacity: {storage: S}, accessModes: 'keep', persistentVolumeReclaimPolicy: S, claimRef: {namespace: S, name: 'keep'}, storageClassName: S, volumeAttributesClassName: S, volumeMode: S},
		status: {phase: S, reason: S},
	}),
	StorageClass: base({provisioner: S, reclaimPolicy: S, volumeBindingMode: S, allowVolumeExpansion: 'keep'}),
	Event: base({
		// Last Seen (and the order events are listed in), Type, Reason, Object, Message; events.k8s.io's names too.
		involvedObject: {kind: S, name: 'keep', namespace: S, uid: 'keep'},
		regarding: {kind: S, name: 'keep', namespace: S, uid: 'keep'},
		type: S, reason: S, message: 'keep', note: 'keep', count: 'keep', deprecatedCount: 'keep',
		firstTimestamp: S, lastTimestamp: S, eventTime: S, deprecatedFirstTimestamp: S, deprecatedLastTimestamp: S,
		series: {count: 'keep', lastObservedTime: S},
	}),
	HorizontalPodAutoscaler: base({
		spec: {scaleTargetRef: 'keep', minReplicas: 'keep', maxReplicas: 'keep', metrics: 'keep'},
		status: {currentReplicas: 'keep', desiredReplicas: 'keep', currentMetrics: 'keep'},
	}),
	// Secrets (a count).
	ServiceAccount: base({secrets: 'keep'}),
	// Revision (its data, a whole pod template, is dropped).
	ControllerRevision: base({revision: 'keep'}),
};

/** The kinds slimObject projects; any other kind is kept whole. */
export const slimKinds: readonly string[] = Object.keys(shapes);

/**
 * What the dashboard's lists need of `obj`: a new object with the fields its kind's keep-list
 * names, the rest dropped; an object of a kind without a keep-list, unchanged (the same object).
 * With an interner, repeated strings and subtrees are shared. `obj` is not changed.
 */
export function slimObject(type: ResourceType | string, obj: KubeObject, interner?: Interner): KubeObject {
	const shape = shapes[typeof type === 'string' ? type : type.kind];
	if (!shape) return obj;
	return project(obj, shape, interner) as KubeObject;
}
