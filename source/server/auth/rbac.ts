// Role-based access control as kube-apiserver evaluates it
// (plugin/pkg/auth/authorizer/rbac): a request is allowed when a rule of a
// role bound to the user (by name, by one of their groups, or as a
// ServiceAccount) covers its verb, API group, resource (with subresource) and
// name, or its non-resource path. ClusterRoleBindings apply everywhere;
// RoleBindings in their namespace only. Members of system:masters are allowed
// everything before RBAC is asked, as kube-apiserver's privileged-groups
// authorizer does.
//
// Decisions are many (every request) and bindings change rarely, so the
// rules that apply to one user in one namespace are gathered once and cached
// until any Role, ClusterRole or binding changes (a store watch clears it).
import type {KubeObject} from '../../api/object.js';
import type {Store} from '../../store/store.js';
import {type Attributes, groups as builtinGroups, type UserInfo} from './attributes.js';

export interface PolicyRule {
	verbs: string[];
	apiGroups?: string[];
	resources?: string[];
	resourceNames?: string[];
	nonResourceURLs?: string[];
}

interface Subject {
	kind: 'User' | 'Group' | 'ServiceAccount';
	name: string;
	namespace?: string;
}

export const rbacPlurals = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'];

const has = (list: string[] | undefined, value: string) => !!list && (list.includes('*') || list.includes(value));

export function verbMatches(rule: PolicyRule, verb: string): boolean {
	return has(rule.verbs, verb);
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
	const combined = subresource ? `${resource}/${subresource}` : resource;
	return (rule.resources ?? []).some(r => r === '*' || r === combined || (!!subresource && r === `*/${subresource}`));
}

function nameMatches(rule: PolicyRule, name: string | undefined): boolean {
	if (!rule.resourceNames?.length) return true;
	return !!name && rule.resourceNames.includes(name);
}

function urlMatches(rule: PolicyRule, path: string): boolean {
	return (rule.nonResourceURLs ?? []).some(u => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
}

/** Whether one rule allows the request (rbac.RuleAllows). */
export function ruleAllows(a: Omit<Attributes, 'user'>, rule: PolicyRule): boolean {
	if (a.resourceRequest) {
		return verbMatches(rule, a.verb) && has(rule.apiGroups, a.apiGroup ?? '') && resourceMatches(rule, a.resource ?? '', a.subresource) && nameMatches(rule, a.name);
	}
	return verbMatches(rule, a.verb) && urlMatches(rule, a.path ?? '');
}

function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string): boolean {
	switch (s.kind) {
		case 'User': return s.name === user.name;
		case 'Group': return user.groups.includes(s.name);
		case 'ServiceAccount': return user.name === `system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
		default: return false;
	}
}

/** The keys under which bindings are indexed, and a user's keys. */
function subjectKey(s: Subject, bindingNamespace: string): string {
	if (s.kind === 'ServiceAccount') return `u:system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
	return `${s.kind === 'Group' ? 'g' : 'u'}:${s.name}`;
}

function userKeys(user: UserInfo): string[] {
	return [`u:${user.name}`, ...user.groups.map(g => `g:${g}`)];
}

export interface RulesFor {
	/** Rules from ClusterRoleBindings (every namespace, and non-resource paths). */
	cluster: PolicyRule[];
	/** Rules from RoleBindings in the namespace asked about. */
	namespaced: PolicyRule[];
}

export class Authorizer {
	private cache = new Map<string, RulesFor>();
	private index?: {cluster: Map<string, KubeObject[]>; namespaced: Map<string, Map<string, KubeObject[]>>};
	private readonly unwatch: (() => void)[] = [];

	constructor(private readonly store: Store) {
		const from = Number(store.resourceVersion);
		for (const plural of rbacPlurals) this.unwatch.push(store.watch(plural, undefined, from, () => this.invalidate()));
	}

	stop(): void {
		for (const u of this.unwatch.splice(0)) u();
	}

	private invalidate(): void {
		this.cache.clear();
		this.index = undefined;
	}

	/** Bindings by subject: cluster-wide, and per namespace. */
	private bindings() {
		if (this.index) return this.index;
		const cluster = new Map<string, KubeObject[]>();
		const namespaced = new Map<string, Map<string, KubeObject[]>>();
		const add = (map: Map<string, KubeObject[]>, key: string, b: KubeObject) => {
			const list = map.get(key);
			if (list) {
				if (!list.includes(b)) list.push(b);
			} else map.set(key, [b]);
		};
		for (const b of this.store.scan('clusterrolebindings')) {
			for (const s of (b.subjects ?? []) as Subject[]) add(cluster, subjectKey(s, ''), b);
		}
		for (const b of this.store.scan('rolebindings')) {
			const ns = b.metadata.namespace!;
			let map = namespaced.get(ns);
			if (!map) namespaced.set(ns, (map = new Map()));
			for (const s of (b.subjects ?? []) as Subject[]) add(map, subjectKey(s, ns), b);
		}
		return (this.index = {cluster, namespaced});
	}

	private roleRules(ref: {kind?: string; name?: string} | undefined, namespace: string): PolicyRule[] {
		if (!ref?.name) return [];
		const role = ref.kind === 'Role' ? this.store.peek('roles', namespace, ref.name) : ref.kind === 'ClusterRole' ? this.store.peek('clusterroles', '', ref.name) : undefined;
		return ((role?.rules ?? []) as PolicyRule[]);
	}

	/** The rules that apply to a user in a namespace ('' for cluster-scoped requests). */
	rulesFor(user: UserInfo, namespace = ''): RulesFor {
		const key = JSON.stringify([user.name, user.groups, namespace]);
		const cached = this.cache.get(key);
		if (cached) return cached;
		const {cluster, namespaced} = this.bindings();
		const matching = (map: Map<string, KubeObject[]> | undefined, ns: string) => {
			const found = new Set<KubeObject>();
			for (const k of userKeys(user)) for (const b of map?.get(k) ?? []) found.add(b);
			// The index is by subject key; the subject check is the evaluator's own, kept so that the two cannot disagree.
			return [...found].filter(b => ((b.subjects ?? []) as Subject[]).some(s => subjectMatches(s, user, ns)));
		};
		const rules: RulesFor = {
			cluster: matching(cluster, '').flatMap(b => this.roleRules(b.roleRef as {kind: string; name: string}, '')),
			namespaced: namespace ? matching(namespaced.get(namespace), namespace).flatMap(b => this.roleRules(b.roleRef as {kind: string; name: string}, namespace)) : [],
		};
		if (this.cache.size > 10_000) this.cache.clear();
		this.cache.set(key, rules);
		return rules;
	}

	/** Allowed or not; the reason kube-apiserver gives (RBAC gives none for a plain denial). */
	authorize(a: Attributes): boolean {
		if (a.user.groups.includes(builtinGroups.masters)) return true;
		const {cluster, namespaced} = this.rulesFor(a.user, a.resourceRequest ? a.namespace : '');
		for (const rule of cluster) if (ruleAllows(a, rule)) return true;
		if (a.resourceRequest) for (const rule of namespaced) if (ruleAllows(a, rule)) return true;
		return false;
	}

	/**
	 * The rules a user holds in a namespace, for escalation checks and
	 * SelfSubjectRulesReview. Members of system:masters hold everything.
	 */
	heldRules(user: UserInfo, namespace = ''): PolicyRule[] {
		if (user.groups.includes(builtinGroups.masters)) return [{verbs: ['*'], apiGroups: ['*'], resources: ['*']}, {verbs: ['*'], nonResourceURLs: ['*']}];
		const {cluster, namespaced} = this.rulesFor(user, namespace);
		return [...cluster, ...namespaced];
	}

	/** The namespaces whose RoleBindings grant the user something (the engine-only "your namespaces" answer). */
	namespacesOf(user: UserInfo): string[] {
		const {namespaced} = this.bindings();
		const keys = userKeys(user);
		return [...namespaced].filter(([ns, map]) => keys.some(k => (map.get(k) ?? []).some(b => ((b.subjects ?? []) as Subject[]).some(s => subjectMatches(s, user, ns))))).map(([ns]) => ns).sort();
	}

	roleExists(ref: {kind?: string; name?: string} | undefined, namespace: string): boolean {
		if (!ref?.name) return false;
		return ref.kind === 'Role' ? !!this.store.peek('roles', namespace, ref.name) : ref.kind === 'ClusterRole' && !!this.store.peek('clusterroles', '', ref.name);
	}

	/** The rules a binding's roleRef names, read as the evaluator reads them. */
	rulesOfRef(ref: {kind?: string; name?: string} | undefined, namespace: string): PolicyRule[] {
		return this.roleRules(ref, namespace);
	}
}

/** Whether the held rules cover one atom of a rule being granted (rbac validation's Covers, per verb, group, resource and name). */
function covered(held: PolicyRule[], atom: PolicyRule): boolean {
	return held.some(h => {
		if (!atom.verbs.every(v => has(h.verbs, v))) return false;
		if (atom.nonResourceURLs?.length) {
			return atom.nonResourceURLs.every(u => (h.nonResourceURLs ?? []).some(hu => hu === '*' || hu === u || (hu.endsWith('*') && u.startsWith(hu.slice(0, -1)))));
		}
		if (!(atom.apiGroups ?? []).every(g => has(h.apiGroups, g))) return false;
		if (!(atom.resources ?? []).every(r => (h.resources ?? []).some(hr => hr === '*' || hr === r || (r.includes('/') && hr === `${r.split('/')[0]}/*`)))) return false;
		if (!h.resourceNames?.length) return true;
		return !!atom.resourceNames?.length && atom.resourceNames.every(n => h.resourceNames!.includes(n));
	});
}

/** A rule broken into one verb, group, resource and name each, as the escalation check compares them. */
function atoms(rule: PolicyRule): PolicyRule[] {
	const out: PolicyRule[] = [];
	for (const verb of rule.verbs ?? []) {
		if (rule.nonResourceURLs?.length) {
			for (const url of rule.nonResourceURLs) out.push({verbs: [verb], nonResourceURLs: [url]});
			continue;
		}
		for (const group of rule.apiGroups ?? []) {
			for (const resource of rule.resources ?? []) {
				if (rule.resourceNames?.length) for (const name of rule.resourceNames) out.push({verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name]});
				else out.push({verbs: [verb], apiGroups: [group], resources: [resource]});
			}
		}
	}
	return out;
}

/** The rules of `wanted` the holder does not hold, in the form kube-apiserver lists them; empty when none. */
export function missingRules(held: PolicyRule[], wanted: PolicyRule[]): string[] {
	const missing: string[] = [];
	for (const rule of wanted) {
		for (const atom of atoms(rule)) if (!covered(held, atom)) missing.push(describeRule(atom));
	}
	return [...new Set(missing)];
}

/** A rule as rbac's CompactString prints it: {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}. */
export function describeRule(r: PolicyRule): string {
	const parts: string[] = [];
	const list = (l: string[]) => `[${l.map(x => JSON.stringify(x)).join(' ')}]`;
	if (r.apiGroups?.length) parts.push(`APIGroups:${list(r.apiGroups)}`);
	if (r.resources?.length) parts.push(`Resources:${list(r.resources)}`);
	if (r.resourceNames?.length) parts.push(`ResourceNames:${list(r.resourceNames)}`);
	if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${list(r.nonResourceURLs)}`);
	parts.push(`Verbs:${list(r.verbs)}`);
	return `{${parts.join(', ')}}`;
}
