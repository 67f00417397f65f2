// pods/NAME/portforward as kubectl speaks it: an upgrade to SPDY/3.1 with
// the portforward.k8s.io protocol (kubectl 1.30 and older), or a WebSocket
// carrying those SPDY bytes ("SPDY/3.1+portforward.k8s.io", 1.31 and newer).
// For each connection it accepts locally, kubectl opens two streams with the
// same requestid: "error" (the server writes why a forward failed, then
// closes it) and "data" (the bytes, both ways). The engine reaches the pod
// at its IP, as the kubelet reaches the pod's network namespace.
import type http from 'node:http';
import net from 'node:net';
import type {Duplex} from 'node:stream';
import {createWebSocketStream, WebSocketServer} from 'ws';
import {badRequest, pathNotFound} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import type {Registry} from '../registry.js';
import {refuse} from './exec.js';
import {acceptSpdy, headerList, SpdySession, type SpdyStream, wantsSpdy} from './spdy.js';

const protocol = 'portforward.k8s.io';
const tunnelProtocol = `SPDY/3.1+${protocol}`;
const pathPattern = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward\/?$/;

export const isPortForward = (url: string | undefined) => pathPattern.test(new URL(url ?? '/', 'http://localhost').pathname);

/** Where a pod's port is reached from the engine. */
export type PodDialer = (pod: KubeObject, port: number) => net.Socket;

export const dialPodIP: PodDialer = (pod, port) => net.connect(port, (pod.status as {podIP: string}).podIP);

/**
 * The server's 'upgrade' listener for port-forward. `authorize` runs first (the listener's checks);
 * a bad request (no such pod, not running, a protocol kubectl does not speak) gets a Status, not an upgrade.
 */
export function portForwardUpgradeHandler(registry: Registry, dial: PodDialer = dialPodIP) {
	// ws refuses "SPDY/3.1+portforward.k8s.io" as a subprotocol ('/' is not a token character, though
	// Go's WebSocket servers take it): the request names it by a stand-in, and the answer by its name.
	const standIn = 'spdy-over-websocket';
	const wss = new WebSocketServer({noServer: true, handleProtocols: offered => (offered.has(standIn) ? tunnelProtocol : false)});
	return (req: http.IncomingMessage, socket: Duplex, head: Buffer, authorize?: (req: http.IncomingMessage) => void): void => {
		socket.on('error', () => socket.destroy());
		let pod: KubeObject;
		const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
		try {
			authorize?.(req);
			const m = new URL(req.url ?? '/', 'http://localhost').pathname.match(pathPattern);
			if (!m) throw pathNotFound();
			if (upgrade === 'websocket') {
				if (!headerList(req, 'sec-websocket-protocol').includes(tunnelProtocol)) throw badRequest(`port-forward over a WebSocket needs the subprotocol ${tunnelProtocol}`);
			} else if (!wantsSpdy(req, protocol)) {
				throw badRequest(`port-forward needs an upgrade to SPDY/3.1 with X-Stream-Protocol-Version: ${protocol}`);
			}
			pod = registry.get(typeByPlural('pods')!, decodeURIComponent(m[1]), decodeURIComponent(m[2]));
			const phase = (pod.status as {phase?: string} | undefined)?.phase;
			if (phase !== 'Running') throw badRequest(`pod is not running - current status=${phase ?? 'Pending'}`);
			// No address, no forward: never a fallback that would reach the host's own loopback services.
			if (!(pod.status as {podIP?: string}).podIP) throw badRequest(`pod ${pod.metadata.name} has no IP address yet`);
		} catch (error) {
			refuse(socket, error);
			return;
		}
		if (upgrade === 'websocket') {
			req.headers['sec-websocket-protocol'] = standIn;
			wss.handleUpgrade(req, socket, head, ws => forward(new SpdySession(createWebSocketStream(ws)), pod, dial));
			return;
		}
		forward(acceptSpdy(socket, head, protocol), pod, dial);
	};
}

/** Pair each request's error and data streams, and join the data stream to a connection to the pod's port. */
function forward(session: SpdySession, pod: KubeObject, dial: PodDialer): void {
	const pairs = new Map<string, {error?: SpdyStream; data?: SpdyStream}>();
	session.on('stream', (stream: SpdyStream) => {
		stream.reply();
		const kind = stream.headers.streamtype;
		const id = stream.headers.requestid ?? String(kind === 'error' ? stream.id : stream.id - 2);
		if (kind !== 'error' && kind !== 'data') return stream.reset();
		const pair = pairs.get(id) ?? {};
		pair[kind] = stream;
		pairs.set(id, pair);
		if (pair.error && pair.data) {
			pairs.delete(id);
			join(pod, Number(stream.headers.port), pair.error, pair.data, dial);
		}
	});
}

function join(pod: KubeObject, port: number, error: SpdyStream, data: SpdyStream, dial: PodDialer): void {
	const fail = (message: string) => {
		error.write(Buffer.from(`error forwarding port ${port} to pod ${pod.metadata.name}, uid ${pod.metadata.uid}: ${message}`));
		error.end();
		data.end();
	};
	if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`invalid port "${data.headers.port ?? ''}"`);
	const conn = dial(pod, port);
	let connected = false;
	conn.on('connect', () => (connected = true));
	conn.on('data', (chunk: Buffer) => data.write(chunk));
	conn.on('end', () => data.end());
	conn.on('error', e => (connected ? conn.destroy() : fail(e.message)));
	conn.on('close', () => {
		data.end();
		error.end();
	});
	data.on('data', (chunk: Buffer) => conn.write(chunk));
	data.on('end', () => conn.end());
	data.on('close', () => conn.destroy());
}
