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
// Proxying is undici's: a keep-alive Pool per backend endpoint, driven
// through its low-level dispatch (request and response bodies stream
// through with backpressure, no body is buffered), and its upgrade for
// WebSockets. It replaced http-proxy-3 on Node's http.Agent, which cost
// about twice the CPU per request: on this kind of 2-core machine, where the
// load generator, the Ingress and the pod share the cores, that held the
// Ingress to 0.2-0.3 of direct (the goal is 0.5). As ingress-nginx does by
// default (use-forwarded-headers off), X-Forwarded-For/Proto/Host/Port are
// set from the connection, not taken from the client; hop-by-hop headers
// (RFC 9110 7.6.1) are not forwarded either way.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import {type Dispatcher, Pool} from 'undici';
import type {KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import {selfSignedCert} from '../../server/auth/ca.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {EventRecorder} from '../events.js';
import {followStore, type Following} from './follow.js';

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
	private http?: http.Server;
	private https?: https.Server;
	private following?: Following;
	private readonly next = new Map<string, number>();
	/** A keep-alive pool per backend endpoint ("http://ip:port"); pools of endpoints no longer listed are closed at sync. */
	private readonly pools = new Map<string, Pool>();
	private readonly reported = new Set<string>();
	private fallback?: tls.SecureContext;
	private readonly contexts = new Map<string, {version: string; context: tls.SecureContext}>();
	/** Requests per backend ("namespace/service:port") for the autoscaler. */
	readonly requests = new Map<string, number>();

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly options: IngressOptions) {}

	start(): void {
		this.following = followStore(this.store, ['ingresses', 'services', 'endpoints', 'secrets'], () => this.sync());
		this.sync();
	}

	async stop(): Promise<void> {
		this.following?.stop();
		await Promise.all([...this.pools.values()].map(pool => pool.destroy()));
		this.pools.clear();
		await Promise.all([this.http, this.https].map(server => new Promise<void>(resolve => {
			if (!server) return resolve();
			server.close(() => resolve());
			server.closeAllConnections();
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
			if (port) for (const a of (subset.addresses ?? []) as Rec[]) origins.push(`http://${a.ip}:${port.port}`);
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
			void pool.close().catch(() => {});
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
		const handle = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
		this.http = http.createServer(handle);
		this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket as net.Socket, head));
		// A host with no TLS Secret of its own gets a self-signed certificate, made once.
		const fallback = selfSignedCert('kubedeck-ingress', {dns: ['localhost']});
		this.fallback = tls.createSecureContext(fallback);
		this.https = https.createServer({SNICallback: (name, done) => done(null, this.contextFor(name)), ...fallback}, handle);
		this.https.on('upgrade', (req, socket, head) => this.upgrade(req, socket as net.Socket, head));
		for (const [server, port] of [[this.http, this.options.httpPort], [this.https, this.options.httpsPort]] as const) {
			server.on('error', error => {
				const first = this.store.scan('ingresses', undefined, i => this.ours(i))[0];
				if (first) void this.events.record(first, 'Warning', 'FailedToListen', `cannot listen on ${this.options.address}:${port}: ${(error as NodeJS.ErrnoException).code === 'EACCES' ? 'ports below 1024 need root: set network.ingress in config.yaml' : (error as Error).message}`, 'kubedeck-ingress');
			});
			server.listen(port, this.options.address);
		}
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

	/** Where a request goes: a backend address, or the status to answer with. */
	private target(req: http.IncomingMessage): {origin: string; key: string} | {status: number; message: string} {
		const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
		const requestPath = pathOf(req.url ?? '/');
		const resolved = lookup(this.table, host, requestPath)?.resolved ?? this.table.defaultBackend;
		if (!resolved) return {status: 404, message: `404 Not Found: no Ingress rule for ${host || '(no host)'}${requestPath}\n`};
		if ('status' in resolved) return resolved;
		const {key, origins} = resolved;
		const n = this.next.get(key) ?? 0;
		this.next.set(key, n + 1);
		return {origin: origins[n % origins.length], key};
	}

	private pool(origin: string): Pool {
		let pool = this.pools.get(origin);
		if (!pool) {
			pool = new Pool(origin, {connections: 256, headersTimeout: 60_000, bodyTimeout: 60_000});
			this.pools.set(origin, pool);
		}
		return pool;
	}

	private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
		const where = this.target(req);
		if ('status' in where) {
			res.writeHead(where.status, {'Content-Type': 'text/plain'});
			res.end(where.message);
			return;
		}
		this.requests.set(where.key, (this.requests.get(where.key) ?? 0) + 1);
		const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
		let abort: ((error?: Error) => void) | undefined;
		let resumeBackend: (() => void) | undefined;
		// The client going away before its answer is complete stops the request to the backend.
		res.on('close', () => {
			if (!res.writableFinished) abort?.();
		});
		this.pool(where.origin).dispatch({method: req.method as Dispatcher.HttpMethod, path: req.url ?? '/', headers: forwardHeaders(req), body: hasBody ? req : null}, {
			onConnect: a => {
				abort = a;
			},
			onHeaders: (status, raw, resume, statusText) => {
				if (status < 200) return true;
				res.writeHead(status, statusText, responseHeaders(raw));
				resumeBackend = resume;
				return true;
			},
			// Backpressure: a full client socket pauses the backend until it drains (listened for only then: most answers never fill it).
			onData: chunk => {
				const more = res.write(chunk);
				if (!more) res.once('drain', resumeBackend!);
				return more;
			},
			onComplete: () => {
				res.end();
			},
			onError: error => {
				if (res.headersSent) return void res.destroy();
				const timeout = (error as {code?: string}).code === 'UND_ERR_HEADERS_TIMEOUT';
				res.writeHead(timeout ? 504 : 502, {'Content-Type': 'text/plain'});
				res.end(timeout ? '504 Gateway Timeout: the backend did not answer in time\n' : `502 Bad Gateway: the backend did not answer (${error.message})\n`);
			},
		});
	}

	/** A WebSocket (or other) upgrade: the backend's 101 and then the two connections piped together. */
	private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
		const where = this.target(req);
		if ('status' in where) {
			socket.end(`HTTP/1.1 ${where.status} ${http.STATUS_CODES[where.status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${where.message}`);
			return;
		}
		socket.on('error', () => socket.destroy());
		this.pool(where.origin).upgrade({method: req.method, path: req.url ?? '/', headers: forwardHeaders(req), protocol: req.headers.upgrade}).then(({headers, socket: upstream}) => {
			const lines = Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map(value => `${k}: ${value}\r\n`));
			socket.write(`HTTP/1.1 101 Switching Protocols\r\n${lines.join('')}\r\n`);
			if (head.length) upstream.write(head);
			upstream.on('error', () => socket.destroy());
			socket.on('close', () => upstream.destroy());
			upstream.on('close', () => socket.destroy());
			upstream.pipe(socket);
			socket.pipe(upstream);
		}, (error: Error) => {
			socket.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n502 Bad Gateway: the backend did not upgrade (${error.message})\n`);
		});
	}
}

/** Headers that describe one connection, not the message (RFC 9110 7.6.1), and the forwarding headers the Ingress sets itself. */
const notForwarded = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port']);

/** The request's headers for the backend (name, value, name, value...), with X-Forwarded-* from the connection. */
function forwardHeaders(req: http.IncomingMessage): string[] {
	const listed = connectionListed(req.headers.connection);
	const out: string[] = [];
	const raw = req.rawHeaders;
	for (let i = 0; i < raw.length; i += 2) {
		const name = raw[i].toLowerCase();
		if (!notForwarded.has(name) && !listed?.has(name)) out.push(raw[i], raw[i + 1]);
	}
	const proto = (req.socket as tls.TLSSocket).encrypted ? 'https' : 'http';
	const address = req.socket.remoteAddress ?? '';
	out.push('X-Forwarded-For', address.startsWith('::ffff:') ? address.slice(7) : address, 'X-Forwarded-Proto', proto, 'X-Forwarded-Host', req.headers.host ?? '', 'X-Forwarded-Port', String(req.socket.localPort ?? ''));
	return out;
}

/**
 * The header names a Connection header lists (hop-by-hop, not forwarded);
 * none for the usual keep-alive or close, which name no header, so most
 * requests build no set.
 */
function connectionListed(connection: string | undefined): Set<string> | undefined {
	if (!connection) return undefined;
	const lower = connection.toLowerCase();
	if (lower === 'keep-alive' || lower === 'close') return undefined;
	return new Set(lower.split(',').map(t => t.trim()));
}

/** The backend's response headers for the client, without its hop-by-hop ones (Node frames the answer itself). */
function responseHeaders(raw: Buffer[]): string[] {
	const out: string[] = [];
	for (let i = 0; i < raw.length; i += 2) {
		const name = raw[i].toString('latin1');
		if (!notForwarded.has(name.toLowerCase())) out.push(name, raw[i + 1].toString('latin1'));
	}
	return out;
}
