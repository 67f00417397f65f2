import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {requestAttributes} from '../../source/server/auth/attributes.js';
import {aggregatedRules, defaultClusterRoles} from '../../source/server/auth/policy.js';
import {describeRule, missingRules, type PolicyRule, ruleAllows} from '../../source/server/auth/rbac.js';

const alice = {name: 'alice', groups: ['system:authenticated']};
const attrs = (method: string, path: string, query = '') => requestAttributes(alice, method, path, new URLSearchParams(query));

describe('request attributes', () => {
	it('reads verbs, resources, subresources and namespaces as RequestInfoFactory does', () => {
		const pick = (a: ReturnType<typeof attrs>) => [a.verb, a.apiGroup, a.resource, a.subresource, a.namespace, a.name];
		assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/dev1/pods')), ['list', '', 'pods', undefined, 'dev1', undefined]);
		assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/dev1/pods', 'watch=true')), ['watch', '', 'pods', undefined, 'dev1', undefined]);
		assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/dev1/pods/web/log')), ['get', '', 'pods', 'log', 'dev1', 'web']);
		assert.deepEqual(pick(attrs('PATCH', '/apis/apps/v1/namespaces/dev1/deployments/web/scale')), ['patch', 'apps', 'deployments', 'scale', 'dev1', 'web']);
		assert.deepEqual(pick(attrs('DELETE', '/api/v1/namespaces/dev1/pods')), ['deletecollection', '', 'pods', undefined, 'dev1', undefined]);
		// A namespace is in its own namespace; its status is a subresource, not a resource.
		assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/dev1')), ['get', '', 'namespaces', undefined, 'dev1', 'dev1']);
		assert.deepEqual(pick(attrs('PUT', '/api/v1/namespaces/dev1/status')), ['update', '', 'namespaces', 'status', 'dev1', 'dev1']);
		assert.deepEqual(pick(attrs('GET', '/api/v1/nodes')), ['list', '', 'nodes', undefined, undefined, undefined]);
		const nonResource = attrs('GET', '/apis/apps');
		assert.deepEqual([nonResource.resourceRequest, nonResource.verb, nonResource.path], [false, 'get', '/apis/apps']);
	});
});

describe('rule evaluation', () => {
	const allows = (rule: PolicyRule, method: string, path: string, query = '') => ruleAllows(attrs(method, path, query), rule);
	it('matches verbs, groups, resources, subresources and names', () => {
		const podsRead: PolicyRule = {verbs: ['get', 'list'], apiGroups: [''], resources: ['pods']};
		assert.ok(allows(podsRead, 'GET', '/api/v1/namespaces/a/pods'));
		assert.ok(!allows(podsRead, 'GET', '/api/v1/namespaces/a/pods', 'watch=1'));
		assert.ok(!allows(podsRead, 'GET', '/api/v1/namespaces/a/pods/web/log'), 'a subresource needs its own rule');
		assert.ok(!allows(podsRead, 'GET', '/apis/apps/v1/namespaces/a/deployments'));
		assert.ok(allows({verbs: ['get'], apiGroups: [''], resources: ['*/log']}, 'GET', '/api/v1/namespaces/a/pods/web/log'));
		assert.ok(allows({verbs: ['*'], apiGroups: ['*'], resources: ['*']}, 'DELETE', '/apis/apps/v1/namespaces/a/deployments/web'));
		const named: PolicyRule = {verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings']};
		assert.ok(allows(named, 'GET', '/api/v1/namespaces/a/configmaps/settings'));
		assert.ok(!allows(named, 'GET', '/api/v1/namespaces/a/configmaps/other'));
		assert.ok(!allows({...named, verbs: ['list']}, 'GET', '/api/v1/namespaces/a/configmaps'), 'a list has no name to match');
	});
	it('matches non-resource paths exactly or by a trailing star', () => {
		const discovery: PolicyRule = {verbs: ['get'], nonResourceURLs: ['/api', '/apis/*']};
		assert.ok(allows(discovery, 'GET', '/api'));
		assert.ok(allows(discovery, 'GET', '/apis/apps/v1'));
		assert.ok(!allows(discovery, 'GET', '/kubedeck/v1/users'));
		assert.ok(!allows(discovery, 'POST', '/api'));
	});
});

describe('escalation check', () => {
	it('lists what a role grants beyond the rules held, atom by atom', () => {
		const held: PolicyRule[] = [{verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'configmaps']}, {verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['one']}];
		assert.deepEqual(missingRules(held, [{verbs: ['get'], apiGroups: [''], resources: ['pods']}]), []);
		assert.deepEqual(missingRules(held, [{verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods']}]), ['{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}']);
		assert.deepEqual(missingRules(held, [{verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['one']}]), []);
		assert.deepEqual(missingRules(held, [{verbs: ['get'], apiGroups: [''], resources: ['secrets']}]), ['{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}']);
		// A star is granted only by a star.
		assert.equal(missingRules(held, [{verbs: ['get'], apiGroups: [''], resources: ['*']}]).length, 1);
		assert.deepEqual(missingRules([{verbs: ['*'], apiGroups: ['*'], resources: ['*']}], [{verbs: ['get'], apiGroups: ['apps'], resources: ['*']}]), []);
		assert.equal(describeRule({verbs: ['get'], nonResourceURLs: ['/healthz']}), '{NonResourceURLs:["/healthz"], Verbs:["get"]}');
	});
});

describe('default policy', () => {
	it('aggregates view into edit into admin, and keeps Secrets out of view', () => {
		const roles = defaultClusterRoles();
		const role = (name: string) => roles.find(r => r.metadata.name === name)!;
		const grants = (name: string, verb: string, group: string, resource: string) => ((role(name).rules ?? []) as PolicyRule[]).some(r => r.verbs.includes(verb) && r.apiGroups?.includes(group) && r.resources?.includes(resource));
		assert.ok(grants('view', 'list', 'apps', 'deployments'));
		assert.ok(!grants('view', 'get', '', 'secrets'));
		assert.ok(!grants('view', 'patch', 'apps', 'deployments/scale'));
		assert.ok(grants('edit', 'get', '', 'secrets') && grants('edit', 'list', 'apps', 'deployments') && grants('edit', 'patch', 'apps', 'deployments/scale'));
		assert.ok(!grants('edit', 'create', 'rbac.authorization.k8s.io', 'rolebindings'));
		assert.ok(grants('admin', 'create', 'rbac.authorization.k8s.io', 'rolebindings') && grants('admin', 'list', 'apps', 'deployments'));
		// A role labelled to aggregate into view adds to view (and through it to edit and admin).
		const extra = {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: {name: 'widgets-view', labels: {'rbac.authorization.k8s.io/aggregate-to-view': 'true'}},
			rules: [{verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets']}]};
		const all = [...roles, extra];
		// As the controller settles: each aggregated role from the others' stored rules, view before edit before admin.
		for (const name of ['view', 'edit', 'admin']) {
			role(name).rules = aggregatedRules(role(name), all);
			assert.ok((role(name).rules as PolicyRule[]).some(r => r.apiGroups?.includes('example.com')), name);
		}
		// Roles that select each other settle too, and never recurse.
		const a = {metadata: {name: 'a', labels: {x: 'b'}}, aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: 'a'}}]}, rules: [{verbs: ['get'], apiGroups: [''], resources: ['pods']}]};
		const b = {metadata: {name: 'b', labels: {x: 'a'}}, aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: 'b'}}]}, rules: [{verbs: ['list'], apiGroups: [''], resources: ['pods']}]};
		assert.deepEqual(aggregatedRules(a as never, [a, b] as never), b.rules);
	});
});

describe('certificate serials', () => {
	it('are positive DER integers without a leading zero byte, so OpenSSL loads every certificate', async () => {
		const {serial} = await import('../../source/server/auth/ca.js');
		for (let i = 0; i < 2000; i++) assert.match(serial(), /^[1-7][0-9a-f]{31}$/);
	});
});
