// The kinds kubedeck serves, described the way the Kubernetes discovery API
// describes them: group, version, plural resource name, short names, scope.
// Everything that needs to turn "deploy" or "Deployment" into a REST path reads
// this one table.
import type {KubeObject} from './object.js';

export interface ResourceType {
	kind: string;
	group: string; // "" for the core group
	version: string;
	plural: string;
	singular: string;
	shortNames: string[];
	namespaced: boolean;
	categories?: string[];
	verbs?: string[];
	/** Subresources served besides the object itself (status is implied). */
	subresources?: string[];
	/** Never stored: a POST is answered from the body (the access and token reviews). */
	review?: true;
}

const rbacGroup = 'rbac.authorization.k8s.io';
const reviewVerbs = ['create'];

const all = ['all'];

export const resourceTypes: ResourceType[] = [
	{kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', shortNames: ['ns'], namespaced: false},
	{kind: 'Node', group: '', version: 'v1', plural: 'nodes', singular: 'node', shortNames: ['no'], namespaced: false},
	{kind: 'Pod', group: '', version: 'v1', plural: 'pods', singular: 'pod', shortNames: ['po'], namespaced: true, categories: all, subresources: ['log', 'exec', 'attach', 'ephemeralcontainers']},
	{kind: 'Service', group: '', version: 'v1', plural: 'services', singular: 'service', shortNames: ['svc'], namespaced: true, categories: all},
	{kind: 'Endpoints', group: '', version: 'v1', plural: 'endpoints', singular: 'endpoints', shortNames: ['ep'], namespaced: true},
	{kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', shortNames: ['cm'], namespaced: true},
	{kind: 'Secret', group: '', version: 'v1', plural: 'secrets', singular: 'secret', shortNames: [], namespaced: true},
	{kind: 'ServiceAccount', group: '', version: 'v1', plural: 'serviceaccounts', singular: 'serviceaccount', shortNames: ['sa'], namespaced: true, subresources: ['token']},
	{kind: 'PersistentVolume', group: '', version: 'v1', plural: 'persistentvolumes', singular: 'persistentvolume', shortNames: ['pv'], namespaced: false},
	{kind: 'PersistentVolumeClaim', group: '', version: 'v1', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', shortNames: ['pvc'], namespaced: true},
	{kind: 'Event', group: '', version: 'v1', plural: 'events', singular: 'event', shortNames: ['ev'], namespaced: true},
	{kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments', singular: 'deployment', shortNames: ['deploy'], namespaced: true, categories: all, subresources: ['scale']},
	{kind: 'ReplicaSet', group: 'apps', version: 'v1', plural: 'replicasets', singular: 'replicaset', shortNames: ['rs'], namespaced: true, categories: all, subresources: ['scale']},
	{kind: 'StatefulSet', group: 'apps', version: 'v1', plural: 'statefulsets', singular: 'statefulset', shortNames: ['sts'], namespaced: true, categories: all, subresources: ['scale']},
	{kind: 'DaemonSet', group: 'apps', version: 'v1', plural: 'daemonsets', singular: 'daemonset', shortNames: ['ds'], namespaced: true, categories: all},
	{kind: 'ControllerRevision', group: 'apps', version: 'v1', plural: 'controllerrevisions', singular: 'controllerrevision', shortNames: [], namespaced: true},
	{kind: 'Job', group: 'batch', version: 'v1', plural: 'jobs', singular: 'job', shortNames: [], namespaced: true, categories: all},
	{kind: 'CronJob', group: 'batch', version: 'v1', plural: 'cronjobs', singular: 'cronjob', shortNames: ['cj'], namespaced: true, categories: all},
	{kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', singular: 'endpointslice', shortNames: [], namespaced: true},
	{kind: 'IngressClass', group: 'networking.k8s.io', version: 'v1', plural: 'ingressclasses', singular: 'ingressclass', shortNames: [], namespaced: false},
	{kind: 'Ingress', group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', singular: 'ingress', shortNames: ['ing'], namespaced: true},
	{kind: 'StorageClass', group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', singular: 'storageclass', shortNames: ['sc'], namespaced: false},
	{kind: 'Role', group: rbacGroup, version: 'v1', plural: 'roles', singular: 'role', shortNames: [], namespaced: true},
	{kind: 'RoleBinding', group: rbacGroup, version: 'v1', plural: 'rolebindings', singular: 'rolebinding', shortNames: [], namespaced: true},
	{kind: 'ClusterRole', group: rbacGroup, version: 'v1', plural: 'clusterroles', singular: 'clusterrole', shortNames: [], namespaced: false},
	{kind: 'ClusterRoleBinding', group: rbacGroup, version: 'v1', plural: 'clusterrolebindings', singular: 'clusterrolebinding', shortNames: [], namespaced: false},
	{kind: 'SelfSubjectAccessReview', group: 'authorization.k8s.io', version: 'v1', plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', shortNames: [], namespaced: false, verbs: reviewVerbs, review: true},
	{kind: 'SelfSubjectRulesReview', group: 'authorization.k8s.io', version: 'v1', plural: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', shortNames: [], namespaced: false, verbs: reviewVerbs, review: true},
	{kind: 'SubjectAccessReview', group: 'authorization.k8s.io', version: 'v1', plural: 'subjectaccessreviews', singular: 'subjectaccessreview', shortNames: [], namespaced: false, verbs: reviewVerbs, review: true},
	{kind: 'LocalSubjectAccessReview', group: 'authorization.k8s.io', version: 'v1', plural: 'localsubjectaccessreviews', singular: 'localsubjectaccessreview', shortNames: [], namespaced: true, verbs: reviewVerbs, review: true},
	{kind: 'SelfSubjectReview', group: 'authentication.k8s.io', version: 'v1', plural: 'selfsubjectreviews', singular: 'selfsubjectreview', shortNames: [], namespaced: false, verbs: reviewVerbs, review: true},
	{kind: 'TokenReview', group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', singular: 'tokenreview', shortNames: [], namespaced: false, verbs: reviewVerbs, review: true},
	{kind: 'HorizontalPodAutoscaler', group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', shortNames: ['hpa'], namespaced: true, categories: all},
];

export function apiVersionOf(type: ResourceType): string {
	return type.group ? `${type.group}/${type.version}` : type.version;
}

/** "deployments.apps", "pods": how kubectl names a resource in messages. */
export function qualifiedPlural(type: ResourceType): string {
	return type.group ? `${type.plural}.${type.group}` : type.plural;
}

/** "deployment.apps/web", "pod/web": how kubectl names an object in output. */
export function objectRef(type: ResourceType, name: string): string {
	const singular = type.kind.toLowerCase();
	return type.group ? `${singular}.${type.group}/${name}` : `${singular}/${name}`;
}

const byPlural = new Map(resourceTypes.map(t => [t.plural, t]));

export function typeByPlural(plural: string, group?: string): ResourceType | undefined {
	const type = byPlural.get(plural);
	if (type && (group === undefined || type.group === group)) return type;
	return undefined;
}

/**
 * Resolve what a user typed (`po`, `pods`, `Pod`, `deployments.apps`,
 * `deploy`) to a type, as kubectl's RESTMapper does.
 */
export function resolveType(name: string): ResourceType | undefined {
	const lower = name.toLowerCase();
	const [base, ...groupParts] = lower.split('.');
	const group = groupParts.length > 0 ? groupParts.join('.') : undefined;
	return resourceTypes.find(t =>
		(group === undefined || t.group === group) &&
		(t.plural === base || t.singular === base || t.kind.toLowerCase() === base || t.shortNames.includes(base)));
}

/** Find the type for an object's apiVersion and kind. */
export function typeForKind(apiVersion: string | undefined, kind: string | undefined): ResourceType | undefined {
	if (!apiVersion || !kind) return undefined;
	return resourceTypes.find(t => t.kind === kind && apiVersionOf(t) === apiVersion);
}

export function knownKind(kind: string): ResourceType | undefined {
	return resourceTypes.find(t => t.kind === kind);
}

/** The REST path of a collection or an object, as the API server serves it. */
export function resourcePath(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
	let path = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
	if (type.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
	path += `/${type.plural}`;
	if (name !== undefined) path += `/${encodeURIComponent(name)}`;
	if (subresource) path += `/${subresource}`;
	return path;
}

/** An object's kubectl reference ("deployment.apps/web"), also for kinds this build does not serve. */
export function refOf(obj: KubeObject): string {
	const type = typeForKind(obj.apiVersion, obj.kind);
	return type ? objectRef(type, obj.metadata.name ?? '') : `${obj.kind.toLowerCase()}/${obj.metadata.name}`;
}
