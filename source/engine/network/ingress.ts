// The Ingress controller (the seed's L7 gateway) for IngressClass
// `kubedeck`, the default class: one HTTP and one HTTPS listener on the host,
// opened once an Ingress of the class exists. A request is routed by host
// (exact, then a `*.` wildcard of one label, then rules without a host) and
// path (longest match first, Exact before Prefix at the same length; Prefix
// matches whole path elements; ImplementationSpecific is Prefix), to a ready
// endpoint of the backend Service; the Ingresses' defaultBackend takes what
// no rule does, else 404; a backend with no ready endpoint is 503. TLS comes
// from kubernetes.io/tls Secrets by SNI, so many domains share the listener,
// and a Secret's change is picked up on the next handshake.
//
// The data path is our own HTTP/1.1 on net (and tls) sockets, in two
// halves: a client connection's requests are read one at a time (pipelined
// ones wait their turn), each head parsed (http1.ts) for routing and
// framing only, then the head, rewritten, and the body's bytes as they come
// go to a kept-alive connection to the backend endpoint; the answer's head
// is parsed to find where the answer ends (Content-Length, chunked, or the
// close) and its bytes go back as they came. No request or response object,
// no header object or array, no closure per request; backpressure both ways
// (a full socket pauses the one feeding it). An upgrade (WebSockets) is the
// backend's 101 and then the two sockets piped. It replaced Node's http
// server with undici's Pool.dispatch (measured side by side, 10 keep-alive
// connections: about 35 µs of user CPU and 18 of system per request in the
// engine; this path about 16 and 17), which held the
// Ingress to 0.42-0.52 of direct on this kind of 2-core machine where the
// load generator, the Ingress and the pod share the cores (the goal is
// 0.5), as http-proxy-3 on Node's http.Agent had held it to 0.2-0.3 before.
// With this path four full runs of the network bench gave 0.61, 0.56, 0.53
// and 0.54 of direct (median rounds; single rounds from 0.24 to 0.89 as the
// load of the shared machine came and went), near the plain socket pipe
// measured beside it (0.68, 0.57, 0.66, 0.84): what is left is mostly the
// cost of a user-space hop (a read and a write each way), not of HTTP.
// What the parser refuses (400, as ingress-nginx does): the shapes that let
// a request be read two ways (smuggling), see http1.ts. The Ingress answers
// itself 404 (no rule), 503 (no ready endpoint), 502 (the backend refused,
// closed before answering, or answered malformed: a kept-alive connection
// found closed is retried once on a new one for an idempotent request
// without a body),
// 504 (no answer head in 60 s); a backend that closes mid-answer cuts the
// client's connection. As ingress-nginx does by default
// (use-forwarded-headers off), X-Forwarded-For/Proto/Host/Port and X-Real-IP
// are set from the connection, not taken from the client, and Forwarded and
// header names with an underscore are dropped; hop-by-hop headers (RFC 9110
// 7.6.1, and those a Connection header lists) are not forwarded either way;
// Expect: 100-continue is answered here (for a request with a body).
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type {KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import {selfSignedCert} from '../../server/auth/ca.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {EventRecorder} from '../events.js';
import {followStore, type Following} from './follow.js';
import {ChunkedReader, HttpError, maxHead, parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead} from './http1.js';

type Rec = Record<string, any>;
export const ingressClassName = 'kubedeck';
export const ingressController = 'kubedeck.io/ingress-controller';
const ingressType = typeByPlural('ingresses')!;

interface PathRule {
	path: string;
	pathType: 'Exact' | 'Prefix';
}

/** Where a backend sends requests, resolved from its Service and Endpoints at sync: the endpoints to rotate over, or the status to answer with. */
type Resolved = {key: string; origins: string[]} | {status: number; message: string};

/** A rule's path with its backend resolved. */
interface Target {
	route: PathRule;
	resolved: Resolved;
}

/**
 * The rules by host, each host's in the order they are tried (longest path
 * first, Exact first at a tie), built once per sync so that a request costs
 * a map lookup or two and a short scan, not a filter and a sort.
 */
interface RouteTable {
	exact: Map<string, Target[]>;
	/** By the suffix a `*.` host matches (".apps.example" for "*.apps.example"). */
	wildcard: Map<string, Target[]>;
	anyHost: Target[];
	defaultBackend?: Resolved;
}

export interface IngressOptions {
	address: string;
	httpPort: number;
	httpsPort: number;
}

/** Does a request path match a rule's path? Prefix matches whole elements (/foo matches /foo and /foo/bar, not /foobar). */
export function pathMatches(route: PathRule, requestPath: string): boolean {
	if (route.pathType === 'Exact') return requestPath === route.path;
	const prefix = route.path.replace(/\/+$/, '');
	return prefix === '' || requestPath === prefix || requestPath.startsWith(`${prefix}/`);
}

/** Does a request host match a rule's host (exact, or `*.` for exactly one more label)? */
export function hostMatches(ruleHost: string | undefined, host: string): boolean {
	if (!ruleHost) return true;
	if (ruleHost.startsWith('*.')) {
		const suffix = ruleHost.slice(1);
		return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.') && host.length > suffix.length;
	}
	return ruleHost === host;
}

/** Longest first, Exact before Prefix at the same length; the sort is stable, so at a full tie the first Ingress listed wins. */
const byPathSpecificity = (a: Target, b: Target) => b.route.path.length - a.route.path.length || (a.route.pathType === 'Exact' ? -1 : 0) - (b.route.pathType === 'Exact' ? -1 : 0);

function firstMatch(targets: Target[] | undefined, requestPath: string): Target | undefined {
	if (targets) for (const t of targets) if (pathMatches(t.route, requestPath)) return t;
	return undefined;
}

/**
 * The rule for a request: the most specific host (exact, then the one `*.`
 * wildcard that can match, as hostMatches, then rules without a host), and
 * in it the first path that matches.
 */
function lookup(table: RouteTable, host: string, requestPath: string): Target | undefined {
	const dot = host.indexOf('.');
	return firstMatch(table.exact.get(host), requestPath)
		?? (dot > 0 ? firstMatch(table.wildcard.get(host.slice(dot)), requestPath) : undefined)
		?? firstMatch(table.anyHost, requestPath);
}

/** Characters that new URL() leaves alone in a path; any other (or a dot segment, or a leading //) takes the slow, exact way. */
const plainPath = /^\/(?!\/)[\w\-.~!$&'()*+,;=:@/]*$/;

/**
 * A request target's path as new URL() would normalise it (the query
 * dropped), without parsing the URL when nothing needs normalising. A target
 * new URL() refuses (`//[` reads as an invalid host) is matched as it came:
 * the refusal, thrown in the request handler, would end the engine.
 */
export function pathOf(url: string): string {
	const q = url.indexOf('?');
	const p = q < 0 ? url : url.slice(0, q);
	if (plainPath.test(p) && !p.includes('/.')) return p;
	try {
		return new URL(url, 'http://x').pathname;
	} catch {
		return p;
	}
}

export class IngressController {
	private table: RouteTable = {exact: new Map(), wildcard: new Map(), anyHost: []};
	private http?: net.Server;
	private https?: tls.Server;
	private readonly sockets = new Set<net.Socket>();
	/** The client connections being served, for the sweep's timeouts. */
	readonly conns = new Set<ClientConn>();
	private sweeper?: NodeJS.Timeout;
	/** Seconds since the listeners opened, counted by the sweep: the clock of the data path's timeouts. */
	tick = 0;
	private following?: Following;
	private readonly next = new Map<string, number>();
	/** A keep-alive pool per backend endpoint ("ip:port"); pools of endpoints no longer listed are closed at sync. */
	private readonly pools = new Map<string, BackendPool>();
	private readonly reported = new Set<string>();
	private fallback?: tls.SecureContext;
	private readonly contexts = new Map<string, {version: string; context: tls.SecureContext}>();
	/** Requests per backend ("namespace/service:port") for the autoscaler. */
	readonly requests = new Map<string, number>();
	/** Connections open to one backend endpoint at most (undici's Pool had 256); requests beyond wait their turn. */
	backendConnections = 256;

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly options: IngressOptions) {}

	start(): void {
		this.following = followStore(this.store, ['ingresses', 'services', 'endpoints', 'secrets'], () => this.sync());
		this.sync();
	}

	async stop(): Promise<void> {
		this.following?.stop();
		clearInterval(this.sweeper);
		for (const pool of this.pools.values()) pool.close();
		this.pools.clear();
		await Promise.all([this.http, this.https].map(server => new Promise<void>(resolve => {
			if (!server) return resolve();
			server.close(() => resolve());
			for (const socket of this.sockets) socket.destroy();
		})));
	}


	private ours(ing: KubeObject): boolean {
		const name = (ing.spec as Rec)?.ingressClassName ?? ing.metadata.annotations?.['kubernetes.io/ingress.class'];
		return name === undefined || name === ingressClassName;
	}

	/**
	 * Routes from every Ingress of the class, with their backends resolved
	 * (this runs on every change of Ingresses, Services and Endpoints, so a
	 * request needs not look them up); listeners opened once there is an
	 * Ingress; status and warnings written.
	 */
	private sync(): void {
		const ingresses = this.store.scan('ingresses', undefined, i => this.ours(i) && !i.metadata.deletionTimestamp);
		const table: RouteTable = {exact: new Map(), wildcard: new Map(), anyHost: []};
		const add = (map: Map<string, Target[]>, key: string, target: Target) => map.set(key, [...(map.get(key) ?? []), target]);
		for (const ing of ingresses) {
			const spec = ing.spec as Rec;
			if (spec.defaultBackend && !table.defaultBackend) table.defaultBackend = this.resolve(ing, spec.defaultBackend);
			for (const rule of (spec.rules ?? []) as Rec[]) {
				for (const p of (rule.http?.paths ?? []) as Rec[]) {
					const target: Target = {route: {path: p.path ?? '/', pathType: p.pathType === 'Exact' ? 'Exact' : 'Prefix'}, resolved: this.resolve(ing, p.backend)};
					const host = rule.host as string | undefined;
					if (!host) table.anyHost.push(target);
					else if (host.startsWith('*.')) add(table.wildcard, host.slice(1), target);
					else add(table.exact, host, target);
				}
			}
			void this.check(ing);
		}
		for (const targets of [...table.exact.values(), ...table.wildcard.values(), table.anyHost]) targets.sort(byPathSpecificity);
		this.table = table;
		this.closeUnusedPools();
		if (ingresses.length && !this.http) this.listen();
	}

	/** A backend's ready endpoints (the Service port's, by name), or why there are none. */
	private resolve(ingress: KubeObject, backend: Rec): Resolved {
		const ns = ingress.metadata.namespace!;
		const service = backend?.service as Rec | undefined;
		if (!service) return {status: 503, message: '503 Service Unavailable: the backend is not a Service\n'};
		const svc = this.store.peek('services', ns, service.name);
		if (!svc) return {status: 503, message: `503 Service Unavailable: service "${service.name}" not found\n`};
		const sp = ((svc.spec as Rec).ports ?? [] as Rec[]).find((p: Rec) => (service.port?.number !== undefined ? p.port === service.port.number : p.name === service.port?.name));
		if (!sp) return {status: 503, message: `503 Service Unavailable: service "${service.name}" has no port ${service.port?.number ?? service.port?.name}\n`};
		const endpoints = this.store.peek('endpoints', ns, service.name);
		const origins: string[] = [];
		for (const subset of (endpoints?.subsets ?? []) as Rec[]) {
			const port = ((subset.ports ?? []) as Rec[]).find(p => (p.name ?? '') === (sp.name ?? ''));
			// Endpoints are not validated by the API: a port out of range or not a number, or an address that is not an IP, would make net.connect throw in a socket handler (and end the engine).
			if (!port || !Number.isInteger(port.port) || port.port < 1 || port.port > 65535) continue;
			for (const a of (subset.addresses ?? []) as Rec[]) if (typeof a.ip === 'string' && net.isIP(a.ip)) origins.push(`${a.ip}:${port.port}`);
		}
		if (origins.length === 0) return {status: 503, message: `503 Service Unavailable: service "${service.name}" has no ready endpoints\n`};
		return {key: `${ns}/${service.name}:${sp.port}`, origins};
	}

	/** Closes the pools of endpoints that no backend lists any more (a pod gone, a Service changed). */
	private closeUnusedPools(): void {
		if (this.pools.size === 0) return;
		const live = new Set<string>();
		const {exact, wildcard, anyHost, defaultBackend} = this.table;
		for (const resolved of [...[...exact.values(), ...wildcard.values(), anyHost].flat().map(t => t.resolved), defaultBackend]) {
			if (resolved && 'origins' in resolved) for (const origin of resolved.origins) live.add(origin);
		}
		for (const [origin, pool] of this.pools) {
			if (live.has(origin)) continue;
			this.pools.delete(origin);
			pool.close();
		}
	}

	/** Warnings for what an Ingress names and does not exist, and its address in status. */
	private async check(ing: KubeObject): Promise<void> {
		const ns = ing.metadata.namespace!;
		const spec = ing.spec as Rec;
		const problems: string[] = [];
		const backends = [spec.defaultBackend, ...((spec.rules ?? []) as Rec[]).flatMap(r => ((r.http?.paths ?? []) as Rec[]).map(p => p.backend))].filter(Boolean);
		for (const b of backends) if (b.service && !this.store.peek('services', ns, b.service.name)) problems.push(`service "${b.service.name}" not found`);
		for (const t of (spec.tls ?? []) as Rec[]) {
			const secret = t.secretName && this.store.peek('secrets', ns, t.secretName);
			if (t.secretName && !secret) problems.push(`secret "${t.secretName}" not found: ${(t.hosts ?? []).join(', ') || 'its hosts'} are served with a self-signed certificate`);
			else if (secret && secret.type !== 'kubernetes.io/tls') problems.push(`secret "${t.secretName}" is of type ${secret.type ?? 'Opaque'}, not kubernetes.io/tls`);
		}
		for (const problem of problems) {
			const id = `${ing.metadata.uid}:${problem}`;
			if (this.reported.has(id)) continue;
			this.reported.add(id);
			await this.events.record(ing, 'Warning', 'BadConfig', problem, 'kubedeck-ingress');
		}
		const ip = this.options.address === '0.0.0.0' ? '127.0.0.1' : this.options.address;
		const ports = [{port: this.options.httpPort, protocol: 'TCP'}, ...((spec.tls ?? []).length ? [{port: this.options.httpsPort, protocol: 'TCP'}] : [])];
		const want = {ingress: [{ip, ports}]};
		const status = (ing.status as Rec)?.loadBalancer;
		if (JSON.stringify(status) === JSON.stringify(want)) return;
		await this.registry.update(ingressType, ns, ing.metadata.name!, {...ing, status: {loadBalancer: want}, metadata: {...ing.metadata, resourceVersion: ''}}, {subresource: 'status'}).catch(() => {});
	}

	private listen(): void {
		const accept = (socket: net.Socket) => void new ClientConn(this, socket);
		this.http = net.createServer({noDelay: true, allowHalfOpen: true}, accept);
		// A host with no TLS Secret of its own gets a self-signed certificate, made once.
		const fallback = selfSignedCert('kubedeck-ingress', {dns: ['localhost']});
		this.fallback = tls.createSecureContext(fallback);
		// allowHalfOpen: a request followed at once by the client's FIN is still answered (Node would end our side on the FIN).
		this.https = tls.createServer({allowHalfOpen: true, SNICallback: (name, done) => done(null, this.contextFor(name)), ...fallback}, socket => {
			socket.setNoDelay(true);
			accept(socket);
		});
		// A handshake that fails is the client's business; the listener goes on.
		this.https.on('tlsClientError', (_error, socket) => socket.destroy());
		for (const [server, port] of [[this.http, this.options.httpPort], [this.https, this.options.httpsPort]] as const) {
			// Every TCP connection, TLS ones from before their handshake, so that stop can end them all.
			server.on('connection', (socket: net.Socket) => {
				this.sockets.add(socket);
				socket.once('close', () => this.sockets.delete(socket));
			});
			server.on('error', error => {
				const first = this.store.scan('ingresses', undefined, i => this.ours(i))[0];
				if (first) void this.events.record(first, 'Warning', 'FailedToListen', `cannot listen on ${this.options.address}:${port}: ${(error as NodeJS.ErrnoException).code === 'EACCES' ? 'ports below 1024 need root: set network.ingress in config.yaml' : (error as Error).message}`, 'kubedeck-ingress');
			});
			server.listen(port, this.options.address);
		}
		this.sweeper = setInterval(() => this.sweep(), 1000);
		this.sweeper.unref();
	}

	/** Once a second: the clock the timeouts count in, and the timeouts (idle clients, backends slow to answer, idle backend connections). */
	sweep(): void {
		const tick = ++this.tick;
		for (const conn of this.conns) conn.sweep(tick);
		for (const pool of this.pools.values()) pool.sweep(tick);
	}

	/** The TLS context for an SNI name, from the Secret an Ingress names for it (cached per Secret version). */
	private contextFor(servername: string): tls.SecureContext | undefined {
		for (const ing of this.store.scan('ingresses', undefined, i => this.ours(i))) {
			for (const t of ((ing.spec as Rec).tls ?? []) as Rec[]) {
				if (!t.secretName || !((t.hosts ?? []) as string[]).some(h => hostMatches(h, servername))) continue;
				const secret = this.store.peek('secrets', ing.metadata.namespace!, t.secretName);
				const data = (secret?.data ?? {}) as Record<string, string>;
				if (!secret || !data['tls.crt'] || !data['tls.key']) continue;
				const key = `${ing.metadata.namespace}/${t.secretName}`;
				const cached = this.contexts.get(key);
				if (cached && cached.version === secret.metadata.resourceVersion) return cached.context;
				try {
					const context = tls.createSecureContext({cert: Buffer.from(data['tls.crt'], 'base64'), key: Buffer.from(data['tls.key'], 'base64')});
					this.contexts.set(key, {version: secret.metadata.resourceVersion!, context});
					return context;
				} catch {}
			}
		}
		return this.fallback;
	}

	/** Where a request goes: a backend endpoint's pool (and the backend, for the requests counter), or the status to answer with. */
	route(hostHeader: string, target: string): {pool: BackendPool; key: string} | {status: number; message: string} {
		const colon = hostHeader.lastIndexOf(':');
		const host = (colon >= 0 && /^\d+$/.test(hostHeader.slice(colon + 1)) ? hostHeader.slice(0, colon) : hostHeader).toLowerCase();
		const requestPath = pathOf(target);
		const resolved = lookup(this.table, host, requestPath)?.resolved ?? this.table.defaultBackend;
		if (!resolved) return {status: 404, message: `404 Not Found: no Ingress rule for ${host || '(no host)'}${requestPath}\n`};
		if ('status' in resolved) return resolved;
		const {key, origins} = resolved;
		const n = this.next.get(key) ?? 0;
		this.next.set(key, n + 1);
		this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
		return {pool: this.pool(origins[n % origins.length]), key};
	}

	private pool(origin: string): BackendPool {
		let pool = this.pools.get(origin);
		if (!pool) {
			pool = new BackendPool(origin, this);
			this.pools.set(origin, pool);
		}
		return pool;
	}
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
class BackendPool {
	readonly host: string;
	readonly port: number;
	readonly idle: Backend[] = [];
	/** Connections open (idle and busy; not upgraded ones), for the cap. */
	open = 0;
	/** Client connections waiting for a connection (first come, first served) while open is at the cap. */
	readonly waiting: ClientConn[] = [];
	closed = false;

	constructor(readonly origin: string, readonly controller: IngressController) {
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
class ClientConn {
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

	constructor(private readonly controller: IngressController, readonly socket: net.Socket) {
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
