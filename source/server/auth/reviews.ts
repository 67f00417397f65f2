// The review APIs, answered from the request body and never stored, as
// kube-apiserver serves them: authorization.k8s.io SelfSubjectAccessReview
// (`kubectl auth can-i`), SelfSubjectRulesReview (`can-i --list`),
// SubjectAccessReview and LocalSubjectAccessReview (for someone else, which
// takes the right to create them), and authentication.k8s.io
// SelfSubjectReview (`kubectl auth whoami`) and TokenReview.
import {badRequest, field, invalid} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import type {ResourceType} from '../../api/resources.js';
import {type Attributes, type UserInfo} from './attributes.js';
import type {Authenticator} from './authn.js';
import type {Authorizer, PolicyRule} from './rbac.js';

type Rec = Record<string, any>;

interface ResourceAttributes {
	namespace?: string; verb?: string; group?: string; version?: string; resource?: string; subresource?: string; name?: string;
}

function reviewAttributes(kind: string, user: UserInfo, spec: Rec, namespace?: string): Attributes {
	const resource = spec.resourceAttributes as ResourceAttributes | undefined;
	const nonResource = spec.nonResourceAttributes as {path?: string; verb?: string} | undefined;
	if (resource && nonResource) throw invalid(kind, 'authorization.k8s.io', '', [field.invalid('spec.nonResourceAttributes', nonResource, 'cannot be specified in combination with resourceAttributes')]);
	if (!resource && !nonResource) throw invalid(kind, 'authorization.k8s.io', '', [field.invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified')]);
	if (nonResource) return {user, verb: nonResource.verb ?? '', resourceRequest: false, path: nonResource.path ?? ''};
	return {
		user, verb: resource!.verb ?? '', resourceRequest: true, apiGroup: resource!.group ?? '', resource: resource!.resource ?? '',
		subresource: resource!.subresource || undefined, namespace: namespace ?? (resource!.namespace || undefined), name: resource!.name || undefined,
	};
}

function userFromSpec(spec: Rec): UserInfo {
	if (!spec.user && !(spec.groups?.length)) throw invalid('SubjectAccessReview', 'authorization.k8s.io', '', [field.required('spec.user', 'at least one of user or group must be specified')]);
	return {name: spec.user ?? '', groups: spec.groups ?? [], uid: spec.uid, extra: spec.extra};
}

/** The rules as SelfSubjectRulesReview lists them: resource rules, then non-resource rules. */
function rulesStatus(rules: PolicyRule[]) {
	const resourceRules = rules.filter(r => !r.nonResourceURLs?.length).map(r => ({
		verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? {resourceNames: r.resourceNames} : {}),
	}));
	const nonResourceRules = rules.filter(r => r.nonResourceURLs?.length).map(r => ({verbs: r.verbs, nonResourceURLs: r.nonResourceURLs}));
	return {resourceRules, nonResourceRules, incomplete: false};
}

function userInfoStatus(user: UserInfo) {
	return {username: user.name, ...(user.uid ? {uid: user.uid} : {}), groups: user.groups, ...(user.extra && Object.keys(user.extra).length ? {extra: user.extra} : {})};
}

export function answerReview(type: ResourceType, body: KubeObject, user: UserInfo, namespace: string | undefined, authorizer: Authorizer, authenticator: Authenticator): KubeObject {
	const spec = (body.spec ?? {}) as Rec;
	const answer = (status: object) => ({...body, metadata: {...body.metadata, creationTimestamp: null}, status} as unknown as KubeObject);
	const decide = (attrs: Attributes) => {
		const allowed = authorizer.authorize(attrs);
		return answer(allowed ? {allowed: true, reason: 'RBAC: allowed'} : {allowed: false});
	};
	switch (type.kind) {
		case 'SelfSubjectAccessReview': return decide(reviewAttributes(type.kind, user, spec));
		case 'SubjectAccessReview': return decide(reviewAttributes(type.kind, userFromSpec(spec), spec));
		case 'LocalSubjectAccessReview': {
			const asked = spec.resourceAttributes?.namespace;
			if (asked !== undefined && asked !== namespace) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
			return decide(reviewAttributes(type.kind, userFromSpec(spec), spec, namespace));
		}
		case 'SelfSubjectRulesReview': return answer(rulesStatus(authorizer.heldRules(user, spec.namespace ?? '')));
		case 'SelfSubjectReview': return answer({userInfo: userInfoStatus(user)});
		case 'TokenReview': {
			const token = typeof spec.token === 'string' ? spec.token : '';
			if (!token) throw invalid('TokenReview', 'authentication.k8s.io', '', [field.required('spec.token', '')]);
			const found = authenticator.byToken(token);
			return answer(found ? {authenticated: true, user: userInfoStatus(found), audiences: spec.audiences ?? []} : {authenticated: false, user: {}});
		}
	}
	throw badRequest(`${type.kind} cannot be reviewed`);
}
