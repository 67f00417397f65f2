// Sets of field paths, as server-side apply records who owns what: a tree
// whose edges are path elements in FieldsV1's spelling (`f:spec` a field,
// `k:{"name":"web"}` a keyed list's item, `v:"x"` a set's value) and whose
// nodes say whether the path itself is in the set. FieldsV1 is this tree as
// JSON, with `.` marking a node that is a member and has children.
import {deepEqual, isObject} from './object.js';
import {type FieldSchema, deduced, leaf} from './field-schema.js';

export class FieldSet {
	member = false;
	readonly children = new Map<string, FieldSet>();

	child(element: string): FieldSet {
		let node = this.children.get(element);
		if (!node) {
			node = new FieldSet();
			this.children.set(element, node);
		}
		return node;
	}

	get empty(): boolean {
		if (this.member) return false;
		for (const c of this.children.values()) if (!c.empty) return false;
		return true;
	}

	/** Whether the path, or anything under it, is in the set. */
	touches(path: readonly string[]): boolean {
		let node: FieldSet | undefined = this;
		for (const element of path) {
			node = node.children.get(element);
			if (!node) return false;
		}
		return !node.empty;
	}

	union(other: FieldSet): FieldSet {
		const out = new FieldSet();
		out.member = this.member || other.member;
		for (const key of new Set([...this.children.keys(), ...other.children.keys()])) {
			const a = this.children.get(key), b = other.children.get(key);
			const c = a && b ? a.union(b) : (a ?? b)!.copy();
			if (!c.empty) out.children.set(key, c);
		}
		return out;
	}

	difference(other: FieldSet): FieldSet {
		const out = new FieldSet();
		out.member = this.member && !other.member;
		for (const [key, a] of this.children) {
			const b = other.children.get(key);
			const c = b ? a.difference(b) : a.copy();
			if (!c.empty) out.children.set(key, c);
		}
		return out;
	}

	intersection(other: FieldSet): FieldSet {
		const out = new FieldSet();
		out.member = this.member && other.member;
		for (const [key, a] of this.children) {
			const b = other.children.get(key);
			if (!b) continue;
			const c = a.intersection(b);
			if (!c.empty) out.children.set(key, c);
		}
		return out;
	}

	equals(other: FieldSet): boolean {
		return this.difference(other).empty && other.difference(this).empty;
	}

	copy(): FieldSet {
		return this.union(new FieldSet());
	}

	/** Every member path, parents before children, in insertion order. */
	paths(prefix: string[] = []): string[][] {
		const out: string[][] = this.member && prefix.length > 0 ? [prefix] : [];
		for (const [key, c] of this.children) out.push(...c.paths([...prefix, key]));
		return out;
	}

	/** FieldsV1: children by element, `.` for a member that has children, `{}` for a member leaf. */
	toFieldsV1(): Record<string, unknown> {
		const out: Record<string, unknown> = {};
		if (this.member && this.children.size > 0) out['.'] = {};
		for (const [key, c] of [...this.children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
			if (!c.empty) out[key] = c.toFieldsV1();
		}
		return out;
	}

	static fromFieldsV1(value: unknown): FieldSet {
		const out = new FieldSet();
		if (!isObject(value)) return out;
		for (const [key, v] of Object.entries(value)) {
			if (key === '.') out.member = true;
			else {
				const c = FieldSet.fromFieldsV1(v);
				if (!isObject(v) || Object.keys(v).length === 0) c.member = true;
				out.children.set(key, c);
			}
		}
		return out;
	}

	static of(...paths: string[][]): FieldSet {
		const out = new FieldSet();
		for (const path of paths) {
			let node = out;
			for (const element of path) node = node.child(element);
			node.member = true;
		}
		return out;
	}
}

// Values of a keyed list's key fields that an item may leave out (kube-openapi
// publishes them as the fields' defaults; the v1.32 document kept here does not).
const keyDefaults: Record<string, unknown> = {protocol: 'TCP'};

/** `k:{...}`: an item's key fields, in name order, as structured-merge-diff spells them. */
export function itemElement(item: unknown, keys: readonly string[]): string {
	const rec = isObject(item) ? item : {};
	const key: Record<string, unknown> = {};
	for (const k of [...keys].sort()) {
		const value = rec[k] ?? keyDefaults[k];
		if (value !== undefined) key[k] = value;
	}
	return `k:${JSON.stringify(key)}`;
}

export function valueElement(value: unknown): string {
	return `v:${JSON.stringify(value)}`;
}

/** How a value is walked: its schema, made concrete for deduced values (objects are maps, lists atomic). */
function shape(schema: FieldSchema, value: unknown): FieldSchema {
	if (schema.kind !== 'deduced') return schema;
	return isObject(value) ? {kind: 'map', value: deduced} : leaf;
}

function fieldOf(schema: FieldSchema, name: string): FieldSchema {
	return schema.kind === 'struct' ? schema.field(name) : schema.kind === 'map' ? schema.value : deduced;
}

const present = (v: unknown) => v !== undefined && v !== null;
const isEmptyValue = (v: unknown) => !present(v) || (isObject(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0);

/**
 * The fields an applied configuration sets (structured-merge-diff's ToFieldSet): its leaves, each
 * keyed item and set value; an empty object or list counts as a leaf.
 */
export function fieldsOf(value: unknown, schema: FieldSchema, into = new FieldSet()): FieldSet {
	const s = shape(schema, value);
	if (!present(value)) return into;
	if (s.kind === 'leaf' || isEmptyValue(value) || !fitsShape(s, value)) {
		into.member = true;
		return into;
	}
	if (s.kind === 'struct' || s.kind === 'map') {
		for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (present(v)) fieldsOf(v, fieldOf(s, k), into.child(`f:${k}`));
	} else if (s.kind === 'keyed') {
		for (const item of value as unknown[]) {
			const node = into.child(itemElement(item, s.keys));
			node.member = true;
			fieldsOf(item, s.item, node);
		}
	} else if (s.kind === 'set') {
		for (const v of value as unknown[]) into.child(valueElement(v)).member = true;
	}
	return into;
}

/**
 * The fields of a configuration its kind does not declare (paths, as field sets spell them): what
 * server-side apply refuses under fieldValidation=Strict as "field not declared in schema".
 */
export function undeclaredFields(value: unknown, schema: FieldSchema, at: string[] = [], out: string[][] = []): string[][] {
	const s = shape(schema, value);
	if (!present(value) || !fitsShape(s, value)) return out;
	if (s.kind === 'struct' || s.kind === 'map') {
		for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
			if (s.kind === 'struct' && !s.declares(k)) out.push([...at, `f:${k}`]);
			else undeclaredFields(v, fieldOf(s, k), [...at, `f:${k}`], out);
		}
	} else if (s.kind === 'keyed') {
		for (const item of value as unknown[]) undeclaredFields(item, s.item, [...at, itemElement(item, s.keys)], out);
	}
	return out;
}

function fitsShape(s: FieldSchema, value: unknown): boolean {
	if (s.kind === 'struct' || s.kind === 'map') return isObject(value);
	if (s.kind === 'keyed' || s.kind === 'set') return Array.isArray(value);
	return true;
}

export interface Comparison {
	added: FieldSet;
	modified: FieldSet;
	removed: FieldSet;
}

/** Which fields a change from one version of an object to the next added, modified and removed. */
export function compare(before: unknown, after: unknown, schema: FieldSchema): Comparison {
	const out = {added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet()};
	walkCompare(before, after, schema, out);
	// The object itself is no field.
	out.added.member = out.removed.member = false;
	return out;
}

function walkCompare(a: unknown, b: unknown, schema: FieldSchema, at: Comparison): void {
	if (!present(a) && !present(b)) return;
	const s = shape(schema, present(b) ? b : a);
	const asLeaf = s.kind === 'leaf' || (isEmptyValue(a) && isEmptyValue(b)) || (present(a) && !fitsShape(s, a)) || (present(b) && !fitsShape(s, b));
	if (asLeaf) {
		if (!present(a)) at.added.member = true;
		else if (!present(b)) at.removed.member = true;
		else if (!deepEqual(a, b)) at.modified.member = true;
		return;
	}
	// A map or list that appears (or goes) whole is itself added (or removed), as with a field the
	// Go types omit when empty: kube-apiserver's Update entries then hold it (FieldsV1's `.`).
	if (s.kind !== 'struct') {
		if (!present(a)) at.added.member = true;
		else if (!present(b)) at.removed.member = true;
	}
	const step = (element: string) => ({added: at.added.child(element), modified: at.modified.child(element), removed: at.removed.child(element)});
	if (s.kind === 'struct' || s.kind === 'map') {
		const ra = (present(a) ? a : {}) as Record<string, unknown>, rb = (present(b) ? b : {}) as Record<string, unknown>;
		for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) walkCompare(ra[k], rb[k], fieldOf(s, k), step(`f:${k}`));
	} else if (s.kind === 'keyed') {
		const ia = byElement((present(a) ? a : []) as unknown[], s.keys), ib = byElement((present(b) ? b : []) as unknown[], s.keys);
		for (const element of new Set([...ia.keys(), ...ib.keys()])) {
			const next = step(element);
			if (!ia.has(element)) next.added.member = true;
			if (!ib.has(element)) next.removed.member = true;
			walkCompare(ia.get(element), ib.get(element), s.item, next);
		}
	} else if (s.kind === 'set') {
		const va = new Set(((present(a) ? a : []) as unknown[]).map(valueElement)), vb = new Set(((present(b) ? b : []) as unknown[]).map(valueElement));
		for (const v of vb) if (!va.has(v)) at.added.child(v).member = true;
		for (const v of va) if (!vb.has(v)) at.removed.child(v).member = true;
	}
}

function byElement(items: unknown[], keys: readonly string[]): Map<string, unknown> {
	return new Map(items.map(item => [itemElement(item, keys), item]));
}

/**
 * An applied configuration merged onto the live object: the configuration's values win; structs
 * and maps merge field by field, keyed lists item by item (the configuration's items in its order,
 * then the live object's others), sets by value; atomic values are replaced whole.
 */
export function merge(live: unknown, config: unknown, schema: FieldSchema): unknown {
	if (!present(config)) return live;
	const s = shape(schema, config);
	if (!present(live) || s.kind === 'leaf' || !fitsShape(s, config) || !fitsShape(s, live)) return config;
	if (s.kind === 'struct' || s.kind === 'map') {
		const out: Record<string, unknown> = {...(live as Record<string, unknown>)};
		for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
			if (v === null) continue;
			out[k] = merge(out[k], v, fieldOf(s, k));
		}
		return out;
	}
	const element = s.kind === 'keyed' ? (item: unknown) => itemElement(item, s.keys) : valueElement;
	return mergeItems(live as unknown[], config as unknown[], element, (l, c) => (s.kind === 'keyed' ? merge(l, c, s.item) : c));
}

/**
 * A keyed list or set merged item by item, in structured-merge-diff's order: the live object's
 * items keep their places, the configuration's new ones come where the configuration has them,
 * and the items both have come in the configuration's order.
 */
function mergeItems(live: unknown[], config: unknown[], element: (item: unknown) => string, mergeItem: (live: unknown, config: unknown) => unknown): unknown[] {
	const lhs = live.map(element), rhs = config.map(element);
	const liveItems = new Map(lhs.map((e, i) => [e, live[i]]));
	const inConfig = new Set(rhs);
	const shared = rhs.filter(e => liveItems.has(e));
	let next = 0;
	const done = new Set<string>();
	const out: unknown[] = [];
	const take = (i: number) => {
		done.add(rhs[i]);
		out.push(mergeItem(liveItems.get(rhs[i]), config[i]));
		if (shared[next] === rhs[i]) next++;
	};
	for (let l = 0, r = 0; l < lhs.length || r < rhs.length;) {
		if (l < lhs.length && r < rhs.length) {
			if (lhs[l] === rhs[r]) {
				take(r);
				l++;
				r++;
				continue;
			}
			// An item both have, whose turn (in the configuration's order) has not come.
			if (inConfig.has(lhs[l]) && next < shared.length && shared[next] !== lhs[l]) {
				l++;
				continue;
			}
		}
		if (l < lhs.length) {
			if (!inConfig.has(lhs[l])) {
				out.push(live[l]);
				l++;
				continue;
			}
			if (done.has(lhs[l])) l++;
		}
		if (r < rhs.length) {
			take(r);
			r++;
		}
	}
	return out;
}

/** The object without the given fields (fields `keep` holds, or holds something under, stay). */
export function removeFields(value: unknown, remove: FieldSet, keep: FieldSet, schema: FieldSchema): unknown {
	if (!present(value)) return value;
	const s = shape(schema, value);
	if (s.kind === 'struct' || s.kind === 'map') {
		if (!fitsShape(s, value)) return value;
		const out: Record<string, unknown> = {...(value as Record<string, unknown>)};
		for (const [element, node] of remove.children) {
			if (!element.startsWith('f:')) continue;
			const k = element.slice(2);
			if (!(k in out)) continue;
			const kept = keep.children.get(element);
			if (node.member && (!kept || kept.empty)) delete out[k];
			else out[k] = removeFields(out[k], node, kept ?? new FieldSet(), fieldOf(s, k));
		}
		return out;
	}
	if (s.kind === 'keyed' && Array.isArray(value)) {
		const out: unknown[] = [];
		for (const item of value) {
			const element = itemElement(item, s.keys);
			const node = remove.children.get(element), kept = keep.children.get(element);
			if (!node) out.push(item);
			else if (node.member && (!kept || kept.empty)) continue;
			else out.push(removeFields(item, node, kept ?? new FieldSet(), s.item));
		}
		return out;
	}
	if (s.kind === 'set' && Array.isArray(value)) {
		return value.filter(v => {
			const element = valueElement(v);
			return !remove.children.get(element)?.member || keep.children.has(element);
		});
	}
	return value;
}

/** A path as kube-apiserver prints it in a conflict: `.spec.containers[name="web"].image`. */
export function printPath(path: readonly string[]): string {
	return path.map(element => {
		const body = element.slice(2);
		if (element.startsWith('f:')) return `.${body}`;
		if (element.startsWith('v:')) return `[=${body}]`;
		const key = JSON.parse(body) as Record<string, unknown>;
		return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
	}).join('');
}
