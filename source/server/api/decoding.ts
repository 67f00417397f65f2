// From request bytes to a typed object, in the order kube-apiserver's
// handlers take them (create.go, update.go, patch.go, delete.go): syntax, then
// the body's kind and version (defaulted from the URL, as the decoder's
// defaultGVK does), then the Go types of every field. Errors are its words:
//   the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: ...
//   Service in version "v1" cannot be handled as a Pod: converting (v1.Service) to (core.Pod): unknown conversion
//   Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field ...
// A patched object that fails the type check is a 422 on the field "patch",
// as jsonPatcher.applyPatchToCurrentObject reports it.
import {decodeError} from '../../api/decode.js';
import {badRequest, field, invalid} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import {apiVersionOf, type ResourceType, typeForKind} from '../../api/resources.js';
import {loadSchema} from '../../api/schema.js';
import {BodySyntaxError, decodeBody, decodePatchBody, summarizeData, protobuf} from './body.js';

/** The struct encoding/json fills to find a body's kind (runtime/serializer/json's SimpleMetaFactory), as reflect prints it. */
const findKindType = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/** Internal (hub) package names of the groups, as the converter names its types. */
const internalPackage: Record<string, string> = {'': 'core', apps: 'apps', batch: 'batch', 'networking.k8s.io': 'networking', autoscaling: 'autoscaling', 'storage.k8s.io': 'storage'};

const versionOf = (apiVersion: string) => apiVersion.split('/').pop()!;

/**
 * What a write does with fields its kind does not have (the fieldValidation parameter): drop them
 * silently, drop them with a Warning each (the API server's default), or refuse the write.
 */
export interface FieldValidation {
	mode: 'Ignore' | 'Warn' | 'Strict';
	warn(text: string): void;
}

const strictError = (unknown: string[]) => `strict decoding error: ${unknown.map(f => `unknown field ${JSON.stringify(f)}`).join(', ')}`;

/** Unknown fields found in a write, dealt with as its fieldValidation says (the caller throws a Strict refusal in its own words). */
function unknownFields(validation: FieldValidation | undefined, unknown: string[]): string | undefined {
	if (!validation || validation.mode === 'Ignore' || unknown.length === 0) return undefined;
	if (validation.mode === 'Strict') return strictError(unknown);
	for (const f of unknown) validation.warn(`unknown field ${JSON.stringify(f)}`);
	return undefined;
}

export async function decodeObject(type: ResourceType, buf: Buffer, contentType: string, validation?: FieldValidation): Promise<KubeObject> {
	const unrecognized = (why: string) => badRequest(`the object provided is unrecognized (must be of type ${type.kind}): ${why} (${summarizeData(buf)})`);
	let decoded;
	try {
		decoded = decodeBody(buf, contentType);
	} catch (error) {
		if (!(error instanceof BodySyntaxError)) throw error;
		throw unrecognized(error.message.startsWith('error converting YAML') || contentType === protobuf ? error.message : `couldn't get version/kind; json parse error: ${error.message}`);
	}
	let value = decoded.value;
	if (value === null || value === undefined) value = {};
	if (typeof value !== 'object' || Array.isArray(value)) {
		throw unrecognized(`couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value} into Go value of type ${findKindType}`);
	}
	const obj = value as KubeObject;
	for (const key of ['apiVersion', 'kind'] as const) {
		const v = obj[key] as unknown;
		if (v !== undefined && v !== null && typeof v !== 'string') {
			const kind = Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;
			throw unrecognized(`couldn't get version/kind; json parse error: json: cannot unmarshal ${kind} into Go struct field .${key} of type string`);
		}
	}
	// A missing kind or version is the URL's (the handler's defaultGVK).
	const apiVersion = obj.apiVersion || apiVersionOf(type);
	const kind = obj.kind || type.kind;
	const head = `${kind} in version ${JSON.stringify(versionOf(apiVersion))} cannot be handled as a ${type.kind}`;
	if (kind !== type.kind || apiVersion !== apiVersionOf(type)) {
		const known = typeForKind(apiVersion, kind);
		if (known) throw badRequest(`${head}: converting (${versionOf(apiVersion)}.${kind}) to (${internalPackage[type.group] ?? type.group}.${type.kind}): unknown conversion`);
		throw badRequest(`${head}: no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme "pkg/api/legacyscheme/scheme.go:30"`);
	}
	const schema = await loadSchema();
	const model = schema.modelForKind(type.version, type.kind);
	if (model) {
		const unknown: string[] = [];
		const problem = decodeError(schema, model, obj, decoded.numbers, unknown) ?? unknownFields(validation, unknown);
		if (problem) throw badRequest(`${head}: ${problem}`);
	}
	obj.apiVersion = apiVersion;
	obj.kind = kind;
	return obj;
}

/** A patch body: syntax errors are a plain 400 with the parser's message, as the patch libraries return them. */
export function decodePatch(buf: Buffer, contentType: string): unknown {
	try {
		return decodePatchBody(buf, contentType).value;
	} catch (error) {
		if (error instanceof BodySyntaxError) throw badRequest(error.message);
		throw error;
	}
}

/** A check of the patched object's types, run inside the patch's transaction before defaulting. */
export async function patchedTypeCheck(type: ResourceType, validation?: FieldValidation): Promise<(obj: KubeObject) => void> {
	const schema = await loadSchema();
	const model = schema.modelForKind(type.version, type.kind);
	return obj => {
		const unknown: string[] = [];
		const problem = model && decodeError(schema, model, obj, undefined, unknown);
		if (problem) throw invalid('', '', '', [field.invalid('patch', JSON.stringify(obj), problem)]);
		const strict = unknownFields(validation, unknown);
		if (strict) throw badRequest(strict);
	};
}

/** The fieldValidation query parameter (Warn when absent, as kube-apiserver defaults it). */
export function fieldValidationParam(q: URLSearchParams, warn: (text: string) => void): FieldValidation {
	const value = q.get('fieldValidation') ?? '';
	if (value === '') return {mode: 'Warn', warn};
	if (value !== 'Ignore' && value !== 'Warn' && value !== 'Strict') throw badRequest(`fieldValidation: invalid value ${JSON.stringify(value)}: must be one of "Ignore", "Warn" or "Strict"`);
	return {mode: value, warn};
}

/** A DELETE body: DeleteOptions, type-checked. kube-apiserver answers these decode errors with a 500; a 400 is what they are. */
export async function decodeDeleteOptions(buf: Buffer, contentType: string): Promise<Record<string, unknown>> {
	let value: unknown;
	try {
		value = decodeBody(buf, contentType).value;
	} catch (error) {
		if (error instanceof BodySyntaxError) throw badRequest(`couldn't get version/kind; json parse error: ${error.message}`);
		throw error;
	}
	if (value === null) return {};
	if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type v1.DeleteOptions`);
	const schema = await loadSchema();
	const model = schema.model('V1DeleteOptions');
	const problem = model && decodeError(schema, model, value);
	if (problem) throw badRequest(problem);
	return value as Record<string, unknown>;
}
