// Where in the buffer an error belongs: a YAML syntax error carries its own
// position; a server validation error names a field path
// (`spec.template.spec.containers[0].image`), which the YAML document's
// node ranges turn into a line. A field that is missing from the text (a
// required one) is placed at its nearest parent that is there.
import {isMap, isScalar, isSeq, LineCounter, type Node, parseDocument} from 'yaml';
import {type StatusError} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';

export interface LineError {
	/** 0-based line in the buffer. */
	line: number;
	message: string;
}

/** `a.b[0].c[key]` -> ['a', 'b', 0, 'c', 'key']. */
export function fieldPath(field: string): (string | number)[] {
	const out: (string | number)[] = [];
	for (const m of field.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) {
		if (m[1] !== undefined) out.push(m[1]);
		else out.push(/^\d+$/.test(m[2]) ? Number(m[2]) : m[2]);
	}
	return out;
}

export function lineOfField(text: string, field: string): number {
	const counter = new LineCounter();
	const doc = parseDocument(text, {lineCounter: counter});
	const lineAt = (node: Node | undefined | null, fallback: number) => (node?.range ? counter.linePos(node.range[0]).line - 1 : fallback);
	let container = doc.contents as Node | null | undefined;
	let line = 0;
	for (const key of fieldPath(field)) {
		if (isMap(container)) {
			const pair = container.items.find(p => (isScalar(p.key) ? p.key.value : p.key) === key);
			if (!pair) break;
			// The key's line: that is where a reader looks for the field.
			line = lineAt(pair.key as Node, line);
			container = pair.value as Node | null;
		} else if (isSeq(container) && typeof key === 'number' && container.items[key]) {
			container = container.items[key] as Node;
			line = lineAt(container, line);
		} else break;
	}
	return line;
}

/** The buffer's text as an object, or the YAML errors with their lines. */
export function parseBuffer(text: string): {object: KubeObject} | {errors: LineError[]} {
	const counter = new LineCounter();
	const doc = parseDocument(text, {lineCounter: counter});
	if (doc.errors.length > 0) {
		return {errors: doc.errors.map(e => ({line: Math.max(0, (e.linePos?.[0].line ?? 1) - 1), message: `error converting YAML to JSON: ${e.message.split('\n')[0]}`}))};
	}
	const object = doc.toJS() as KubeObject;
	if (!object || typeof object !== 'object' || Array.isArray(object)) return {errors: [{line: 0, message: 'error: the manifest must be a single object with apiVersion, kind and metadata'}]};
	return {object};
}

/** A server error as messages placed on lines: each cause at its field, anything else at the top. */
export function errorLines(text: string, error: StatusError): LineError[] {
	const causes = error.status.details?.causes ?? [];
	if (causes.length === 0) return [{line: 0, message: error.message}];
	return causes.map(c => ({line: c.field ? lineOfField(text, c.field) : 0, message: `${c.field ? `${c.field}: ` : ''}${c.message}`}));
}
