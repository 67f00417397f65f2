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
// The data path (ingress-proxy.ts) is the engine's own HTTP/1.1 on net and
// tls sockets: each request's head parsed (http1.ts) for routing and framing
// only, the bytes of bodies and answers passed on as they came, over
// kept-alive connections to the backend endpoints. It replaced Node's http
// server with undici's Pool, which cost about twice the user CPU per request
// and held the Ingress under its goal (0.5 of direct in bench/network.ts,
// whose header has the figures); what is left is mostly the cost of a
// user-space hop, not of HTTP.
import net from 'node:net';
import tls from 'node:tls';
import type {KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import {selfSignedCert} from '../../server/auth/ca.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {EventRecorder} from '../events.js';
import {followStore, type Following} from './follow.js';
import {BackendPool, ClientConn, type ProxyHost} from './ingress-proxy.js';

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

export class IngressController implements ProxyHost {
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
