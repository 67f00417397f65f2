// The Ingress's HTTP/1.1 data path against backends scripted here (raw
// sockets both sides, so that every byte is the test's): smuggling shapes
// refused with 400 before a backend sees them, pipelined requests answered
// in order, chunked and close-delimited answers passed on, hop-by-hop
// headers dropped and X-Forwarded-* set, a backend that fails or closes
// mid-answer giving 502 or a cut connection and the Ingress going on.
import assert from 'node:assert/strict';
import {once} from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import {after, before, beforeEach, describe, it} from 'node:test';
import {typeByPlural} from '../../source/api/resources.js';
import {ManualClock} from '../../source/engine/clock.js';
import {EventRecorder} from '../../source/engine/events.js';
import {ChunkedReader, HttpError, parseRequestHead, parseResponseHead} from '../../source/engine/network/http1.js';
import {IngressController} from '../../source/engine/network/ingress.js';
import {Registry} from '../../source/server/registry.js';
import {Store} from '../../source/store/store.js';
import {eventually, removeHome, tempHome} from '../helpers.js';

const type = (plural: string) => typeByPlural(plural)!;

function freePort(): Promise<number> {
	return new Promise(resolve => {
		const server = net.createServer().listen(0, '127.0.0.1', () => {
			const {port} = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

/** Bytes to the Ingress on a new connection (in one write); everything it sends back until it closes (or `until` holds, or 3 s pass). */
function talk(port: number, data: string, until?: (got: string) => boolean): Promise<{got: string; closed: boolean; reset: boolean}> {
	return new Promise(resolve => {
		const socket = net.connect(port, '127.0.0.1');
		let got = '', reset = false, settled = false;
		const finish = (closed: boolean) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			socket.destroy();
			resolve({got, closed, reset});
		};
		const timer = setTimeout(() => finish(false), 3000);
		socket.on('connect', () => socket.write(data));
		socket.on('data', d => {
			got += d.toString('latin1');
			if (until?.(got)) finish(false);
		});
		socket.on('error', () => {
			reset = true;
		});
		socket.on('close', () => finish(true));
	});
}

/** The scripted backend: every request's raw bytes as they came (per connection), answered by `script`. */
interface Backend {
	port: number;
	received: string[];
	connections: number;
	script: (request: string, socket: net.Socket) => void;
	close(): Promise<void>;
}

async function scriptedBackend(): Promise<Backend> {
	const sockets = new Set<net.Socket>();
	const backend: Backend = {port: 0, received: [], connections: 0, script: () => {}, close: async () => {}};
	const server = net.createServer(socket => {
		backend.connections++;
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => {});
		let buffer = '';
		socket.on('data', d => {
			buffer += d.toString('latin1');
			// One request at a time: a head, and a body by Content-Length or to the end of a chunked one.
			for (;;) {
				const end = buffer.indexOf('\r\n\r\n');
				if (end < 0) return;
				const head = buffer.slice(0, end);
				const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
				let total = end + 4 + length;
				if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
					const last = buffer.indexOf('\r\n0\r\n\r\n', end);
					if (last < 0) return;
					total = last + 7;
				}
				if (buffer.length < total) return;
				const request = buffer.slice(0, total);
				buffer = buffer.slice(total);
				backend.received.push(request);
				backend.script(request, socket);
			}
		});
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	backend.port = (server.address() as net.AddressInfo).port;
	backend.close = () => new Promise(resolve => {
		for (const s of sockets) s.destroy();
		server.close(() => resolve());
	});
	return backend;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** promise, or a failure saying what did not happen if it does not settle in ms. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))]);
	} finally {
		clearTimeout(timer);
	}
}

/** A raw client connection to the Ingress, connected. */
async function connect(port: number, options: {allowHalfOpen?: boolean} = {}): Promise<net.Socket> {
	const socket = net.connect({port, host: '127.0.0.1', ...options});
	socket.on('error', () => {});
	await once(socket, 'connect');
	return socket;
}

const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

describe('the Ingress data path', () => {
	let home: string;
	let store: Store;
	let ingress: IngressController;
	let backend: Backend;
	let port: number;
	let registry: Registry;
	let httpsPort: number;

	before(async () => {
		home = tempHome();
		store = new Store(home);
		registry = new Registry(store);
		await registry.create(type('namespaces'), undefined, {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default'}});
		backend = await scriptedBackend();
		await registry.create(type('services'), 'default', {apiVersion: 'v1', kind: 'Service', metadata: {name: 'web', namespace: 'default'}, spec: {clusterIP: 'None', selector: {app: 'web'}, ports: [{name: 'http', port: 80}]}});
		await registry.create(type('endpoints'), 'default', {apiVersion: 'v1', kind: 'Endpoints', metadata: {name: 'web', namespace: 'default'}, subsets: [{addresses: [{ip: '127.0.0.1'}], ports: [{name: 'http', port: backend.port}]}]});
		await registry.create(type('ingresses'), 'default', {apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: {name: 'web', namespace: 'default'}, spec: {
			rules: [{host: 'web.example', http: {paths: [{path: '/', pathType: 'Prefix', backend: {service: {name: 'web', port: {number: 80}}}}]}}],
		}});
		port = await freePort();
		ingress = new IngressController(store, registry, new EventRecorder(registry, new ManualClock()), {address: '127.0.0.1', httpPort: port, httpsPort: httpsPort = await freePort()});
		ingress.start();
		await eventually(async () => (await talk(port, 'GET / HTTP/1.1\r\nHost: nowhere.example\r\nConnection: close\r\n\r\n')).got.startsWith('HTTP/1.1 404'), 'the Ingress listening', 10_000);
	});
	after(async () => {
		await ingress.stop();
		await backend.close();
		await store.close();
		removeHome(home);
	});
	beforeEach(() => {
		backend.received = [];
		backend.script = (_request, socket) => socket.write(ok('hello'));
	});

	it('refuses request smuggling shapes with 400 and closes, before any backend sees them', async () => {
		const shapes: Record<string, string> = {
			'Content-Length and Transfer-Encoding': 'POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
			'differing Content-Lengths': 'POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
			'a Content-Length list that differs': 'POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 5, 6\r\n\r\nhello!',
			'a signed Content-Length': 'POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: +5\r\n\r\nhello',
			'obs-fold': 'GET / HTTP/1.1\r\nHost: web.example\r\nX-Long: a\r\n b\r\n\r\n',
			'white space before a colon': 'GET / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
			'a bare LF': 'GET / HTTP/1.1\nHost: web.example\r\n\r\n',
			'a bare LF ending the head': 'GET / HTTP/1.1\r\nHost: web.example\n\n',
			'a bare CR': 'GET / HTTP/1.1\r\nHost: web.example\rX: y\r\n\r\n',
			'two Host headers': 'GET / HTTP/1.1\r\nHost: web.example\r\nHost: other.example\r\n\r\n',
			'no Host in HTTP/1.1': 'GET / HTTP/1.1\r\n\r\n',
			'Transfer-Encoding in HTTP/1.0': 'POST / HTTP/1.0\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
			'a NUL in a value': 'GET / HTTP/1.1\r\nHost: web.example\r\nX: a\x00b\r\n\r\n',
			'a malformed request line': 'GET  / HTTP/1.1\r\nHost: web.example\r\n\r\n',
			'an oversized head': `GET / HTTP/1.1\r\nHost: web.example\r\nX-Big: ${'a'.repeat(40 * 1024)}\r\n\r\n`,
			'an oversized incomplete head': `GET / HTTP/1.1\r\nHost: web.example\r\nX-Big: ${'a'.repeat(40 * 1024)}`,
		};
		for (const [shape, request] of Object.entries(shapes)) {
			const {got, closed} = await talk(port, request);
			assert.match(got, /^HTTP\/1\.1 400 Bad Request\r\n/, shape);
			assert.match(got, /\r\nConnection: close\r\n/, shape);
			assert.ok(closed, `${shape}: the connection is closed`);
		}
		const {got} = await talk(port, 'POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
		assert.match(got, /^HTTP\/1\.1 501 /, 'a coding other than chunked');
		assert.deepEqual(backend.received, [], 'no backend saw any of them');
	});

	it('refuses a malformed chunked request body with 400', async () => {
		const {got, closed} = await talk(port, 'POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n');
		assert.match(got, /^HTTP\/1\.1 400 /);
		assert.ok(closed);
		const second = await talk(port, 'POST / HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n');
		assert.match(second.got, /^HTTP\/1\.1 400 /, 'chunk data not followed by CRLF');
	});

	it('answers pipelined requests in order on one connection, one backend request at a time', async () => {
		let n = 0;
		backend.script = (request, socket) => {
			const path = request.split(' ')[1];
			// The first answer is slow: the second must still come after it.
			setTimeout(() => socket.write(ok(`${path}#${++n}`)), path === '/one' ? 50 : 0);
		};
		const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: web.example\r\n\r\n`;
		const {got} = await talk(port, request('/one') + request('/two') + 'POST /three HTTP/1.1\r\nHost: web.example\r\nContent-Length: 3\r\n\r\nabc' + request('/four'), g => g.includes('/four#'));
		const bodies = got.split('\r\n\r\n').slice(1).map(b => b.replace(/HTTP\/1\.1.*$/s, ''));
		assert.deepEqual(bodies, ['/one#1', '/two#2', '/three#3', '/four#4']);
		assert.equal(backend.received.length, 4);
		assert.ok(backend.received[2].endsWith('\r\n\r\nabc'), 'the body went with its request');
	});

	it('passes a chunked answer on as it came and keeps the connection for the next request', async () => {
		backend.script = (request, socket) => {
			if (request.startsWith('GET /chunked')) socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n');
			else socket.write(ok('after'));
		};
		const {got} = await talk(port, 'GET /chunked HTTP/1.1\r\nHost: web.example\r\n\r\nGET /next HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('after'));
		assert.match(got, /^HTTP\/1\.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
		assert.ok(got.endsWith('after'));
	});

	it('forwards a chunked request body re-framed as it came, and an answer delimited by the close ends the connection', async () => {
		backend.script = (_request, socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the close');
		const {got, closed} = await talk(port, 'POST /up HTTP/1.1\r\nHost: web.example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
		assert.match(got, /^HTTP\/1\.1 200 OK\r\nConnection: close\r\n\r\nuntil the close$/);
		assert.ok(closed);
		assert.match(backend.received[0], /\r\nTransfer-Encoding: chunked\r\n[^]*\r\n\r\n3\r\nabc\r\n0\r\n\r\n$/);
	});

	it('drops hop-by-hop headers and sets X-Forwarded-* from the connection, and counts the request', async () => {
		const before = ingress.requests.get('default/web:80') ?? 0;
		await talk(port, 'GET /h HTTP/1.1\r\nHost: web.example:8080\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Forwarded-For: 6.6.6.6\r\nX-Kept: yes\r\n\r\n', g => g.endsWith('hello'));
		const [request] = backend.received;
		assert.match(request, /^GET \/h HTTP\/1\.1\r\n/);
		assert.match(request, /\r\nX-Kept: yes\r\n/);
		assert.match(request, /\r\nHost: web\.example:8080\r\n/);
		for (const gone of ['X-Secret', 'Keep-Alive', 'TE', 'Connection', '6.6.6.6']) assert.ok(!request.includes(gone), `${gone} not forwarded: ${request}`);
		assert.match(request, /\r\nX-Forwarded-For: 127\.0\.0\.1\r\n/);
		assert.match(request, /\r\nX-Forwarded-Proto: http\r\n/);
		assert.match(request, /\r\nX-Forwarded-Host: web\.example:8080\r\n/);
		assert.match(request, new RegExp(`\\r\\nX-Forwarded-Port: ${port}\\r\\n`));
		assert.equal(ingress.requests.get('default/web:80'), before + 1);
		// And from the answer: its Connection header and the ones it lists.
		backend.script = (_request, socket) => socket.write('HTTP/1.1 200 OK\r\nConnection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=9\r\nContent-Length: 2\r\n\r\nok');
		const {got} = await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('ok'));
		assert.equal(got, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
	});

	it('answers a HEAD without a body and goes on with the next request', async () => {
		backend.script = (request, socket) => socket.write(request.startsWith('HEAD') ? 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n' : ok('hello'));
		const {got} = await talk(port, 'HEAD / HTTP/1.1\r\nHost: web.example\r\n\r\nGET / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('hello'));
		assert.equal(got, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
	});

	it('gives 502 when the backend closes before answering, cuts the connection when it closes mid-answer, and goes on serving', async () => {
		backend.script = (_request, socket) => socket.destroy();
		const before = await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.includes('\n\n') || /\r\n\r\n.*\n/s.test(g));
		assert.match(before.got, /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*\r\n\r\n502 Bad Gateway: the backend did not answer \(/);
		backend.script = (_request, socket) => {
			socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
			setTimeout(() => socket.destroy(), 20);
		};
		const mid = await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\n\r\n');
		assert.ok(mid.closed, 'the client connection is cut');
		assert.match(mid.got, /^HTTP\/1\.1 200 OK\r\nContent-Length: 100\r\n\r\npartial$/);
		backend.script = (_request, socket) => {
			socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
			setTimeout(() => socket.destroy(), 20);
		};
		assert.ok((await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\n\r\n')).closed, 'a chunked answer cut short cuts the client');
		backend.script = (_request, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc');
		assert.match((await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.includes('malformed'))).got, /^HTTP\/1\.1 502 /, 'a malformed answer is a 502');
		backend.script = (_request, socket) => socket.write(ok('fine'));
		assert.ok((await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\nConnection: close\r\n\r\n')).got.endsWith('fine'), 'still serving');
	});

	it('retries a request without a body once when a kept-alive backend connection turns out closed', async () => {
		// Answer, then close the kept connection right after: the next request finds it closed.
		backend.script = (_request, socket) => socket.end(ok('one'));
		await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('one'));
		backend.script = (_request, socket) => socket.write(ok('two'));
		const {got} = await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('two'));
		assert.match(got, /^HTTP\/1\.1 200 OK/);
	});

	it('forwards HTTP/1.0 as HTTP/1.0, keep-alive only if asked, and answers Expect: 100-continue itself', async () => {
		const plain = await talk(port, 'GET /old HTTP/1.0\r\nHost: web.example\r\n\r\n');
		assert.match(backend.received[0], /^GET \/old HTTP\/1\.0\r\n/);
		assert.equal(plain.got, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
		assert.ok(plain.closed);
		const kept = await talk(port, 'GET / HTTP/1.0\r\nHost: web.example\r\nConnection: keep-alive\r\n\r\n', g => g.endsWith('hello'));
		assert.equal(kept.got, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello');
		// The body once the 100 Continue has come, as a client that waits for it sends it.
		const socket = await connect(port);
		let got = '';
		socket.on('data', d => (got += d));
		socket.write('POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n');
		await eventually(() => got.endsWith('\r\n\r\n'), 'the 100 Continue', 2000);
		socket.write('abc');
		await eventually(() => got.endsWith('hello'), 'the answer', 2000);
		socket.destroy();
		assert.equal(got, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
		assert.ok(!backend.received.at(-1)!.toLowerCase().includes('expect'), 'Expect is answered here, not forwarded');
	});

	it('streams large bodies both ways whole, with backpressure', async () => {
		const size = 8 * 1024 * 1024;
		backend.script = (request, socket) => {
			if (request.startsWith('POST')) return void socket.write(ok(String(request.length - request.indexOf('\r\n\r\n') - 4)));
			socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
			socket.write(Buffer.alloc(size, 'x'));
		};
		const got = await new Promise<number>((resolve, reject) => {
			const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /big HTTP/1.1\r\nHost: web.example\r\nConnection: close\r\n\r\n'));
			let n = 0;
			// A slow reader at first: the Ingress must hold the backend back, not buffer 8 MB.
			socket.pause();
			setTimeout(() => socket.resume(), 200);
			socket.on('data', d => (n += d.length));
			socket.on('close', () => resolve(n));
			socket.on('error', reject);
		});
		assert.ok(got > size && got < size + 100, `the whole answer (${got} bytes)`);
		const body = 'y'.repeat(3 * 1024 * 1024);
		const {got: posted} = await talk(port, `POST /up HTTP/1.1\r\nHost: web.example\r\nContent-Length: ${body.length}\r\n\r\n${body}`, g => g.endsWith(String(body.length)));
		assert.match(posted, new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[^]*\\r\\n\\r\\n${body.length}$`));
		assert.equal(backend.received.at(-1)!.length - backend.received.at(-1)!.indexOf('\r\n\r\n') - 4, body.length, 'the whole request body reached the backend');
	});

	it('skips Endpoints with a port out of range, no port or an address that is not an IP (503), and goes on serving (finding 1)', async () => {
		const bad: Array<[string, Record<string, unknown>, string]> = [['bad-port', {name: 'http', port: 70000}, '127.0.0.1'], ['no-port', {name: 'http'}, '127.0.0.1'], ['bad-ip', {name: 'http', port: backend.port}, 'not-an-ip']];
		for (const [name, endpointPort, ip] of bad) {
			await registry.create(type('services'), 'default', {apiVersion: 'v1', kind: 'Service', metadata: {name, namespace: 'default'}, spec: {clusterIP: 'None', ports: [{name: 'http', port: 80}]}});
			await registry.create(type('endpoints'), 'default', {apiVersion: 'v1', kind: 'Endpoints', metadata: {name, namespace: 'default'}, subsets: [{addresses: [{ip}], ports: [endpointPort]}]});
			await registry.create(type('ingresses'), 'default', {apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: {name, namespace: 'default'}, spec: {
				rules: [{host: `${name}.example`, http: {paths: [{path: '/', pathType: 'Prefix', backend: {service: {name, port: {number: 80}}}}]}}],
			}});
		}
		for (const [name] of bad) {
			const ask = () => talk(port, `GET / HTTP/1.1\r\nHost: ${name}.example\r\nConnection: close\r\n\r\n`);
			await eventually(async () => !(await ask()).got.startsWith('HTTP/1.1 404'), `the rule for ${name}`);
			assert.match((await ask()).got, /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*has no ready endpoints/, name);
		}
		assert.ok((await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\nConnection: close\r\n\r\n')).got.endsWith('hello'), 'still serving');
	});

	it('stops reading a client that pipelines requests and never reads the answers, rather than queueing them all (finding 2)', async () => {
		for (const host of ['nowhere.example', 'web.example']) {
			const socket = await connect(port);
			socket.pause();
			const batch = `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`.repeat(1000);
			// Until the Ingress takes no more (the client's socket stays full), or 16 MB.
			for (let sent = 0; sent < 16e6; sent += batch.length) {
				if (!socket.write(batch) && !await Promise.race([once(socket, 'drain').then(() => true), sleep(300).then(() => false)])) break;
			}
			const queued = [...ingress.conns].reduce((n, c) => n + c.socket.writableLength, 0);
			assert.ok(queued < 1024 * 1024, `${host}: ${queued} bytes queued for a client that does not read`);
			socket.destroy();
			await eventually(() => ingress.conns.size === 0, 'the connection gone');
		}
	});

	it('destroys a connection it has ended its side of a few sweeps after the answer, FIN or not (finding 3)', async () => {
		const requests = {
			'Connection: close': 'GET / HTTP/1.1\r\nHost: web.example\r\nConnection: close\r\n\r\n',
			'a 400': 'GET  / HTTP/1.1\r\n\r\n',
			'HTTP/1.0': 'GET / HTTP/1.0\r\nHost: web.example\r\n\r\n',
			'a 404 before its body': 'POST / HTTP/1.1\r\nHost: nowhere.example\r\nContent-Length: 10\r\n\r\n',
		};
		for (const [name, request] of Object.entries(requests)) {
			// A client that never sends its FIN.
			const socket = await connect(port, {allowHalfOpen: true});
			let got = '', ended = false;
			socket.on('data', d => (got += d));
			socket.on('end', () => (ended = true));
			socket.write(request);
			await eventually(() => /\r\n\r\n/.test(got) && ended, `${name}: the answer and our side's end`, 2000);
			await eventually(() => [...ingress.conns].every(c => c.socket.writableFinished), `${name}: the answer written out`);
			for (let i = 0; i < 10; i++) ingress.sweep();
			// Our side of the socket is destroyed (the client, half-open, learns of it only when it writes).
			await eventually(() => ingress.conns.size === 0, `${name}: the connection is still held`, 2000);
			socket.destroy();
		}
		await eventually(() => ingress.conns.size === 0, 'none held');
	});

	it('closes a connection whose client sends its FIN in the middle of a head (finding 13)', async () => {
		const socket = await connect(port, {allowHalfOpen: true});
		socket.end('GET / HTTP/1.1\r\nHost: web.example\r\n');
		await within(once(socket, 'end'), 2000, 'the Ingress did not end the connection');
		socket.destroy();
		assert.deepEqual(backend.received, []);
	});

	it('answers a request over TLS that the client follows at once with its FIN (finding 12)', async () => {
		const socket = tls.connect({port: httpsPort, host: '127.0.0.1', servername: 'web.example', rejectUnauthorized: false});
		let got = '';
		socket.on('data', d => (got += d));
		socket.on('error', () => {});
		await once(socket, 'secureConnect');
		socket.end('GET / HTTP/1.1\r\nHost: web.example\r\n\r\n');
		await within(once(socket, 'close'), 2000, 'the connection closed');
		socket.destroy();
		assert.match(got, /^HTTP\/1\.1 200 OK\r\n[^]*hello$/);
	});

	it('closes an upgraded connection idle for an hour, and not one that is talking (from reading: no idle timeout in Req.Upgraded)', async () => {
		backend.script = (_request, socket) => {
			socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
			socket.on('data', d => socket.write(d));
		};
		const socket = await connect(port);
		let got = '';
		socket.on('data', d => (got += d));
		const closed = once(socket, 'close');
		socket.write('GET /ws HTTP/1.1\r\nHost: web.example\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
		await eventually(() => got.includes('\r\n\r\n'), 'the 101');
		for (let minute = 0; minute < 90; minute++) {
			socket.write(`ping${minute};`);
			await eventually(() => got.endsWith(`ping${minute};`), 'the echo');
			for (let s = 0; s < 59; s++) ingress.sweep();
		}
		assert.ok(!socket.destroyed, 'a talking tunnel is kept');
		for (let s = 0; s < 3700; s++) ingress.sweep();
		await within(closed, 2000, 'an idle tunnel is kept');
	});

	it('never lets a Connection header drop the framing headers of an answer, or the Host of a request (finding 5)', async () => {
		for (const first of [
			'HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\nhello',
			'HTTP/1.1 200 OK\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
		]) {
			let n = 0;
			backend.script = (_request, socket) => socket.write(n++ === 0 ? first : ok('second'));
			const {got} = await talk(port, 'GET /1 HTTP/1.1\r\nHost: web.example\r\n\r\nGET /2 HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('second'));
			assert.equal(got, first.replace(/Connection: [^\r]*\r\n/, '') + ok('second'));
		}
		backend.script = (_request, socket) => socket.write(ok('hello'));
		await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\nConnection: host\r\n\r\n', g => g.endsWith('hello'));
		assert.match(backend.received[0], /\r\nHost: web\.example\r\n/);
	});

	it('does not send a bodiless DELETE or POST again when the kept-alive connection closes without answering (finding 7)', async () => {
		for (const request of ['DELETE /account HTTP/1.1\r\nHost: web.example\r\n\r\n', 'POST /transfer HTTP/1.1\r\nHost: web.example\r\nContent-Length: 0\r\n\r\n']) {
			backend.script = (_request, socket) => socket.write(ok('hello'));
			// Leaves a kept-alive connection in the pool.
			await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('hello'));
			let acted = 0;
			backend.script = (_request, socket) => (acted++ === 0 ? socket.destroy() : socket.write(ok('done')));
			const {got} = await talk(port, request, g => /\r\n\r\n.*\n|done$/s.test(g));
			assert.match(got, /^HTTP\/1\.1 502 /, request);
			assert.equal(acted, 1, `${request}: sent once`);
		}
	});

	it('sets X-Real-IP from the connection, and drops Forwarded, X-Forwarded-Scheme, header names with an underscore and Proxy-Authorization (finding 8)', async () => {
		await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\nX-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6;proto=https\r\nX_Forwarded_For: 6.6.6.6\r\nX-Forwarded-Scheme: https\r\nProxy-Authorization: Basic c2VjcmV0\r\n\r\n', g => g.endsWith('hello'));
		const [request] = backend.received;
		assert.match(request, /\r\nX-Real-IP: 127\.0\.0\.1\r\n/);
		for (const gone of ['6.6.6.6', 'Forwarded:', 'X_Forwarded', 'X-Forwarded-Scheme', 'Proxy-Authorization']) assert.ok(!request.includes(gone), `${gone} not forwarded: ${request}`);
	});

	it('routes an absolute-form target by its authority and forwards it in origin-form with that Host (finding 9)', async () => {
		const other = await talk(port, 'GET http://admin.internal/secret HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.includes('\n\n') || g.endsWith('hello'));
		assert.match(other.got, /^HTTP\/1\.1 404 [^]*no Ingress rule for admin\.internal\/secret/);
		assert.equal(backend.received.length, 0);
		await talk(port, 'GET http://web.example/abs?q=1 HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n', g => g.endsWith('hello'));
		assert.match(backend.received[0], /^GET \/abs\?q=1 HTTP\/1\.1\r\n/);
		assert.match(backend.received[0], /\r\nHost: web\.example\r\n/);
		assert.ok(!backend.received[0].includes('elsewhere'), backend.received[0]);
	});

	it('passes no h2c upgrade on, only WebSockets (finding 10)', async () => {
		backend.script = (request, socket) => socket.write(/\r\nUpgrade: h2c\r\n/i.test(request) ? 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n' : ok('plain'));
		const {got} = await talk(port, 'GET /public HTTP/1.1\r\nHost: web.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n', g => g.endsWith('plain') || g.includes('\r\n\r\n'));
		assert.equal(got, ok('plain'));
		assert.ok(!/upgrade|HTTP2-Settings/i.test(backend.received[0]), backend.received[0]);
		assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: WebSocket').upgrade, 'WebSocket');
	});

	it('sends 100 Continue only for a request with a body (finding 14)', async () => {
		const {got} = await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\nExpect: 100-continue\r\n\r\n', g => g.endsWith('hello'));
		assert.equal(got, ok('hello'));
	});

	it('keeps no backend connection that carried an answer without a body, so stray bytes after it reach no other client (finding 6)', async () => {
		let headSocket: net.Socket | undefined;
		backend.script = (request, socket) => {
			if (request.startsWith('HEAD')) {
				headSocket = socket;
				socket.write('HTTP/1.1 200 OK\r\nContent-Length: 44\r\n\r\n');
			} else {
				// A backend that sends a body after its HEAD answer, late: on the same connection, that would come first.
				if (headSocket && !headSocket.destroyed) headSocket.write(ok('EVIL!'));
				socket.write(ok('good!'));
			}
		};
		await talk(port, 'HEAD / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('\r\n\r\n'));
		const {got} = await talk(port, 'GET /b HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('!'));
		assert.equal(got, ok('good!'));
	});

	it('closes a connection whose head comes a byte a minute, or that sends empty lines for ever, or trickles its body past 5 minutes (finding 4)', async () => {
		const conn = () => [...ingress.conns][0] as unknown as {pending?: Buffer; bodyLeft: number};
		// A head a byte a minute: cut once a minute past its start, however it trickles.
		let socket = await connect(port);
		socket.write('GET / HTTP/1.1\r\nHost: web.example\r\nX: ');
		for (let minute = 0; minute < 3 && ingress.conns.size; minute++) {
			const had = conn()?.pending?.length ?? 0;
			socket.write('a');
			await eventually(() => !ingress.conns.size || (conn().pending?.length ?? 0) > had, 'the byte read');
			for (let s = 0; s < 59; s++) ingress.sweep();
		}
		await eventually(() => ingress.conns.size === 0, 'a head sent a byte a minute is cut', 2000);
		socket.destroy();
		// Empty lines before the request line: a few are skipped, more are a 400.
		assert.ok((await talk(port, '\r\n\r\nGET / HTTP/1.1\r\nHost: web.example\r\nConnection: close\r\n\r\n')).got.endsWith('hello'));
		assert.match((await talk(port, `${'\r\n'.repeat(100)}GET / HTTP/1.1\r\nHost: web.example\r\n\r\n`)).got, /^HTTP\/1\.1 400 /);
		// A body a byte a minute.
		socket = await connect(port);
		socket.write('POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 1000\r\n\r\n');
		await eventually(() => ingress.conns.size === 1 && conn().bodyLeft === 1000, 'the head read');
		for (let minute = 0; minute < 7 && ingress.conns.size; minute++) {
			socket.write('b');
			await eventually(() => !ingress.conns.size || conn().bodyLeft === 999 - minute, 'the byte read');
			for (let s = 0; s < 59; s++) ingress.sweep();
		}
		await eventually(() => ingress.conns.size === 0, 'a body sent a byte a minute is cut', 2000);
		socket.destroy();
	});

	it('forwards 1xx answers other than 100, refuses statuses below 100, and a trickle of 1xx does not put off the 504 (from reading: 1xx)', async () => {
		let answering: net.Socket | undefined;
		backend.script = (_request, s) => {
			answering = s;
			s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
		};
		const socket = await connect(port);
		let got = '';
		socket.on('data', d => (got += d));
		socket.write('GET / HTTP/1.1\r\nHost: web.example\r\n\r\n');
		await eventually(() => got.includes('a.css'), 'the 103 forwarded', 2000);
		assert.equal(got, 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', 'the 100 is not');
		for (let s = 0; s < 40; s++) ingress.sweep();
		answering!.write('HTTP/1.1 103 Early Hints\r\nLink: </b.css>; rel=preload\r\n\r\n');
		await eventually(() => got.includes('b.css'), 'the second 103 forwarded', 2000);
		for (let s = 0; s < 40; s++) ingress.sweep();
		await eventually(() => got.includes('HTTP/1.1 504 '), 'the 504, 80 s after the request', 2000);
		socket.destroy();
		backend.script = (_request, s) => s.write(`HTTP/1.1 099 Odd\r\n\r\n${ok('late')}`);
		assert.match((await talk(port, 'GET / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('late') || g.includes('\n\n'))).got, /^HTTP\/1\.1 502 /);
	});

	it('answers an HTTP/1.0 client in no chunks, and keeps no backend connection after HTTP/1.0 or Keep-Alive: timeout=0 (from reading: HTTP/1.0)', async () => {
		backend.script = (_request, s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
		assert.match((await talk(port, 'GET / HTTP/1.0\r\nHost: web.example\r\n\r\n')).got, /^HTTP\/1\.1 502 /);
		for (const [request, answer] of [['GET / HTTP/1.0\r\nHost: web.example\r\n\r\n', ok('hello')], ['GET / HTTP/1.1\r\nHost: web.example\r\n\r\n', 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=0\r\nContent-Length: 5\r\n\r\nhello']]) {
			let ended = false;
			backend.script = (_request, s) => {
				s.once('end', () => (ended = true));
				s.write(answer);
			};
			await talk(port, request, g => g.endsWith('hello'));
			await eventually(() => ended, `${JSON.stringify(answer)} for ${JSON.stringify(request)}: the backend connection closed`, 2000);
		}
	});

	it('opens at most backendConnections to an endpoint, the requests beyond waiting their turn (from reading: no cap)', async () => {
		const capped = await scriptedBackend();
		try {
			capped.script = (_request, socket) => socket.write(ok('hello'));
			await registry.create(type('services'), 'default', {apiVersion: 'v1', kind: 'Service', metadata: {name: 'capped', namespace: 'default'}, spec: {clusterIP: 'None', ports: [{name: 'http', port: 80}]}});
			await registry.create(type('endpoints'), 'default', {apiVersion: 'v1', kind: 'Endpoints', metadata: {name: 'capped', namespace: 'default'}, subsets: [{addresses: [{ip: '127.0.0.1'}], ports: [{name: 'http', port: capped.port}]}]});
			await registry.create(type('ingresses'), 'default', {apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: {name: 'capped', namespace: 'default'}, spec: {
				rules: [{host: 'capped.example', http: {paths: [{path: '/', pathType: 'Prefix', backend: {service: {name: 'capped', port: {number: 80}}}}]}}],
			}});
			await eventually(async () => (await talk(port, 'GET / HTTP/1.1\r\nHost: capped.example\r\n\r\n', g => g.endsWith('hello'))).got.endsWith('hello'), 'the capped backend routed');
			ingress.backendConnections = 2;
			const held: Array<[string, net.Socket]> = [];
			capped.script = (request, socket) => held.push([request, socket]);
			const before = capped.connections;
			// The third with a body, which waits with it.
			const answers = [1, 2, 3, 4, 5].map(i => talk(port, i === 3 ? 'POST /3 HTTP/1.1\r\nHost: capped.example\r\nContent-Length: 3\r\n\r\nabc' : `GET /${i} HTTP/1.1\r\nHost: capped.example\r\n\r\n`, g => g.endsWith('#')));
			await eventually(() => held.length === 2, 'two requests at the backend');
			for (let i = 0; i < 5; i++) {
				await eventually(() => held.length > i, `request ${i + 1} at the backend`, 2000);
				assert.ok(capped.connections - before <= 1, `${capped.connections - before + 1} connections open`);
				const [request, socket] = held[i];
				socket.write(ok(`${request.split(' ')[1]}#`));
			}
			assert.ok(held.find(([request]) => request.startsWith('POST'))![0].endsWith('\r\n\r\nabc'), 'the waiting body went with its request');
			assert.deepEqual((await Promise.all(answers)).map(a => a.got.slice(a.got.indexOf('\r\n\r\n') + 4)), ['/1#', '/2#', '/3#', '/4#', '/5#']);
		} finally {
			ingress.backendConnections = 256;
			await capped.close();
		}
	});

	it('answers 404 for no rule, with the connection kept for the next request', async () => {
		const {got} = await talk(port, 'GET /x HTTP/1.1\r\nHost: nowhere.example\r\n\r\nGET / HTTP/1.1\r\nHost: web.example\r\n\r\n', g => g.endsWith('hello'));
		assert.match(got, /^HTTP\/1\.1 404 Not Found\r\nContent-Type: text\/plain\r\nContent-Length: \d+\r\n\r\n404 Not Found: no Ingress rule for nowhere\.example\/x\nHTTP\/1\.1 200 OK/);
	});
});

describe('HTTP/1.1 heads and chunks', () => {
	it('parses a request head: framing, keep-alive and the headers to forward', () => {
		const head = parseRequestHead('POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close, x-a\r\nX-A: 1\r\nX-B: 2');
		assert.deepEqual({...head}, {method: 'POST', target: '/a?b', minor: 1, host: 'x', lines: 'Host: x\r\nX-B: 2\r\n', contentLength: 3, chunked: false, close: true, upgrade: undefined, expectContinue: false});
		assert.equal(parseRequestHead('GET / HTTP/1.0').close, true);
		assert.equal(parseRequestHead('GET / HTTP/1.0\r\nConnection: keep-alive').close, false);
		assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4').contentLength, 4, 'a list of equal lengths is one length');
		assert.equal(parseRequestHead('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket').upgrade, 'websocket');
		assert.throws(() => parseRequestHead('GET / HTTP/2.0\r\nHost: x'), (e: HttpError) => e.status === 505);
	});

	it('parses a response head: framing, and whether it can go out as it came', () => {
		assert.deepEqual({...parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 2')}, {status: 200, statusLine: 'HTTP/1.1 200 OK', lines: 'Content-Length: 2\r\n', rewritten: false, contentLength: 2, chunked: false, close: false, keepAlive: -1});
		const both = parseResponseHead('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\nConnection: keep-alive');
		assert.equal(both.chunked, true);
		assert.equal(both.contentLength, -1);
		assert.equal(both.lines, 'Transfer-Encoding: chunked\r\n');
		assert.equal(both.close, false);
		assert.equal(both.rewritten, true);
		assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip').close, true, 'not chunked last: delimited by the close');
		const node = parseResponseHead('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 1');
		assert.deepEqual([node.keepAlive, node.close, node.rewritten, node.lines], [5, false, true, 'Content-Length: 1\r\n'], 'a Node server\'s answer: its idle timeout read, its hop-by-hop headers dropped');
		assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nX: a\nY: b'), (e: HttpError) => e.status === 502);
	});

	it('caps the headers a Connection header lists, and trims only SP and HTAB (findings 11 and from reading)', () => {
		const list = (n: number) => Array.from({length: n}, (_, i) => `x-${i}`).join(', ');
		assert.equal(parseRequestHead(`GET / HTTP/1.1\r\nHost: x\r\nConnection: ${list(32)}\r\nX-1: a\r\nX-40: b`).lines, 'Host: x\r\nX-40: b\r\n');
		assert.throws(() => parseRequestHead(`GET / HTTP/1.1\r\nHost: x\r\nConnection: ${list(8000)}`), (e: HttpError) => e.status === 400);
		assert.throws(() => parseResponseHead(`HTTP/1.1 200 OK\r\nConnection: ${list(8000)}\r\nContent-Length: 0`), (e: HttpError) => e.status === 502);
		assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: \xa0web.example\t').host, '\xa0web.example', 'a no-break space is part of the value');
		assert.throws(() => parseRequestHead('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: \xa05'), (e: HttpError) => e.status === 400);
	});

	it('finds the end of a chunked body fed in pieces, and refuses malformed ones', () => {
		const body = Buffer.from('4\r\nWiki\r\nA;x=y\r\n0123456789\r\n0\r\nT: 1\r\n\r\nNEXT');
		for (let split = 1; split < body.length - 4; split++) {
			const reader = new ChunkedReader();
			assert.equal(reader.feed(body.subarray(0, split), 0), -1, `split at ${split}`);
			assert.equal(reader.feed(body, split), body.length - 4, `split at ${split}`);
		}
		for (const bad of ['x\r\n', '4\nWiki\r\n', '4\r\nWikiX\r\n', '4 \r\n', `${'f'.repeat(14)}\r\n`, '0\r\n\r\r', '0\r\n T: 1\r\n']) {
			assert.throws(() => new ChunkedReader().feed(Buffer.from(bad), 0), HttpError, JSON.stringify(bad));
		}
	});
});
