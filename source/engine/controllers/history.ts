// ControllerRevisions, the history StatefulSets and DaemonSets keep
// (pkg/controller/history): one revision per distinct pod template, named
// OWNER-HASH, whose data is the strategic merge patch that puts that
// template back (`{"spec":{"template":{..., "$patch":"replace"}}}`), the
// patch kubectl's rollout undo applies. Going back to an old template reuses
// its revision with the next number, as Kubernetes does; the oldest beyond
// revisionHistoryLimit (default 10) that no pod runs are deleted.
import {deepEqual, type KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import {templateHash} from './deployment.js';
import {controllerRef, isControlledBy} from './pods.js';

type Rec = Record<string, any>;
const revisionType = typeByPlural('controllerrevisions')!;
export const revisionHashLabel = 'controller-revision-hash';

/** The data a revision of this owner's template holds. */
export function revisionData(owner: KubeObject): Rec {
	return {spec: {template: {...structuredClone((owner.spec as Rec).template), $patch: 'replace'}}};
}

export {revisionTemplate} from '../../api/workloads.js';

/** The owner's revisions, oldest first. */
export function revisionsOf(store: Store, owner: KubeObject): KubeObject[] {
	const selector = fromLabelSelector((owner.spec as Rec).selector);
	return store.scan('controllerrevisions', owner.metadata.namespace, r => isControlledBy(r, owner) && matchesLabels(selector, r.metadata.labels))
		.slice().sort((a, b) => Number(a.revision ?? 0) - Number(b.revision ?? 0));
}

/**
 * The revision of the owner's current template, made (or renumbered to come
 * last) if need be; returns it with the owner's revisions, oldest first.
 */
export async function updateRevision(store: Store, registry: Registry, owner: KubeObject): Promise<{revision: KubeObject; revisions: KubeObject[]}> {
	const revisions = revisionsOf(store, owner);
	const data = revisionData(owner);
	const last = Number(revisions.at(-1)?.revision ?? 0);
	const same = revisions.find(r => deepEqual(r.data, data));
	if (same) {
		if (same === revisions.at(-1)) return {revision: same, revisions};
		const renumbered = await registry.update(revisionType, owner.metadata.namespace, same.metadata.name!, {...same, revision: last + 1});
		return {revision: renumbered, revisions: [...revisions.filter(r => r !== same), renumbered]};
	}
	const hash = templateHash((owner.spec as Rec).template);
	const name = `${owner.metadata.name}-${hash}`;
	const revision: KubeObject = {
		apiVersion: 'apps/v1', kind: 'ControllerRevision',
		metadata: {
			name, namespace: owner.metadata.namespace, ownerReferences: [controllerRef(owner)],
			// The template's labels, as history.NewControllerRevision copies them: they satisfy any selector, matchExpressions too.
			labels: {...(owner.spec as Rec).template?.metadata?.labels, [revisionHashLabel]: hash},
			// kubectl's rollout history reads the change cause from the revision.
			...(owner.metadata.annotations?.['kubernetes.io/change-cause'] ? {annotations: {'kubernetes.io/change-cause': owner.metadata.annotations['kubernetes.io/change-cause']}} : {}),
		},
		data, revision: last + 1,
	};
	let created: KubeObject;
	try {
		created = await registry.create(revisionType, owner.metadata.namespace, revision);
	} catch (error) {
		// A revision of that name with other data (a hash collision, or one left by a deleted owner of the same name).
		const existing = store.get('controllerrevisions', owner.metadata.namespace!, name);
		if (!existing) throw error;
		created = await registry.update(revisionType, owner.metadata.namespace, name, {...existing, metadata: {...existing.metadata, ownerReferences: [controllerRef(owner)]}, data, revision: last + 1});
	}
	return {revision: created, revisions: [...revisions.filter(r => r.metadata.name !== name), created]};
}

/** Delete the oldest revisions beyond the history limit that no live revision (current, update, or a pod's) uses. */
export async function pruneRevisions(registry: Registry, owner: KubeObject, revisions: KubeObject[], live: Set<string>): Promise<void> {
	const limit = Number((owner.spec as Rec).revisionHistoryLimit ?? 10);
	const history = revisions.filter(r => !live.has(r.metadata.name!));
	for (const r of history.slice(0, Math.max(0, history.length - limit))) {
		await registry.delete(revisionType, owner.metadata.namespace, r.metadata.name!).catch(() => {});
	}
}
