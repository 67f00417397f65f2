// The scheduler (kube-scheduler's framework, the plugins a user meets first):
// filter nodes (Ready, schedulable, pod count, cpu and memory requests against
// allocatable, nodeSelector, required node affinity on labels, taints the pod
// does not tolerate), then score (bin packing, MostAllocated by default, or
// LeastAllocated to spread), then bind. A pod that fits nowhere stays Pending
// with a FailedScheduling event that says why, and is retried when the
// cluster changes.
import type {KubeObject} from '../api/object.js';
import {parseQuantity} from '../api/quantity.js';
import {typeByPlural} from '../api/resources.js';
import type {Registry} from '../server/registry.js';
import type {Store, WatchEvent} from '../store/store.js';
import type {Clock} from './clock.js';
import {isoTime} from '../api/time.js';
import {type Controller, keyOf, splitKey} from './controllers/runner.js';
import {claimsOf, podsUsing, selectedNodeAnnotation, volumeNodeTerms} from './controllers/volumes.js';
import {nodeSelectorTermsMatch, placementConflict, tolerates} from './node-match.js';
import type {EventRecorder} from './events.js';

type Rec = Record<string, any>;
const podType = typeByPlural('pods')!;
const pvcType = typeByPlural('persistentvolumeclaims')!;

interface Usage {
	cpu: number;
	memory: number;
	pods: number;
}

export function podRequests(pod: KubeObject): {cpu: number; memory: number} {
	let cpu = 0, memory = 0;
	for (const c of ((pod.spec as Rec)?.containers ?? []) as Rec[]) {
		cpu += parseQuantity(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu ?? 0) ?? 0;
		memory += parseQuantity(c.resources?.requests?.memory ?? c.resources?.limits?.memory ?? 0) ?? 0;
	}
	return {cpu, memory};
}

function isTerminal(pod: KubeObject): boolean {
	const phase = (pod.status as Rec)?.phase;
	return phase === 'Succeeded' || phase === 'Failed';
}

/** What the filters and scores read from a node; heartbeat timestamps are not part of it. */
export function schedulingSignature(node: KubeObject): string {
	const status = (node.status ?? {}) as Rec;
	const ready = (status.conditions ?? []).find((c: Rec) => c.type === 'Ready')?.status;
	return JSON.stringify([ready, status.allocatable, node.metadata.labels, (node.spec as Rec)?.taints, (node.spec as Rec)?.unschedulable]);
}

export class Scheduler implements Controller {
	readonly name = 'scheduler';
	readonly primary = 'pods';
	readonly watches;
	/** What each bound, running pod takes from its node: uid -> node and requests. */
	private readonly placed = new Map<string, {node: string; cpu: number; memory: number}>();
	private readonly usage = new Map<string, Usage>();
	private readonly nodeSignatures = new Map<string, string>();
	/** Nodes with their allocatable parsed once, until a node changes (quantities are costly to parse per pod). */
	private nodeCache?: {node: KubeObject; name: string; ready: boolean; cpu: number; memory: number; pods: number}[];

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock, private readonly scoring: 'MostAllocated' | 'LeastAllocated' = 'MostAllocated') {
		this.watches = [
			{resource: 'pods', keys: (pod: KubeObject, type: WatchEvent['type']) => this.track(pod, type)},
			// A node change can make room: retry every pending pod.
			// Heartbeats change a node every 10 s without changing what fits on it: only a change in
			// what the filters read invalidates the cache and retries pending pods.
			{resource: 'nodes', keys: (node: KubeObject, type: WatchEvent['type']) => {
				const signature = type === 'DELETED' ? '' : schedulingSignature(node);
				if (this.nodeSignatures.get(node.metadata.name!) === signature) return [];
				this.nodeSignatures.set(node.metadata.name!, signature);
				this.nodeCache = undefined;
				return this.pendingKeys();
			}},
			// A claim that binds (or appears) lets the pods waiting for it go on.
			{resource: 'persistentvolumeclaims', keys: (claim: KubeObject) => this.store.scan('pods', claim.metadata.namespace, p => !(p.spec as Rec)?.nodeName && claimsOf(p).includes(claim.metadata.name!)).map(keyOf)},
		];
		for (const pod of store.scan('pods')) this.track(pod, 'ADDED');
	}

	/** Keep the usage accounting in step with pod events; return the keys to schedule. */
	private track(pod: KubeObject, type: WatchEvent['type']): string[] {
		const uid = pod.metadata.uid!;
		const old = this.placed.get(uid);
		const nodeName = (pod.spec as Rec)?.nodeName;
		const holds = type !== 'DELETED' && nodeName && !isTerminal(pod);
		// An assumed pod not yet bound (no nodeName in this event) keeps its place.
		if (old && !nodeName && type !== 'DELETED') return [];
		if (old && (!holds || old.node !== nodeName)) {
			this.adjust(old.node, -old.cpu, -old.memory, -1);
			this.placed.delete(uid);
		}
		if (holds && !this.placed.has(uid)) {
			const req = podRequests(pod);
			this.placed.set(uid, {node: nodeName, ...req});
			this.adjust(nodeName, req.cpu, req.memory, 1);
		}
		if (old && !holds) return this.pendingKeys(); // freed room
		// New pods are scheduled at once; a pending pod's own status writes do not retrigger it.
		return type === 'ADDED' && !nodeName ? [keyOf(pod)] : [];
	}

	private adjust(node: string, cpu: number, memory: number, pods: number): void {
		const u = this.usage.get(node) ?? {cpu: 0, memory: 0, pods: 0};
		u.cpu += cpu;
		u.memory += memory;
		u.pods += pods;
		this.usage.set(node, u);
	}

	private pendingKeys(): string[] {
		return this.store.listEntries('pods', undefined, {filter: p => !(p.spec as Rec)?.nodeName && !p.metadata.deletionTimestamp}).map(e => keyOf(e.object));
	}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		// The stored object itself (read only): every write below builds new objects.
		const pod = this.store.peek('pods', namespace, name);
		if (!pod || (pod.spec as Rec).nodeName || pod.metadata.deletionTimestamp) return;
		if (((pod.spec as Rec).schedulerName ?? 'default-scheduler') !== 'default-scheduler') return;
		const volumes = this.claimsCheck(pod);
		if (volumes.unschedulable) {
			await this.markUnschedulable(pod, `0/${this.store.scan('nodes').length} nodes are available: ${volumes.unschedulable}.`);
			return {requeueAfter: 10_000};
		}
		const {node, reasons, total} = this.choose(pod, volumes.filter);
		if (node && volumes.delayed.length) {
			// WaitForFirstConsumer: the claims are provisioned or bound for this node first; their
			// binding queues the pod again, and it is bound then.
			for (const claim of volumes.delayed) {
				if (claim.metadata.annotations?.[selectedNodeAnnotation] === node) continue;
				await this.registry.patch(pvcType, claim.metadata.namespace, claim.metadata.name!, 'application/merge-patch+json', {metadata: {annotations: {[selectedNodeAnnotation]: node}}});
			}
			// Looked at again if the binding does not come (a provisioning that fails says why on the claim).
			return {requeueAfter: 10_000};
		}
		if (!node) {
			// A node chosen for a claim that no longer fits the pod is given up, so another can be chosen
			// (as the provisioner drops volume.kubernetes.io/selected-node when it cannot use it).
			for (const claim of volumes.delayed) {
				if (!claim.metadata.annotations?.[selectedNodeAnnotation]) continue;
				await this.registry.patch(pvcType, claim.metadata.namespace, claim.metadata.name!, 'application/merge-patch+json', {metadata: {annotations: {[selectedNodeAnnotation]: null}}});
			}
		}
		if (node) {
			// Assume the pod is on the node before the binding commits (kube-scheduler's assume cache),
			// so concurrent decisions see each other and never overcommit a node.
			const req = podRequests(pod);
			this.placed.set(pod.metadata.uid!, {node, ...req});
			this.adjust(node, req.cpu, req.memory, 1);
			try {
				await this.bind(pod, node);
			} catch (error) {
				this.placed.delete(pod.metadata.uid!);
				this.adjust(node, -req.cpu, -req.memory, -1);
				throw error;
			}
			return;
		}
		const summary = [...reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([r, n]) => `${n} ${r}`).join(', ');
		await this.markUnschedulable(pod, `0/${total} nodes are available${summary ? `: ${summary}` : ''}.`);
		return {requeueAfter: 10_000};
	}

	/** Filter and score; returns the best node, or the reasons every node was rejected. */
	choose(pod: KubeObject, volumeFilter?: (node: KubeObject) => string | undefined): {node?: string; reasons: Map<string, number>; total: number} {
		const spec = pod.spec as Rec;
		const req = podRequests(pod);
		const reasons = new Map<string, number>();
		const reject = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
		let best: {name: string; score: number} | undefined;
		const nodes = this.nodeCache ??= this.store.scan('nodes').map(node => {
			const status = (node.status ?? {}) as Rec;
			const alloc = status.allocatable ?? {};
			return {
				node, name: node.metadata.name!, ready: (status.conditions ?? []).some((c: Rec) => c.type === 'Ready' && c.status === 'True'),
				cpu: parseQuantity(alloc.cpu ?? 0) ?? 0, memory: parseQuantity(alloc.memory ?? 0) ?? 0, pods: Number(alloc.pods ?? 110),
			};
		});
		for (const {node, name, ready, cpu: cpuCap, memory: memCap, pods: podCap} of nodes) {
			if (!ready) { reject("node(s) had untolerated taint {node.kubernetes.io/not-ready: }"); continue; }
			// NodeUnschedulable: a cordoned node takes only pods that tolerate it (DaemonSet pods do).
			if ((node.spec as Rec)?.unschedulable && !tolerates(spec.tolerations, {key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule'})) { reject('node(s) were unschedulable'); continue; }
			const conflict = placementConflict(spec, node) ?? volumeFilter?.(node);
			if (conflict) { reject(conflict); continue; }
			const used = this.usage.get(name) ?? {cpu: 0, memory: 0, pods: 0};
			let fits = true;
			if (used.pods + 1 > podCap) { reject('Too many pods'); fits = false; }
			if (used.cpu + req.cpu > cpuCap + 1e-9) { reject('Insufficient cpu'); fits = false; }
			if (used.memory + req.memory > memCap) { reject('Insufficient memory'); fits = false; }
			if (!fits) continue;
			// NodeResourcesFit: MostAllocated packs (fuller nodes score higher), LeastAllocated spreads.
			const fraction = (((used.cpu + req.cpu) / (cpuCap || 1)) + ((used.memory + req.memory) / (memCap || 1)) + ((used.pods + 1) / podCap)) / 3;
			const score = this.scoring === 'MostAllocated' ? fraction : 1 - fraction;
			if (!best || score > best.score || (score === best.score && name < best.name)) best = {name, score};
		}
		return {node: best?.name, reasons, total: nodes.length};
	}

	/**
	 * What the pod's claims ask of a node (kube-scheduler's VolumeBinding and
	 * VolumeRestrictions, for one host's volumes): a reason no node will do, a
	 * filter per node, and the WaitForFirstConsumer claims still to bind.
	 */
	private claimsCheck(pod: KubeObject): {unschedulable?: string; filter?: (node: KubeObject) => string | undefined; delayed: KubeObject[]} {
		const names = claimsOf(pod);
		const delayed: KubeObject[] = [];
		if (names.length === 0) return {delayed};
		const namespace = pod.metadata.namespace!;
		const filters: ((node: KubeObject) => string | undefined)[] = [];
		for (const name of names) {
			const claim = this.store.get('persistentvolumeclaims', namespace, name);
			if (!claim) return {unschedulable: `persistentvolumeclaim "${name}" not found`, delayed};
			if (claim.metadata.deletionTimestamp) return {unschedulable: `persistentvolumeclaim "${name}" is being deleted`, delayed};
			const spec = claim.spec as Rec;
			const modes: string[] = spec.accessModes ?? [];
			// Only pods already on a node hold a claim (VolumeRestrictions): two pending pods never block each other.
			const others = podsUsing(this.store, namespace, name).filter(p => p.metadata.uid !== pod.metadata.uid && !p.metadata.deletionTimestamp && ((p.spec as Rec).nodeName || this.placed.has(p.metadata.uid!)));
			if (modes.includes('ReadWriteOncePod') && others.length > 0) return {unschedulable: 'node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode', delayed};
			if (modes.length > 0 && modes.every(m => m === 'ReadWriteOnce')) {
				const nodes = new Set(others.map(p => (p.spec as Rec).nodeName ?? this.placed.get(p.metadata.uid!)?.node).filter(Boolean));
				if (nodes.size) filters.push(node => nodes.has(node.metadata.name!) ? undefined : 'node(s) did not have the ReadWriteOnce claim another pod uses');
			}
			if (spec.volumeName) {
				const pv = this.store.get('persistentvolumes', '', spec.volumeName);
				if (!pv) return {unschedulable: `persistentvolume "${spec.volumeName}" not found`, delayed};
				const terms = volumeNodeTerms(pv);
				if (terms) filters.push(node => nodeSelectorTermsMatch(terms, node) ? undefined : 'node(s) had volume node affinity conflict');
				continue;
			}
			const cls = spec.storageClassName ? this.store.get('storageclasses', '', spec.storageClassName) : undefined;
			if (cls?.volumeBindingMode !== 'WaitForFirstConsumer') return {unschedulable: 'pod has unbound immediate PersistentVolumeClaims', delayed};
			const selected = claim.metadata.annotations?.[selectedNodeAnnotation];
			if (selected) filters.push(node => node.metadata.name === selected ? undefined : 'node(s) did not match the node selected for a claim');
			delayed.push(claim);
		}
		return {filter: node => filters.map(f => f(node)).find(Boolean), delayed};
	}

	private async bind(pod: KubeObject, node: string): Promise<void> {
		const now = isoTime(this.clock.now());
		const conditions = [...(((pod.status as Rec)?.conditions ?? []) as Rec[]).filter(c => c.type !== 'PodScheduled'), {type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now}];
		const bound = await this.registry.bind(pod, node, conditions);
		void this.events.record(bound, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`, 'default-scheduler');
	}

	private async markUnschedulable(pod: KubeObject, message: string): Promise<void> {
		await this.events.record(pod, 'Warning', 'FailedScheduling', message, 'default-scheduler');
		const status = (pod.status ?? {}) as Rec;
		const existing = (status.conditions ?? []).find((c: Rec) => c.type === 'PodScheduled');
		if (existing?.message !== message) {
			const conditions = [...(status.conditions ?? []).filter((c: Rec) => c.type !== 'PodScheduled'),
				{type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: isoTime(this.clock.now())}];
			await this.registry.update(podType, pod.metadata.namespace, pod.metadata.name!, {...pod, status: {...status, conditions}}, {subresource: 'status'});
		}
	}
}
