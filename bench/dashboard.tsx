// Dashboard latency: the real App drawn by Ink into an in-memory terminal
// (120x40, a TTY as far as Ink knows) against an engine process holding
// 100 and then 10,000 pods on simulated nodes. Measured per frame write:
// - key -> frame: `j`/`k` pressed until the frame shows the selection moved;
// - watch event -> frame: a new pod is created; the clock starts when this
//   process's own watch receives its ADDED event (the App's feed gets the
//   same event on the same socket) and stops at the first frame showing it.
// 200 key presses and 100 new pods per size, so p99 is not just the worst
// sample. The 100-pod run is the baseline; the goal is p99 under 50 ms at 10,000.
// Frames are drawn in colour, as on a user's terminal (colour costs Ink more
// than plain text): `npm run bench` sets FORCE_COLOR, since chalk otherwise
// decides from this process's own stdout, often a pipe.
// Also the dashboard's memory (this process's RSS) at 10,000 pods, and the
// log pane on a pod writing 10,000 lines a second: lines received per second
// against the pod's rate, key -> frame while it streams, and memory after.
import {EventEmitter} from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import {stripVTControlCharacters} from 'node:util';
import {render} from 'ink';
import type {KubeObject} from '../source/api/object.js';
import {resolveType} from '../source/api/resources.js';
import type {EmbeddedClient} from '../source/client/embedded.js';
import {App} from '../source/ui/app.js';
import {Prefs} from '../source/ui/prefs.js';
import {inkOptions} from '../source/ui/run.js';
import {withEngine} from '../test/helpers.js';
import {type Benchmark, type BenchRow, info, row, withSimulatedPods} from './harness.js';

/** A terminal that keeps only the newest frame (as text, and as written) and calls back on each write. */
class Screen extends EventEmitter {
	readonly isTTY = true;
	readonly columns = 120;
	readonly rows = 40;
	frame = '';
	raw = '';
	onWrite?: (frame: string) => void;
	write = (data: string) => {
		// Ink brackets each frame with synchronized-output escapes, written apart: those are not frames.
		if (!data.includes('\n')) return true;
		this.raw = data;
		this.frame = stripVTControlCharacters(data);
		this.onWrite?.(this.frame);
		return true;
	};
}

class Keyboard extends EventEmitter {
	readonly isTTY = true;
	private pending: string | null = null;
	type(data: string): void {
		this.pending = data;
		this.emit('readable');
	}
	read = () => {
		const data = this.pending;
		this.pending = null;
		return data;
	};
	setEncoding() {}
	setRawMode() {}
	resume() {}
	pause() {}
	ref() {}
	unref() {}
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Resolve with the time of the first frame written that passes `test`. */
function nextFrame(screen: Screen, test: (frame: string) => boolean, timeoutMs = 30_000): Promise<number> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no such frame within ${timeoutMs / 1000} s; the last one:\n${screen.frame}`)), timeoutMs);
		screen.onWrite = frame => {
			if (!test(frame)) return;
			clearTimeout(timer);
			screen.onWrite = undefined;
			resolve(now());
		};
	});
}

const selectedRow = (frame: string) => /\n> (\S+)/.exec(frame)?.[1];

async function measure(count: number, log: (line: string) => void): Promise<{keys: number[]; events: number[]; rss: number}> {
	return withSimulatedPods(count, async ({home, client}) => {
		const screen = new Screen();
		const keyboard = new Keyboard();
		const prefsDir = path.join(home, 'prefs');
		fs.mkdirSync(prefsDir);
		const ready = nextFrame(screen, f => f.includes(`${count} Running`), 60_000);
		const app = render(<App client={client} prefs={new Prefs(prefsDir)} />, {stdout: screen as unknown as NodeJS.WriteStream, stdin: keyboard as unknown as NodeJS.ReadStream, exitOnCtrlC: false, patchConsole: false, ...inkOptions});
		try {
			await ready;
			if (!screen.raw.includes('\u001B[')) throw new Error('the frames are drawn without colour: run with FORCE_COLOR=3 (npm run bench does)');
			log(`${count} pods: list live`);
			const keys: number[] = [];
			for (let i = 0; i < 200; i++) {
				const before = selectedRow(screen.frame);
				const moved = nextFrame(screen, f => selectedRow(f) !== undefined && selectedRow(f) !== before);
				const start = now();
				keyboard.type(i % 2 === 0 ? 'j' : 'k');
				keys.push(await moved - start);
			}
			const events = await eventLatencies(client, screen, 100);
			// Settle, then take the process's memory with the list live.
			await new Promise(r => setTimeout(r, 1000));
			const rss = process.memoryUsage().rss / 1024 / 1024;
			return {keys, events, rss};
		} finally {
			app.unmount();
		}
	});
}

async function eventLatencies(client: EmbeddedClient, screen: Screen, samples: number): Promise<number[]> {
	const podType = resolveType('pods')!;
	const arrived = new Map<string, number>();
	const list = await client.list(podType, {namespace: 'default'});
	const watch = client.watch(podType, {namespace: 'default', resourceVersion: list.metadata.resourceVersion}, event => {
		if (event.type === 'ADDED') arrived.set(event.object.metadata.name!, now());
	});
	const out: number[] = [];
	try {
		for (let i = 0; i < samples; i++) {
			// "aaa-" sorts first, so the new pod lands in the visible window.
			const name = `aaa-${i}`;
			const shown = nextFrame(screen, f => f.includes(name));
			const pod: KubeObject = {apiVersion: 'v1', kind: 'Pod', metadata: {name, namespace: 'default'}, spec: {containers: [{name: 'c', image: 'pause'}]}};
			await client.create(pod);
			const at = await shown;
			while (!arrived.has(name)) await new Promise(r => setTimeout(r, 1));
			out.push(Math.max(0, at - arrived.get(name)!));
		}
	} finally {
		watch.stop();
	}
	return out;
}

const totalLines = (frame: string) => {
	const shown = Number(/(\d+) lines/.exec(frame)?.[1] ?? 0);
	return shown + Number(/(\d+) earlier not in memory/.exec(frame)?.[1] ?? 0);
};

async function logPane(rate: number, seconds: number, log: (line: string) => void): Promise<{received: number; keys: number[]; rssBefore: number; rssAfter: number}> {
	return withEngine({}, async ({home, client}) => {
		await client.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'chatty', namespace: 'default'}, spec: {containers: [{name: 'c', image: 'kubedeck/agnhost', args: ['logs-generator', `--rate=${rate}`]}]}});
		const screen = new Screen();
		const keyboard = new Keyboard();
		fs.mkdirSync(path.join(home, 'prefs'));
		const running = nextFrame(screen, f => /> chatty\s+1\/1\s+Running/.test(f), 60_000);
		const app = render(<App client={client} prefs={new Prefs(path.join(home, 'prefs'))} />, {stdout: screen as unknown as NodeJS.WriteStream, stdin: keyboard as unknown as NodeJS.ReadStream, exitOnCtrlC: false, patchConsole: false, ...inkOptions});
		try {
			await running;
			const streaming = nextFrame(screen, f => /Logs default\/chatty\s+● streaming/.test(f) && totalLines(f) > 0);
			keyboard.type('l');
			await streaming;
			const rssBefore = process.memoryUsage().rss / 1024 / 1024;
			const start = now();
			const first = totalLines(screen.frame);
			const keys: number[] = [];
			while (now() - start < seconds * 1000) {
				const wrapped = / · wrap/.test(screen.frame);
				const toggled = nextFrame(screen, f => / · wrap/.test(f) !== wrapped);
				const t = now();
				keyboard.type('w');
				keys.push(await toggled - t);
				await new Promise(r => setTimeout(r, 200));
			}
			const received = (totalLines(screen.frame) - first) / ((now() - start) / 1000);
			log(`log pane at ${rate} lines/s: ${received.toFixed(0)} lines/s received, key -> frame p99 ${percentile(keys, 0.99).toFixed(1)} ms`);
			return {received, keys, rssBefore, rssAfter: process.memoryUsage().rss / 1024 / 1024};
		} finally {
			app.unmount();
		}
	});
}

export const dashboard: Benchmark = {
	name: 'dashboard',
	description: 'key -> frame and watch event -> frame latency (p50/p99) at 100 and 10,000 pods, and the dashboard\'s memory',
	async run({quick, log}) {
		const large = quick ? 2_000 : 10_000;
		const small = await measure(100, log);
		const big = await measure(large, log);
		const rows: BenchRow[] = [];
		for (const [what, a, b] of [['key -> frame', small.keys, big.keys], ['watch event -> frame', small.events, big.events]] as const) {
			for (const p of [0.5, 0.99]) {
				const base = percentile([...a], p), value = percentile([...b], p);
				log(`${what} p${p * 100}: ${base.toFixed(1)} ms at 100 pods, ${value.toFixed(1)} ms at ${large}`);
				rows.push(p === 0.99
					? {figure: `${what} p99 at ${large} pods`, value, unit: 'ms', baseline: base, ratio: value / base, goal: '<= 50 ms', met: value <= 50}
					: info(`${what} p50 at ${large} pods`, value, 'ms', base));
			}
		}
		log(`dashboard RSS: ${small.rss.toFixed(0)} MB at 100 pods, ${big.rss.toFixed(0)} MB at ${large}`);
		rows.push(info(`dashboard memory at ${large} pods`, big.rss, 'MB', small.rss));
		const rate = 10_000;
		const logs = await logPane(rate, quick ? 5 : 20, log);
		rows.push(row(`log pane: lines/s received from a pod writing ${rate}/s`, logs.received, 'lines/s', rate, 0.9));
		rows.push({figure: 'log pane: key -> frame p99 while streaming', value: percentile(logs.keys, 0.99), unit: 'ms', baseline: percentile(big.keys, 0.99), ratio: percentile(logs.keys, 0.99) / percentile(big.keys, 0.99), goal: '<= 50 ms', met: percentile(logs.keys, 0.99) <= 50});
		rows.push(info('log pane: dashboard memory after streaming', logs.rssAfter, 'MB', logs.rssBefore));
		return rows;
	},
};
