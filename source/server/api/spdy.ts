// SPDY/3.1 framing, the server's side, as kubectl's streams use it (the
// moby/spdystream package and its framer): after an HTTP upgrade to "SPDY/3.1", the client opens streams
// (SYN_STREAM) whose headers say what each carries (streamtype, port,
// requestid), the server accepts each (SYN_REPLY), and DATA frames carry the
// bytes, FIN closing a direction. kubectl 1.31 and newer send the same bytes
// inside WebSocket messages (the "SPDY/3.1+portforward.k8s.io" subprotocol).
//
// Written here rather than taken from spdy-transport (the one SPDY library
// for Node): it serves HTTP over SPDY and refuses a SYN_STREAM without
// :method and :path, which is every stream kubectl opens. What it does give
// us is SPDY/3's header-compression dictionary, a constant of the protocol
// (draft-mbelshe-httpbis-spdy-00, 2.6.10.1), read from its package.
//
// What is left out, as spdystream leaves it out: flow control (WINDOW_UPDATE
// is read and ignored; spdystream neither sends nor honours it), server push,
// priorities and SETTINGS (read and ignored).
import {EventEmitter} from 'node:events';
import type http from 'node:http';
import {createRequire} from 'node:module';
import type {Duplex} from 'node:stream';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const dictionary = (require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<number, Buffer>)[3];

const version = 3;
const type = {synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9} as const;
const flagFin = 0x01;
/** RST_STREAM status codes used here. */
const rst = {protocolError: 1, invalidStream: 2, cancel: 5} as const;
/** A DATA frame's payload is at most 2^24-1 bytes; smaller frames keep one stream from holding the socket long. */
const maxData = 64 * 1024;

export type Headers = Record<string, string>;

/** The values of a comma-separated request header (X-Stream-Protocol-Version, Sec-WebSocket-Protocol). */
export const headerList = (req: http.IncomingMessage, name: string) => String(req.headers[name] ?? '').split(',').map(p => p.trim());

/** Whether a request asks for an upgrade to SPDY/3.1 speaking `protocol`. */
export const wantsSpdy = (req: http.IncomingMessage, protocol: string) => String(req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1' && headerList(req, 'x-stream-protocol-version').includes(protocol);

/** Answer the upgrade (101, SPDY/3.1 with `protocol`) and start the session on the connection. */
export function acceptSpdy(socket: Duplex, head: Buffer, protocol: string): SpdySession {
	socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
	if (head.length) socket.unshift(head);
	return new SpdySession(socket);
}

/** One stream a client opened: its headers, then its bytes ('data', 'end'); writes go back on it. */
export class SpdyStream extends EventEmitter {
	private localClosed = false;
	private remoteClosed = false;

	constructor(private readonly session: SpdySession, readonly id: number, readonly headers: Headers) {
		super();
	}

	/** Accept the stream (SYN_REPLY). */
	reply(headers: Headers = {}): void {
		this.session.send(type.synReply, 0, async () => Buffer.concat([uint32(this.id), await this.session.compress(headers)]));
	}

	write(data: Buffer): void {
		if (this.localClosed) return;
		for (let at = 0; at < data.length; at += maxData) this.session.sendData(this.id, data.subarray(at, at + maxData), false);
	}

	/** Close our direction (an empty DATA frame with FIN). */
	end(): void {
		if (this.localClosed) return;
		this.localClosed = true;
		this.session.sendData(this.id, Buffer.alloc(0), true);
		this.settle();
	}

	/** Abandon the stream both ways (RST_STREAM CANCEL). */
	reset(): void {
		if (this.localClosed && this.remoteClosed) return;
		this.session.send(type.rstStream, 0, async () => Buffer.concat([uint32(this.id), uint32(rst.cancel)]));
		this.closeBoth();
	}

	/** Data from the client (the session calls these). */
	received(data: Buffer, fin: boolean): void {
		if (this.remoteClosed) return;
		if (data.length) this.emit('data', data);
		if (fin) {
			this.remoteClosed = true;
			this.emit('end');
			this.settle();
		}
	}

	closeBoth(): void {
		if (this.localClosed && this.remoteClosed) return;
		const remoteWasOpen = !this.remoteClosed;
		this.localClosed = this.remoteClosed = true;
		if (remoteWasOpen) this.emit('end');
		this.settle();
	}

	private settle(): void {
		if (this.localClosed && this.remoteClosed) {
			this.session.forget(this.id);
			this.emit('close');
		}
	}
}

const uint32 = (n: number) => {
	const b = Buffer.alloc(4);
	b.writeUInt32BE(n >>> 0);
	return b;
};

/**
 * A server's SPDY session on an upgraded connection: 'stream' for each stream the client opens,
 * 'close' when the connection ends. Frames go out in the order they are sent, each header block
 * compressed in turn with the session's one zlib context, as SPDY/3 requires.
 */
export class SpdySession extends EventEmitter {
	private readonly streams = new Map<number, SpdyStream>();
	private readonly deflate = zlib.createDeflate({dictionary});
	private readonly inflate = zlib.createInflate({dictionary});
	private pending: Buffer = Buffer.alloc(0);
	/** Frames in, one at a time (their header blocks share one inflate context). */
	private reading: Promise<void> = Promise.resolve();
	/** Frames out, in order. */
	private writing: Promise<void> = Promise.resolve();
	private closed = false;

	constructor(private readonly socket: Duplex) {
		super();
		socket.on('data', (chunk: Buffer) => {
			this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
			this.frames();
		});
		socket.on('close', () => this.close());
		socket.on('end', () => this.close());
		socket.on('error', () => this.close());
	}

	/** Send a control frame whose payload may need compressing (made when its turn comes). */
	send(frameType: number, flags: number, payload: () => Promise<Buffer>): void {
		this.writing = this.writing.then(async () => {
			if (this.closed) return;
			const body = await payload();
			const head = Buffer.alloc(8);
			head.writeUInt16BE(0x8000 | version, 0);
			head.writeUInt16BE(frameType, 2);
			head.writeUInt32BE(((flags & 0xff) << 24) | body.length, 4);
			this.socket.write(Buffer.concat([head, body]));
		}).catch(() => this.close());
	}

	sendData(streamId: number, data: Buffer, fin: boolean): void {
		this.writing = this.writing.then(() => {
			if (this.closed) return;
			const head = Buffer.alloc(8);
			head.writeUInt32BE(streamId & 0x7fffffff, 0);
			head.writeUInt32BE(((fin ? flagFin : 0) << 24) | data.length, 4);
			this.socket.write(data.length ? Buffer.concat([head, data]) : head);
		});
	}

	/** A header block: count, then each name and value with their lengths, deflated with the session's context. */
	compress(headers: Headers): Promise<Buffer> {
		const parts: Buffer[] = [uint32(Object.keys(headers).length)];
		for (const [name, value] of Object.entries(headers)) {
			for (const text of [name.toLowerCase(), value]) {
				const bytes = Buffer.from(text);
				parts.push(uint32(bytes.length), bytes);
			}
		}
		return flushed(this.deflate, Buffer.concat(parts));
	}

	forget(id: number): void {
		this.streams.delete(id);
	}

	close(): void {
		if (this.closed) return;
		this.closed = true;
		for (const stream of [...this.streams.values()]) stream.closeBoth();
		this.streams.clear();
		this.deflate.close();
		this.inflate.close();
		this.socket.destroy();
		this.emit('close');
	}

	private frames(): void {
		while (this.pending.length >= 8) {
			const length = this.pending.readUInt32BE(4) & 0xffffff;
			if (this.pending.length < 8 + length) return;
			const frame = this.pending.subarray(0, 8 + length);
			this.pending = this.pending.subarray(8 + length);
			this.reading = this.reading.then(() => this.frame(frame)).catch(() => this.close());
		}
	}

	private async frame(frame: Buffer): Promise<void> {
		if (this.closed) return;
		const flags = frame[4];
		const body = frame.subarray(8);
		if (!(frame[0] & 0x80)) {
			const stream = this.streams.get(frame.readUInt32BE(0) & 0x7fffffff);
			stream?.received(Buffer.from(body), (flags & flagFin) !== 0);
			return;
		}
		switch (frame.readUInt16BE(2)) {
			case type.synStream: {
				const id = body.readUInt32BE(0) & 0x7fffffff;
				const headers = await this.headersOf(body.subarray(10));
				if (this.streams.has(id) || id % 2 === 0) {
					this.send(type.rstStream, 0, async () => Buffer.concat([uint32(id), uint32(rst.protocolError)]));
					return;
				}
				const stream = new SpdyStream(this, id, headers);
				this.streams.set(id, stream);
				this.emit('stream', stream);
				if (flags & flagFin) stream.received(Buffer.alloc(0), true);
				return;
			}
			case type.headers:
				// Headers after the first carry nothing kubectl needs, but they share the inflate context.
				await this.headersOf(body.subarray(4));
				return;
			case type.rstStream:
				this.streams.get(body.readUInt32BE(0) & 0x7fffffff)?.closeBoth();
				return;
			case type.ping:
				// The client's pings (odd ids) are echoed back as they came.
				this.send(type.ping, 0, async () => Buffer.from(body));
				return;
			case type.goAway:
				this.close();
				return;
			default:
				// SETTINGS, WINDOW_UPDATE and SYN_REPLY (a client does not reply) are read and let be.
				return;
		}
	}

	private async headersOf(block: Buffer): Promise<Headers> {
		const raw = await flushed(this.inflate, block);
		const headers: Headers = {};
		let at = 4;
		const count = raw.readUInt32BE(0);
		for (let i = 0; i < count; i++) {
			const nameLength = raw.readUInt32BE(at);
			const name = raw.subarray(at + 4, at + 4 + nameLength).toString();
			at += 4 + nameLength;
			const valueLength = raw.readUInt32BE(at);
			// Several values of one header are NUL-separated; the first is the one kubectl's headers have.
			headers[name.toLowerCase()] = raw.subarray(at + 4, at + 4 + valueLength).toString().split('\0')[0];
			at += 4 + valueLength;
		}
		return headers;
	}
}

/**
 * Run one block through a zlib stream whose context lives on (SYNC_FLUSH), and take what comes
 * out: the stream has pushed it by the time the flush's callback runs.
 */
function flushed(stream: zlib.Deflate | zlib.Inflate, input: Buffer): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		stream.once('error', reject);
		stream.write(input);
		stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
			stream.off('error', reject);
			const out: Buffer[] = [];
			for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) out.push(chunk);
			resolve(Buffer.concat(out));
		});
	});
}
