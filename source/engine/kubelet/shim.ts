// The container shim (what conmon is to CRI-O): a small helper process that
// starts containers, writes their output to the log files, signals them and
// reports their exits. Forking from this small process is several times
// faster than from the engine, whose larger memory makes every fork()
// slower; and log writing stays off the engine's event loop.
//
// Nothing a container starts outlives it:
// - each container starts inside its own cgroups where the engine has them
//   (its argv enters them first thing: launch.ts), and is killed through them;
// - when a container's main process exits, whatever it left behind (in its
//   cgroup, or its process group) is killed, as a pod's PID namespace dies
//   with its PID 1;
// - the shim runs in a session of its own, so killing the engine's process
//   group does not take the shim with it; when the engine goes away (even
//   kill -9) the IPC channel closes and the shim kills every container.
import {type ChildProcess, spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {type DirSpec, makeDirs} from '../layout.js';
import {type CgroupSet, cgroupPids, createSet, killSet, oomKilled, tryRemoveSet} from './cgroups.js';
import {LogWriter} from './logs.js';

export type ShimRequest =
	| {op: 'start'; id: number; argv: string[]; env: Record<string, string>; cwd: string; logFile: string; dirs: DirSpec[]; cgroup?: CgroupSet; sandboxed: boolean}
	| {op: 'signal'; id: number; signal: NodeJS.Signals};

export type ShimMessage =
	| {op: 'started'; id: number; pid: number; startedAt: number}
	| {op: 'exited'; id: number; exitCode: number; signal?: string; startError?: string; oomKilled?: boolean};

const signals: Record<string, number> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15};

interface Container {
	pid: number;
	cgroup?: CgroupSet;
	sandboxed: boolean;
}

const containers = new Map<number, Container>();
/** Directories known to exist: mkdir is slow enough on some disks to show in pod start times. */
const made = new Set<string>();

function send(message: ShimMessage): void {
	process.send?.(message);
}

/** The pids bwrap itself runs as (its monitor and the namespace's init): signalled, they would end the sandbox at once. */
function bwrapPids(pid: number): Set<number> {
	const own = new Set([pid]);
	try {
		for (const child of fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) if (child) own.add(Number(child));
	} catch {}
	return own;
}

/** Processes in a process group, from /proc (for signals that must skip bwrap's own processes). */
function groupMembers(pgid: number): number[] {
	const out: number[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
			if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) out.push(Number(entry));
		} catch {}
	}
	return out;
}

/** Everything of the container, at once: its cgroup (atomic against forks), and its process group. */
function killContainer(c: Container): void {
	if (c.cgroup) killSet(c.cgroup);
	try {
		process.kill(-c.pid, 'SIGKILL');
	} catch {}
}

/**
 * A signal other than SIGKILL goes to the container's processes, but not to
 * bwrap's: bwrap would die of SIGTERM at once and take the sandbox with it,
 * and the program would get no grace period.
 */
function signalContainer(c: Container, signal: NodeJS.Signals): void {
	if (signal === 'SIGKILL') return killContainer(c);
	if (!c.sandboxed && !c.cgroup) {
		try {
			process.kill(-c.pid, signal);
		} catch {}
		return;
	}
	const skip = c.sandboxed ? bwrapPids(c.pid) : new Set<number>();
	let delivered = 0;
	for (const pid of c.cgroup ? cgroupPids(c.cgroup) : groupMembers(c.pid)) {
		if (skip.has(pid)) continue;
		try {
			process.kill(pid, signal);
			delivered++;
		} catch {}
	}
	// Only bwrap's own processes: the sandbox is still being built and its program has not run. There is
	// nothing to stop gracefully, and a signal now would be lost (the program would start after it).
	if (delivered === 0 && c.sandboxed) killContainer(c);
}

/** Removals still being retried, by the container's cgroup path. */
const pendingRemovals = new Map<string, NodeJS.Timeout>();

/** Remove a container's cgroups once the kernel has reaped its members (a few ms after the kill). */
function removeLater(set: CgroupSet, attempt = 0): void {
	pendingRemovals.delete(set.containment);
	if (tryRemoveSet(set) || attempt > 100) return;
	pendingRemovals.set(set.containment, setTimeout(() => removeLater(set, attempt + 1), 20));
}

/**
 * A restarted container gets the same cgroup path: the last instance's removal, still retrying,
 * would take the new directory away before the program joins it ("cgroup.procs: Directory nonexistent").
 */
function cancelRemoval(set: CgroupSet): void {
	clearTimeout(pendingRemovals.get(set.containment));
	pendingRemovals.delete(set.containment);
}

async function start(req: Extract<ShimRequest, {op: 'start'}>): Promise<void> {
	let log: LogWriter | undefined;
	let child: ChildProcess;
	try {
		// The container's directories and cgroups are made here, not in the engine, and concurrently for
		// containers starting together: on a busy disk a mkdir waits for the journal.
		const logDir = path.dirname(req.logFile);
		if (!made.has(logDir)) {
			await fs.promises.mkdir(logDir, {recursive: true, mode: 0o700});
			made.add(logDir);
			if (made.size > 10_000) made.clear();
		}
		log = new LogWriter(req.logFile, Date.now, {dirExists: true});
		await makeDirs(req.dirs);
		if (req.cgroup) {
			cancelRemoval(req.cgroup);
			await createSet(req.cgroup);
		}
		child = spawn(req.argv[0], req.argv.slice(1), {cwd: req.cwd, env: req.env, detached: true, stdio: ['ignore', 'pipe', 'pipe']});
	} catch (error) {
		log?.write('stderr', `${(error as Error).message}\n`);
		log?.close();
		send({op: 'started', id: req.id, pid: -1, startedAt: Date.now()});
		send({op: 'exited', id: req.id, exitCode: 128, startError: (error as Error).message});
		return;
	}
	let startError: string | undefined;
	let container: Container | undefined;
	child.stdout!.on('data', chunk => log.write('stdout', chunk));
	child.stderr!.on('data', chunk => log.write('stderr', chunk));
	child.once('spawn', () => {
		container = {pid: child.pid!, cgroup: req.cgroup, sandboxed: req.sandboxed};
		containers.set(req.id, container);
		send({op: 'started', id: req.id, pid: child.pid!, startedAt: Date.now()});
	});
	child.once('error', error => {
		startError = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `exec: "${req.argv[0]}": executable file not found in $PATH` : error.message;
		if (child.pid === undefined) {
			log!.write('stderr', `${startError}\n`);
			log!.close();
			if (req.cgroup) removeLater(req.cgroup);
			send({op: 'started', id: req.id, pid: -1, startedAt: Date.now()});
			send({op: 'exited', id: req.id, exitCode: 128, startError});
		}
	});
	child.once('exit', (code, signal) => {
		// The main process is gone: so is everything it started. Its output
		// ends when the last holder of its pipes is gone; a holder we could not
		// kill (no cgroup, a setsid escapee) does not hold the exit back.
		const oom = req.cgroup ? oomKilled(req.cgroup) : false;
		if (container) killContainer(container);
		containers.delete(req.id);
		let reported = false;
		const report = () => {
			if (reported) return;
			reported = true;
			clearTimeout(timer);
			log.close();
			if (req.cgroup) removeLater(req.cgroup);
			send({op: 'exited', id: req.id, exitCode: code ?? (signal ? 128 + (signals[signal] ?? 0) : 0), signal: signal ?? undefined, startError, oomKilled: oom || undefined});
		};
		const timer = setTimeout(() => {
			child.stdout?.destroy();
			child.stderr?.destroy();
			report();
		}, 2_000);
		child.once('close', report);
	});
}

function killAll(): void {
	for (const c of containers.values()) killContainer(c);
}

process.on('message', (req: ShimRequest) => {
	if (req.op === 'start') void start(req);
	else if (req.op === 'signal') {
		const c = containers.get(req.id);
		if (c) signalContainer(c, req.signal);
	}
});
// The engine is gone: nothing it started may outlive it.
process.on('disconnect', () => {
	killAll();
	process.exit(0);
});
process.on('SIGTERM', () => {
	killAll();
	process.exit(0);
});
