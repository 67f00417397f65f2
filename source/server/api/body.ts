// Request bodies as kube-apiserver takes them: at most 3 MiB (its
// MaxRequestBodyBytes; 413 "Request entity too large: limit is 3145728",
// decided from Content-Length or while the chunks arrive, never after
// buffering more), only the media types it accepts per verb (415 otherwise),
// and parsed without recursion on the raw text: JSON through a Go-compatible
// scan (json-scan.ts), YAML after a depth bound on its text (the yaml package
// recurses per level and blew the heap on a 2 MB flow sequence).
import type http from 'node:http';
import YAML from 'yaml';
import type {NumberLiterals} from '../../api/decode.js';
import {requestEntityTooLarge, StatusError, unsupportedMediaType} from '../../api/errors.js';
import {patchTypes} from '../../api/patch.js';
import {JsonSyntaxError, maxDepth, scanJson} from './json-scan.js';
import {decodeProtobuf} from './protobuf.js';

/** k8s.io/apiserver's DefaultMaxRequestBodyBytes: 3 MiB. */
export const maxBodyBytes = 3 * 1024 * 1024;

export const protobuf = 'application/vnd.kubernetes.protobuf';
/** What the built-in kinds' serializers accept for create, update and delete bodies, in kube-apiserver's order. */
export const objectMediaTypes = ['application/json', 'application/yaml', protobuf];
export const patchMediaTypes = [patchTypes.json, patchTypes.merge, patchTypes.strategic, patchTypes.apply];

/** The media type without parameters, lower-cased; kube-apiserver reads a missing one as application/octet-stream. */
export function mediaType(req: http.IncomingMessage): string {
	const header = req.headers['content-type'];
	return header ? header.split(';')[0].trim().toLowerCase() : 'application/octet-stream';
}

/** Refuse a media type the verb does not take, before reading the body. */
export function checkMediaType(type: string, accepted: string[]): void {
	if (!accepted.includes(type)) throw unsupportedMediaType(accepted);
}

/**
 * The body, or a 413 as soon as it is known to be too large: from
 * Content-Length before reading, or when the chunks read pass the limit.
 */
export async function readBody(req: http.IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
	const declared = Number(req.headers['content-length']);
	const tooLarge = () => requestEntityTooLarge(`limit is ${limit}`);
	if (Number.isFinite(declared) && declared > limit) throw tooLarge();
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > limit) throw tooLarge();
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks);
}

export interface Decoded {
	value: unknown;
	/** For JSON bodies: the literal text of numbers JSON.parse rounds. */
	numbers?: NumberLiterals;
}

/** A decode failure before the body's kind is known, in the words Go's decoders use. */
export class BodySyntaxError extends Error {}

/** Parse a JSON or YAML body; throws BodySyntaxError with the Go-side wording. */
export function decodeBody(buf: Buffer, type: string): Decoded {
	if (type.includes('yaml') && type !== patchTypes.apply) return {value: decodeYaml(buf)};
	if (type === protobuf) {
		try {
			return {value: decodeProtobuf(buf)};
		} catch (error) {
			// A malformed message (protobufjs's RangeError and friends) is the client's, a 400 as kube-apiserver gives.
			throw new BodySyntaxError((error as Error).message);
		}
	}
	try {
		const numbers = scanJson(buf);
		return {value: JSON.parse(buf.toString('utf8')), numbers};
	} catch (error) {
		if (error instanceof JsonSyntaxError) throw new BodySyntaxError(error.message);
		throw error;
	}
}

/** Server-side apply bodies are YAML or JSON (JSON is YAML); the rest of the patches are JSON. */
export function decodePatchBody(buf: Buffer, type: string): Decoded {
	if (type === patchTypes.apply && !/^\s*[[{]/.test(buf.toString('utf8', 0, 64))) return {value: decodeYaml(buf)};
	return decodeBody(buf, 'application/json');
}

function decodeYaml(buf: Buffer): unknown {
	const text = buf.toString('utf8');
	const bound = yamlDepthBound(text);
	if (bound > maxDepth) throw new BodySyntaxError(`error converting YAML to JSON: yaml: exceeded max depth of ${maxDepth}`);
	let value: unknown;
	try {
		value = YAML.parse(text, {prettyErrors: false});
	} catch (error) {
		throw new BodySyntaxError(`error converting YAML to JSON: yaml: ${(error as Error).message.split('\n')[0]}`);
	}
	// Aliases can nest a subtree under another: measure what was built, without recursion.
	if (depthOf(value) > maxDepth) throw new BodySyntaxError(`error converting YAML to JSON: yaml: exceeded max depth of ${maxDepth}`);
	return value;
}

/**
 * An upper bound on a YAML text's nesting, from the text alone: a block
 * level needs a deeper indentation or an indicator ("- ", "? ", ": ") on
 * the same line, a flow level a bracket. Block scalar contents and quoted
 * strings do not count.
 */
export function yamlDepthBound(text: string): number {
	let max = 0;
	let flow = 0;
	let quote = '';
	let scalarIndent = -1;
	for (const line of text.split('\n')) {
		const indent = line.length - line.trimStart().length;
		if (scalarIndent >= 0 && !quote) {
			if (line.trim() === '' || indent > scalarIndent) continue;
			scalarIndent = -1;
		}
		let indicators = 0;
		let lineFlow = flow;
		let prev = ' ';
		for (let i = indent; i < line.length; i++) {
			const c = line[i];
			if (quote) {
				if (quote === '"' && c === '\\') i++;
				else if (c === quote) {
					if (quote === "'" && line[i + 1] === "'") i++;
					else quote = '';
				}
				prev = c;
				continue;
			}
			if (c === '#' && (prev === ' ' || prev === '\t' || i === indent)) break;
			if ((c === '"' || c === "'") && /[\s[{,:?-]/.test(prev)) quote = c;
			else if (c === '[' || c === '{') lineFlow = Math.max(lineFlow, ++flow);
			else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
			else if ((c === '-' || c === '?' || c === ':') && (i + 1 === line.length || line[i + 1] === ' ' || line[i + 1] === '\t')) indicators++;
			prev = c;
		}
		if (!quote && flow === 0 && /(^|[\s:-])[|>][-+0-9]*\s*(#.*)?$/.test(line.trimEnd())) scalarIndent = indent;
		max = Math.max(max, indent + indicators + lineFlow);
	}
	return max;
}

/** The nesting depth of a parsed value, iteratively; a cycle counts as too deep. */
export function depthOf(value: unknown): number {
	const stack: [unknown, number][] = [[value, 0]];
	let max = 0;
	let visited = 0;
	while (stack.length > 0) {
		const [node, depth] = stack.pop()!;
		if (typeof node !== 'object' || node === null) continue;
		if (depth + 1 > maxDepth || ++visited > 1_000_000) return Infinity;
		max = Math.max(max, depth + 1);
		for (const child of Array.isArray(node) ? node : Object.values(node)) {
			if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
		}
	}
	return max;
}

/** apiserver's summarizeData(body, 30), shown after an unrecognized body. */
export function summarizeData(buf: Buffer): string {
	if (buf.length === 0) return '<empty>';
	const head = buf.subarray(0, 30);
	const text = buf[0] === 0x7b ? head.toString('utf8') : head.toString('hex');
	return buf.length > 30 ? `${text} ...` : text;
}
