// Persistent storage, as kube-controller-manager's PersistentVolume
// controller and a local-path provisioner (k3s's, here built in) do it:
//
// - ClaimBinder (per PersistentVolumeClaim): binds a Pending claim 1:1 to the
//   smallest Available PersistentVolume that satisfies its class, size,
//   access modes, volume mode and selector, or has its class provision one;
//   with volumeBindingMode WaitForFirstConsumer, only once the scheduler has
//   picked a node for a pod that uses it (the volume.kubernetes.io/selected-node
//   annotation). A claim that cannot be bound stays Pending with an event that
//   says why. A claim being deleted loses its kubernetes.io/pvc-protection
//   finalizer once no pod that is not finished uses it. A bound claim that
//   asks for more, through a class that allows expansion, is grown.
// - VolumeReclaimer (per PersistentVolume): keeps phases (Available, Bound,
//   Released, Failed); when its claim is gone, reclaims it: Delete removes a
//   provisioned volume's directory and the PV, Retain keeps both (Released);
//   a PV being deleted loses kubernetes.io/pv-protection once no claim holds it.
//
// The four stages of the notes' life cycle show as events: Provisioning /
// ProvisioningSucceeded, the binding (and describe's Status/Volume/Claim),
// the pods using it, and reclaiming (VolumeDeleted, or Released).
import fs from 'node:fs';
import type {KubeObject} from '../../api/object.js';
import {isTerminal} from '../../api/pods.js';
import {formatBytes, parseQuantity} from '../../api/quantity.js';
import {typeByPlural} from '../../api/resources.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {Clock} from '../clock.js';
import {provisionedPath} from '../layout.js';
import {nodeSelectorTermsMatch} from '../node-match.js';
import type {EventRecorder} from '../events.js';
import {isoTime} from '../../api/time.js';
import {type Controller, keyOf, splitKey} from './runner.js';

type Rec = Record<string, any>;
const pvcType = typeByPlural('persistentvolumeclaims')!;
const pvType = typeByPlural('persistentvolumes')!;
export const localPathProvisioner = 'kubedeck.io/local-path';
export const localPathClass = 'local-path';
export const selectedNodeAnnotation = 'volume.kubernetes.io/selected-node';
const pvcProtection = 'kubernetes.io/pvc-protection';
const pvProtection = 'kubernetes.io/pv-protection';
const component = 'persistentvolume-controller';

const requestOf = (claim: KubeObject) => parseQuantity(String((claim.spec as Rec)?.resources?.requests?.storage ?? '0')) ?? 0;
const capacityOf = (pv: KubeObject) => parseQuantity(String((pv.spec as Rec)?.capacity?.storage ?? '0')) ?? 0;
const classOf = (obj: KubeObject) => ((obj.spec as Rec)?.storageClassName ?? '') as string;

/** The claims a pod's volumes name. */
export function claimsOf(pod: KubeObject): string[] {
	return (((pod.spec as Rec)?.volumes ?? []) as Rec[]).map(v => v.persistentVolumeClaim?.claimName).filter(Boolean);
}

/** Pods in the claim's namespace that use it and have not finished. */
export function podsUsing(store: Store, namespace: string, claim: string): readonly KubeObject[] {
	return store.scan('pods', namespace, p => !isTerminal(p) && claimsOf(p).includes(claim));
}

/** Pods that hold a claim against deletion: those on a node (pvc-protection ignores pods not yet scheduled). */
const podsHolding = (store: Store, namespace: string, claim: string) => podsUsing(store, namespace, claim).filter(p => (p.spec as Rec)?.nodeName);

/** A volume's required node affinity terms (local volumes name their node). */
export const volumeNodeTerms = (pv: KubeObject): Rec[] | undefined => (pv.spec as Rec)?.nodeAffinity?.required?.nodeSelectorTerms;


export class ClaimBinder implements Controller {
	readonly name = 'persistentvolume-binder';
	readonly primary = 'persistentvolumeclaims';
	readonly watches;

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock, private readonly storageRoot: string) {
		const pending = () => this.store.scan('persistentvolumeclaims', undefined, c => (c.status as Rec)?.phase !== 'Bound').map(keyOf);
		this.watches = [
			{resource: 'persistentvolumeclaims'},
			// A volume that appears or frees up may bind a waiting claim; its own claim needs a look too.
			{resource: 'persistentvolumes', keys: (pv: KubeObject) => {
				const ref = (pv.spec as Rec)?.claimRef;
				return [...(ref ? [`${ref.namespace}/${ref.name}`] : []), ...pending()];
			}},
			{resource: 'storageclasses', keys: pending},
			// Pods going away release protected claims: only claims being deleted wait for that (pods change often).
			{resource: 'pods', keys: (pod: KubeObject) => claimsOf(pod)
				.filter(c => this.store.peek('persistentvolumeclaims', pod.metadata.namespace!, c)?.metadata.deletionTimestamp)
				.map(c => `${pod.metadata.namespace}/${c}`)},
		];
	}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const claim = this.store.get('persistentvolumeclaims', namespace, name);
		if (!claim) return undefined;
		if (claim.metadata.deletionTimestamp) {
			if (claim.metadata.finalizers?.includes(pvcProtection) && podsHolding(this.store, namespace, name).length === 0) {
				await this.registry.update(pvcType, namespace, name, {...claim, metadata: {...claim.metadata, finalizers: claim.metadata.finalizers.filter(f => f !== pvcProtection)}});
			}
			return undefined;
		}
		const spec = claim.spec as Rec;
		if (spec.volumeName) return this.syncBound(claim);

		const className = classOf(claim);
		const cls = className ? this.store.get('storageclasses', '', className) : undefined;
		const selectedNode = claim.metadata.annotations?.[selectedNodeAnnotation];
		const node = selectedNode ? this.store.get('nodes', '', selectedNode) : undefined;
		const volume = this.findVolume(claim, node);
		if (className && !cls && !volume) return this.pending(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
		if (cls?.volumeBindingMode === 'WaitForFirstConsumer' && !selectedNode) {
			return this.pending(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
		}
		if (volume) return this.bind(claim, volume);
		if (!cls) return this.pending(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
		if (cls.provisioner !== localPathProvisioner) {
			return this.pending(claim, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${cls.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
		}
		return this.provision(claim, cls, selectedNode);
	}

	/** The smallest Available volume the claim fits (or one already set aside for it), usable on the chosen node. */
	private findVolume(claim: KubeObject, node: KubeObject | undefined): KubeObject | undefined {
		const spec = claim.spec as Rec;
		const want = requestOf(claim);
		const modes: string[] = spec.accessModes ?? [];
		const selector = spec.selector ? fromLabelSelector(spec.selector) : undefined;
		const candidates = this.store.scan('persistentvolumes', undefined, pv => {
			const ps = pv.spec as Rec;
			if (pv.metadata.deletionTimestamp || ((pv.status as Rec)?.phase ?? 'Available') !== 'Available') return false;
			const ref = ps.claimRef;
			if (ref && !(ref.namespace === claim.metadata.namespace && ref.name === claim.metadata.name && (!ref.uid || ref.uid === claim.metadata.uid))) return false;
			if (classOf(pv) !== classOf(claim) || (ps.volumeMode ?? 'Filesystem') !== (spec.volumeMode ?? 'Filesystem')) return false;
			if (capacityOf(pv) < want || !modes.every(m => (ps.accessModes ?? []).includes(m))) return false;
			if (selector && !matchesLabels(selector, pv.metadata.labels)) return false;
			return !node || nodeSelectorTermsMatch(volumeNodeTerms(pv), node);
		});
		// A volume set aside for this claim first, then the smallest that fits.
		return [...candidates].sort((a, b) => Number(!!(b.spec as Rec).claimRef) - Number(!!(a.spec as Rec).claimRef) || capacityOf(a) - capacityOf(b) || a.metadata.name!.localeCompare(b.metadata.name!))[0];
	}

	/** A local-path volume: a directory of its own, on the selected node (or the first ready one). */
	private async provision(claim: KubeObject, cls: KubeObject, selectedNode: string | undefined) {
		const ns = claim.metadata.namespace!, spec = claim.spec as Rec;
		const pvName = `pvc-${claim.metadata.uid}`;
		const node = selectedNode ?? this.store.scan('nodes', undefined, n => ((n.status as Rec)?.conditions ?? []).some((c: Rec) => c.type === 'Ready' && c.status === 'True'))[0]?.metadata.name;
		if (!node) return this.pending(claim, 'Warning', 'ProvisioningFailed', 'no ready node to provision a local-path volume on');
		const want = requestOf(claim);
		// The root is the engine's (made at start): a step racing the engine's stop and its data's removal fails here rather than make it again.
		const free = fs.statfsSync(this.storageRoot);
		if (want > free.bavail * free.bsize) {
			return this.pending(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${cls.metadata.name}": insufficient space on node ${node}: ${spec.resources?.requests?.storage} requested, ${formatBytes(free.bavail * free.bsize)} available`);
		}
		void this.events.record(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${ns}/${claim.metadata.name}"`, localPathProvisioner);
		const dir = provisionedPath(this.storageRoot, pvName);
		// Any of the pod's uids may write, as with emptyDir (and k3s's local-path volumes).
		if (!fs.existsSync(dir)) fs.mkdirSync(dir, {mode: 0o777});
		fs.chmodSync(dir, 0o777);
		const pv: KubeObject = {
			apiVersion: 'v1', kind: 'PersistentVolume',
			metadata: {name: pvName, annotations: {'pv.kubernetes.io/provisioned-by': localPathProvisioner}},
			spec: {
				capacity: {storage: spec.resources?.requests?.storage ?? '0'}, accessModes: spec.accessModes ?? ['ReadWriteOnce'],
				persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete', storageClassName: cls.metadata.name, volumeMode: spec.volumeMode ?? 'Filesystem',
				local: {path: dir},
				nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: [node]}]}]}},
				claimRef: {apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: claim.metadata.name, uid: claim.metadata.uid},
			},
		};
		let created: KubeObject;
		try {
			created = await this.registry.create(pvType, undefined, pv);
		} catch (error) {
			const existing = this.store.get('persistentvolumes', '', pvName);
			if (!existing) throw error;
			created = existing;
		}
		void this.events.record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`, localPathProvisioner);
		return this.bind(claim, created);
	}

	/** The volume's claimRef first, then the claim's volumeName, then both statuses (the controller's order). */
	private async bind(claim: KubeObject, pv: KubeObject): Promise<undefined> {
		const ns = claim.metadata.namespace!, name = claim.metadata.name!;
		const ref = {apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion};
		if ((pv.spec as Rec).claimRef?.uid !== claim.metadata.uid) {
			pv = await this.registry.update(pvType, undefined, pv.metadata.name!, {...pv, spec: {...(pv.spec as Rec), claimRef: ref}});
		}
		const annotations = {...claim.metadata.annotations, 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes'};
		const bound = await this.registry.update(pvcType, ns, name, {...claim, metadata: {...claim.metadata, annotations}, spec: {...(claim.spec as Rec), volumeName: pv.metadata.name}});
		await this.setVolumePhase(pv, 'Bound');
		void this.events.record(bound, 'Normal', 'Bound', `Successfully bound to volume ${pv.metadata.name}`, component);
		return this.syncBound(bound);
	}

	/** A bound claim's status (phase, capacity, access modes), Lost if its volume is gone, and growing when asked. */
	private async syncBound(claim: KubeObject): Promise<undefined> {
		const spec = claim.spec as Rec;
		const pv = this.store.get('persistentvolumes', '', spec.volumeName);
		if (!pv || ((pv.spec as Rec).claimRef?.uid && (pv.spec as Rec).claimRef.uid !== claim.metadata.uid)) {
			// Lost only once it was bound; a claim that names a volume not there yet (or taken) waits for it (syncUnboundClaim).
			if (claim.metadata.annotations?.['pv.kubernetes.io/bind-completed'] !== 'yes') {
				return this.pending(claim, 'Normal', 'FailedBinding', pv ? `volume "${spec.volumeName}" already bound to a different claim.` : `volume "${spec.volumeName}" not found`);
			}
			if ((claim.status as Rec)?.phase !== 'Lost') void this.events.record(claim, 'Warning', 'ClaimLost', `Bound claim has lost its PersistentVolume. Data on the volume is lost!`, component);
			return this.writeClaimStatus(claim, {phase: 'Lost'});
		}
		if (!(pv.spec as Rec).claimRef) {
			// The user named the volume: take it if it is free and fits.
			if (((pv.status as Rec)?.phase ?? 'Available') !== 'Available' || capacityOf(pv) < requestOf(claim)) return this.pending(claim, 'Normal', 'FailedBinding', `volume "${pv.metadata.name}" is not available or too small`);
			return this.bind(claim, pv);
		}
		let capacity = (pv.spec as Rec).capacity;
		const cls = classOf(claim) ? this.store.get('storageclasses', '', classOf(claim)) : undefined;
		if (requestOf(claim) > capacityOf(pv) && cls?.allowVolumeExpansion) {
			// A local directory has no size of its own to change: the volume's capacity is the record.
			capacity = {...capacity, storage: spec.resources.requests.storage};
			await this.registry.update(pvType, undefined, pv.metadata.name!, {...pv, spec: {...(pv.spec as Rec), capacity}});
			void this.events.record(claim, 'Normal', 'VolumeResizeSuccessful', `resize volume "${pv.metadata.name}" by resizer "${localPathProvisioner}" finished successfully`, localPathProvisioner);
		}
		await this.setVolumePhase(pv, 'Bound');
		return this.writeClaimStatus(claim, {phase: 'Bound', accessModes: (pv.spec as Rec).accessModes, capacity});
	}

	private async pending(claim: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<undefined> {
		void this.events.record(claim, type, reason, message, component);
		return this.writeClaimStatus(claim, {phase: 'Pending'});
	}

	private async writeClaimStatus(claim: KubeObject, status: Rec): Promise<undefined> {
		const current = this.store.get('persistentvolumeclaims', claim.metadata.namespace!, claim.metadata.name!);
		if (!current || JSON.stringify(current.status ?? {}) === JSON.stringify(status)) return undefined;
		await this.registry.update(pvcType, current.metadata.namespace, current.metadata.name!, {...current, status}, {subresource: 'status'});
		return undefined;
	}

	private setVolumePhase(pv: KubeObject, phase: string, message?: string) {
		return writeVolumePhase(this.store, this.registry, this.clock, pv, phase, message);
	}
}

async function writeVolumePhase(store: Store, registry: Registry, clock: Clock, pv: KubeObject, phase: string, message?: string): Promise<void> {
	const current = store.get('persistentvolumes', '', pv.metadata.name!);
	if (!current || ((current.status as Rec)?.phase === phase && (current.status as Rec)?.message === message)) return;
	const status: Rec = {phase, ...(message ? {message} : {}), lastPhaseTransitionTime: isoTime(clock.now())};
	await registry.update(pvType, undefined, current.metadata.name!, {...current, status}, {subresource: 'status'});
}

export class VolumeReclaimer implements Controller {
	readonly name = 'persistentvolume-reclaimer';
	readonly primary = 'persistentvolumes';
	readonly watches = [
		{resource: 'persistentvolumes'},
		{resource: 'persistentvolumeclaims', keys: (claim: KubeObject) => {
			const volume = (claim.spec as Rec)?.volumeName;
			const held = this.store.scan('persistentvolumes', undefined, pv => (pv.spec as Rec)?.claimRef?.uid === claim.metadata.uid).map(keyOf);
			return [...new Set([...(volume ? [`/${volume}`] : []), ...held])];
		}},
	];

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock, private readonly storageRoot: string) {}

	private phase(pv: KubeObject, phase: string, message?: string) {
		return writeVolumePhase(this.store, this.registry, this.clock, pv, phase, message);
	}

	async reconcile(key: string) {
		const [, name] = splitKey(key);
		const pv = this.store.get('persistentvolumes', '', name);
		if (!pv) return undefined;
		const spec = pv.spec as Rec;
		const ref = spec.claimRef;
		const claim = ref ? this.store.get('persistentvolumeclaims', ref.namespace, ref.name) : undefined;
		// Pre-bound (a claimRef without a uid): kept for that claim, Available, whether or not it exists yet.
		if (ref && !ref.uid && !pv.metadata.deletionTimestamp) return this.phase(pv, 'Available');
		const claimed = !!claim && (!ref.uid || claim.metadata.uid === ref.uid);
		if (pv.metadata.deletionTimestamp) {
			if (pv.metadata.finalizers?.includes(pvProtection) && !(claimed && (claim!.spec as Rec).volumeName === name)) {
				await this.registry.update(pvType, undefined, name, {...pv, metadata: {...pv.metadata, finalizers: pv.metadata.finalizers.filter(f => f !== pvProtection)}});
			}
			return undefined;
		}
		if (!ref) return this.phase(pv, 'Available');
		if (claimed) return this.phase(pv, (claim!.spec as Rec).volumeName === name ? 'Bound' : 'Available');
		// The claim is gone: reclaim.
		const policy = spec.persistentVolumeReclaimPolicy ?? 'Retain';
		if (policy === 'Retain') return this.phase(pv, 'Released');
		if (policy === 'Delete') {
			const ours = pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] === localPathProvisioner && spec.local?.path === provisionedPath(this.storageRoot, name);
			if (!ours) {
				const message = `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched`;
				if ((pv.status as Rec)?.phase !== 'Failed') void this.events.record(pv, 'Warning', 'VolumeFailedDelete', message, component);
				return this.phase(pv, 'Failed', message);
			}
			await this.phase(pv, 'Released');
			fs.rmSync(spec.local.path, {recursive: true, force: true});
			await this.registry.delete(pvType, undefined, name).catch(() => {});
			void this.events.record(pv, 'Normal', 'VolumeDeleted', `Deleted volume ${name} and its directory`, localPathProvisioner);
			return undefined;
		}
		const message = `Recycle is not supported: use Delete, or Retain and clear the volume yourself`;
		if ((pv.status as Rec)?.phase !== 'Failed') void this.events.record(pv, 'Warning', 'VolumeFailedRecycle', message, component);
		return this.phase(pv, 'Failed', message);
	}
}
