// The container shim (what conmon is to CRI-O): a small helper process that
// starts containers, writes their output to the log files and reports their
// exits. Forking from this small process is several times faster than from
// the engine, whose larger memory makes every fork() slower; and log writing
// stays off the engine's event loop. If the engine goes away (even kill -9),
// the IPC channel closes and the shim kills every container it started.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {LogWriter} from './logs.js';

export type ShimRequest =
	| {op: 'start'; id: number; argv: string[]; env: Record<string, string>; cwd: string; logFile: string};

export type ShimMessage =
	| {op: 'started'; id: number; pid: number; startedAt: number}
	| {op: 'exited'; id: number; exitCode: number; signal?: string; startError?: string};

const signals: Record<string, number> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15};
const groups = new Set<number>();
/** Directories known to exist: mkdir is slow enough on some disks to show in pod start times. */
const made = new Set<string>();

function send(message: ShimMessage): void {
	process.send?.(message);
}

function start(req: Extract<ShimRequest, {op: 'start'}>): void {
	if (!made.has(req.cwd)) {
		fs.mkdirSync(req.cwd, {recursive: true});
		made.add(req.cwd);
		if (made.size > 10_000) made.clear();
	}
	const log = new LogWriter(req.logFile, Date.now, {dirExists: path.dirname(req.logFile) === req.cwd});
	const child = spawn(req.argv[0], req.argv.slice(1), {cwd: req.cwd, env: req.env, detached: true, stdio: ['ignore', 'pipe', 'pipe']});
	let startError: string | undefined;
	child.stdout!.on('data', chunk => log.write('stdout', chunk));
	child.stderr!.on('data', chunk => log.write('stderr', chunk));
	child.once('spawn', () => {
		groups.add(child.pid!);
		send({op: 'started', id: req.id, pid: child.pid!, startedAt: Date.now()});
	});
	child.once('error', error => {
		startError = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `exec: "${req.argv[0]}": executable file not found in $PATH` : error.message;
		if (child.pid === undefined) {
			log.write('stderr', `${startError}\n`);
			log.close();
			send({op: 'started', id: req.id, pid: -1, startedAt: Date.now()});
			send({op: 'exited', id: req.id, exitCode: 128, startError});
		}
	});
	child.once('close', (code, signal) => {
		if (child.pid !== undefined) groups.delete(child.pid);
		log.close();
		send({op: 'exited', id: req.id, exitCode: code ?? (signal ? 128 + (signals[signal] ?? 0) : 0), signal: signal ?? undefined, startError});
	});
}

function killAll(): void {
	for (const pid of groups) {
		try {
			process.kill(-pid, 'SIGKILL');
		} catch {}
	}
}

process.on('message', (req: ShimRequest) => {
	if (req.op === 'start') start(req);
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
