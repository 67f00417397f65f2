// What server-side apply needs to know of a kind's shape: which objects are
// structs and which are maps, which lists merge by key (and on which keys),
// which are sets and which are atomic. Read from the official OpenAPI
// definitions (openapi.ts) by the same rules structured-merge-diff's schema
// conversion uses for built-in kinds: x-kubernetes-list-type and
// x-kubernetes-list-map-keys where given, else a patch-merge-key makes a
// keyed list, else a list is atomic; x-kubernetes-map-type: atomic makes a
// leaf. A kind with no definition is "deduced": objects are maps, lists atomic.
import {swagger, definitionName} from './openapi.js';
import type {ResourceType} from './resources.js';

export type FieldSchema =
	| {kind: 'leaf'}
	| {kind: 'struct'; field(name: string): FieldSchema; declares(name: string): boolean}
	| {kind: 'map'; value: FieldSchema}
	| {kind: 'keyed'; keys: string[]; item: FieldSchema}
	| {kind: 'set'}
	| {kind: 'deduced'};

type Definition = Record<string, any>;

export const leaf: FieldSchema = {kind: 'leaf'};
export const deduced: FieldSchema = {kind: 'deduced'};

const structs = new Map<string, FieldSchema>();

/** The schema of a kind's stored version (deduced when the OpenAPI documents have no definition of it). */
export function schemaOf(type: Pick<ResourceType, 'group' | 'version' | 'kind'>): FieldSchema {
	const name = definitionName(type);
	return name ? definition(name) : deduced;
}

function definition(name: string): FieldSchema {
	let node = structs.get(name);
	if (node) return node;
	const def = swagger().definitions[name] as Definition | undefined;
	node = def ? (def.properties && def['x-kubernetes-map-type'] !== 'atomic' ? struct(def) : nodeOf(def)) : deduced;
	structs.set(name, node);
	return node;
}

/** A struct's fields, each resolved on first use and kept. */
function struct(def: Definition): FieldSchema {
	const fields = new Map<string, FieldSchema>();
	const properties = def.properties as Record<string, Definition>;
	return {
		kind: 'struct',
		declares: name => Object.hasOwn(properties, name),
		field(name) {
			let node = fields.get(name);
			if (!node) {
				node = Object.hasOwn(properties, name) ? nodeOf(properties[name]) : deduced;
				fields.set(name, node);
			}
			return node;
		},
	};
}

function nodeOf(prop: Definition): FieldSchema {
	if (prop['x-kubernetes-map-type'] === 'atomic') return leaf;
	if (typeof prop.$ref === 'string') return definition(prop.$ref.slice('#/definitions/'.length));
	if (prop['x-kubernetes-preserve-unknown-fields']) return deduced;
	if (prop.type === 'array') return listOf(prop);
	if (prop.type === 'object' || prop.properties || prop.additionalProperties) {
		if (prop.properties) return struct(prop);
		if (prop.additionalProperties && typeof prop.additionalProperties === 'object') return {kind: 'map', value: nodeOf(prop.additionalProperties)};
		return deduced;
	}
	return leaf;
}

function listOf(prop: Definition): FieldSchema {
	const listType = prop['x-kubernetes-list-type'] as string | undefined;
	const item = (prop.items ?? {}) as Definition;
	if (listType === 'map') return {kind: 'keyed', keys: prop['x-kubernetes-list-map-keys'] ?? [], item: nodeOf(item)};
	if (listType === 'set') return {kind: 'set'};
	if (listType === 'atomic') return leaf;
	// Built-in kinds older than list-type: a patch strategy of merge with a merge key is a keyed list.
	const mergeKey = prop['x-kubernetes-patch-merge-key'] as string | undefined;
	if (String(prop['x-kubernetes-patch-strategy'] ?? '').split(',').includes('merge')) {
		if (mergeKey) return {kind: 'keyed', keys: [mergeKey], item: nodeOf(item)};
		return {kind: 'set'};
	}
	return leaf;
}
