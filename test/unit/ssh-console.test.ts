// The SSH console's pure parts: colour depth and SGR downgrade per
// session, bounded output to a client that stops reading, command lines
// split as sh splits them, forward targets and listen addresses.
import assert from 'node:assert/strict';
import {EventEmitter} from 'node:events';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {describe, it} from 'node:test';
import type {ServerChannel} from 'ssh2';
import {splitCommandLine} from '../../source/server/ssh/commands.js';
import {parseListen} from '../../source/server/ssh/console.js';
import {parseForwardHost} from '../../source/server/ssh/forward.js';
import {ensureHostKey, hostKeyPath} from '../../source/server/ssh/host-key.js';
import {ChannelOutput, finish, runExecSession, type SessionContext} from '../../source/server/ssh/session.js';
import {colorDepthOf, downgradeColors, OutputGate, softLimit, Terminal} from '../../source/server/ssh/terminal.js';

/** A channel as the session code sees one: written to, drained, paused and resumed, closed. */
class FakeChannel extends EventEmitter {
	writableLength = 0;
	destroyed = false;
	writable = true;
	paused = false;
	/** What write() answers: false is a full SSH window. */
	accept = true;
	written: string[] = [];
	stderr = Object.assign(new EventEmitter(), {writableLength: 0, written: [] as string[], write(d: string) {
		this.written.push(String(d));
		return true;
	}});

	write(d: string): boolean {
		this.written.push(String(d));
		this.writableLength += d.length;
		return this.accept;
	}

	pause(): this {
		this.paused = true;
		return this;
	}

	resume(): this {
		this.paused = false;
		return this;
	}

	exit(_code?: number): void {}

	pipe<T>(destination: T): T {
		return destination;
	}

	end(): void {
		this.writable = false;
	}

	destroy(): void {
		this.destroyed = true;
		this.writable = false;
		this.emit('close');
	}
}
const fakeChannel = () => new FakeChannel();
const fakeSocket = () => Object.assign(new EventEmitter(), {writableLength: 0});

describe('the SSH console, unit by unit', () => {
	it('reads a terminal\'s colour depth from TERM, COLORTERM and NO_COLOR', () => {
		assert.equal(colorDepthOf('xterm-256color', {}), 2);
		assert.equal(colorDepthOf('xterm-256color', {COLORTERM: 'truecolor'}), 3);
		assert.equal(colorDepthOf('screen', {}), 1);
		assert.equal(colorDepthOf('dumb', {}), 0);
		assert.equal(colorDepthOf('xterm-256color', {NO_COLOR: '1'}), 0);
	});

	it('takes 24-bit and 256 colours down to the session\'s depth, keeping bold and inverse', () => {
		const text = '\u001B[1m\u001B[38;2;255;0;0mred\u001B[39m \u001B[7;48;5;21mblue\u001B[0m';
		assert.equal(downgradeColors(text, 3), text);
		assert.equal(downgradeColors(text, 2), '\u001B[1m\u001B[38;5;196mred\u001B[39m \u001B[7;48;5;21mblue\u001B[0m');
		assert.equal(downgradeColors(text, 1), '\u001B[1m\u001B[91mred\u001B[39m \u001B[7;104mblue\u001B[0m');
		assert.equal(downgradeColors(text, 0), '\u001B[1mred \u001B[7mblue\u001B[0m');
		assert.equal(downgradeColors('\u001B[32mok\u001B[39m', 0), 'ok');
	});

	it('holds dashboard frames for a client that stops reading (the newest only), and disconnects one that never reads', async () => {
		const channel = Object.assign(new EventEmitter(), {writableLength: 0, destroyed: false, writable: true, written: [] as string[], write(d: string) {
			this.written.push(d);
			this.writableLength += d.length;
			return true;
		}});
		const socket = Object.assign(new EventEmitter(), {writableLength: 0});
		let stalled = '';
		const gate = new OutputGate(channel as unknown as ServerChannel, socket as unknown as net.Socket, why => (stalled = why));
		gate.write('a'.repeat(softLimit + 1), true);
		gate.write('frame 2', true);
		gate.write('frame 3', true);
		assert.equal(channel.written.length, 1, 'frames wait while more than the soft limit is unread');
		channel.writableLength = 0;
		channel.emit('drain');
		assert.deepEqual(channel.written.slice(1), ['frame 3'], 'the newest frame goes out on drain, the ones between are dropped');
		// One large write is not a stall; output that stays unread is.
		gate.write('x'.repeat(32 * 2 ** 20));
		gate.tick();
		assert.equal(stalled, '');
		gate.tick();
		assert.match(stalled, /the client read nothing of \d+ bytes for 2 s/);
		gate.stop();
	});

	it('clamps the terminal size a client asks for (pty request and window-change)', () => {
		const channel = fakeChannel();
		const gate = new OutputGate(channel as unknown as ServerChannel, fakeSocket() as unknown as net.Socket, () => {});
		const terminal = new Terminal(channel as unknown as ServerChannel, gate, {columns: 100_000, rows: 100_000}, 0);
		assert.deepEqual([terminal.stdout.columns, terminal.stdout.rows], [1000, 500]);
		terminal.resize(120, 40);
		assert.deepEqual([terminal.stdout.columns, terminal.stdout.rows], [120, 40]);
		terminal.resize(100_000, 100_000);
		assert.ok(terminal.stdout.columns <= 1000 && terminal.stdout.rows <= 500, `${terminal.stdout.columns}x${terminal.stdout.rows}`);
		terminal.resize(0, Number.NaN);
		assert.deepEqual([terminal.stdout.columns, terminal.stdout.rows], [1000, 500], 'nonsense keeps the size it had');
		gate.stop();
	});

	it('pauses the channel while the terminal\'s reader (or a program on it) holds back keys, and resumes once they are taken', async () => {
		const channel = fakeChannel();
		const gate = new OutputGate(channel as unknown as ServerChannel, fakeSocket() as unknown as net.Socket, () => {});
		const terminal = new Terminal(channel as unknown as ServerChannel, gate, {columns: 80, rows: 24}, 0);
		const chunk = Buffer.alloc(16 * 1024, 'k');
		// A client sends while nobody reads stdin: it gets to send only until the channel is paused.
		let sent = 0;
		while (!channel.paused && sent < 1000) {
			channel.emit('data', chunk);
			sent++;
		}
		assert.ok(channel.paused, `the channel paused (${sent} chunks sent)`);
		const held = () => terminal.stdin.writableLength + terminal.stdin.readableLength;
		assert.ok(held() <= 256 * 1024, `stdin holds ${held()} bytes`);
		terminal.stdin.resume();
		await new Promise(r => setTimeout(r, 100));
		assert.equal(channel.paused, false, 'resumed once stdin was read');
		// A program (the pod shell) that has not sent its keys on holds the channel back the same way.
		let pending = 0;
		const screen = terminal.takeOver(data => (pending += data.length), () => pending);
		sent = 0;
		while (!channel.paused && sent < 1000) {
			channel.emit('data', chunk);
			sent++;
		}
		assert.ok(channel.paused && pending <= 256 * 1024, `paused with ${pending} bytes pending`);
		pending = 0;
		await new Promise(r => setTimeout(r, 100));
		assert.equal(channel.paused, false, 'resumed once the program sent them');
		screen.release();
		channel.destroy();
		gate.stop();
	});

	it('honours the channel\'s backpressure for a command\'s output, stderr included, counting what waits', async () => {
		const channel = fakeChannel();
		const gate = new OutputGate(channel as unknown as ServerChannel, fakeSocket() as unknown as net.Socket, () => {});
		const stdout = new ChannelOutput(gate, false);
		const stderr = new ChannelOutput(gate, false, true);
		channel.accept = false;
		stdout.write('first');
		stdout.write('x'.repeat(1000));
		await new Promise(r => setImmediate(r));
		assert.deepEqual(channel.written, ['first'], 'nothing more is written until the channel drains');
		assert.ok(gate.waiting() >= 1000 + 'first'.length, `the gate counts what waits in the command\'s stream (${gate.waiting()})`);
		stderr.write('oops\n');
		assert.deepEqual(channel.stderr.written, ['oops\n'], 'stderr goes through the gate to the channel\'s stderr');
		channel.accept = true;
		channel.writableLength = 0;
		channel.emit('drain');
		await new Promise(r => setImmediate(r));
		assert.deepEqual(channel.written, ['first', 'x'.repeat(1000)]);
		channel.destroy();
	});

	it('drops a finished command\'s unread output and closes the channel after a timeout', async () => {
		const channel = fakeChannel();
		let exited: number | undefined;
		channel.exit = (code: number) => void (exited = code);
		channel.writableLength = 10_000;
		finish(channel as unknown as ServerChannel, 0, () => channel.writableLength, 50);
		await new Promise(r => setTimeout(r, 150));
		assert.ok(channel.destroyed, 'the channel is destroyed once the client has not read for the timeout');
		assert.equal(exited, undefined);
		// One that reads gets its exit status.
		const reader = fakeChannel();
		reader.exit = (code: number) => void (exited = code);
		reader.writableLength = 10_000;
		finish(reader as unknown as ServerChannel, 3, () => reader.writableLength, 5_000);
		reader.writableLength = 0;
		reader.emit('drain');
		assert.equal(exited, 3);
		assert.equal(reader.destroyed, false);
	});

	it('closes an exec session whose output is left unread after the command ends', async () => {
		const channel = fakeChannel();
		channel.accept = false;
		let ended = false;
		const conn = {client: {end: () => (ended = true)}, socket: fakeSocket(), address: '127.0.0.1:1', user: {name: 'alice', groups: []}, cleanups: new Set<() => void>()};
		const ctx = {conn, home: '/nonexistent', listenPort: 22, log() {}, audit() {}, client: () => ({release() {}}), finishTimeoutMs: 100} as unknown as SessionContext;
		await runExecSession(ctx, channel as unknown as ServerChannel, 'help', undefined, {}, () => {});
		assert.equal(channel.destroyed, false, 'the help text waits for the client a while');
		await new Promise(r => setTimeout(r, 300));
		assert.ok(channel.destroyed, 'then is dropped with the channel');
		assert.equal(conn.cleanups.size, 0);
		assert.equal(ended, false);
	});

	it('writes a new host key through a file of its own (a planted symlink at the old temp name is not followed), 0600, and its .pub beside it', () => {
		const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-hostkey-'));
		try {
			const victim = path.join(home, 'victim');
			fs.writeFileSync(victim, 'untouched');
			fs.symlinkSync(victim, `${hostKeyPath(home)}.tmp`);
			fs.symlinkSync(victim, `${hostKeyPath(home)}.pub`);
			const key = ensureHostKey(home);
			assert.equal(fs.readFileSync(victim, 'utf8'), 'untouched', 'nothing written through the symlinks');
			assert.equal(fs.statSync(hostKeyPath(home)).mode & 0o777, 0o600);
			assert.equal(fs.lstatSync(`${hostKeyPath(home)}.pub`).isSymbolicLink(), false);
			assert.match(fs.readFileSync(`${hostKeyPath(home)}.pub`, 'utf8'), new RegExp(`^${key.publicLine.replace(/[+/]/g, c => `\\${c}`)} `));
			assert.deepEqual(fs.readdirSync(home).filter(f => f.endsWith('.tmp') && !fs.lstatSync(path.join(home, f)).isSymbolicLink()), [], 'no temp file left');
		} finally {
			fs.rmSync(home, {recursive: true, force: true});
		}
	});

	it('splits a command line as sh does', () => {
		assert.deepEqual(splitCommandLine('get pods -n dev1'), ['get', 'pods', '-n', 'dev1']);
		assert.deepEqual(splitCommandLine(`exec web -- sh -c 'echo "a b"; echo c'`), ['exec', 'web', '--', 'sh', '-c', 'echo "a b"; echo c']);
		assert.deepEqual(splitCommandLine('label pod/x a="b c" d\\ e ""'), ['label', 'pod/x', 'a=b c', 'd e', '']);
		assert.throws(() => splitCommandLine("get 'pods"), /unterminated ' quote/);
	});

	it('reads forward targets and listen addresses', () => {
		assert.deepEqual(parseForwardHost('web.dev1.svc'), {kind: 'svc', namespace: 'dev1', name: 'web'});
		assert.deepEqual(parseForwardHost('web-1.2.dev1.pod.cluster.local'), {kind: 'pod', namespace: 'dev1', name: 'web-1.2'});
		assert.equal(parseForwardHost('example.com'), undefined);
		assert.deepEqual(parseListen('2222'), {host: '0.0.0.0', port: 2222});
		assert.deepEqual(parseListen('127.0.0.1:0'), {host: '127.0.0.1', port: 0});
		assert.throws(() => parseListen('localhost:22'), /not an IP address/);
		assert.throws(() => parseListen('99999'), /\[ADDR:\]PORT/);
	});
});
