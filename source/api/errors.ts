// Errors in the shape of metav1.Status, with kube-apiserver's wording, so the
// CLI, the dashboard and the real kubectl all print the same thing.
import {type ResourceType, qualifiedPlural} from './resources.js';

export interface StatusCause {
	reason: string;
	message: string;
	field: string;
}

export interface Status {
	kind: 'Status';
	apiVersion: 'v1';
	metadata: Record<string, unknown>;
	status: 'Failure' | 'Success';
	message: string;
	reason: string;
	details?: {name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number};
	code: number;
}

export class StatusError extends Error {
	constructor(readonly status: Status) {
		super(status.message);
		this.name = 'StatusError';
	}

	get code(): number {
		return this.status.code;
	}

	get reason(): string {
		return this.status.reason;
	}
}

function failure(code: number, reason: string, message: string, details?: Status['details']): StatusError {
	return new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code});
}

export function notFound(type: ResourceType, name: string): StatusError {
	return failure(404, 'NotFound', `${qualifiedPlural(type)} "${name}" not found`, {name, group: type.group || undefined, kind: type.plural});
}

export function alreadyExists(type: ResourceType, name: string): StatusError {
	return failure(409, 'AlreadyExists', `${qualifiedPlural(type)} "${name}" already exists`, {name, group: type.group || undefined, kind: type.plural});
}

export function conflict(type: ResourceType, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): StatusError {
	return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedPlural(type)} "${name}": ${why}`, {name, group: type.group || undefined, kind: type.plural});
}

export function badRequest(message: string): StatusError {
	return failure(400, 'BadRequest', message);
}

export function methodNotAllowed(message: string): StatusError {
	return failure(405, 'MethodNotAllowed', message);
}

/** negotiation.NewUnsupportedMediaTypeError: the Status carries no details. */
export function unsupportedMediaType(accepted: string[]): StatusError {
	return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

/** NewRequestEntityTooLargeError. */
export function requestEntityTooLarge(detail: string): StatusError {
	return failure(413, 'RequestEntityTooLarge', `Request entity too large: ${detail}`);
}

export function forbidden(type: ResourceType, name: string, why: string): StatusError {
	return failure(403, 'Forbidden', `${qualifiedPlural(type)} "${name}" is forbidden: ${why}`, {name, group: type.group || undefined, kind: type.plural});
}

export function expired(message: string): StatusError {
	return failure(410, 'Expired', message);
}

export function internalError(message: string): StatusError {
	return failure(500, 'InternalError', `Internal error occurred: ${message}`);
}

export function pathNotFound(): StatusError {
	// kube-apiserver's generic response carries empty details ("details":{}); clients read them (kubectl debug
	// tells a missing subresource from a missing pod by the empty name, and dereferences details to do it).
	return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** One problem with one field, in the field.ErrorList vocabulary of apimachinery. */
export interface FieldError {
	field: string;
	type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueDuplicate' | 'FieldValueTypeInvalid' | 'FieldValueNotFound';
	detail: string;
	value?: unknown;
}

export const field = {
	required: (path: string, detail = ''): FieldError => ({field: path, type: 'FieldValueRequired', detail}),
	invalid: (path: string, value: unknown, detail: string): FieldError => ({field: path, type: 'FieldValueInvalid', detail, value}),
	notSupported: (path: string, value: unknown, supported: string[]): FieldError => ({
		field: path, type: 'FieldValueNotSupported', value,
		detail: `supported values: ${supported.map(s => `"${s}"`).join(', ')}`,
	}),
	forbidden: (path: string, detail: string): FieldError => ({field: path, type: 'FieldValueForbidden', detail}),
	tooLong: (path: string, max: number): FieldError => ({field: path, type: 'FieldValueTooLong', detail: `must have at most ${max} bytes`}),
	duplicate: (path: string, value: unknown): FieldError => ({field: path, type: 'FieldValueDuplicate', detail: '', value}),
	notFound: (path: string, value: unknown): FieldError => ({field: path, type: 'FieldValueNotFound', detail: '', value}),
};

/** A bad value Go prints with %#v (a []string{"x"}): shown as it is, not quoted. */
export class GoValue {
	constructor(readonly text: string) {}
}

/** Render a value the way apimachinery's field errors do: strings quoted, numbers bare. */
function showValue(value: unknown): string {
	if (value instanceof GoValue) return value.text;
	if (typeof value === 'string') return JSON.stringify(value);
	if (value === undefined) return 'null';
	if (typeof value === 'object' && value !== null) return JSON.stringify(value);
	return String(value);
}

/** "Invalid value: -1: must be greater than or equal to 0", the text after "spec.replicas: ". */
export function fieldErrorMessage(error: FieldError): string {
	switch (error.type) {
		case 'FieldValueRequired': return `Required value${error.detail ? `: ${error.detail}` : ''}`;
		case 'FieldValueInvalid': return `Invalid value: ${showValue(error.value)}: ${error.detail}`;
		case 'FieldValueNotSupported': return `Unsupported value: ${showValue(error.value)}: ${error.detail}`;
		case 'FieldValueForbidden': return `Forbidden: ${error.detail}`;
		case 'FieldValueTooLong': return `Too long: ${error.detail}`;
		case 'FieldValueDuplicate': return `Duplicate value: ${showValue(error.value)}`;
		case 'FieldValueNotFound': return `Not found: ${showValue(error.value)}`;
		case 'FieldValueTypeInvalid': return `Invalid value: ${showValue(error.value)}: ${error.detail}`;
	}
}

/**
 * A 422 Invalid, as NewInvalid builds it from a field.ErrorList: the message
 * names the qualified kind ("Deployment.apps", "DeleteOptions.meta.k8s.io").
 */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
	const lines = errors.map(e => `${e.field}: ${fieldErrorMessage(e)}`);
	const qualified = group ? `${kind}.${group}` : kind;
	const message = lines.length === 1
		? `${qualified} "${name}" is invalid: ${lines[0]}`
		: `${qualified} "${name}" is invalid: [${lines.join(', ')}]`;
	return failure(422, 'Invalid', message, {
		name: name || undefined, group: group || undefined, kind: kind || undefined,
		causes: errors.map(e => ({reason: e.type, message: fieldErrorMessage(e), field: e.field})),
	});
}

/** Turn a Status into the line kubectl prints for it. */
export function formatStatus(status: Status, context?: {verb?: string; source?: string}): string {
	if (status.reason === 'Invalid' && status.details?.causes?.length) {
		const kind = status.details.kind ?? 'object';
		const head = `The ${kind} "${status.details.name ?? ''}" is invalid: `;
		const causes = status.details.causes;
		if (causes.length === 1) return head + `${causes[0].field}: ${causes[0].message}`;
		return head + '\n' + causes.map(c => `* ${c.field}: ${c.message}`).join('\n');
	}
	const where = context?.verb && context.source ? `error when ${context.verb} "${context.source}": ` : '';
	return `Error from server (${status.reason || 'InternalError'}): ${where}${status.message}`;
}

export function isStatus(value: unknown): value is Status {
	return typeof value === 'object' && value !== null && (value as {kind?: string}).kind === 'Status';
}
