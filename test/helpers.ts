// Shared test helpers: temp state directories, the built CLI run as a real
// process, and a real engine process. Everything a test starts is stopped in
// its cleanup.
import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before} from 'node:test';
import {fileURLToPath} from 'node:url';
import {EmbeddedClient} from '../source/client/embedded.js';
import type {ManualClock} from '../source/engine/clock.js';
import {socketPath} from '../source/engine/home.js';
import {removeRoots} from '../source/engine/layout.js';
import {releaseRanges} from '../source/engine/network/ranges.js';

/** The repository root (tests run from dist/test/...). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');
export const examplesDir = path.join(repoRoot, 'examples');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');

/** A fresh state directory; short, so the engine's unix socket path fits. */
export function tempHome(): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'kd-'));
}

export interface RunResult {
	code: number;
	stdout: string;
	stderr: string;
}

export function runCli(args: string[], options: {home: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number}): Promise<RunResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [cliPath, ...args], {
			env: {...process.env, ...options.env, KUBEDECK_HOME: options.home},
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		let stdout = '', stderr = '';
		child.stdout.on('data', d => (stdout += d));
		child.stderr.on('data', d => (stderr += d));
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`kubedeck ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
		}, options.timeoutMs ?? 30_000);
		child.on('error', reject);
		child.on('close', code => {
			clearTimeout(timer);
			resolve({code: code ?? -1, stdout, stderr});
		});
		child.stdin.end(options.input ?? '');
	});
}

export interface EngineProcess {
	child: ChildProcess;
	pid: number;
	home: string;
	/** The TCP port, when started with one. */
	port?: number;
	stop(): Promise<void>;
	kill9(): Promise<void>;
}

/** `kubedeck serve` as a child process; resolves once it says it is serving. */
export function startEngine(home: string, options: {port?: number; env?: NodeJS.ProcessEnv} = {}): Promise<EngineProcess> {
	return new Promise((resolve, reject) => {
		const args = [cliPath, 'serve', ...(options.port !== undefined ? ['--port', String(options.port)] : [])];
		const child = spawn(process.execPath, args, {env: {...process.env, ...options.env, KUBEDECK_HOME: home}, stdio: ['ignore', 'pipe', 'pipe']});
		let output = '';
		const exited = new Promise<void>(r => child.once('exit', () => r()));
		const onData = (d: Buffer) => {
			output += d;
			const m = output.match(/kubedeck engine serving \(pid (\d+)[^)]*?(?:https?:\/\/127\.0\.0\.1:(\d+))?\)/);
			if (m) {
				child.stdout!.off('data', onData);
				resolve({
					child, pid: Number(m[1]), home, port: m[2] ? Number(m[2]) : undefined,
					async stop() {
						if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
						await exited;
					},
					async kill9() {
						if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
						await exited;
					},
				});
			}
		};
		child.stdout!.on('data', onData);
		child.stderr!.on('data', d => (output += d));
		child.once('exit', code => reject(new Error(`engine exited early (${code}): ${output}`)));
	});
}

/** Remove a state directory, its pods' data and memory roots (which live outside it when running as root) and its address block. */
export function removeHome(home: string): void {
	removeRoots(home);
	releaseRanges(home);
	fs.rmSync(home, {recursive: true, force: true});
}

/**
 * Time passing on a manual clock in steps of 5 s, each given `realMs` of real
 * time, so the node's heartbeats (and the kubelet's samples) keep up with it.
 */
export function passing(clock: ManualClock, realMs = 20) {
	return async (ms: number) => {
		for (let done = 0; done < ms; done += 5000) {
			clock.advance(Math.min(5000, ms - done));
			await new Promise(r => setTimeout(r, realMs));
		}
	};
}

/** Wait until `check` returns a truthy value, polling; fails with `what` after the timeout. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<Exclude<T, false | undefined | null | 0 | ''>> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	while (Date.now() < deadline) {
		try {
			const value = await check();
			if (value) return value as Exclude<T, false | undefined | null | 0 | ''>;
		} catch (error) {
			last = error;
		}
		await new Promise(r => setTimeout(r, 50));
	}
	throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/**
 * Run `fn` against a fresh engine process (optionally with a config.yaml) and
 * a client on its socket; everything is stopped and removed afterwards.
 */
export async function withEngine<T>(options: {configYaml?: string}, fn: (ctx: {home: string; engine: EngineProcess; client: EmbeddedClient}) => Promise<T>): Promise<T> {
	const ctx = await openEngine(options.configYaml);
	try {
		return await fn(ctx);
	} finally {
		await closeEngine(ctx);
	}
}

/** A fresh state directory (with this config.yaml), its engine, and a client on its socket. */
export async function openEngine(configYaml?: string): Promise<{home: string; engine: EngineProcess; client: EmbeddedClient}> {
	const home = tempHome();
	if (configYaml) fs.writeFileSync(path.join(home, 'config.yaml'), configYaml);
	const engine = await startEngine(home);
	return {home, engine, client: new EmbeddedClient({socketPath: socketPath(home)}, 'test')};
}

/** Close the client, stop the engine, remove the state directory: what openEngine made. */
export async function closeEngine(ctx: {home: string; engine: EngineProcess; client: EmbeddedClient}): Promise<void> {
	ctx.client.close();
	await ctx.engine.stop();
	removeHome(ctx.home);
}

/**
 * One engine for a whole `describe` block: started before its tests, stopped
 * and removed after. `kd` runs the CLI against it.
 */
export function engineForSuite(setup?: (kd: (args: string[], input?: string) => Promise<RunResult>) => Promise<void>) {
	const suite = {
		home: '',
		engine: undefined as EngineProcess | undefined,
		kd: (args: string[], input?: string) => runCli(args, {home: suite.home, input}),
	};
	before(async () => {
		suite.home = tempHome();
		suite.engine = await startEngine(suite.home);
		await setup?.(suite.kd);
	});
	after(async () => {
		await suite.engine?.stop();
		removeHome(suite.home);
	});
	return suite;
}

/**
 * A tmux server of its own for a test (-L NAME): sessions running a command, their screens, a wait
 * that shows the screen when it times out, and a close that kills the server and removes its socket
 * file (tmux leaves it behind whether the server was killed or exited with its last window).
 */
export function tmuxServer(name: string) {
	const tmux = (...args: string[]) => execFileSync('tmux', ['-L', name, ...args], {encoding: 'utf8'});
	let socketFile = '';
	const screen = (session: string) => tmux('capture-pane', '-p', '-t', session);
	return {
		tmux,
		screen,
		open(session: string, command: string, columns = 120, rows = 32): void {
			tmux('new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), command);
			socketFile ||= tmux('display-message', '-p', '#{socket_path}').trim();
		},
		until(session: string, pattern: RegExp, what: string, timeoutMs = 15_000): Promise<unknown> {
			return eventually(() => pattern.test(screen(session)), what, timeoutMs).catch(error => {
				throw new Error(`${(error as Error).message}; the screen:\n${screen(session)}`);
			});
		},
		close(): void {
			try {
				tmux('kill-server');
			} catch {}
			if (socketFile) fs.rmSync(socketFile, {force: true});
		},
	};
}
