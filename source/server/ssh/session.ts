// The two kinds of session channel: a shell request gets the user's own
// dashboard on the channel's terminal, an exec request runs one command.
// Each holds only its own things (a client whose streams it tracks, an Ink
// instance, its terminal) and gives them all back when the channel closes,
// however it closes: quit, a dropped network, a killed client.
import type net from 'node:net';
import path from 'node:path';
import {PassThrough, Writable} from 'node:stream';
import type ssh2 from 'ssh2';
import type {KubeObject} from '../../api/object.js';
import type {Io} from '../../commands/context.js';
import type {RemoteSession} from '../../ui/remote.js';
import {runConsoleCommand} from './commands.js';
import type {SessionClient} from './identity.js';
import {colorDepthOf, OutputGate, Terminal} from './terminal.js';

export interface ConsoleUser {
	name: string;
	groups: string[];
}

/** One SSH connection: its socket, who logged in, and what to undo when it goes. */
export interface Connection {
	client: ssh2.Connection;
	socket: net.Socket;
	address: string;
	user?: ConsoleUser;
	cleanups: Set<() => void>;
	/** The user record's uid and the key they logged in with: the session's rights last while both are still theirs. */
	uid?: string;
	key?: Buffer;
	/** Set when the connection has closed: work still under way (a forward being set up) gives up. */
	closed?: boolean;
	/** Session channels and forwards open now (capped per connection). */
	sessions?: number;
	forwards?: number;
}

export interface SessionContext {
	conn: Connection;
	home: string;
	listenPort: number;
	log(line: string): void;
	/** A new client acting as the connection's user. */
	client(): SessionClient;
	audit(what: string, phase: 'start' | 'end', extra?: Record<string, string>, started?: Date): void;
	/** How long a finished session's unread output may wait (finishTimeoutMs unless a test says). */
	finishTimeoutMs?: number;
}

type Pty = {columns: number; rows: number; term: string} | undefined;

/** The UI, loaded once, on the first dashboard (commands never need React). */
let ui: Promise<typeof import('../../ui/run.js')> | undefined;

function loadUi(): Promise<typeof import('../../ui/run.js')> {
	return (ui ??= (async () => {
		// React's development build keeps a performance mark per render forever (dashboard.ts says the same).
		process.env.NODE_ENV ??= 'production';
		// Ink reads CI once, when it is loaded, and would then draw only a last frame: each session is a terminal.
		const saved = {CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION};
		delete process.env.CI;
		delete process.env.CONTINUOUS_INTEGRATION;
		try {
			// Colours are drawn at full depth and each session's terminal takes them down to its own (terminal.ts).
			const chalk = (await import('chalk')).default;
			chalk.level = 3;
			return await import('../../ui/run.js');
		} finally {
			for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
		}
	})());
}

/** The longest exec command line written whole into the audit log. */
const auditCommandLimit = 8192;

/** How long output may wait for a client after its session ended before it is dropped and the channel closed. */
export const finishTimeoutMs = 15_000;

/**
 * Ends a channel with an exit status once what was written has gone out (`waiting`: what the
 * session's gate still holds); a client that does not read it within `timeoutMs` has the
 * channel destroyed, and what waited dropped, rather than held for ever.
 */
export function finish(channel: ssh2.ServerChannel, code: number, waiting: () => number = () => channel.writableLength, timeoutMs = finishTimeoutMs): void {
	if (channel.destroyed || !channel.writable) return;
	const done = () => {
		try {
			channel.exit(code);
			channel.end();
		} catch {
			// Closed meanwhile.
		}
	};
	if (waiting() === 0) return done();
	const started = Date.now();
	// Checked on each drain and every 50 ms: what waits may be in the gate's sources as well as the channel.
	const check = () => {
		if (channel.destroyed) return stop();
		if (waiting() === 0) {
			stop();
			done();
		} else if (Date.now() - started >= timeoutMs) {
			stop();
			channel.destroy();
		}
	};
	const poll = setInterval(check, 50).unref();
	const deadline = setTimeout(check, timeoutMs).unref();
	const stop = () => {
		clearInterval(poll);
		clearTimeout(deadline);
		channel.off('drain', check);
		channel.off('close', stop);
	};
	channel.on('drain', check);
	channel.once('close', stop);
}

/** The namespace a user starts in: the last one they used, else, unless they may list every namespace, the first they are bound in. */
async function startingNamespace(client: SessionClient): Promise<string | undefined> {
	try {
		const review = await client.create({apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
			spec: {resourceAttributes: {verb: 'list', resource: 'namespaces'}}} as KubeObject);
		if ((review.status as {allowed?: boolean} | undefined)?.allowed) return undefined;
		const own = (await client.engine('GET', '/kubedeck/v1/namespaces')) as {namespaces: string[]};
		return own.namespaces[0];
	} catch {
		return undefined;
	}
}

/** A shell request: the user's dashboard on this channel's terminal, until they quit or the channel goes. */
export async function runDashboardSession(ctx: SessionContext, channel: ssh2.ServerChannel, pty: Pty, env: Record<string, string>, onResize: (resize: (columns: number, rows: number) => void) => void): Promise<void> {
	const {conn} = ctx;
	const user = conn.user!;
	channel.on('error', () => {});
	if (!pty) {
		channel.stderr.write('The kubedeck dashboard needs a terminal: ssh -t, or give a command (ssh HOST get pods; ssh HOST help).\n');
		return finish(channel, 1);
	}
	const started = new Date();
	ctx.audit('dashboard', 'start', {term: pty.term});
	const client = ctx.client();
	const gate = new OutputGate(channel, conn.socket, why => {
		ctx.log(`ssh: ${user.name} from ${conn.address}: disconnected: ${why}`);
		conn.client.end();
	});
	const terminal = new Terminal(channel, gate, pty, colorDepthOf(pty.term, env));
	onResize((columns, rows) => terminal.resize(columns, rows));
	const remote: RemoteSession = {
		login: {user: user.name, host: conn.socket.localAddress?.replace(/^::ffff:/, '') ?? 'HOST', port: ctx.listenPort},
		shell: (pod, container) => podShell(terminal, client, pod, container),
	};
	let dashboard: {exited: Promise<unknown>; unmount(): void} | undefined;
	let closed = false;
	const release = () => {
		if (closed) return;
		closed = true;
		conn.cleanups.delete(release);
		dashboard?.unmount();
		client.release();
		ctx.audit('dashboard', 'end', {}, started);
	};
	conn.cleanups.add(release);
	channel.once('close', release);
	const [{renderDashboard}, {Prefs}, namespace] = await Promise.all([loadUi(), import('../../ui/prefs.js'), startingNamespace(client)]);
	if (closed) return;
	// Each user's preferences (theme, favourites, last namespace) are theirs, in the state directory; the engine owner's stay apart.
	const prefs = new Prefs(path.join(ctx.home, 'console', 'prefs', user.name));
	const streams = {stdin: terminal.stdin as unknown as NodeJS.ReadStream, stdout: terminal.stdout as unknown as NodeJS.WriteStream, stderr: terminal.stdout as unknown as NodeJS.WriteStream};
	dashboard = renderDashboard(client, {namespace: prefs.lastNamespace(client.description) ? undefined : namespace, prefs, remote, theme: env.NO_COLOR ? 'no-color' : undefined}, streams);
	await dashboard.exited.catch(error => ctx.log(`ssh: ${user.name}'s dashboard ended: ${(error as Error).message}`));
	release();
	finish(channel, 0, () => gate.waiting(), ctx.finishTimeoutMs);
}

/** `s` on a pod: `sh` in its container on this terminal (the dashboard's frames wait), back to the dashboard when it exits. */
async function podShell(terminal: Terminal, client: SessionClient, pod: KubeObject, container: string): Promise<number> {
	let exec: Awaited<ReturnType<NonNullable<SessionClient['exec']>>> | undefined;
	// What the pod's stream has not sent yet holds the channel back (Terminal pauses it), so keys do not pile up in the engine.
	const screen = terminal.takeOver(data => exec?.write(data), () => exec?.pending?.() ?? 0);
	// Clear the screen and show the cursor for the shell; hide it again for the dashboard after.
	screen.write('\u001B[2J\u001B[H\u001B[?25h');
	const resize = () => exec?.resize(terminal.stdout.columns, terminal.stdout.rows);
	try {
		exec = await client.exec(pod.metadata.namespace!, pod.metadata.name!, ['sh'], {
			container, stdin: true, tty: true, onStdout: data => screen.write(data), onStderr: data => screen.write(data),
		});
		resize();
		terminal.stdout.on('resize', resize);
		return await exec.exited;
	} finally {
		terminal.stdout.off('resize', resize);
		exec?.close();
		screen.write('\u001B[2J\u001B[H\u001B[?25l');
		screen.release();
	}
}

/**
 * A writable that puts what commands print on the channel (or its stderr), through the gate, with a
 * terminal's newlines under a pty. It honours the channel's backpressure: a write the channel cannot
 * take yet is called back on drain, so what a command writes meanwhile waits here, counted by the gate.
 */
export class ChannelOutput extends Writable {
	constructor(private readonly gate: OutputGate, private readonly pty: boolean, private readonly stderr = false, readonly columns = 80, readonly rows = 24) {
		super({decodeStrings: false});
		gate.track(this);
	}

	get isTTY(): boolean {
		return this.pty;
	}

	override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: () => void): void {
		const data = this.pty ? (typeof chunk === 'string' ? chunk : chunk.toString('utf8')).replace(/\r?\n/g, '\r\n') : chunk;
		if (this.gate.write(data, false, this.stderr)) callback();
		else this.gate.whenDrained(callback, this.stderr);
	}
}

/** An exec request: one kubedeck command as the user; its output, then its exit code. A dropped client stops it (logs -f, get -w). */
export async function runExecSession(ctx: SessionContext, channel: ssh2.ServerChannel, command: string, pty: Pty, env: Record<string, string>, onResize: (resize: (columns: number, rows: number) => void) => void): Promise<void> {
	const {conn} = ctx;
	const user = conn.user!;
	channel.on('error', () => {});
	const started = new Date();
	// The whole command (up to 8 KB, said when cut): what was run is what the audit is for.
	const audited: {what: string; extra: Record<string, string>} = command.length > auditCommandLimit ? {what: `exec ${command.slice(0, auditCommandLimit)}`, extra: {commandLength: String(command.length)}} : {what: `exec ${command}`, extra: {}};
	ctx.audit(audited.what, 'start', audited.extra);
	const client = ctx.client();
	const gate = new OutputGate(channel, conn.socket, why => {
		ctx.log(`ssh: ${user.name} from ${conn.address}: disconnected: ${why}`);
		conn.client.end();
	});
	let io: Io;
	const baseEnv = {KUBEDECK_HOME: ctx.home, ...(env.NO_COLOR ? {NO_COLOR: env.NO_COLOR} : {})};
	if (pty) {
		// `ssh -t HOST exec -it POD -- sh`: the command gets a terminal, as the dashboard does.
		const terminal = new Terminal(channel, gate, pty, colorDepthOf(pty.term, env));
		onResize((columns, rows) => terminal.resize(columns, rows));
		io = {stdout: terminal.stdout, stderr: terminal.stdout, stdin: terminal.stdin, env: {...baseEnv, TERM: pty.term}};
	} else {
		// Its own stream, not the channel: a reader that finishes (for await, as -f - reads) destroys what it read.
		const stdin = new PassThrough();
		channel.pipe(stdin);
		io = {stdout: new ChannelOutput(gate, false), stderr: new ChannelOutput(gate, false, true), stdin, env: baseEnv};
	}
	let closed = false;
	const release = () => {
		if (closed) return;
		closed = true;
		conn.cleanups.delete(release);
		client.release();
		// The gate goes on until the channel closes (it stops itself then): output left unread after the command is still watched.
	};
	conn.cleanups.add(release);
	channel.once('close', release);
	let code = 1;
	try {
		code = await runConsoleCommand(command, io, async () => client);
	} finally {
		ctx.audit(audited.what, 'end', {...audited.extra, exitCode: String(code)}, started);
		release();
		finish(channel, code, () => gate.waiting(), ctx.finishTimeoutMs);
	}
}
