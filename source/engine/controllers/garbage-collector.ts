// The garbage collector: dependents whose owners are all gone are deleted
// (ownerReferences). Deletion with propagationPolicy Foreground deletes the
// dependents first and then the owner (finalizer foregroundDeletion);
// Orphan strips the owner from its dependents and keeps them (finalizer
// orphan); Background, the default, deletes the owner at once and its
// dependents after.
import type {KubeObject, OwnerReference} from '../../api/object.js';
import {knownKind, type ResourceType, typeByPlural} from '../../api/resources.js';
import type {Registry} from '../../server/registry.js';
import type {Store, WatchEvent} from '../../store/store.js';

const dependentKinds = ['pods', 'replicasets', 'controllerrevisions', 'jobs', 'endpoints', 'persistentvolumeclaims', 'events'];
const ownerKinds = ['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'services', 'pods'];

export class GarbageCollector {
	private readonly unsubscribe: (() => void)[] = [];
	private chain: Promise<void> = Promise.resolve();

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly log: (line: string) => void = () => {}) {}

	start(): void {
		const rv = Number(this.store.resourceVersion);
		for (const plural of ownerKinds) {
			this.unsubscribe.push(this.store.watch(plural, undefined, rv, event => this.onOwnerEvent(plural, event)));
		}
		// A dependent going away may let a foreground-deleting owner finish.
		for (const plural of dependentKinds) {
			this.unsubscribe.push(this.store.watch(plural, undefined, rv, event => {
				if (event.type !== 'DELETED') return;
				for (const ref of event.object.metadata.ownerReferences ?? []) {
					const type = knownKind(ref.kind);
					const owner = type && this.store.get(type.plural, type.namespaced ? event.object.metadata.namespace ?? '' : '', ref.name);
					if (type && owner?.metadata.deletionTimestamp) this.enqueue(() => this.finishOwner(type, owner));
				}
			}));
		}
		// Owners deleted while no engine ran leave dependents behind: sweep once.
		this.enqueue(() => this.sweep());
		for (const plural of ownerKinds) {
			for (const obj of this.store.list(plural).items) if (obj.metadata.deletionTimestamp) this.enqueue(() => this.finishOwner(typeByPlural(plural)!, obj));
		}
	}

	stop(): void {
		for (const u of this.unsubscribe) u();
	}

	/** Run GC work one step at a time, in order; failures are logged, not fatal. */
	private enqueue(work: () => Promise<void>): void {
		this.chain = this.chain.then(work).catch(error => this.log(`garbage-collector: ${(error as Error).message}`));
	}

	idle(): Promise<void> {
		return this.chain;
	}

	private onOwnerEvent(plural: string, event: WatchEvent): void {
		const owner = event.object;
		if (event.type === 'DELETED') this.enqueue(() => this.collectDependentsOf(owner));
		else if (owner.metadata.deletionTimestamp) this.enqueue(() => this.finishOwner(typeByPlural(plural)!, owner));
	}

	private dependentsOf(uid: string, namespace: string | undefined): {type: ResourceType; obj: KubeObject}[] {
		const out: {type: ResourceType; obj: KubeObject}[] = [];
		for (const plural of dependentKinds) {
			for (const entry of this.store.listEntries(plural, namespace, {filter: o => !!o.metadata.ownerReferences?.some(r => r.uid === uid)})) {
				out.push({type: typeByPlural(plural)!, obj: JSON.parse(entry.json)});
			}
		}
		return out;
	}

	private ownerExists(ref: OwnerReference, namespace: string | undefined): boolean {
		const type = knownKind(ref.kind);
		if (!type) return false;
		const owner = this.store.get(type.plural, type.namespaced ? namespace ?? '' : '', ref.name);
		return !!owner && owner.metadata.uid === ref.uid;
	}

	private async collectDependentsOf(owner: KubeObject): Promise<void> {
		for (const {type, obj} of this.dependentsOf(owner.metadata.uid!, owner.metadata.namespace)) await this.collect(type, obj);
	}

	/** Delete a dependent whose owners are all gone; otherwise drop the references to missing owners. */
	private async collect(type: ResourceType, obj: KubeObject): Promise<void> {
		const refs = obj.metadata.ownerReferences ?? [];
		const alive = refs.filter(r => this.ownerExists(r, obj.metadata.namespace));
		if (alive.length === refs.length) return;
		if (alive.length === 0) {
			await this.registry.delete(type, obj.metadata.namespace, obj.metadata.name!, {preconditions: {uid: obj.metadata.uid}}).catch(() => {});
		} else {
			await this.registry.patch(type, obj.metadata.namespace, obj.metadata.name!, 'application/merge-patch+json', {metadata: {ownerReferences: alive}}).catch(() => {});
		}
	}

	private async sweep(): Promise<void> {
		for (const plural of dependentKinds) {
			for (const obj of this.store.list(plural).items) if (obj.metadata.ownerReferences?.length) await this.collect(typeByPlural(plural)!, obj);
		}
	}

	/** An owner marked for deletion with foregroundDeletion or orphan finalizers. */
	private async finishOwner(type: ResourceType, owner: KubeObject): Promise<void> {
		const current = this.store.get(type.plural, owner.metadata.namespace ?? '', owner.metadata.name!);
		if (!current || current.metadata.uid !== owner.metadata.uid || !current.metadata.deletionTimestamp) return;
		const finalizers = current.metadata.finalizers ?? [];
		const dependents = this.dependentsOf(current.metadata.uid!, current.metadata.namespace);
		if (finalizers.includes('orphan')) {
			for (const {type: t, obj} of dependents) {
				await this.registry.patch(t, obj.metadata.namespace, obj.metadata.name!, 'application/merge-patch+json', {metadata: {ownerReferences: (obj.metadata.ownerReferences ?? []).filter(r => r.uid !== current.metadata.uid)}}).catch(() => {});
			}
			await this.removeFinalizer(type, current, 'orphan');
		} else if (finalizers.includes('foregroundDeletion')) {
			if (dependents.length > 0) {
				for (const {type: t, obj} of dependents) {
					if (!obj.metadata.deletionTimestamp) await this.registry.delete(t, obj.metadata.namespace, obj.metadata.name!, {propagationPolicy: 'Foreground'}).catch(() => {});
				}
				return; // The dependents' deletion events bring us back here.
			}
			await this.removeFinalizer(type, current, 'foregroundDeletion');
		}
	}

	private async removeFinalizer(type: ResourceType, obj: KubeObject, finalizer: string): Promise<void> {
		const fresh = this.store.get(type.plural, obj.metadata.namespace ?? '', obj.metadata.name!);
		if (!fresh) return;
		await this.registry.update(type, fresh.metadata.namespace, fresh.metadata.name!, {...fresh, metadata: {...fresh.metadata, finalizers: (fresh.metadata.finalizers ?? []).filter(f => f !== finalizer)}});
	}
}
