// What the dashboard's user may do, so that it offers only those keys: the
// rules a SelfSubjectRulesReview returns for a namespace (kubectl auth can-i
// --list asks the same), matched as RBAC matches them. The engine (or the real
// cluster) decides anyway; this only hides a key that would be refused, and
// names the missing permission in kubectl's words when it is pressed.
//
// A cluster that does not answer the review (or answers it incompletely, as a
// webhook authorizer may) hides nothing: a refusal then comes from the request.
import type {KubeObject} from '../api/object.js';
import type {ResourceType} from '../api/resources.js';
import {resolveType} from '../api/resources.js';
import type {ClusterClient} from '../client/types.js';

export interface Rule {
	verbs: string[];
	apiGroups?: string[];
	resources?: string[];
	resourceNames?: string[];
}

/** One permission a key needs: a verb on a resource ("deployments/scale" names a subresource). */
export interface Need {
	verb: string;
	group: string;
	resource: string;
}

const matches = (values: string[] | undefined, value: string) => !!values && (values.includes('*') || values.includes(value));

/** Whether the rules grant the need (for the named object, when rules name objects). */
export function grants(rules: readonly Rule[], need: Need, name?: string): boolean {
	const subresource = need.resource.split('/')[1];
	// As RBAC matches: "*" is every resource and subresource, "*/scale" every resource's scale.
	const resourceMatches = (rule: Rule) => matches(rule.resources, need.resource) || (subresource !== undefined && !!rule.resources?.includes(`*/${subresource}`));
	return rules.some(rule => matches(rule.verbs, need.verb) && matches(rule.apiGroups, need.group) && resourceMatches(rule)
		&& (!rule.resourceNames?.length || (name !== undefined && rule.resourceNames.includes(name))));
}

const on = (type: ResourceType, verb: string, subresource?: string): Need => ({verb, group: type.group, resource: subresource ? `${type.plural}/${subresource}` : type.plural});
const pods = resolveType('pods')!;
const jobs = resolveType('jobs')!;

/**
 * The permissions a key's command needs on a row of this kind; none for keys that only move
 * around or read what the list already shows. Kept beside the keymap's ids (keymap.ts).
 */
export function needsOf(command: string, type: ResourceType): Need[] {
	switch (command) {
		case 'view.describe':
		case 'view.yaml': return [on(type, 'get')];
		case 'view.logs':
		case 'view.previousLogs': return [on(pods, 'get', 'log')];
		case 'object.edit':
		case 'object.editExternal': return [on(type, 'update')];
		case 'object.new':
		case 'object.duplicate':
		case 'object.restore': return [on(type, 'create')];
		case 'object.scale': return type.kind === 'Pod' ? [on(pods, 'create', 'exec')] : [on(type, 'patch', 'scale')];
		case 'object.scaleUp':
		case 'object.scaleDown': return [on(type, 'patch', 'scale')];
		case 'object.restart':
		case 'object.undoRollout':
		case 'cronjob.suspend': return [on(type, 'patch')];
		case 'cronjob.trigger': return [on(jobs, 'create')];
		case 'object.delete':
		case 'object.kill': return [on(type, 'delete')];
		case 'object.portForward': return [on(pods, 'create', 'portforward')];
		default: return [];
	}
}

/** kube-apiserver's words for a refusal, as the status line shows it. */
export function refusalText(need: Need, namespace: string | undefined, type: ResourceType): string {
	const group = need.group === '' ? '""' : `"${need.group}"`;
	const where = type.namespaced && namespace ? ` in the namespace "${namespace}"` : '';
	return `forbidden: you cannot ${need.verb} resource "${need.resource}" in API group ${group}${where} (RBAC)`;
}

/** The rules per namespace, asked once each and kept while the dashboard runs. */
export class Permissions {
	private readonly rules = new Map<string, readonly Rule[] | 'everything'>();
	private readonly asking = new Set<string>();
	private readonly listeners = new Set<() => void>();
	private version = 0;

	constructor(private readonly client: ClusterClient) {}

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	getVersion = (): number => this.version;

	/**
	 * Whether the need is granted in the namespace: yes while the answer is on its way (the
	 * key shows, and the request would be refused by the server) and when the cluster cannot say.
	 */
	may(need: Need, namespace: string, name?: string): boolean {
		const rules = this.rulesIn(namespace);
		return rules === 'everything' || grants(rules, need, name);
	}

	/** Whether the user may change anything at all in the namespace (the header's "read-only"). */
	changesNothing(namespace: string): boolean {
		const rules = this.rulesIn(namespace);
		// The reviews are creates every user may make: they change nothing.
		return rules !== 'everything' && !rules.some(r => r.verbs.some(v => ['*', 'create', 'update', 'patch', 'delete'].includes(v)) && !(r.resources ?? []).every(res => /reviews$/.test(res)));
	}

	/** Whether the object's row may take the command (the first refused need, if any). */
	refused(command: string, type: ResourceType, namespace: string, object?: KubeObject): Need | undefined {
		return needsOf(command, type).find(need => !this.may(need, namespace, object?.metadata.name));
	}

	private rulesIn(namespace: string): readonly Rule[] | 'everything' {
		const known = this.rules.get(namespace);
		if (known) return known;
		this.ask(namespace);
		return 'everything';
	}

	private ask(namespace: string): void {
		if (this.asking.has(namespace)) return;
		this.asking.add(namespace);
		const review = {apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: {}, spec: {namespace}} as KubeObject;
		this.client.create(review).then(
			answer => {
				const status = (answer.status ?? {}) as {resourceRules?: Rule[]; incomplete?: boolean};
				this.settle(namespace, status.incomplete ? 'everything' : status.resourceRules ?? []);
			},
			() => this.settle(namespace, 'everything'),
		);
	}

	private settle(namespace: string, rules: readonly Rule[] | 'everything'): void {
		this.rules.set(namespace, rules);
		this.version++;
		for (const listener of this.listeners) listener();
	}
}
