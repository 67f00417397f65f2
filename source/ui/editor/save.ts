// Saving the inline editor's buffer: parse, then update (PUT, with the
// resourceVersion the user started from) or create (a server dry run first).
// A refusal comes back as errors on lines and the buffer is kept; a conflict
// comes back with what changed on the server, for the user to reload or
// overwrite.
import {StatusError} from '../../api/errors.js';
import {deepEqual, isObject, type KubeObject, withoutManagedFields} from '../../api/object.js';
import {objectRef, typeForKind} from '../../api/resources.js';
import type {ClusterClient} from '../../client/types.js';
import {errorLines, parseBuffer, type LineError} from './errors.js';
import {applyManifests} from '../../client/operations/apply.js';
import {CliError} from '../../client/errors.js';
import {parseManifests} from '../../client/operations/manifests.js';
import {toYaml} from '../../render/yaml.js';

export type SaveResult =
	| {kind: 'saved'; message: string}
	| {kind: 'unchanged'; message: string}
	| {kind: 'errors'; errors: LineError[]}
	| {kind: 'conflict'; summary: string[]; latest: string};

/** Paths whose values differ, as `path: old → new` (status summarised, bookkeeping left out). */
export function changedPaths(before: unknown, after: unknown, path = '', out: string[] = []): string[] {
	if (path === 'metadata.managedFields' || path === 'metadata.resourceVersion') return out;
	if (path === 'status') {
		if (deepEqual(before, after)) return out;
		out.push('status changed (the controllers\' part, not yours)');
		return out;
	}
	if (isObject(before) && isObject(after)) {
		const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
		for (const key of keys) changedPaths(before[key], after[key], path ? `${path}.${key}` : key, out);
		return out;
	}
	if (!deepEqual(before, after)) {
		const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v).slice(0, 60));
		out.push(`${path}: ${show(before)} → ${show(after)}`);
	}
	return out;
}

async function conflictResult(client: ClusterClient, obj: KubeObject, original: string): Promise<SaveResult> {
	const type = typeForKind(obj.apiVersion, obj.kind)!;
	const latest = withoutManagedFields(await client.get(type, obj.metadata.namespace, obj.metadata.name!));
	const before = parseBuffer(original);
	const summary = changedPaths('object' in before ? before.object : {}, latest);
	summary.unshift(`resourceVersion ${('object' in before ? before.object.metadata?.resourceVersion : '') ?? '?'} → ${latest.metadata.resourceVersion}`);
	return {kind: 'conflict', summary: summary.slice(0, 10), latest: toYaml(latest)};
}

/** Several manifests (a paste after `:apply`): kubectl apply's way, every document checked before any is written. */
async function applyAll(client: ClusterClient, text: string, namespace: string): Promise<SaveResult> {
	try {
		const result = await applyManifests(client, parseManifests(text, 'the editor'), namespace);
		if (result.errors.length) return {kind: 'errors', errors: result.errors.map(message => ({line: 0, message}))};
		return {kind: 'saved', message: result.lines.join(', ')};
	} catch (error) {
		if (error instanceof CliError) return {kind: 'errors', errors: [{line: 0, message: error.message}]};
		throw error;
	}
}

export async function saveBuffer(client: ClusterClient, text: string, original: string, purpose: 'create' | 'update', options: {overwrite?: boolean; namespace?: string} = {}): Promise<SaveResult> {
	if (purpose === 'create' && /^---\s*$/m.test(text.trim())) return applyAll(client, text, options.namespace ?? 'default');
	const parsed = parseBuffer(text);
	if ('errors' in parsed) return {kind: 'errors', errors: parsed.errors};
	const obj = parsed.object;
	if (purpose === 'update' && text === original) return {kind: 'unchanged', message: 'Edit cancelled, no changes made.'};
	try {
		if (purpose === 'create') {
			// A dry run first: a refused object is reported before anything is written.
			await client.create(obj, {dryRun: true});
			const created = await client.create(obj);
			return {kind: 'saved', message: `${refOf(created)} created`};
		}
		if (options.overwrite) {
			const type = typeForKind(obj.apiVersion, obj.kind);
			if (type) obj.metadata.resourceVersion = (await client.get(type, obj.metadata.namespace, obj.metadata.name!)).metadata.resourceVersion;
		}
		const saved = await client.replace(obj);
		return {kind: 'saved', message: `${refOf(saved)} edited`};
	} catch (error) {
		if (!(error instanceof StatusError)) throw error;
		if (error.code === 409 && purpose === 'update') return conflictResult(client, obj, original);
		return {kind: 'errors', errors: errorLines(text, error)};
	}
}

function refOf(obj: KubeObject): string {
	const type = typeForKind(obj.apiVersion, obj.kind);
	return type ? objectRef(type, obj.metadata.name!) : `${obj.kind}/${obj.metadata.name}`;
}
