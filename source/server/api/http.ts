// The engine's Kubernetes-compatible REST API. The CLI and dashboard reach it
// over a unix socket; the same handler can listen on TCP for the real kubectl.
// Paths, verbs, query parameters, Status errors, Tables and watch streams
// follow kube-apiserver (see shared/reference/kubectl-compat.md).
import http from 'node:http';
import {badRequest, expired, field, internalError, invalid, isStatus, methodNotAllowed, pathNotFound, StatusError} from '../../api/errors.js';
import {typeInVersion, viewOf, type VersionView} from '../../api/conversion.js';
import type {KubeObject} from '../../api/object.js';
import {schemaOf} from '../../api/field-schema.js';
import {FieldSet, printPath, removeFields, undeclaredFields} from '../../api/field-set.js';
import {patchTypes} from '../../api/patch.js';
import {type Level, levels, namespaceLevel, podSpecOf, violations, workloadKinds, describeViolations} from '../../api/pod-security.js';
import {apiVersionOf, type ResourceType, typeByPlural} from '../../api/resources.js';
import {v2Document, v2Protobuf} from '../../api/openapi.js';
import {loadSchema} from '../../api/schema.js';
import type {WatchEvent} from '../../store/store.js';
import {matcher, type Registry, type WriteOptions} from '../registry.js';
import type {Access} from '../auth/access.js';
import {anonymous, type Attributes, localAdmin, requestAttributes, type UserInfo} from '../auth/attributes.js';
import {publicPaths, unauthorized} from '../auth/authn.js';
import type {ClusterCA} from '../auth/ca.js';
import {answerReview} from '../auth/reviews.js';
import {type ServiceAccountTokens, tokenRequest, tokenRequestType} from '../auth/tokens.js';
import {serveUsersApi, usersApiPrefix} from '../auth/users-api.js';
import {refuseBrowser} from './auth.js';
import {checkMediaType, mediaType, objectMediaTypes, patchMediaTypes, readBody} from './body.js';
import {decodeDeleteOptions, decodeObject, decodePatch, fieldValidationParam, patchedTypeCheck} from './decoding.js';
import {apiGroup, apiGroupList, apiResourceList, apiVersions, metricsResourceList, openapiGroupVersion, openapiIndex, serverVersion} from './discovery.js';
import {deleteParams, dryRunParam, type ListParams, listParams, parseBool, selectorParams} from './query.js';
import {page} from './paging.js';
import {toTable, wantsTable} from './table.js';

interface Target {
	type: ResourceType;
	namespace?: string;
	name?: string;
	subresource?: string;
	/** Set when the path names a served version other than the stored one. */
	view?: VersionView;
}

/** Split a resource path into type, namespace, name and subresource; undefined if it is not one. */
export function parseResourcePath(pathname: string): Target | undefined {
	const parts = pathname.split('/').filter(Boolean).map(unescapePath);
	let group = '';
	let rest: string[];
	let view: VersionView | undefined;
	if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
	else if (parts[0] === 'apis' && parts.length >= 3) {
		group = parts[1];
		rest = parts.slice(3);
		const type = rest.length ? typeByPlural(rest[0] === 'namespaces' && rest.length >= 3 ? rest[2] : rest[0], group) : undefined;
		if (type && type.version !== parts[2]) {
			view = viewOf(type, parts[2]);
			if (!view) return undefined;
		}
	} else return undefined;
	const viewed = view ? {view} : {};
	if (rest[0] === 'namespaces' && rest.length >= 3 && typeByPlural(rest[2], group)) {
		const type = typeByPlural(rest[2], group)!;
		if (!type.namespaced || rest.length > 5) return undefined;
		return {type, namespace: rest[1], name: rest[3], subresource: rest[4], ...viewed};
	}
	const type = rest.length ? typeByPlural(rest[0], group) : undefined;
	if (!type || rest.length > 3) return undefined;
	return {type, name: rest[1], subresource: rest[2], ...viewed};
}

/**
 * A served version other than the stored one: the type bodies are decoded as, and bodies converted in
 * (stored) and objects out (present; a Status passes unchanged).
 */
function versioned({type, view}: Target) {
	return {
		bodyType: typeInVersion(type, view),
		stored: (obj: KubeObject) => (view ? view.toStored(obj) : obj),
		present: (obj: KubeObject) => (view && obj?.kind === type.kind ? view.fromStored(obj) : obj),
	};
}

/** A %-escape Go's url package would refuse ("%zz", a lone "%"), as its EscapeError words it. */
function checkEscapes(text: string): void {
	const m = /%(?![0-9a-fA-F]{2})(.{0,2})/s.exec(text);
	if (m) throw badRequest(`invalid URL escape ${JSON.stringify(`%${m[1]}`)}`);
}

function unescapePath(part: string): string {
	try {
		return decodeURIComponent(part);
	} catch {
		// Well-formed escapes of bytes that are not UTF-8 (%C3%28): Go keeps the bytes; a name can never be made of them.
		throw badRequest(`invalid URL escape ${JSON.stringify(part)}`);
	}
}

/**
 * Pod Security's warn mode, and its enforce level for workload templates (whose pods enforce refuses later):
 * a Warning header, which kubectl prints as "Warning: would violate PodSecurity ...".
 */
function warnPodSecurity(res: http.ServerResponse, registry: Registry, obj: KubeObject, attrs: Attributes): void {
	if (obj?.kind !== 'Pod' && !workloadKinds.has(obj?.kind)) return;
	const ns = registry.store.peek('namespaces', '', obj.metadata.namespace ?? '');
	// audit mode: the violations ride on the request's audit event, as the admission plugin's annotation.
	const audited = namespaceLevel(ns, 'audit');
	const auditFound = audited ? violations(podSpecOf(obj), audited) : [];
	if (auditFound.length) attrs.auditAnnotations = {'pod-security.kubernetes.io/audit-violations': `would violate ${describeViolations(audited!, auditFound)}`};
	const wanted = [namespaceLevel(ns, 'warn'), ...(obj.kind === 'Pod' ? [] : [namespaceLevel(ns, 'enforce')])].filter(Boolean) as Level[];
	const level = levels.filter(l => wanted.includes(l)).pop();
	const found = level ? violations(podSpecOf(obj), level) : [];
	if (found.length) addWarning(res, `would violate ${describeViolations(level!, found)}`);
}

/** One more Warning header (kubectl prints each as "Warning: ..."); several may go on one answer. */
function addWarning(res: http.ServerResponse, text: string): void {
	if (res.headersSent) return;
	const before = res.getHeader('Warning');
	// A header is Latin-1: anything beyond ASCII from the manifest is escaped rather than refused after the write.
	const value = `299 - ${JSON.stringify(text).replace(/[^\x20-\x7e]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;
	res.setHeader('Warning', [...(Array.isArray(before) ? before : before === undefined ? [] : [String(before)]), value]);
}

function sendJson(res: http.ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	res.writeHead(code, {'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text)});
	res.end(text);
}

/**
 * Every failure leaves as a Status. Anything that is not a StatusError is a
 * bug here: a 500 with its message and no stack, and the engine goes on.
 */
function sendError(res: http.ServerResponse, error: unknown): void {
	const status = error instanceof StatusError ? error.status : internalError((error as Error)?.message ?? String(error)).status;
	if (res.headersSent) {
		res.end();
		return;
	}
	// A body refused unread: do not keep the connection for the rest of it.
	if (status.code === 413) res.setHeader('Connection', 'close');
	sendJson(res, status.code, status);
}

/** Serves GET pods/NAME/log (the kubelet's part of the API). */
export type LogHandler = (pod: KubeObject, query: URLSearchParams, res: http.ServerResponse) => void;

/** metrics.k8s.io: list or get PodMetrics / NodeMetrics; undefined when not found. */
export type MetricsHandler = (resource: 'pods' | 'nodes', namespace?: string, name?: string) => object[];

export interface ApiServerOptions {
	registry: Registry;
	logs?: LogHandler;
	metrics?: MetricsHandler;
	/** Shown in /api's serverAddressByClientCIDRs. */
	address?: string;
	/** Authentication, RBAC and the audit log; without it every caller is the local admin (tests of the REST shape). */
	access?: Access;
	/** Who a request comes from (the TCP listener's authenticator); the local admin when not given (the unix socket). */
	identify?: (req: http.IncomingMessage) => UserInfo;
	/** Signs users' client certificates (the users endpoint). */
	ca?: ClusterCA;
	/** Issues ServiceAccount tokens (serviceaccounts/NAME/token). */
	tokens?: ServiceAccountTokens;
}

export function createApiHandler(options: ApiServerOptions): http.RequestListener {
	// The type schema takes a third of a second to load: start now, not on the first write.
	void loadSchema();
	return (req, res) => {
		handle(options, req, res).catch(error => sendError(res, error));
	};
}

async function handle({registry, logs, metrics, address = '127.0.0.1', access, identify, ca, tokens}: ApiServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
	refuseBrowser(req);
	const caller = identify ? identify(req) : localAdmin;
	checkEscapes(req.url ?? '/');
	const url = new URL(req.url ?? '/', 'http://localhost');
	const path = url.pathname.replace(/\/+$/, '') || '/';
	const q = url.searchParams;
	const method = req.method ?? 'GET';
	// Anonymous callers reach the health and version paths only (kube-apiserver would let RBAC refuse them with 403; they get 401 here).
	if (caller === anonymous && !publicPaths.has(path)) throw unauthorized();
	const user = access ? access.impersonate(caller, req) : caller;
	// An empty segment (/namespaces//pods) would mean one thing to RBAC and another to a handler.
	if (/\/\//.test(url.pathname)) throw pathNotFound();
	const attrs = requestAttributes(user, method, path, q);
	if (access) {
		// Tracked first, so a refused change is in the audit log too.
		access.track(req, res, attrs, path.match(/^\/apis?\/((?:[^/]+\/)?v[^/]+)/)?.[1], user === caller ? undefined : caller);
		access.authorize(attrs);
	}
	if (path === '/kubedeck/v1/namespaces') {
		// Engine-only: the namespaces the caller is bound in, or every one when they may list namespaces.
		if (!access || method !== 'GET') return sendError(res, pathNotFound());
		const all = access.authorizer.authorize({user, verb: 'list', resourceRequest: true, apiGroup: '', resource: 'namespaces'});
		const names = all ? registry.store.list('namespaces').items.map(n => n.metadata.name!).sort() : access.authorizer.namespacesOf(user);
		return sendJson(res, 200, {namespaces: names});
	}
	if (path === '/kubedeck/v1/audit/last') {
		// Engine-only: who last changed an object, from the audit log (RBAC's non-resource check above guards it).
		if (!access?.audit) return sendError(res, pathNotFound());
		const name = q.get('name');
		if (!name || !q.get('resource')) throw badRequest('resource and name are required');
		const event = access.audit.lastChange({resource: q.get('resource')!, apiGroup: q.get('group') ?? '', namespace: q.get('namespace') ?? '', name});
		return sendJson(res, 200, event ? {user: event.user.username, verb: event.verb, time: event.stageTimestamp, code: event.responseStatus.code} : {});
	}
	if (path === usersApiPrefix || path.startsWith(`${usersApiPrefix}/`)) {
		if (!access) return sendError(res, pathNotFound());
		const answer = await serveUsersApi(access.users, ca, method, path, async () => jsonBody(req));
		return sendJson(res, answer.code, answer.body);
	}

	switch (path) {
		case '/version': return sendJson(res, 200, serverVersion);
		case '/healthz': case '/livez': case '/readyz': return sendJson(res, 200, 'ok', 'text/plain');
		case '/api': return sendJson(res, 200, apiVersions(address));
		case '/apis': {
			const list = apiGroupList();
			if (metrics) list.groups.push(metricsGroup);
			return sendJson(res, 200, list);
		}
		case '/openapi/v3': return sendJson(res, 200, openapiIndex());
		case '/openapi/v2': {
			// kubectl 1.27-1.28 (and every version's client-side validation) ask for gnostic's protobuf; others for JSON.
			if (!/application\/com\.github\.proto-openapi\.spec\.v2[@.]v1\.0\+protobuf/.test(String(req.headers.accept ?? ''))) return sendJson(res, 200, v2Document());
			const body = v2Protobuf();
			res.writeHead(200, {'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': body.length});
			res.end(body);
			return;
		}
	}
	if (path.startsWith('/openapi/v3/')) {
		const doc = openapiGroupVersion(path.slice('/openapi/v3/'.length).replace(/^apis?\//, ''));
		return doc ? sendJson(res, 200, doc) : sendError(res, pathNotFound());
	}
	if (metrics && path.startsWith('/apis/metrics.k8s.io/')) return serveMetrics(metrics, path, res);
	const group = path.match(/^\/apis\/([^/]+)$/)?.[1];
	if (group) {
		const doc = group === 'metrics.k8s.io' && metrics ? {kind: 'APIGroup', apiVersion: 'v1', ...metricsGroup} : apiGroup(group);
		return doc ? sendJson(res, 200, doc) : sendError(res, pathNotFound());
	}
	const gv = path.match(/^\/api\/(v1)$/)?.[1] ?? path.match(/^\/apis\/([^/]+\/[^/]+)$/)?.[1];
	if (gv) {
		const list = apiResourceList(gv);
		return list ? sendJson(res, 200, list) : sendError(res, pathNotFound());
	}

	const target = parseResourcePath(path);
	if (!target) return sendError(res, pathNotFound());
	const {type, namespace, name, subresource, view} = target;
	if (!type.namespaced && namespace) return sendError(res, pathNotFound());
	const {bodyType, stored, present} = versioned(target);
	if (type.review) {
		if (method !== 'POST' || name !== undefined || subresource) throw methodNotAllowed(`${type.plural}.${type.group} supports create only`);
		if (!access) throw badRequest('this server has no authorizer to review with');
		const contentType = mediaType(req);
		checkMediaType(contentType, objectMediaTypes);
		const body = await decodeObject(bodyType, await readBody(req), contentType);
		return sendJson(res, 201, present(answerReview(type, stored(body), user, namespace, access.authorizer, access.authenticator)));
	}
	if (subresource && !['status', ...(type.subresources ?? [])].includes(subresource)) return sendError(res, pathNotFound());
	if (subresource === 'exec' || subresource === 'attach') {
		// Served on the upgraded connection (exec.ts); a plain request cannot carry the streams.
		registry.get(type, namespace ?? '', name!);
		throw badRequest('Upgrade request required');
	}
	if (subresource === 'token') {
		if (method !== 'POST' || !name) throw methodNotAllowed('serviceaccounts/token supports create only');
		if (!tokens) throw badRequest('this server issues no ServiceAccount tokens');
		const contentType = mediaType(req);
		checkMediaType(contentType, objectMediaTypes);
		const request = await decodeObject(tokenRequestType, await readBody(req), contentType);
		return sendJson(res, 201, tokenRequest(registry, tokens, registry.get(type, namespace ?? '', name), request));
	}
	if (subresource === 'log') {
		if (method !== 'GET' || !name) throw methodNotAllowed('pods/log supports GET only');
		if (!logs) throw badRequest('this server has no kubelet to read container logs from');
		return logs(registry.get(type, namespace ?? '', name), q, res);
	}
	const ns = namespace ?? '';
	const subresourceWrite = subresource as WriteOptions['subresource'];
	// Roles and bindings may grant only what their author holds (escalation prevention).
	const guard = access && type.group === 'rbac.authorization.k8s.io' ? access.escalationCheck(user) : undefined;

	if (name === undefined) {
		switch (method) {
			case 'GET': {
				const params = listParams(type, q);
				return params.watch ? watch(registry, target, params, q, req, res) : list(registry, target, params, q, req, res);
			}
			case 'POST': {
				const contentType = mediaType(req);
				checkMediaType(contentType, objectMediaTypes);
				const dryRun = dryRunParam(dryRunValues(q), 'CreateOptions');
				const body = stored(await decodeObject(bodyType, await readBody(req), contentType, fieldValidationParam(q, text => addWarning(res, text))));
				const created = await registry.create(type, namespace, body, {dryRun, maxBytes: true, guard, manager: fieldManager(q, req, 'CreateOptions', bodyType)});
				// The audit line names what was made, as kube-apiserver's objectRef does once the name is known.
				attrs.name ??= created.metadata.name;
				warnPodSecurity(res, registry, created, attrs);
				return sendJson(res, 201, present(created));
			}
			case 'DELETE': {
				// deletecollection: delete every object the selectors match.
				const query = selectorParams(type, q);
				const options = deleteParams(q, await deleteBody(req));
				const items = registry.list(type, namespace, query).items;
				const deleted: KubeObject[] = [];
				for (const obj of items) deleted.push(present(await registry.delete(type, obj.metadata.namespace, obj.metadata.name!, options)));
				return sendJson(res, 200, {apiVersion: apiVersionOf(bodyType), kind: `${type.kind}List`, metadata: {resourceVersion: registry.store.resourceVersion}, items: deleted});
			}
			default: throw methodNotAllowed(`${method} is not supported on a collection`);
		}
	}

	switch (method) {
		case 'GET': {
			if (subresource === 'scale') return sendJson(res, 200, registry.getScale(type, ns, name));
			const obj = registry.get(type, ns, name);
			return sendJson(res, 200, wantsTable(req.headers.accept) ? toTable(type.kind, [obj], obj.metadata.resourceVersion!, q.get('includeObject') ?? undefined) : present(obj));
		}
		case 'PUT': {
			const contentType = mediaType(req);
			checkMediaType(contentType, objectMediaTypes);
			const dryRun = dryRunParam(dryRunValues(q), 'UpdateOptions');
			const body = await decodeObject(subresource === 'scale' ? scaleType : bodyType, await readBody(req), contentType, fieldValidationParam(q, text => addWarning(res, text)));
			const manager = fieldManager(q, req, 'UpdateOptions', bodyType);
			if (subresource === 'scale') return sendJson(res, 200, await registry.updateScale(type, ns, name, body, {dryRun, manager}));
			const updated = await registry.update(type, namespace, name, stored(body), {dryRun, subresource: subresourceWrite as 'status' | 'ephemeralcontainers' | undefined, maxBytes: true, guard, manager});
			if (!subresource) warnPodSecurity(res, registry, updated, attrs);
			return sendJson(res, 200, present(updated));
		}
		case 'PATCH': {
			const contentType = mediaType(req);
			checkMediaType(contentType, patchMediaTypes);
			const dryRun = dryRunParam(dryRunValues(q), 'PatchOptions');
			const body = decodePatch(await readBody(req), contentType);
			if (contentType === patchTypes.apply) return applyPatchServerSide(registry, target, body as KubeObject, q, req, dryRun, res, guard);
			if (q.has('force')) throw invalid('PatchOptions', 'meta.k8s.io', '', [field.forbidden('force', 'may not be specified for non-apply patch')]);
			const typeCheck = await patchedTypeCheck(subresource === 'scale' ? scaleType : bodyType, fieldValidationParam(q, text => addWarning(res, text)));
			const patched = await registry.patch(type, namespace, name, contentType, body, {dryRun, subresource: subresourceWrite, typeCheck, maxBytes: true, view, guard, manager: fieldManager(q, req, 'PatchOptions', bodyType)});
			if (!subresource) warnPodSecurity(res, registry, patched, attrs);
			return sendJson(res, 200, present(patched));
		}
		case 'DELETE': {
			const options = deleteParams(q, await deleteBody(req));
			return sendJson(res, 200, present(await registry.delete(type, namespace, name, options)));
		}
		default: throw methodNotAllowed(`${method} is not supported on an object`);
	}
}

const metricsGroup = {name: 'metrics.k8s.io', versions: [{groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1'}], preferredVersion: {groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1'}};

/** The Scale subresource's own type, for decoding its bodies. */
const scaleType: ResourceType = {kind: 'Scale', group: 'autoscaling', version: 'v1', plural: 'scale', singular: 'scale', shortNames: [], namespaced: true};

function dryRunValues(q: URLSearchParams): string[] | undefined {
	const values = q.getAll('dryRun');
	return values.length > 0 ? values : undefined;
}

/** A JSON body of the engine-only endpoints. */
async function jsonBody(req: http.IncomingMessage): Promise<Record<string, any>> {
	const buf = await readBody(req);
	if (buf.length === 0) return {};
	try {
		const value = JSON.parse(buf.toString('utf8'));
		if (value && typeof value === 'object' && !Array.isArray(value)) return value;
	} catch {}
	throw badRequest('the body must be a JSON object');
}

/** A DELETE may carry DeleteOptions; an empty body is no body, and needs no Content-Type. */
async function deleteBody(req: http.IncomingMessage): Promise<Record<string, unknown> | undefined> {
	const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
	if (!hasBody) return undefined;
	const buf = await readBody(req);
	if (buf.length === 0) return undefined;
	const contentType = mediaType(req);
	checkMediaType(contentType, objectMediaTypes);
	return decodeDeleteOptions(buf, contentType);
}

/** kube-apiserver's limit on a field manager's name. */
const fieldManagerMaxLength = 128;

/**
 * Who a write is recorded as in managedFields: the fieldManager parameter, else the User-Agent
 * up to its first '/' ("kubectl/v1.32.0 (linux/amd64)..." is "kubectl"), as kube-apiserver names it.
 */
function fieldManager(q: URLSearchParams, req: http.IncomingMessage, optionsKind: string, bodyType: ResourceType): {name: string; apiVersion: string} {
	const given = q.get('fieldManager') ?? '';
	const errors = [];
	if (Buffer.byteLength(given) > fieldManagerMaxLength) errors.push(field.tooLong('fieldManager', fieldManagerMaxLength));
	const unprintable = [...given].findIndex(c => /[\p{C}]/u.test(c));
	if (unprintable >= 0) errors.push(field.invalid('fieldManager', given, `invalid character ${JSON.stringify([...given][unprintable])} (at position ${unprintable})`));
	if (errors.length) throw invalid(optionsKind, 'meta.k8s.io', '', errors);
	const name = given || (req.headers['user-agent'] ?? '').split('/')[0].slice(0, fieldManagerMaxLength);
	return {name, apiVersion: apiVersionOf(bodyType)};
}

/** Server-side apply: the configuration merged by field ownership (registry.apply); 201 when it made the object. */
async function applyPatchServerSide(registry: Registry, target: Target, body: KubeObject, q: URLSearchParams, req: http.IncomingMessage, dryRun: boolean, res: http.ServerResponse, guard?: WriteOptions['guard']): Promise<void> {
	const {type, namespace, name, view, subresource} = target;
	const {bodyType, present} = versioned(target);
	if (!q.get('fieldManager')) throw invalid('PatchOptions', 'meta.k8s.io', '', [field.required('fieldManager', 'is required for apply patch')]);
	const manager = fieldManager(q, req, 'PatchOptions', bodyType);
	if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the apply patch must be an object');
	// Unknown fields in server-side apply's words (structured-merge-diff's), before anything is merged: refused
	// under Strict (kubectl's default), a warning under Warn, and dropped from the configuration unless refused.
	const validation = fieldValidationParam(q, text => addWarning(res, text));
	const schema = schemaOf(bodyType);
	const undeclared = undeclaredFields(body, schema);
	if (undeclared.length > 0 && validation.mode !== 'Ignore') {
		const lines = undeclared.map(p => `${printPath(p)}: field not declared in schema`);
		if (validation.mode === 'Strict') throw badRequest(`failed to create typed patch object (${namespace ? `${namespace}/` : ''}${name}; ${apiVersionOf(bodyType)}, Kind=${bodyType.kind}): ${lines.join('\n')}`);
		for (const line of lines) validation.warn(line);
	}
	const config = undeclared.length ? removeFields(body, FieldSet.of(...undeclared), new FieldSet(), schema) as KubeObject : body;
	const typeCheck = await patchedTypeCheck(bodyType, {mode: 'Ignore', warn: () => {}});
	const {object, created} = await registry.apply(type, namespace, name!, config, {dryRun, typeCheck, maxBytes: true, view, guard, manager, force: parseBool(q, 'force'), subresource: subresource as 'status' | 'scale' | undefined});
	return sendJson(res, created ? 201 : 200, present(object));
}

function serveMetrics(metrics: MetricsHandler, path: string, res: http.ServerResponse): void {
	const rest = path.slice('/apis/metrics.k8s.io/'.length).split('/').map(decodeURIComponent);
	if (rest[0] !== 'v1beta1') return sendError(res, pathNotFound());
	if (rest.length === 1) return sendJson(res, 200, metricsResourceList);
	const [resource, namespace, name] = rest[1] === 'namespaces' ? [rest[3], rest[2], rest[4]] : [rest[1], undefined, rest[2]];
	if (resource !== 'pods' && resource !== 'nodes') return sendError(res, pathNotFound());
	const items = metrics(resource, namespace, name);
	const kind = resource === 'pods' ? 'PodMetrics' : 'NodeMetrics';
	if (name === undefined) return sendJson(res, 200, {kind: `${kind}List`, apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items});
	if (items.length === 0) {
		return sendJson(res, 404, {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 404, reason: 'NotFound', message: `${resource}.metrics.k8s.io "${name}" not found`, details: {name, group: 'metrics.k8s.io', kind: resource}});
	}
	return sendJson(res, 200, items[0]);
}

function list(registry: Registry, target: Target, params: ListParams, q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): void {
	const {type, namespace} = target;
	checkListVersion(params, Number(registry.store.resourceVersion));
	const query = {labelSelector: params.labelSelector, fieldSelector: params.fieldSelector};
	const paging = {limit: params.limit, continue: q.get('continue') || undefined, resourceVersion: registry.store.resourceVersion, filtered: !!(params.labelSelector || params.fieldSelector)};
	// Plain lists are assembled from the stored JSON, without parsing every object again.
	const entries = registry.store.listEntries(type.plural, type.namespaced ? namespace : undefined, {filter: matcher(query)});
	const chunk = page(entries, e => e.object, paging);
	const metadata = {resourceVersion: chunk.resourceVersion, ...(chunk.continue ? {continue: chunk.continue} : {}), ...(chunk.remainingItemCount !== undefined ? {remainingItemCount: chunk.remainingItemCount} : {})};
	if (wantsTable(req.headers.accept)) {
		// The store's own parsed objects: the renderers only read them (parsing 10,000 pods again cost a table list most of its time).
		const table = toTable(type.kind, chunk.items.map(e => e.object), chunk.resourceVersion, q.get('includeObject') ?? undefined);
		return sendJson(res, 200, {...table, metadata: {...table.metadata, ...metadata}});
	}
	const {view} = target;
	const head = JSON.stringify({apiVersion: apiVersionOf(typeInVersion(type, view)), kind: `${type.kind}List`, metadata});
	const items = chunk.items.map(e => (view ? JSON.stringify(view.fromStored(JSON.parse(e.json))) : e.json));
	sendJson(res, 200, `${head.slice(0, -1)},"items":[${items.join(',')}]}`);
}

/**
 * What a list at a resourceVersion can be served from: the store holds the newest state only, which
 * is "not older than" any version a client has seen. A version past it is kube-apiserver's 504
 * (its cache never caught up); an Exact version other than the newest is gone, 410, as a
 * compacted one is (the client lists afresh).
 */
function checkListVersion(params: ListParams, current: number): void {
	const rv = params.fromVersion;
	if (rv === undefined) return;
	if (rv > current) {
		throw new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 504, reason: 'Timeout',
			message: `Timeout: Too large resource version: ${rv}, current: ${current}`,
			details: {causes: [{reason: 'ResourceVersionTooLarge', message: 'Too large resource version', field: ''}], retryAfterSeconds: 1}});
	}
	if (params.resourceVersionMatch === 'Exact' && rv !== current) throw expired(`too old resource version: ${rv} (${current})`);
}

/** How often an idle watch that allows bookmarks is told the resourceVersion it has reached (kube-apiserver: about a minute). */
const bookmarkEveryMs = 60_000;

/**
 * A watch: newline-delimited {"type","object"} events over a chunked 200,
 * headers flushed at once. resourceVersion "" or "0" first sends the current
 * state as ADDED; a version older than the history gives an ERROR 410 event.
 */
function watch(registry: Registry, target: Target, params: ListParams, q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): void {
	const {type, namespace} = target;
	// Every parameter was checked before this point: after writeHead a problem can only be an ERROR event.
	const filter = matcher({labelSelector: params.labelSelector, fieldSelector: params.fieldSelector});
	const table = wantsTable(req.headers.accept);
	const includeObject = q.get('includeObject') ?? undefined;
	res.writeHead(200, {'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache'});
	res.flushHeaders();
	const {view} = target;
	const write = (eventType: string, obj: KubeObject, json?: string) => {
		const body = table ? JSON.stringify(toTable(type.kind, [obj], obj.metadata.resourceVersion!, includeObject, false))
			: view ? JSON.stringify(view.fromStored(obj)) : json ?? JSON.stringify(obj);
		res.write(`{"type":"${eventType}","object":${body}}\n`);
	};
	// A BOOKMARK names a version every event up to which was sent: events are published as they commit, so the
	// store's version of the moment is one (between commits, never during one).
	const bookmark = (initialEventsEnd = false) => res.write(`${JSON.stringify({type: 'BOOKMARK', object: {kind: type.kind, apiVersion: apiVersionOf(typeInVersion(type, view)),
		metadata: {resourceVersion: registry.store.resourceVersion, ...(initialEventsEnd ? {annotations: {'k8s.io/initial-events-end': 'true'}} : {})}}})}\n`);
	const snapshot = registry.store.listEntries(type.plural, type.namespaced ? namespace : undefined, {filter});
	// Objects that stop matching a selector are reported as DELETED, as the watch cache does.
	const seen = new Set(snapshot.map(e => `${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`));
	let from: number;
	if (params.fromVersion === undefined || params.sendInitialEvents) {
		for (const entry of snapshot) write('ADDED', entry.object, entry.json);
		from = Number(registry.store.resourceVersion);
		if (params.sendInitialEvents) bookmark(true);
	} else {
		from = params.fromVersion;
	}
	const onEvent = (event: WatchEvent) => {
		const key = `${event.namespace}/${event.object.metadata.name}`;
		const matches = !filter || filter(event.object);
		if (!matches) {
			if (seen.delete(key) && event.type !== 'DELETED') write('DELETED', event.object, event.json);
			return;
		}
		if (event.type === 'DELETED') seen.delete(key);
		else seen.add(key);
		write(event.type, event.object, event.json);
	};
	let stop: () => void;
	try {
		stop = registry.store.watch(type.plural, type.namespaced ? namespace : undefined, from, onEvent);
	} catch (error) {
		const status = isStatus((error as StatusError).status) ? (error as StatusError).status : internalError(String(error)).status;
		res.end(`${JSON.stringify({type: 'ERROR', object: status})}\n`);
		return;
	}
	const bookmarks = params.allowWatchBookmarks && !table;
	const timeout = params.timeoutSeconds ?? 0;
	// A watch that ends at its timeout first says where it got to, so the client resumes from there.
	const timer = timeout > 0 ? setTimeout(() => {
		if (bookmarks) bookmark();
		res.end();
	}, timeout * 1000) : undefined;
	const ticker = bookmarks ? setInterval(() => bookmark(), bookmarkEveryMs) : undefined;
	res.on('close', () => {
		stop();
		if (timer) clearTimeout(timer);
		if (ticker) clearInterval(ticker);
	});
}
