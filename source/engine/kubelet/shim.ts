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
//
// A container with `stdin: true` keeps a pipe on its standard input (and with
// `tty: true` runs on a pseudo-terminal, node-pty's, as node has none); an
// attach (kubectl attach, kubectl run -it) gets its output from here as it
// is written, and writes to that input, as conmon's attach socket serves it.
import {type ChildProcess, spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pty from 'node-pty';
import {type DirSpec, makeDirs} from '../layout.js';
import {type CgroupSet, cgroupPids, createSet, killSet, oomKilled, tryRemoveSet} from './cgroups.js';
import {LogWriter} from './logs.js';

/** What a container's standard input is: none, a pipe (stdin), or a terminal (tty); stdinOnce closes it when the first attach lets go. */
export interface ContainerInput {
	stdin?: boolean;
	stdinOnce?: boolean;
	tty?: boolean;
}

export type ShimRequest =
	| ({op: 'start'; id: number; argv: string[]; env: Record<string, string>; cwd: string; logFile: string; dirs: DirSpec[]; cgroup?: CgroupSet; sandboxed: boolean} & ContainerInput)
	| {op: 'signal'; id: number; signal: NodeJS.Signals}
	// An attach: output is sent while at least one is attached; data is base64.
	| {op: 'attach' | 'detach' | 'closeStdin'; id: number}
	| {op: 'stdin'; id: number; data: string}
	| {op: 'resize'; id: number; cols: number; rows: number};

export type ShimMessage =
	| {op: 'started'; id: number; pid: number; startedAt: number}
	| {op: 'exited'; id: number; exitCode: number; signal?: string; startError?: string; oomKilled?: boolean}
	| {op: 'output'; id: number; stream: 'stdout' | 'stderr'; data: string};

const signals: Record<string, number> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15};

interface Container {
	pid: number;
	cgroup?: CgroupSet;
	sandboxed: boolean;
	/** Writes to the container's input (its stdin pipe, or its terminal). */
	input?: {write(data: Buffer): void; end(): void; resize?(cols: number, rows: number): void};
	stdinOnce?: boolean;
	/** How many attaches are listening. */
	attached: number;
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
		if (req.tty) return startOnTerminal(req, log);
		child = spawn(req.argv[0], req.argv.slice(1), {cwd: req.cwd, env: req.env, detached: true, stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']});
	} catch (error) {
		log?.write('stderr', `${(error as Error).message}\n`);
		log?.close();
		send({op: 'started', id: req.id, pid: -1, startedAt: Date.now()});
		send({op: 'exited', id: req.id, exitCode: 128, startError: (error as Error).message});
		return;
	}
	let startError: string | undefined;
	let container: Container | undefined;
	child.stdout!.on('data', chunk => output(req.id, container, log!, 'stdout', chunk));
	child.stderr!.on('data', chunk => output(req.id, container, log!, 'stderr', chunk));
	child.stdin?.on('error', () => {});
	child.once('spawn', () => {
		const stdin = child.stdin;
		container = {pid: child.pid!, cgroup: req.cgroup, sandboxed: req.sandboxed, stdinOnce: req.stdinOnce, attached: 0, ...(stdin ? {input: {write: data => stdin.write(data), end: () => stdin.end()}} : {})};
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

/** Output of a container: to its log, and to its attaches when it has any. */
function output(id: number, container: Container | undefined, log: LogWriter, stream: 'stdout' | 'stderr', chunk: Buffer): void {
	log.write(stream, chunk);
	if (container?.attached) send({op: 'output', id, stream, data: chunk.toString('base64')});
}

/**
 * A container on a pseudo-terminal (tty: true): what it writes is its stdout (as a terminal merges
 * them), and its exit is the terminal's. node-pty starts it in a session of its own, so it leads
 * its process group, as a piped container does.
 */
function startOnTerminal(req: Extract<ShimRequest, {op: 'start'}>, log: LogWriter): void {
	let term: pty.IPty;
	try {
		term = pty.spawn(req.argv[0], req.argv.slice(1), {cwd: req.cwd, env: {TERM: 'xterm', ...req.env}, cols: 80, rows: 24, name: req.env.TERM ?? 'xterm', encoding: null});
	} catch (error) {
		log.write('stderr', `${(error as Error).message}\n`);
		log.close();
		send({op: 'started', id: req.id, pid: -1, startedAt: Date.now()});
		send({op: 'exited', id: req.id, exitCode: 128, startError: (error as Error).message});
		return;
	}
	let open = true;
	const container: Container = {
		pid: term.pid, cgroup: req.cgroup, sandboxed: req.sandboxed, stdinOnce: req.stdinOnce, attached: 0,
		// Without stdin the terminal takes no input; it still has a size.
		input: {
			write: data => {
				if (open && req.stdin) term.write(data as never);
			},
			end: () => {
				// A terminal has no end of input but the EOF character (what ctrl-d sends).
				if (open && req.stdin) term.write('\x04');
			},
			resize: (cols, rows) => {
				if (open) term.resize(cols, rows);
			},
		},
	};
	containers.set(req.id, container);
	send({op: 'started', id: req.id, pid: term.pid, startedAt: Date.now()});
	term.onData(data => output(req.id, container, log, 'stdout', Buffer.isBuffer(data) ? data : Buffer.from(data)));
	term.onExit(({exitCode, signal}) => {
		open = false;
		const oom = req.cgroup ? oomKilled(req.cgroup) : false;
		killContainer(container);
		containers.delete(req.id);
		log.close();
		if (req.cgroup) removeLater(req.cgroup);
		const name = signal ? Object.keys(signals).find(k => signals[k] === signal) : undefined;
		send({op: 'exited', id: req.id, exitCode: signal ? 128 + signal : exitCode, signal: name, oomKilled: oom || undefined});
	});
}

function killAll(): void {
	for (const c of containers.values()) killContainer(c);
}

process.on('message', (req: ShimRequest) => {
	if (req.op === 'start') return void start(req);
	const c = containers.get(req.id);
	if (!c) return;
	switch (req.op) {
		case 'signal': return signalContainer(c, req.signal);
		case 'attach': c.attached++; return;
		case 'detach': c.attached = Math.max(0, c.attached - 1); return;
		case 'stdin': return c.input?.write(Buffer.from(req.data, 'base64'));
		// stdinOnce: the first attach to close its input closes the container's; otherwise it stays open for the next one.
		case 'closeStdin': if (c.stdinOnce) c.input?.end(); return;
		case 'resize': return c.input?.resize?.(req.cols, req.rows);
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
