// Discovery documents (legacy /api, /apis, /api/v1, /apis/G/V), /version and
// /openapi/v3 (each served kind's PATCH path and the official schemas), in
// the shapes the real kubectl accepts (shared/reference/kubectl-compat.md
// sections 1 and 2).
import {otherVersions, typeInVersion} from '../../api/conversion.js';
import {v3Schemas} from '../../api/openapi.js';
import {apiVersionOf, resourcePath, resourceTypes, type ResourceType} from '../../api/resources.js';

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const serverVersion = {
	major: '1', minor: '32', gitVersion: 'v1.32.0-kubedeck', gitCommit: 'kubedeck', gitTreeState: 'clean',
	buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23.0', compiler: 'gc', platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

/** Every served group/version and its types: stored versions first, then the older ones also served (conversion.ts). */
function groupVersions(): Map<string, ResourceType[]> {
	const map = new Map<string, ResourceType[]>();
	const served = [...resourceTypes, ...resourceTypes.flatMap(t => otherVersions(t).map(v => typeInVersion(t, v)))];
	for (const t of served) {
		const gv = apiVersionOf(t);
		map.set(gv, [...(map.get(gv) ?? []), t]);
	}
	return map;
}

export function apiVersions(address: string) {
	return {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: address}]};
}

function apiGroups() {
	const groups = new Map<string, string[]>();
	for (const gv of groupVersions().keys()) {
		if (!gv.includes('/')) continue;
		const [group, version] = gv.split('/');
		groups.set(group, [...(groups.get(group) ?? []), version]);
	}
	return [...groups].map(([name, versions]) => ({
		name,
		versions: versions.map(v => ({groupVersion: `${name}/${v}`, version: v})),
		preferredVersion: {groupVersion: `${name}/${versions[0]}`, version: versions[0]},
	}));
}

export function apiGroupList() {
	return {kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroups()};
}

/** GET /apis/GROUP: one group's versions. */
export function apiGroup(name: string) {
	const group = apiGroups().find(g => g.name === name);
	return group && {kind: 'APIGroup', apiVersion: 'v1', ...group};
}

export function apiResourceList(groupVersion: string) {
	const types = groupVersions().get(groupVersion);
	if (!types) return undefined;
	const resources: object[] = [];
	for (const t of types) {
		resources.push({
			name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs ?? verbs,
			...(t.shortNames.length ? {shortNames: t.shortNames} : {}), ...(t.categories ? {categories: t.categories} : {}),
		});
		if (!t.review) resources.push({name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update']});
		for (const sub of t.subresources ?? []) {
			if (sub === 'scale') resources.push({name: `${t.plural}/scale`, singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update']});
			if (sub === 'token') resources.push({name: `${t.plural}/token`, singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create']});
			if (sub === 'log') resources.push({name: `${t.plural}/log`, singularName: '', namespaced: true, kind: t.kind, verbs: ['get']});
		}
	}
	return {kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources};
}

/** A hash of the document set, so kubectl's HTTP cache notices when it changes. */
const openapiHash = 'kubedeck-v1.32-' + resourceTypes.length;

export function openapiIndex() {
	const paths: Record<string, {serverRelativeURL: string}> = {};
	for (const gv of groupVersions().keys()) {
		const key = gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
		paths[key] = {serverRelativeURL: `/openapi/v3/${key}?hash=${openapiHash}`};
	}
	return {paths};
}

const openapiDocuments = new Map<string, unknown>();

/**
 * A group-version's OpenAPI v3 document: a PATCH operation per kind carrying its GVK and a
 * `fieldValidation` parameter, which is how kubectl apply/create/edit learn that the server
 * validates fields (kubectl-compat.md section 2.2), and the kinds' schemas (kubectl explain).
 * Made once per group-version.
 */
export function openapiGroupVersion(groupVersion: string) {
	const types = groupVersions().get(groupVersion);
	if (!types) return undefined;
	const made = openapiDocuments.get(groupVersion);
	if (made) return made;
	const paths: Record<string, unknown> = {};
	for (const t of types) {
		const path = resourcePath(t, t.namespaced ? '{namespace}' : undefined, '{name}').replace(/%7B/g, '{').replace(/%7D/g, '}');
		paths[path] = {
			patch: {
				'x-kubernetes-group-version-kind': {group: t.group, version: t.version, kind: t.kind},
				parameters: [{name: 'fieldValidation', in: 'query', schema: {type: 'string'}}],
				responses: {200: {description: 'OK'}},
			},
		};
	}
	const doc = {openapi: '3.0.0', info: {title: 'Kubernetes', version: serverVersion.gitVersion}, paths, components: {schemas: v3Schemas(types)}};
	openapiDocuments.set(groupVersion, doc);
	return doc;
}

/** metrics.k8s.io/v1beta1 (served when the engine has kubelets measuring usage). */
export const metricsResourceList = {
	kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'metrics.k8s.io/v1beta1',
	resources: [
		{name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list']},
		{name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list']},
	],
};
