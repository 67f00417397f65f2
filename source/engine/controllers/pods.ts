// Helpers the workload controllers share: which pods a controller owns, how
// they rank, and how new ones are made from a template.
import {isPodReady} from '../../api/pods.js';
import type {KubeObject, OwnerReference} from '../../api/object.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import type {Store} from '../../store/store.js';

type Rec = Record<string, any>;

export function controllerRef(owner: KubeObject): OwnerReference {
	return {apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true};
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
	return !!obj.metadata.ownerReferences?.some(r => r.controller && r.uid === owner.metadata.uid);
}

export function hasController(obj: KubeObject): boolean {
	return !!obj.metadata.ownerReferences?.some(r => r.controller);
}

/** Pods in the owner's namespace that its selector matches (the store's own objects: read only). */
export function selectedPods(store: Store, owner: KubeObject): readonly KubeObject[] {
	const selector = fromLabelSelector((owner.spec as Rec).selector);
	if (selector.length === 0) return [];
	return store.scan('pods', owner.metadata.namespace, p => matchesLabels(selector, p.metadata.labels));
}

/**
 * Order for scale-down, most deletable first (controller.ActivePods):
 * unassigned before assigned, pending before running, not ready before
 * ready, more restarts first, newer before older.
 */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
	const assigned = (p: KubeObject) => ((p.spec as Rec).nodeName ? 1 : 0);
	const phaseRank = (p: KubeObject) => ({Pending: 0, Unknown: 1, Running: 2}[(p.status as Rec)?.phase as string] ?? 0);
	const ready = (p: KubeObject) => (isPodReady(p) ? 1 : 0);
	const restarts = (p: KubeObject) => ((p.status as Rec)?.containerStatuses ?? []).reduce((n: number, s: Rec) => n + (s.restartCount ?? 0), 0);
	return assigned(a) - assigned(b) || phaseRank(a) - phaseRank(b) || ready(a) - ready(b) || restarts(b) - restarts(a) ||
		Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? '');
}

/** A pod from a template, named generateName-style after its owner. */
export function podFromTemplate(owner: KubeObject, template: Rec, name?: string): KubeObject {
	return {
		apiVersion: 'v1', kind: 'Pod',
		metadata: {
			...(name ? {name} : {generateName: `${owner.metadata.name}-`}), namespace: owner.metadata.namespace,
			labels: {...template.metadata?.labels}, annotations: {...template.metadata?.annotations}, ownerReferences: [controllerRef(owner)],
		},
		spec: structuredClone(template.spec),
	};
}
