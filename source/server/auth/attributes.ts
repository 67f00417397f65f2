// Who is asking, and what a request asks to do, in kube-apiserver's terms
// (k8s.io/apiserver pkg/authentication/user and pkg/endpoints/request's
// RequestInfoFactory): the verb from the method and the path (list, watch,
// get, create, update, patch, delete, deletecollection), the API group,
// resource, subresource, namespace and name, or a non-resource path.
import {StatusError} from '../../api/errors.js';

export interface UserInfo {
	name: string;
	uid?: string;
	groups: string[];
	extra?: Record<string, string[]>;
}

export const groups = {
	masters: 'system:masters',
	authenticated: 'system:authenticated',
	unauthenticated: 'system:unauthenticated',
	serviceAccounts: 'system:serviceaccounts',
};

/** The local admin: the unix socket's caller, and the engine's own token. */
export const localAdmin: UserInfo = {name: 'system:admin', groups: [groups.masters, groups.authenticated]};

export const anonymous: UserInfo = {name: 'system:anonymous', groups: [groups.unauthenticated]};

/** Adds system:authenticated, as the authenticator union does for every user it names. */
export function authenticatedUser(name: string, userGroups: string[], extra?: Partial<UserInfo>): UserInfo {
	return {...extra, name, groups: [...new Set([...userGroups, groups.authenticated])]};
}

export interface Attributes {
	user: UserInfo;
	verb: string;
	resourceRequest: boolean;
	/** Non-resource requests: the path. */
	path?: string;
	apiGroup?: string;
	resource?: string;
	subresource?: string;
	namespace?: string;
	name?: string;
	/** Annotations admission adds to the request's audit event (Pod Security's audit mode). */
	auditAnnotations?: Record<string, string>;
}

/** Subresources of a namespace that are not resources of their own (/api/v1/namespaces/NS/status). */
const namespaceSubresources = new Set(['status', 'finalize']);

/** The attributes of a request, as RequestInfoFactory.NewRequestInfo reads them. */
export function requestAttributes(user: UserInfo, method: string, pathname: string, query: URLSearchParams): Attributes {
	const parts = pathname.split('/').filter(Boolean).map(p => {
		try {
			return decodeURIComponent(p);
		} catch {
			return p;
		}
	});
	const lower = method.toLowerCase();
	let rest: string[];
	let apiGroup = '';
	if (parts[0] === 'api' && parts.length >= 3) rest = parts.slice(2);
	else if (parts[0] === 'apis' && parts.length >= 4) {
		apiGroup = parts[1];
		rest = parts.slice(3);
	} else return {user, verb: lower, resourceRequest: false, path: pathname || '/'};
	let namespace: string | undefined;
	if (rest[0] === 'namespaces' && rest.length > 1) {
		namespace = rest[1];
		if (rest.length > 2 && !namespaceSubresources.has(rest[2])) rest = rest.slice(2);
	}
	const [resource, name, subresource] = rest;
	let verb: string;
	switch (method) {
		case 'GET': case 'HEAD': {
			const watch = ['1', 'true'].includes((query.get('watch') ?? '').toLowerCase());
			verb = name === undefined ? (watch ? 'watch' : 'list') : watch ? 'watch' : 'get';
			break;
		}
		case 'POST': verb = 'create'; break;
		case 'PUT': verb = 'update'; break;
		case 'PATCH': verb = 'patch'; break;
		case 'DELETE': verb = name === undefined ? 'deletecollection' : 'delete'; break;
		default: verb = lower;
	}
	// A list or watch of one object by name (kubectl get NAME -w) names it, as RequestInfoFactory reads metadata.name from the field selector.
	let named = name;
	if (named === undefined && (verb === 'list' || verb === 'watch')) {
		const m = /^metadata\.name==?([^,]+)$/.exec(query.get('fieldSelector') ?? '');
		if (m) named = m[1];
	}
	return {user, verb, resourceRequest: true, apiGroup, resource, subresource, namespace, name: named};
}

/** "pods", "deployments.apps": the resource as a Status names it. */
function qualified(a: Attributes): string {
	return a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource ?? '';
}

/** kube-apiserver's 403, in its words (endpoints/handlers/responsewriters forbiddenMessage). */
export function forbiddenError(a: Attributes, reason = ''): StatusError {
	const user = a.user.name;
	let message: string;
	let details: Record<string, unknown>;
	if (!a.resourceRequest) {
		message = `forbidden: User ${JSON.stringify(user)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
		details = {};
	} else {
		const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
		const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
		const what = `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup ?? '')} ${where}`;
		message = `${qualified(a)}${a.name ? ` ${JSON.stringify(a.name)}` : ''} is forbidden: ${what}`;
		details = {...(a.name ? {name: a.name} : {}), ...(a.apiGroup ? {group: a.apiGroup} : {}), kind: a.resource};
	}
	if (reason) message += `: ${reason}`;
	return new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details, code: 403});
}
