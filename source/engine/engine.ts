// The engine process: owns a state directory, opens the store, makes sure the
// built-in objects exist, and serves the API on a unix socket (and, when
// asked, on TCP). Controllers, the scheduler and the kubelet attach here.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type {AddressInfo} from 'node:net';
import type {Duplex} from 'node:stream';
import {badRequest, StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {typeByPlural, typeForKind} from '../api/resources.js';
import {defaultClassAnnotation, Registry} from '../server/registry.js';
import {type ApiServerOptions, createApiHandler} from '../server/api/http.js';
import {ensureApiToken, lastApiPort, refuseBrowser, removeEndpoint, saveApiPort, writeEndpoint} from '../server/api/auth.js';
import {Access} from '../server/auth/access.js';
import {anonymous, localAdmin, requestAttributes} from '../server/auth/attributes.js';
import {AuditLog, auditPath} from '../server/auth/audit.js';
import {unauthorized} from '../server/auth/authn.js';
import {ClusterCA} from '../server/auth/ca.js';
import {ServiceAccountTokens} from '../server/auth/tokens.js';
import {ServiceAccountsController} from './controllers/serviceaccounts.js';
import {AggregationController, defaultClusterRoleBindings, defaultClusterRoles} from '../server/auth/policy.js';
import {apiServiceIp, dnsServiceIp} from '../server/allocators.js';
import {type ExecProcess, type ExecRequest, execUpgradeHandler} from '../server/api/exec.js';
import {isPortForward, portForwardUpgradeHandler} from '../server/api/portforward.js';
import {Store, type StoreOptions} from '../store/store.js';
import {acquireLock, type HeldLock, socketPath} from './home.js';
import {serveIdentity} from './identity.js';
import {type Clock, realClock} from './clock.js';
import {type EngineConfig, loadConfig, networkDefaults} from './config.js';
import {ClusterDns, unprivilegedDnsPort} from './network/dns.js';
import {EndpointsController} from './network/endpoints.js';
import {IngressController, ingressClassName, ingressController} from './network/ingress.js';
import {LoadBalancerController} from './network/loadbalancer.js';
import {NftablesProxy, nftAvailable} from './network/nftables.js';
import {ServiceProxy} from './network/proxy.js';
import {type AddressRanges, claimRanges} from './network/ranges.js';
import {DeploymentController} from './controllers/deployment.js';
import {CronJobController} from './controllers/cronjob.js';
import {JobController} from './controllers/job.js';
import {StatefulSetController} from './controllers/statefulset.js';
import {DaemonSetController} from './controllers/daemonset.js';
import {type AutoscalerMetrics, HorizontalPodAutoscalerController} from './controllers/autoscaler.js';
import {ClaimBinder, localPathClass, localPathProvisioner, VolumeReclaimer} from './controllers/volumes.js';
import {GarbageCollector} from './controllers/garbage-collector.js';
import {ReplicaSetController} from './controllers/replicaset.js';
import {type Controller, ControllerRunner} from './controllers/runner.js';
import {EventRecorder} from './events.js';
import {Cgroups} from './kubelet/cgroups.js';
import {startExec} from './kubelet/exec.js';
import {builtinImagesDir} from './kubelet/images.js';
import {hasBubblewrap, Kubelet, PodIPAllocator} from './kubelet/kubelet.js';
import {ContainerRuntime, ProcessLedger} from './kubelet/runtime.js';
import {systemDirs} from './kubelet/sandbox.js';
import {ensureRoot, memoryRoot, podDataRoot, runningAsRoot, stateId, storageRoot, sweepOrphanRoots, sweepPodDirectories} from './layout.js';
import {NodeAgent, NodeLifecycleController} from './nodes.js';
import {Scheduler} from './scheduler.js';
import {logHandler} from './log-endpoint.js';
import type {SshConsole} from '../server/ssh/console.js';
import {nodeMetrics, podMetrics, podUsage} from './metrics-api.js';

export interface EngineOptions {
	home: string;
	/** Also listen on this TCP port on 127.0.0.1 (0 picks a free one). */
	port?: number;
	store?: StoreOptions;
	clock?: Clock;
	/** Overrides <home>/config.yaml (tests). */
	config?: EngineConfig;
	/** Serve the SSH console on [ADDR:]PORT (over config.yaml's ssh.listen). */
	ssh?: string;
	log?: (line: string) => void;
}

/** Namespaces that exist from the start, as in every Kubernetes cluster. */
const builtinNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class Engine {
	readonly store: Store;
	readonly registry: Registry;
	private readonly servers: (http.Server | https.Server)[] = [];
	private readonly lock: HeldLock;
	tcpPort?: number;
	readonly clock: Clock;
	readonly events: EventRecorder;
	readonly config: EngineConfig;
	readonly runners: ControllerRunner[] = [];
	/** The pod and Service addresses this state directory holds on the host. */
	readonly ranges: AddressRanges;
	readonly kubelets: Kubelet[] = [];
	private readonly nodeAgents: NodeAgent[] = [];
	private runtime?: ContainerRuntime;
	private cgroups?: Cgroups;
	private unwatchPods?: () => void;
	private gc?: GarbageCollector;
	private lifecycle?: NodeLifecycleController;
	/** The service proxy: ClusterIP, NodePort and load-balancer listeners. */
	proxy?: ServiceProxy;
	/** The kernel data path, when network.proxyMode is nftables. */
	nftables?: NftablesProxy;
	/** The Ingress controller (class kubedeck). */
	ingress?: IngressController;
	/** Cluster DNS, when it could listen. */
	dns?: ClusterDns;
	/** Authentication, RBAC and audit, for both listeners. */
	access?: Access;
	private certTimer?: NodeJS.Timeout;
	private ca?: ClusterCA;
	/** Signs and checks ServiceAccount tokens. */
	tokens?: ServiceAccountTokens;
	private aggregation?: AggregationController;
	/** The SSH ops console, when asked for (server/ssh). */
	sshConsole?: SshConsole;
	private readonly log: (line: string) => void;

	private constructor(readonly options: EngineOptions) {
		this.lock = acquireLock(options.home);
		try {
			// Timestamps the store writes (creation, deletion) come from the engine's clock, as everything time-driven does.
			const clock = options.clock ?? realClock;
			this.store = new Store(options.home, {now: () => new Date(clock.now()), ...options.store});
			this.ranges = claimRanges(options.home);
		} catch (error) {
			this.lock.release();
			throw error;
		}
		this.registry = new Registry(this.store, this.ranges.service);
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
			await engine.startConsole();
		} catch (error) {
			await engine.stop();
			throw error;
		}
		return engine;
	}

	/** Create what a fresh cluster has: the built-in namespaces and their default ServiceAccounts. */
	private async bootstrap(): Promise<void> {
		// The cluster CA first: each namespace publishes it (kube-root-ca.crt), and pods' tokens are signed beside it.
		this.ca = ClusterCA.ensure(this.options.home);
		this.registry.rootCA = this.ca.certPem;
		this.tokens = new ServiceAccountTokens(this.options.home, this.store, () => this.clock.now());
		for (const name of builtinNamespaces) {
			await this.ensure({apiVersion: 'v1', kind: 'Namespace', metadata: {name}});
		}
		// The local equivalent of a cloud's default class (k3s's local-path): a directory per claim, on the pod's node.
		await this.ensure({apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: {name: localPathClass, annotations: {[defaultClassAnnotation]: 'true'}},
			provisioner: localPathProvisioner, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true});
		await this.ensure({apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: {name: ingressClassName, annotations: {'ingressclass.kubernetes.io/is-default-class': 'true'}}, spec: {controller: ingressController}});
		for (const ns of this.store.list('namespaces').items) {
			await this.ensure({apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'default', namespace: ns.metadata.name}});
		}
		// kube-apiserver's bootstrap policy: the default roles and their bindings, when missing.
		for (const obj of [...defaultClusterRoles(), ...defaultClusterRoleBindings()]) await this.ensure(obj);
	}

	/**
	 * Where pods' files live, and what an earlier engine left: roots of state
	 * directories that are gone, processes still in this state directory's
	 * cgroups or ledger, directories of pods that no longer exist.
	 */
	private prepareHost(ledger: ProcessLedger): {dataRoot: string; memory: string; imagesDir: string} {
		const home = this.options.home;
		for (const root of sweepOrphanRoots()) this.log(`removed ${root}: the state directory it belonged to is gone`);
		const dataRoot = podDataRoot(home), memory = memoryRoot(home);
		ensureRoot(dataRoot, home);
		fs.mkdirSync(path.join(dataRoot, 'pods'), {recursive: true, mode: 0o711});
		ensureRoot(memory, home);
		this.cgroups = Cgroups.detect(stateId(home));
		const swept = this.cgroups?.sweep() ?? 0;
		const leftovers = ledger.reapLeftovers();
		if (swept + leftovers > 0) this.log(`stopped ${swept + leftovers} container(s) left by an engine that did not shut down`);
		const removed = sweepPodDirectories(home, new Set(this.store.list('pods').items.map(p => p.metadata.uid!)));
		if (removed > 0) this.log(`removed the directories of ${removed} pod(s) that no longer exist`);
		// As root, pods run as their own uids: give them a copy of images/ they can read wherever kubedeck is installed.
		let imagesDir = builtinImagesDir;
		if (runningAsRoot) {
			imagesDir = path.join(dataRoot, 'images');
			fs.mkdirSync(imagesDir, {recursive: true, mode: 0o755});
			for (const file of fs.readdirSync(builtinImagesDir)) fs.copyFileSync(path.join(builtinImagesDir, file), path.join(imagesDir, file));
			for (const file of fs.readdirSync(imagesDir)) fs.chmodSync(path.join(imagesDir, file), 0o644);
		}
		return {dataRoot, memory, imagesDir};
	}

	/** Host paths a sandboxed container needs that lie outside the system directories: node, images/, mapped programs. */
	private runtimePaths(imagesDir: string): string[] {
		const node = fs.realpathSync(process.execPath);
		const paths = [path.dirname(path.dirname(node)), imagesDir];
		for (const argv of Object.values(this.config.images)) if (argv[0]?.startsWith('/')) paths.push(argv[0]);
		return [...new Set(paths)].filter(p => fs.existsSync(p) && !systemDirs.some(d => p === d || p.startsWith(`${d}/`)));
	}

	/** Nodes and their kubelets, the scheduler, the controllers and the garbage collector. */
	private async startControlPlane(): Promise<void> {
		const {store, registry, events, clock} = this;
		const home = this.options.home;
		const ledger = new ProcessLedger(home);
		const processNodes = this.config.nodes.some(n => n.kind === 'process');
		const host = processNodes ? this.prepareHost(ledger) : {dataRoot: podDataRoot(home), memory: memoryRoot(home), imagesDir: builtinImagesDir};
		const volumeRoot = storageRoot(host.dataRoot);
		fs.mkdirSync(volumeRoot, {recursive: true, mode: 0o755});
		const ips = new PodIPAllocator(store, this.ranges.pod);
		const sandboxed = processNodes && hasBubblewrap();
		this.runtime = new ContainerRuntime();
		if (processNodes) this.runtime.warm();
		const readOnlyPaths = this.runtimePaths(host.imagesDir);
		const dns = await this.startDns();
		for (const node of this.config.nodes) {
			const kubelet = new Kubelet({
				home, nodeName: node.name, simulated: node.kind === 'simulated', store, registry, events, clock,
				images: this.config.images, imagesDir: host.imagesDir, ledger, runtime: this.runtime, sandboxed, cgroups: this.cgroups, readOnlyPaths,
				protectedPaths: [home, host.dataRoot, host.memory], storageRoot: volumeRoot, oomKilled: new Set(), log: this.log,
				allocateIP: uid => ips.allocate(uid), releaseIP: uid => ips.release(uid), dns,
				serviceAccountToken: (pod, audience, expirationSeconds) => this.tokens?.forPod(pod, audience, expirationSeconds),
			});
			this.kubelets.push(kubelet);
		}
		// One pods watch for all kubelets, routed by node (a watch per kubelet made every pod
		// event visit every node, which showed with 100 simulated nodes).
		const byNode = new Map(this.config.nodes.map((n, i) => [n.name, this.kubelets[i]]));
		this.unwatchPods = store.watch('pods', undefined, Number(store.resourceVersion), event => {
			const nodeName = (event.object.spec as {nodeName?: string} | undefined)?.nodeName;
			if (nodeName) byNode.get(nodeName)?.handle(event);
		});
		// Each kubelet tells what it lost with the last engine before its node says Ready, and before the API serves.
		await Promise.all(this.kubelets.map(k => k.start()));
		for (const node of this.config.nodes) {
			const agent = new NodeAgent(node, registry, clock);
			await agent.register();
			this.nodeAgents.push(agent);
		}
		const controllers: Controller[] = [
			new Scheduler(store, registry, events, clock, this.config.scheduler.scoring),
			new ReplicaSetController(store, registry, events, clock),
			new DeploymentController(store, registry, events, clock),
			new StatefulSetController(store, registry, events, clock),
			new DaemonSetController(store, registry, events, clock),
			new JobController(store, registry, events, clock),
			new CronJobController(store, registry, events, clock),
			new ClaimBinder(store, registry, events, clock, volumeRoot),
			new VolumeReclaimer(store, registry, events, clock, volumeRoot),
			new EndpointsController(store, registry, events),
			new LoadBalancerController(store, registry, events, this.ranges.service),
			new HorizontalPodAutoscalerController(store, registry, events, clock, this.autoscalerMetrics()),
			new ServiceAccountsController(store, registry),
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
		// The data path: nftables DNAT rules where asked for and possible (root, nft), else the user-space proxy.
		const network = networkDefaults(this.config.network);
		if (network.proxyMode === 'nftables' && nftAvailable()) {
			this.nftables = new NftablesProxy(store, stateId(home), this.log);
			this.nftables.start();
		} else {
			if (network.proxyMode === 'nftables') this.log('network.proxyMode nftables needs root and the nft program: using the user-space proxy');
			this.proxy = new ServiceProxy(store, events, {nodePortAddress: network.nodePortAddress});
			this.proxy.start();
		}
		this.ingress = new IngressController(store, registry, events, {address: network.nodePortAddress, httpPort: network.ingress.http, httpsPort: network.ingress.https});
		this.ingress.start();
	}

	/**
	 * Cluster DNS on the Service range's tenth address: port 53 as root (pods then resolve
	 * cluster names through their resolv.conf), else a high port for tools that take one.
	 */
	private async startDns(): Promise<{ip: string; port: number} | undefined> {
		const address = {ip: dnsServiceIp(this.ranges.service), port: runningAsRoot ? 53 : unprivilegedDnsPort};
		const dns = new ClusterDns(this.store, address);
		try {
			await dns.start();
		} catch (error) {
			this.log(`cluster DNS is off: cannot listen on ${address.ip}:${address.port}: ${(error as Error).message}`);
			await dns.stop().catch(() => {});
			return undefined;
		}
		this.dns = dns;
		return address;
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
		const home = this.options.home;
		const token = ensureApiToken(home);
		const tokens = this.tokens!;
		const access = (this.access = new Access(this.store, {adminToken: token, serviceAccount: t => tokens.authenticate(t)}, new AuditLog(auditPath(home))));
		this.aggregation = new AggregationController(this.store, this.registry);
		const ca = this.ca!;
		const options: ApiServerOptions = {
			registry: this.registry, access, ca, tokens,
			logs: logHandler(home, this.store, this.clock),
			metrics: (resource, namespace, name) => (resource === 'pods' ? podMetrics(this.kubelets, this.store, namespace, name) : nodeMetrics(this.kubelets, this.store, name)),
		};
		const handler = createApiHandler(options);
		const execUpgrade = execUpgradeHandler(this.registry, (pod, request) => (request.attach ? this.attachToPod(pod, request) : this.execInPod(pod, request)));
		const forwardUpgrade = portForwardUpgradeHandler(this.registry);
		const upgrade: typeof execUpgrade = (req, ...rest) => (isPortForward(req.url) ? forwardUpgrade : execUpgrade)(req, ...rest);
		const track = (authorize?: (req: http.IncomingMessage) => void) => (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
			this.upgraded.add(socket);
			socket.once('close', () => this.upgraded.delete(socket));
			upgrade(req, socket, head, authorize);
		};
		const sock = socketPath(home);
		// We hold the lock, so a socket file left behind belongs to a dead engine.
		fs.rmSync(sock, {force: true});
		// The unix socket also answers the engine's identity check (identity.ts), before the API sees the request.
		// Its caller is the local admin (the socket is 0600, the state directory's owner's).
		const unix = http.createServer((req, res) => {
			if (!serveIdentity(this.lock.token, req, res)) handler(req, res);
		}).on('upgrade', track(req => {
			refuseBrowser(req);
			const url = new URL(req.url ?? '/', 'http://localhost');
			access.audit?.recordUpgrade(req, requestAttributes(localAdmin, 'POST', url.pathname, url.searchParams), 101);
		}));
		await new Promise<void>((resolve, reject) => unix.once('error', reject).listen(sock, () => resolve()));
		fs.chmodSync(sock, 0o600);
		this.servers.push(unix);
		// The TCP port is TLS with the cluster CA's serving certificate (server/auth/ca.ts); callers present a
		// bearer token or a client certificate the CA signed, and RBAC decides (server/auth/). Its address is
		// written beside the token for `kubedeck kubeconfig`, and removed when it closes. Exec streams (upgrades)
		// pass the same checks before they are accepted. It is always served: pods reach the API through the
		// `kubernetes` Service, as in every cluster. Without --port it is the port of the last start when that
		// is free (so a kubeconfig keeps working), else any free one.
		const names = ClusterCA.servingNames(apiServiceIp(this.ranges.service), this.config.api?.extraSANs);
		const serving = ca.servingCert(names);
		const identify = (req: http.IncomingMessage) => access.authenticator.authenticate(req);
		const tcp = https.createServer({cert: serving.cert, key: serving.key, ca: [ca.certPem], requestCert: true, rejectUnauthorized: false},
			createApiHandler({...options, identify}))
			.on('upgrade', track(req => {
				refuseBrowser(req);
				const user = identify(req);
				if (user === anonymous) throw unauthorized();
				const url = new URL(req.url ?? '/', 'http://localhost');
				// An exec is a create of pods/exec whatever the method of its upgrade (kube-apiserver checks create too).
				const attrs = requestAttributes(access.impersonate(user, req), 'POST', url.pathname, url.searchParams);
				try {
					access.authorize(attrs);
				} catch (error) {
					access.audit?.recordUpgrade(req, attrs, 403);
					throw error;
				}
				access.audit?.recordUpgrade(req, attrs, 101);
			}));
		// Renewed before it expires: checked daily, and the listener takes the new one without a restart.
		this.certTimer = setInterval(() => {
			try {
				const next = ca.servingCert(names);
				if (next.renewed) tcp.setSecureContext({cert: next.cert, key: next.key, ca: [ca.certPem]});
			} catch (error) {
				this.log(`kubedeck: could not renew the API's serving certificate: ${(error as Error).message}`);
			}
		}, 24 * 3600 * 1000).unref();
		const listenOn = (port: number) => new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(port, '127.0.0.1', () => {
			tcp.off('error', reject);
			resolve();
		}));
		const last = this.options.port === undefined ? lastApiPort(this.options.home) : undefined;
		if (last !== undefined) await listenOn(last).catch(() => listenOn(0));
		else await listenOn(this.options.port ?? 0);
		this.tcpPort = (tcp.address() as AddressInfo).port;
		writeEndpoint(this.options.home, this.tcpPort);
		saveApiPort(this.options.home, this.tcpPort);
		tcp.once('close', () => removeEndpoint(this.options.home));
		this.servers.push(tcp);
		await this.ensureApiService(this.tcpPort);
	}

	/** The SSH console beside the API, acting through the API's TLS port (loaded only when asked for). */
	private async startConsole(): Promise<void> {
		const listen = this.options.ssh ?? this.config.ssh?.listen;
		if (listen === undefined) return;
		const {parseListen, SshConsole} = await import('../server/ssh/console.js');
		this.sshConsole = await SshConsole.start({
			home: this.options.home, listen: parseListen(listen), apiPort: this.tcpPort!, registry: this.registry,
			tokens: this.tokens!, users: this.access!.users, audit: this.access!.audit, log: this.log,
		});
	}

	/**
	 * The `kubernetes` Service in `default`, as kube-apiserver keeps it: the first address of the
	 * Service range, port 443, and Endpoints (and an EndpointSlice) naming the API's TCP address.
	 */
	private async ensureApiService(port: number): Promise<void> {
		const registry = this.registry;
		const ip = apiServiceIp(this.ranges.service);
		const labels = {component: 'apiserver', provider: 'kubernetes'};
		const ports = [{name: 'https', port, protocol: 'TCP'}];
		const svc = this.store.get('services', 'default', 'kubernetes');
		const spec = {type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{name: 'https', port: 443, protocol: 'TCP', targetPort: port}], sessionAffinity: 'None'};
		const services = typeByPlural('services')!, endpoints = typeByPlural('endpoints')!, slices = typeByPlural('endpointslices')!;
		const current = svc?.spec as Record<string, any> | undefined;
		if (svc && current?.clusterIP !== ip) {
			// From an earlier version, another address: the Service is the engine's, so it is made again.
			await registry.delete(services, 'default', 'kubernetes');
		}
		if (!svc || current?.clusterIP !== ip) await registry.create(services, 'default', {apiVersion: 'v1', kind: 'Service', metadata: {name: 'kubernetes', namespace: 'default', labels}, spec});
		else if (current.ports?.[0]?.targetPort !== port) await registry.update(services, 'default', 'kubernetes', {...svc, spec: {...current, ports: spec.ports}});
		const ep: KubeObject = {apiVersion: 'v1', kind: 'Endpoints', metadata: {name: 'kubernetes', namespace: 'default', labels: {'endpointslice.kubernetes.io/skip-mirror': 'true'}}, subsets: [{addresses: [{ip: '127.0.0.1'}], ports}]};
		const slice: KubeObject = {apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: {name: 'kubernetes', namespace: 'default', labels: {'kubernetes.io/service-name': 'kubernetes'}}, addressType: 'IPv4', endpoints: [{addresses: ['127.0.0.1'], conditions: {ready: true}}], ports};
		for (const [type, obj] of [[endpoints, ep], [slices, slice]] as const) {
			const current = this.store.get(type.plural, 'default', 'kubernetes');
			if (current) await registry.update(type, 'default', 'kubernetes', {...obj, metadata: {...obj.metadata, resourceVersion: current.metadata.resourceVersion}});
			else await registry.create(type, 'default', obj);
		}
	}

	/** Connections upgraded to exec streams: not the HTTP server's any more, so closed by hand at stop. */
	private readonly upgraded = new Set<Duplex>();

	/** The kubelet's worker of a pod, and the container a request names (else the default one, as kubectl picks it). */
	private containerOf(pod: KubeObject, request: ExecRequest) {
		const worker = this.kubelets.map(k => k.workerFor(pod.metadata.uid!)).find(w => w);
		if (!worker) throw badRequest(`pod ${pod.metadata.name} is not running on a node of this engine`);
		const containers = (pod.spec as {containers: {name: string}[]}).containers;
		return {worker, name: request.container ?? pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? containers[0].name};
	}

	/** Start a process in a pod's container, inside its sandbox; it ends with the container. */
	private execInPod(pod: KubeObject, request: ExecRequest): ExecProcess {
		const {worker, name} = this.containerOf(pod, request);
		let spec;
		try {
			spec = worker.execSpec(name, request.command, request.tty);
		} catch (error) {
			throw badRequest((error as Error).message);
		}
		const exec = startExec(spec, request);
		const untrack = worker.trackExec(name, () => exec.kill());
		void exec.exited.finally(untrack);
		return exec;
	}

	/**
	 * Attach to a pod's container (kubectl attach, kubectl run -it): its output from now on and its
	 * input, through the shim that runs it. Going away detaches; the container goes on.
	 */
	private attachToPod(pod: KubeObject, request: ExecRequest): ExecProcess {
		const {worker, name} = this.containerOf(pod, request);
		const listeners: ((stream: 'stdout' | 'stderr', data: Buffer) => void)[] = [];
		let attachment;
		let target;
		try {
			target = worker.attachTo(name);
			attachment = target.running.attach((stream, data) => {
				for (const listener of listeners) listener(stream, data);
			});
		} catch (error) {
			throw badRequest((error as Error).message);
		}
		const {stdin} = target;
		const exited = target.running.exited.then(status => {
			attachment.detach();
			return status.exitCode;
		});
		return {
			// A container without stdin takes no input (kubectl says so before it sends any).
			write: data => {
				if (stdin) attachment.write(data);
			},
			closeStdin: () => attachment.closeStdin(),
			resize: ({cols, rows}) => attachment.resize(cols, rows),
			kill: () => attachment.detach(),
			onOutput: listener => listeners.push(listener),
			exited,
		};
	}

	private stopped = false;

	/** What the autoscaler reads: the kubelets' samples, and the data path's counters (started after the controllers, so read late). */
	private autoscalerMetrics(): AutoscalerMetrics {
		return {
			podUsage: uid => podUsage(this.kubelets, uid),
			serviceCounter: (namespace, name, metric) => {
				const service = `${namespace}/${name}`;
				if (metric === 'requests_per_second') {
					if (!this.ingress) return undefined;
					let n = 0;
					for (const [backend, count] of this.ingress.requests) if (backend.startsWith(`${service}:`)) n += count;
					return n;
				}
				if (metric !== 'connections_per_second') return undefined;
				// One data path counts: the user-space proxy, or the kernel's rules.
				const connections = this.proxy?.connections ?? this.nftables?.connections();
				return connections ? connections.get(service) ?? 0 : undefined;
			},
		};
	}

	/** Stop serving, finish queued writes, close the state file, release the lock. */
	async stop(): Promise<void> {
		if (this.stopped) return;
		this.stopped = true;
		await this.sshConsole?.stop();
		for (const socket of this.upgraded) socket.destroy();
		await Promise.all(this.servers.map(server => new Promise<void>(resolve => {
			server.close(() => resolve());
			server.closeAllConnections();
		})));
		for (const runner of this.runners) runner.stop();
		if (this.certTimer) clearInterval(this.certTimer);
		this.aggregation?.stop();
		this.access?.stop();
		await this.proxy?.stop();
		this.nftables?.stop();
		await this.dns?.stop();
		await this.ingress?.stop();
		this.unwatchPods?.();
		this.gc?.stop();
		this.lifecycle?.stop();
		for (const agent of this.nodeAgents) agent.stop();
		// No container outlives the engine.
		await Promise.all(this.kubelets.map(k => k.stop()));
		await this.runtime?.close();
		this.cgroups?.release();
		await this.store.close();
		fs.rmSync(socketPath(this.options.home), {force: true});
		this.lock.release();
	}
}
