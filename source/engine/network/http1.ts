// HTTP/1.1 framing for the Ingress's data path (RFC 9112): a request's head
// parsed for routing and framing, a response's head for where the message
// ends, and a chunked body walked to find its end (the bytes themselves are
// forwarded as they came). Nothing here builds an object per header.
//
// Why a parser of our own: Node's llhttp is reachable only through
// http.Server and its IncomingMessage/ServerResponse machinery (the cost the
// Ingress sheds: a request object, a response object, header objects and
// arrays, several closures and streams per request), and undici's llhttp
// build is internal to undici and drives its own dispatcher. The parsers on
// npm are either unmaintained (http-parser-js) or also build per-request
// objects. What the Ingress needs is small: the head, and where a body ends.
//
// Every input is hostile. A request is refused (400, as ingress-nginx does)
// for what could let a client smuggle a second request past the router or
// desynchronise the backend connection: Transfer-Encoding with
// Content-Length, differing Content-Lengths, a Content-Length that is not
// digits, a Transfer-Encoding other than chunked (501) or in HTTP/1.0, obs-fold
// (a header line starting with white space), white space before a colon, a
// bare CR or LF, control characters, a missing or repeated Host in HTTP/1.1,
// a head over maxHead bytes, a malformed chunk. A response that breaks these
// rules is the backend's failure (502).

/** The longest head (request line or status line and headers) accepted, bytes. */
export const maxHead = 32 * 1024;

export class HttpError extends Error {
	constructor(readonly status: number, message: string) {
		super(message);
	}
}

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** In a head split at CRLF: a control character (HTAB aside), or a CR or LF that is not one of a CRLF pair. */
const badChar = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;
const digits = /^\d{1,15}$/;

/**
 * Headers that describe one connection, not the message (RFC 9110 7.6.1),
 * and the forwarding headers the Ingress sets itself: never forwarded.
 * (A request's Transfer-Encoding and Content-Length are framing, put back
 * as the Ingress forwards the body.)
 */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'transfer-encoding', 'content-length', 'te', 'trailer', 'upgrade', 'expect',
	// Set from the connection (X-Real-IP too, as ingress-nginx does), or dropped: a client could pass itself off as another with them.
	'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-scheme', 'x-real-ip', 'forwarded']);

/** The most tokens a Connection header may list (each names a header to drop: the filter costs a pass over the head). */
export const maxConnectionTokens = 32;

/** A header value without its leading and trailing optional white space (SP and HTAB only, RFC 9110 5.5: String.trim would also take \xa0 and the like). */
function trimOWS(v: string): string {
	let a = 0, b = v.length;
	while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 9)) a++;
	while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 9)) b--;
	return a === 0 && b === v.length ? v : v.slice(a, b);
}

/** Header lines (each with its CRLF) less those whose names are in drop. */
function without(lines: string, drop: Set<string>): string {
	let kept = '';
	for (const l of lines.split('\r\n')) if (l && !drop.has(l.slice(0, l.indexOf(':')).toLowerCase())) kept += `${l}\r\n`;
	return kept;
}

export interface RequestHead {
	method: string;
	/** The request target in origin-form (an absolute-form one's path and query; its authority is the host), or *. */
	target: string;
	/** 0 for HTTP/1.0, 1 for HTTP/1.1. */
	minor: 0 | 1;
	/** The Host header's value, or an absolute-form target's authority ('' if neither). */
	host: string;
	/** The header lines to forward, each with its CRLF: the client's, less the hop-by-hop ones and those its Connection header lists. */
	lines: string;
	/** -1: no Content-Length. */
	contentLength: number;
	chunked: boolean;
	/** The client wants the connection closed after the answer (Connection: close, or HTTP/1.0 without keep-alive). */
	close: boolean;
	/** The Upgrade header's value, when Connection lists upgrade. */
	upgrade?: string;
	expectContinue: boolean;
}

/** Comma-separated tokens of a header value, trimmed and in lower case. */
function tokens(value: string): string[] {
	return value.toLowerCase().split(',').map(trimOWS).filter(Boolean);
}

/** A request head (without its final CRLFCRLF; leading empty lines already skipped), or the HttpError to answer with. */
export function parseRequestHead(head: string): RequestHead {
	if (badChar.test(head)) throw new HttpError(400, 'a bare CR or LF, or a control character, in the request head');
	const lines = head.split('\r\n');
	const requestLine = lines[0];
	const sp1 = requestLine.indexOf(' ');
	const sp2 = requestLine.indexOf(' ', sp1 + 1);
	if (sp1 <= 0 || sp2 < 0 || requestLine.indexOf(' ', sp2 + 1) >= 0) throw new HttpError(400, 'a malformed request line');
	const method = requestLine.slice(0, sp1);
	const target = requestLine.slice(sp1 + 1, sp2);
	const version = requestLine.slice(sp2 + 1);
	if (!token.test(method) || target === '' || /[\t\x80-\xff]/.test(target)) throw new HttpError(400, 'a malformed request line');
	let minor: 0 | 1;
	if (version === 'HTTP/1.1') minor = 1;
	else if (version === 'HTTP/1.0') minor = 0;
	else if (/^HTTP\/\d\.\d$/.test(version)) throw new HttpError(505, `${version} is not supported`);
	else throw new HttpError(400, 'a malformed request line');
	if (method === 'CONNECT') throw new HttpError(405, 'CONNECT is not supported');
	let absolute: string | undefined;
	let originForm = target;
	if (target[0] !== '/' && target !== '*') {
		const scheme = /^https?:\/\//i.exec(target);
		if (!scheme) throw new HttpError(400, 'a malformed request target');
		// Absolute-form: its authority is the host (RFC 9112 3.2.2), the Host header is replaced by it, and the target goes on in origin-form.
		const rest = target.slice(scheme[0].length);
		const slash = rest.search(/[/?]/);
		absolute = slash < 0 ? rest : rest.slice(0, slash);
		if (!absolute || /[@\s\\]/.test(absolute)) throw new HttpError(400, 'a malformed request target');
		originForm = slash < 0 ? '/' : rest[slash] === '?' ? `/${rest.slice(slash)}` : rest.slice(slash);
	}
	let host: string | undefined;
	let contentLength = -1;
	let te: string | undefined;
	let connection: string | undefined;
	let upgrade: string | undefined;
	let expect: string | undefined;
	let kept = '';
	for (let i = 1; i < lines.length; i++) {
		const line = lines[i];
		const first = line.charCodeAt(0);
		if (first === 32 || first === 9) throw new HttpError(400, 'obs-fold (a header line starting with white space)');
		const colon = line.indexOf(':');
		if (colon <= 0) throw new HttpError(400, 'a header line without a name and colon');
		const rawName = line.slice(0, colon);
		if (!token.test(rawName)) throw new HttpError(400, 'a malformed header name (or white space before its colon)');
		const name = rawName.toLowerCase();
		const value = trimOWS(line.slice(colon + 1));
		switch (name) {
		case 'host':
			if (host !== undefined) throw new HttpError(400, 'more than one Host header');
			host = value;
			if (absolute) continue;
			break;
		case 'content-length':
			for (const part of value.split(',')) {
				const v = trimOWS(part);
				if (!digits.test(v)) throw new HttpError(400, 'a malformed Content-Length');
				const n = Number(v);
				if (contentLength >= 0 && n !== contentLength) throw new HttpError(400, 'differing Content-Length headers');
				contentLength = n;
			}
			continue;
		case 'transfer-encoding':
			te = te === undefined ? value : `${te}, ${value}`;
			continue;
		case 'connection':
			connection = connection === undefined ? value : `${connection}, ${value}`;
			continue;
		case 'upgrade':
			upgrade = value;
			continue;
		case 'expect':
			expect = value;
			continue;
		}
		if (hopByHop.has(name)) continue;
		// CGI, WSGI and Rack read X_Forwarded_For as X-Forwarded-For: names with an underscore are dropped, as ingress-nginx does.
		if (name.includes('_')) continue;
		kept += `${line}\r\n`;
	}
	let chunked = false;
	if (te !== undefined) {
		if (minor === 0) throw new HttpError(400, 'Transfer-Encoding in an HTTP/1.0 request');
		if (contentLength >= 0) throw new HttpError(400, 'both Transfer-Encoding and Content-Length');
		if (te.trim().toLowerCase() !== 'chunked') throw new HttpError(501, `Transfer-Encoding ${te} is not supported`);
		chunked = true;
	}
	if (minor === 1 && host === undefined) throw new HttpError(400, 'no Host header');
	let close = minor === 0;
	let upgrading = false;
	if (connection !== undefined) {
		const listed = new Set(tokens(connection));
		if (listed.size > maxConnectionTokens) throw new HttpError(400, 'a Connection header listing too many headers');
		if (minor === 0 && listed.has('keep-alive')) close = false;
		if (listed.has('close')) close = true;
		upgrading = listed.has('upgrade');
		// Headers the Connection header names are hop-by-hop too; not Host, which routes the request and which the backend needs.
		for (const t of ['close', 'keep-alive', 'upgrade', 'host']) listed.delete(t);
		if (listed.size) kept = without(kept, listed);
	}
	if (absolute !== undefined) {
		host = absolute;
		kept += `Host: ${absolute}\r\n`;
	}
	return {
		method, target: originForm, minor, host: host ?? '', lines: kept, contentLength, chunked, close,
		// WebSockets only: an h2c upgrade would make a tunnel to the backend that every later request takes past the routing.
		upgrade: upgrading && upgrade !== undefined && upgrade.toLowerCase() === 'websocket' ? upgrade : undefined,
		expectContinue: minor === 1 && expect !== undefined && expect.toLowerCase() === '100-continue',
	};
}

export interface ResponseHead {
	status: number;
	/** The status line for the client, with HTTP/1.1 as its version. */
	statusLine: string;
	/** The header lines to forward (each with its CRLF), less the hop-by-hop ones; Transfer-Encoding kept when chunked, as the body is forwarded as it came. */
	lines: string;
	/** Did the head carry anything that is not forwarded (so that it cannot go out as it came)? */
	rewritten: boolean;
	contentLength: number;
	chunked: boolean;
	/** The backend closes the connection after this answer (or it is delimited by the close). */
	close: boolean;
	/** Seconds the backend keeps the connection idle (its Keep-Alive: timeout=N), -1 if it did not say. */
	keepAlive: number;
}

const responseHopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/** A backend's response head (without its final CRLFCRLF), or an HttpError (502). */
export function parseResponseHead(head: string): ResponseHead {
	if (badChar.test(head)) throw new HttpError(502, 'a bare CR or LF, or a control character, in the response head');
	const lines = head.split('\r\n');
	const statusLine = lines[0];
	const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(statusLine);
	if (!m) throw new HttpError(502, 'a malformed status line');
	const minor = Number(m[1]);
	const status = Number(m[2]);
	if (status < 100) throw new HttpError(502, `a status of ${m[2]}`);
	let contentLength = -1;
	let te: string | undefined;
	let connection: string | undefined;
	let keepAlive = -1;
	let kept = '';
	let rewritten = minor !== 1;
	for (let i = 1; i < lines.length; i++) {
		const line = lines[i];
		const first = line.charCodeAt(0);
		if (first === 32 || first === 9) throw new HttpError(502, 'obs-fold in the response head');
		const colon = line.indexOf(':');
		if (colon <= 0) throw new HttpError(502, 'a malformed response header');
		const rawName = line.slice(0, colon);
		if (!token.test(rawName)) throw new HttpError(502, 'a malformed response header name');
		const name = rawName.toLowerCase();
		if (name === 'content-length') {
			const v = trimOWS(line.slice(colon + 1));
			if (!digits.test(v) || (contentLength >= 0 && Number(v) !== contentLength)) throw new HttpError(502, 'a malformed Content-Length in the response');
			contentLength = Number(v);
		} else if (name === 'transfer-encoding') {
			const v = trimOWS(line.slice(colon + 1));
			te = te === undefined ? v : `${te}, ${v}`;
		} else if (responseHopByHop.has(name)) {
			if (name === 'connection') {
				const v = trimOWS(line.slice(colon + 1));
				connection = connection === undefined ? v : `${connection}, ${v}`;
			} else if (name === 'keep-alive') {
				const t = /(?:^|[\s,])timeout=(\d{1,6})/i.exec(line.slice(colon + 1));
				if (t) keepAlive = Number(t[1]);
			}
			rewritten = true;
			continue;
		}
		kept += `${line}\r\n`;
	}
	let chunked = false;
	let close = minor === 0;
	// Connection: keep-alive, what Node's servers send with every answer, names no header.
	if (connection !== undefined && connection.toLowerCase() !== 'keep-alive') {
		const listed = new Set(tokens(connection));
		if (listed.size > maxConnectionTokens) throw new HttpError(502, 'a Connection header listing too many headers');
		if (listed.has('close')) close = true;
		else if (minor === 0 && listed.has('keep-alive')) close = false;
		// Never the framing the Ingress reads the answer by: dropped, the client would read the answer (and the next) differently.
		for (const t of ['close', 'keep-alive', 'content-length', 'transfer-encoding']) listed.delete(t);
		if (listed.size) kept = without(kept, listed);
	} else if (connection !== undefined && minor === 0) close = false;
	if (te !== undefined) {
		const codings = tokens(te);
		if (codings.at(-1) === 'chunked') chunked = true;
		// Not chunked last: the body runs to the close (RFC 9112 6.3).
		else close = true;
		if (contentLength >= 0) {
			// Both: Transfer-Encoding wins, and Content-Length is not passed on.
			contentLength = -1;
			kept = kept.split('\r\n').filter(l => l && l.slice(0, l.indexOf(':')).toLowerCase() !== 'content-length').map(l => `${l}\r\n`).join('');
			rewritten = true;
		}
	}
	return {status, statusLine: `HTTP/1.1${statusLine.slice(8)}`, lines: kept, rewritten, contentLength, chunked, close, keepAlive};
}

const enum Chunk { Size, SizeExt, SizeLF, Data, DataCR, DataLF, TrailerStart, Trailer, TrailerLF, EndLF }

/**
 * Walks a chunked body to find where it ends, byte by byte over the size
 * lines and trailers and by length over the data. Strict: hex sizes of at
 * most 13 digits, CRLF after each size line and each chunk's data, size
 * lines (with extensions) and trailers of bounded length.
 */
export class ChunkedReader {
	private state = Chunk.Size;
	private remaining = 0;
	private digits = 0;
	private lineBytes = 0;
	private trailerBytes = 0;

	reset(): void {
		this.state = Chunk.Size;
		this.remaining = this.digits = this.lineBytes = this.trailerBytes = 0;
	}

	/** Reads buf from start to its end: the index just past the body's end, or -1 if it has not ended yet; throws HttpError(400) on a malformed body. */
	feed(buf: Uint8Array, start: number): number {
		const end = buf.length;
		let i = start;
		while (i < end) {
			switch (this.state) {
			case Chunk.Data: {
				const n = Math.min(this.remaining, end - i);
				i += n;
				this.remaining -= n;
				if (this.remaining === 0) this.state = Chunk.DataCR;
				continue;
			}
			case Chunk.Size: {
				const c = buf[i++];
				const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
				if (v >= 0) {
					if (++this.digits > 13) throw new HttpError(400, 'a chunk size too large');
					this.remaining = this.remaining * 16 + v;
				} else if (this.digits === 0) throw new HttpError(400, 'a malformed chunk size');
				else if (c === 13) this.state = Chunk.SizeLF;
				else if (c === 59) {
					this.state = Chunk.SizeExt;
					this.lineBytes = 0;
				} else throw new HttpError(400, 'a malformed chunk size');
				continue;
			}
			case Chunk.SizeExt: {
				const c = buf[i++];
				if (c === 13) this.state = Chunk.SizeLF;
				else if ((c < 32 && c !== 9) || c === 127 || ++this.lineBytes > 4096) throw new HttpError(400, 'a malformed chunk extension');
				continue;
			}
			case Chunk.SizeLF:
				if (buf[i++] !== 10) throw new HttpError(400, 'a chunk size line not ended by CRLF');
				this.digits = 0;
				if (this.remaining === 0) {
					this.state = Chunk.TrailerStart;
					this.trailerBytes = 0;
				} else this.state = Chunk.Data;
				continue;
			case Chunk.DataCR:
				if (buf[i++] !== 13) throw new HttpError(400, 'chunk data not followed by CRLF');
				this.state = Chunk.DataLF;
				continue;
			case Chunk.DataLF:
				if (buf[i++] !== 10) throw new HttpError(400, 'chunk data not followed by CRLF');
				this.state = Chunk.Size;
				continue;
			case Chunk.TrailerStart: {
				const c = buf[i++];
				if (c === 13) this.state = Chunk.EndLF;
				else if (c === 32 || c === 9 || c < 32 || c === 127) throw new HttpError(400, 'a malformed trailer');
				else this.state = Chunk.Trailer;
				continue;
			}
			case Chunk.Trailer: {
				const c = buf[i++];
				if (++this.trailerBytes > maxHead) throw new HttpError(400, 'trailers too large');
				if (c === 13) this.state = Chunk.TrailerLF;
				else if ((c < 32 && c !== 9) || c === 127) throw new HttpError(400, 'a malformed trailer');
				continue;
			}
			case Chunk.TrailerLF:
				if (buf[i++] !== 10) throw new HttpError(400, 'a trailer not ended by CRLF');
				this.state = Chunk.TrailerStart;
				continue;
			case Chunk.EndLF:
				if (buf[i++] !== 10) throw new HttpError(400, 'a chunked body not ended by CRLF');
				this.reset();
				return i;
			}
		}
		return -1;
	}
}
