// Type checking of a request body as kube-apiserver's decoder does it: the JSON
// is unmarshalled into the Go structs of k8s.io/api by sigs.k8s.io/json (a
// fork of encoding/json), so a value of the wrong JSON type is refused with
// encoding/json's UnmarshalTypeError, before defaulting or validation see it:
//   json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32
// The rules copied from internal/golang/encoding/json/decode.go:
// - Struct is the innermost Go struct holding the field; Field is the stack of
//   JSON field names from the root (array indices and map keys are not in it);
// - the first type error is kept and decoding goes on; an error from a type's
//   own UnmarshalJSON (metav1.Time, intstr.IntOrString, resource.Quantity)
//   stops decoding and wins, with the context of where it happened;
// - an integer must parse with strconv.ParseInt and fit the type: 1e12 and
//   3.0 into an int32 are "number 1e12", "number 3.0";
// - null is accepted everywhere; unknown fields are skipped (and named, for
//   fieldValidation: Strict refuses them, Warn says so, as kube-apiserver's
//   strict decoder names them: "spec.template.spec.containers[0].bogus").
import {quantityFormatMessage} from './quantity.js';
import type {ModelSchema, Schema, TypeRef} from './schema.js';

/** Literal text of the numbers JSON.parse would round, by path (see body.ts). */
export type NumberLiterals = Map<string, string>;

export const pathKey = (path: (string | number)[]) => path.join('\u0000');

class Abort {
	constructor(readonly message: string) {}
}

interface Context {
	schema: Schema;
	numbers?: NumberLiterals;
	path: (string | number)[];
	struct?: string;
	fields: string[];
	saved?: string;
	/** Unknown fields found, by path, when the caller asks. */
	unknown?: string[];
}

/** A field's path as the strict decoder prints it: spec.containers[0].name. */
const fieldPath = (path: (string | number)[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');

function jsonKind(value: unknown): string {
	if (Array.isArray(value)) return 'array';
	if (typeof value === 'boolean') return 'bool';
	return typeof value === 'object' ? 'object' : typeof value;
}

function typeError(ctx: Context, value: string, goType: string): string {
	return ctx.struct !== undefined || ctx.fields.length > 0
		? `json: cannot unmarshal ${value} into Go struct field ${ctx.struct ?? ''}.${ctx.fields.join('.')} of type ${goType}`
		: `json: cannot unmarshal ${value} into Go value of type ${goType}`;
}

function save(ctx: Context, message: string): void {
	ctx.saved ??= message;
}

/** The number as the request wrote it (1e12, 3.0), else as Go's json.Marshal of a float64 prints it. */
function literal(ctx: Context, n: number): string {
	return ctx.numbers?.get(pathKey(ctx.path)) ?? String(n);
}

const intRange = {32: [-(2n ** 31n), 2n ** 31n - 1n], 64: [-(2n ** 63n), 2n ** 63n - 1n]} as const;

/** strconv.ParseInt(s, 10, 64) plus reflect's OverflowInt for the field's size. */
function fitsInt(text: string, bits: 32 | 64): boolean {
	if (!/^-?[0-9]+$/.test(text)) return false;
	const n = BigInt(text);
	return n >= intRange[bits][0] && n <= intRange[bits][1];
}

function checkInt(ctx: Context, value: unknown, bits: 32 | 64, goType: string): string | undefined {
	if (typeof value !== 'number') return typeError(ctx, jsonKind(value), goType);
	const text = literal(ctx, value);
	return fitsInt(text, bits) ? undefined : typeError(ctx, `number ${text}`, goType);
}

function check(ctx: Context, value: unknown, type: TypeRef): void {
	if (value === null || value === undefined) return;
	const goType = () => ctx.schema.goType(type);
	switch (type.kind) {
		case 'any': return;
		case 'string':
			if (typeof value !== 'string') save(ctx, typeError(ctx, jsonKind(value), goType()));
			return;
		case 'boolean':
			if (typeof value !== 'boolean') save(ctx, typeError(ctx, jsonKind(value), goType()));
			return;
		case 'integer': {
			const problem = checkInt(ctx, value, type.bits, goType());
			if (problem) save(ctx, problem);
			return;
		}
		case 'float':
			if (typeof value !== 'number') save(ctx, typeError(ctx, jsonKind(value), 'float64'));
			else if (!Number.isFinite(value)) save(ctx, typeError(ctx, `number ${literal(ctx, value)}`, 'float64'));
			return;
		case 'bytes':
			if (typeof value !== 'string') save(ctx, typeError(ctx, jsonKind(value), '[]uint8'));
			else {
				const bad = base64Error(value);
				if (bad !== undefined) save(ctx, `illegal base64 data at input byte ${bad}`);
			}
			return;
		case 'date-time':
			// metav1.Time.UnmarshalJSON: json.Unmarshal into a string, then time.Parse(time.RFC3339).
			if (typeof value !== 'string') throw new Abort(typeError(ctx, jsonKind(value), 'string'));
			{
				const problem = rfc3339Error(value);
				if (problem) throw new Abort(problem);
			}
			return;
		case 'int-or-string':
			// intstr.IntOrString.UnmarshalJSON: a quoted value is the string, anything else is json.Unmarshal'd into an int32.
			if (typeof value === 'string') return;
			{
				const problem = checkInt(ctx, value, 32, 'int32');
				if (problem) throw new Abort(problem);
			}
			return;
		case 'quantity': {
			// resource.Quantity.UnmarshalJSON strips quotes and calls ParseQuantity: numbers are quantities too.
			const text = typeof value === 'string' ? value.trim() : typeof value === 'number' ? literal(ctx, value) : JSON.stringify(value);
			if (!isQuantity(text)) throw new Abort(quantityFormatMessage);
			return;
		}
		case 'array':
			if (!Array.isArray(value)) {
				save(ctx, typeError(ctx, jsonKind(value), goType()));
				return;
			}
			for (let i = 0; i < value.length; i++) {
				ctx.path.push(i);
				check(ctx, value[i], type.items);
				ctx.path.pop();
			}
			return;
		case 'map':
			if (typeof value !== 'object' || Array.isArray(value)) {
				save(ctx, typeError(ctx, jsonKind(value), goType()));
				return;
			}
			for (const [key, v] of Object.entries(value)) {
				ctx.path.push(key);
				check(ctx, v, type.values);
				ctx.path.pop();
			}
			return;
		case 'object': {
			const model = ctx.schema.model(type.model);
			if (typeof value !== 'object' || Array.isArray(value)) {
				save(ctx, typeError(ctx, jsonKind(value), goType()));
				return;
			}
			if (model) checkStruct(ctx, value as Record<string, unknown>, model);
			return;
		}
	}
}

function checkStruct(ctx: Context, obj: Record<string, unknown>, model: ModelSchema): void {
	for (const [key, value] of Object.entries(obj)) {
		// sigs.k8s.io/json matches field names case-sensitively; unknown fields are dropped.
		const field = model.fields.get(key);
		if (!field) {
			// Named for fieldValidation, and gone from the object, as the Go struct has nowhere to keep it.
			if (ctx.unknown) {
				ctx.unknown.push(fieldPath([...ctx.path, key]));
				delete obj[key];
			}
			continue;
		}
		const struct = ctx.struct;
		ctx.struct = model.goName;
		ctx.fields.push(key);
		ctx.path.push(key);
		check(ctx, value, field.type);
		ctx.path.pop();
		ctx.fields.pop();
		ctx.struct = struct;
	}
}

/** The Go decoder's error for `obj` decoded into `model`, or undefined when every field has the right type. */
export function decodeError(schema: Schema, model: ModelSchema, obj: unknown, numbers?: NumberLiterals, unknown?: string[]): string | undefined {
	const ctx: Context = {schema, numbers, path: [], fields: [], unknown};
	try {
		check(ctx, obj, {kind: 'object', model: model.name});
	} catch (error) {
		if (error instanceof Abort) return error.message;
		throw error;
	}
	return ctx.saved;
}

const quantityPattern = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const suffixes = new Set(['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'P', 'E']);

/** resource.ParseQuantity's acceptance: a signed decimal and a known suffix or a decimal exponent. */
function isQuantity(text: string): boolean {
	const m = quantityPattern.exec(text);
	if (!m || !/[0-9]/.test(m[1]) || (m[1].match(/\./g)?.length ?? 0) > 1) return false;
	return suffixes.has(m[2]) || /^[eE][-+]?[0-9]+$/.test(m[2]);
}

/** Go's base64.StdEncoding decode map: which bytes are in the alphabet. */
function inAlphabet(c: number): boolean {
	return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/**
 * Where base64.StdEncoding.Decode fails (its CorruptInputError, a byte
 * offset), or undefined: encoding/base64's decodeQuantum, step by step
 * (newlines skipped, padding required).
 */
export function base64Error(text: string): number | undefined {
	const src = Buffer.from(text, 'utf8');
	const nl = (c: number) => c === 10 || c === 13;
	let si = 0;
	while (si < src.length) {
		for (let j = 0; j < 4; j++) {
			if (si === src.length) return j === 0 ? undefined : si - j;
			const c = src[si++];
			if (inAlphabet(c)) continue;
			if (nl(c)) {
				j--;
				continue;
			}
			if (c !== 61 || j < 2) return si - 1;
			if (j === 2) {
				while (si < src.length && nl(src[si])) si++;
				if (si === src.length) return src.length;
				if (src[si] !== 61) return si - 1;
				si++;
			}
			while (si < src.length && nl(src[si])) si++;
			return si < src.length ? si : undefined;
		}
	}
	return undefined;
}

/**
 * time.Parse(time.RFC3339, s)'s error, or undefined: the layout is matched
 * element by element and the first that fails is named, as Go's ParseError
 * does (`cannot parse "x" as "2006"`), then the ranges are checked.
 */
export function rfc3339Error(s: string): string | undefined {
	const layout = '2006-01-02T15:04:05Z07:00';
	const head = `parsing time ${JSON.stringify(s)} as "${layout}"`;
	let rest = s;
	const take = (pattern: RegExp): string | undefined => {
		const m = pattern.exec(rest);
		if (!m) return undefined;
		rest = rest.slice(m[0].length);
		return m[0];
	};
	const steps: [string, RegExp][] = [['2006', /^[0-9]{4}/], ['-', /^-/], ['01', /^[0-9]{2}/], ['-', /^-/], ['02', /^[0-9]{2}/], ['T', /^T/],
		['15', /^[0-9]{2}/], [':', /^:/], ['04', /^[0-9]{2}/], [':', /^:/], ['05', /^[0-9]{2}(\.[0-9]+)?/], ['Z07:00', /^(Z|[+-][0-9]{2}:[0-9]{2})/]];
	const values: string[] = [];
	for (const [element, pattern] of steps) {
		const before = rest;
		const got = take(pattern);
		if (got === undefined) return `${head}: cannot parse ${JSON.stringify(before)} as ${JSON.stringify(element)}`;
		values.push(got);
	}
	if (rest !== '') return `parsing time ${JSON.stringify(s)}: extra text: ${JSON.stringify(rest)}`;
	const [year, , month, , day, , hour, , minute, , second] = values.map(v => Number.parseFloat(v));
	const bad = (what: string) => `parsing time ${JSON.stringify(s)}: ${what} out of range`;
	if (month < 1 || month > 12) return bad('month');
	if (hour > 23) return bad('hour');
	if (minute > 59) return bad('minute');
	if (second >= 60) return bad('second');
	const daysIn = new Date(Date.UTC(year, month, 0)).getUTCDate();
	if (day < 1 || day > daysIn) return bad('day');
	return undefined;
}
