// The SSH console (bench/ssh.tsx): an engine process with `ssh.listen` on loopback and a
// Deployment of 10,000 pause pods (1,000 with --quick) on simulated nodes,
// an operator bound with edit in their namespace, and ssh2's client as the
// operator's ssh (a pty of 120x40, TERM xterm-256color: the 256-colour path
// of the session's colour rewriting). Measured:
// - connect -> first full frame: from the TCP connect to the first frame
//   whose header says the list is live, with its footer (20 sessions, the
//   p50 and the worst); beside it the SSH login alone (connect -> ready);
//   the goal is under 300 ms;
// - memory per extra session: the engine's RSS before and after 10 more
//   dashboards are open on the whole list (each a watch of its own, as its
//   user), divided by 10; the goal is under 20 MB;
// - key -> frame p99 over SSH (j/k until the frame shows the selection
//   moved, 200 presses) beside the local dashboard's in this process on the
//   same engine, in the same run; the goal is within 1.5x.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {stripVTControlCharacters} from 'node:util';
import {render} from 'ink';
import ssh2 from 'ssh2';
import {resolveType} from '../source/api/resources.js';
import {App} from '../source/ui/app.js';
import {Prefs} from '../source/ui/prefs.js';
import {inkOptions} from '../source/ui/run.js';
import {runCli, withEngine} from '../test/helpers.js';
import type {Benchmark, BenchRow} from './harness.js';
import {Keyboard, Screen} from './terminal.js';

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];
const now = () => Number(process.hrtime.bigint()) / 1e6;
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const goalRow = (figure: string, value: number, unit: string, baseline: number, goal: string, met: boolean): BenchRow => ({figure, value, unit, baseline, ratio: value / baseline, goal, met});

function freePort(): Promise<number> {
	return new Promise(resolve => {
		const s = net.createServer().listen(0, '127.0.0.1', () => {
			const {port} = s.address() as net.AddressInfo;
			s.close(() => resolve(port));
		});
	});
}

/** The newest whole frame in a session's output: from the last header to a footer after it. */
function lastFrame(text: string): string | undefined {
	const start = text.lastIndexOf('kubedeck ');
	if (start < 0) return undefined;
	const frame = text.slice(start);
	return /<q> quit/.test(frame) ? frame : undefined;
}

const selectedRow = (frame: string) => /\n> (\S+)/.exec(frame)?.[1];

/** A dashboard over SSH, as ssh2's client sees it: the output as text, and a wait for a frame that passes a test. */
class SshDashboard {
	private text = '';
	private waiter?: {test: (frame: string) => boolean; resolve: (t: number) => void};
	readonly client = new ssh2.Client();
	stream?: ssh2.ClientChannel;

	static open(port: number, key: string, user: string, onReady?: () => void): Promise<SshDashboard> {
		const d = new SshDashboard();
		return new Promise((resolve, reject) => {
			d.client.on('error', reject).on('ready', () => {
				onReady?.();
				d.client.shell({term: 'xterm-256color', cols: 120, rows: 40}, (error, stream) => {
					if (error) return reject(error);
					d.stream = stream;
					stream.on('data', (data: Buffer) => d.received(data));
					resolve(d);
				});
			}).connect({host: '127.0.0.1', port, username: user, privateKey: key, hostVerifier: () => true});
		});
	}

	private received(data: Buffer): void {
		this.text = (this.text + stripVTControlCharacters(data.toString('utf8'))).slice(-200_000);
		const frame = lastFrame(this.text);
		if (frame && this.waiter?.test(frame)) {
			const {resolve} = this.waiter;
			this.waiter = undefined;
			resolve(now());
		}
	}

	frame(): string {
		return lastFrame(this.text) ?? '';
	}

	next(test: (frame: string) => boolean, timeoutMs = 60_000): Promise<number> {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no such frame over ssh within ${timeoutMs / 1000} s; the last:\n${this.frame()}`)), timeoutMs);
			this.waiter = {test, resolve: t => {
				clearTimeout(timer);
				resolve(t);
			}};
			const frame = lastFrame(this.text);
			if (frame && test(frame)) {
				this.waiter = undefined;
				clearTimeout(timer);
				resolve(now());
			}
		});
	}

	close(): void {
		this.client.end();
	}
}


const presses = 200;

/** j and k, each timed until the frame shows the selection moved. */
async function keyLatencies(type: (key: string) => void, frame: () => string, next: (test: (f: string) => boolean) => Promise<number>): Promise<number[]> {
	const times: number[] = [];
	for (let i = 0; i < presses; i++) {
		const before = selectedRow(frame());
		const moved = next(f => selectedRow(f) !== undefined && selectedRow(f) !== before);
		const start = now();
		type(i % 2 === 0 ? 'j' : 'k');
		times.push(await moved - start);
	}
	return times;
}

export const ssh: Benchmark = {
	name: 'ssh',
	description: 'the SSH console: connect -> first frame, memory per extra session, key -> frame over SSH beside the local dashboard',
	async run({quick, log}) {
		const count = quick ? 1000 : 10_000;
		const port = await freePort();
		const nodes = Array.from({length: 100}, (_, i) => `- {name: sim-${i}, kind: simulated, cpu: "64", memory: 256Gi, pods: 500}`).join('\n');
		return withEngine({configYaml: `nodes:\n${nodes}\nssh: {listen: "127.0.0.1:${port}"}\n`}, async ({home, engine, client}) => {
			const pair = ssh2.utils.generateKeyPairSync('ed25519');
			fs.writeFileSync(path.join(home, 'ops.pub'), pair.public);
			const added = await runCli(['users', 'add', 'ops', '--namespace', 'default', '--role', 'edit', '--ssh-key', path.join(home, 'ops.pub')], {home});
			if (added.code !== 0) throw new Error(added.stderr);
			await client.create({
				apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'many', namespace: 'default'},
				spec: {replicas: count, selector: {matchLabels: {app: 'many'}}, template: {metadata: {labels: {app: 'many'}}, spec: {containers: [{name: 'c', image: 'pause'}]}}},
			});
			for (;;) {
				const d = await client.get(resolveType('deployments')!, 'default', 'many');
				if ((d.status as {availableReplicas?: number})?.availableReplicas === count) break;
				await new Promise(r => setTimeout(r, 250));
			}
			log(`${count} pods running; the console on 127.0.0.1:${port}`);
			const live = `pods: ${count} Running`;
			const isLive = (f: string) => f.includes(live) && f.includes('● live');

			// Connect -> first full frame (the first session also loads the UI into the engine: one warm-up).
			const warm = await SshDashboard.open(port, pair.private, 'ops');
			await warm.next(isLive);
			warm.close();
			const firstFrames: number[] = [], logins: number[] = [];
			for (let i = 0; i < 20; i++) {
				const start = now();
				let ready = 0;
				const d = await SshDashboard.open(port, pair.private, 'ops', () => (ready = now()));
				firstFrames.push(await d.next(isLive) - start);
				logins.push(ready - start);
				d.close();
			}
			await new Promise(r => setTimeout(r, 2000));
			log(`connect -> first live frame: p50 ${percentile(firstFrames, 0.5).toFixed(0)} ms, worst ${Math.max(...firstFrames).toFixed(0)} ms (login alone p50 ${percentile(logins, 0.5).toFixed(0)} ms)`);

			// Key -> frame over SSH, on one session.
			const one = await SshDashboard.open(port, pair.private, 'ops');
			await one.next(isLive);
			const overSsh = await keyLatencies(k => one.stream!.write(k), () => one.frame(), t => one.next(t));

			// Memory per extra session: 10 more dashboards, each live on the whole list.
			await new Promise(r => setTimeout(r, 2000));
			const before = rssOf(engine.pid);
			const extra: SshDashboard[] = [];
			for (let i = 0; i < 10; i++) {
				const d = await SshDashboard.open(port, pair.private, 'ops');
				await d.next(isLive);
				extra.push(d);
			}
			await new Promise(r => setTimeout(r, 3000));
			const after = rssOf(engine.pid);
			const perSession = (after - before) / 10;
			log(`engine RSS ${before.toFixed(0)} MB with one session, ${after.toFixed(0)} MB with 11: ${perSession.toFixed(1)} MB per extra session`);
			for (const d of [one, ...extra]) d.close();

			// The local dashboard in this process, on the engine's socket as its admin: the baseline.
			const screen = new Screen();
			const keyboard = new Keyboard();
			const localNext = (test: (f: string) => boolean) => new Promise<number>(resolve => {
				screen.onWrite = f => {
					if (!test(f)) return;
					screen.onWrite = undefined;
					resolve(now());
				};
			});
			const ready = localNext(isLive);
			const prefsDir = path.join(home, 'local-prefs');
			fs.mkdirSync(prefsDir, {recursive: true});
			const app = render(<App client={client} prefs={new Prefs(prefsDir)} />, {stdout: screen as unknown as NodeJS.WriteStream, stdin: keyboard as unknown as NodeJS.ReadStream, exitOnCtrlC: false, patchConsole: false, ...inkOptions});
			let local: number[];
			try {
				await ready;
				local = await keyLatencies(k => keyboard.type(k), () => screen.frame, localNext);
			} finally {
				app.unmount();
			}
			const sshP99 = percentile(overSsh, 0.99), localP99 = percentile(local, 0.99);
			log(`key -> frame p99: ${sshP99.toFixed(1)} ms over SSH, ${localP99.toFixed(1)} ms locally (p50 ${percentile(overSsh, 0.5).toFixed(1)} and ${percentile(local, 0.5).toFixed(1)} ms)`);
			const p50 = percentile(firstFrames, 0.5);
			return [
				goalRow(`ssh connect -> first frame p50 at ${count} pods`, p50, 'ms', percentile(logins, 0.5), '<= 300 ms', p50 <= 300),
				goalRow(`ssh memory per extra session at ${count} pods`, perSession, 'MB', before, '<= 20 MB', perSession <= 20),
				goalRow(`ssh key -> frame p99 at ${count} pods`, sshP99, 'ms', localP99, '<= 1.5x local', sshP99 <= 1.5 * localP99),
			];
		});
	},
};
