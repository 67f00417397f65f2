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
import type {ShimMessage, ShimRequest} from './shim.js';

const shimPath = fileURLToPath(new URL('./shim.js', import.meta.url));

export interface ContainerSpec {
	argv: string[];
	env: Record<string, string>;
	cwd: string;
	logFile: string;
}

export interface ExitStatus {
	exitCode: number;
	signal?: string;
	/** The runtime could not start the program at all (ENOENT...). */
	startError?: string;
}

export interface RunningContainer {
	pid: number;
	startedAt: number;
	exited: Promise<ExitStatus>;
	/** Signal the container's whole process group. */
	signal(signal: NodeJS.Signals): void;
}

/** Starts containers through the shim process (see shim.ts) and hands back their exits. */
export class ContainerRuntime {
	/** One shim per core, used in turn: forking is the cost of a pod start. */
	private readonly shims: (ChildProcess | undefined)[];
	private turn = 0;
	private nextId = 0;
	private readonly pending = new Map<number, {started: (pid: number, startedAt: number) => void; exited: (status: ExitStatus) => void}>();

	constructor(shimCount = Math.max(1, Math.min(4, os.availableParallelism()))) {
		this.shims = new Array(shimCount).fill(undefined);
	}

	/** Start every shim now, so the first pods do not wait for a process to boot. */
	warm(): void {
		for (let i = 0; i < this.shims.length; i++) this.ensureShim();
	}

	private ensureShim(): ChildProcess {
		const slot = this.turn++ % this.shims.length;
		const existing = this.shims[slot];
		if (existing && existing.connected) return existing;
		const shim = fork(shimPath, [], {stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json'});
		shim.on('message', (message: ShimMessage) => {
			const waiter = this.pending.get(message.id);
			if (!waiter) return;
			if (message.op === 'started') waiter.started(message.pid, message.startedAt);
			else {
				this.pending.delete(message.id);
				waiter.exited({exitCode: message.exitCode, signal: message.signal, startError: message.startError});
			}
		});
		shim.on('exit', () => {
			// The shim died: its containers died with it. Report them as killed.
			for (const [id, waiter] of this.pending) {
				this.pending.delete(id);
				waiter.exited({exitCode: 137, signal: 'SIGKILL', startError: 'the container shim exited'});
			}
			if (this.shims[slot] === shim) this.shims[slot] = undefined;
		});
		this.shims[slot] = shim;
		return shim;
	}

	start(spec: ContainerSpec): Promise<RunningContainer> {
		const shim = this.ensureShim();
		const id = this.nextId++;
		return new Promise(resolve => {
			let resolveExit!: (status: ExitStatus) => void;
			const exited = new Promise<ExitStatus>(r => (resolveExit = r));
			this.pending.set(id, {
				started: (pid, startedAt) => resolve({
					pid, startedAt, exited,
					signal(sig) {
						if (pid <= 0) return;
						try {
							process.kill(-pid, sig);
						} catch {}
					},
				}),
				exited: status => resolveExit(status),
			});
			const request: ShimRequest = {op: 'start', id, argv: spec.argv, env: spec.env, cwd: spec.cwd, logFile: spec.logFile};
			shim.send(request);
		});
	}

	/** Stop the shim (after the containers are stopped). */
	close(): void {
		for (const shim of this.shims) if (shim?.connected) shim.disconnect();
		this.shims.fill(undefined);
	}
}

/**
 * Record of the process groups this engine started, so an engine that was
 * killed (-9) can stop what the last one left running before starting
 * anything itself: nothing is duplicated.
 */
export class ProcessLedger {
	private readonly file: string;
	private entries = new Map<number, string>();

	constructor(home: string) {
		this.file = path.join(home, 'run', 'processes.json');
		fs.mkdirSync(path.dirname(this.file), {recursive: true, mode: 0o700});
	}

	/** Kill every process group left by an earlier engine whose leader is still the process we started. */
	reapLeftovers(): number {
		let killed = 0;
		let previous: Record<string, string> = {};
		try {
			previous = JSON.parse(fs.readFileSync(this.file, 'utf8'));
		} catch {}
		for (const [pid, startTime] of Object.entries(previous)) {
			if (processStartTime(Number(pid)) !== startTime) continue;
			try {
				process.kill(-Number(pid), 'SIGKILL');
				killed++;
			} catch {}
		}
		this.save();
		return killed;
	}

	private saveScheduled = false;

	add(pid: number): void {
		const start = processStartTime(pid);
		if (start) this.entries.set(pid, start);
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
		fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.entries)));
		fs.renameSync(tmp, this.file);
	}
}

/** The process's start time from /proc (field 22), to tell a recycled pid from ours. */
export function processStartTime(pid: number): string | undefined {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
	} catch {
		return undefined;
	}
}
