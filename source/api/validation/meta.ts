// Name, label and metadata rules from k8s.io/apimachinery/pkg/util/validation
// and apimachinery's ValidateObjectMeta, with their messages.
import {field, type FieldError} from '../errors.js';
import type {KubeObject} from '../object.js';

const dns1123LabelRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123SubdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedNameRe = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const configKeyRe = /^[-._a-zA-Z0-9]+$/;

export const dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** Problems with a DNS-1123 label (63 characters): namespaces, services, container names. */
export function dns1123Label(value: string): string[] {
	const problems: string[] = [];
	if (value.length > 63) problems.push('must be no more than 63 characters');
	if (!dns1123LabelRe.test(value)) problems.push(dns1123LabelMessage);
	return problems;
}

/** Problems with a DNS-1123 subdomain (253 characters): most object names. */
export function dns1123Subdomain(value: string): string[] {
	const problems: string[] = [];
	if (value.length > 253) problems.push('must be no more than 253 characters');
	if (!dns1123SubdomainRe.test(value)) problems.push(dns1123SubdomainMessage);
	return problems;
}

/** Label and annotation keys: an optional DNS subdomain prefix, "/", a 63-character name. */
export function qualifiedName(value: string): string[] {
	const parts = value.split('/');
	let name = value;
	const problems: string[] = [];
	if (parts.length === 2) {
		const [prefix] = parts;
		name = parts[1];
		if (prefix === '') problems.push('prefix part must be non-empty');
		else problems.push(...dns1123Subdomain(prefix).map(p => `prefix part ${p}`));
	} else if (parts.length > 2) {
		return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
	}
	if (name.length === 0) problems.push('name part must be non-empty');
	else if (name.length > 63) problems.push('name part must be no more than 63 characters');
	if (name.length > 0 && !qualifiedNameRe.test(name)) {
		problems.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
	}
	return problems;
}

export function labelValue(value: string): string[] {
	const problems: string[] = [];
	if (value.length > 63) problems.push('must be no more than 63 characters');
	if (!labelValueRe.test(value)) problems.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
	return problems;
}

export function configMapKey(value: string): string[] {
	const problems: string[] = [];
	if (value.length > 253) problems.push('must be no more than 253 characters');
	if (!configKeyRe.test(value)) problems.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
	if (value === '.' || value === '..') problems.push("must not be '.' or '..'");
	return problems;
}

export function validateLabels(labels: unknown, path: string): FieldError[] {
	if (labels === undefined || labels === null) return [];
	if (typeof labels !== 'object' || Array.isArray(labels)) return [field.invalid(path, labels, 'must be a map of string keys to string values')];
	const errors: FieldError[] = [];
	for (const [key, value] of Object.entries(labels)) {
		for (const p of qualifiedName(key)) errors.push(field.invalid(path, key, p));
		if (typeof value !== 'string') errors.push(field.invalid(`${path}.${key}`, value, 'must be a string'));
		else for (const p of labelValue(value)) errors.push(field.invalid(path, value, p));
	}
	return errors;
}

const totalAnnotationSizeLimit = 256 * 1024;

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
	if (annotations === undefined || annotations === null) return [];
	if (typeof annotations !== 'object' || Array.isArray(annotations)) return [field.invalid(path, annotations, 'must be a map of string keys to string values')];
	const errors: FieldError[] = [];
	let size = 0;
	for (const [key, value] of Object.entries(annotations)) {
		for (const p of qualifiedName(key.toLowerCase())) errors.push(field.invalid(path, key, p));
		if (typeof value !== 'string') errors.push(field.invalid(`${path}.${key}`, value, 'must be a string'));
		// ValidateAnnotationsSize counts bytes of keys and values; labels have no such total (only
		// per-key and per-value rules), so a huge label set is bounded by the object size limit alone.
		size += Buffer.byteLength(key) + Buffer.byteLength(String(value));
	}
	if (size > totalAnnotationSizeLimit) errors.push(field.tooLong(path, totalAnnotationSizeLimit));
	return errors;
}

export type NameRule = 'label' | 'subdomain' | 'path';

/** ValidatePathSegmentName: what RBAC objects' names need (system:aggregate-to-view is one). */
function pathSegment(value: string): string[] {
	if (value === '.' || value === '..') return [`may not be '${value}'`];
	return ['/', '%'].filter(c => value.includes(c)).map(c => `may not contain '${c}'`);
}

/** ValidateObjectMeta: name (or generateName), namespace, labels, annotations. */
export function validateObjectMeta(obj: KubeObject, namespaced: boolean, nameRule: NameRule): FieldError[] {
	const errors: FieldError[] = [];
	const meta = obj.metadata;
	if (typeof meta !== 'object' || meta === null) return [field.required('metadata')];
	const check = nameRule === 'label' ? dns1123Label : nameRule === 'path' ? pathSegment : dns1123Subdomain;
	// generateName is validated as a name prefix, before a suffix is added (apimachinery ValidateObjectMeta).
	if (typeof meta.generateName === 'string' && meta.generateName) {
		for (const p of check(meta.generateName.replace(/-$/, 'a'))) errors.push(field.invalid('metadata.generateName', meta.generateName, p));
	}
	if (!meta.name) {
		if (!meta.generateName) errors.push(field.required('metadata.name', 'name or generateName is required'));
	} else if (typeof meta.name !== 'string') {
		errors.push(field.invalid('metadata.name', meta.name, 'must be a string'));
	} else {
		for (const p of check(meta.name)) errors.push(field.invalid('metadata.name', meta.name, p));
	}
	if (namespaced) {
		if (!meta.namespace) errors.push(field.required('metadata.namespace'));
		else for (const p of dns1123Label(meta.namespace)) errors.push(field.invalid('metadata.namespace', meta.namespace, p));
	} else if (meta.namespace) {
		errors.push(field.forbidden('metadata.namespace', 'not allowed on this type'));
	}
	errors.push(...validateLabels(meta.labels, 'metadata.labels'));
	errors.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
	for (const [i, ref] of (meta.ownerReferences ?? []).entries()) {
		for (const f of ['apiVersion', 'kind', 'name', 'uid'] as const) {
			if (!ref[f]) errors.push(field.required(`metadata.ownerReferences[${i}].${f}`));
		}
	}
	if ((meta.ownerReferences ?? []).filter(r => r.controller).length > 1) {
		errors.push(field.invalid('metadata.ownerReferences', meta.ownerReferences, 'Only one reference can have Controller set to true'));
	}
	return errors;
}
