// pods/NAME/exec over a WebSocket (v5.channel.k8s.io, v4.channel.k8s.io):
// the request is checked (pod, container, command) before the upgrade, so a
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

export interface ExecRequest {
	container?: string;
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

/** The exec request of a URL, or undefined when the path is not pods/NAME/exec. */
export function parseExecRequest(url: URL): {namespace: string; name: string; request: ExecRequest} | undefined {
	const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec\/?$/);
	if (!m) return undefined;
	const q = url.searchParams;
	return {
		namespace: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]),
		request: {
			container: q.get('container') ?? undefined, command: q.getAll('command'),
			stdin: truthy(q.get('stdin')), stdout: q.get('stdout') === null ? true : truthy(q.get('stdout')), stderr: q.get('stderr') === null ? true : truthy(q.get('stderr')), tty: truthy(q.get('tty')),
		},
	};
}

function refuse(socket: Duplex, error: unknown): void {
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
		let target: ReturnType<typeof parseExecRequest>;
		let process: ExecProcess;
		try {
			authorize?.(req);
			target = parseExecRequest(new URL(req.url ?? '/', 'http://localhost'));
			if (!target) throw pathNotFound();
			const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map(p => p.trim());
			if (!execProtocols.some(p => offered.includes(p))) throw badRequest(`exec needs one of the WebSocket subprotocols ${execProtocols.join(', ')}`);
			if (target.request.command.length === 0) throw badRequest('you must specify at least one command for the container');
			if (target.request.tty && target.request.stderr) target.request.stderr = false; // a terminal merges them, as kubectl expects
			const pod = registry.get(typeByPlural('pods')!, target.namespace, target.name);
			process = exec(pod, target.request);
		} catch (error) {
			refuse(socket, isStatus((error as StatusError).status) ? error : badRequest((error as Error).message));
			return;
		}
		wss.handleUpgrade(req, socket, head, ws => serve(ws, process, target!.request));
	};
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
			case channel.resize: {
				try {
					const size = JSON.parse(body.toString()) as TerminalSize;
					if (Number.isInteger(size.Width) && Number.isInteger(size.Height) && size.Width > 0 && size.Height > 0) process.resize({cols: size.Width, rows: size.Height});
				} catch {}
				break;
			}
			case channel.close: if (body[0] === channel.stdin) process.closeStdin(); break;
		}
	});
	ws.on('close', () => process.kill());
	ws.on('error', () => process.kill());
	void process.exited.then(code => {
		send(channel.error, JSON.stringify(exitStatus(request.command, code)));
		ws.close(1000);
	});
}
