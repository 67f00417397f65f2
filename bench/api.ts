// The API as its clients see it, with 10,000 pods on 100 simulated nodes
// (2,000 with --quick), in one engine and one run:
// - `kubectl get pods -A` (the server's Table, in kubectl's 500-pod chunks),
//   `kubectl get pods -A -o json` (the same chunks as JSON) over TLS with the
//   token of `kubedeck kubeconfig`, and `kubedeck get pods -A` (our CLI, on
//   the unix socket): the whole process, start to exit, output read. Each
//   beside `kubectl get ns` (a process start, a TLS handshake and a tiny
//   list: what no command can go under) taken in the same rounds: 5 rounds
//   (3 with --quick) of all the commands in turn, after one of each to warm
//   kubectl's discovery cache (--cache-dir) and the page cache; the median
//   of the rounds. Goal: each under 1 s; the ratio to the floor is what the
//   pods cost. `kubedeck get ns` is shown too, our CLI's own floor.
//   kubectl's own client-side rate limiter (client-go's default 5 requests
//   a second, bursts of 10; kubectl -v=6 says "Waited for ... due to
//   client-side throttling") holds 20 chunks of 500 to about 2 s whatever
//   the server does: the chunks after the tenth wait 200 ms each, while the
//   engine answers each in 8-20 ms. So `kubectl get pods -A --chunk-size=0`
//   (one request) is measured beside it, the figure the server decides; and
//   `-o json` is kubectl decoding 23 MB into unstructured objects (about 6
//   s of its own CPU, as -o name shows).
// - Watch delivery: a client-node informer (makeInformer, a KubeConfig from
//   that kubeconfig) on the ConfigMaps of one namespace; 1,000 ConfigMap
//   creates (200 with --quick), one after another, over TLS on a keep-alive
//   connection with the same token. Per create, the time from sending it to
//   the informer's `add` handler for it, beside the time from sending it to
//   its own 201 (the write's round trip: the floor an event cannot beat by
//   much, since both leave the engine from the same commit). The writer
//   keeps its connection because client-node opens a new one (a new agent)
//   per request, and a handshake in every sample would measure that rather
//   than the engine. Goal: delivery p99 under 100 ms.
// - The initial list an informer or kubectl makes of all the pods: in chunks
//   of limit=500 following `continue`, beside one unchunked list, both over
//   TLS on a keep-alive connection, each body read and parsed; 5 rounds
//   (3 with --quick), interleaved, medians. The ratio is shown; the goal
//   is <= 1.5x: a chunk ought to cost its share of the list plus a round
//   trip (kube-apiserver has etcd read a range from where the last chunk
//   ended, not the whole list again), so 20 chunks on one connection should
//   cost little more than one list.
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {readEndpoint} from '../source/server/api/auth.js';
import {cliPath} from '../test/helpers.js';
import {type Benchmark, type BenchRow, info, percentile, withSimulatedPods} from './harness.js';

const median = (values: number[]) => percentile(values, 0.5);
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** A row held to an absolute ceiling (lower is better), with a baseline for the ratio. */
function under(figure: string, value: number, unit: string, baseline: number, ceiling: number): BenchRow {
	return {figure, value, unit, baseline, ratio: value / baseline, goal: `<= ${ceiling} ${unit}`, met: value <= ceiling};
}

/** Run a command to its exit; its wall time in ms and its stdout. */
function timed(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ms: number; stdout: string}> {
	return new Promise((resolve, reject) => {
		const start = performance.now();
		execFile(file, args, {env: {...process.env, ...env}, maxBuffer: 512 * 1024 * 1024, timeout: 120_000}, (error, stdout, stderr) => {
			const took = performance.now() - start;
			if (error) reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${error.message}\n${stderr}`));
			else resolve({ms: took, stdout});
		});
	});
}

interface Tls {
	agent: https.Agent;
	url: URL;
	token: string;
}

function request(tls: Tls, method: string, urlPath: string, body?: object): Promise<{code: number; text: string}> {
	return new Promise((resolve, reject) => {
		const text = body ? JSON.stringify(body) : undefined;
		const headers: Record<string, string | number> = {Authorization: `Bearer ${tls.token}`, Accept: 'application/json'};
		if (text) Object.assign(headers, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)});
		const req = https.request({host: tls.url.hostname, port: tls.url.port, path: urlPath, method, agent: tls.agent, headers}, res => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => resolve({code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8')}));
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end(text);
	});
}

async function getJson(tls: Tls, urlPath: string): Promise<{metadata: {continue?: string}; items: unknown[]}> {
	const {code, text} = await request(tls, 'GET', urlPath);
	if (code !== 200) throw new Error(`GET ${urlPath}: HTTP ${code}: ${text.slice(0, 300)}`);
	return JSON.parse(text);
}

async function commands(home: string, kubeconfig: string, count: number, rounds: number, log: (line: string) => void) {
	const cacheDir = path.join(home, 'kube-cache');
	const kubectl = (...args: string[]) => timed('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args]);
	const kubedeck = (...args: string[]) => timed(process.execPath, [cliPath, ...args], {KUBEDECK_HOME: home});
	const runs: Record<string, [string, () => Promise<{ms: number; stdout: string}>]> = {
		floor: ['kubectl get ns', () => kubectl('get', 'ns')],
		table: ['kubectl get pods -A', () => kubectl('get', 'pods', '-A')],
		unchunked: ['kubectl get pods -A --chunk-size=0', () => kubectl('get', 'pods', '-A', '--chunk-size=0')],
		json: ['kubectl get pods -A -o json', () => kubectl('get', 'pods', '-A', '-o', 'json')],
		kubedeck: ['kubedeck get pods -A', () => kubedeck('get', 'pods', '-A')],
		kubedeckFloor: ['kubedeck get ns', () => kubedeck('get', 'ns')],
	};
	// Each command's output holds every pod (a pod's name once per line, or once per object in JSON).
	const check = (key: string, stdout: string) => {
		if (key === 'floor' || key === 'kubedeckFloor') return;
		const pods = key === 'json' ? (JSON.parse(stdout) as {items: unknown[]}).items.length : stdout.split('\n').filter(l => / many-/.test(l)).length;
		if (pods < count) throw new Error(`${runs[key][0]} showed ${pods} pods, expected ${count}`);
	};
	for (const [key, [, run]] of Object.entries(runs)) check(key, (await run()).stdout);
	const times: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map(k => [k, []]));
	for (let round = 0; round < rounds; round++) {
		// Rotated, so no command always follows the same one.
		const keys = Object.keys(runs);
		for (let i = 0; i < keys.length; i++) {
			const key = keys[(i + round) % keys.length];
			const {ms: took, stdout} = await runs[key][1]();
			check(key, stdout);
			times[key].push(took);
		}
	}
	for (const [key, [what]] of Object.entries(runs)) log(`${what}: median ${ms(median(times[key]))} (runs: ${times[key].map(t => t.toFixed(0)).join(', ')} ms)`);
	return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof runs, number>;
}

async function delivery(kubeconfig: string, tls: Tls, writes: number, log: (line: string) => void): Promise<{deliver: number[]; ack: number[]}> {
	const k8s = await import('@kubernetes/client-node');
	const kc = new k8s.KubeConfig();
	kc.loadFromFile(kubeconfig);
	const core = kc.makeApiClient(k8s.CoreV1Api);
	const namespace = 'watch-bench';
	const created = await request(tls, 'POST', '/api/v1/namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespace}});
	if (created.code !== 201) throw new Error(`creating the namespace: HTTP ${created.code} ${created.text}`);
	const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () => core.listNamespacedConfigMap({namespace}));
	const waiting = new Map<string, (t: number) => void>();
	const errors: unknown[] = [];
	informer.on('add', obj => waiting.get(obj.metadata!.name!)?.(performance.now()));
	informer.on('error', error => errors.push(error));
	const connected = new Promise<void>(resolve => informer.on('connect', () => resolve()));
	await informer.start();
	await connected;
	// The informer's watch is open once a first create reaches it.
	const reach = async (name: string) => {
		const seen = new Promise<number>(resolve => waiting.set(name, resolve));
		const start = performance.now();
		const res = await request(tls, 'POST', `/api/v1/namespaces/${namespace}/configmaps`, {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace}, data: {n: name}});
		const acked = performance.now();
		if (res.code !== 201) throw new Error(`create ${name}: HTTP ${res.code} ${res.text.slice(0, 300)}`);
		const delivered = await Promise.race([seen, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`${name} did not reach the informer in 10 s (errors: ${errors.map(String).join('; ')})`)), 10_000))]);
		waiting.delete(name);
		return {ack: acked - start, deliver: delivered - start};
	};
	try {
		for (let i = 0; i < 20; i++) await reach(`warm-${i}`);
		const deliver: number[] = [], ack: number[] = [];
		for (let i = 0; i < writes; i++) {
			const sample = await reach(`cm-${i}`);
			deliver.push(sample.deliver);
			ack.push(sample.ack);
		}
		if (errors.length) throw new Error(`the informer reported errors: ${errors.map(String).join('; ')}`);
		log(`${writes} creates: informer add p50 ${ms(percentile(deliver, 0.5))}, p99 ${ms(percentile(deliver, 0.99))}, max ${ms(Math.max(...deliver))}; the create's own 201 p50 ${ms(percentile(ack, 0.5))}, p99 ${ms(percentile(ack, 0.99))}`);
		log(`informer add before the writer's 201 in ${deliver.filter((d, i) => d < ack[i]).length} of ${writes}`);
		return {deliver, ack};
	} finally {
		await informer.stop();
	}
}

async function chunkedList(tls: Tls, count: number, rounds: number, log: (line: string) => void): Promise<{chunked: number; whole: number}> {
	const whole = async () => {
		const start = performance.now();
		const list = await getJson(tls, '/api/v1/pods');
		if (list.items.length < count) throw new Error(`one list gave ${list.items.length} pods`);
		return performance.now() - start;
	};
	const chunked = async () => {
		const start = performance.now();
		let items = 0, pages = 0, next: string | undefined;
		do {
			const list = await getJson(tls, `/api/v1/pods?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ''}`);
			items += list.items.length;
			pages++;
			next = list.metadata.continue;
		} while (next);
		if (items < count) throw new Error(`the chunks gave ${items} pods`);
		if (pages < Math.ceil(count / 500)) throw new Error(`only ${pages} chunks`);
		return performance.now() - start;
	};
	await whole();
	await chunked();
	const times = {whole: [] as number[], chunked: [] as number[]};
	for (let round = 0; round < rounds; round++) {
		if (round % 2) {
			times.chunked.push(await chunked());
			times.whole.push(await whole());
		} else {
			times.whole.push(await whole());
			times.chunked.push(await chunked());
		}
	}
	log(`list of ${count} pods: one list median ${ms(median(times.whole))} (runs: ${times.whole.map(t => t.toFixed(0)).join(', ')} ms); in chunks of 500 median ${ms(median(times.chunked))} (runs: ${times.chunked.map(t => t.toFixed(0)).join(', ')} ms)`);
	return {chunked: median(times.chunked), whole: median(times.whole)};
}

export const api: Benchmark = {
	name: 'api',
	description: 'kubectl and kubedeck listing 10,000 pods beside `kubectl get ns`; write -> client-node informer delivery beside the write\'s round trip; a chunked list of 10,000 pods vs one list',
	async run({quick, log}) {
		const count = quick ? 2_000 : 10_000;
		const rounds = quick ? 3 : 5;
		const writes = quick ? 200 : 1_000;
		return withSimulatedPods(count, async ({home}) => {
			const kubeconfig = path.join(home, 'kubeconfig');
			const config = await timed(process.execPath, [cliPath, 'kubeconfig'], {KUBEDECK_HOME: home});
			fs.writeFileSync(kubeconfig, config.stdout, {mode: 0o600});
			const tls: Tls = {
				agent: new https.Agent({keepAlive: true, maxSockets: 1, ca: fs.readFileSync(path.join(home, 'ca.crt'))}),
				url: new URL(readEndpoint(home)!),
				token: /token: (\S+)/.exec(config.stdout)![1],
			};
			try {
				const rows: BenchRow[] = [];
				const t = await commands(home, kubeconfig, count, rounds, log);
				rows.push(under(`kubectl get pods -A at ${count} pods (baseline: kubectl get ns)`, t.table, 'ms', t.floor, 1000));
				rows.push(under(`kubectl get pods -A --chunk-size=0 at ${count} pods (baseline: kubectl get ns)`, t.unchunked, 'ms', t.floor, 1000));
				rows.push(under(`kubectl get pods -A -o json at ${count} pods (baseline: kubectl get ns)`, t.json, 'ms', t.floor, 1000));
				rows.push(under(`kubedeck get pods -A at ${count} pods (baseline: kubectl get ns)`, t.kubedeck, 'ms', t.floor, 1000));
				rows.push(info('kubedeck get ns (baseline: kubectl get ns)', t.kubedeckFloor, 'ms', t.floor));
				const {deliver, ack} = await delivery(kubeconfig, tls, writes, log);
				rows.push(info(`write -> informer add p50 (baseline: the write's 201)`, percentile(deliver, 0.5), 'ms', percentile(ack, 0.5)));
				rows.push(under(`write -> informer add p99 (baseline: the write's 201)`, percentile(deliver, 0.99), 'ms', percentile(ack, 0.99), 100));
				const lists = await chunkedList(tls, count, rounds, log);
				rows.push({figure: `list of ${count} pods in chunks of 500 (baseline: one list)`, value: lists.chunked, unit: 'ms', baseline: lists.whole, ratio: lists.chunked / lists.whole, goal: '<= 1.5x', met: lists.chunked / lists.whole <= 1.5});
				return rows;
			} finally {
				tls.agent.destroy();
			}
		});
	},
};
