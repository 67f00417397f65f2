// One pod on one node: the kubelet's pod worker. It runs the pod's containers
// (init containers first, in order), restarts them per restartPolicy with
// CrashLoopBackOff (10 s doubling to 5 min, reset after 10 min of running),
// runs probes, stops containers gracefully (SIGTERM, then SIGKILL after the
// grace period), and writes the pod's status. Syncs are serialized per pod.
import fs from 'node:fs';
import path from 'node:path';
import {StatusError} from '../../api/errors.js';
import {deepEqual, type KubeObject} from '../../api/object.js';
import {parseQuantity} from '../../api/quantity.js';
import {typeByPlural} from '../../api/resources.js';
import {isoTime} from '../../api/time.js';
import {type DirSpec, makeDir, type PodPaths, podPaths} from '../layout.js';
import {hostsFile, resolvConf} from '../network/dns.js';
import {resolveImage} from './images.js';
import {type ContainerIdentity, containerIdentity, podId, podUser} from './identity.js';
import {containerArgv, execArgv, findProgram, type LaunchSpec, onTerminal} from './launch.js';
import {logFile} from './logs.js';
import {ContainerConfigError, containerEnv, podHostname} from './environment.js';
import {runProbe} from './probes.js';
import {killUser, type RunningContainer} from './runtime.js';
import {containerMounts, prepareVolumes, refreshTokens, tokenRefreshSeconds, type Volume, type VolumeContext} from './volumes.js';
import {type ContainerRecord, newContainerRecord, podStatusFor, willRestart} from './pod-status.js';
import type {KubeletContext} from './kubelet.js';
import type {SandboxMount} from './sandbox.js';

type Rec = Record<string, any>;
const podType = typeByPlural('pods')!;

export const backoffBaseMs = 10_000;
export const backoffMaxMs = 300_000;
/** A container that ran this long before exiting starts its backoff over. */
export const backoffResetMs = 600_000;

/** Where a path inside the container is on the host, when it lies under one of its mounts. */
function hostPathOf(p: string, mounts: {source: string; target: string}[]): string {
	if (!p.startsWith('/')) return p;
	const m = mounts.filter(x => p === x.target || p.startsWith(`${x.target}/`)).sort((a, b) => b.target.length - a.target.length)[0];
	return m ? path.join(m.source, p.slice(m.target.length)) : p;
}

export class PodWorker {
	private readonly containers = new Map<string, ContainerRecord>();
	private syncing = false;
	private again = false;
	private removed = false;
	private finished = false;
	podIP?: string;
	private volumes?: Map<string, Volume>;
	private lastStatus?: Rec;
	private retryTimer?: {cancel(): void};
	/** The next rewrite of the pod's projected tokens, before they expire. */
	private tokenTimer?: {cancel(): void};
	private readonly warned = new Set<string>();
	/** The pod's log directory, in the state directory (the kubelet's /var/log/pods/<ns>_<name>_<uid>). */
	readonly logDir: string;
	/** Its working directory and volumes, where the pod's uid can reach them (layout.ts). */
	readonly paths: PodPaths;
	/** How each running container was started, for exec. */
	private readonly launches = new Map<string, LaunchSpec>();
	/** Processes exec'd into each container: they end with it. */
	private readonly execs = new Map<string, Set<() => void>>();

	constructor(private readonly ctx: KubeletContext, public pod: KubeObject) {
		this.logDir = path.join(ctx.home, 'pods', `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
		this.paths = podPaths(ctx.home, pod.metadata.uid!);
		const now = isoTime(ctx.clock.now());
		const spec = pod.spec as Rec;
		const statuses: Rec[] = [...((pod.status as Rec)?.initContainerStatuses ?? []), ...((pod.status as Rec)?.containerStatuses ?? []), ...((pod.status as Rec)?.ephemeralContainerStatuses ?? [])];
		for (const [init, list] of [[true, spec.initContainers ?? []], [false, spec.containers ?? []], [false, spec.ephemeralContainers ?? []]] as const) {
			for (const c of list as Rec[]) {
				// After an engine restart the processes are gone: a container that was running is lost, as the
				// kubelet reports a container it cannot find (ContainerStatusUnknown, 137), and restarts per policy.
				const previous = statuses.find(s => s.name === c.name);
				const lost = previous?.state?.running && !ctx.simulated
					? {exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the engine restarted. The container used to be Running', startedAt: previous.state.running.startedAt ?? now, finishedAt: now, ranMs: 0}
					: undefined;
				this.settling ||= !!lost;
				this.containers.set(c.name, {
					...newContainerRecord(c.name, init), restartCount: previous?.restartCount ?? 0,
					terminated: lost ?? (previous?.state?.terminated ? {...previous.state.terminated, ranMs: 0} : undefined),
					lastTerminated: previous?.lastState?.terminated,
				});
			}
		}
		this.podIP = (pod.status as Rec)?.podIP;
	}

	/** Containers were lost with the last engine: their status must be told before anyone reads it. */
	private settling = false;

	/** Write the settled status of lost containers (engine start, before the API serves). */
	async settle(): Promise<void> {
		if (!this.settling) return;
		this.settling = false;
		await this.writeStatus().catch(() => {});
	}

	update(pod: KubeObject): void {
		const previous = this.pod;
		this.pod = pod;
		// The echo of our own status write (same spec generation, same deletion state, the status we
		// wrote) needs no sync: skipping it halves the kubelet's work per pod in a burst.
		if (this.lastStatus && pod.metadata.generation === previous.metadata.generation && pod.metadata.deletionTimestamp === previous.metadata.deletionTimestamp
			&& ephemeralCount(pod) === ephemeralCount(previous) && deepEqual(pod.status, this.lastStatus)) return;
		this.requestSync();
	}

	/** The pod object is gone from the store: stop everything and clean up. */
	remove(): void {
		this.removed = true;
		this.requestSync();
	}

	requestSync(): void {
		if (this.syncing) {
			this.again = true;
			return;
		}
		this.syncing = true;
		void (async () => {
			do {
				this.again = false;
				try {
					await this.sync();
				} catch (error) {
					if (!(error instanceof StatusError && (error.code === 404 || error.code === 409))) this.ctx.log(`kubelet: pod ${this.key}: ${(error as Error).message}`);
					if (error instanceof StatusError && error.code === 409) this.again = true;
				}
			} while (this.again && !this.finished);
			this.syncing = false;
		})();
	}

	get key(): string {
		return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
	}

	private get simulated(): boolean {
		return this.ctx.simulated;
	}

	private async sync(): Promise<void> {
		if (this.finished) return;
		const pod = this.pod;
		const spec = pod.spec as Rec;
		if (this.removed || pod.metadata.deletionTimestamp) {
			const grace = pod.metadata.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
			await this.killAll(this.removed ? Math.min(grace, 2) : grace, 'Stopping container');
			if (!this.removed) {
				await this.writeStatus();
				await this.ctx.registry.delete(podType, pod.metadata.namespace, pod.metadata.name!, {gracePeriodSeconds: 0, preconditions: {uid: pod.metadata.uid}}).catch(() => {});
			}
			this.cleanup();
			return;
		}
		this.podIP ??= this.ctx.allocateIP(pod.metadata.uid!);
		if (!this.simulated && !this.volumes) {
			try {
				this.volumes = this.preparePod();
				if (!this.ctx.sandboxed && ((spec.volumes ?? []) as Rec[]).length > 0) {
					await this.warnOnce('VolumesNotMounted', 'bubblewrap (bwrap) is not installed, so volumes are not mounted at their mountPath; each mount\'s host directory is in a KUBEDECK_MOUNT_<PATH> environment variable. Install the "bubblewrap" package to mount them in place.');
				}
			} catch (error) {
				if (!(error instanceof ContainerConfigError)) throw error;
				for (const rec of this.containers.values()) rec.waiting = {reason: 'ContainerCreating', message: error.message};
				await this.warnOnce(`FailedMount:${error.message}`, `MountVolume.SetUp failed: ${error.message}`, 'FailedMount');
				await this.writeStatus();
				this.retry(5_000);
				return;
			}
		}
		const policy = spec.restartPolicy ?? 'Always';
		let initDone = true;
		for (const c of (spec.initContainers ?? []) as Rec[]) {
			const rec = this.containers.get(c.name)!;
			if (rec.terminated?.exitCode === 0 && !rec.running) continue;
			initDone = false;
			if (!rec.running) await this.ensureRunning(c, rec, policy === 'Always' ? 'OnFailure' : policy);
			break;
		}
		if (initDone) for (const c of (spec.containers ?? []) as Rec[]) await this.ensureRunning(c, this.containers.get(c.name)!, policy);
		// Ephemeral containers (kubectl debug) start once each in a running pod, and are never restarted.
		for (const c of (spec.ephemeralContainers ?? []) as Rec[]) {
			let rec = this.containers.get(c.name);
			if (!rec) {
				rec = newContainerRecord(c.name);
				this.containers.set(c.name, rec);
			}
			if (!rec.running && !rec.terminated && initDone) await this.ensureRunning(c, rec, 'Never');
		}
		await this.writeStatus();
	}

	/**
	 * The pod's directory and working directory (owned by its own group where
	 * the engine is root): made by the shim before each container starts.
	 */
	private podDirs(): DirSpec[] {
		const group = process.getuid?.() === 0 ? podId(this.podIP!) : undefined;
		const user = podUser(this.pod, this.podIP!);
		return [
			{path: this.paths.dir, mode: 0o750, owner: group !== undefined ? {uid: 0, gid: group} : undefined},
			{path: this.paths.work, mode: 0o770, owner: group !== undefined ? {uid: user.uid, gid: group} : undefined},
		];
	}

	/** The pod's volumes (and, for them, its directory). */
	private preparePod(): Map<string, Volume> {
		const {pod, paths} = this;
		const volumes = (pod.spec as Rec).volumes ?? [];
		if (volumes.length === 0) return new Map();
		const [dir] = this.podDirs();
		makeDir(dir.path, dir.mode, dir.owner);
		const sc = ((pod.spec as Rec).securityContext ?? {}) as Rec;
		const root = process.getuid?.() === 0;
		const volumeContext: VolumeContext = {
			store: this.ctx.store, pod, paths, podGroup: root ? podId(this.podIP!) : undefined, podOwner: root ? podUser(pod, this.podIP!) : undefined,
			fsGroup: sc.fsGroup, protectedPaths: this.ctx.protectedPaths, storageRoot: this.ctx.storageRoot,
			serviceAccountToken: this.ctx.serviceAccountToken, podIP: this.podIP,
		};
		const prepared = prepareVolumes(volumeContext);
		this.refreshTokensLater(volumeContext, prepared);
		return prepared;
	}

	/** Write the projected tokens again before they expire, for as long as the pod runs. */
	private refreshTokensLater(volumeContext: VolumeContext, volumes: Map<string, Volume>): void {
		const seconds = tokenRefreshSeconds(this.pod);
		if (seconds === undefined) return;
		this.tokenTimer?.cancel();
		this.tokenTimer = this.ctx.clock.setTimeout(() => {
			if (this.finished) return;
			try {
				refreshTokens(volumeContext, volumes);
			} catch (error) {
				// The ServiceAccount is gone (or the volume): the old token lives out its life, as the kubelet's does.
				void this.ctx.events.record(this.pod, 'Warning', 'FailedMount', `MountVolume.SetUp failed: cannot refresh the ServiceAccount token: ${(error as Error).message}`, 'kubelet');
			}
			this.refreshTokensLater(volumeContext, volumes);
		}, seconds * 1000);
	}

	/** Say once that this pod is not sandboxed, and what it can therefore reach. */
	private names?: SandboxMount[];
	/**
	 * /etc/resolv.conf and /etc/hosts for a sandboxed pod, as the kubelet writes them: the cluster
	 * DNS server (when it listens on port 53, which resolv.conf cannot avoid naming), the search list
	 * of the pod's namespace, its own hostname. Without a sandbox the host's files stay.
	 */
	private nameFiles(): SandboxMount[] {
		if (this.names) return this.names;
		const dns = this.ctx.dns;
		if (!this.ctx.sandboxed || !dns || dns.port !== 53) return (this.names = []);
		const dir = path.join(this.paths.dir, 'etc');
		fs.mkdirSync(dir, {recursive: true, mode: 0o755});
		const mounts: SandboxMount[] = [];
		const resolv = resolvConf(this.pod, dns.ip);
		if (resolv) {
			fs.writeFileSync(path.join(dir, 'resolv.conf'), resolv, {mode: 0o644});
			mounts.push({source: path.join(dir, 'resolv.conf'), target: '/etc/resolv.conf', readOnly: true});
		}
		fs.writeFileSync(path.join(dir, 'hosts'), hostsFile(this.pod, this.podIP!), {mode: 0o644});
		mounts.push({source: path.join(dir, 'hosts'), target: '/etc/hosts', readOnly: true});
		return (this.names = mounts);
	}

	private async warnNotIsolated(identity: ContainerIdentity): Promise<void> {
		if (this.ctx.sandboxed) return;
		const reachesState = !identity.real || identity.uid === 0;
		const who = identity.real ? `uid ${identity.uid}` : `the engine's own user (uid ${identity.uid})`;
		await this.warnOnce('NotIsolated', reachesState
			? `bubblewrap (bwrap) is not installed: this pod runs on the host as ${who} and can read what that user can, including kubedeck's state directory, its secrets key and other pods' files. Install the "bubblewrap" package to isolate it.`
			: `bubblewrap (bwrap) is not installed: this pod runs on the host's filesystem as ${who}, seeing whatever that uid may read there (not kubedeck's state directory or other pods' files). Install the "bubblewrap" package to give it a private view of the host.`);
	}

	private retry(ms: number): void {
		this.retryTimer?.cancel();
		this.retryTimer = this.ctx.clock.setTimeout(() => this.requestSync(), ms);
	}

	private async warnOnce(key: string, message: string, reason = key): Promise<void> {
		if (this.warned.has(key)) return;
		this.warned.add(key);
		await this.ctx.events.record(this.pod, 'Warning', reason, message, 'kubelet');
	}

	private async ensureRunning(c: Rec, rec: ContainerRecord, policy: string): Promise<void> {
		if (rec.running || rec.killing) return;
		const now = this.ctx.clock.now();
		if (rec.terminated) {
			if (!willRestart(policy, rec.terminated)) return;
			if (rec.backoffUntil !== undefined && now < rec.backoffUntil) {
				const seconds = Math.round((rec.backoffMs ?? 0) / 1000);
				rec.waiting = {reason: 'CrashLoopBackOff', message: `back-off ${seconds}s restarting failed container=${c.name} pod=${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.pod.metadata.uid})`};
				this.retry(rec.backoffUntil - now);
				return;
			}
		}
		if (this.simulated) {
			rec.running = {pid: 0, startedAt: now, exited: new Promise(() => {}), signal: () => {}, attach: () => {
				throw new Error(`container ${c.name} is simulated: it has no process to attach to`);
			}};
			rec.waiting = undefined;
			rec.ready = true;
			rec.started = true;
			return;
		}
		const resolution = resolveImage(c, this.ctx.images, this.ctx.imagesDir);
		if ('notRunnable' in resolution) {
			rec.waiting = {reason: 'ImageNotRunnable', message: resolution.notRunnable};
			await this.warnOnce(`image:${c.name}`, `Failed to run image "${c.image}": ${resolution.notRunnable}`, 'Failed');
			this.retry(15_000);
			return;
		}
		let launch: LaunchSpec;
		let env: Record<string, string>;
		try {
			const identity = containerIdentity(this.pod, c, this.podIP!);
			// Containers of a pod share its working directory, as they share volumes. The env is needed for
			// subPathExpr; without a sandbox it also names each mount's host directory.
			const envContext = {store: this.ctx.store, pod: this.pod, podIP: this.podIP!, nodeName: this.ctx.nodeName, cwd: this.paths.work, mounts: [], sandboxed: this.ctx.sandboxed};
			env = containerEnv(c, envContext);
			const mounts = [...this.nameFiles(), ...containerMounts(c, this.volumes ?? new Map(), env)];
			if (!this.ctx.sandboxed && mounts.length) env = containerEnv(c, {...envContext, mounts});
			launch = {argv: resolution.argv, identity, mounts, work: this.paths.work, tmp: path.join(this.paths.tmp, c.name), hostname: podHostname(this.pod), readOnlyPaths: this.ctx.readOnlyPaths, sandboxed: this.ctx.sandboxed};
			await this.warnNotIsolated(identity);
		} catch (error) {
			if (!(error instanceof ContainerConfigError)) throw error;
			rec.waiting = {reason: 'CreateContainerConfigError', message: error.message};
			await this.warnOnce(`config:${c.name}:${error.message}`, `Error: ${error.message}`, 'Failed');
			this.retry(5_000);
			return;
		}
		if (rec.terminated) {
			rec.lastTerminated = rec.terminated;
			rec.terminated = undefined;
			rec.restartCount++;
		}
		rec.env = env;
		rec.waiting = {reason: 'ContainerCreating'};
		this.pruneLogs(c.name, rec.restartCount);
		const file = logFile(this.logDir, c.name, rec.restartCount);
		let running: RunningContainer;
		if (!findProgram(hostPathOf(resolution.argv[0], launch.mounts), (env.PATH ?? '').split(':').map(dir => hostPathOf(dir, launch.mounts)).join(':'))) {
			// As the runtime reports it (a wrapper such as bwrap would otherwise only say so in the log).
			running = await this.ctx.runtime.start({argv: resolution.argv, env, cwd: this.paths.work, logFile: file, sandboxed: false, ...inputOf(c)});
		} else {
			const dirs = this.podDirs();
			if (this.ctx.sandboxed) dirs.push({path: launch.tmp, mode: 0o700, owner: {uid: launch.identity.uid, gid: launch.identity.gid}, fresh: true});
			const limit = c.resources?.limits?.memory;
			const cgroup = this.ctx.cgroups?.container(this.pod.metadata.uid!, c.name, limit !== undefined ? parseQuantity(limit) : undefined);
			running = await this.ctx.runtime.start({argv: containerArgv(c.tty ? onTerminal(launch) : launch, cgroup), env, cwd: this.paths.work, logFile: file, dirs, cgroup, sandboxed: this.ctx.sandboxed, ...inputOf(c)});
		}
		this.launches.set(c.name, launch);
		rec.waiting = undefined;
		rec.running = running;
		rec.ready = false;
		rec.started = false;
		this.ctx.ledger.add(running.pid, launch.identity.exclusive ? launch.identity.uid : undefined);
		void running.exited.then(status => this.onExit(c, rec, running, status.exitCode, status.signal, status.startError, status.oomKilled));
		// Events are best effort: a container's start does not wait for its event to be stored.
		void this.ctx.events.record(this.pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
		this.startProbes(c, rec, running);
	}

	/** Keep the current instance's log and the one before it (what `logs -p` reads); older ones go. */
	private pruneLogs(container: string, current: number): void {
		for (let n = current - 2; n >= 0; n--) {
			const old = logFile(this.logDir, container, n);
			if (!fs.existsSync(old) && !fs.existsSync(`${old}.1`)) break;
			fs.rmSync(old, {force: true});
			fs.rmSync(`${old}.1`, {force: true});
		}
	}

	private onExit(c: Rec, rec: ContainerRecord, instance: RunningContainer, exitCode: number, signal?: string, startError?: string, kernelOom?: boolean): void {
		this.ctx.ledger.remove(instance.pid);
		this.endExecs(c.name);
		if (rec.running !== instance) return;
		for (const t of rec.probeTimers.splice(0)) t.cancel();
		const now = this.ctx.clock.now();
		const ranMs = now - instance.startedAt;
		const oom = this.ctx.oomKilled.delete(instance.pid) || !!kernelOom;
		rec.running = undefined;
		rec.ready = false;
		rec.terminated = {
			exitCode: oom ? 137 : exitCode, reason: oom ? 'OOMKilled' : startError ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error',
			...(signal ? {signal: {SIGKILL: 9, SIGTERM: 15, SIGINT: 2}[signal] ?? 0} : {}), ...(startError ? {message: startError} : {}),
			startedAt: isoTime(instance.startedAt), finishedAt: isoTime(now), ranMs,
		};
		const n = rec.restartCount;
		const delay = ranMs >= backoffResetMs || n === 0 ? 0 : Math.min(backoffMaxMs, backoffBaseMs * 2 ** (n - 1));
		rec.backoffUntil = now + delay;
		rec.backoffMs = delay;
		if (delay > 0 && !this.pod.metadata.deletionTimestamp && willRestart((this.pod.spec as Rec).restartPolicy ?? 'Always', rec.terminated)) {
			void this.ctx.events.record(this.pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.pod.metadata.uid})`, 'kubelet');
		}
		this.requestSync();
	}

	private startProbes(c: Rec, rec: ContainerRecord, instance: RunningContainer): void {
		const ports = Object.fromEntries(((c.ports ?? []) as Rec[]).filter(p => p.name).map(p => [p.name, p.containerPort]));
		const target = () => ({podIP: this.podIP!, ports, exec: (command: string[]) => this.execSpec(c.name, command)});
		if (!c.readinessProbe) rec.ready = !c.startupProbe;
		if (!c.startupProbe) rec.started = true;
		const schedule = (kind: 'startupProbe' | 'livenessProbe' | 'readinessProbe', delayMs: number) => {
			const probe = c[kind];
			if (!probe) return;
			rec.probeTimers.push(this.ctx.clock.setTimeout(async () => {
				if (rec.running !== instance) return;
				if (kind !== 'startupProbe' && !rec.started) return schedule(kind, (probe.periodSeconds ?? 10) * 1000);
				const result = await runProbe(probe, target());
				if (rec.running !== instance) return;
				const counts = rec.probeCounts[kind] ??= {fail: 0, ok: 0};
				if (result.ok) {
					counts.ok++;
					counts.fail = 0;
				} else {
					counts.fail++;
					counts.ok = 0;
				}
				const label = {startupProbe: 'Startup', livenessProbe: 'Liveness', readinessProbe: 'Readiness'}[kind];
				if (!result.ok) await this.ctx.events.record(this.pod, 'Warning', 'Unhealthy', `${label} probe failed: ${result.message}`, 'kubelet');
				if (kind === 'startupProbe') {
					if (result.ok && counts.ok >= (probe.successThreshold ?? 1)) {
						rec.started = true;
						if (!c.readinessProbe) rec.ready = true;
						this.requestSync();
						schedule('livenessProbe', (c.livenessProbe?.initialDelaySeconds ?? 0) * 1000);
						schedule('readinessProbe', (c.readinessProbe?.initialDelaySeconds ?? 0) * 1000);
						return;
					}
				} else if (kind === 'readinessProbe') {
					const ready = result.ok ? counts.ok >= (probe.successThreshold ?? 1) || rec.ready : counts.fail < (probe.failureThreshold ?? 3) && rec.ready;
					if (ready !== rec.ready) {
						rec.ready = ready;
						this.requestSync();
					}
				}
				if (!result.ok && counts.fail >= (probe.failureThreshold ?? 3) && kind !== 'readinessProbe') {
					await this.ctx.events.record(this.pod, 'Normal', 'Killing', `Container ${c.name} failed ${kind === 'livenessProbe' ? 'liveness' : 'startup'} probe, will be restarted`, 'kubelet');
					await this.kill(rec, (this.pod.spec as Rec).terminationGracePeriodSeconds ?? 30);
					// The exit's own sync ran while the kill was still in progress, which holds the restart back.
					this.requestSync();
					return;
				}
				schedule(kind, (probe.periodSeconds ?? 10) * 1000);
			}, delayMs));
		};
		if (c.startupProbe) schedule('startupProbe', (c.startupProbe.initialDelaySeconds ?? 0) * 1000);
		else {
			schedule('livenessProbe', (c.livenessProbe?.initialDelaySeconds ?? 0) * 1000);
			schedule('readinessProbe', (c.readinessProbe?.initialDelaySeconds ?? 0) * 1000);
		}
	}

	/** SIGTERM the container's process group, SIGKILL after the grace period. */
	private kill(rec: ContainerRecord, graceSeconds: number): Promise<void> {
		const instance = rec.running;
		if (!instance) return Promise.resolve();
		if (this.simulated) {
			rec.running = undefined;
			return Promise.resolve();
		}
		return rec.killing ??= (async () => {
			instance.signal('SIGTERM');
			const timer = this.ctx.clock.setTimeout(() => instance.signal('SIGKILL'), graceSeconds * 1000);
			await instance.exited;
			timer.cancel();
			// Whatever the leader left in its group goes too.
			instance.signal('SIGKILL');
			rec.killing = undefined;
		})();
	}

	private async killAll(graceSeconds: number, reason: string): Promise<void> {
		const running = [...this.containers.values()].filter(r => r.running);
		if (running.length && !this.removed && !this.simulated) {
			for (const r of running) await this.ctx.events.record(this.pod, 'Normal', 'Killing', `${reason} ${r.name}`, 'kubelet');
		}
		await Promise.all(running.map(r => this.kill(r, graceSeconds)));
		for (const r of this.containers.values()) for (const t of r.probeTimers.splice(0)) t.cancel();
	}

	/** A container of the pod (init, regular or ephemeral) with its record; throws, in the kubelet's words, for a name that is none. */
	private containerNamed(containerName: string): {container: Rec; rec: ContainerRecord} {
		const container = allContainers(this.pod.spec as Rec).find(c => c.name === containerName);
		const rec = this.containers.get(containerName);
		if (!container || !rec) throw new Error(`container ${containerName} is not valid for pod ${this.pod.metadata.name}`);
		return {container, rec};
	}

	/**
	 * How to run a command in a running container (exec, the dashboard's
	 * shell, exec probes): inside its sandbox, as its identity, with its
	 * environment, in its cgroups. The caller starts it and registers it with
	 * trackExec, so it ends with the container.
	 */
	execSpec(containerName: string, command: string[], tty = false): {argv: string[]; env: Record<string, string>; cwd: string} {
		const {rec} = this.containerNamed(containerName);
		const launch = this.launches.get(containerName);
		if (!rec.running || this.simulated || !launch) throw new Error(`container ${containerName} is not running`);
		return {argv: execArgv({...launch, argv: command}, rec.running.pid, rec.running.cgroup, tty), env: rec.env ?? {}, cwd: this.paths.work};
	}

	/** The running instance of a container, for an attach (its output from now on, and its input); throws when it is not running. */
	attachTo(containerName: string): {running: RunningContainer; stdin: boolean; tty: boolean} {
		const {container, rec} = this.containerNamed(containerName);
		if (!rec.running) throw new Error(`container ${containerName} is not running`);
		return {running: rec.running, stdin: !!container.stdin, tty: !!container.tty};
	}

	/** A process exec'd into the container: `kill` ends it when the container stops. Returns the untrack function. */
	trackExec(containerName: string, kill: () => void): () => void {
		const set = this.execs.get(containerName) ?? new Set();
		this.execs.set(containerName, set);
		set.add(kill);
		return () => set.delete(kill);
	}

	private endExecs(containerName: string): void {
		for (const kill of this.execs.get(containerName) ?? []) kill();
		this.execs.delete(containerName);
	}

	/** Running containers with their process group and memory limit, for the metrics loop. */
	runningContainers(): {name: string; pgid: number; memoryLimit?: number; kernelLimited: boolean}[] {
		if (this.simulated) return [];
		const spec = this.pod.spec as Rec;
		return [...this.containers.values()].filter(r => r.running && r.running.pid > 0).map(r => {
			const c = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].find((x: Rec) => x.name === r.name);
			const limit = c?.resources?.limits?.memory;
			return {name: r.name, pgid: r.running!.pid, memoryLimit: limit !== undefined ? parseQuantity(limit) : undefined, kernelLimited: !!r.running!.cgroup?.memory};
		});
	}

	/** The container went over its memory limit: kill it, recording OOMKilled (the cgroup OOM killer's verdict). */
	oomKill(name: string): void {
		const rec = this.containers.get(name);
		if (!rec?.running) return;
		this.ctx.oomKilled.add(rec.running.pid);
		void this.ctx.events.record(this.pod, 'Warning', 'OOMKilling', `Memory cgroup out of memory: Killed process ${rec.running.pid} (container ${name})`, 'kubelet');
		rec.running.signal('SIGKILL');
	}

	/**
	 * Engine shutdown: stop the processes, keep the pod and its files on disk.
	 * Its in-memory files (Secret volumes) go: the next engine writes them again.
	 */
	async shutdown(graceSeconds: number): Promise<void> {
		this.finished = true;
		this.retryTimer?.cancel();
		this.tokenTimer?.cancel();
		await Promise.all([...this.containers.values()].map(r => this.kill(r, graceSeconds)));
		for (const r of this.containers.values()) for (const t of r.probeTimers.splice(0)) t.cancel();
		this.releaseProcesses();
		fs.rmSync(this.paths.memory, {recursive: true, force: true});
	}

	/** Whatever is left of the pod's processes: its cgroups, and (without cgroups) everything of its own uid. */
	private releaseProcesses(): void {
		if (this.simulated) return;
		for (const name of this.containers.keys()) this.endExecs(name);
		if (this.ctx.cgroups) this.ctx.cgroups.removePod(this.pod.metadata.uid!);
		else if (this.podIP && process.getuid?.() === 0) killUser(podId(this.podIP));
	}

	private cleanup(): void {
		this.finished = true;
		this.retryTimer?.cancel();
		this.tokenTimer?.cancel();
		this.releaseProcesses();
		if (this.podIP) this.ctx.releaseIP(this.pod.metadata.uid!);
		fs.rmSync(this.logDir, {recursive: true, force: true});
		fs.rmSync(this.paths.dir, {recursive: true, force: true});
		fs.rmSync(this.paths.memory, {recursive: true, force: true});
		this.ctx.forget(this.pod.metadata.uid!);
	}

	private async writeStatus(): Promise<void> {
		const status = podStatusFor(this.pod, this.containers, this.podIP, isoTime(this.ctx.clock.now()));
		if (this.lastStatus && deepEqual(this.lastStatus, status)) return;
		const current = this.ctx.store.peek('pods', this.pod.metadata.namespace!, this.pod.metadata.name!);
		if (!current || current.metadata.uid !== this.pod.metadata.uid) return;
		// Known before the write commits, so its echo (published before the write resolves) is recognised in update().
		const previous = this.lastStatus;
		this.lastStatus = status;
		try {
			await this.ctx.registry.update(podType, current.metadata.namespace, current.metadata.name!, {...current, status, metadata: {...current.metadata, resourceVersion: ''}}, {subresource: 'status'});
		} catch (error) {
			this.lastStatus = previous;
			throw error;
		}
	}
}

/** A container's input as its spec asks for it: a stdin pipe, a terminal (see shim.ts). */
function inputOf(c: Rec): {stdin: boolean; stdinOnce: boolean; tty: boolean} {
	return {stdin: !!c.stdin, stdinOnce: !!c.stdinOnce, tty: !!c.tty};
}

/** Every container of a pod spec: init, regular and ephemeral. */
function allContainers(spec: Rec): Rec[] {
	return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

const ephemeralCount = (pod: KubeObject) => ((pod.spec as Rec)?.ephemeralContainers ?? []).length;
