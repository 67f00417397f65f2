// Field ownership (metadata.managedFields), kept as kube-apiserver keeps it
// with structured-merge-diff: every write names a field manager; a write that
// is not an apply (an Update) takes the fields it added or changed from
// whoever held them; an apply owns exactly the fields of its configuration,
// drops from the object the ones it stopped applying (unless someone else
// holds them), and may not change a field another manager holds unless forced
// (409 Conflict naming the manager and the fields). No JavaScript library
// implements these rules, so they are written here from structured-merge-diff
// and the apiserver's fieldmanager; field-set.ts holds the set arithmetic.
//
// Simplification: ownership is computed on the version of the object the
// write sees (the stored version for updates, the request's for an apply),
// not converted between versions as kube-apiserver does; the kinds served in
// more than one version differ only in fields few managers share.
import {StatusError} from './errors.js';
import {type FieldSchema} from './field-schema.js';
import {compare, fieldsOf, FieldSet, merge, printPath, removeFields} from './field-set.js';
import {isObject} from './object.js';

export interface ManagedFieldsEntry {
	manager: string;
	operation: 'Apply' | 'Update';
	apiVersion: string;
	time?: string;
	fieldsType: 'FieldsV1';
	fieldsV1: Record<string, unknown>;
	subresource?: string;
}

/** Who writes: the field manager, the version it writes in, and the subresource (if any). */
export interface Writer {
	manager: string;
	apiVersion: string;
	subresource?: string;
	/** RFC 3339, seconds. */
	time: string;
}

interface Owner {
	entry: Omit<ManagedFieldsEntry, 'fieldsV1'>;
	set: FieldSet;
}

/** metadata fields the server sets, which no manager owns (the fieldmanager's stripped fields). */
const serverMetadata = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/**
 * The part of a field set a write can own: never apiVersion, kind or the server's metadata; the
 * main resource never status, and the status subresource nothing else (the reset fields).
 */
function scoped(set: FieldSet, subresource: string | undefined): FieldSet {
	if (subresource === 'status') {
		const out = new FieldSet();
		const status = set.children.get('f:status');
		if (status) out.children.set('f:status', status);
		return out;
	}
	const out = set.copy();
	for (const element of ['f:apiVersion', 'f:kind', 'f:status']) out.children.delete(element);
	const metadata = out.children.get('f:metadata');
	if (metadata) {
		for (const name of serverMetadata) metadata.children.delete(`f:${name}`);
		metadata.member = false;
		if (metadata.empty) out.children.delete('f:metadata');
	}
	return out;
}

function decode(entries: unknown): Owner[] {
	if (!Array.isArray(entries)) return [];
	return entries.filter(isObject).map(e => {
		const {fieldsV1, ...entry} = e as unknown as ManagedFieldsEntry;
		return {entry, set: FieldSet.fromFieldsV1(fieldsV1)};
	});
}

/** The entries of the managers that still own something, in the order they came. */
function encode(owners: Owner[]): ManagedFieldsEntry[] | undefined {
	const entries = owners.filter(o => !o.set.empty).map(o => ({...o.entry, fieldsType: 'FieldsV1' as const, fieldsV1: o.set.toFieldsV1()}));
	return entries.length > 0 ? entries : undefined;
}

function sameManager(entry: Owner['entry'], writer: Writer, operation: 'Apply' | 'Update'): boolean {
	return entry.manager === writer.manager && entry.operation === operation && (entry.subresource ?? '') === (writer.subresource ?? '')
		&& (operation === 'Apply' || entry.apiVersion === writer.apiVersion);
}

function entryFor(writer: Writer, operation: 'Apply' | 'Update'): Owner['entry'] {
	return {manager: writer.manager, operation, apiVersion: writer.apiVersion, time: writer.time, fieldsType: 'FieldsV1', ...(writer.subresource ? {subresource: writer.subresource} : {})};
}

/**
 * managedFields after a write that is not an apply: the writer takes every field it added or
 * changed (from whoever held it), and fields it removed are no one's.
 */
export function recordUpdate(entries: unknown, before: unknown, after: unknown, schema: FieldSchema, writer: Writer): ManagedFieldsEntry[] | undefined {
	const owners = decode(entries);
	const change = compare(before, after, schema);
	const taken = scoped(change.added.union(change.modified), writer.subresource);
	const removed = scoped(change.removed, writer.subresource);
	for (const owner of owners) owner.set = owner.set.difference(taken).difference(removed);
	if (!taken.empty) {
		let mine = owners.find(o => sameManager(o.entry, writer, 'Update'));
		if (!mine) owners.push(mine = {entry: entryFor(writer, 'Update'), set: new FieldSet()});
		const next = mine.set.union(taken);
		// The time moves only when what the manager holds does, as kube-apiserver's managedFields updater keeps it.
		if (!next.equals(mine.set)) mine.entry = {...mine.entry, time: writer.time};
		mine.set = next;
	}
	return encode(owners);
}

export interface Applied {
	object: Record<string, unknown>;
	managedFields: ManagedFieldsEntry[] | undefined;
}

/**
 * Server-side apply of a configuration onto the live object (undefined: the object is new). The
 * result is the object to store (before defaulting) and its managedFields; a change to a field
 * another manager owns is a 409 unless forced, which takes the field from it.
 */
export function applyConfiguration(live: Record<string, unknown> | undefined, config: Record<string, unknown>, schema: FieldSchema, writer: Writer, force: boolean): Applied {
	const owners = decode(live ? (live.metadata as {managedFields?: unknown} | undefined)?.managedFields : undefined);
	const applied = scoped(fieldsOf(config, schema), writer.subresource);
	let mine = owners.find(o => sameManager(o.entry, writer, 'Apply'));
	const previous = mine?.set ?? new FieldSet();
	const others = owners.filter(o => o !== mine);
	const merged = merge(live, config, schema) as Record<string, unknown>;
	// What this manager applied before and applies no longer goes, unless another manager holds it.
	const heldElsewhere = others.reduce((set, o) => set.union(o.set), applied);
	const object = removeFields(merged, previous.difference(applied), heldElsewhere, schema) as Record<string, unknown>;
	const change = compare(live, object, schema);
	const changed = scoped(change.added.union(change.modified), writer.subresource);
	const conflicts = others.map(o => ({owner: o, paths: o.set.intersection(changed).paths()})).filter(c => c.paths.length > 0);
	if (conflicts.length > 0 && !force) throw conflictError(conflicts);
	const removed = scoped(change.removed, writer.subresource);
	for (const o of others) o.set = o.set.difference(changed).difference(removed);
	if (!mine) owners.push(mine = {entry: entryFor(writer, 'Apply'), set: applied});
	// An apply of the same fields in the same version leaves its entry as it was (time too), so applying
	// a configuration again changes nothing and writes nothing.
	else if (!mine.set.equals(applied) || mine.entry.apiVersion !== writer.apiVersion) mine.entry = entryFor(writer, 'Apply');
	mine.set = applied;
	return {object, managedFields: encode(owners)};
}

/** How kube-apiserver names a manager in a conflict: `"kubectl" with subresource "scale" using apps/v1`. */
function describeManager(entry: Owner['entry']): string {
	return `"${entry.manager}"${entry.subresource ? ` with subresource "${entry.subresource}"` : ''} using ${entry.apiVersion}`;
}

/** The apiserver's conflict error: a 409 whose causes list each field and its manager. */
function conflictError(conflicts: {owner: Owner; paths: string[][]}[]): StatusError {
	const total = conflicts.reduce((n, c) => n + c.paths.length, 0);
	let detail: string;
	if (total === 1) detail = `conflict with ${describeManager(conflicts[0].owner.entry)}: ${printPath(conflicts[0].paths[0])}`;
	else {
		const byManager = [...conflicts].sort((a, b) => describeManager(a.owner.entry).localeCompare(describeManager(b.owner.entry)));
		detail = 'conflicts with' + byManager.map(c => c.paths.length === 1
			? ` ${describeManager(c.owner.entry)}: ${printPath(c.paths[0])}`
			: ` ${describeManager(c.owner.entry)}:${c.paths.map(p => `\n- ${printPath(p)}`).join('')}`).join('');
	}
	const causes = conflicts.flatMap(c => c.paths.map(p => ({reason: 'FieldManagerConflict', message: `conflict with ${describeManager(c.owner.entry)}`, field: printPath(p)})));
	return new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 409, reason: 'Conflict',
		message: `Apply failed with ${total} conflict${total === 1 ? '' : 's'}: ${detail}`, details: {causes}});
}
