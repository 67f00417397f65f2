// The service proxy (kube-proxy's user-space mode): for every Service port
// a listener on its ClusterIP, on the host at its nodePort (NodePort and
// LoadBalancer), and on its load-balancer address (LoadBalancer), each
// spreading new connections over the ready endpoints. After the accept the
// connection is two sockets piped to each other: no JavaScript runs per
// chunk. A backend that refuses is skipped for the next one; a connection
// once made is never cut when its endpoint leaves the rotation.
//
// Listeners follow the store: Services and Endpoints are watched, and each
// change recomputes the wanted listeners and their backends. A listener that
// cannot open (a port below 1024 without root, a nodePort another program
// holds) is reported once as a Warning event on its Service.
import net from 'node:net';
import type {KubeObject} from '../../api/object.js';
import type {Store} from '../../store/store.js';
import type {EventRecorder} from '../events.js';
import {followStore, type Following} from './follow.js';

type Rec = Record<string, any>;

interface Backend {
	ip: string;
	port: number;
}

/** One service port on one address. */
interface Listener {
	/** The Service's "namespace/name" and uid (a Service made again at the same address gets a new listener). */
	service: string;
	uid: string;
	server: net.Server;
	backends: Backend[];
	next: number;
	affinity?: {timeoutMs: number; clients: Map<string, {backend: Backend; until: number}>};
}

/** How many backends a connection tries before it is closed. */
const maxAttempts = 3;

export class ServiceProxy {
	private readonly listeners = new Map<string, Listener>();
	private readonly reported = new Set<string>();
	private following?: Following;
	/** Accepted connections per Service ("namespace/name"), both paths counted here for the user-space one. */
	readonly connections = new Map<string, number>();

	constructor(private readonly store: Store, private readonly events: EventRecorder, private readonly options: {nodePortAddress: string; now?: () => number}) {}

	start(): void {
		this.following = followStore(this.store, ['services', 'endpoints'], () => this.sync());
		this.sync();
	}

	async stop(): Promise<void> {
		this.following?.stop();
		await Promise.all([...this.listeners.values()].map(l => this.close(l)));
		this.listeners.clear();
	}


	/** The listeners the Services ask for now: open the new ones, close the gone ones, update every one's backends. */
	sync(): void {
		const wanted = new Map<string, {svc: KubeObject; ip: string; port: number; backends: Backend[]}>();
		for (const svc of this.store.scan('services')) {
			const spec = svc.spec as Rec;
			if (spec.type === 'ExternalName' || svc.metadata.deletionTimestamp) continue;
			const endpoints = this.store.peek('endpoints', svc.metadata.namespace!, svc.metadata.name!);
			const loadBalancers: string[] = spec.type === 'LoadBalancer' ? ((svc.status as Rec)?.loadBalancer?.ingress ?? []).map((i: Rec) => i.ip).filter(Boolean) : [];
			for (const sp of (spec.ports ?? []) as Rec[]) {
				if ((sp.protocol ?? 'TCP') !== 'TCP') continue;
				const backends = backendsFor(endpoints, sp.name ?? '');
				const add = (ip: string, port: number) => wanted.set(`${ip}:${port}`, {svc, ip, port, backends});
				// Headless Services (clusterIP None) get no proxy.
				if (spec.clusterIP && spec.clusterIP !== 'None') add(spec.clusterIP, sp.port);
				if (sp.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) add(this.options.nodePortAddress, sp.nodePort);
				for (const ip of loadBalancers) add(ip, sp.port);
			}
		}
		for (const [key, listener] of this.listeners) {
			if (wanted.get(key)?.svc.metadata.uid !== listener.uid) {
				this.listeners.delete(key);
				void this.close(listener);
			}
		}
		for (const [key, want] of wanted) {
			const existing = this.listeners.get(key);
			const spec = want.svc.spec as Rec;
			const affinity = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10_800) * 1000 : undefined;
			if (existing) {
				existing.backends = want.backends;
				if (affinity === undefined) existing.affinity = undefined;
				else if (!existing.affinity || existing.affinity.timeoutMs !== affinity) existing.affinity = {timeoutMs: affinity, clients: new Map()};
				continue;
			}
			this.open(key, want.svc, want.ip, want.port, want.backends, affinity);
		}
	}

	/** Backends of a service port as the proxy sees them now (for tests and describe). */
	backendsOf(ip: string, port: number): Backend[] | undefined {
		return this.listeners.get(`${ip}:${port}`)?.backends;
	}

	private open(key: string, svc: KubeObject, ip: string, port: number, backends: Backend[], affinityMs?: number): void {
		const listener: Listener = {service: `${svc.metadata.namespace}/${svc.metadata.name}`, uid: svc.metadata.uid!, backends, next: 0, server: net.createServer({pauseOnConnect: true}, socket => this.accept(listener, socket))};
		if (affinityMs !== undefined) listener.affinity = {timeoutMs: affinityMs, clients: new Map()};
		this.listeners.set(key, listener);
		const id = `${listener.uid}@${key}`;
		listener.server.on('error', error => {
			this.listeners.delete(key);
			this.report(svc, id, ip, port, error as NodeJS.ErrnoException);
		});
		listener.server.listen({host: ip, port, exclusive: true}, () => this.reported.delete(id));
	}

	/** A listener that cannot open, said once (until it opens) as a Warning on its Service. */
	private report(svc: KubeObject, id: string, ip: string, port: number, error: NodeJS.ErrnoException): void {
		if (this.reported.has(id)) return;
		this.reported.add(id);
		const why = error.code === 'EADDRINUSE' ? `${ip}:${port} is already in use by another program on this host`
			: error.code === 'EACCES' ? `ports below 1024 need root (the engine runs unprivileged): reach it through a NodePort or kubedeck port-forward instead`
				: error.message;
		void this.events.record(svc, 'Warning', 'FailedToListen', `cannot listen on ${ip}:${port}: ${why}`, 'kube-proxy');
	}

	private close(listener: Listener): Promise<void> {
		// Connections already made are left to finish; only the listener goes.
		return new Promise(resolve => listener.server.close(() => resolve()));
	}

	private pick(listener: Listener, client: string | undefined, tried: Set<string>): Backend | undefined {
		const {backends} = listener;
		if (listener.affinity && client) {
			const held = listener.affinity.clients.get(client);
			const now = this.options.now?.() ?? Date.now();
			if (held && held.until > now && backends.some(b => b.ip === held.backend.ip && b.port === held.backend.port) && !tried.has(backendKey(held.backend))) {
				held.until = now + listener.affinity.timeoutMs;
				return held.backend;
			}
		}
		for (let i = 0; i < backends.length; i++) {
			const backend = backends[(listener.next + i) % backends.length];
			if (tried.has(backendKey(backend))) continue;
			listener.next = (listener.next + i + 1) % backends.length;
			if (listener.affinity && client) listener.affinity.clients.set(client, {backend, until: (this.options.now?.() ?? Date.now()) + listener.affinity.timeoutMs});
			return backend;
		}
		return undefined;
	}

	private accept(listener: Listener, socket: net.Socket): void {
		this.connections.set(listener.service, (this.connections.get(listener.service) ?? 0) + 1);
		socket.on('error', () => socket.destroy());
		const tried = new Set<string>();
		const attempt = () => {
			const backend = tried.size < maxAttempts ? this.pick(listener, socket.remoteAddress, tried) : undefined;
			if (!backend) return socket.destroy();
			tried.add(backendKey(backend));
			const upstream = net.connect({host: backend.ip, port: backend.port});
			const refused = () => {
				upstream.destroy();
				if (!socket.destroyed) attempt();
			};
			upstream.once('error', refused);
			upstream.once('connect', () => {
				upstream.off('error', refused);
				upstream.on('error', () => socket.destroy());
				upstream.on('close', () => socket.destroy());
				socket.on('close', () => upstream.destroy());
				socket.pipe(upstream);
				upstream.pipe(socket);
				socket.resume();
			});
		};
		attempt();
	}
}

const backendKey = (b: Backend) => `${b.ip}:${b.port}`;

/** The ready addresses of a service port from its Endpoints (matched by port name, as kube-proxy does). */
export function backendsFor(endpoints: KubeObject | undefined, portName: string): Backend[] {
	const out: Backend[] = [];
	for (const subset of (endpoints?.subsets ?? []) as Rec[]) {
		const port = ((subset.ports ?? []) as Rec[]).find(p => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP');
		if (!port) continue;
		for (const address of (subset.addresses ?? []) as Rec[]) out.push({ip: address.ip, port: port.port});
	}
	return out;
}
