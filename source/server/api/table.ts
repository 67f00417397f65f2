// meta.k8s.io/v1 Table responses for `kubectl get` (kubectl-compat.md section 3),
// built from the same renderers the CLI and dashboard use.
import type {KubeObject} from '../../api/object.js';
import {rendererFor} from '../../render/columns.js';

export function wantsTable(accept: string | undefined): boolean {
	return !!accept && /as=Table/.test(accept);
}

function rowObject(obj: KubeObject, includeObject: string | undefined): unknown {
	if (includeObject === 'Object') return obj;
	if (includeObject === 'None') return undefined;
	return {kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata};
}

export function toTable(kind: string, items: KubeObject[], resourceVersion: string, includeObject?: string, withColumns = true) {
	const renderer = rendererFor(kind);
	const now = Date.now();
	return {
		kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {resourceVersion},
		columnDefinitions: withColumns ? renderer.columns.map(col => ({
			name: col.name, type: col.type ?? 'string', format: col.name === 'Name' ? 'name' : '', description: col.description ?? col.name, priority: col.priority,
		})) : null,
		rows: items.map(obj => ({cells: renderer.row(obj, now), object: rowObject(obj, includeObject)})),
	};
}
