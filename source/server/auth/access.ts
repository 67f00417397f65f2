// Everything the API asks before it does a request: who is asking
// (authn.ts), whether they may (rbac.ts), whether a Role or binding they
// write grants more than they hold (escalation prevention, as
// pkg/registry/rbac's escalation checks), and the audit line afterwards.
// One Access serves both listeners: the unix socket names its caller the
// local admin, the TCP listener asks the authenticator.
import type http from 'node:http';
import type {KubeObject} from '../../api/object.js';
import type {ResourceType} from '../../api/resources.js';
import type {Store} from '../../store/store.js';
import {badRequest} from '../../api/errors.js';
import {anonymous, type Attributes, forbiddenError, groups, type UserInfo} from './attributes.js';
import {AuditLog} from './audit.js';
import {Authenticator, type AuthenticatorOptions} from './authn.js';
import {Authorizer, missingRules, type PolicyRule} from './rbac.js';
import {Users} from './users.js';

const rbacGroup = 'rbac.authorization.k8s.io';
const everything: PolicyRule[] = [{verbs: ['*'], apiGroups: ['*'], resources: ['*']}, {verbs: ['*'], nonResourceURLs: ['*']}];

export class Access {
	readonly users: Users;
	readonly authorizer: Authorizer;
	readonly authenticator: Authenticator;

	constructor(store: Store, options: Omit<AuthenticatorOptions, 'users'>, readonly audit?: AuditLog) {
		this.users = new Users(store);
		this.authorizer = new Authorizer(store);
		this.authenticator = new Authenticator({...options, users: this.users});
	}

	stop(): void {
		this.users.stop();
		this.authorizer.stop();
	}

	/** Throws kube-apiserver's 403 unless RBAC allows the request. */
	authorize(attrs: Attributes): void {
		if (!this.authorizer.authorize(attrs)) throw forbiddenError(attrs);
	}

	/**
	 * The check a write of a Role, ClusterRole or binding passes for its
	 * author (run inside the write, on the object as it will be stored):
	 * a role may hold only rules the author holds, unless they may `escalate`;
	 * a binding may grant only a role whose rules the author holds, unless
	 * they may `bind` it.
	 */
	escalationCheck(user: UserInfo): (type: ResourceType, obj: KubeObject) => void {
		return (type, obj) => {
			if (type.group !== rbacGroup) return;
			const namespace = type.namespaced ? obj.metadata.namespace ?? '' : '';
			const name = obj.metadata.name ?? '';
			const can = (verb: string, resource: string, resourceName: string) =>
				this.authorizer.authorize({user, verb, resourceRequest: true, apiGroup: rbacGroup, resource, namespace: namespace || undefined, name: resourceName});
			let wanted: PolicyRule[];
			if (type.kind === 'Role' || type.kind === 'ClusterRole') {
				if (can('escalate', type.plural, name)) return;
				wanted = (obj.rules ?? []) as PolicyRule[];
				// An aggregated role can come to hold anything: only a holder of everything may write one, as kube-apiserver says.
				if (((obj.aggregationRule as {clusterRoleSelectors?: unknown[]} | undefined)?.clusterRoleSelectors ?? []).length > 0) wanted = [...wanted, ...everything];
			} else {
				const ref = (obj.roleRef ?? {}) as {kind?: string; name?: string};
				if (can('bind', ref.kind === 'Role' ? 'roles' : 'clusterroles', ref.name ?? '')) return;
				// A role that does not exist yet could hold anything once made: binding it takes `bind`.
				wanted = this.authorizer.roleExists(ref, namespace) ? this.authorizer.rulesOfRef(ref, namespace) : everything;
			}
			const missing = missingRules(this.authorizer.heldRules(user, namespace), wanted);
			if (missing.length === 0) return;
			const attrs: Attributes = {user, verb: 'create', resourceRequest: true, apiGroup: rbacGroup, resource: type.plural, namespace: namespace || undefined, name};
			const error = forbiddenError(attrs);
			// Go's %q of a []string: ["a" "b"].
			const groupList = `[${user.groups.map(g => JSON.stringify(g)).join(' ')}]`;
			error.status.message = `${type.plural}.${rbacGroup} ${JSON.stringify(name)} is forbidden: user ${JSON.stringify(user.name)} (groups=${groupList}) is attempting to grant RBAC permissions not currently held:\n${missing.join('\n')}`;
			throw error;
		};
	}

	/**
	 * Kubernetes impersonation (Impersonate-User, Impersonate-Group,
	 * Impersonate-Uid headers): the request acts as the named user when its
	 * real user may `impersonate` each of them (users, groups, uids, or the
	 * ServiceAccount a system:serviceaccount: name names). The SSH console acts
	 * for its operators this way.
	 */
	impersonate(user: UserInfo, req: Pick<http.IncomingMessage, 'headersDistinct'>): UserInfo {
		// Each Impersonate-Group header is one group, as kube-apiserver reads them: Node joins repeated
		// headers with ", ", and splitting that would make "ops,system:masters" two groups.
		const distinct = req.headersDistinct;
		const asUser = distinct['impersonate-user'];
		const asGroups = distinct['impersonate-group'];
		const asUid = distinct['impersonate-uid'];
		if (asUser === undefined && asGroups === undefined && asUid === undefined) return user;
		const name = Array.isArray(asUser) ? asUser[0] : asUser;
		if (!name) throw badRequest('requested impersonation of groups or a uid without impersonating a user');
		const groupList = (asGroups ?? []).filter(Boolean);
		const check = (resource: string, resourceName: string, namespace?: string, apiGroup = '') => {
			const attrs: Attributes = {user, verb: 'impersonate', resourceRequest: true, apiGroup, resource, name: resourceName, namespace};
			if (!this.authorizer.authorize(attrs)) throw forbiddenError(attrs);
		};
		const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
		if (sa) check('serviceaccounts', sa[2], sa[1]);
		else check('users', name);
		for (const g of groupList) check('groups', g);
		// Beyond RBAC (kube-apiserver has no such rule): only a member of system:masters may act as one. An identity
		// allowed to impersonate any group (the SSH console's) then never becomes cluster-admin by asking for it.
		if (groupList.includes(groups.masters) && !user.groups.includes(groups.masters)) {
			throw forbiddenError({user, verb: 'impersonate', resourceRequest: true, apiGroup: '', resource: 'groups', name: groups.masters});
		}
		const uid = Array.isArray(asUid) ? asUid[0] : asUid;
		if (uid) check('uids', uid, undefined, 'authentication.k8s.io');
		const implied = sa ? [groups.serviceAccounts, `${groups.serviceAccounts}:${sa[1]}`] : [];
		return {name, groups: [...new Set([...groupList, ...implied, ...(name === anonymous.name ? [] : [groups.authenticated])])], ...(uid ? {uid} : {})};
	}

	/** Starts the audit line of a request that changes something. */
	track(req: http.IncomingMessage, res: http.ServerResponse, attrs: Attributes, apiVersion?: string, impersonator?: UserInfo): void {
		this.audit?.track(req, res, attrs, apiVersion, impersonator);
	}
}
