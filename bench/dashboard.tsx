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
// Also, per size:
// - a burst of 100 `j` in one write (key repeat, tmux, a slow link): write ->
//   the first frame whose selection is 100 rows below where it was, in the
//   list's own order (the feed's: "namespace/name" in plain string order);
//   20 bursts, `g` back to the top between them (taken after the watch
//   events, so the baseline has its 100 pods and the 100 new ones: 100 rows
//   below the top to land on);
// - `:xray deployments` typed in one write -> the frame with the xray view,
//   and `:pulses` -> the frame with the pulses view showing the pods by
//   status; esc back between runs; 10 of each;
// - the dashboard's memory (this process's RSS, with the V8 heap beside it),
//   held to 150 MB at 10,000 pods. The bench shares this process with the
//   dashboard, so it lists no pods of its own before the memory is taken,
//   and the bursts, xray and pulses (on a dashboard started afresh) come
//   after both sizes' memory: order is 100 pods' keys and events, 10,000
//   pods' keys, events, memory and views, then the 100 pods' views.
// And the log pane on a pod writing 10,000 lines a second: lines received
// per second against the pod's rate, key -> frame while it streams, and
// memory after.
import fs from 'node:fs';
import path from 'node:path';
import {render} from 'ink';
import type {KubeObject} from '../source/api/object.js';
import {resolveType} from '../source/api/resources.js';
import type {EmbeddedClient} from '../source/client/embedded.js';
import {App} from '../source/ui/app.js';
import {Prefs} from '../source/ui/prefs.js';
import {inkOptions} from '../source/ui/run.js';
import {withEngine} from '../test/helpers.js';
import {type Benchmark, type BenchRow, info, row, withSimulatedPods} from './harness.js';
import {Keyboard, Screen} from './terminal.js';

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
const mib = (bytes: number) => bytes / 1024 / 1024;

interface Memory {
	rss: number;
	heapUsed: number;
	heapTotal: number;
	external: number;
	arrayBuffers: number;
}

const memoryNow = (): Memory => {
	const m = process.memoryUsage();
	return {rss: mib(m.rss), heapUsed: mib(m.heapUsed), heapTotal: mib(m.heapTotal), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers)};
};
const memoryText = (m: Memory) => `RSS ${m.rss.toFixed(0)} MB (V8 heap ${m.heapUsed.toFixed(0)} MB used of ${m.heapTotal.toFixed(0)} MB, external ${m.external.toFixed(0)} MB, array buffers ${m.arrayBuffers.toFixed(0)} MB)`;

interface Measured {
	keys: number[];
	events: number[];
	bursts: number[];
	xray: number[];
	pulses: number[];
	memory: Memory;
}

type Ctx = {home: string; client: EmbeddedClient};

/** The App drawn into a Screen, fed by a Keyboard, once the header counts `running` Running pods; unmounted after `fn`. */
async function withApp<T>({home, client}: Ctx, running: number, fn: (screen: Screen, keyboard: Keyboard) => Promise<T>): Promise<T> {
	const screen = new Screen();
	const keyboard = new Keyboard();
	const prefsDir = path.join(home, 'prefs');
	fs.mkdirSync(prefsDir, {recursive: true});
	const ready = nextFrame(screen, f => f.includes(`pods: ${running} Running`), 60_000);
	const app = render(<App client={client} prefs={new Prefs(prefsDir)} />, {stdout: screen as unknown as NodeJS.WriteStream, stdin: keyboard as unknown as NodeJS.ReadStream, exitOnCtrlC: false, patchConsole: false, ...inkOptions});
	try {
		await ready;
		if (!screen.raw.includes('\u001B[')) throw new Error('the frames are drawn without colour: run with FORCE_COLOR=3 (npm run bench does)');
		return await fn(screen, keyboard);
	} finally {
		app.unmount();
	}
}

const eventSamples = 100;

/**
 * Key and watch event latency, then this process's memory with the list live: the first figures
 * taken of each size, so that the memory at 10,000 pods follows only the 100-pod run's keys and
 * events (xray and pulses list more, and what they leave in the heap would count at 10,000).
 */
function firstFigures(ctx: Ctx, count: number, log: (line: string) => void): Promise<Pick<Measured, 'keys' | 'events' | 'memory'>> {
	return withApp(ctx, count, async (screen, keyboard) => {
		log(`${count} pods: list live`);
		const keys: number[] = [];
		for (let i = 0; i < 200; i++) {
			const before = selectedRow(screen.frame);
			const moved = nextFrame(screen, f => selectedRow(f) !== undefined && selectedRow(f) !== before);
			const start = now();
			keyboard.type(i % 2 === 0 ? 'j' : 'k');
			keys.push(await moved - start);
		}
		const events = await eventLatencies(ctx.client, screen, eventSamples);
		// Settle, then take the process's memory with the list live.
		await new Promise(r => setTimeout(r, 1000));
		const memory = memoryNow();
		log(`${count} pods: ${memoryText(memory)}`);
		return {keys, events, memory};
	});
}

/** Bursts of keys, :xray and :pulses, on a dashboard started afresh (the event samples' pods are there by now). */
function viewFigures(ctx: Ctx, count: number, log: (line: string) => void): Promise<Pick<Measured, 'bursts' | 'xray' | 'pulses'>> {
	return withApp(ctx, count + eventSamples, async (screen, keyboard) => {
		const bursts = await burstLatencies(ctx.client, screen, keyboard, 20, 100, log);
		const xray = await viewLatencies(screen, keyboard, ':xray deployments\r', f => f.includes('Xray deployments in '), 10);
		// The pulses view draws the pods by status from the header's tally ("Running ███ 10100"); its first frame may come before them.
		const pulses = await viewLatencies(screen, keyboard, ':pulses\r', f => f.includes('Pulses of ') && /\n {2}Running +[█░]+ \d+/.test(f), 10);
		return {bursts, xray, pulses};
	});
}

/**
 * Both sizes: the 100-pod engine stays up while the large one runs, so that the 100-pod
 * views are measured after the large size's memory is taken.
 */
function measure(large: number, log: (line: string) => void): Promise<{small: Measured; big: Measured}> {
	return withSimulatedPods(100, async smallCtx => {
		const smallFirst = await firstFigures(smallCtx, 100, log);
		const big = await withSimulatedPods(large, async bigCtx => {
			const first = await firstFigures(bigCtx, large, log);
			return {...first, ...await viewFigures(bigCtx, large, log)};
		});
		return {small: {...smallFirst, ...await viewFigures(smallCtx, 100, log)}, big};
	});
}

/**
 * Bursts of `size` `j` in one write: write -> the first frame whose selected row is the one `size`
 * rows below the top (or the last row, when there are fewer). The rows are in the feed's order,
 * "namespace/name" compared as plain strings (not a locale's order), and so is the expectation.
 */
async function burstLatencies(client: EmbeddedClient, screen: Screen, keyboard: Keyboard, samples: number, size: number, log: (line: string) => void): Promise<number[]> {
	const list = await client.list(resolveType('pods')!, {namespace: 'default'});
	const keys = list.items.map(p => `${p.metadata.namespace}/${p.metadata.name}`).sort();
	const nameAt = (i: number) => keys[i].slice(keys[i].indexOf('/') + 1);
	const top = nameAt(0);
	const target = nameAt(Math.min(size, keys.length - 1));
	const toTop = async () => {
		if (selectedRow(screen.frame) === top) return;
		const back = nextFrame(screen, f => selectedRow(f) === top, 10_000);
		keyboard.type('g');
		await back;
	};
	const out: number[] = [];
	for (let i = 0; i < samples; i++) {
		await toTop();
		const landed = nextFrame(screen, f => selectedRow(f) === target, 10_000).catch(() => {
			throw new Error(`${size} j from ${top}: the selection stopped on ${selectedRow(screen.frame)}, not ${target} (${size} rows down in the feed's order)`);
		});
		const start = now();
		keyboard.type('j'.repeat(size));
		out.push(await landed - start);
		if (i === 0) {
			// Nothing moves on past the target either: the burst is counted exactly.
			await new Promise(r => setTimeout(r, 200));
			if (selectedRow(screen.frame) !== target) throw new Error(`${size} j from ${top}: the selection went on to ${selectedRow(screen.frame)}, past ${target}`);
			log(`${keys.length} pods: ${size} j from ${top} land on ${target}, row ${Math.min(size, keys.length - 1)} in the feed's order`);
		}
	}
	await toTop();
	return out;
}

/** `command` typed in one write -> the first frame that passes `shown`; esc back to the list (a frame with a selected row) between runs. */
async function viewLatencies(screen: Screen, keyboard: Keyboard, command: string, shown: (frame: string) => boolean, samples: number): Promise<number[]> {
	const out: number[] = [];
	for (let i = 0; i < samples; i++) {
		const open = nextFrame(screen, shown, 30_000);
		const start = now();
		keyboard.type(command);
		out.push(await open - start);
		const back = nextFrame(screen, f => selectedRow(f) !== undefined && !shown(f), 10_000);
		keyboard.type('\u001B');
		await back;
	}
	return out;
}

async function eventLatencies(client: EmbeddedClient, screen: Screen, samples: number): Promise<number[]> {
	const podType = resolveType('pods')!;
	const arrived = new Map<string, number>();
	// Only the resourceVersion to watch from: listing the 10,000 pods here would put this process's own
	// copy of them (tens of MB, parsed at once) into the dashboard's memory figure taken after.
	const list = await client.list(podType, {namespace: 'default', fieldSelector: 'metadata.name=aaa-none'});
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
	description: 'key -> frame, a burst of 100 keys, :xray, :pulses and watch event -> frame latency at 100 and 10,000 pods, and the dashboard\'s memory',
	async run({quick, log}) {
		const large = quick ? 2_000 : 10_000;
		const {small, big} = await measure(large, log);
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
		const p99 = (values: number[]) => percentile(values, 0.99);
		log(`100 j in one write -> frame p99: ${p99(small.bursts).toFixed(1)} ms at 100 pods, ${p99(big.bursts).toFixed(1)} ms at ${large} (p50 ${percentile(big.bursts, 0.5).toFixed(1)} ms)`);
		rows.push(info(`100 j in one write -> frame p99 at ${large} pods`, p99(big.bursts), 'ms', p99(small.bursts)));
		for (const [what, a, b] of [[':xray deployments -> frame', small.xray, big.xray], [':pulses -> frame', small.pulses, big.pulses]] as const) {
			const base = p99([...a]), value = p99([...b]);
			log(`${what} p99: ${base.toFixed(1)} ms at 100 pods, ${value.toFixed(1)} ms at ${large} (p50 ${percentile([...b], 0.5).toFixed(1)} ms)`);
			rows.push({figure: `${what} p99 at ${large} pods`, value, unit: 'ms', baseline: base, ratio: value / base, goal: '<= 100 ms', met: value <= 100});
		}
		log(`dashboard RSS: ${small.memory.rss.toFixed(0)} MB at 100 pods, ${big.memory.rss.toFixed(0)} MB at ${large}`);
		rows.push({figure: `dashboard memory at ${large} pods`, value: big.memory.rss, unit: 'MB', baseline: small.memory.rss, ratio: big.memory.rss / small.memory.rss, goal: '<= 150 MB', met: big.memory.rss <= 150});
		rows.push(info(`dashboard V8 heap used at ${large} pods`, big.memory.heapUsed, 'MB', small.memory.heapUsed));
		const rate = 10_000;
		const logs = await logPane(rate, quick ? 5 : 20, log);
		rows.push(row(`log pane: lines/s received from a pod writing ${rate}/s`, logs.received, 'lines/s', rate, 0.9));
		rows.push({figure: 'log pane: key -> frame p99 while streaming', value: percentile(logs.keys, 0.99), unit: 'ms', baseline: percentile(big.keys, 0.99), ratio: percentile(logs.keys, 0.99) / percentile(big.keys, 0.99), goal: '<= 50 ms', met: percentile(logs.keys, 0.99) <= 50});
		rows.push(info('log pane: dashboard memory after streaming', logs.rssAfter, 'MB', logs.rssBefore));
		return rows;
	},
};
