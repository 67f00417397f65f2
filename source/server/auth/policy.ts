// The default roles every cluster has (kube-apiserver's bootstrap policy,
// plugin/pkg/auth/authorizer/rbac/bootstrappolicy), for the resources kubedeck
// serves: cluster-admin; admin, edit and view, aggregated from the
// system:aggregate-to-* roles (so that a role labelled
// rbac.authorization.k8s.io/aggregate-to-view=true adds to view, as in
// Kubernetes); and the system: roles every authenticated user holds
// (discovery, basic-user, public-info-viewer). The engine writes them at start
// when missing (kube-apiserver reconciles them the same way: it adds, and
// leaves alone a role an admin changed unless the annotation
// rbac.authorization.kubernetes.io/autoupdate is "true").
import type {KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import type {Store} from '../../store/store.js';
import type {Registry} from '../registry.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import type {PolicyRule} from './rbac.js';

const rbacVersion = 'rbac.authorization.k8s.io/v1';
const bootstrapLabels = {'kubernetes.io/bootstrapping': 'rbac-defaults'};
const autoupdate = {'rbac.authorization.kubernetes.io/autoupdate': 'true'};

const read = ['get', 'list', 'watch'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];

const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({verbs, apiGroups, resources});

function clusterRole(name: string, rules: PolicyRule[], extra: {labels?: Record<string, string>; aggregateFrom?: string} = {}): KubeObject {
	return {
		apiVersion: rbacVersion, kind: 'ClusterRole',
		metadata: {name, labels: {...bootstrapLabels, ...extra.labels}, annotations: autoupdate},
		...(extra.aggregateFrom ? {aggregationRule: {clusterRoleSelectors: [{matchLabels: {[extra.aggregateFrom]: 'true'}}]}} : {}),
		rules,
	} as KubeObject;
}

const aggregateTo = (role: string) => `rbac.authorization.k8s.io/aggregate-to-${role}`;

const viewRules: PolicyRule[] = [
	rule(read, [''], ['pods', 'pods/log', 'pods/status', 'services', 'services/status', 'endpoints', 'configmaps', 'persistentvolumeclaims',
		'persistentvolumeclaims/status', 'replicationcontrollers', 'replicationcontrollers/scale', 'replicationcontrollers/status', 'serviceaccounts',
		'events', 'limitranges', 'resourcequotas', 'resourcequotas/status', 'bindings']),
	rule(read, [''], ['namespaces', 'namespaces/status']),
	rule(read, ['discovery.k8s.io'], ['endpointslices']),
	rule(read, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status',
		'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
	rule(read, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
	rule(read, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
	rule(read, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
	rule(read, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
	rule(read, ['events.k8s.io'], ['events']),
	rule(read, ['metrics.k8s.io'], ['pods', 'nodes']),
];

const editRules: PolicyRule[] = [
	rule(['impersonate'], [''], ['serviceaccounts']),
	rule(write, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
	rule(['create'], [''], ['pods/eviction']),
	rule(write, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
	rule(['create'], [''], ['serviceaccounts/token']),
	rule(read, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
	rule(write, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
	rule(write, ['autoscaling'], ['horizontalpodautoscalers']),
	rule(write, ['batch'], ['cronjobs', 'jobs']),
	rule(write, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
	rule(write, ['policy'], ['poddisruptionbudgets']),
	rule(write, ['discovery.k8s.io'], ['endpointslices']),
];

const adminRules: PolicyRule[] = [
	rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
	rule([...write, ...read], ['rbac.authorization.k8s.io'], ['rolebindings', 'roles']),
];

/** The default ClusterRoles, with aggregated rules already filled in. */
export function defaultClusterRoles(): KubeObject[] {
	const roles = [
		clusterRole('cluster-admin', [{verbs: ['*'], apiGroups: ['*'], resources: ['*']}, {verbs: ['*'], nonResourceURLs: ['*']}]),
		clusterRole('admin', [], {aggregateFrom: aggregateTo('admin')}),
		clusterRole('edit', [], {aggregateFrom: aggregateTo('edit'), labels: {[aggregateTo('admin')]: 'true'}}),
		clusterRole('view', [], {aggregateFrom: aggregateTo('view'), labels: {[aggregateTo('edit')]: 'true'}}),
		clusterRole('system:aggregate-to-admin', adminRules, {labels: {[aggregateTo('admin')]: 'true'}}),
		clusterRole('system:aggregate-to-edit', editRules, {labels: {[aggregateTo('edit')]: 'true'}}),
		clusterRole('system:aggregate-to-view', viewRules, {labels: {[aggregateTo('view')]: 'true'}}),
		clusterRole('system:discovery', [{verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/']}]),
		clusterRole('system:basic-user', [
			rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
			rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
		]),
		// kubedeck's: each user may ask which namespaces they are bound in (the dashboard's namespaces for a user who may not list them).
		clusterRole('kubedeck:own-namespaces', [{verbs: ['get'], nonResourceURLs: ['/kubedeck/v1/namespaces']}]),
		clusterRole('system:public-info-viewer', [{verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/']}]),
	];
	// view, then edit (which takes view's), then admin (which takes edit's): as the aggregation controller settles.
	for (const name of ['view', 'edit', 'admin']) {
		const role = roles.find(r => r.metadata.name === name)!;
		role.rules = aggregatedRules(role, roles);
	}
	return roles;
}

function binding(name: string, role: string, subjects: {kind: string; name: string}[]): KubeObject {
	return {
		apiVersion: rbacVersion, kind: 'ClusterRoleBinding', metadata: {name, labels: bootstrapLabels, annotations: autoupdate},
		roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role},
		subjects: subjects.map(s => ({apiGroup: 'rbac.authorization.k8s.io', ...s})),
	} as KubeObject;
}

export function defaultClusterRoleBindings(): KubeObject[] {
	return [
		binding('cluster-admin', 'cluster-admin', [{kind: 'Group', name: 'system:masters'}]),
		binding('system:discovery', 'system:discovery', [{kind: 'Group', name: 'system:authenticated'}]),
		binding('system:basic-user', 'system:basic-user', [{kind: 'Group', name: 'system:authenticated'}]),
		binding('kubedeck:own-namespaces', 'kubedeck:own-namespaces', [{kind: 'Group', name: 'system:authenticated'}]),
		binding('system:public-info-viewer', 'system:public-info-viewer', [{kind: 'Group', name: 'system:authenticated'}, {kind: 'Group', name: 'system:unauthenticated'}]),
	];
}

/**
 * The rules of an aggregated ClusterRole: those of every other ClusterRole its
 * selectors match, in name order, without repeats (the clusterrole
 * aggregation controller's union; aggregation is transitive through the
 * aggregated roles' own stored rules, as there).
 */
export function aggregatedRules(role: KubeObject, all: KubeObject[]): PolicyRule[] {
	const selectors = ((role.aggregationRule as {clusterRoleSelectors?: Parameters<typeof fromLabelSelector>[0][]} | undefined)?.clusterRoleSelectors ?? []);
	const rules: PolicyRule[] = [];
	const seen = new Set<string>();
	const sources = all.filter(r => r.metadata.name !== role.metadata.name).sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
	for (const selector of selectors) {
		for (const source of sources) {
			if (!matchesLabels(fromLabelSelector(selector), source.metadata.labels)) continue;
			// The source's stored rules: an aggregated source's were filled by this controller already (never recursion,
			// which roles that select each other would make endless).
			for (const r of (source.rules ?? []) as PolicyRule[]) {
				const key = JSON.stringify(r);
				if (!seen.has(key)) {
					seen.add(key);
					rules.push(r);
				}
			}
		}
	}
	return rules;
}

/**
 * The clusterrole aggregation controller: when a ClusterRole changes, every
 * aggregated role's rules are computed again and written when they differ.
 */
export class AggregationController {
	private readonly unwatch: () => void;
	private scheduled = false;
	private stopped = false;

	constructor(private readonly store: Store, private readonly registry: Registry) {
		this.unwatch = store.watch('clusterroles', undefined, Number(store.resourceVersion), () => this.schedule());
		this.schedule();
	}

	stop(): void {
		this.stopped = true;
		this.unwatch();
	}

	private schedule(): void {
		if (this.scheduled || this.stopped) return;
		this.scheduled = true;
		setImmediate(() => {
			this.scheduled = false;
			void this.sync().catch(() => this.stopped || setTimeout(() => this.schedule(), 1000).unref());
		});
	}

	private async sync(): Promise<void> {
		if (this.stopped) return;
		const all = this.store.list('clusterroles').items;
		const type = typeByPlural('clusterroles')!;
		for (const role of all) {
			if (!role.aggregationRule) continue;
			const rules = aggregatedRules(role, all);
			if (JSON.stringify(rules) === JSON.stringify(role.rules ?? [])) continue;
			await this.registry.update(type, undefined, role.metadata.name!, {...role, rules} as KubeObject);
		}
	}
}
