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
import {isoTime} from '../clock.js';
import {resolveImage} from './images.js';
import {logFile} from './logs.js';
import {ContainerConfigError, containerEnv, memoryDir, prepareVolumes} from './environment.js';
import {runProbe} from './probes.js';
import type {RunningContainer} from './runtime.js';
import {type ContainerRecord, podStatusFor, willRestart} from './pod-status.js';
import type {KubeletContext} from './kubelet.js';

type Rec = Record<string, any>;
const podType = typeByPlural('pods')!;

export const backoffBaseMs = 10_000;
export const backoffMaxMs = 300_000;
/** A container that ran this long before exiting starts its backoff over. */
export const backoffResetMs = 600_000;

export class PodWorker {
	private readonly containers = new Map<string, ContainerRecord>();
	private syncing = false;
	private again = false;
	private removed = false;
	private finished = false;
	podIP?: string;
	private volumes?: Map<string, string>;
	private lastStatus?: Rec;
	private retryTimer?: {cancel(): void};
	private readonly warned = new Set<string>();
	readonly podDir: string;

	constructor(private readonly ctx: KubeletContext, public pod: KubeObject) {
		this.podDir = path.join(ctx.home, 'pods', `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
		const spec = pod.spec as Rec;
		const statuses: Rec[] = [...((pod.status as Rec)?.initContainerStatuses ?? []), ...((pod.status as Rec)?.containerStatuses ?? [])];
		for (const [init, list] of [[true, spec.initContainers ?? []], [false, spec.containers ?? []]] as const) {
			for (const c of list as Rec[]) {
				// After an engine restart the processes are gone: count the lost instance as a restart.
				const previous = statuses.find(s => s.name === c.name);
				const wasRunning = !!previous?.state?.running;
				this.containers.set(c.name, {
					name: c.name, init, restartCount: (previous?.restartCount ?? 0) + (wasRunning ? 1 : 0),
					terminated: previous?.state?.terminated ? {...previous.state.terminated, ranMs: 0} : undefined,
					lastTerminated: previous?.lastState?.terminated, ready: false, started: false, probeTimers: [], probeCounts: {},
				});
			}
		}
		this.podIP = (pod.status as Rec)?.podIP;
	}

	update(pod: KubeObject): void {
		const previous = this.pod;
		this.pod = pod;
		// The echo of our own status write (same spec generation, same deletion state, the status we
		// wrote) needs no sync: skipping it halves the kubelet's work per pod in a burst.
		if (this.lastStatus && pod.metadata.generation === previous.metadata.generation && pod.metadata.deletionTimestamp === previous.metadata.deletionTimestamp
			&& deepEqual(pod.status, this.lastStatus)) return;
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
				this.volumes = prepareVolumes(pod, this.podDir, this.ctx.store);
				if (!this.ctx.mountsInPlace && ((spec.volumes ?? []) as Rec[]).length > 0) {
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
		await this.writeStatus();
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
			rec.running = {pid: 0, startedAt: now, exited: new Promise(() => {}), signal: () => {}};
			rec.waiting = undefined;
			rec.ready = true;
			rec.started = true;
			return;
		}
		const resolution = resolveImage(c, this.ctx.images);
		if ('notRunnable' in resolution) {
			rec.waiting = {reason: 'ImageNotRunnable', message: resolution.notRunnable};
			await this.warnOnce(`image:${c.name}`, `Failed to run image "${c.image}": ${resolution.notRunnable}`, 'Failed');
			this.retry(15_000);
			return;
		}
		// Containers of a pod share its directory as their working directory, as they share volumes.
		const cwd = this.podDir;
		let env: Record<string, string>;
		try {
			env = containerEnv(c, {store: this.ctx.store, pod: this.pod, podIP: this.podIP!, nodeName: this.ctx.nodeName, cwd, volumes: this.volumes ?? new Map(), mountsInPlace: this.ctx.mountsInPlace});
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
		rec.waiting = undefined;
		rec.env = env;
		rec.waiting = {reason: 'ContainerCreating'};
		const running = await this.ctx.runtime.start({argv: this.ctx.wrap(resolution.argv, this.pod, c, this.volumes ?? new Map(), cwd), env, cwd, logFile: logFile(this.podDir, c.name, rec.restartCount)});
		rec.waiting = undefined;
		rec.running = running;
		rec.ready = false;
		rec.started = false;
		this.ctx.ledger.add(running.pid);
		void running.exited.then(status => this.onExit(c, rec, running, status.exitCode, status.signal, status.startError));
		// Events are best effort: a container's start does not wait for its event to be stored.
		void this.ctx.events.record(this.pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
		this.startProbes(c, rec, running);
	}

	private onExit(c: Rec, rec: ContainerRecord, instance: RunningContainer, exitCode: number, signal?: string, startError?: string): void {
		this.ctx.ledger.remove(instance.pid);
		if (rec.running !== instance) return;
		for (const t of rec.probeTimers.splice(0)) t.cancel();
		const now = this.ctx.clock.now();
		const ranMs = now - instance.startedAt;
		const oom = this.ctx.oomKilled.delete(instance.pid);
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
		const target = () => ({podIP: this.podIP!, env: rec.env ?? {}, cwd: this.podDir, ports});
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

	/**
	 * How to run a command "in" a running container: its environment, working
	 * directory and mounts (for `kubedeck exec`).
	 */
	execSpec(containerName: string, command: string[]): {argv: string[]; env: Record<string, string>; cwd: string} {
		const spec = this.pod.spec as Rec;
		const container = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].find((c: Rec) => c.name === containerName);
		const rec = this.containers.get(containerName);
		if (!container || !rec) throw new Error(`container ${containerName} is not valid for pod ${this.pod.metadata.name}`);
		if (!rec.running || this.simulated) throw new Error(`container ${containerName} is not running`);
		return {argv: this.ctx.wrap(command, this.pod, container, this.volumes ?? new Map(), this.podDir), env: rec.env ?? {}, cwd: this.podDir};
	}

	/** Running containers with their process group and memory limit, for the metrics loop. */
	runningContainers(): {name: string; pgid: number; memoryLimit?: number}[] {
		if (this.simulated) return [];
		const spec = this.pod.spec as Rec;
		return [...this.containers.values()].filter(r => r.running && r.running.pid > 0).map(r => {
			const c = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].find((x: Rec) => x.name === r.name);
			const limit = c?.resources?.limits?.memory;
			return {name: r.name, pgid: r.running!.pid, memoryLimit: limit !== undefined ? parseQuantity(limit) : undefined};
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

	/** Engine shutdown: stop the processes, keep the pod and its files. */
	async shutdown(graceSeconds: number): Promise<void> {
		this.finished = true;
		this.retryTimer?.cancel();
		await Promise.all([...this.containers.values()].map(r => this.kill(r, graceSeconds)));
		for (const r of this.containers.values()) for (const t of r.probeTimers.splice(0)) t.cancel();
	}

	private cleanup(): void {
		this.finished = true;
		this.retryTimer?.cancel();
		if (this.podIP) this.ctx.releaseIP(this.pod.metadata.uid!);
		fs.rmSync(this.podDir, {recursive: true, force: true});
		fs.rmSync(memoryDir(this.pod), {recursive: true, force: true});
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
