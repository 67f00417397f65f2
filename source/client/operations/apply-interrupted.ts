// When the connection to the engine fails in the middle of `apply -f`.
// kubectl applies document by document, so a partial apply is what it gives
// too; it prints, for the document whose request failed, the error of the
// step that failed (k8s.io/kubectl/pkg/cmd/apply/apply.go: "error when
// retrieving current configuration of:\n<info>\nfrom server for: FILE",
// "error when creating FILE", "error when applying patch: ..."). After a lost
// connection no later document can reach the engine, so instead of one more
// error per document this says in one line which were applied, which may
// have been, and which were not.
import type {ResourceType} from '../../api/resources.js';
import type {ConnectionError} from '../errors.js';
import type {Manifest} from './manifests.js';

export type ApplyStep = 'retrieving' | 'creating' | 'patching';

interface Document {
	manifest: Manifest;
	type: ResourceType;
	namespace?: string;
	name: string;
}

export class ApplyInterrupted extends Error {
	constructor(readonly document: Document, readonly step: ApplyStep, readonly connection: ConnectionError, patch?: unknown) {
		super(kubectlMessage(document, step, connection, patch));
	}

	/** The request that failed may have written: a create or patch whose connection was lost, not refused. */
	get mayHaveApplied(): boolean {
		return this.step !== 'retrieving' && this.connection.mayHaveArrived;
	}
}

/** cli-runtime's resource.Info.String(): `Resource: "apps/v1, Resource=deployments", GroupVersionKind: ...\nName: ..., Namespace: ...`. */
function infoString({type, name, namespace}: Document): string {
	const gv = `${type.group}/${type.version}`;
	return `Resource: "${gv}, Resource=${type.plural}", GroupVersionKind: "${gv}, Kind=${type.kind}"\nName: "${name}", Namespace: "${namespace ?? ''}"`;
}

function kubectlMessage(document: Document, step: ApplyStep, cause: ConnectionError, patch: unknown): string {
	const source = document.manifest.source;
	switch (step) {
		case 'retrieving': return `error when retrieving current configuration of:\n${infoString(document)}\nfrom server for: "${source}": ${cause.message}`;
		case 'creating': return `error when creating "${source}": ${cause.message}`;
		case 'patching': return `error when applying patch:\n${JSON.stringify(patch)}\nto:\n${infoString(document)}\nfor: "${source}": ${cause.message}`;
	}
}

/** `"a.yaml" (documents 3-5, 9), "b.yaml" (document 1)` */
export function documentRanges(manifests: Manifest[]): string {
	const bySource = new Map<string, number[]>();
	for (const m of manifests) {
		const list = bySource.get(m.source) ?? [];
		if (list[list.length - 1] !== m.index) list.push(m.index);
		bySource.set(m.source, list);
	}
	return [...bySource].map(([source, indexes]) => {
		const ranges: string[] = [];
		for (let i = 0; i < indexes.length; i++) {
			let j = i;
			while (j + 1 < indexes.length && indexes[j + 1] === indexes[j] + 1) j++;
			ranges.push(i === j ? String(indexes[i]) : `${indexes[i]}-${indexes[j]}`);
			i = j;
		}
		return `"${source}" (document${indexes.length > 1 ? 's' : ''} ${ranges.join(', ')})`;
	}).join(', ');
}

/**
 * The line after the interrupted document's error: how many were applied,
 * whether the one in flight may have been, and which were not.
 */
export function interruptedSummary(all: Manifest[], position: number, applied: number, error: ApplyInterrupted): string {
	const inFlight = all[position];
	const notApplied = all.slice(error.mayHaveApplied ? position + 1 : position);
	const parts = [`error: the connection to ${error.connection.server} was lost: ${applied} of ${all.length} documents applied`];
	if (error.mayHaveApplied) parts.push(`${documentRanges([inFlight])} may have been applied before it was lost`);
	if (notApplied.length > 0) parts.push(`not applied: ${documentRanges(notApplied)}`);
	return parts.join('; ');
}
