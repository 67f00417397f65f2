// The engine process: owns a state directory, opens the store, makes sure the
// built-in objects exist, and serves the API on a unix socket (and, when
// asked, on TCP). Controllers, the scheduler and the kubelet attach here.
import fs from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {badRequest, StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {typeForKind} from '../api/resources.js';
import {Registry} from '../server/registry.js';
import {createApiHandler} from '../server/api/http.js';
import {Store, type StoreOptions} from '../store/store.js';
import {acquireLock, socketPath} from './home.js';
import {type Clock, realClock} from './clock.js';
import {type EngineConfig, loadConfig} from './config.js';
import {DeploymentController} from './controllers/deployment.js';
import {GarbageCollector} from './controllers/garbage-collector.js';
import {ReplicaSetController} from './controllers/replicaset.js';
import {type Controller, ControllerRunner} from './controllers/runner.js';
import {EventRecorder} from './events.js';
import {hasBubblewrap, Kubelet, PodIPAllocator} from './kubelet/kubelet.js';
import {containerMounts, sandboxArgv} from './kubelet/sandbox.js';
import {ContainerRuntime, ProcessLedger} from './kubelet/runtime.js';
import {NodeAgent, NodeLifecycleController} from './nodes.js';
import {Scheduler} from './scheduler.js';
import {logHandler} from './log-endpoint.js';
import {nodeMetrics, podMetrics} from './metrics-api.js';

export interface EngineOptions {
	home: string;
	/** Also listen on this TCP port on 127.0.0.1 (0 picks a free one). */
	port?: number;
	store?: StoreOptions;
	clock?: Clock;
	/** Overrides <home>/config.yaml (tests). */
	config?: EngineConfig;
	log?: (line: string) => void;
}

/** Namespaces that exist from the start, as in every Kubernetes cluster. */
const builtinNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class Engine {
	readonly store: Store;
	readonly registry: Registry;
	private readonly servers: http.Server[] = [];
	private releaseLock: () => void;
	tcpPort?: number;
	readonly clock: Clock;
	readonly events: EventRecorder;
	readonly config: EngineConfig;
	readonly runners: ControllerRunner[] = [];
	readonly kubelets: Kubelet[] = [];
	private readonly nodeAgents: NodeAgent[] = [];
	private runtime?: ContainerRuntime;
	private unwatchPods?: () => void;
	private gc?: GarbageCollector;
	private lifecycle?: NodeLifecycleController;
	private readonly log: (line: string) => void;

	private constructor(readonly options: EngineOptions) {
		this.releaseLock = acquireLock(options.home);
		try {
			this.store = new Store(options.home, options.store);
		} catch (error) {
			this.releaseLock();
			throw error;
		}
		this.registry = new Registry(this.store);
		this.clock = options.clock ?? realClock;
		this.events = new EventRecorder(this.registry, this.clock);
		this.log = options.log ?? (line => console.error(line));
		this.config = options.config ?? loadConfig(options.home);
	}

	static async start(options: EngineOptions): Promise<Engine> {
		const engine = new Engine(options);
		try {
			await engine.bootstrap();
			await engine.startControlPlane();
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

	/** Nodes and their kubelets, the scheduler, the controllers and the garbage collector. */
	private async startControlPlane(): Promise<void> {
		const {store, registry, events, clock} = this;
		const ledger = new ProcessLedger(this.options.home);
		const leftovers = ledger.reapLeftovers();
		if (leftovers > 0) this.log(`stopped ${leftovers} container process group(s) left by an engine that did not shut down`);
		const ips = new PodIPAllocator(store, this.options.home);
		const sandboxed = hasBubblewrap();
		this.runtime = new ContainerRuntime();
		if (this.config.nodes.some(n => n.kind === 'process')) this.runtime.warm();
		for (const node of this.config.nodes) {
			const agent = new NodeAgent(node, registry, clock);
			await agent.register();
			this.nodeAgents.push(agent);
			const kubelet = new Kubelet({
				home: this.options.home, nodeName: node.name, simulated: node.kind === 'simulated', store, registry, events, clock,
				images: this.config.images, ledger, runtime: this.runtime, mountsInPlace: sandboxed, oomKilled: new Set(), log: this.log,
				allocateIP: uid => ips.allocate(uid), releaseIP: uid => ips.release(uid),
				wrap: (argv, _pod, container, volumes, cwd) => {
					const mounts = containerMounts(container, volumes);
					return sandboxed && mounts.length > 0 ? sandboxArgv(argv, mounts, cwd) : argv;
				},
			});
			this.kubelets.push(kubelet);
		}
		const controllers: Controller[] = [
			new Scheduler(store, registry, events, clock, this.config.scheduler.scoring),
			new ReplicaSetController(store, registry, events, clock),
			new DeploymentController(store, registry, events, clock),
		];
		for (const controller of controllers) {
			const runner = new ControllerRunner(controller, store, clock, this.log);
			this.runners.push(runner);
			runner.start();
		}
		this.gc = new GarbageCollector(store, registry, this.log);
		this.gc.start();
		this.lifecycle = new NodeLifecycleController(registry, clock, events);
		this.lifecycle.start();
		// One pods watch for all kubelets, routed by node (a watch per kubelet made every pod
		// event visit every node, which showed with 100 simulated nodes).
		const byNode = new Map(this.config.nodes.map((n, i) => [n.name, this.kubelets[i]]));
		this.unwatchPods = store.watch('pods', undefined, Number(store.resourceVersion), event => {
			const nodeName = (event.object.spec as {nodeName?: string} | undefined)?.nodeName;
			if (nodeName) byNode.get(nodeName)?.handle(event);
		});
		for (const kubelet of this.kubelets) kubelet.start();
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
		const handler = createApiHandler({
			registry: this.registry,
			logs: logHandler(this.options.home, this.store, this.clock),
			metrics: (resource, namespace, name) => (resource === 'pods' ? podMetrics(this.kubelets, this.store, namespace, name) : nodeMetrics(this.kubelets, this.store, name)),
			exec: (pod, container, command) => {
				const worker = this.kubelets.map(k => k.workerFor(pod.metadata.uid!)).find(w => w);
				if (!worker) throw badRequest(`pod ${pod.metadata.name} is not running on a node of this engine`);
				const name = container ?? (pod.spec as {containers: {name: string}[]}).containers[0].name;
				try {
					return worker.execSpec(name, command);
				} catch (error) {
					throw badRequest((error as Error).message);
				}
			},
		});
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
		for (const runner of this.runners) runner.stop();
		this.unwatchPods?.();
		this.gc?.stop();
		this.lifecycle?.stop();
		for (const agent of this.nodeAgents) agent.stop();
		// No container outlives the engine.
		await Promise.all(this.kubelets.map(k => k.stop()));
		this.runtime?.close();
		await this.store.close();
		fs.rmSync(socketPath(this.options.home), {force: true});
		this.releaseLock();
	}
}
