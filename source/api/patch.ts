// The three patch types kubectl sends: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902, through fast-json-patch) and strategic merge patch. No maintained
// JS library implements strategic merge patch, so it is written here from the
// Kubernetes rules: lists with a patchMergeKey merge element by element, the
// rest are replaced; `$patch`, `$setElementOrder/`, `$retainKeys` and
// `$deleteFromPrimitiveList/` directives; null deletes.
import fastJsonPatch from 'fast-json-patch';
import {badRequest, unsupportedMediaType} from './errors.js';
import {clone, deepEqual, isObject, type KubeObject} from './object.js';

type Json = unknown;
type Rec = Record<string, Json>;

export const patchTypes = {
	merge: 'application/merge-patch+json',
	json: 'application/json-patch+json',
	strategic: 'application/strategic-merge-patch+json',
	apply: 'application/apply-patch+yaml',
} as const;

/** RFC 7386: objects merge recursively, null removes, everything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
	if (!isObject(patch)) return clone(patch);
	const out: Rec = isObject(target) ? {...target} : {};
	for (const [key, value] of Object.entries(patch)) {
		if (value === null) delete out[key];
		else out[key] = mergePatch(out[key], value);
	}
	return out;
}

export function jsonPatch(target: Json, operations: Json): Json {
	if (!Array.isArray(operations)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
	try {
		return fastJsonPatch.applyPatch(clone(target), operations as fastJsonPatch.Operation[], true, false).newDocument;
	} catch (error) {
		const e = error as {name?: string; message: string};
		throw badRequest(`the server rejected our request due to an error in our request: ${e.message.split('\n')[0]}`);
	}
}

/**
 * patchMergeKey of the list fields kubedeck's kinds carry, keyed by field
 * name; `ports` depends on its parent (a container's ports merge on
 * containerPort, a Service's on port). Lists absent here are atomic.
 */
const mergeKeys: Record<string, string> = {
	containers: 'name', initContainers: 'name', ephemeralContainers: 'name',
	env: 'name', volumes: 'name', volumeMounts: 'mountPath', volumeDevices: 'devicePath',
	imagePullSecrets: 'name', hostAliases: 'ip', conditions: 'type', ownerReferences: 'uid',
	topologySpreadConstraints: 'topologyKey', resourceClaims: 'name', readinessGates: 'conditionType',
};
/** Primitive lists whose patchStrategy is merge (set union) rather than replace. */
const mergedPrimitiveLists = new Set(['finalizers']);

function mergeKeyFor(field: string, parent: Rec): string | undefined {
	if (field === 'ports') return 'containerPort' in ((parent.ports as Rec[] | undefined)?.[0] ?? {}) || 'image' in parent ? 'containerPort' : 'port';
	return mergeKeys[field];
}

export function strategicMergePatch(target: Json, patch: Json): Json {
	if (!isObject(patch)) throw badRequest('strategic merge patch: the patch must be a JSON object');
	return smpMap(isObject(target) ? target : {}, patch);
}

function smpMap(target: Rec, patch: Rec): Rec {
	if (patch.$patch === 'replace') {
		const {$patch: _, ...rest} = patch;
		return stripDirectives(rest) as Rec;
	}
	if (patch.$patch === 'delete') return {};
	let out: Rec = {...target};
	const retain = patch.$retainKeys;
	for (const [key, value] of Object.entries(patch)) {
		if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
		if (key.startsWith('$deleteFromPrimitiveList/')) {
			const field = key.slice('$deleteFromPrimitiveList/'.length);
			if (Array.isArray(out[field]) && Array.isArray(value)) out[field] = (out[field] as Json[]).filter(v => !value.some(d => deepEqual(d, v)));
			continue;
		}
		if (value === null) {
			delete out[key];
			continue;
		}
		const current = out[key];
		if (Array.isArray(value)) {
			const mergeKey = mergeKeyFor(key, {...target, ...patch});
			if (mergeKey && value.every(isObject)) out[key] = smpList(Array.isArray(current) ? current : [], value, mergeKey);
			else if (mergedPrimitiveLists.has(key)) out[key] = [...new Set([...(Array.isArray(current) ? current : []), ...value])];
			else out[key] = stripDirectives(value);
		} else if (isObject(value)) {
			out[key] = smpMap(isObject(current) ? current : {}, value);
		} else {
			out[key] = value;
		}
		const order = patch[`$setElementOrder/${key}`];
		if (Array.isArray(order) && Array.isArray(out[key])) out[key] = applyOrder(out[key] as Json[], order, mergeKeyFor(key, {...target, ...patch}));
	}
	for (const [key, order] of Object.entries(patch)) {
		if (!key.startsWith('$setElementOrder/')) continue;
		const field = key.slice('$setElementOrder/'.length);
		if (field in patch || !Array.isArray(order) || !Array.isArray(out[field])) continue;
		out[field] = applyOrder(out[field] as Json[], order, mergeKeyFor(field, {...target, ...patch}));
	}
	if (Array.isArray(retain)) out = Object.fromEntries(Object.entries(out).filter(([k]) => retain.includes(k)));
	return out;
}

function smpList(target: Json[], patch: Json[], mergeKey: string): Json[] {
	if (patch.some(item => isObject(item) && item.$patch === 'replace' && !(mergeKey in item))) {
		return stripDirectives(patch.filter(item => !(isObject(item) && item.$patch === 'replace' && !(mergeKey in item)))) as Json[];
	}
	const out = target.map(item => item);
	for (const item of patch as Rec[]) {
		const key = item[mergeKey];
		const index = out.findIndex(existing => isObject(existing) && deepEqual(existing[mergeKey], key));
		if (item.$patch === 'delete') {
			if (index >= 0) out.splice(index, 1);
			continue;
		}
		if (index >= 0) out[index] = smpMap(out[index] as Rec, item);
		else out.push(stripDirectives(item));
	}
	return out;
}

/** Put elements in the order `$setElementOrder` names; unnamed ones keep their place at the end. */
function applyOrder(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
	const keyOf = (v: Json) => (mergeKey && isObject(v) ? v[mergeKey] : v);
	const wanted = order.map(keyOf);
	const ranked = list.map((item, i) => ({item, i, rank: wanted.findIndex(w => deepEqual(w, keyOf(item)))}));
	return ranked.sort((a, b) => (a.rank < 0 ? Infinity : a.rank) - (b.rank < 0 ? Infinity : b.rank) || a.i - b.i).map(r => r.item);
}

function stripDirectives(value: Json): Json {
	if (Array.isArray(value)) return value.map(stripDirectives);
	if (!isObject(value)) return value;
	return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith('$')).map(([k, v]) => [k, stripDirectives(v)]));
}

/** Apply a patch body of the given Content-Type to an object. */
export function applyPatch(target: KubeObject, contentType: string, patch: Json): KubeObject {
	const type = contentType.split(';')[0].trim();
	switch (type) {
		case patchTypes.merge: return mergePatch(target, patch) as KubeObject;
		case patchTypes.json: return jsonPatch(target, patch) as KubeObject;
		case patchTypes.strategic: return strategicMergePatch(target, patch) as KubeObject;
		default: throw unsupportedMediaType([patchTypes.json, patchTypes.merge, patchTypes.strategic, patchTypes.apply]);
	}
}
