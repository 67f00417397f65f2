// A single pass over a JSON request body before anything parses it, as
// encoding/json's checkValid does in kube-apiserver: it refuses what Go's
// scanner refuses, with Go's SyntaxError text ("invalid character 'x' looking
// for beginning of value", "unexpected end of JSON input"), stops at a nesting
// depth before any recursive code could meet it, and remembers the literal
// text of the numbers JSON.parse would round (1e12, 3.0, 2^63), which the
// decoder's messages quote.
import {type NumberLiterals, pathKey} from '../../api/decode.js';

/**
 * Go's scanner allows 10,000 levels; kubedeck's recursive code (copies,
 * patches, comparisons) runs out of stack near 2,000, so the engine takes 512.
 * No Kubernetes object comes near either: a CronJob's deepest field is ~20 deep.
 */
export const maxDepth = 512;

export class JsonSyntaxError extends Error {}

/** encoding/json's quoteChar. */
function quoteChar(c: number): string {
	if (c === 0x27) return "'\\''";
	if (c === 0x22) return "'\"'";
	const ch = String.fromCharCode(c);
	if (c === 0x5c) return "'\\\\'";
	if (c >= 0x20 && c < 0x7f) return `'${ch}'`;
	const named: Record<number, string> = {7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r'};
	if (named[c]) return `'${named[c]}'`;
	if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
	// A byte >= 0x80 is printed as the rune of that value, as string(byte) does in Go.
	return c < 0xa1 || c === 0xad ? `'\\u${c.toString(16).padStart(4, '0')}'` : `'${ch}'`;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

interface Frame {
	array: boolean;
	open: boolean;
	index: number;
	keyStart: number;
	keyEnd: number;
}

/**
 * Check `buf` as Go's json scanner would; throws JsonSyntaxError with Go's
 * message. Returns the literal text of numbers that JSON.parse would not keep
 * exactly (fractions, exponents, long integers, -0), keyed by their path.
 */
export function scanJson(buf: Buffer): NumberLiterals {
	const numbers: NumberLiterals = new Map();
	const stack: Frame[] = [];
	const n = buf.length;
	let i = 0;
	const fail = (context: string): never => {
		if (i >= n) throw new JsonSyntaxError('unexpected end of JSON input');
		throw new JsonSyntaxError(`invalid character ${quoteChar(buf[i])} ${context}`);
	};
	const skipSpace = () => {
		while (i < n && isSpace(buf[i])) i++;
	};
	const path = () => stack.map(f => (f.array ? f.index : keyText(buf, f.keyStart, f.keyEnd)));
	const string = () => {
		i++; // the opening quote
		for (;;) {
			if (i >= n) fail('');
			const c = buf[i];
			if (c === 0x22) {
				i++;
				return;
			}
			if (c < 0x20) fail('in string literal');
			if (c === 0x5c) {
				i++;
				if (i >= n) fail('');
				const e = buf[i];
				if (e === 0x75) {
					for (let k = 0; k < 4; k++) {
						i++;
						if (i >= n) fail('');
						if (!isHex(buf[i])) fail('in \\u hexadecimal character escape');
					}
				} else if (![0x62, 0x66, 0x6e, 0x72, 0x74, 0x5c, 0x2f, 0x22].includes(e)) fail('in string escape code');
			}
			i++;
		}
	};
	const number = () => {
		const start = i;
		if (buf[i] === 0x2d) {
			i++;
			if (i >= n || !isDigit(buf[i])) fail('in numeric literal');
		}
		if (buf[i] === 0x30) i++;
		else while (i < n && isDigit(buf[i])) i++;
		let exact = true;
		if (i < n && buf[i] === 0x2e) {
			exact = false;
			i++;
			if (i >= n || !isDigit(buf[i])) fail('after decimal point in numeric literal');
			while (i < n && isDigit(buf[i])) i++;
		}
		if (i < n && (buf[i] === 0x65 || buf[i] === 0x45)) {
			exact = false;
			i++;
			if (i < n && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
			if (i >= n || !isDigit(buf[i])) fail('in exponent of numeric literal');
			while (i < n && isDigit(buf[i])) i++;
		}
		const text = buf.toString('latin1', start, i);
		if (!exact || text.length > 15 || text === '-0') numbers.set(pathKey(path()), text);
	};
	const literal = (word: string) => {
		for (let k = 0; k < word.length; k++, i++) {
			if (i >= n) fail('');
			if (buf[i] !== word.charCodeAt(k)) fail(`in literal ${word} (expecting ${quoteChar(word.charCodeAt(k))})`);
		}
	};
	/** One value, iteratively: containers push a frame, so depth never recurses. */
	const value = (): void => {
		skipSpace();
		if (i >= n) fail('');
		const c = buf[i];
		if (c === 0x7b || c === 0x5b) {
			if (stack.length >= maxDepth) throw new JsonSyntaxError(`exceeded max depth of ${maxDepth}`);
			i++;
			stack.push({array: c === 0x5b, open: true, index: 0, keyStart: 0, keyEnd: 0});
			return;
		}
		if (c === 0x22) return string();
		if (c === 0x2d || isDigit(c)) return number();
		if (c === 0x74) return literal('true');
		if (c === 0x66) return literal('false');
		if (c === 0x6e) return literal('null');
		fail('looking for beginning of value');
	};
	/** After '{' or ',' in an object: a key and ':'. */
	const key = (frame: Frame) => {
		skipSpace();
		if (i >= n || buf[i] !== 0x22) fail('looking for beginning of object key string');
		frame.keyStart = i;
		string();
		frame.keyEnd = i;
		skipSpace();
		if (i >= n || buf[i] !== 0x3a) fail('after object key');
		i++;
	};
	value();
	while (stack.length > 0) {
		const frame = stack[stack.length - 1];
		const close = frame.array ? 0x5d : 0x7d;
		skipSpace();
		if (frame.open) {
			// Just after '{' or '[': empty, or the first member.
			frame.open = false;
			if (i < n && buf[i] === close) {
				i++;
				stack.pop();
				continue;
			}
			if (!frame.array) key(frame);
			value();
			continue;
		}
		if (i >= n) fail('');
		if (buf[i] === 0x2c) {
			i++;
			frame.index++;
			if (!frame.array) key(frame);
			value();
			continue;
		}
		if (buf[i] === close) {
			i++;
			stack.pop();
			continue;
		}
		fail(frame.array ? 'after array element' : 'after object key:value pair');
	}
	skipSpace();
	if (i < n) fail('after top-level value');
	return numbers;
}

function keyText(buf: Buffer, start: number, end: number): string {
	const raw = buf.toString('utf8', start, end);
	return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
}
