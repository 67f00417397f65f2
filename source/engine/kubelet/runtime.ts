// The process runtime: a container is a host process in its own process
// group (so a signal reaches everything it started), started by the shim,
// which writes its output to the log file. node's child_process is used
// directly rather than execa: we need raw control of process groups and the
// output streams, and none of execa's conveniences (promises, buffering)
// apply to long-lived containers.
import {type ChildProcess, fork} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import type {DirSpec} from '../layout.js';
import {processStartTime} from '../processes.js';
import {type CgroupSet, killSet} from './cgroups.js';
import type {ContainerInput, ShimMessage, ShimRequest} from './shim.js';

const shimPath = fileURLToPath(new URL('./shim.js', import.meta.url));

export interface ContainerSpec extends ContainerInput {
	argv: string[];
	env: Record<string, string>;
	cwd: string;
	logFile: string;
	/** Directories to make before it starts (its working directory, its /tmp). */
	dirs?: DirSpec[];
	/** The container's cgroups, which it is started inside (when the engine has cgroups). */
	cgroup?: CgroupSet;
	/** argv runs bwrap: signals must skip bwrap's own processes. */
	sandboxed: boolean;
}

export interface ExitStatus {
	exitCode: number;
	signal?: string;
	/** The runtime could not start the program at all (ENOENT...). */
	startError?: string;
	/** The kernel's OOM killer killed a process of the container (its memory cgroup says so). */
	oomKilled?: boolean;
}

export interface RunningContainer {
	pid: number;
	startedAt: number;
	exited: Promise<ExitStatus>;
	/** Signal every process of the container (SIGKILL: all at once, through its cgroup where it has one). */
	signal(signal: NodeJS.Signals): void;
	/** Listen to the container's output from now on, and write to its input (see shim.ts). */
	attach(onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void): Attachment;
	cgroup?: CgroupSet;
}

export interface Attachment {
	write(data: Buffer): void;
	closeStdin(): void;
	resize(cols: number, rows: number): void;
	detach(): void;
}

/** Starts containers through the shim process (see shim.ts) and hands back their exits. */
export class ContainerRuntime {
	/** One shim per core, used in turn: forking is the cost of a pod start. */
	private readonly shims: (ChildProcess | undefined)[];
	private turn = 0;
	private nextId = 0;
	private readonly pending = new Map<number, {started: (pid: number, startedAt: number) => void; exited: (status: ExitStatus) => void; pid?: number; cgroup?: CgroupSet}>();

	constructor(shimCount = Math.max(1, Math.min(4, os.availableParallelism()))) {
		this.shims = new Array(shimCount).fill(undefined);
	}

	/** Start every shim now, so the first pods do not wait for a process to boot. */
	warm(): void {
		for (let i = 0; i < this.shims.length; i++) this.ensureShim();
	}

	/**
	 * A shim by turn, or, for a container with a cgroup, always the same shim for that cgroup's path: a
	 * restarted container reuses its path, and only the shim that removes the last instance's cgroup
	 * (retrying while the kernel reaps it) can cancel that removal before making the directory again.
	 */
	private ensureShim(affinity?: string): ChildProcess {
		const slot = affinity === undefined ? this.turn++ % this.shims.length : stableSlot(affinity, this.shims.length);
		const existing = this.shims[slot];
		if (existing && existing.connected) return existing;
		// detached: a session of its own, so a signal to the engine's process group (ctrl-c, kill -- -PGID) leaves it
		// to see the engine go and kill the containers itself.
		const shim = fork(shimPath, [], {stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json', detached: true});
		shim.on('message', (message: ShimMessage) => {
			const waiter = this.pending.get(message.id);
			if (!waiter) return;
			if (message.op === 'output') {
				const data = Buffer.from(message.data, 'base64');
				for (const listener of this.listeners.get(message.id) ?? []) listener(message.stream, data);
			} else if (message.op === 'started') {
				waiter.pid = message.pid;
				waiter.started(message.pid, message.startedAt);
			} else {
				this.listeners.delete(message.id);
				this.pending.delete(message.id);
				waiter.exited({exitCode: message.exitCode, signal: message.signal, startError: message.startError, oomKilled: message.oomKilled});
			}
		});
		shim.on('exit', () => {
			// The shim died (killed on its own): kill what it ran, and report its containers as killed.
			for (const [id, waiter] of this.pending) {
				if (this.owner.get(id) !== shim) continue;
				this.pending.delete(id);
				this.owner.delete(id);
				killDirectly(waiter.pid, waiter.cgroup);
				waiter.exited({exitCode: 137, signal: 'SIGKILL', startError: 'the container shim exited'});
			}
			if (this.shims[slot] === shim) this.shims[slot] = undefined;
		});
		this.shims[slot] = shim;
		return shim;
	}

	/** Which shim runs which container. */
	private readonly owner = new Map<number, ChildProcess>();
	/** The attaches listening to each container's output. */
	private readonly listeners = new Map<number, Set<(stream: 'stdout' | 'stderr', data: Buffer) => void>>();

	private attach(shim: ChildProcess, id: number, onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void): Attachment {
		const tell = (request: ShimRequest) => {
			if (shim.connected) shim.send(request);
		};
		const set = this.listeners.get(id) ?? new Set();
		this.listeners.set(id, set);
		set.add(onOutput);
		tell({op: 'attach', id});
		let attached = true;
		return {
			write: data => tell({op: 'stdin', id, data: data.toString('base64')}),
			closeStdin: () => tell({op: 'closeStdin', id}),
			resize: (cols, rows) => tell({op: 'resize', id, cols, rows}),
			detach: () => {
				if (!attached) return;
				attached = false;
				set.delete(onOutput);
				tell({op: 'detach', id});
			},
		};
	}

	start(spec: ContainerSpec): Promise<RunningContainer> {
		const shim = this.ensureShim(spec.cgroup?.containment);
		const id = this.nextId++;
		return new Promise(resolve => {
			let resolveExit!: (status: ExitStatus) => void;
			const exited = new Promise<ExitStatus>(r => (resolveExit = r));
			this.owner.set(id, shim);
			this.pending.set(id, {
				cgroup: spec.cgroup,
				started: (pid, startedAt) => resolve({
					pid, startedAt, exited, cgroup: spec.cgroup,
					signal(sig) {
						if (pid <= 0) return;
						if (shim.connected) shim.send({op: 'signal', id, signal: sig} satisfies ShimRequest);
						else if (sig === 'SIGKILL') killDirectly(pid, spec.cgroup);
					},
					attach: onOutput => this.attach(shim, id, onOutput),
				}),
				exited: status => {
					this.owner.delete(id);
					resolveExit(status);
				},
			});
			const request: ShimRequest = {op: 'start', id, argv: spec.argv, env: spec.env, cwd: spec.cwd, logFile: spec.logFile, dirs: spec.dirs ?? [], cgroup: spec.cgroup, sandboxed: spec.sandboxed, stdin: spec.stdin, stdinOnce: spec.stdinOnce, tty: spec.tty};
			shim.send(request);
		});
	}

	/** Stop the shims (after the containers are stopped), and wait for them to go. */
	async close(): Promise<void> {
		const shims = this.shims.filter((s): s is ChildProcess => !!s && s.exitCode === null && s.signalCode === null);
		const gone = shims.map(shim => new Promise<void>(resolve => {
			shim.once('exit', () => resolve());
			setTimeout(resolve, 2_000).unref();
		}));
		for (const shim of shims) if (shim.connected) shim.disconnect();
		this.shims.fill(undefined);
		await Promise.all(gone);
	}
}

/** Kill a container without its shim: its cgroup, and its process group. */
function killDirectly(pid: number | undefined, cgroup: CgroupSet | undefined): void {
	if (cgroup) killSet(cgroup);
	if (pid && pid > 0) {
		try {
			process.kill(-pid, 'SIGKILL');
		} catch {}
	}
}

/**
 * Record of the process groups this engine started, so an engine that was
 * killed (-9) can stop what the last one left running before starting
 * anything itself: nothing is duplicated. Where the engine has cgroups their
 * sweep finds everything; the ledger is what hosts without them have: the
 * leader's process group, and every process of a uid that belonged to one
 * pod alone (which no setsid escapes).
 */
export class ProcessLedger {
	private readonly file: string;
	private entries = new Map<number, {start: string; uid?: number}>();

	constructor(home: string) {
		this.file = path.join(home, 'run', 'processes.json');
		fs.mkdirSync(path.dirname(this.file), {recursive: true, mode: 0o700});
	}

	/** Kill every process group left by an earlier engine whose leader is still the process we started. */
	reapLeftovers(): number {
		let killed = 0;
		let previous: Record<string, string | {start: string; uid?: number}> = {};
		try {
			previous = JSON.parse(fs.readFileSync(this.file, 'utf8'));
		} catch {}
		for (const [pid, entry] of Object.entries(previous)) {
			const {start, uid} = typeof entry === 'string' ? {start: entry, uid: undefined} : entry;
			if (uid !== undefined) killed += killUser(uid) > 0 ? 1 : 0;
			if (processStartTime(Number(pid)) !== start) continue;
			try {
				process.kill(-Number(pid), 'SIGKILL');
				killed++;
			} catch {}
		}
		this.save();
		return killed;
	}

	private saveScheduled = false;

	/** @param exclusiveUid the container's uid, when it belongs to its pod alone */
	add(pid: number, exclusiveUid?: number): void {
		const start = processStartTime(pid);
		if (start) this.entries.set(pid, exclusiveUid !== undefined ? {start, uid: exclusiveUid} : {start});
		this.scheduleSave();
	}

	remove(pid: number): void {
		if (this.entries.delete(pid)) this.scheduleSave();
	}

	/** Many starts in one turn of the event loop (a scale-up) share one write of the ledger. */
	private scheduleSave(): void {
		if (this.saveScheduled) return;
		this.saveScheduled = true;
		setImmediate(() => {
			this.saveScheduled = false;
			this.save();
		});
	}

	private save(): void {
		const tmp = `${this.file}.tmp`;
		fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.entries)), {mode: 0o600});
		fs.renameSync(tmp, this.file);
	}
}

/** SIGKILL every process whose real uid is `uid` (a pod's own uid: nothing else runs as it). Returns how many. */
export function killUser(uid: number): number {
	if (uid === 0 || uid === process.getuid?.()) return 0;
	let killed = 0;
	let entries: string[];
	try {
		entries = fs.readdirSync('/proc');
	} catch {
		return 0;
	}
	for (const entry of entries) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
			const real = Number(status.match(/^Uid:\s+(\d+)/m)?.[1]);
			if (real !== uid) continue;
			process.kill(Number(entry), 'SIGKILL');
			killed++;
		} catch {}
	}
	return killed;
}

function stableSlot(key: string, slots: number): number {
	let h = 0;
	for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
	return h % slots;
}
