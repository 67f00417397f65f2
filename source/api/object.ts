// The one shape every stored object has. Kind-specific fields stay loosely
// typed here; code that works on a kind narrows with the kubernetes-types
// definitions (e.g. `import type {Pod} from 'kubernetes-types/core/v1.js'`).
import type {ObjectMeta as K8sObjectMeta, OwnerReference} from 'kubernetes-types/meta/v1.js';

export type {OwnerReference};

/** kubernetes-types marks server-set fields readonly; the server side sets them. */
export type ObjectMeta = {-readonly [K in keyof K8sObjectMeta]: K8sObjectMeta[K]};

export interface KubeObject {
	apiVersion: string;
	kind: string;
	metadata: ObjectMeta;
	[field: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
	apiVersion: string;
	kind: string;
	metadata: {resourceVersion?: string; continue?: string};
	items: T[];
}

export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** A deep copy, so nothing read from the store or the wire is shared. */
/** The object without metadata.managedFields, as kubectl shows YAML and JSON unless --show-managed-fields. */
export function withoutManagedFields(obj: KubeObject): KubeObject {
	if (!obj?.metadata?.managedFields) return obj;
	const {managedFields: _, ...metadata} = obj.metadata;
	return {...obj, metadata};
}

export function clone<T>(value: T): T {
	return structuredClone(value);
}

export function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys sorted at every level: kubectl's output order, and a stable form to hash. */
export function sortKeys(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(sortKeys);
	if (isObject(value)) return Object.fromEntries(Object.keys(value).sort().map(k => [k, sortKeys(value[k])]));
	return value;
}

export function deepEqual(a: unknown, b: unknown): boolean {
	if (a === b) return true;
	if (Array.isArray(a)) {
		return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
	}
	if (isObject(a) && isObject(b)) {
		const ka = Object.keys(a).filter(k => a[k] !== undefined);
		const kb = Object.keys(b).filter(k => b[k] !== undefined);
		return ka.length === kb.length && ka.every(k => deepEqual(a[k], b[k]));
	}
	return false;
}
