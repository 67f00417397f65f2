// `:xray KIND`, as k9s has it: the objects of a kind as trees of what they
// own or reach. Deployment → ReplicaSets → Pods → containers; Service →
// Endpoints → Pods; StatefulSet → Pods → PersistentVolumeClaims. Pure: the
// objects in, lines with a status each (for its colour) out. Owners are
// matched by ownerReferences' uid, services to pods by their selector, as
// the controllers themselves do.
import type {KubeObject} from '../api/object.js';
import {isPodReady} from '../api/pods.js';
import {podStatus} from '../render/columns.js';

type Rec = Record<string, any>;

export interface XrayLine {
	text: string;
	/** What colours the line: a pod's STATUS, or Ready / NotReady for the rest. */
	status: string;
}

export interface XrayObjects {
	deployments?: KubeObject[];
	replicasets?: KubeObject[];
	statefulsets?: KubeObject[];
	daemonsets?: KubeObject[];
	jobs?: KubeObject[];
	services?: KubeObject[];
	endpoints?: KubeObject[];
	pods: KubeObject[];
	pvcs?: KubeObject[];
}

/** The kinds `:xray` draws, by the words it takes. */
export const xrayKinds: Record<string, keyof XrayObjects> = {
	deployments: 'deployments', deploy: 'deployments', deployment: 'deployments', dp: 'deployments',
	statefulsets: 'statefulsets', sts: 'statefulsets', statefulset: 'statefulsets',
	daemonsets: 'daemonsets', ds: 'daemonsets', daemonset: 'daemonsets',
	jobs: 'jobs', job: 'jobs',
	services: 'services', svc: 'services', service: 'services',
	replicasets: 'replicasets', rs: 'replicasets', replicaset: 'replicasets',
};

const ownedBy = (owner: KubeObject) => (o: KubeObject) => (o.metadata.ownerReferences ?? []).some(r => r.uid === owner.metadata.uid);
/** By name, in code-point order (kubectl's; and localeCompare cost tens of ms over 10,000 pods). */
const byName = (a: KubeObject, b: KubeObject) => {
	const x = a.metadata.name ?? '', y = b.metadata.name ?? '';
	return x < y ? -1 : x > y ? 1 : 0;
};

function readyOf(wanted: number, ready: number): string {
	return ready >= wanted ? 'Ready' : 'NotReady';
}

/** A pod's containers and the claims it mounts: the lines under it, counted without drawing them. */
const containersOf = (pod: KubeObject): Rec[] => (pod.spec as Rec)?.containers ?? [];
const claimsOf = (pod: KubeObject): string[] => ((pod.spec as Rec)?.volumes ?? []).map((v: Rec) => v.persistentVolumeClaim?.claimName).filter(Boolean);

function containerLine(pod: KubeObject, c: Rec): XrayLine {
	const s = ((pod.status as Rec)?.containerStatuses as Rec[] | undefined)?.find(x => x.name === c.name);
	const state = s?.state?.running ? 'running' : s?.state?.waiting ? `waiting: ${s.state.waiting.reason ?? ''}` : s?.state?.terminated ? `terminated: ${s.state.terminated.reason ?? s.state.terminated.exitCode}` : 'not started';
	const restarts = s?.restartCount ? `, ${s.restartCount} restart${s.restartCount === 1 ? '' : 's'}` : '';
	return {text: `container ${c.name} (${c.image}) ${state}${restarts}`, status: s?.ready ? 'Ready' : s?.state?.running ? 'NotReady' : 'Pending'};
}

function podLine(pod: KubeObject): XrayLine {
	const status = podStatus(pod);
	return {text: `Pod ${pod.metadata.name} ${status}${isPodReady(pod) ? '' : ' (not ready)'}`, status};
}

/** A pod's `index`th line under it: its containers, then its claims. */
function podChildLine(pod: KubeObject, pvcs: KubeObject[], index: number): XrayLine {
	const containers = containersOf(pod);
	if (index < containers.length) return containerLine(pod, containers[index]);
	const name = claimsOf(pod)[index - containers.length];
	const phase = (pvcs.find(p => p.metadata.name === name)?.status as Rec)?.phase ?? 'missing';
	return {text: `PersistentVolumeClaim ${name} ${phase}`, status: phase === 'Bound' ? 'Ready' : 'NotReady'};
}

/** A node of the tree: its line and its children, or, for an owner of pods, the pods (each drawn with its containers and claims when shown). */
interface Node {
	line: XrayLine;
	children: readonly Node[];
	pods?: KubeObject[];
}

/** The children of a node that has none: one array for all of them. */
const leaf: readonly Node[] = Object.freeze([]);

/**
 * A run of the outline: one line drawn in full (an owner's, with its
 * branches), or the pods of one owner, whose lines are drawn only when
 * asked for. `ends[i]` is the line after pod i's last, counted from the
 * run's start.
 */
type Run = {start: number; line: XrayLine} | {start: number; prefix: string; pods: KubeObject[]; ends: Int32Array};

/** The tree's lines, made when asked for: a screenful is drawn, not all of them (10,000 pods are 20,000 lines, and building them was most of :xray's time). */
export interface XrayOutline {
	readonly length: number;
	/** How many trees (the kind's objects) it draws. */
	readonly roots: number;
	at(index: number): XrayLine;
}

class Outline implements XrayOutline {
	private readonly runs: Run[] = [];
	length = 0;
	roots = 0;

	constructor(private readonly pvcs: KubeObject[]) {}

	addRoot(root: Node): void {
		this.roots++;
		this.add(root.line);
		this.addChildren(root, '');
		this.add({text: '', status: ''});
	}

	private add(line: XrayLine): void {
		this.runs.push({start: this.length, line});
		this.length++;
	}

	private addChildren(node: Node, prefix: string): void {
		if (node.pods) return this.addPods(node.pods, prefix);
		node.children.forEach((child, i) => {
			const last = i === node.children.length - 1;
			this.add({text: `${prefix}${last ? '└─ ' : '├─ '}${child.line.text}`, status: child.line.status});
			this.addChildren(child, `${prefix}${last ? '   ' : '│  '}`);
		});
	}

	private addPods(pods: KubeObject[], prefix: string): void {
		if (pods.length === 0) return;
		const ends = new Int32Array(pods.length);
		let lines = 0;
		for (let i = 0; i < pods.length; i++) ends[i] = lines += 1 + containersOf(pods[i]).length + claimsOf(pods[i]).length;
		this.runs.push({start: this.length, prefix, pods, ends});
		this.length += lines;
	}

	at(index: number): XrayLine {
		if (index < 0 || index >= this.length) throw new RangeError(`line ${index} of ${this.length}`);
		const run = this.runs[lastAtOrBelow(this.runs.length, i => this.runs[i].start, index)];
		if ('line' in run) return run.line;
		const offset = index - run.start;
		// The first pod whose lines end after the offset.
		let lo = 0, hi = run.ends.length - 1;
		while (lo < hi) {
			const mid = (lo + hi) >> 1;
			if (run.ends[mid] > offset) hi = mid;
			else lo = mid + 1;
		}
		const pod = run.pods[lo];
		const last = lo === run.pods.length - 1;
		const within = offset - (lo ? run.ends[lo - 1] : 0);
		if (within === 0) {
			const line = podLine(pod);
			return {text: `${run.prefix}${last ? '└─ ' : '├─ '}${line.text}`, status: line.status};
		}
		const children = run.ends[lo] - (lo ? run.ends[lo - 1] : 0) - 1;
		const line = podChildLine(pod, this.pvcs, within - 1);
		return {text: `${run.prefix}${last ? '   ' : '│  '}${within === children ? '└─ ' : '├─ '}${line.text}`, status: line.status};
	}
}

/** The last index in 0..count-1 whose key is at most `value` (keys ascending, the first at most `value`). */
function lastAtOrBelow(count: number, key: (i: number) => number, value: number): number {
	let lo = 0, hi = count - 1;
	while (lo < hi) {
		const mid = (lo + hi + 1) >> 1;
		if (key(mid) <= value) lo = mid;
		else hi = mid - 1;
	}
	return lo;
}

function selects(selector: Record<string, string> | undefined, pod: KubeObject): boolean {
	if (!selector || Object.keys(selector).length === 0) return false;
	return Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v);
}

function roots(kind: keyof XrayObjects, o: XrayObjects): Node[] {
	// Pods by the uid of each owner, indexed once: an owner's pods are then a lookup, not a scan of every
	// pod, and only the owners drawn have theirs sorted.
	const byOwner = new Map<string, KubeObject[]>();
	for (const pod of o.pods) {
		for (const ref of pod.metadata.ownerReferences ?? []) {
			const list = byOwner.get(ref.uid);
			if (list) list.push(pod);
			else byOwner.set(ref.uid, [pod]);
		}
	}
	const podsOf = (owner: KubeObject) => byOwner.get(owner.metadata.uid!)?.sort(byName) ?? [];
	const spec = (x: KubeObject) => (x.spec ?? {}) as Rec;
	const status = (x: KubeObject) => (x.status ?? {}) as Rec;
	switch (kind) {
		case 'deployments':
			return [...(o.deployments ?? [])].sort(byName).map(d => {
				const wanted = spec(d).replicas ?? 1, ready = status(d).readyReplicas ?? 0;
				const sets = (o.replicasets ?? []).filter(ownedBy(d)).sort(byName);
				return {
					line: {text: `Deployment ${d.metadata.name} ${ready}/${wanted} ready`, status: readyOf(wanted, ready)},
					children: sets.map(rs => {
						const w = spec(rs).replicas ?? 0, r = status(rs).readyReplicas ?? 0;
						return {line: {text: `ReplicaSet ${rs.metadata.name} revision ${rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?'} ${r}/${w} ready`, status: readyOf(w, r)}, children: leaf, pods: podsOf(rs)};
					}),
				};
			});
		case 'replicasets':
			return [...(o.replicasets ?? [])].sort(byName).map(rs => {
				const w = spec(rs).replicas ?? 0, r = status(rs).readyReplicas ?? 0;
				return {line: {text: `ReplicaSet ${rs.metadata.name} ${r}/${w} ready`, status: readyOf(w, r)}, children: leaf, pods: podsOf(rs)};
			});
		case 'statefulsets':
		case 'daemonsets':
		case 'jobs': {
			const label = {statefulsets: 'StatefulSet', daemonsets: 'DaemonSet', jobs: 'Job'}[kind];
			return [...(o[kind] ?? [])].sort(byName).map(x => {
				const wanted = kind === 'daemonsets' ? status(x).desiredNumberScheduled ?? 0 : kind === 'jobs' ? spec(x).completions ?? 1 : spec(x).replicas ?? 1;
				const ready = kind === 'daemonsets' ? status(x).numberReady ?? 0 : kind === 'jobs' ? status(x).succeeded ?? 0 : status(x).readyReplicas ?? 0;
				return {line: {text: `${label} ${x.metadata.name} ${ready}/${wanted} ${kind === 'jobs' ? 'succeeded' : 'ready'}`, status: readyOf(wanted, ready)}, children: leaf, pods: podsOf(x)};
			});
		}
		case 'services':
			return [...(o.services ?? [])].sort(byName).map(svc => {
				const selected = o.pods.filter(p => selects(spec(svc).selector, p)).sort(byName);
				const endpoints = (o.endpoints ?? []).find(e => e.metadata.name === svc.metadata.name);
				const addresses = ((endpoints as Rec | undefined)?.subsets ?? []).flatMap((s: Rec) => s.addresses ?? []).length;
				const ports = (spec(svc).ports ?? []).map((p: Rec) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
				const ready = selected.filter(isPodReady).length;
				return {
					line: {text: ['Service', svc.metadata.name, spec(svc).type ?? 'ClusterIP', spec(svc).clusterIP, ports].filter(Boolean).join(' '), status: selected.length === 0 || ready > 0 ? 'Ready' : 'NotReady'},
					children: [{
						line: {text: endpoints ? `Endpoints ${svc.metadata.name} ${addresses} address${addresses === 1 ? '' : 'es'}` : `Endpoints ${svc.metadata.name} (none yet)`, status: addresses > 0 || selected.length === 0 ? 'Ready' : 'NotReady'},
						children: leaf,
						pods: selected,
					}],
				};
			});
		default:
			return [];
	}
}

/** The trees of `kind`'s objects, drawn as they are read (see XrayOutline); empty when there is none. */
export function xrayOutline(kind: keyof XrayObjects, objects: XrayObjects): XrayOutline {
	const outline = new Outline(objects.pvcs ?? []);
	for (const root of roots(kind, objects)) outline.addRoot(root);
	return outline;
}

/** Every line of the trees at once (for tests and small trees). */
export function xrayLines(kind: keyof XrayObjects, objects: XrayObjects): XrayLine[] {
	const outline = xrayOutline(kind, objects);
	return Array.from({length: outline.length}, (_, i) => outline.at(i));
}
