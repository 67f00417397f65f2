// The Ingress's data path (the controller, ingress.ts, routes): our own
// HTTP/1.1 on net (and tls) sockets, in two halves. A client connection's
// requests are read one at a time (pipelined ones wait their turn), each head
// parsed (http1.ts) for routing and framing only, then the head, rewritten,
// and the body's bytes as they come go to a kept-alive connection to the
// backend endpoint; the answer's head is parsed to find where the answer
// ends (Content-Length, chunked, or the close) and its bytes go back as they
// came. No request or response object, no header object or array, no
// closure per request; backpressure both ways (a full socket pauses the one
// feeding it, and a client that does not read its answers is not read
// from). An upgrade (WebSockets only) is the backend's 101 and then the two
// sockets piped.
//
// Why: Node's http server with undici's Pool.dispatch cost about 35 µs of
// user CPU and 18 of system per request in the engine (10 keep-alive
// connections, measured side by side), this path about 16 and 17; on a
// 2-core machine where the load generator, the Ingress and the pod share the
// cores, that is what kept the Ingress under its goal of 0.5 of direct
// (bench/network.ts has the figures).
//
// What the parser refuses (400, as ingress-nginx does): the shapes that let
// a request be read two ways (smuggling), see http1.ts. The Ingress answers
// itself 404 (no rule), 503 (no ready endpoint), 502 (the backend refused,
// closed before answering, or answered malformed: a kept-alive connection
// found closed is retried once on a new one for an idempotent request
// without a body), 504 (no answer head 60 s after the request was sent); a
// backend that closes mid-answer cuts the client's connection. As
// ingress-nginx does by default (use-forwarded-headers off),
// X-Forwarded-For/Proto/Host/Port and X-Real-IP are set from the connection,
// not taken from the client, and Forwarded and header names with an
// underscore are dropped; hop-by-hop headers (RFC 9110 7.6.1, and those a
// Connection header lists, never the framing ones or Host) are not forwarded
// either way; Expect: 100-continue is answered here (for a request with a
// body). The timeouts are counted in the controller's sweep ticks (seconds),
// so that tests drive them.
import http from 'node:http';
import net from 'node:net';
import type tls from 'node:tls';
import {ChunkedReader, HttpError, maxHead, parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead} from './http1.js';

/** What the data path needs of the controller. */
export interface ProxyHost {
	/** Seconds since the listeners opened, counted by the sweep: the clock of the timeouts. */
	readonly tick: number;
	/** The client connections being served. */
	readonly conns: Set<ClientConn>;
	/** Connections open to one backend endpoint at most. */
	readonly backendConnections: number;
	/** Where a request goes: a backend endpoint's pool, or the status to answer with. */
	route(hostHeader: string, target: string): {pool: BackendPool; key: string} | {status: number; message: string};
}

/** Idle backend connections beyond this many per endpoint are closed rather than kept. */
const maxIdle = 256;
/** Seconds: a client connection idle between requests (or slow to send a head) is closed; a backend that does not start its answer is a 504; a backend or client that stalls a body is cut; an idle backend connection is closed. */
const clientIdle = 60, headersTimeout = 60, bodyTimeout = 60, backendIdle = 30;
/**
 * Seconds, counted from a head's first byte whatever comes after it (as
 * http.Server's headersTimeout and requestTimeout, which the Ingress had):
 * a head not whole in clientHeadTimeout, or a request (head and body) not
 * whole in requestTimeout, closes the connection; a client sending a byte a
 * minute is not idle but is cut all the same (slowloris).
 */
const clientHeadTimeout = 60, requestTimeout = 300;
/** Empty lines before a request line that are skipped (RFC 9112 2.2 asks for at least one); more is a 400. */
const maxEmptyLines = 8;
/**
 * Seconds: a connection the Ingress has ended its side of (Connection:
 * close, an HTTP/1.0 answer, a refused request) is destroyed this long
 * after its last answer is written out, FIN or not (a client that never sends its FIN would hold it for
 * ever), long enough for the answer to reach the client before any RST; an
 * upgraded connection (a WebSocket) with no byte either way for tunnelIdle
 * is closed.
 */
const closeLinger = 5, tunnelIdle = 3600;
/** Bytes of pipelined requests read ahead of the one being answered before the client is paused. */
const readAhead = 64 * 1024;

/** The keep-alive connections to one backend endpoint ("ip:port"). */
export class BackendPool {
	readonly host: string;
	readonly port: number;
	readonly idle: Backend[] = [];
	/** Connections open (idle and busy; not upgraded ones), for the cap. */
	open = 0;
	/** Client connections waiting for a connection (first come, first served) while open is at the cap. */
	readonly waiting: ClientConn[] = [];
	closed = false;

	constructor(readonly origin: string, readonly controller: ProxyHost) {
		const colon = origin.lastIndexOf(':');
		this.host = origin.slice(0, colon);
		this.port = Number(origin.slice(colon + 1));
	}

	/** An idle connection (most recently used first), else a new one, else (at the cap) none: the caller waits in `waiting`. */
	acquire(): Backend | undefined {
		for (let b = this.idle.pop(); b; b = this.idle.pop()) {
			if (!b.socket.destroyed && b.socket.readyState === 'open') {
				b.reused = true;
				return b;
			}
		}
		if (this.open >= this.controller.backendConnections) return undefined;
		return new Backend(this);
	}

	release(b: Backend, keepAlive: number): void {
		b.conn = undefined;
		// The backend's own idle timeout, less the sweep's granularity (a second), so that the Ingress closes first.
		b.idleLimit = keepAlive > 0 ? Math.min(backendIdle, Math.max(1, keepAlive - 1)) : backendIdle;
		const next = this.closed ? undefined : this.waiting.shift();
		if (next) {
			b.reused = true;
			return next.connected(b);
		}
		if (this.closed || this.idle.length >= maxIdle) return void b.socket.destroy();
		b.idleSince = this.controller.tick;
		this.idle.push(b);
	}

	forget(b: Backend): void {
		const i = this.idle.indexOf(b);
		if (i >= 0) this.idle.splice(i, 1);
	}

	/** A connection no longer counts against the cap (closed, or upgraded): one for the next waiting, if any. */
	uncount(b: Backend): void {
		if (!b.counted) return;
		b.counted = false;
		this.open--;
		while (!this.closed && this.waiting.length && this.open < this.controller.backendConnections) {
			const next = this.waiting.shift()!;
			let backend: Backend;
			try {
				backend = new Backend(this);
			} catch (error) {
				next.connectFailed(error as Error);
				continue;
			}
			next.connected(backend);
		}
	}

	sweep(tick: number): void {
		for (const b of [...this.idle]) if (tick - b.idleSince >= b.idleLimit) b.socket.destroy();
	}

	close(): void {
		this.closed = true;
		for (const b of this.idle.splice(0)) b.socket.destroy();
		for (const conn of this.waiting.splice(0)) conn.connectFailed(new Error('the endpoint is gone'));
	}
}

/** One connection to a backend endpoint, serving one client connection's request at a time. */
class Backend {
	readonly socket: net.Socket;
	/** The client connection whose request this connection carries now (none while idle). */
	conn?: ClientConn;
	reused = false;
	idleSince = 0;
	/** Ticks it may stay idle. */
	idleLimit = backendIdle;
	error?: Error;

	/** Counted in the pool's open connections. */
	counted = true;

	constructor(readonly pool: BackendPool) {
		const socket = this.socket = net.connect({host: pool.host, port: pool.port, noDelay: true});
		pool.open++;
		socket.on('data', (chunk: Buffer) => {
			if (this.conn) this.conn.onBackendData(chunk);
			// Bytes from an idle backend belong to no request: the connection is out of step.
			else socket.destroy();
		});
		socket.on('drain', () => this.conn?.onBackendDrain());
		socket.on('error', error => {
			this.error = error;
		});
		socket.on('close', () => {
			pool.forget(this);
			const conn = this.conn;
			this.conn = undefined;
			conn?.onBackendClose(this);
			pool.uncount(this);
		});
	}
}

const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

const enum Req { Head, Body, Waiting, Upgraded, Closed }
const enum Res { Head, Length, Chunked, UntilClose }

/**
 * One client connection (plain or TLS): its requests read one at a time
 * (pipelined ones wait, read ahead up to readAhead bytes), each head parsed
 * and routed, forwarded to a backend connection with its body as it comes,
 * and the answer's head parsed to find where the answer ends, its bytes
 * forwarded as they come. Backpressure both ways: a socket that cannot take
 * more pauses the one feeding it until it drains.
 */
export class ClientConn {
	private state = Req.Head;
	/** Bytes read and not yet dealt with (the start of the next request, pipelined ones). */
	private pending?: Buffer;
	private lastActive: number;
	/** The X-Forwarded-* lines from the connection (X-Forwarded-Host is per request). */
	private readonly forwarded: string;

	// The exchange under way.
	private backend?: Backend;
	private head?: RequestHead;
	private forwardedHead = '';
	private bodyLeft = 0;
	private readonly requestChunks = new ChunkedReader();
	private closeAfter = false;
	private res = Res.Head;
	private resBuffer?: Buffer;
	private resLeft = 0;
	private readonly responseChunks = new ChunkedReader();
	/** Has any byte of the answer reached the client? */
	private answered = false;
	/** Has any byte come from the backend? */
	private heard = false;
	private retried = false;
	private backendPaused = false;
	/** Does the backend close its connection after this answer? */
	private resClose = false;
	private resKeepAlive = -1;
	/** The client has sent its FIN (the connection is half-open: answers still go out). */
	private ended = false;
	/** The tick the head of the request being read or answered began to come, -1 before its first byte. */
	private headStart = -1;
	/** Empty lines skipped before this request's line. */
	private emptyLines = 0;
	/** The pool this request waits in for a connection, if it does. */
	private queuedOn?: BackendPool;
	/** The tick the request was sent to the backend whole (the 504's clock). */
	private sentAt = 0;
	/** The tick the last answer was written out after the Ingress ended its side (Req.Closed), -1 before. */
	private closedAt = -1;
	/** In nextRequest's loop (an answer given there does not start another loop). */
	private reading = false;
	/** The client is not reading its answers (its socket is over its high-water mark): no request is read until it drains. */
	private awaitingDrain = false;

	constructor(private readonly controller: ProxyHost, readonly socket: net.Socket) {
		this.lastActive = controller.tick;
		controller.conns.add(this);
		const proto = (socket as tls.TLSSocket).encrypted ? 'https' : 'http';
		const address = socket.remoteAddress ?? '';
		const ip = address.startsWith('::ffff:') ? address.slice(7) : address;
		this.forwarded = `X-Forwarded-For: ${ip}\r\nX-Real-IP: ${ip}\r\nX-Forwarded-Proto: ${proto}\r\nX-Forwarded-Port: ${socket.localPort ?? ''}\r\n`;
		socket.on('data', this.onData);
		socket.on('drain', this.onDrain);
		socket.on('end', this.onEnd);
		socket.on('error', () => socket.destroy());
		socket.on('close', this.onClose);
	}

	/** The client's FIN: what it sent before is answered, then the connection ends; a request cut short ends it now. */
	private readonly onEnd = (): void => {
		this.ended = true;
		if (this.state === Req.Body) this.socket.destroy();
		// An upgraded connection closes whole (the pipe has passed the FIN on): WebSocket servers often keep their side open.
		else if (this.state === Req.Upgraded) this.socket.end();
		else if (this.state === Req.Head) this.done();
	};

	private readonly onData = (chunk: Buffer): void => {
		// After the answer that closes the connection, what comes is read (to see the FIN) and dropped.
		if (this.state === Req.Closed) return;
		this.lastActive = this.controller.tick;
		if (this.headStart < 0) this.headStart = this.lastActive;
		if (this.state === Req.Body && !this.queuedOn) {
			const used = this.feedBody(chunk, 0);
			if (used < chunk.length) this.hold(chunk.subarray(used));
			return;
		}
		this.hold(chunk);
		if (this.state === Req.Head) this.nextRequest();
	};

	private readonly onDrain = (): void => {
		// A slow reader that is reading is not idle.
		this.lastActive = this.controller.tick;
		if (this.backendPaused) {
			this.backendPaused = false;
			this.backend?.socket.resume();
		}
		if (this.awaitingDrain) {
			this.awaitingDrain = false;
			if (this.state !== Req.Head) return;
			if (this.pending) this.nextRequest();
			else this.socket.resume();
		}
	};

	/**
	 * Before the next request: a client whose answers are queued in user
	 * space (it pipelines and does not read) is not read from until they
	 * drain, or every answer would be queued for it, without bound.
	 */
	private mustWait(): boolean {
		if (!this.socket.writableNeedDrain) return false;
		this.awaitingDrain = true;
		this.socket.pause();
		return true;
	}

	private readonly onClose = (): void => {
		this.dequeue();
		this.state = Req.Closed;
		this.controller.conns.delete(this);
		const backend = this.backend;
		this.backend = undefined;
		if (backend) {
			backend.conn = undefined;
			backend.socket.destroy();
		}
	};

	private hold(chunk: Buffer): void {
		this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
		if ((this.state !== Req.Head || this.awaitingDrain) && this.pending.length > readAhead) this.socket.pause();
	}

	sweep(tick: number): void {
		const idle = tick - this.lastActive;
		if (this.state === Req.Closed) {
			// Until the last answer is written out, a client that does not read it is cut as a stalled body is.
			if (this.closedAt < 0 ? idle > bodyTimeout : tick - this.closedAt >= closeLinger) this.socket.destroy();
		} else if (this.state === Req.Upgraded) {
			if (idle > tunnelIdle) this.socket.destroy();
		} else if (this.state === Req.Head && (this.headStart >= 0 ? tick - this.headStart > clientHeadTimeout : idle > clientIdle)) this.socket.destroy();
		else if (this.state === Req.Body && tick - this.headStart > requestTimeout) this.socket.destroy();
		// From when the request was sent (or its body's end): a trickle of 1xx does not put the 504 off.
		else if (this.state === Req.Waiting && this.res === Res.Head && tick - this.sentAt > headersTimeout) this.fail(504, '504 Gateway Timeout: the backend did not answer in time\n');
		else if ((this.state === Req.Waiting || this.state === Req.Body) && idle > bodyTimeout) this.socket.destroy();
	}

	/** The next request from what has been read, if its head is complete. */
	private nextRequest(): void {
		this.reading = true;
		try {
			this.readRequests();
		} finally {
			this.reading = false;
		}
	}

	private readRequests(): void {
		if (this.awaitingDrain) return;
		while (this.state === Req.Head && this.pending) {
			if (this.mustWait()) return;
			let buf = this.pending;
			// Empty lines before a request line are ignored (RFC 9112 2.2).
			let skip = 0;
			while (skip + 1 < buf.length && buf[skip] === 13 && buf[skip + 1] === 10) skip += 2;
			if (skip) {
				this.emptyLines += skip / 2;
				if (this.emptyLines > maxEmptyLines) return this.refuse(400, 'empty lines before the request line');
				buf = buf.subarray(skip);
				this.pending = buf.length ? buf : undefined;
				if (!buf.length) return;
			}
			const end = buf.indexOf('\r\n\r\n');
			if (end < 0 || end + 4 > maxHead) {
				if (end >= 0 || buf.length > maxHead) return this.refuse(400, 'the request head is too large');
				if (buf.indexOf('\n\n') >= 0 || buf.indexOf('\r\r') >= 0) return this.refuse(400, 'a bare CR or LF in the request head');
				// The client's FIN in the middle of a head: that request will never be whole.
				if (this.ended) {
					this.pending = undefined;
					return this.done();
				}
				if (this.socket.isPaused()) this.socket.resume();
				return;
			}
			const rest = buf.subarray(end + 4);
			this.pending = rest.length ? rest : undefined;
			let head: RequestHead;
			try {
				head = parseRequestHead(buf.toString('latin1', 0, end));
			} catch (error) {
				if (error instanceof HttpError) return this.refuse(error.status, error.message);
				throw error;
			}
			this.start(head);
		}
		if (this.state === Req.Head && this.socket.isPaused()) this.socket.resume();
	}

	/** A request with its head read: answered here (no route), or forwarded. */
	private start(head: RequestHead): void {
		this.head = head;
		const hasBody = head.chunked || head.contentLength > 0;
		this.closeAfter = head.close;
		const where = this.controller.route(head.host, head.target);
		if ('status' in where) {
			// The body would have to be read past to reach the next request: close instead.
			if (hasBody) this.closeAfter = true;
			this.answerText(where.status, where.message);
			return;
		}
		// Only for a body to come: a bodiless request has nothing to continue with.
		if (head.expectContinue && hasBody) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
		let framing = '';
		if (head.chunked) framing = 'Transfer-Encoding: chunked\r\n';
		else if (head.contentLength >= 0) framing = `Content-Length: ${head.contentLength}\r\n`;
		if (head.upgrade !== undefined) framing += `Connection: upgrade\r\nUpgrade: ${head.upgrade}\r\n`;
		// An HTTP/1.0 request goes on as one: the backend then frames its answer for HTTP/1.0 (no chunks).
		this.forwardedHead = `${head.method} ${head.target} HTTP/1.${head.minor}\r\n${head.lines}${framing}${this.forwarded}X-Forwarded-Host: ${head.host}\r\n\r\n`;
		this.res = Res.Head;
		this.resBuffer = undefined;
		this.answered = this.heard = this.retried = false;
		this.state = hasBody ? Req.Body : Req.Waiting;
		this.bodyLeft = head.chunked ? 0 : Math.max(head.contentLength, 0);
		if (head.chunked) this.requestChunks.reset();
		let backend: Backend | undefined;
		try {
			backend = where.pool.acquire();
		} catch (error) {
			return this.connectFailed(error as Error);
		}
		if (backend) return this.connected(backend);
		// The endpoint has all the connections it may: this request waits for one (its body too, unread).
		this.queuedOn = where.pool;
		where.pool.waiting.push(this);
		this.sentAt = this.controller.tick;
		this.socket.pause();
	}

	/** A backend connection for the request under way: it is sent, with what has come of its body. */
	connected(backend: Backend): void {
		this.queuedOn = undefined;
		this.send(backend);
		if (this.state === Req.Body && this.pending) {
			const buf = this.pending;
			this.pending = undefined;
			const used = this.feedBody(buf, 0);
			if (used < buf.length) this.hold(buf.subarray(used));
		}
		if (this.socket.isPaused() && this.backend && !this.backend.socket.writableNeedDrain && (this.pending?.length ?? 0) <= readAhead) this.socket.resume();
	}

	/** resolve() lets only valid endpoints through; whatever else net.connect throws is this request's 502, not the engine's end. */
	connectFailed(error: Error): void {
		this.queuedOn = undefined;
		this.fail(502, `502 Bad Gateway: cannot connect to the backend (${error.message})\n`);
	}

	private dequeue(): void {
		const pool = this.queuedOn;
		if (!pool) return;
		this.queuedOn = undefined;
		const i = pool.waiting.indexOf(this);
		if (i >= 0) pool.waiting.splice(i, 1);
	}

	private send(backend: Backend): void {
		this.backend = backend;
		this.sentAt = this.controller.tick;
		backend.conn = this;
		backend.socket.write(this.forwardedHead, 'latin1');
	}

	/** Request body bytes from buf (from start) to the backend, up to the body's end: how many of them were the body's. */
	private feedBody(buf: Buffer, start: number): number {
		let end: number;
		if (this.head!.chunked) {
			try {
				end = this.requestChunks.feed(buf, start);
			} catch (error) {
				if (!(error instanceof HttpError)) throw error;
				this.closeAfter = true;
				if (this.answered) this.socket.destroy();
				else this.fail(400, `400 Bad Request: ${error.message}\n`);
				return buf.length;
			}
			if (end < 0) end = buf.length;
			else {
				this.state = Req.Waiting;
				this.sentAt = this.controller.tick;
			}
		} else {
			end = Math.min(buf.length, start + this.bodyLeft);
			this.bodyLeft -= end - start;
			if (this.bodyLeft === 0) {
				this.state = Req.Waiting;
				this.sentAt = this.controller.tick;
			}
		}
		const backend = this.backend;
		if (backend && end > start) {
			if (!backend.socket.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) this.socket.pause();
		}
		return end;
	}

	onBackendDrain(): void {
		if (this.state === Req.Body) this.socket.resume();
	}

	onBackendData(chunk: Buffer): void {
		this.lastActive = this.controller.tick;
		this.heard = true;
		switch (this.res) {
		case Res.Head: return this.responseHead(chunk);
		case Res.Length: return this.forwardLength(chunk, 0);
		case Res.Chunked: return this.forwardChunked(chunk, 0);
		case Res.UntilClose: return this.forward(chunk);
		}
	}

	private forward(chunk: Buffer): void {
		if (!this.socket.write(chunk) && !this.backendPaused && this.backend) {
			this.backendPaused = true;
			this.backend.socket.pause();
		}
	}

	private responseHead(chunk: Buffer): void {
		let buf = this.resBuffer ? Buffer.concat([this.resBuffer, chunk]) : chunk;
		let end: number;
		let res: ResponseHead;
		const head = this.head!;
		// Interim answers (1xx) first, in a loop: a backend may send any number in one chunk.
		for (;;) {
			end = buf.indexOf('\r\n\r\n');
			if (end < 0) {
				if (buf.length > maxHead) return this.fail(502, '502 Bad Gateway: the backend\'s answer head is too large\n');
				this.resBuffer = buf.length ? buf : undefined;
				return;
			}
			this.resBuffer = undefined;
			try {
				res = parseResponseHead(buf.toString('latin1', 0, end));
			} catch (error) {
				if (!(error instanceof HttpError)) throw error;
				return this.fail(502, `502 Bad Gateway: the backend's answer is malformed (${error.message})\n`);
			}
			if (res.status >= 200 || res.status === 101) break;
			// A proxy forwards the 1xx it did not ask for (RFC 9110 15.2: 103 Early Hints, 102), not to an HTTP/1.0 client; 100 Continue is the Ingress's own to give.
			if (res.status !== 100 && head.minor === 1 && !this.socket.write(`${res.statusLine}\r\n${res.lines}\r\n`, 'latin1') && !this.backendPaused && this.backend) {
				this.backendPaused = true;
				this.backend.socket.pause();
			}
			buf = buf.subarray(end + 4);
		}
		const bodyStart = end + 4;
		if (res.status === 101) {
			if (head.upgrade !== undefined) return this.upgraded(buf);
			return this.fail(502, '502 Bad Gateway: the backend switched protocols unasked\n');
		}
		// An HTTP/1.0 client cannot read chunks (RFC 9112 6.1); the backend, asked in HTTP/1.0, should not have sent them.
		if (head.minor === 0 && res.chunked && head.method !== 'HEAD' && res.status !== 204 && res.status !== 304) return this.fail(502, '502 Bad Gateway: the backend answered an HTTP/1.0 request in chunks\n');
		// The backend answered without upgrading: the connection is not reused.
		if (head.upgrade !== undefined) res.close = true;
		const noBody = head.method === 'HEAD' || res.status === 204 || res.status === 304;
		// Nor after an answer without a body, where a backend that wrongly sends one anyway (after a HEAD, a 204 or a 304) would put it in the next client's answer;
		// nor after an HTTP/1.0 request (forwarded without keep-alive, the backend closes it); nor when the backend says Keep-Alive: timeout=0.
		if (noBody || head.minor === 0 || res.keepAlive === 0) res.close = true;
		let extra = '';
		if (noBody) this.res = Res.Length;
		else if (res.chunked) {
			this.res = Res.Chunked;
			this.responseChunks.reset();
			// For HTTP/1.0 the backend sends no chunks; if it did, they go on as they came.
		} else if (res.contentLength >= 0) this.res = Res.Length;
		else {
			this.res = Res.UntilClose;
			this.closeAfter = true;
		}
		this.resLeft = noBody ? 0 : res.contentLength;
		if (this.closeAfter) extra = 'Connection: close\r\n';
		else if (head.minor === 0) extra = 'Connection: keep-alive\r\n';
		this.resClose = res.close;
		this.resKeepAlive = res.keepAlive;
		this.answered = true;
		const socket = this.socket;
		// The usual small answer whole in this chunk: one write of one string (head and body, the body's bytes as latin1, which keeps them as they are).
		if (this.res === Res.Length && bodyStart + this.resLeft === buf.length && this.resLeft <= 4096) {
			socket.write(!res.rewritten && extra === '' ? buf : `${res.statusLine}\r\n${res.lines}${extra}\r\n${buf.toString('latin1', bodyStart)}`, 'latin1');
			this.resLeft = 0;
			return this.finish(false);
		}
		socket.cork();
		if (!res.rewritten && extra === '') socket.write(bodyStart === buf.length ? buf : buf.subarray(0, bodyStart));
		else socket.write(`${res.statusLine}\r\n${res.lines}${extra}\r\n`, 'latin1');
		if (this.res === Res.Length) {
			if (this.resLeft === 0) {
				socket.uncork();
				return this.finish(bodyStart < buf.length);
			}
			this.forwardLength(buf, bodyStart);
		} else if (this.res === Res.Chunked) this.forwardChunked(buf, bodyStart);
		else if (bodyStart < buf.length) this.forward(buf.subarray(bodyStart));
		socket.uncork();
	}

	private forwardLength(chunk: Buffer, start: number): void {
		const end = Math.min(chunk.length, start + this.resLeft);
		this.resLeft -= end - start;
		if (end > start) this.forward(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
		if (this.resLeft === 0) this.finish(end < chunk.length);
	}

	private forwardChunked(chunk: Buffer, start: number): void {
		let end: number;
		try {
			end = this.responseChunks.feed(chunk, start);
		} catch {
			// A malformed chunked answer, partly forwarded: the client's connection is cut.
			return void this.socket.destroy();
		}
		const last = end < 0 ? chunk.length : end;
		if (last > start) this.forward(start === 0 && last === chunk.length ? chunk : chunk.subarray(start, last));
		if (end >= 0) this.finish(end < chunk.length);
	}

	/**
	 * The answer is complete (its last byte written to the client): the
	 * backend connection back to its pool if it can carry another request,
	 * and the next request from this client, or the connection's end.
	 */
	private finish(trailing: boolean): void {
		const backend = this.backend;
		this.backend = undefined;
		if (this.backendPaused) {
			this.backendPaused = false;
			backend?.socket.resume();
		}
		if (backend) {
			if (trailing || this.resClose || this.state === Req.Body) {
				backend.conn = undefined;
				backend.socket.destroy();
			} else backend.pool.release(backend, this.resKeepAlive);
		}
		this.done();
	}

	/**
	 * After an answer: the connection ends (asked to, or the answer came
	 * before the whole request body, which would have to be read past), or
	 * the next request is read.
	 */
	private done(): void {
		if (this.closeAfter || this.state === Req.Body || (this.ended && !this.pending)) return this.close();
		this.state = Req.Head;
		this.head = undefined;
		this.lastActive = this.controller.tick;
		// The next head's clock starts now if it has begun to come (pipelined), else at its first byte.
		this.headStart = this.pending ? this.lastActive : -1;
		this.emptyLines = 0;
		if (this.reading || this.mustWait()) return;
		if (this.pending) this.nextRequest();
		else if (this.socket.isPaused()) this.socket.resume();
	}

	/** Our side ended after the last answer; the connection is destroyed at the client's FIN or closeLinger after, whichever comes first. */
	private close(): void {
		this.state = Req.Closed;
		this.pending = undefined;
		this.closedAt = -1;
		this.lastActive = this.controller.tick;
		this.socket.end(this.onFinish);
		// Read on (and drop what comes), or a paused socket would never see the FIN.
		if (this.socket.isPaused()) this.socket.resume();
	}

	private readonly onFinish = (): void => {
		this.closedAt = this.controller.tick;
	};

	/** The backend connection closed while it carried this client's request. */
	onBackendClose(backend: Backend): void {
		if (backend !== this.backend) return;
		this.backend = undefined;
		if (this.state === Req.Upgraded) return void this.socket.destroy();
		if (this.res === Res.UntilClose) {
			// Delimited by the close, the answer is whole unless the connection failed.
			if (backend.error) return void this.socket.destroy();
			return this.close();
		}
		if (this.answered) return void this.socket.destroy();
		// A kept-alive connection the backend had closed before this request reached it: once more on a new one, if the request can be sent again.
		// Idempotent methods only (as undici): the closed connection may have carried a DELETE or POST the backend acted on before it closed.
		if (backend.reused && !this.heard && !this.retried && this.state === Req.Waiting && idempotent.has(this.head!.method) && !this.head!.chunked && this.head!.contentLength <= 0) {
			this.retried = true;
			try {
				this.send(new Backend(backend.pool));
				return;
			} catch {}
		}
		const message = backend.error?.message ?? (this.heard ? 'the connection closed in the answer\'s head' : 'the connection closed');
		this.fail(502, this.head?.upgrade !== undefined
			? `502 Bad Gateway: the backend did not upgrade (${message})\n`
			: `502 Bad Gateway: the backend did not answer (${message})\n`);
	}

	/** The backend's 101: its head to the client, then the two connections piped together. */
	private upgraded(buf: Buffer): void {
		const backend = this.backend!;
		this.state = Req.Upgraded;
		this.answered = true;
		backend.pool.forget(backend);
		backend.pool.uncount(backend);
		this.socket.removeListener('data', this.onData);
		this.socket.write(buf);
		const upstream = backend.socket;
		upstream.removeAllListeners('data');
		upstream.removeAllListeners('drain');
		if (this.pending) upstream.write(this.pending);
		this.pending = undefined;
		upstream.pipe(this.socket);
		this.socket.pipe(upstream);
		// For the tunnel's idle timeout.
		const touch = () => {
			this.lastActive = this.controller.tick;
		};
		upstream.on('data', touch);
		this.socket.on('data', touch);
		touch();
	}

	/** An answer of the Ingress's own before any of the backend's: the backend connection dropped. */
	private fail(status: number, message: string): void {
		this.dequeue();
		const backend = this.backend;
		this.backend = undefined;
		if (backend) {
			backend.conn = undefined;
			backend.socket.destroy();
		}
		if (this.answered) return void this.socket.destroy();
		if (this.state === Req.Body) this.closeAfter = true;
		this.answerText(status, message);
	}

	/** A request that cannot be read (its head or framing refused): answered, and the connection closed. */
	private refuse(status: number, reason: string): void {
		this.closeAfter = true;
		this.head = undefined;
		this.answerText(status, `${status} ${http.STATUS_CODES[status]}: ${reason}\n`);
	}

	private answerText(status: number, message: string): void {
		const close = this.closeAfter || this.state === Req.Body;
		const keepAlive = !close && this.head?.minor === 0 ? 'Connection: keep-alive\r\n' : '';
		this.answered = true;
		this.socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message, 'latin1')}\r\n${close ? 'Connection: close\r\n' : keepAlive}\r\n${this.head?.method === 'HEAD' ? '' : message}`, 'latin1');
		this.done();
	}
}
