// Starting a process exec'd into a container (the argv from launch.ts puts
// it inside the pod's sandbox): on a pseudo-terminal when a terminal is
// asked for (node-pty: node has no pty of its own), else on pipes. Either
// way it leads a process group of its own, which is what is killed when the
// client goes away or the container stops.
import {spawn} from 'node:child_process';
import pty from 'node-pty';
import type {ExecProcess, ExecRequest} from '../../server/api/exec.js';

export interface ExecSpec {
	argv: string[];
	env: Record<string, string>;
	cwd: string;
}

const signalNumbers: Record<string, number> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15};

function killGroup(pid: number | undefined): void {
	if (!pid) return;
	try {
		process.kill(-pid, 'SIGKILL');
	} catch {}
}

export function startExec(spec: ExecSpec, request: Pick<ExecRequest, 'stdin' | 'tty'>): ExecProcess {
	const listeners: ((stream: 'stdout' | 'stderr', data: Buffer) => void)[] = [];
	const emit = (stream: 'stdout' | 'stderr', data: Buffer) => {
		for (const listener of listeners) listener(stream, data);
	};
	let done = false;
	if (request.tty) {
		const term = pty.spawn(spec.argv[0], spec.argv.slice(1), {cwd: spec.cwd, env: {TERM: 'xterm', ...spec.env}, cols: 80, rows: 24, name: spec.env.TERM ?? 'xterm', encoding: null});
		term.onData(data => emit('stdout', Buffer.isBuffer(data) ? data : Buffer.from(data)));
		const exited = new Promise<number>(resolve => term.onExit(({exitCode, signal}) => {
			done = true;
			resolve(signal ? 128 + signal : exitCode);
		}));
		return {
			write: data => {
				if (!done) term.write(data as never);
			},
			closeStdin: () => {},
			resize: ({cols, rows}) => {
				if (!done) term.resize(cols, rows);
			},
			kill: () => {
				if (!done) killGroup(term.pid);
			},
			onOutput: listener => listeners.push(listener),
			exited,
		};
	}
	const child = spawn(spec.argv[0], spec.argv.slice(1), {cwd: spec.cwd, env: spec.env, detached: true, stdio: [request.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']});
	child.stdout!.on('data', (d: Buffer) => emit('stdout', d));
	child.stderr!.on('data', (d: Buffer) => emit('stderr', d));
	child.stdin?.on('error', () => {});
	const exited = new Promise<number>(resolve => {
		child.once('error', () => {
			done = true;
			resolve(126);
		});
		child.once('close', (code, signal) => {
			done = true;
			resolve(code ?? (signal ? 128 + (signalNumbers[signal] ?? 0) : 0));
		});
	});
	return {
		write: data => {
			if (!done) child.stdin?.write(data);
		},
		closeStdin: () => child.stdin?.end(),
		resize: () => {},
		kill: () => {
			if (!done) killGroup(child.pid);
		},
		onOutput: listener => listeners.push(listener),
		exited,
	};
}
