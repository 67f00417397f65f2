// The API server's storage strategy per kind (kube-apiserver's pkg/registry):
// what happens on create, update, patch and delete before an object reaches
// the store. Every read-then-write runs inside one store transaction, so it is
// atomic with respect to every other write. The HTTP layer and the engine's
// controllers both go through here; nothing else writes to the store.
import crypto from 'node:crypto';
import type {VersionView} from '../api/conversion.js';
import {admitPodServiceAccount, namespaceDefaults} from './serviceaccounts.js';
import {describeViolations, namespaceLevel, violations} from '../api/pod-security.js';
import {admissionErrors} from '../api/admission.js';
import {ephemeralContainerErrors} from '../api/validation/pod.js';
import {badRequest, conflict, field, type FieldError, forbidden, invalid, notFound, StatusError} from '../api/errors.js';
import {clone, type KubeObject} from '../api/object.js';
import {schemaOf} from '../api/field-schema.js';
import {applyConfiguration, recordUpdate, type Writer} from '../api/managed-fields.js';
import {applyPatch} from '../api/patch.js';
import {isoTime} from '../api/time.js';
import {parseQuantity} from '../api/quantity.js';
import {apiVersionOf, knownKind, type ResourceType, typeByPlural, typeForKind} from '../api/resources.js';
import {fromLabelSelector, formatLabelSelector, type FieldRequirement, type LabelSelector, matchesFields, matchesLabels} from '../api/selectors.js';
import {type Store, type Transaction} from '../store/store.js';
import {allocateClusterIp, allocateNodePorts, type AddressRange} from './allocators.js';

export interface WriteOptions {
	dryRun?: boolean;
	/** For update and patch: which part of the object may change. */
	subresource?: 'status' | 'scale' | 'ephemeralcontainers';
	/** For patch: the API's type check of the patched object, before it is defaulted (throws a Status). */
	typeCheck?: (obj: KubeObject) => void;
	/** Refuse an object larger than etcd would store (API writes; the engine's own writes are small). */
	maxBytes?: boolean;
	/** For patch: the patch is written against this served version of the object, not the stored one. */
	view?: VersionView;
	/** The requester's own check of the object as it will be stored (RBAC escalation prevention); throws a Status. */
	guard?: (type: ResourceType, obj: KubeObject) => void;
	/**
	 * The field manager a request writes as (managedFields), and the API version it writes in.
	 * The engine's own controllers write without one: their writes are not tracked.
	 */
	manager?: {name: string; apiVersion: string};
}

export interface ApplyOptions extends WriteOptions {
	manager: {name: string; apiVersion: string};
	/** Take the fields other managers hold instead of refusing with a conflict. */
	force?: boolean;
}

/** etcd's default --max-request-bytes, the largest object a Kubernetes cluster stores. */
export const maxObjectBytes = 1.5 * 1024 * 1024;

/**
 * An object too large to store. etcd refuses it ("etcdserver: request is too
 * large") and kube-apiserver passes that on; it is a 413 here, naming the limit.
 */
function checkObjectSize(obj: KubeObject): void {
	const size = Buffer.byteLength(JSON.stringify(obj));
	if (size > maxObjectBytes) {
		throw new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 413, reason: 'RequestEntityTooLarge',
			message: `Request entity too large: the object is ${size} bytes; limit is ${maxObjectBytes} (etcd's default request size)`});
	}
}

export interface DeleteOptions {
	gracePeriodSeconds?: number;
	propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
	preconditions?: {uid?: string; resourceVersion?: string};
	dryRun?: boolean;
}

export interface ListQuery {
	labelSelector?: LabelSelector;
	fieldSelector?: FieldRequirement[];
}

/** Namespaces kube-apiserver refuses to delete. */
const immortalNamespaces = new Set(['default', 'kube-system', 'kube-public']);

export class Registry {
	/** The cluster CA (PEM), published in each namespace's kube-root-ca.crt. */
	rootCA?: string;

	constructor(readonly store: Store, readonly serviceRange?: AddressRange) {}

	/** The type an object's apiVersion/kind names, or a 400 like kube-apiserver's RESTMapper. */
	typeOf(obj: KubeObject): ResourceType {
		if (!obj || typeof obj !== 'object') throw badRequest('Object cannot be decoded: the body is not an object');
		if (!obj.kind) throw badRequest("Object 'Kind' is missing in the request body");
		if (!obj.apiVersion) throw badRequest("Object 'apiVersion' is missing in the request body");
		const type = typeForKind(obj.apiVersion, obj.kind);
		if (!type) {
			const sameKind = knownKind(obj.kind);
			throw badRequest(sameKind
				? `no matches for kind "${obj.kind}" in version "${obj.apiVersion}" (did you mean ${apiVersionOf(sameKind)}?)`
				: `no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`);
		}
		return type;
	}

	get(type: ResourceType, namespace: string, name: string): KubeObject {
		const obj = this.store.get(type.plural, type.namespaced ? namespace : '', name);
		if (!obj) throw notFound(type, name);
		return obj;
	}

	list(type: ResourceType, namespace: string | undefined, query: ListQuery = {}): {items: KubeObject[]; resourceVersion: string} {
		return this.store.list(type.plural, type.namespaced ? namespace : undefined, {filter: matcher(query)});
	}

	create(type: ResourceType, namespace: string | undefined, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
		const obj = this.prepare(type, namespace, body);
		return this.write(options, tx => this.createIn(tx, type, obj, options));
	}

	private createIn(tx: Transaction, type: ResourceType, obj: KubeObject, options: WriteOptions): KubeObject {
		if (type.namespaced) this.requireNamespace(tx, obj.metadata.namespace!);
		if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = this.generateName(tx, type, obj);
		// The uid is the server's, assigned before defaulting (a Job's generated selector uses it).
		obj.metadata.uid = crypto.randomUUID();
		this.admit(tx, type, obj, undefined);
		if (type.kind === 'Pod') {
			enforcePodSecurity(tx, obj);
			admitPodServiceAccount(tx, obj);
		}
		this.track(type, undefined, obj, options);
		options.guard?.(type, obj);
		if (options.maxBytes) checkObjectSize(obj);
		const created = tx.create(type, obj);
		if (type.kind === 'Namespace') {
			// Its default ServiceAccount and root CA come in the same write (serviceaccounts.ts says why).
			for (const extra of namespaceDefaults(obj.metadata.name!, this.rootCA)) {
				const extraType = this.typeOf(extra);
				if (!tx.peek(extraType.plural, extra.metadata.namespace!, extra.metadata.name!)) this.createIn(tx, extraType, this.prepare(extraType, extra.metadata.namespace, extra), {});
			}
		}
		return created;
	}

	/** PUT: replace the object (or its status). */
	update(type: ResourceType, namespace: string | undefined, name: string, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
		if (options.subresource === 'status' && body?.metadata) {
			// Only status and resourceVersion are read from a status update: copy just those.
			// The status is not copied: the store writes a serialized copy, and nothing here mutates it.
			const statusOnly = {apiVersion: body.apiVersion, kind: body.kind, metadata: {name, namespace: type.namespaced ? body.metadata.namespace || namespace : undefined, resourceVersion: body.metadata.resourceVersion}, status: body.status} as KubeObject;
			return this.write(options, tx => this.replaceIn(tx, type, statusOnly, options));
		}
		const obj = this.prepare(type, namespace, body);
		if (obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
		return this.write(options, tx => this.replaceIn(tx, type, obj, options));
	}

	/** PATCH: read, patch and write back in one transaction, so it never conflicts. */
	patch(type: ResourceType, namespace: string | undefined, name: string, contentType: string, patch: unknown, options: WriteOptions = {}): Promise<KubeObject> {
		return this.write(options, tx => {
			const current = tx.get(type.plural, type.namespaced ? namespace ?? '' : '', name);
			if (!current) throw notFound(type, name);
			const {view} = options;
			const base = options.subresource === 'scale' ? toScale(type, current) : view ? view.fromStored(current) : current;
			let patched = applyPatch(base, contentType, patch);
			options.typeCheck?.(patched);
			if (view && options.subresource !== 'scale') patched = view.toStored(patched);
			if (options.subresource === 'scale') return this.writeScale(tx, type, current, patched, options);
			const prepared = this.prepare(type, namespace, patched);
			if (prepared.metadata.name !== name) throw badRequest(`metadata.name: Invalid value: "${prepared.metadata.name}": field is immutable`);
			return this.replaceIn(tx, type, prepared, options);
		});
	}

	/**
	 * The pods/binding subresource: set spec.nodeName (once) and the
	 * PodScheduled condition in one write. Conflicts if the pod changed since
	 * the scheduler read it.
	 */
	bind(pod: KubeObject, nodeName: string, conditions: unknown[]): Promise<KubeObject> {
		const type = typeByPlural('pods')!;
		return this.store.write(tx => {
			// Read without a copy and write a new version built from shallow copies: this runs once per pod scheduled.
			const current = tx.peek('pods', pod.metadata.namespace!, pod.metadata.name!);
			if (!current || current.metadata.uid !== pod.metadata.uid) throw notFound(type, pod.metadata.name!);
			if ((current.spec as {nodeName?: string}).nodeName) throw conflict(type, pod.metadata.name!, `pod ${pod.metadata.name} is already assigned to node "${(current.spec as {nodeName?: string}).nodeName}"`);
			return tx.update(type, {...current, metadata: {...current.metadata}, spec: {...(current.spec as object), nodeName}, status: {...(current.status as object), conditions}});
		});
	}

	getScale(type: ResourceType, namespace: string, name: string): KubeObject {
		return toScale(type, this.get(type, namespace, name));
	}

	updateScale(type: ResourceType, namespace: string, name: string, scale: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
		return this.write(options, tx => {
			const current = tx.get(type.plural, namespace, name);
			if (!current) throw notFound(type, name);
			if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(type, name);
			return this.writeScale(tx, type, current, scale, options);
		});
	}

	delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject> {
		const ns = type.namespaced ? namespace ?? '' : '';
		return this.write({dryRun: options.dryRun}, tx => {
			const current = tx.get(type.plural, ns, name);
			if (!current) throw notFound(type, name);
			if (type.kind === 'Namespace') return this.deleteNamespace(tx, type, current, options);
			const preconditions = {...options.preconditions, gracePeriodSeconds: options.gracePeriodSeconds};
			// Foreground and Orphan hand the dependents to the garbage collector through a finalizer.
			const finalizer = options.propagationPolicy === 'Foreground' ? 'foregroundDeletion' : options.propagationPolicy === 'Orphan' ? 'orphan' : undefined;
			if (finalizer && !current.metadata.deletionTimestamp && type.kind !== 'Pod') {
				current.metadata.finalizers = [...new Set([...(current.metadata.finalizers ?? []), finalizer])];
				tx.update(type, current);
				return tx.delete(type, ns, name, preconditions).object;
			}
			// A pod on a node is deleted gracefully: marked, and removed by its kubelet once its containers stop.
			if (type.kind === 'Pod' && podNeedsGracefulDeletion(current, options.gracePeriodSeconds)) {
				const grace = options.gracePeriodSeconds ?? (current.spec as {terminationGracePeriodSeconds?: number}).terminationGracePeriodSeconds ?? 30;
				if (current.metadata.deletionTimestamp && (current.metadata.deletionGracePeriodSeconds ?? 0) <= grace) return current;
				return tx.markDeleting(type, current, grace);
			}
			return tx.delete(type, ns, name, preconditions).object;
		});
	}

	/**
	 * Namespace deletion. kube-apiserver marks the namespace Terminating and its
	 * namespace controller empties it; here the emptying happens in the same
	 * transaction, so a namespace is never seen half-deleted.
	 */
	private deleteNamespace(tx: Transaction, type: ResourceType, ns: KubeObject, options: DeleteOptions): KubeObject {
		const name = ns.metadata.name!;
		if (immortalNamespaces.has(name)) throw forbidden(type, name, 'this namespace may not be deleted');
		for (const t of allNamespacedTypes()) {
			for (const obj of tx.list(t.plural, name)) {
				if (obj.metadata.finalizers?.length) {
					obj.metadata.finalizers = [];
					tx.update(t, obj);
				}
				if (tx.get(t.plural, name, obj.metadata.name!)) tx.delete(t, name, obj.metadata.name!);
			}
		}
		return tx.delete(type, '', name, {...options.preconditions}).object;
	}

	private write<T>(options: WriteOptions, run: (tx: Transaction) => T): Promise<T> {
		if (!options.dryRun) return this.store.write(run);
		// A dry run does all the work in a savepoint that is then rolled back.
		return this.store.write(tx => {
			const result = run(tx);
			throw new DryRunResult(result);
		}).catch(error => {
			if (error instanceof DryRunResult) return error.object as T;
			throw error;
		});
	}

	/** Normalise a body for the type and the request path; default it; validate what needs no store. */
	private prepare(type: ResourceType, namespace: string | undefined, body: KubeObject): KubeObject {
		const obj = clone(body);
		const bodyType = this.typeOf(obj);
		if (bodyType !== type) throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(type)})`);
		if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
		if (type.namespaced) {
			if (namespace && obj.metadata.namespace && obj.metadata.namespace !== namespace) {
				throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
			}
			obj.metadata.namespace = obj.metadata.namespace || namespace || 'default';
		}
		// creationTimestamp: null is what kubectl's generators send.
		if (obj.metadata.creationTimestamp === null) delete obj.metadata.creationTimestamp;
		if (type.kind === 'Secret' && obj.stringData) {
			// stringData is write-only: merged into data, never stored (core/v1 Secret docs).
			const data = {...(obj.data as Record<string, string> | undefined)};
			for (const [k, v] of Object.entries(obj.stringData as Record<string, string>)) data[k] = Buffer.from(String(v)).toString('base64');
			obj.data = data;
			delete obj.stringData;
		}
		return obj;
	}

	/** Defaulting, validation and allocation, inside the transaction. */
	private admit(tx: Transaction, type: ResourceType, obj: KubeObject, old: KubeObject | undefined): void {
		const errors = admissionErrors(type, obj, old);
		if (!old) initialStatus(obj);
		// kube-apiserver's DefaultIngressClass admission: a new Ingress without a class gets the default one.
		if (!old && type.kind === 'Ingress') {
			const spec = (obj.spec ??= {}) as {ingressClassName?: string};
			if (!spec.ingressClassName && !obj.metadata.annotations?.['kubernetes.io/ingress.class']) {
				const fallback = tx.list('ingressclasses').find(c => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true');
				if (fallback) spec.ingressClassName = fallback.metadata.name;
			}
		}
		if (errors.length === 0 && (type.kind === 'PersistentVolumeClaim' || type.kind === 'PersistentVolume')) errors.push(...admitStorage(tx, obj, old));
		if (errors.length === 0 && type.kind === 'Service') {
			errors.push(...allocateClusterIp(tx, obj, old, this.serviceRange), ...allocateNodePorts(tx, obj, old));
		}
		if (errors.length > 0) throw invalid(type.kind, type.group, obj.metadata.name ?? obj.metadata.generateName ?? '', errors);
	}

	private replaceIn(tx: Transaction, type: ResourceType, obj: KubeObject, options: WriteOptions): KubeObject {
		const ns = type.namespaced ? obj.metadata.namespace ?? '' : '';
		if (options.subresource === 'status') {
			// The status subresource changes status only (and keeps metadata as stored); the next
			// version is built from shallow copies of the stored one, which is never mutated.
			const stored = tx.peek(type.plural, ns, obj.metadata.name!);
			if (!stored) throw notFound(type, obj.metadata.name!);
			const next = {...stored, status: obj.status, metadata: {...stored.metadata, managedFields: obj.metadata.managedFields ?? stored.metadata.managedFields, resourceVersion: obj.metadata.resourceVersion || stored.metadata.resourceVersion}};
			this.track(type, stored, next, options, 'status');
			return tx.update(type, next);
		}
		const old = tx.get(type.plural, ns, obj.metadata.name!);
		if (!old) throw notFound(type, obj.metadata.name!);
		if (options.subresource === 'ephemeralcontainers') {
			// pods/ephemeralcontainers changes spec.ephemeralContainers alone (kubectl debug), and only by adding to it.
			const next = {...old, metadata: {...old.metadata, managedFields: obj.metadata.managedFields ?? old.metadata.managedFields, resourceVersion: obj.metadata.resourceVersion || old.metadata.resourceVersion},
				spec: {...(old.spec as object), ephemeralContainers: (obj.spec as {ephemeralContainers?: unknown})?.ephemeralContainers}};
			if (!(next.spec as {ephemeralContainers?: unknown[]}).ephemeralContainers?.length) delete (next.spec as {ephemeralContainers?: unknown}).ephemeralContainers;
			const errors = ephemeralContainerErrors(old, next);
			if (errors.length) throw invalid(type.kind, type.group, old.metadata.name!, errors);
			this.track(type, old, next, options, 'ephemeralcontainers');
			return tx.update(type, next);
		}
		// The main resource never changes status, as with kube-apiserver's status subresource split.
		if ('status' in old) obj.status = old.status;
		else delete obj.status;
		this.admit(tx, type, obj, old);
		this.track(type, old, obj, options);
		options.guard?.(type, obj);
		if (options.maxBytes) checkObjectSize(obj);
		return tx.update(type, obj);
	}

	private writeScale(tx: Transaction, type: ResourceType, current: KubeObject, scale: KubeObject, options: WriteOptions): KubeObject {
		const replicas = (scale.spec as {replicas?: unknown} | undefined)?.replicas;
		if (!Number.isInteger(replicas) || (replicas as number) < 0) {
			throw invalid('Scale', 'autoscaling', current.metadata.name!, [field.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
		}
		const next = clone(current);
		(next.spec as {replicas: number}).replicas = replicas as number;
		this.track(type, current, next, options, 'scale');
		return toScale(type, tx.update(type, next));
	}

	/**
	 * managedFields after a write that is not an apply, as kube-apiserver's field manager keeps
	 * them: the writer takes what it added or changed. A body that carries managedFields sets
	 * them (a list of one empty entry clears them); a body without (or with an empty list) keeps
	 * the stored ones, so clients unaware of the field never strip it.
	 */
	private track(type: ResourceType, before: KubeObject | undefined, after: KubeObject, options: WriteOptions, subresource?: WriteOptions['subresource']): void {
		const given = after.metadata.managedFields;
		const base = Array.isArray(given) && given.length > 0 ? given.filter(e => e && typeof e === 'object' && Object.keys(e).length > 0) : before?.metadata.managedFields;
		if (!options.manager) {
			if (base?.length) after.metadata.managedFields = base;
			else delete after.metadata.managedFields;
			return;
		}
		const entries = recordUpdate(base, before, after, schemaOf(type), this.writer(options.manager, subresource));
		if (entries) after.metadata.managedFields = entries;
		else delete after.metadata.managedFields;
	}

	private writer(manager: {name: string; apiVersion: string}, subresource?: string): Writer {
		return {manager: manager.name, apiVersion: manager.apiVersion, subresource, time: isoTime(Date.now())};
	}

	/**
	 * Server-side apply (PATCH with application/apply-patch+yaml): the configuration merged onto
	 * the live object (or made into a new one) by field ownership (api/managed-fields.ts), in one
	 * transaction. `view` is the version the configuration is written in.
	 */
	apply(type: ResourceType, namespace: string | undefined, name: string, config: KubeObject, options: ApplyOptions): Promise<{object: KubeObject; created: boolean}> {
		if (config.metadata?.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
		const {view, subresource} = options;
		if (subresource === 'scale') throw badRequest('server-side apply to the scale subresource is not supported: apply spec.replicas to the object itself');
		const requestType = view ? {...type, version: view.version} : type;
		return this.write(options, tx => {
			const current = tx.get(type.plural, type.namespaced ? namespace ?? '' : '', name);
			if (!current && subresource) throw notFound(type, name);
			const live = current && view ? view.fromStored(current) : current;
			const {object, managedFields} = applyConfiguration(live, {...config, metadata: {...config.metadata, name}}, schemaOf(requestType), this.writer(options.manager, subresource), !!options.force);
			const applied = object as KubeObject;
			options.typeCheck?.(applied);
			const stored = view ? view.toStored(applied) : applied;
			const obj = this.prepare(type, namespace, stored);
			if (obj.metadata.name !== name) throw badRequest(`metadata.name: Invalid value: "${obj.metadata.name}": field is immutable`);
			obj.metadata.managedFields = managedFields;
			if (!managedFields) delete obj.metadata.managedFields;
			// The field manager has done its work: the write below keeps these managedFields as they are.
			const inner = {...options, manager: undefined};
			if (!current) return {object: this.createIn(tx, type, obj, inner), created: true};
			return {object: this.replaceIn(tx, type, obj, inner), created: false};
		});
	}

	private requireNamespace(tx: Transaction, namespace: string): void {
		const ns = tx.peek('namespaces', '', namespace);
		const type = typeByPlural('namespaces')!;
		if (!ns) throw notFound(type, namespace);
		if (ns.metadata.deletionTimestamp) throw forbidden(type, namespace, 'because it is being terminated');
	}

	/** generateName plus five random characters, as names.SimpleNameGenerator does. */
	private generateName(tx: Transaction, type: ResourceType, obj: KubeObject): string {
		const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
		for (;;) {
			let suffix = '';
			for (let i = 0; i < 5; i++) suffix += alphabet[crypto.randomInt(alphabet.length)];
			const name = `${obj.metadata.generateName!.slice(0, 58)}${suffix}`;
			if (!tx.peek(type.plural, type.namespaced ? obj.metadata.namespace ?? '' : '', name)) return name;
		}
	}
}

class DryRunResult extends Error {
	constructor(readonly object: unknown) {
		super('dry run');
	}
}

function allNamespacedTypes(): ResourceType[] {
	return ['pods', 'services', 'endpoints', 'configmaps', 'secrets', 'serviceaccounts', 'persistentvolumeclaims', 'events',
		'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'controllerrevisions', 'jobs', 'cronjobs', 'ingresses', 'horizontalpodautoscalers']
		.map(p => typeByPlural(p)!);
}

function podNeedsGracefulDeletion(pod: KubeObject, gracePeriodSeconds: number | undefined): boolean {
	const phase = (pod.status as {phase?: string} | undefined)?.phase;
	return gracePeriodSeconds !== 0 && !!(pod.spec as {nodeName?: string}).nodeName && phase !== 'Succeeded' && phase !== 'Failed';
}

/** The status a new object starts with (phase Pending for pods, Active for namespaces...). */
/** Pod Security admission's enforce mode: a pod that breaks its namespace's level is refused (api/pod-security.ts). */
function enforcePodSecurity(tx: Transaction, pod: KubeObject): void {
	const level = namespaceLevel(tx.peek('namespaces', '', pod.metadata.namespace!), 'enforce');
	const found = level ? violations(pod.spec as Record<string, any>, level) : [];
	if (found.length === 0) return;
	throw new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 403, reason: 'Forbidden',
		message: `pods "${pod.metadata.name ?? ''}" is forbidden: violates ${describeViolations(level!, found)}`, details: {name: pod.metadata.name, kind: 'pods'}});
}

function initialStatus(obj: KubeObject): void {
	switch (obj.kind) {
		// A new pod's status is the server's alone, as the pod strategy's PrepareForCreate resets it: a podIP (or a
		// phase) a client wrote would send port-forwards, Endpoints and the Ingress wherever it named.
		case 'Pod': obj.status = {phase: 'Pending', qosClass: qosClass(obj)}; break;
		case 'Namespace': obj.status = {phase: 'Active'}; break;
		case 'PersistentVolumeClaim': obj.status = {phase: 'Pending'}; break;
		case 'PersistentVolume': obj.status = {phase: 'Pending'}; break;
		case 'Service': obj.status = {loadBalancer: {}}; break;
		case 'Deployment': case 'ReplicaSet': case 'StatefulSet': case 'DaemonSet': case 'Job': case 'CronJob': case 'HorizontalPodAutoscaler':
			obj.status = {}; break;
	}
}

/** Guaranteed when every container has equal cpu and memory requests and limits, BestEffort when none has any. */
function qosClass(pod: KubeObject): string {
	const containers = ((pod.spec as {containers?: {resources?: {requests?: Record<string, string>; limits?: Record<string, string>}}[]})?.containers) ?? [];
	const any = containers.some(c => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
	if (!any) return 'BestEffort';
	const guaranteed = containers.every(c => ['cpu', 'memory'].every(r => c.resources?.limits?.[r] && (c.resources?.requests?.[r] ?? c.resources.limits[r]) === c.resources.limits[r]));
	return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** The autoscaling/v1 Scale view of a workload. */
export function toScale(type: ResourceType, obj: KubeObject): KubeObject {
	if (!type.subresources?.includes('scale')) throw notFound(type, obj.metadata.name!);
	const spec = obj.spec as {replicas?: number; selector?: Parameters<typeof fromLabelSelector>[0]};
	const status = (obj.status ?? {}) as {replicas?: number};
	return {
		apiVersion: 'autoscaling/v1', kind: 'Scale',
		metadata: {name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp},
		spec: {replicas: spec.replicas ?? 0},
		status: {replicas: status.replicas ?? 0, selector: formatLabelSelector(fromLabelSelector(spec.selector))},
	};
}

export function matcher(query: ListQuery): ((obj: KubeObject) => boolean) | undefined {
	const {labelSelector, fieldSelector} = query;
	if (!labelSelector?.length && !fieldSelector?.length) return undefined;
	return obj => (!labelSelector || matchesLabels(labelSelector, obj.metadata.labels)) && (!fieldSelector || matchesFields(fieldSelector, obj));
}

export {StatusError};

export const defaultClassAnnotation = 'storageclass.kubernetes.io/is-default-class';

/**
 * kube-apiserver's storage admission: DefaultStorageClass (a new claim
 * without storageClassName gets the default class; "" means none),
 * StorageObjectInUseProtection (the pvc- and pv-protection finalizers), and
 * the resize rule (a claim grows only when bound through a class that
 * allows expansion).
 */
function admitStorage(tx: Transaction, obj: KubeObject, old: KubeObject | undefined): FieldError[] {
	const spec = (obj.spec ?? {}) as Record<string, any>;
	const finalizer = obj.kind === 'PersistentVolumeClaim' ? 'kubernetes.io/pvc-protection' : 'kubernetes.io/pv-protection';
	if (!old) {
		if (!obj.metadata.finalizers?.includes(finalizer)) obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), finalizer];
		if (obj.kind === 'PersistentVolumeClaim' && spec.storageClassName === undefined) {
			const fallback = tx.list('storageclasses').find(c => c.metadata.annotations?.[defaultClassAnnotation] === 'true');
			if (fallback) spec.storageClassName = fallback.metadata.name;
		}
		return [];
	}
	if (obj.kind !== 'PersistentVolumeClaim') return [];
	const size = (o: KubeObject) => parseQuantity(String((o.spec as Record<string, any>)?.resources?.requests?.storage ?? '0')) ?? 0;
	if (size(obj) <= size(old)) return [];
	const cls = spec.storageClassName ? tx.get('storageclasses', '', spec.storageClassName) : undefined;
	if (!spec.volumeName || (old.status as Record<string, any> | undefined)?.phase !== 'Bound' || cls?.allowVolumeExpansion !== true) {
		return [field.forbidden('spec.resources.requests.storage', 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize')];
	}
	return [];
}
