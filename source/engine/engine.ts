// The engine process: owns a state directory, opens the store, makes sure the
// built-in objects exist, and serves the API on a unix socket (and, when
// asked, on TCP). Controllers, the scheduler and the kubelet attach here.
import fs from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {typeForKind} from '../api/resources.js';
import {Registry} from '../server/registry.js';
import {createApiHandler} from '../server/api/http.js';
import {Store, type StoreOptions} from '../store/store.js';
import {acquireLock, socketPath} from './home.js';

export interface EngineOptions {
	home: string;
	/** Also listen on this TCP port on 127.0.0.1 (0 picks a free one). */
	port?: number;
	store?: StoreOptions;
}

/** Namespaces that exist from the start, as in every Kubernetes cluster. */
const builtinNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class Engine {
	readonly store: Store;
	readonly registry: Registry;
	private readonly servers: http.Server[] = [];
	private releaseLock: () => void;
	tcpPort?: number;

	private constructor(readonly options: EngineOptions) {
		this.releaseLock = acquireLock(options.home);
		try {
			this.store = new Store(options.home, options.store);
		} catch (error) {
			this.releaseLock();
			throw error;
		}
		this.registry = new Registry(this.store);
	}

	static async start(options: EngineOptions): Promise<Engine> {
		const engine = new Engine(options);
		try {
			await engine.bootstrap();
			await engine.listen();
		} catch (error) {
			await engine.stop();
			throw error;
		}
		return engine;
	}

	/** Create what a fresh cluster has: the built-in namespaces and their default ServiceAccounts. */
	private async bootstrap(): Promise<void> {
		for (const name of builtinNamespaces) {
			await this.ensure({apiVersion: 'v1', kind: 'Namespace', metadata: {name}});
		}
		for (const ns of this.store.list('namespaces').items) {
			await this.ensure({apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'default', namespace: ns.metadata.name}});
		}
	}

	private async ensure(obj: KubeObject): Promise<void> {
		const type = typeForKind(obj.apiVersion, obj.kind)!;
		try {
			await this.registry.create(type, obj.metadata.namespace, obj);
		} catch (error) {
			if (!(error instanceof StatusError && error.reason === 'AlreadyExists')) throw error;
		}
	}

	private async listen(): Promise<void> {
		const handler = createApiHandler({registry: this.registry});
		const sock = socketPath(this.options.home);
		// We hold the lock, so a socket file left behind belongs to a dead engine.
		fs.rmSync(sock, {force: true});
		const unix = http.createServer(handler);
		await new Promise<void>((resolve, reject) => unix.once('error', reject).listen(sock, () => resolve()));
		fs.chmodSync(sock, 0o600);
		this.servers.push(unix);
		if (this.options.port !== undefined) {
			const tcp = http.createServer(handler);
			await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(this.options.port, '127.0.0.1', () => resolve()));
			this.tcpPort = (tcp.address() as AddressInfo).port;
			this.servers.push(tcp);
		}
	}

	private stopped = false;

	/** Stop serving, finish queued writes, close the state file, release the lock. */
	async stop(): Promise<void> {
		if (this.stopped) return;
		this.stopped = true;
		await Promise.all(this.servers.map(server => new Promise<void>(resolve => {
			server.close(() => resolve());
			server.closeAllConnections();
		})));
		await this.store.close();
		fs.rmSync(socketPath(this.options.home), {force: true});
		this.releaseLock();
	}
}
