// The StatefulSet controller (pkg/controller/statefulset), one level-based
// step per reconcile:
// - pods NAME-0..N-1 (from spec.ordinals.start), each with a stable name,
//   hostname and subdomain (serviceName: its DNS name under the headless
//   Service), and one claim per volumeClaimTemplate (data-web-0), made before
//   the pod and kept after it;
// - OrderedReady creates in order, each pod Running and Ready (for
//   minReadySeconds) before the next, and removes in reverse, one at a time;
//   Parallel creates and removes all at once;
// - RollingUpdate replaces pods from the highest ordinal down to `partition`,
//   one at a time, each healthy before the next; OnDelete replaces a pod only
//   when the user deletes it;
// - ControllerRevisions (history.ts) hold each template for rollout history
//   and undo; status says the current and update revisions;
// - persistentVolumeClaimRetentionPolicy: whenDeleted and whenScaled Delete
//   make the claims dependents of the set or of the scaled-away pod, so the
//   garbage collector removes them after their owner; Retain (the default)
//   keeps them.
import type {KubeObject} from '../../api/object.js';
import {isPodAvailable, isPodReady, isTerminal} from '../../api/pods.js';
import {typeByPlural} from '../../api/resources.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {Clock} from '../clock.js';
import type {EventRecorder} from '../events.js';
import {pruneRevisions, revisionHashLabel, revisionTemplate, updateRevision} from './history.js';
import {controllerRef, hasController, isControlledBy, podFromTemplate} from './pods.js';
import {type Controller, keyOf, ownerKeys, splitKey} from './runner.js';

type Rec = Record<string, any>;
const podType = typeByPlural('pods')!;
const pvcType = typeByPlural('persistentvolumeclaims')!;
const stsType = typeByPlural('statefulsets')!;
const component = 'statefulset-controller';
export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';

/** The ordinal in a pod's name NAME-N, if it is one of the set's. */
function ordinalOf(sts: KubeObject, pod: KubeObject): number | undefined {
	const prefix = `${sts.metadata.name}-`;
	const rest = pod.metadata.name!.startsWith(prefix) ? pod.metadata.name!.slice(prefix.length) : '';
	return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export const claimName = (template: Rec, sts: KubeObject, ordinal: number) => `${template.metadata?.name}-${sts.metadata.name}-${ordinal}`;

export class StatefulSetController implements Controller {
	readonly name = component;
	readonly primary = 'statefulsets';
	readonly watches;
	/** The generation each set (uid) was last warned at about a missing Service: the event is not repeated on every step. */
	private readonly warned = new Map<string, number>();

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock) {
		this.watches = [
			{resource: 'statefulsets'},
			{resource: 'pods', keys: ownerKeys('StatefulSet')},
			{resource: 'services', keys: (svc: KubeObject) => this.store.scan('statefulsets', svc.metadata.namespace, s => (s.spec as Rec)?.serviceName === svc.metadata.name).map(keyOf)},
		];
	}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const sts = this.store.get('statefulsets', namespace, name);
		if (!sts || sts.metadata.deletionTimestamp) return undefined;
		const spec = sts.spec as Rec;
		const {revision: update, revisions} = await updateRevision(this.store, this.registry, sts);
		const updateName = update.metadata.name!;
		const current = revisions.find(r => r.metadata.name === (sts.status as Rec)?.currentRevision) ?? update;
		this.warnMissingService(sts);

		const replicas = spec.replicas ?? 1;
		const start = spec.ordinals?.start ?? 0;
		const parallel = spec.podManagementPolicy === 'Parallel';
		const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
		const partition = rolling ? Number(spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
		const now = this.clock.now();
		const healthy = (p: KubeObject) => !p.metadata.deletionTimestamp && (p.status as Rec)?.phase === 'Running' && isPodAvailable(p, spec.minReadySeconds ?? 0, now);

		const pods = await this.ownedPods(sts);
		const byOrdinal = new Map<number, KubeObject>();
		const condemned: KubeObject[] = [];
		for (const pod of pods) {
			const ordinal = ordinalOf(sts, pod)!;
			if (ordinal >= start && ordinal < start + replicas) byOrdinal.set(ordinal, pod);
			else condemned.push(pod);
		}
		condemned.sort((a, b) => ordinalOf(sts, b)! - ordinalOf(sts, a)!);

		const step = async (): Promise<void> => {
			// The replicas, lowest ordinal first.
			for (let ordinal = start; ordinal < start + replicas; ordinal++) {
				const pod = byOrdinal.get(ordinal);
				if (!pod) {
					// Pods below the partition keep the current revision; the rest get the update.
					const revision = rolling && ordinal < start + partition ? current : update;
					await this.createPod(sts, revision, ordinal);
					if (!parallel) return;
					continue;
				}
				if (isTerminal(pod) && !pod.metadata.deletionTimestamp) {
					// A failed (or finished) pod is deleted and made again, with the same name and claims.
					await this.deletePod(sts, pod, `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`);
					if (!parallel) return;
					continue;
				}
				await this.ensureClaims(sts, ordinal);
				if (!parallel && !healthy(pod)) return;
			}
			// Scaled away: highest ordinal first; OrderedReady one at a time, and only while the rest are healthy.
			for (const pod of condemned) {
				if (pod.metadata.deletionTimestamp) {
					if (!parallel) return;
					continue;
				}
				if (!parallel && [...byOrdinal.values()].some(p => !healthy(p))) return;
				if ((spec.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain') === 'Delete') await this.giveClaimsTo(sts, ordinalOf(sts, pod)!, pod);
				await this.deletePod(sts, pod, `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`);
				if (!parallel) return;
			}
			if (condemned.length || byOrdinal.size < replicas) return;
			// RollingUpdate: from the highest ordinal down to the partition, one pod at a time.
			if (!rolling) return;
			for (let ordinal = start + replicas - 1; ordinal >= start + partition; ordinal--) {
				const pod = byOrdinal.get(ordinal)!;
				if (pod.metadata.labels?.[revisionHashLabel] !== updateName && !pod.metadata.deletionTimestamp) {
					void this.events.record(sts, 'Normal', 'SuccessfulUpdate', `StatefulSet ${namespace}/${name} is updating Pod ${pod.metadata.name} to revision ${updateName}`, component);
					await this.deletePod(sts, pod, `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`);
					return;
				}
				if (!healthy(pod)) return;
			}
		};
		await step();
		await this.syncRetention(sts, start, replicas);
		return this.writeStatus(sts, current.metadata.name!, updateName, revisions);
	}

	/** Pods the set controls, adopting orphans its selector matches and its names fit. */
	private async ownedPods(sts: KubeObject): Promise<KubeObject[]> {
		const selector = fromLabelSelector((sts.spec as Rec).selector);
		const out: KubeObject[] = [];
		for (const pod of this.store.scan('pods', sts.metadata.namespace)) {
			if (isControlledBy(pod, sts)) {
				if (ordinalOf(sts, pod) !== undefined) out.push(pod);
			} else if (!hasController(pod) && !pod.metadata.deletionTimestamp && ordinalOf(sts, pod) !== undefined && matchesLabels(selector, pod.metadata.labels)) {
				out.push(await this.registry.patch(podType, pod.metadata.namespace, pod.metadata.name!, 'application/merge-patch+json', {metadata: {ownerReferences: [...(pod.metadata.ownerReferences ?? []), controllerRef(sts)]}}));
			}
		}
		return out;
	}

	private async createPod(sts: KubeObject, revision: KubeObject, ordinal: number): Promise<void> {
		const spec = sts.spec as Rec;
		const name = `${sts.metadata.name}-${ordinal}`;
		await this.ensureClaims(sts, ordinal);
		const pod = podFromTemplate(sts, revisionTemplate(revision), name);
		pod.metadata.labels = {...pod.metadata.labels, [podNameLabel]: name, [podIndexLabel]: String(ordinal), [revisionHashLabel]: revision.metadata.name!};
		const podSpec = pod.spec as Rec;
		podSpec.hostname = name;
		if (spec.serviceName) podSpec.subdomain = spec.serviceName;
		const templates: Rec[] = spec.volumeClaimTemplates ?? [];
		const claimed = new Set(templates.map(t => t.metadata?.name));
		podSpec.volumes = [
			...((podSpec.volumes ?? []) as Rec[]).filter(v => !claimed.has(v.name)),
			...templates.map(t => ({name: t.metadata.name, persistentVolumeClaim: {claimName: claimName(t, sts, ordinal)}})),
		];
		try {
			await this.registry.create(podType, sts.metadata.namespace, pod);
			void this.events.record(sts, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${sts.metadata.name} successful`, component);
		} catch (error) {
			void this.events.record(sts, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${sts.metadata.name} failed error: ${(error as Error).message}`, component);
			throw error;
		}
	}

	/** The ordinal's claims, made from the templates where missing (an existing claim is never changed). */
	private async ensureClaims(sts: KubeObject, ordinal: number): Promise<void> {
		const spec = sts.spec as Rec;
		const ns = sts.metadata.namespace!;
		const deleteWithSet = (spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain') === 'Delete';
		for (const template of (spec.volumeClaimTemplates ?? []) as Rec[]) {
			const name = claimName(template, sts, ordinal);
			if (this.store.peek('persistentvolumeclaims', ns, name)) continue;
			const claim: KubeObject = {
				apiVersion: 'v1', kind: 'PersistentVolumeClaim',
				metadata: {
					name, namespace: ns, labels: {...template.metadata?.labels, ...spec.selector?.matchLabels}, annotations: {...template.metadata?.annotations},
					...(deleteWithSet ? {ownerReferences: [controllerRef(sts)]} : {}),
				},
				spec: structuredClone(template.spec ?? {}),
			};
			try {
				await this.registry.create(pvcType, ns, claim);
				void this.events.record(sts, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${sts.metadata.name}-${ordinal} in StatefulSet ${sts.metadata.name} success`, component);
			} catch (error) {
				void this.events.record(sts, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${sts.metadata.name}-${ordinal} in StatefulSet ${sts.metadata.name} failed error: ${(error as Error).message}`, component);
				throw error;
			}
		}
	}

	/** whenScaled: Delete: the scaled-away pod owns its claims, so they go after it. */
	private async giveClaimsTo(sts: KubeObject, ordinal: number, pod: KubeObject): Promise<void> {
		for (const template of ((sts.spec as Rec).volumeClaimTemplates ?? []) as Rec[]) {
			const claim = this.store.get('persistentvolumeclaims', sts.metadata.namespace!, claimName(template, sts, ordinal));
			if (!claim || claim.metadata.ownerReferences?.some(r => r.uid === pod.metadata.uid)) continue;
			const ref = {apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid!, controller: false, blockOwnerDeletion: true};
			await this.registry.patch(pvcType, claim.metadata.namespace, claim.metadata.name!, 'application/merge-patch+json', {metadata: {ownerReferences: [...(claim.metadata.ownerReferences ?? []).filter(r => r.uid !== sts.metadata.uid), ref]}});
		}
	}

	/** whenDeleted: the set owns its replicas' claims under Delete, and not under Retain (a changed policy applies to claims that exist); no pod owns them. */
	private async syncRetention(sts: KubeObject, start: number, replicas: number): Promise<void> {
		const spec = sts.spec as Rec;
		const owned = (spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain') === 'Delete';
		for (let ordinal = start; ordinal < start + replicas; ordinal++) {
			for (const template of (spec.volumeClaimTemplates ?? []) as Rec[]) {
				const claim = this.store.peek('persistentvolumeclaims', sts.metadata.namespace!, claimName(template, sts, ordinal));
				if (!claim || claim.metadata.deletionTimestamp) continue;
				const refs = claim.metadata.ownerReferences ?? [];
				// A claim given to a scaled-away pod is the ordinal's again once it is back in range (updateClaimOwnerRefForSetAndPod).
				const kept = refs.filter(r => r.kind !== 'Pod');
				if (kept.length === refs.length && refs.some(r => r.uid === sts.metadata.uid) === owned) continue;
				const withoutSet = kept.filter(r => r.uid !== sts.metadata.uid);
				const next = owned ? [...withoutSet, controllerRef(sts)] : withoutSet;
				await this.registry.patch(pvcType, claim.metadata.namespace, claim.metadata.name!, 'application/merge-patch+json', {metadata: {ownerReferences: next.length ? next : null}});
			}
		}
	}

	private async deletePod(sts: KubeObject, pod: KubeObject, message: string): Promise<void> {
		await this.registry.delete(podType, pod.metadata.namespace, pod.metadata.name!, {preconditions: {uid: pod.metadata.uid}}).catch(() => {});
		void this.events.record(sts, 'Normal', 'SuccessfulDelete', message, component);
	}

	/** A serviceName with no Service: the pods run and keep their names, and the set says why they have no DNS names. */
	private warnMissingService(sts: KubeObject): void {
		const service = (sts.spec as Rec).serviceName;
		const generation = sts.metadata.generation ?? 0;
		if (!service || this.warned.get(sts.metadata.uid!) === generation || this.store.peek('services', sts.metadata.namespace!, service)) return;
		this.warned.set(sts.metadata.uid!, generation);
		void this.events.record(sts, 'Warning', 'FailedToFindService', `service "${service}" not found: the pods run, but have no DNS names until a headless Service of that name exists`, component);
	}

	private async writeStatus(sts: KubeObject, currentName: string, updateName: string, revisions: KubeObject[]) {
		const current = this.store.get('statefulsets', sts.metadata.namespace!, sts.metadata.name!);
		if (!current) return undefined;
		const spec = current.spec as Rec;
		const now = this.clock.now();
		const minReady = spec.minReadySeconds ?? 0;
		const pods = this.store.scan('pods', current.metadata.namespace, p => isControlledBy(p, current) && !isTerminal(p));
		const replicas = spec.replicas ?? 1;
		const status: Rec = {
			observedGeneration: current.metadata.generation,
			replicas: pods.length,
			readyReplicas: pods.filter(isPodReady).length,
			currentReplicas: pods.filter(p => p.metadata.labels?.[revisionHashLabel] === currentName).length,
			updatedReplicas: pods.filter(p => p.metadata.labels?.[revisionHashLabel] === updateName).length,
			currentRevision: currentName,
			updateRevision: updateName,
			collisionCount: 0,
			availableReplicas: pods.filter(p => isPodAvailable(p, minReady, now)).length,
		};
		// The rollout is complete once every replica runs the update and is ready.
		if (currentName !== updateName && status.updatedReplicas === replicas && status.readyReplicas === replicas && status.replicas === replicas) {
			status.currentRevision = updateName;
			status.currentReplicas = status.updatedReplicas;
		}
		const live = new Set([status.currentRevision, updateName, ...pods.map(p => p.metadata.labels?.[revisionHashLabel]).filter(Boolean)]);
		await pruneRevisions(this.registry, current, revisions, live);
		const old = (current.status ?? {}) as Rec;
		if (Object.entries(status).some(([k, v]) => old[k] !== v)) {
			await this.registry.update(stsType, current.metadata.namespace, current.metadata.name!, {...current, status: {...old, ...status}, metadata: {...current.metadata, resourceVersion: ''}}, {subresource: 'status'});
		}
		if (minReady > 0 && status.readyReplicas > status.availableReplicas) return {requeueAfter: minReady * 1000};
		return undefined;
	}
}
