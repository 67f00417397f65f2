// The checks that need no cluster state: defaulting, then metadata and kind
// validation (and immutability against the stored object on update). The API
// server runs them on every write; `apply` runs them on every document first,
// so one bad document stops the whole apply before anything is written.
import {applyDefaults} from './defaults.js';
import type {FieldError} from './errors.js';
import type {KubeObject} from './object.js';
import {labelErrors, labelsChanged} from './pod-security.js';
import type {ResourceType} from './resources.js';
import {validateObject, validateUpdate} from './validation/kinds.js';
import {validateObjectMeta} from './validation/meta.js';

/** Kinds whose names are DNS-1123 labels rather than subdomains. */
const labelNamedKinds = new Set(['Namespace', 'Service']);
/** Kinds whose names are path segments (anything without '/' or '%'): RBAC's, whose defaults are named system:... */
const pathNamedKinds = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/** Default `obj` in place and return what is wrong with it. */
export function admissionErrors(type: ResourceType, obj: KubeObject, old?: KubeObject): FieldError[] {
	applyDefaults(obj);
	return [
		...validateObjectMeta(obj, type.namespaced, labelNamedKinds.has(type.kind) ? 'label' : pathNamedKinds.has(type.kind) ? 'path' : 'subdomain'),
		...validateObject(obj),
		...(old ? validateUpdate(obj, old) : []),
		// Pod Security admission refuses labels that name no level, on create and when an update changes them.
		...(type.kind === 'Namespace' && (!old || labelsChanged(obj, old)) ? labelErrors(obj.metadata.labels) : []),
	];
}
