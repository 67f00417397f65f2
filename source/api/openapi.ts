// The official Kubernetes OpenAPI schemas (openapi/README.md: v1.32's
// swagger.json, as data), in the two shapes kube-apiserver serves them:
// /openapi/v2 whole, and per group-version OpenAPI v3 documents whose
// components.schemas hold each served kind's schema and everything it
// references. kubectl explain reads the v3 documents; kubectl's client-side
// validation reads v2. Loaded on first use (3 MB of JSON, about 60 ms) and
// kept.
import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import zlib from 'node:zlib';
import protobuf from 'protobufjs';
import type {ResourceType} from './resources.js';

type Schema = Record<string, any>;

export interface SwaggerDocument {
	swagger: string;
	info: Record<string, unknown>;
	paths: Record<string, unknown>;
	definitions: Record<string, Schema>;
}

const file = fileURLToPath(new URL('../../../openapi/swagger-v1.32.json.gz', import.meta.url));
let loaded: SwaggerDocument | undefined;

export function swagger(): SwaggerDocument {
	loaded ??= JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8')) as SwaggerDocument;
	return loaded;
}

/** The definition of a kind, by its group, version and kind (x-kubernetes-group-version-kind). */
export function definitionName(type: Pick<ResourceType, 'group' | 'version' | 'kind'>): string | undefined {
	return byGvk().get(`${type.group}/${type.version}/${type.kind}`);
}

let gvkIndex: Map<string, string> | undefined;
function byGvk(): Map<string, string> {
	if (gvkIndex) return gvkIndex;
	gvkIndex = new Map();
	for (const [name, schema] of Object.entries(swagger().definitions)) {
		for (const gvk of (schema['x-kubernetes-group-version-kind'] ?? []) as {group: string; version: string; kind: string}[]) {
			// Options and event kinds are listed under many groups; the kind's own group comes first in the document.
			const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
			if (!gvkIndex.has(key)) gvkIndex.set(key, name);
		}
	}
	return gvkIndex;
}

const v2Ref = '#/definitions/';
const v3Ref = '#/components/schemas/';

/** The definitions the named ones reference, themselves included. */
function closure(names: string[]): Set<string> {
	const defs = swagger().definitions;
	const seen = new Set<string>();
	const visit = (value: unknown): void => {
		if (Array.isArray(value)) value.forEach(visit);
		else if (value && typeof value === 'object') {
			for (const [key, v] of Object.entries(value)) {
				if (key === '$ref' && typeof v === 'string' && v.startsWith(v2Ref)) add(v.slice(v2Ref.length));
				else visit(v);
			}
		}
	};
	const add = (name: string) => {
		if (seen.has(name) || !defs[name]) return;
		seen.add(name);
		visit(defs[name]);
	};
	names.forEach(add);
	return seen;
}

/**
 * A v2 schema as kube-openapi writes it in v3: references point into components.schemas, and a
 * reference with siblings (a field's description, its default) is wrapped in allOf, because v3
 * ignores what sits beside a $ref.
 */
function toV3(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(toV3);
	if (!value || typeof value !== 'object') return value;
	const out: Schema = {};
	for (const [key, v] of Object.entries(value)) out[key] = key === '$ref' && typeof v === 'string' ? v.replace(v2Ref, v3Ref) : toV3(v);
	if (typeof out.$ref === 'string' && Object.keys(out).length > 1) {
		const {$ref, ...rest} = out;
		return {...rest, allOf: [{$ref}]};
	}
	return out;
}

/** components.schemas for a group-version's kinds: their schemas and all they reference. */
export function v3Schemas(types: readonly ResourceType[]): Record<string, unknown> {
	const names = types.map(definitionName).filter((n): n is string => !!n);
	const defs = swagger().definitions;
	return Object.fromEntries([...closure(names)].sort().map(name => [name, toV3(defs[name])]));
}

/**
 * /openapi/v2 as kube-apiserver serves it: the definitions of every kind (and what they
 * reference), with no paths (no client of ours reads them, and the definitions are what kubectl's
 * validation and explain look up, by each kind's x-kubernetes-group-version-kind).
 */
export function v2Document(): SwaggerDocument {
	const doc = swagger();
	return {swagger: doc.swagger, info: {title: 'Kubernetes', version: 'v1.32.0-kubedeck'}, paths: {}, definitions: doc.definitions};
}

const protoFile = fileURLToPath(new URL('../../../protos/github.com/google/gnostic-models/openapiv2/OpenAPIv2.proto', import.meta.url));
let encodedV2: Buffer | undefined;

/**
 * The same document in gnostic's OpenAPIv2 protobuf (openapi.v2.Document), which is the only form
 * kubectl 1.27 and 1.28 ask for (application/com.github.proto-openapi.spec.v2@v1.0+protobuf).
 * Encoded once. Values gnostic keeps as YAML (defaults, enums, vendor extensions) are written as
 * JSON, which is YAML too.
 */
export function v2Protobuf(): Buffer {
	if (encodedV2) return encodedV2;
	const root = new protobuf.Root();
	// Its one import, google/protobuf/any.proto, is one of protobufjs's bundled common types.
	root.loadSync(protoFile, {keepCase: true});
	const Document = root.lookupType('openapi.v2.Document');
	const doc = v2Document();
	const message = {
		swagger: doc.swagger, info: doc.info, paths: {},
		definitions: {additional_properties: Object.entries(doc.definitions).map(([name, schema]) => ({name, value: gnosticSchema(schema)}))},
	};
	encodedV2 = Buffer.from(Document.encode(Document.fromObject(message)).finish());
	return encodedV2;
}

const yamlAny = (value: unknown) => ({yaml: `${JSON.stringify(value)}\n`});
/** JSON Schema keywords whose gnostic field is the same number or string, by gnostic's field name. */
const plainFields: Record<string, string> = {
	format: 'format', title: 'title', description: 'description', multipleOf: 'multiple_of', maximum: 'maximum', exclusiveMaximum: 'exclusive_maximum',
	minimum: 'minimum', exclusiveMinimum: 'exclusive_minimum', maxLength: 'max_length', minLength: 'min_length', pattern: 'pattern',
	maxItems: 'max_items', minItems: 'min_items', uniqueItems: 'unique_items', maxProperties: 'max_properties', minProperties: 'min_properties',
	required: 'required', discriminator: 'discriminator', readOnly: 'read_only',
};

/** A JSON schema as gnostic's Schema message (field for field; vendor extensions in order). */
function gnosticSchema(schema: Schema): Schema {
	const out: Schema = {};
	const extensions: {name: string; value: {yaml: string}}[] = [];
	for (const [key, value] of Object.entries(schema)) {
		if (key.startsWith('x-')) extensions.push({name: key, value: yamlAny(value)});
		else if (key === '$ref') out._ref = value;
		else if (key === 'type') out.type = {value: Array.isArray(value) ? value : [value]};
		else if (key === 'items') out.items = {schema: (Array.isArray(value) ? value : [value]).map(gnosticSchema)};
		else if (key === 'properties') out.properties = {additional_properties: Object.entries(value as Record<string, Schema>).map(([name, s]) => ({name, value: gnosticSchema(s)}))};
		else if (key === 'additionalProperties') out.additional_properties = typeof value === 'boolean' ? {boolean: value} : {schema: gnosticSchema(value)};
		else if (key === 'allOf') out.all_of = (value as Schema[]).map(gnosticSchema);
		else if (key === 'default' || key === 'example') out[key] = yamlAny(value);
		else if (key === 'enum') out.enum = (value as unknown[]).map(yamlAny);
		else if (plainFields[key]) out[plainFields[key]] = value;
	}
	if (extensions.length) out.vendor_extension = extensions;
	return out;
}
