// Label and field selectors, in the text syntax kubectl sends
// (k8s.io/apimachinery/pkg/labels and pkg/fields).
import {badRequest} from './errors.js';
import type {KubeObject} from './object.js';

export type Requirement =
	| {key: string; op: '=' | '!='; values: [string]}
	| {key: string; op: 'in' | 'notin'; values: string[]}
	| {key: string; op: 'exists' | '!'; values: []};

export type LabelSelector = Requirement[];

const keyPattern = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

/** Split on commas that are not inside parentheses: "a in (x,y),b" -> ["a in (x,y)", "b"]. */
function splitTerms(text: string): string[] {
	const terms: string[] = [];
	let depth = 0;
	let current = '';
	for (const ch of text) {
		if (ch === '(') depth++;
		if (ch === ')') depth--;
		if (ch === ',' && depth === 0) {
			terms.push(current);
			current = '';
		} else {
			current += ch;
		}
	}
	if (current.trim() !== '' || terms.length > 0) terms.push(current);
	return terms.map(t => t.trim()).filter(t => t !== '');
}

export function parseLabelSelector(text: string): LabelSelector {
	const requirements: Requirement[] = [];
	for (const term of splitTerms(text)) {
		let m: RegExpMatchArray | null;
		if ((m = term.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
			const values = m[3].split(',').map(v => checkValue(v.trim(), text)).filter(v => v !== '');
			requirements.push({key: checkKey(m[1], text), op: m[2] as 'in' | 'notin', values});
		} else if ((m = term.match(/^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
			requirements.push({key: checkKey(m[1], text), op: m[2] === '!=' ? '!=' : '=', values: [checkValue(m[3], text)]});
		} else if ((m = term.match(/^!\s*(\S+)$/))) {
			requirements.push({key: checkKey(m[1], text), op: '!', values: []});
		} else if ((m = term.match(/^(\S+)$/))) {
			requirements.push({key: checkKey(m[1], text), op: 'exists', values: []});
		} else {
			throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
		}
	}
	return requirements;
}

const valuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkValue(value: string, whole: string): string {
	if (value.length > 63 || !valuePattern.test(value)) throw badRequest(`unable to parse requirement: invalid label value: "${value}" in selector "${whole}"`);
	return value;
}

function checkKey(key: string, whole: string): string {
	if (!keyPattern.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${whole}"`);
	return key;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
	const l = labels ?? {};
	return selector.every(r => {
		const has = Object.hasOwn(l, r.key);
		switch (r.op) {
			case '=': return has && l[r.key] === r.values[0];
			case '!=': return !has || l[r.key] !== r.values[0];
			case 'in': return has && r.values.includes(l[r.key]);
			case 'notin': return !has || !r.values.includes(l[r.key]);
			case 'exists': return has;
			case '!': return !has;
		}
	});
}

/** metav1.LabelSelector (matchLabels + matchExpressions) to requirements. */
export function fromLabelSelector(selector: {matchLabels?: Record<string, string>; matchExpressions?: {key: string; operator: string; values?: string[]}[]} | undefined): LabelSelector {
	const out: Requirement[] = [];
	for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) out.push({key, op: '=', values: [value]});
	for (const e of selector?.matchExpressions ?? []) {
		switch (e.operator) {
			case 'In': out.push({key: e.key, op: 'in', values: e.values ?? []}); break;
			case 'NotIn': out.push({key: e.key, op: 'notin', values: e.values ?? []}); break;
			case 'Exists': out.push({key: e.key, op: 'exists', values: []}); break;
			case 'DoesNotExist': out.push({key: e.key, op: '!', values: []}); break;
		}
	}
	return out;
}

/** Requirements back to the text form, as `kubectl get -l` and Scale.status.selector show it. */
export function formatLabelSelector(selector: LabelSelector): string {
	return selector.map(r => {
		switch (r.op) {
			case '=': case '!=': return `${r.key}${r.op}${r.values[0]}`;
			case 'in': case 'notin': return `${r.key} ${r.op} (${r.values.join(',')})`;
			case 'exists': return r.key;
			case '!': return `!${r.key}`;
		}
	}).join(',');
}

export interface FieldRequirement {
	field: string;
	op: '=' | '!=';
	value: string;
}

export function parseFieldSelector(text: string): FieldRequirement[] {
	return splitTerms(text).map(term => {
		const m = term.match(/^([^!=]+)(==|=|!=)(.*)$/);
		if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
		return {field: m[1].trim(), op: m[2] === '!=' ? '!=' : '=', value: m[3].trim()};
	});
}

/** Read a dotted field path such as `spec.nodeName` or `involvedObject.uid` from an object. */
export function fieldValue(obj: KubeObject, path: string): string {
	let cur: unknown = obj;
	for (const part of path.split('.')) {
		if (typeof cur !== 'object' || cur === null) return '';
		cur = (cur as Record<string, unknown>)[part];
	}
	if (cur === undefined || cur === null) return '';
	return String(cur);
}

export function matchesFields(selector: FieldRequirement[], obj: KubeObject): boolean {
	return selector.every(r => {
		const v = fieldValue(obj, r.field);
		return r.op === '=' ? v === r.value : v !== r.value;
	});
}

/**
 * The field labels each kind can be selected on: the field label conversion
 * funcs kube-apiserver registers (pkg/apis/core/v1/conversion.go, and the
 * apps and batch ones); every other kind takes metadata.name and
 * metadata.namespace (runtime.DefaultMetaV1FieldSelectorConversion).
 * Returns the label to match (spec.host is an old name of spec.nodeName), or
 * undefined when the kind does not support it.
 */
const fieldLabels: Record<string, string[]> = {
	Pod: ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName',
		'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'],
	Node: ['metadata.name', 'spec.unschedulable'],
	Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
		'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type', 'metadata.namespace', 'metadata.name'],
	Namespace: ['status.phase', 'metadata.name'],
	Secret: ['type', 'metadata.namespace', 'metadata.name'],
	Service: ['metadata.namespace', 'metadata.name', 'spec.clusterIP', 'spec.type'],
	ReplicaSet: ['metadata.name', 'metadata.namespace', 'status.replicas'],
	Job: ['metadata.name', 'metadata.namespace', 'status.successful'],
};

export function supportedFieldLabel(type: {kind: string}, label: string): string | undefined {
	if (type.kind === 'Pod' && label === 'spec.host') return 'spec.nodeName';
	const supported = fieldLabels[type.kind] ?? ['metadata.name', 'metadata.namespace'];
	return supported.includes(label) ? label : undefined;
}
