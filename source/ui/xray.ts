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

function containerLines(pod: KubeObject): XrayLine[] {
	const statuses: Rec[] = (pod.status as Rec)?.containerStatuses ?? [];
	return ((pod.spec as Rec)?.containers ?? []).map((c: Rec) => {
		const s = statuses.find(x => x.name === c.name);
		const state = s?.state?.running ? 'running' : s?.state?.waiting ? `waiting: ${s.state.waiting.reason ?? ''}` : s?.state?.terminated ? `terminated: ${s.state.terminated.reason ?? s.state.terminated.exitCode}` : 'not started';
		return {text: `container ${c.name} (${c.image}) ${state}${s?.restartCount ? `, ${s.restartCount} restarts` : ''}`, status: s?.ready ? 'Ready' : s?.state?.running ? 'NotReady' : 'Pending'};
	});
}

/** A tree, drawn with box characters: each node's line, then its children indented under it. */
interface Node {
	line: XrayLine;
	children: readonly Node[];
	/** A pod's containers and claims are drawn straight from it (no node per line: 10,000 pods make 20,000). */
	pod?: {pod: KubeObject; pvcs: KubeObject[]};
}

/** The children of a node that has none: one array for all of them. */
const leaf: readonly Node[] = Object.freeze([]);

/** Appends the lines to `out` (one array for the whole tree: 10,000 pods' worth of nested arrays cost more in GC than the drawing). */
function draw(nodes: readonly Node[], out: XrayLine[], prefix = ''): void {
	for (let i = 0; i < nodes.length; i++) {
		const n = nodes[i];
		const last = i === nodes.length - 1;
		out.push({text: `${prefix}${last ? '└─ ' : '├─ '}${n.line.text}`, status: n.line.status});
		if (n.pod) drawPod(n.pod.pod, n.pod.pvcs, out, `${prefix}${last ? '   ' : '│  '}`);
		else if (n.children.length) draw(n.children, out, `${prefix}${last ? '   ' : '│  '}`);
	}
}

const podNode = (pod: KubeObject, pvcs: KubeObject[] = []): Node => {
	const status = podStatus(pod);
	return {line: {text: `Pod ${pod.metadata.name} ${status}${isPodReady(pod) ? '' : ' (not ready)'}`, status}, children: leaf, pod: {pod, pvcs}};
};

/** A pod's children: its containers, then the claims it mounts. */
function drawPod(pod: KubeObject, pvcs: KubeObject[], out: XrayLine[], prefix: string): void {
	const containers = containerLines(pod);
	const claims: string[] = ((pod.spec as Rec)?.volumes ?? []).map((v: Rec) => v.persistentVolumeClaim?.claimName).filter(Boolean);
	const total = containers.length + claims.length;
	const branch = (i: number) => `${prefix}${i === total - 1 ? '└─ ' : '├─ '}`;
	containers.forEach((line, i) => out.push({text: `${branch(i)}${line.text}`, status: line.status}));
	claims.forEach((name, j) => {
		const pvc = pvcs.find(p => p.metadata.name === name);
		const phase = (pvc?.status as Rec)?.phase ?? 'missing';
		out.push({text: `${branch(containers.length + j)}PersistentVolumeClaim ${name} ${phase}`, status: phase === 'Bound' ? 'Ready' : 'NotReady'});
	});
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
	const podsOf = (owner: KubeObject) => (byOwner.get(owner.metadata.uid!)?.sort(byName) ?? []).map(p => podNode(p, o.pvcs));
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
						return {line: {text: `ReplicaSet ${rs.metadata.name} revision ${rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?'} ${r}/${w} ready`, status: readyOf(w, r)}, children: podsOf(rs)};
					}),
				};
			});
		case 'replicasets':
			return [...(o.replicasets ?? [])].sort(byName).map(rs => {
				const w = spec(rs).replicas ?? 0, r = status(rs).readyReplicas ?? 0;
				return {line: {text: `ReplicaSet ${rs.metadata.name} ${r}/${w} ready`, status: readyOf(w, r)}, children: podsOf(rs)};
			});
		case 'statefulsets':
		case 'daemonsets':
		case 'jobs': {
			const label = {statefulsets: 'StatefulSet', daemonsets: 'DaemonSet', jobs: 'Job'}[kind];
			return [...(o[kind] ?? [])].sort(byName).map(x => {
				const wanted = kind === 'daemonsets' ? status(x).desiredNumberScheduled ?? 0 : kind === 'jobs' ? spec(x).completions ?? 1 : spec(x).replicas ?? 1;
				const ready = kind === 'daemonsets' ? status(x).numberReady ?? 0 : kind === 'jobs' ? status(x).succeeded ?? 0 : status(x).readyReplicas ?? 0;
				return {line: {text: `${label} ${x.metadata.name} ${ready}/${wanted} ${kind === 'jobs' ? 'succeeded' : 'ready'}`, status: readyOf(wanted, ready)}, children: podsOf(x)};
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
					line: {text: `Service ${svc.metadata.name} ${spec(svc).type ?? 'ClusterIP'} ${spec(svc).clusterIP ?? ''} ${ports}`.trimEnd(), status: selected.length === 0 || ready > 0 ? 'Ready' : 'NotReady'},
					children: [{
						line: {text: endpoints ? `Endpoints ${svc.metadata.name} ${addresses} address${addresses === 1 ? '' : 'es'}` : `Endpoints ${svc.metadata.name} (none yet)`, status: addresses > 0 || selected.length === 0 ? 'Ready' : 'NotReady'},
						children: selected.map(p => podNode(p, o.pvcs)),
					}],
				};
			});
		default:
			return [];
	}
}

/** The tree of `kind`'s objects, as lines; empty when there is none. */
export function xrayLines(kind: keyof XrayObjects, objects: XrayObjects): XrayLine[] {
	const out: XrayLine[] = [];
	for (const root of roots(kind, objects)) {
		out.push(root.line);
		draw(root.children, out);
		out.push({text: '', status: ''});
	}
	return out;
}
