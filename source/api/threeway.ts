// The patch `apply` sends: a three-way merge of the last-applied
// configuration (original), the new manifest (modified) and the live object
// (current), as kubectl's CreateThreeWayMergePatch computes it:
// - fields in the manifest that differ from live are set;
// - fields that were in the last-applied configuration but are gone from the
//   manifest are deleted (null);
// - fields only live has (defaults, status, what controllers wrote) are left.
// We send it as a JSON merge patch, so a list that changed is sent whole. A
// list counts as unchanged when live holds every field the manifest gives,
// element by element, so server defaults inside lists (a port's protocol)
// do not make every apply look like a change.
import {deepEqual, isObject} from './object.js';

type Rec = Record<string, unknown>;

/** Does `live` contain everything `wanted` says (extra live fields allowed)? */
function subsumes(wanted: unknown, live: unknown): boolean {
	if (Array.isArray(wanted)) {
		return Array.isArray(live) && live.length === wanted.length && wanted.every((w, i) => subsumes(w, live[i]));
	}
	if (isObject(wanted)) {
		return isObject(live) && Object.entries(wanted).every(([k, v]) => (v === null ? !(k in live) : subsumes(v, live[k])));
	}
	return deepEqual(wanted, live) || (typeof wanted === 'number' && String(wanted) === live);
}

export function threeWayMergePatch(original: Rec | undefined, modified: Rec, current: Rec): Rec {
	const patch: Rec = {};
	for (const [key, m] of Object.entries(modified)) {
		const c = current[key];
		const o = original?.[key];
		if (isObject(m) && isObject(c)) {
			const sub = threeWayMergePatch(isObject(o) ? o : undefined, m, c);
			if (Object.keys(sub).length > 0) patch[key] = sub;
		} else if (m === null) {
			if (c !== undefined) patch[key] = null;
		} else if (!subsumes(m, c)) {
			patch[key] = m;
		}
	}
	for (const key of Object.keys(original ?? {})) {
		if (!(key in modified) && current[key] !== undefined) patch[key] = null;
	}
	return patch;
}
