// Printing objects the way kubectl does: -o yaml|json|name|jsonpath|wide and
// the default table, from the shared per-kind renderers.
import {type KubeObject, withoutManagedFields} from '../api/object.js';
import {objectRef, refOf, type ResourceType} from '../api/resources.js';
import {rendererFor} from '../render/columns.js';
import {alignColumns} from '../render/format.js';
import {CliError} from '../client/errors.js';
import {toJson, toYaml} from '../render/yaml.js';
import {jsonpathTemplate} from './jsonpath.js';

export type OutputFormat = {kind: 'table' | 'wide' | 'yaml' | 'json' | 'name'} | {kind: 'jsonpath'; template: string};

export function parseOutput(value: string | undefined): OutputFormat {
	if (!value) return {kind: 'table'};
	if (['wide', 'yaml', 'json', 'name'].includes(value)) return {kind: value as 'wide'};
	const jp = value.match(/^jsonpath=(.*)$/s);
	if (jp) return {kind: 'jsonpath', template: jp[1]};
	throw new CliError(`error: unable to match a printer suitable for the output format "${value}", allowed formats are: json,jsonpath,name,wide,yaml`);
}

/** A list in the shape kubectl prints for -o yaml/json of many objects. */
export function asList(items: KubeObject[]) {
	return {apiVersion: 'v1', items, kind: 'List', metadata: {resourceVersion: ''}};
}


/** Format objects that are not a table (yaml, json, name, jsonpath). */
export function formatObjects(all: KubeObject[], format: OutputFormat, single: boolean, showManagedFields = false): string {
	const items = showManagedFields || (format.kind !== 'yaml' && format.kind !== 'json') ? all : all.map(withoutManagedFields);
	switch (format.kind) {
		case 'yaml': return single && items.length === 1 ? toYaml(items[0]) : toYaml(asList(items));
		case 'json': return single && items.length === 1 ? toJson(items[0]) : toJson(asList(items));
		case 'name': return items.map(o => `${refOf(o)}\n`).join('');
		case 'jsonpath': return jsonpathTemplate(format.template, single && items.length === 1 ? items[0] : asList(items));
		default: throw new Error(`not a non-table format: ${format.kind}`);
	}
}

export interface TableOptions {
	wide?: boolean;
	allNamespaces?: boolean;
	/** Prefix names with kind (`pod/web`), as kubectl does when several types are printed. */
	withKind?: boolean;
	noHeaders?: boolean;
	showLabels?: boolean;
	now?: number;
}

/** Rows of one type's table (header first unless noHeaders). */
export function tableRows(type: ResourceType, items: KubeObject[], options: TableOptions): string[][] {
	const renderer = rendererFor(type.kind);
	const now = options.now ?? Date.now();
	const show = renderer.columns.map(col => col.priority === 0 || !!options.wide);
	const rows: string[][] = [];
	if (!options.noHeaders) {
		const header = renderer.columns.filter((_, i) => show[i]).map(col => col.name.toUpperCase());
		if (options.allNamespaces && type.namespaced) header.unshift('NAMESPACE');
		if (options.showLabels) header.push('LABELS');
		rows.push(header);
	}
	for (const obj of items) {
		const cells = renderer.row(obj, now).filter((_, i) => show[i]);
		if (options.withKind && renderer.columns[0]?.name === 'Name') cells[0] = objectRef(type, cells[0]);
		if (options.allNamespaces && type.namespaced) cells.unshift(obj.metadata.namespace ?? '');
		if (options.showLabels) cells.push(Object.entries(obj.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>');
		rows.push(cells);
	}
	return rows;
}

export function formatTable(type: ResourceType, items: KubeObject[], options: TableOptions): string {
	return `${alignColumns(tableRows(type, items, options))}\n`;
}
