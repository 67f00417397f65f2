// The process runtime: a container is a host process in its own process
// group (so a signal reaches everything it started), its output piped into
// the kubelet's log writer. node's child_process is used directly rather than
// execa: we need raw control of process groups and the output streams, and
// none of execa's conveniences (promises, buffering) apply to long-lived
// containers.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {LogWriter} from './logs.js';

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

export function startContainer(spec: ContainerSpec, now: () => number): RunningContainer {
	fs.mkdirSync(spec.cwd, {recursive: true});
	const log = new LogWriter(spec.logFile, now);
	const child = spawn(spec.argv[0], spec.argv.slice(1), {cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe']});
	child.stdout!.on('data', chunk => log.write('stdout', chunk));
	child.stderr!.on('data', chunk => log.write('stderr', chunk));
	let startError: string | undefined;
	const exited = new Promise<ExitStatus>(resolve => {
		child.once('error', error => {
			startError = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `exec: "${spec.argv[0]}": executable file not found in $PATH` : error.message;
			if (child.pid === undefined) {
				log.write('stderr', `${startError}\n`);
				log.close();
				resolve({exitCode: 128, startError});
			}
		});
		child.once('close', (code, signal) => {
			log.close();
			resolve({exitCode: code ?? (signal ? 128 + (osSignals[signal] ?? 0) : 0), signal: signal ?? undefined, startError});
		});
	});
	return {
		pid: child.pid ?? -1,
		startedAt: now(),
		exited,
		signal(sig) {
			if (child.pid === undefined) return;
			try {
				process.kill(-child.pid, sig);
			} catch {}
		},
	};
}

const osSignals: Record<string, number> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15};

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

	add(pid: number): void {
		const start = processStartTime(pid);
		if (start) this.entries.set(pid, start);
		this.save();
	}

	remove(pid: number): void {
		if (this.entries.delete(pid)) this.save();
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
