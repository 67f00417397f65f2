// The DaemonSet controller (pkg/controller/daemon): one pod on every node
// that its template's nodeSelector, required node affinity and tolerations
// admit, made when a node appears or starts to fit and removed when it goes
// or stops fitting. Each pod is pinned to its node by required node affinity
// on metadata.name (as Kubernetes does since 1.12), so the scheduler still
// checks the node's room and readiness. Failed pods are replaced.
// RollingUpdate replaces pods whose revision is old, maxUnavailable at a time
// (maxSurge > 0: the new pod first, the old one once the new is available);
// OnDelete only when the user deletes one. Revisions are ControllerRevisions
// (history.ts), so rollout history and undo work as for StatefulSets.
import type {KubeObject} from '../../api/object.js';
import {isPodAvailable, isPodReady, isTerminal} from '../../api/pods.js';
import {typeByPlural} from '../../api/resources.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {Clock} from '../clock.js';
import type {EventRecorder} from '../events.js';
import {placementConflict} from '../node-match.js';
import {schedulingSignature} from '../scheduler.js';
import {resolveIntOrPercent} from './deployment.js';
import {pruneRevisions, revisionHashLabel, revisionTemplate, updateRevision} from './history.js';
import {isControlledBy, podFromTemplate} from './pods.js';
import {type Controller, keyOf, ownerKeys, splitKey} from './runner.js';

type Rec = Record<string, any>;
const podType = typeByPlural('pods')!;
const dsType = typeByPlural('daemonsets')!;
const component = 'daemonset-controller';

/** The tolerations every daemon pod gets (the DaemonSet controller's defaults): it stays through node trouble. */
const defaultTolerations: Rec[] = [
	{key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute'},
	{key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute'},
	{key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule'},
	{key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule'},
	{key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule'},
	{key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule'},
];

/** The template's pod spec with the defaults added (tolerations the template already has are kept once). */
function daemonPodSpec(template: Rec): Rec {
	const spec = structuredClone(template.spec ?? {});
	const have: Rec[] = spec.tolerations ?? [];
	spec.tolerations = [...have, ...defaultTolerations.filter(d => !have.some(t => t.key === d.key && t.effect === d.effect))];
	return spec;
}

/** The node a daemon pod is for: its binding, else its metadata.name affinity. */
function nodeOfPod(pod: KubeObject): string | undefined {
	const spec = pod.spec as Rec;
	if (spec.nodeName) return spec.nodeName;
	for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
		const field = (term.matchFields ?? []).find((f: Rec) => f.key === 'metadata.name' && f.operator === 'In');
		if (field?.values?.length === 1) return field.values[0];
	}
	return undefined;
}

export class DaemonSetController implements Controller {
	readonly name = component;
	readonly primary = 'daemonsets';
	readonly watches;

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock) {
		this.watches = [
			{resource: 'daemonsets'},
			{resource: 'pods', keys: ownerKeys('DaemonSet')},
			// A node that appears, goes, or changes its labels or taints: every DaemonSet looks again.
			{resource: 'nodes', keys: (node: KubeObject, type: string) => {
				if (type === 'DELETED') this.nodeShapes.delete(node.metadata.name!);
				return type === 'MODIFIED' ? this.changedNodeKeys(node) : this.store.scan('daemonsets').map(keyOf);
			}},
		];
	}

	private readonly nodeShapes = new Map<string, string>();

	/** Heartbeats change a node every few seconds; only what placement reads (the scheduler's signature) matters here. */
	private changedNodeKeys(node: KubeObject): string[] {
		const shape = schedulingSignature(node);
		if (this.nodeShapes.get(node.metadata.name!) === shape) return [];
		this.nodeShapes.set(node.metadata.name!, shape);
		return this.store.scan('daemonsets').map(keyOf);
	}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const ds = this.store.get('daemonsets', namespace, name);
		if (!ds || ds.metadata.deletionTimestamp) return undefined;
		const spec = ds.spec as Rec;
		const {revision, revisions} = await updateRevision(this.store, this.registry, ds);
		const hash = revision.metadata.labels![revisionHashLabel];
		const now = this.clock.now();
		const minReady = spec.minReadySeconds ?? 0;
		const available = (p: KubeObject) => !p.metadata.deletionTimestamp && isPodAvailable(p, minReady, now);
		const podSpec = daemonPodSpec(spec.template);

		const nodes = this.store.scan('nodes');
		// As the DaemonSet controller's shouldRun and shouldContinueRunning: a NoSchedule taint keeps new
		// daemon pods off a node, but only a NoExecute one sends away the pod already there.
		const fits = (effects?: string[]) => new Set(nodes.filter(n => !n.metadata.deletionTimestamp && placementConflict(podSpec, n, effects) === undefined).map(n => n.metadata.name!));
		const wanted = fits();
		const keep = fits(['NoExecute']);
		const byNode = new Map<string, KubeObject[]>();
		for (const pod of this.store.scan('pods', namespace, p => isControlledBy(p, ds))) {
			const node = nodeOfPod(pod) ?? '';
			byNode.set(node, [...(byNode.get(node) ?? []), pod]);
		}

		// Nodes the set should not be on (gone, or no longer fitting) lose their pods; failed pods go too.
		let changed = false;
		for (const [node, pods] of byNode) {
			for (const pod of pods) {
				if (pod.metadata.deletionTimestamp) continue;
				if (!keep.has(node)) {
					await this.deletePod(ds, pod);
					changed = true;
				} else if (isTerminal(pod)) {
					void this.events.record(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${namespace}/${pod.metadata.name} on node ${node}, will try to kill it`, component);
					await this.deletePod(ds, pod);
					changed = true;
				}
			}
		}
		const live = (node: string) => (byNode.get(node) ?? []).filter(p => !p.metadata.deletionTimestamp && !isTerminal(p));
		// Nodes without one get a pod; a node with more than one keeps the oldest.
		for (const node of keep) {
			const pods = live(node);
			if (pods.length === 0) {
				if (!wanted.has(node)) continue;
				if (!(byNode.get(node) ?? []).some(p => p.metadata.deletionTimestamp)) {
					await this.createPod(ds, revision, node);
					changed = true;
				}
			} else if (pods.length > 1 && resolveIntOrPercent(spec.updateStrategy?.rollingUpdate?.maxSurge ?? 0, keep.size, true) === 0) {
				const sorted = [...pods].sort((a, b) => Date.parse(a.metadata.creationTimestamp!) - Date.parse(b.metadata.creationTimestamp!));
				for (const extra of sorted.slice(1)) await this.deletePod(ds, extra);
				changed = true;
			}
		}

		// The update works from a settled picture: after any change above, the pods' events bring the next step.
		if (!changed && (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') await this.rollingUpdate(ds, revision, [...wanted], live, available);

		return this.writeStatus(ds, hash, revisions, wanted);
	}

	private async rollingUpdate(ds: KubeObject, revision: KubeObject, nodes: string[], live: (node: string) => KubeObject[], available: (p: KubeObject) => boolean): Promise<void> {
		const rolling = (ds.spec as Rec).updateStrategy?.rollingUpdate ?? {};
		const hash = revision.metadata.labels![revisionHashLabel];
		const isNew = (p: KubeObject) => p.metadata.labels?.[revisionHashLabel] === hash;
		const maxSurge = resolveIntOrPercent(rolling.maxSurge ?? 0, nodes.length, true);
		const maxUnavailable = resolveIntOrPercent(rolling.maxUnavailable ?? (maxSurge > 0 ? 0 : 1), nodes.length, true);
		if (maxSurge === 0) {
			// Old pods that are not available go first (they cost nothing); then as many as the budget allows.
			let unavailable = nodes.filter(n => !live(n).some(available)).length;
			const olds = nodes.map(n => live(n).find(p => !isNew(p))).filter((p): p is KubeObject => !!p);
			for (const pod of olds.filter(p => !available(p))) await this.deletePod(ds, pod);
			for (const pod of olds.filter(available)) {
				if (unavailable >= maxUnavailable) break;
				await this.deletePod(ds, pod);
				unavailable++;
			}
			return;
		}
		// Surge: the new pod beside the old one, then the old one goes once the new is available.
		let surging = nodes.filter(n => live(n).some(isNew) && live(n).some(p => !isNew(p))).length;
		for (const node of nodes) {
			const pods = live(node);
			const old = pods.find(p => !isNew(p));
			if (!old) continue;
			const fresh = pods.find(isNew);
			if (fresh && available(fresh)) await this.deletePod(ds, old);
			else if (!fresh && surging < maxSurge) {
				await this.createPod(ds, revision, node);
				surging++;
			}
		}
	}

	private async createPod(ds: KubeObject, revision: KubeObject, node: string): Promise<void> {
		const pod = podFromTemplate(ds, revisionTemplate(revision));
		pod.metadata.labels = {...pod.metadata.labels, [revisionHashLabel]: revision.metadata.labels![revisionHashLabel], 'pod-template-generation': String(ds.metadata.generation ?? 1)};
		const spec = daemonPodSpec({spec: pod.spec});
		// Pinned to its node through the scheduler: the one term replaces any required affinity (already checked).
		spec.affinity = {...spec.affinity, nodeAffinity: {...spec.affinity?.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: [{key: 'metadata.name', operator: 'In', values: [node]}]}]}}};
		pod.spec = spec;
		try {
			const created = await this.registry.create(podType, ds.metadata.namespace, pod);
			void this.events.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, component);
		} catch (error) {
			void this.events.record(ds, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`, component);
			throw error;
		}
	}

	private async deletePod(ds: KubeObject, pod: KubeObject): Promise<void> {
		await this.registry.delete(podType, pod.metadata.namespace, pod.metadata.name!, {preconditions: {uid: pod.metadata.uid}}).catch(() => {});
		void this.events.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, component);
	}

	private async writeStatus(ds: KubeObject, hash: string, revisions: KubeObject[], wanted: Set<string>) {
		const current = this.store.get('daemonsets', ds.metadata.namespace!, ds.metadata.name!);
		if (!current) return undefined;
		const minReady = (current.spec as Rec).minReadySeconds ?? 0;
		const now = this.clock.now();
		const pods = this.store.scan('pods', current.metadata.namespace, p => isControlledBy(p, current) && !isTerminal(p) && !p.metadata.deletionTimestamp);
		const scheduled = pods.filter(p => (p.spec as Rec).nodeName);
		const onWanted = scheduled.filter(p => wanted.has((p.spec as Rec).nodeName));
		const nodesWith = (pred: (p: KubeObject) => boolean) => new Set(onWanted.filter(pred).map(p => (p.spec as Rec).nodeName)).size;
		const updated = nodesWith(p => p.metadata.labels?.[revisionHashLabel] === hash);
		const availableNodes = nodesWith(p => isPodAvailable(p, minReady, now));
		const status: Rec = {
			currentNumberScheduled: nodesWith(() => true),
			numberMisscheduled: new Set(scheduled.filter(p => !wanted.has((p.spec as Rec).nodeName)).map(p => (p.spec as Rec).nodeName)).size,
			desiredNumberScheduled: wanted.size,
			numberReady: nodesWith(isPodReady),
			observedGeneration: current.metadata.generation,
			updatedNumberScheduled: updated,
			numberAvailable: availableNodes,
			numberUnavailable: Math.max(0, wanted.size - availableNodes),
		};
		if (status.numberUnavailable === 0) delete status.numberUnavailable;
		if (status.numberAvailable === 0) delete status.numberAvailable;
		const live = new Set([...revisions.filter(r => r.metadata.labels?.[revisionHashLabel] === hash), ...revisions.filter(r => pods.some(p => p.metadata.labels?.[revisionHashLabel] === r.metadata.labels?.[revisionHashLabel]))].map(r => r.metadata.name!));
		await pruneRevisions(this.registry, current, revisions, live);
		const old = (current.status ?? {}) as Rec;
		const {numberAvailable: _a, numberUnavailable: _u, ...rest} = old;
		const next = {...rest, ...status};
		if (JSON.stringify(Object.entries(next).sort()) !== JSON.stringify(Object.entries(old).sort())) {
			await this.registry.update(dsType, current.metadata.namespace, current.metadata.name!, {...current, status: next, metadata: {...current.metadata, resourceVersion: ''}}, {subresource: 'status'});
		}
		if (minReady > 0 && status.numberReady > (status.numberAvailable ?? 0)) return {requeueAfter: minReady * 1000};
		return undefined;
	}
}
