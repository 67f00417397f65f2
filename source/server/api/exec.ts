// pods/NAME/exec over a WebSocket (v5.channel.k8s.io, v4.channel.k8s.io:
// kubectl 1.30 and newer, client libraries) or over SPDY/3.1 (v4.channel.k8s.io,
// kubectl 1.29 and older, one SPDY stream per channel): the request is checked (pod, container, command) before the upgrade, so a
// bad one gets an ordinary Status; the upgraded connection then carries the
// process's stdin, stdout, stderr and terminal size, and its exit as a
// Status on the error channel. The process itself is the kubelet's (it runs
// inside the pod's sandbox); this file only speaks the protocol. `ws` is
// the WebSocket implementation Node projects use; node has no server of its own.
import type http from 'node:http';
import type {Duplex} from 'node:stream';
import {WebSocketServer, type WebSocket} from 'ws';
import {badRequest, isStatus, pathNotFound, StatusError} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import {channel, execProtocols, exitStatus, frame, type TerminalSize} from '../../api/remotecommand.js';
import type {Registry} from '../registry.js';
import {acceptSpdy, headerList, type SpdySession, type SpdyStream, wantsSpdy} from './spdy.js';

export interface ExecRequest {
	container?: string;
	/** pods/NAME/attach: the container's main process, not a new one (command is empty). */
	attach?: boolean;
	command: string[];
	stdin: boolean;
	stdout: boolean;
	stderr: boolean;
	tty: boolean;
}

/** A process exec'd into a container, as the kubelet started it. */
export interface ExecProcess {
	write(data: Buffer): void;
	closeStdin(): void;
	resize(size: {cols: number; rows: number}): void;
	kill(): void;
	onOutput(listener: (stream: 'stdout' | 'stderr', data: Buffer) => void): void;
	/** The exit code (128+n for a signal). */
	exited: Promise<number>;
}

/** Start the process, or throw a StatusError (no such container, not running). */
export type ExecHandler = (pod: KubeObject, request: ExecRequest) => ExecProcess;

const truthy = (value: string | null) => value === 'true' || value === '1';

/** The exec (or attach) request of a URL, or undefined when the path is not pods/NAME/exec or pods/NAME/attach. */
export function parseExecRequest(url: URL): {namespace: string; name: string; request: ExecRequest} | undefined {
	const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach)\/?$/);
	if (!m) return undefined;
	const q = url.searchParams;
	const attach = m[3] === 'attach';
	return {
		namespace: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]),
		request: {
			container: q.get('container') ?? undefined, command: attach ? [] : q.getAll('command'), ...(attach ? {attach} : {}),
			stdin: truthy(q.get('stdin')), stdout: q.get('stdout') === null ? true : truthy(q.get('stdout')), stderr: q.get('stderr') === null ? true : truthy(q.get('stderr')), tty: truthy(q.get('tty')),
		},
	};
}

/** Answer an upgrade request with a Status instead of upgrading it. */
export function refuse(socket: Duplex, error: unknown): void {
	const status = error instanceof StatusError ? error.status : badRequest((error as Error).message).status;
	const body = JSON.stringify(status);
	const reason = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found'}[status.code] ?? 'Error';
	socket.end(`HTTP/1.1 ${status.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * The server's 'upgrade' listener for exec. `authorize` runs first (the
 * listener's own checks: the TCP token, no browsers); it throws a StatusError to refuse.
 */
export function execUpgradeHandler(registry: Registry, exec: ExecHandler) {
	const wss = new WebSocketServer({noServer: true, handleProtocols: offered => execProtocols.find(p => offered.has(p)) ?? false});
	return (req: http.IncomingMessage, socket: Duplex, head: Buffer, authorize?: (req: http.IncomingMessage) => void): void => {
		socket.on('error', () => socket.destroy());
		const spdy = String(req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1';
		let target: ReturnType<typeof parseExecRequest>;
		let process: ExecProcess;
		try {
			authorize?.(req);
			target = parseExecRequest(new URL(req.url ?? '/', 'http://localhost'));
			if (!target) throw pathNotFound();
			if (spdy) {
				if (!wantsSpdy(req, spdyProtocol)) throw badRequest(`exec over SPDY needs X-Stream-Protocol-Version: ${spdyProtocol}`);
			} else if (!execProtocols.some(p => headerList(req, 'sec-websocket-protocol').includes(p))) {
				throw badRequest(`exec needs one of the WebSocket subprotocols ${execProtocols.join(', ')}`);
			}
			if (target.request.command.length === 0 && !target.request.attach) throw badRequest('you must specify at least one command for the container');
			if (target.request.tty && target.request.stderr) target.request.stderr = false; // a terminal merges them, as kubectl expects
			const pod = registry.get(typeByPlural('pods')!, target.namespace, target.name);
			process = exec(pod, target.request);
		} catch (error) {
			refuse(socket, isStatus((error as StatusError).status) ? error : badRequest((error as Error).message));
			return;
		}
		if (spdy) {
			serveSpdy(acceptSpdy(socket, head, spdyProtocol), process, target.request);
			return;
		}
		wss.handleUpgrade(req, socket, head, ws => serve(ws, process, target!.request));
	};
}

/** The SPDY protocol spoken here: v4 reports the exit as a Status on the error stream, as the WebSocket's v4 does. */
const spdyProtocol = 'v4.channel.k8s.io';
/** How long the client has to open the streams it asked for (the kubelet's streamCreationTimeout). */
const streamsTimeoutMs = 30_000;

/**
 * Exec over SPDY: the client opens one stream per channel (streamtype error, stdin, stdout, stderr,
 * resize); once all it asked for are open, output flows (what the process wrote before waits), and
 * the exit goes on the error stream before every stream is closed.
 */
function serveSpdy(session: SpdySession, process: ExecProcess, request: ExecRequest): void {
	const expected = ['error', ...(request.stdin ? ['stdin'] : []), ...(request.stdout ? ['stdout'] : []), ...(request.stderr ? ['stderr'] : []), ...(request.tty ? ['resize'] : [])];
	const streams = new Map<string, SpdyStream>();
	const early: ['stdout' | 'stderr', Buffer][] = [];
	let ready = false;
	let exitCode: number | undefined;
	process.onOutput((stream, data) => {
		if (!expected.includes(stream)) return;
		if (ready) streams.get(stream)!.write(data);
		else early.push([stream, data]);
	});
	const finish = () => {
		streams.get('error')?.write(Buffer.from(JSON.stringify(endStatus(request, exitCode!))));
		for (const stream of streams.values()) stream.end();
		// The client closes the connection once it has read the streams; this is for one that does not.
		setTimeout(() => session.close(), streamsTimeoutMs).unref();
	};
	const timeout = setTimeout(() => {
		if (ready) return;
		process.kill();
		session.close();
	}, streamsTimeoutMs);
	session.on('stream', (stream: SpdyStream) => {
		const kind = stream.headers.streamtype;
		if (!expected.includes(kind) || streams.has(kind)) return stream.reset();
		stream.reply();
		streams.set(kind, stream);
		if (kind === 'stdin') {
			stream.on('data', (data: Buffer) => process.write(data));
			stream.on('end', () => process.closeStdin());
		} else if (kind === 'resize') {
			// A JSON object per size, one after another (Go's json.Encoder on the stream).
			let text = '';
			stream.on('data', (data: Buffer) => {
				text += data.toString();
				for (let end = text.indexOf('}'); end >= 0; end = text.indexOf('}')) {
					resizeTo(process, text.slice(0, end + 1));
					text = text.slice(end + 1);
				}
			});
		}
		if (!ready && expected.every(k => streams.has(k))) {
			ready = true;
			clearTimeout(timeout);
			for (const [which, data] of early.splice(0)) streams.get(which)!.write(data);
			if (exitCode !== undefined) finish();
		}
	});
	session.on('close', () => process.kill());
	void process.exited.then(code => {
		exitCode = code;
		if (ready) finish();
	});
}

/** What the error channel says at the end: an exec's exit; an attach ends without error when its container does, as the kubelet's. */
function endStatus(request: ExecRequest, exitCode: number): Record<string, unknown> {
	return request.attach ? exitStatus([], 0) : exitStatus(request.command, exitCode);
}

/** A terminal size message ({"Width":80,"Height":24}); anything else is ignored. */
function resizeTo(process: ExecProcess, json: string): void {
	try {
		const size = JSON.parse(json) as TerminalSize;
		if (Number.isInteger(size.Width) && Number.isInteger(size.Height) && size.Width > 0 && size.Height > 0) process.resize({cols: size.Width, rows: size.Height});
	} catch {}
}

function serve(ws: WebSocket, process: ExecProcess, request: ExecRequest): void {
	const send = (ch: number, data?: Buffer | string) => {
		if (ws.readyState === ws.OPEN) ws.send(frame(ch, data));
	};
	// An empty message on the first output channel tells the client the streams are ready (wsstream does the same).
	send(channel.stdout);
	process.onOutput((stream, data) => {
		if ((stream === 'stdout' && request.stdout) || (stream === 'stderr' && request.stderr)) send(stream === 'stdout' ? channel.stdout : channel.stderr, data);
	});
	ws.on('message', (raw: Buffer, isBinary: boolean) => {
		const data = isBinary ? raw : Buffer.from(raw);
		if (data.length === 0) return;
		const body = data.subarray(1);
		switch (data[0]) {
			case channel.stdin: if (request.stdin && body.length) process.write(body); break;
			case channel.resize: resizeTo(process, body.toString()); break;
			case channel.close: if (body[0] === channel.stdin) process.closeStdin(); break;
		}
	});
	ws.on('close', () => process.kill());
	ws.on('error', () => process.kill());
	void process.exited.then(code => {
		send(channel.error, JSON.stringify(endStatus(request, code)));
		ws.close(1000);
	});
}
