// The kubelet of one node: watches the pods bound to it and gives each a pod
// worker; hands out pod IPs from the loopback range; on engine start, stops
// what a killed engine left running; on engine stop, stops every container.
import {addressAt, isEdge, type AddressRange} from '../../server/allocators.js';
import {spawnSync} from 'node:child_process';
import type {KubeObject} from '../../api/object.js';
import type {Registry} from '../../server/registry.js';
import type {Store, WatchEvent} from '../../store/store.js';
import type {Clock} from '../clock.js';
import type {EventRecorder} from '../events.js';
import {PodWorker} from './pod-worker.js';
import {readGroupUsage} from './usage.js';
import type {Cgroups} from './cgroups.js';
import type {ContainerRuntime, ProcessLedger} from './runtime.js';

type Rec = Record<string, any>;

export interface KubeletContext {
	home: string;
	nodeName: string;
	simulated: boolean;
	store: Store;
	registry: Registry;
	events: EventRecorder;
	clock: Clock;
	images: Record<string, string[]>;
	/** Where the built-in images' programs are (images/). */
	imagesDir: string;
	ledger: ProcessLedger;
	runtime: ContainerRuntime;
	/** Containers run under bubblewrap (sandbox.ts). */
	sandboxed: boolean;
	/** The engine's cgroups, where it may use them. */
	cgroups?: Cgroups;
	/** Host paths a sandboxed container needs to run its image (node, images/, mapped programs). */
	readOnlyPaths: string[];
	/** kubedeck's own directories, which no hostPath may reach. */
	protectedPaths: string[];
	/** Where local-path volumes live (inside the protected data root; a PV may name only its own directory there). */
	storageRoot: string;
	/** Issues the pods' ServiceAccount tokens (projected volumes). */
	serviceAccountToken?: (pod: KubeObject, audience?: string, expirationSeconds?: number) => string | undefined;
	/** pids the kubelet killed for exceeding their memory limit. */
	oomKilled: Set<number>;
	log(line: string): void;
	/** Where cluster DNS answers, once it does (network/dns.ts). */
	dns?: {ip: string; port: number};
	allocateIP(uid: string): string;
	releaseIP(uid: string): void;
	forget(uid: string): void;
}

/**
 * Pod IPs: unique loopback addresses (127.0.0.0/8 routes to lo with no
 * privileges) from the pod half of the /16 the state directory claimed
 * host-wide (network/ranges.ts), so engines on one host never share one.
 * Shared by every node of the engine so no two pods collide.
 */
export class PodIPAllocator {
	private readonly byUid = new Map<string, string>();
	private readonly used = new Set<string>();
	private next = 0;

	constructor(store: Store, private readonly range: AddressRange) {
		for (const pod of store.list('pods').items) {
			const ip = (pod.status as Rec)?.podIP;
			if (ip) this.take(pod.metadata.uid!, ip);
		}
	}

	private take(uid: string, ip: string): void {
		this.byUid.set(uid, ip);
		this.used.add(ip);
	}

	allocate(uid: string): string {
		const existing = this.byUid.get(uid);
		if (existing) return existing;
		const {size} = this.range;
		for (let i = 0; i < size; i++) {
			const n = (this.next + i) % size;
			const ip = addressAt(this.range, n);
			if (isEdge(ip) || this.used.has(ip)) continue;
			this.next = n + 1;
			this.take(uid, ip);
			return ip;
		}
		throw new Error(`pod IP range ${addressAt(this.range, 0)}/17 is exhausted`);
	}

	release(uid: string): void {
		const ip = this.byUid.get(uid);
		if (!ip) return;
		this.byUid.delete(uid);
		this.used.delete(ip);
	}
}

let bwrapAvailable: boolean | undefined;

/** Is bubblewrap installed and able to make a mount namespace here? */
export function hasBubblewrap(): boolean {
	if (process.env.KUBEDECK_NO_BWRAP) return false;
	if (bwrapAvailable === undefined) {
		// The features the sandbox uses: a mount and PID namespace, its own /proc.
		const probe = spawnSync('bwrap', ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--unshare-pid', '--die-with-parent', 'true'], {stdio: 'ignore'});
		bwrapAvailable = probe.status === 0;
	}
	return bwrapAvailable;
}

export interface ContainerSample {
	cpuCores: number;
	memoryBytes: number;
	timestamp: number;
}

export interface PodSample {
	namespace: string;
	name: string;
	nodeName: string;
	containers: Map<string, ContainerSample>;
	/** Recent samples per container, oldest first (for sparklines). */
	history: Map<string, ContainerSample[]>;
}

export const metricsIntervalMs = 5_000;
const historyLength = 60;

export class Kubelet {
	private readonly workers = new Map<string, PodWorker>();
	/** Latest resource usage per pod uid (the kubelet's summary API, served as metrics.k8s.io). */
	readonly usage = new Map<string, PodSample>();
	private readonly lastCpu = new Map<number, {cpuSeconds: number; at: number}>();
	private metricsTimer?: {cancel(): void};

	constructor(private readonly ctx: Omit<KubeletContext, 'forget'>) {
		this.context = {...ctx, forget: uid => this.workers.delete(uid)};
	}

	private readonly context: KubeletContext;

	private bound(pod: KubeObject): boolean {
		return (pod.spec as Rec)?.nodeName === this.ctx.nodeName;
	}

	/**
	 * Start on all existing pods; then `handle` gets every pod event (the
	 * engine routes them by node). Resolves once the status of every
	 * container lost with the last engine is written, so nothing reads a dead
	 * container as running.
	 */
	async start(): Promise<void> {
		for (const pod of this.ctx.store.list('pods').items) this.handle({type: 'ADDED', object: pod}, false);
		await Promise.all([...this.workers.values()].map(w => w.settle()));
		for (const worker of this.workers.values()) worker.requestSync();
		if (!this.ctx.simulated) this.scheduleMetrics();
	}

	readonly handle = (event: Pick<WatchEvent, 'type' | 'object'>, sync = true): void => {
		const pod = event.object;
		const uid = pod.metadata.uid!;
		const worker = this.workers.get(uid);
		if (event.type === 'DELETED') {
			worker?.remove();
			return;
		}
		if (!this.bound(pod)) return;
		if (worker) {
			worker.update(pod);
			return;
		}
		const phase = (pod.status as Rec)?.phase;
		// Finished pods stay finished across engine restarts; deleting ones still need their deletion finished.
		if ((phase === 'Succeeded' || phase === 'Failed') && !pod.metadata.deletionTimestamp) return;
		const created = new PodWorker(this.context, pod);
		this.workers.set(uid, created);
		if (sync) created.requestSync();
	};

	/**
	 * Measure every running container's CPU and memory; kill containers over
	 * their memory limit (where no cgroup does it for us).
	 */
	collectMetrics(): void {
		const now = this.ctx.clock.now();
		// CPU seconds are real seconds: the rate is over real time, whatever the engine's clock says (a test's manual clock).
		const real = performance.now();
		const containers: {worker: PodWorker; name: string; pgid: number; memoryLimit?: number; kernelLimited: boolean}[] = [];
		for (const worker of this.workers.values()) for (const c of worker.runningContainers()) containers.push({worker, ...c});
		const usage = readGroupUsage(new Set(containers.map(c => c.pgid)));
		const seen = new Set<string>();
		for (const c of containers) {
			const u = usage.get(c.pgid);
			if (!u) continue;
			const last = this.lastCpu.get(c.pgid);
			this.lastCpu.set(c.pgid, {cpuSeconds: u.cpuSeconds, at: real});
			const cpuCores = last && real > last.at ? Math.max(0, (u.cpuSeconds - last.cpuSeconds) / ((real - last.at) / 1000)) : 0;
			const pod = c.worker.pod;
			const uid = pod.metadata.uid!;
			seen.add(uid);
			const sample = {cpuCores, memoryBytes: u.rssBytes, timestamp: now};
			const entry = this.usage.get(uid) ?? {namespace: pod.metadata.namespace!, name: pod.metadata.name!, nodeName: this.ctx.nodeName, containers: new Map(), history: new Map()};
			entry.containers.set(c.name, sample);
			const history = entry.history.get(c.name) ?? [];
			history.push(sample);
			if (history.length > historyLength) history.shift();
			entry.history.set(c.name, history);
			this.usage.set(uid, entry);
			// Where a memory cgroup holds the limit, the kernel enforces it; the sampler is for hosts without one.
			if (c.memoryLimit !== undefined && !c.kernelLimited && u.rssBytes > c.memoryLimit) c.worker.oomKill(c.name);
		}
		for (const uid of this.usage.keys()) if (!seen.has(uid) && !this.workers.has(uid)) this.usage.delete(uid);
		const live = new Set(containers.map(c => c.pgid));
		for (const pgid of this.lastCpu.keys()) if (!live.has(pgid)) this.lastCpu.delete(pgid);
	}

	private scheduleMetrics(): void {
		this.metricsTimer = this.ctx.clock.setTimeout(() => {
			try {
				this.collectMetrics();
			} finally {
				this.scheduleMetrics();
			}
		}, metricsIntervalMs);
	}

	/** Stop every container (engine shutdown); pods stay in the store. */
	async stop(graceSeconds = 10): Promise<void> {
		this.metricsTimer?.cancel();
		await Promise.all([...this.workers.values()].map(w => w.shutdown(graceSeconds)));
	}

	workerFor(uid: string): PodWorker | undefined {
		return this.workers.get(uid);
	}
}
