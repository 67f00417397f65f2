// Network data paths: HTTP keep-alive requests per second and p99 latency
// (autocannon: 10 connections, pipelining 1) against one pod of the built-in
// HTTP image (agnhost netexec, one replica, so every path ends at the same
// server), along each path the engine offers:
// - direct to the pod (podIP:8080): the baseline for everything;
// - a plain Node.js socket pipe (net.createServer + two pipes, nothing else)
//   in this process: the user-space baseline;
// - the ClusterIP and the NodePort through the user-space proxy (goal >= 0.9
//   of the plain pipe);
// - the ClusterIP through the nftables data path, on a second engine with
//   network.proxyMode nftables, against its own direct figure measured beside
//   it (goal >= 0.9 of direct; p99 within 1.2x of direct);
// - the Ingress (Host: bench.example, one Prefix rule): the engine's own
//   HTTP/1.1 data path on net sockets (each request's head parsed for
//   routing and framing, rewritten with X-Forwarded-*, sent with the bytes
//   of the body over a kept-alive connection to the pod; the answer's head
//   parsed for where it ends, its bytes passed back), so an L7 hop that
//   reads every request, against direct (goal >= 0.5 of direct; p99 beside
//   direct's is reported, with no goal).
//   Figures so far (source/engine/network/ingress-proxy.ts says why the
//   path is its own): http-proxy-3 on Node's http.Agent held the Ingress to
//   0.2-0.3 of direct, Node's http server with undici's Pool.dispatch to
//   0.42-0.52; with the engine's own path four full runs gave 0.61, 0.56,
//   0.53 and 0.54 (median rounds; single rounds from 0.24 to 0.89 as the
//   load of the shared 2-core machine came and went), near the plain socket
//   pipe measured beside it (0.68, 0.57, 0.66, 0.84).
// autocannon runs in a child process in a session of its own: the kernel
// shares CPU between sessions first (scheduler autogroups), and the pods and
// the kubelet's shims run in sessions of their own, while this process and
// the engine share one; in this process the load generator would compete
// with the plain pipe and the engine's proxy, not with the pod. The paths
// are measured in 5 interleaved rounds of 3 s (each path once per round, in
// an order rotated per round), after a warm-up of each; a path is compared
// with its baseline round by round (measured seconds apart, so a busier
// moment of the shared machine falls on both) and the round with the
// median ratio is reported.
// Latencies are the per-response times autocannon reports (float ms; its
// own histogram keeps whole ms only).
//
// Also, on each engine (20 scale-ups and 100 deletions on the user-space
// one, 5 and 20 on the nftables one; --quick 5/20 and 2/5), for pods of a
// second Deployment behind a ClusterIP Service polled through the ClusterIP
// by 4 loops of one GET at a time on a new connection each (round robin over
// the endpoints, so a pod is reached within a poll or two):
// - a pod's Ready -> its first answer through the ClusterIP, over scale-ups
//   by one (2 -> 3, then back to 2): Ready is when this process's pod watch
//   sees the Ready condition True (lastTransitionTime has whole seconds
//   only); beside it Ready -> the pod listed in the Endpoints (this process's
//   Endpoints watch);
// - a pod's deletion -> its leaving the rotation, over deletions of one pod
//   of 5: from the delete call to the end of the last poll (started after
//   the call) that the deleted pod answered or that failed (the other pods
//   are healthy: a failure is the deleted pod's), 0 if there was none; the
//   pod is out once the Endpoints no longer list it and 3 rounds of the
//   rotation passed without it. Beside it delete -> gone from the Endpoints.
//   Failed polls (resets, refusals, non-200) are counted.
import {EventEmitter} from 'node:events';
import http from 'node:http';
import net from 'node:net';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {spawn, spawnSync} from 'node:child_process';
import autocannon from 'autocannon';
import type {KubeObject} from '../source/api/object.js';
import {resolveType} from '../source/api/resources.js';
import type {EmbeddedClient} from '../source/client/embedded.js';
import {nftAvailable} from '../source/engine/network/nftables.js';
import {eventually, withEngine} from '../test/helpers.js';
import {type Benchmark, type BenchRow, info, percentile, row} from './harness.js';

type Rec = Record<string, any>;
const pods = resolveType('pods')!;
const deployments = resolveType('deployments')!;
const endpointsType = resolveType('endpoints')!;
const port = 8080;
const ingressHost = 'bench.example';

const container = {
	name: 'web', image: 'kubedeck/agnhost', args: ['netexec', `--http-port=${port}`], ports: [{name: 'http', containerPort: port}],
	readinessProbe: {httpGet: {path: '/readyz', port}, periodSeconds: 1},
};

function deployment(name: string, replicas: number): KubeObject {
	return {
		apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace: 'default'},
		spec: {replicas, selector: {matchLabels: {app: name}}, template: {metadata: {labels: {app: name}}, spec: {terminationGracePeriodSeconds: 5, containers: [container]}}},
	};
}

function service(name: string, type: 'ClusterIP' | 'NodePort'): KubeObject {
	return {apiVersion: 'v1', kind: 'Service', metadata: {name, namespace: 'default'}, spec: {type, selector: {app: name}, ports: [{name: 'http', port, targetPort: port}]}};
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));


const median = (values: number[]) => percentile(values, 0.5);
const f = (n: number, digits = 2) => n.toFixed(digits);

/** A port free on every address now. */
function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '0.0.0.0', () => {
			const {port: p} = server.address() as net.AddressInfo;
			server.close(() => resolve(p));
		});
	});
}

/** One GET on a new connection: status and body, or the error. */
function getOnce(host: string, p: number, hostHeader?: string, timeoutMs = 2000): Promise<{status: number; body: string} | {error: string}> {
	return new Promise(resolve => {
		const req = http.get({host, port: p, path: '/', agent: false, headers: hostHeader ? {host: hostHeader} : {}, timeout: timeoutMs}, res => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', d => (body += d));
			res.on('end', () => resolve({status: res.statusCode ?? 0, body}));
			res.on('error', error => resolve({error: (error as NodeJS.ErrnoException).code ?? error.message}));
		});
		req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), {code: 'ETIMEDOUT'})));
		req.on('error', error => resolve({error: (error as NodeJS.ErrnoException).code ?? error.message}));
	});
}

/** Wait until a path answers 200 with the pod's name. */
async function waitForAnswer(what: string, host: string, p: number, name: string, hostHeader?: string): Promise<void> {
	await eventually(async () => {
		const r = await getOnce(host, p, hostHeader, 1000);
		return 'status' in r && r.status === 200 && r.body === name;
	}, `${what} (${host}:${p}) to answer with ${name}`, 20_000);
}

interface Load {
	rps: number;
	p50: number;
	p99: number;
	errors: number;
	timeouts: number;
	non2xx: number;
	resets: number;
	mismatches: number;
}

/** autocannon for `seconds` against a URL; requests/s of 2xx answers and latency percentiles (ms) of every answer. */
async function load(url: string, seconds: number, hostHeader?: string): Promise<Load> {
	const latencies: number[] = [];
	const result = await new Promise<autocannon.Result>((resolve, reject) => {
		const instance = autocannon({url, connections: 10, pipelining: 1, duration: seconds, headers: hostHeader ? {host: hostHeader} : undefined}, (error, r) => (error ? reject(error) : resolve(r)));
		// The instance re-emits each client's response as (client, status, bytes, ms); ms is a float.
		(instance as unknown as EventEmitter).on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms));
	});
	return {
		rps: result['2xx'] / result.duration,
		p50: median(latencies),
		p99: percentile(latencies, 0.99),
		errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, resets: result.resets, mismatches: result.mismatches,
	};
}

/**
 * `load` in a child process of its own session, so of its own scheduler
 * autogroup: the busy load generator does not share a CPU share with this
 * process (the plain pipe), the engine it started (the proxies) or the pods
 * (each started in a session of its own). The child is this module, run
 * with --load.
 */
function loadChild(url: string, seconds: number, hostHeader?: string): Promise<Load> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--load', JSON.stringify({url, seconds, hostHeader})], {detached: true, stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '', stderr = '';
		child.stdout.on('data', d => (stdout += d));
		child.stderr.on('data', d => (stderr += d));
		const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
		child.once('error', reject);
		child.once('close', code => {
			clearTimeout(timer);
			if (code === 0) resolve(JSON.parse(stdout) as Load);
			else reject(new Error(`autocannon child exited with ${code}: ${stderr}`));
		});
	});
}

if (process.argv[2] === '--load' && process.argv[1] === fileURLToPath(import.meta.url)) {
	const {url, seconds, hostHeader} = JSON.parse(process.argv[3]) as {url: string; seconds: number; hostHeader?: string};
	const result = await load(url, seconds, hostHeader);
	process.stdout.write(JSON.stringify(result), () => process.exit(0));
}

/** The plain socket pipe to the pod, in this process (idle but for it while the load runs in its child). */
async function startPipe(target: string): Promise<{port: number; stop: () => Promise<void>}> {
	const sockets = new Set<net.Socket>();
	const server = net.createServer(s => {
		const u = net.connect(port, target);
		s.on('error', () => u.destroy());
		u.on('error', () => s.destroy());
		s.pipe(u).pipe(s);
		sockets.add(s);
		s.once('close', () => sockets.delete(s));
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	return {port: (server.address() as net.AddressInfo).port, stop: () => new Promise(resolve => {
		for (const s of sockets) s.destroy();
		server.close(() => resolve());
	})};
}

interface Path {
	name: string;
	url: string;
	host?: string;
}

/** Each path warmed up, then measured once per round, rounds interleaved: per path, one Load per round (index = round). */
async function measure(paths: Path[], opts: {seconds: number; rounds: number; warmup: number}, log: (line: string) => void): Promise<Map<string, Load[]>> {
	for (const p of paths) await loadChild(p.url, opts.warmup, p.host);
	const runs = new Map<string, Load[]>(paths.map(p => [p.name, []]));
	for (let r = 0; r < opts.rounds; r++) {
		// Each round starts at another path, so none always runs first or right after the same one.
		for (const p of [...paths.slice(r % paths.length), ...paths.slice(0, r % paths.length)]) {
			const l = await loadChild(p.url, opts.seconds, p.host);
			runs.get(p.name)!.push(l);
			const bad = l.errors + l.timeouts + l.non2xx + l.resets + l.mismatches;
			log(`  round ${r + 1} ${p.name}: ${l.rps.toFixed(0)} req/s, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms${bad ? ` (errors ${l.errors}, timeouts ${l.timeouts}, non-2xx ${l.non2xx}, resets ${l.resets}, mismatches ${l.mismatches})` : ''}`);
		}
	}
	return runs;
}

/**
 * A path against a baseline path, paired by round (the two ran within
 * seconds of each other, so a slower or busier moment of the shared
 * machine falls on both): the round with the median ratio, its value and
 * baseline. Medians of each path on its own would pair figures from
 * different moments.
 */
function paired(runs: Map<string, Load[]>, name: string, base: string, figure: (l: Load) => number): {value: number; baseline: number; ratio: number; ratios: number[]} {
	const values = runs.get(name)!, baselines = runs.get(base)!;
	const pairs = values.map((l, i) => ({value: figure(l), baseline: figure(baselines[i])})).map(pair => ({...pair, ratio: pair.value / pair.baseline}));
	const sorted = [...pairs].sort((x, y) => x.ratio - y.ratio);
	return {...sorted[Math.floor((sorted.length - 1) / 2)], ratios: pairs.map(pair => pair.ratio)};
}

/** Every failure autocannon counted on a path, over all its rounds, if any. */
function failuresOf(list: Load[]): string | undefined {
	const sum = (k: keyof Load) => list.reduce((n, l) => n + l[k], 0);
	const bad = sum('errors') + sum('timeouts') + sum('non2xx') + sum('resets') + sum('mismatches');
	return bad ? `errors ${sum('errors')}, timeouts ${sum('timeouts')}, non-2xx ${sum('non2xx')}, resets ${sum('resets')}, mismatches ${sum('mismatches')}` : undefined;
}

async function podOf(client: EmbeddedClient, app: string): Promise<KubeObject> {
	return eventually(async () => {
		const list = (await client.list(pods, {namespace: 'default', labelSelector: `app=${app}`})).items;
		return list.find(p => !p.metadata.deletionTimestamp && ((p.status as Rec)?.conditions ?? []).some((c: Rec) => c.type === 'Ready' && c.status === 'True'));
	}, `a ready ${app} pod`, 60_000);
}

/** Sequential GETs through an address, a new connection each, until stopped; every answer reported with the request's start and end. */
class Poller {
	private stopped = false;
	private readonly done: Promise<void>;
	constructor(host: string, p: number, onAnswer: (start: number, end: number, name: string | undefined, failure?: string) => void) {
		this.done = (async () => {
			while (!this.stopped) {
				const start = performance.now();
				const r = await getOnce(host, p);
				const end = performance.now();
				if ('error' in r) onAnswer(start, end, undefined, r.error);
				else if (r.status !== 200) onAnswer(start, end, undefined, `HTTP ${r.status}`);
				else onAnswer(start, end, r.body);
				// A failure (nothing listening yet) does not spin.
				if ('error' in r) await sleep(5);
			}
		})();
	}

	async stop(): Promise<void> {
		this.stopped = true;
		await this.done;
	}
}

const readyOf = (pod: KubeObject) => ((pod.status as Rec)?.conditions ?? []).some((c: Rec) => c.type === 'Ready' && c.status === 'True');
const addressesOf = (ep: KubeObject | undefined) => ((ep?.subsets ?? []) as Rec[]).flatMap(s => ((s.addresses ?? []) as Rec[]).map(a => a.targetRef?.name as string));

interface Rotation {
	/** Ready -> first answer through the ClusterIP, ms, per scale-up. */
	readyToAnswer: number[];
	/** Ready -> listed in the Endpoints, ms. */
	readyToEndpoints: number[];
	/** Scale call -> first answer, ms. */
	scaleToAnswer: number[];
	/** Delete call -> the end of the last request after it that the deleted pod answered or that failed (0 if none), ms. */
	deleteToGone: number[];
	/** Delete call -> gone from the Endpoints, ms. */
	deleteToEndpoints: number[];
	/** Deletions after whose call the deleted pod still answered a request. */
	answeredAfterDelete: number;
	/** Polls, and polls that failed (connection error or non-200), while pods came (scale-ups and -downs) and went (deletions). */
	polls: {up: number; down: number};
	failed: {up: number; down: number};
	failures: Map<string, number>;
	/** Polls per second through the ClusterIP (all pollers). */
	pollRate: number;
	/** Round trips of the polls (ms): with the pods settled (1 s after the scale-ups), during scale-ups and -downs, during deletions. */
	roundTrips: {steady: number[]; up: number[]; down: number[]};
}

/** Concurrent pollers through the ClusterIP: the rotation's resolution is about (backends / pollers) polls. */
const pollers = 4;

/**
 * The rotation experiments on Deployment and Service `rot`: `ups` scale-ups
 * by one (2 -> 3, then back to 2 and settled), then `downs` deletions of one
 * pod of 5 (a deletion waits until 3 pods it has not deleted answer; the
 * ReplicaSet's replacements start meanwhile).
 */
async function rotation(client: EmbeddedClient, ups: number, downs: number, log: (line: string) => void): Promise<Rotation> {
	const out: Rotation = {readyToAnswer: [], readyToEndpoints: [], scaleToAnswer: [], deleteToGone: [], deleteToEndpoints: [], answeredAfterDelete: 0, polls: {up: 0, down: 0}, failed: {up: 0, down: 0}, failures: new Map(), pollRate: 0, roundTrips: {steady: [], up: [], down: []}};
	await client.create(deployment('rot', 2));
	const svc = await client.create(service('rot', 'ClusterIP'));
	const clusterIP = (svc.spec as Rec).clusterIP as string;
	// What this process's watches saw, when.
	const readyAt = new Map<string, number>();
	const listedAt = new Map<string, number>();
	const unlistedAt = new Map<string, number>();
	const podsNow = new Map<string, KubeObject>();
	let endpoints: string[] = [];
	const podWatch = client.watch(pods, {namespace: 'default', labelSelector: 'app=rot'}, event => {
		const name = event.object.metadata?.name;
		if (!name) return;
		if (event.type === 'DELETED') podsNow.delete(name);
		else podsNow.set(name, event.object);
		if (readyOf(event.object) && !readyAt.has(name)) readyAt.set(name, performance.now());
	});
	const epWatch = client.watch(endpointsType, {namespace: 'default'}, event => {
		if (event.object.metadata?.name !== 'rot') return;
		const now = performance.now();
		const next = event.type === 'DELETED' ? [] : addressesOf(event.object);
		for (const n of next) if (!listedAt.has(n)) listedAt.set(n, now);
		for (const n of endpoints) if (!next.includes(n) && !unlistedAt.has(n)) unlistedAt.set(n, now);
		endpoints = next;
	});
	// Answers through the ClusterIP since the current change began; failures are counted only
	// once the Service has ready pods (before, the listener has no backend and resets).
	let phase: 'up' | 'down' | 'idle' = 'idle';
	let steady = false;
	const answers: {start: number; end: number; name?: string; failure?: string}[] = [];
	const lastSeen = new Map<string, number>();
	let counted = 0, countedSince = 0, countedUntil = 0;
	const onAnswer = (start: number, end: number, name: string | undefined, failure?: string) => {
		if (name) lastSeen.set(name, end);
		if (steady) out.roundTrips.steady.push(end - start);
		if (phase === 'idle') return;
		out.roundTrips[phase].push(end - start);
		answers.push({start, end, name, failure});
		out.polls[phase]++;
		counted++;
		countedUntil = end;
		if (failure) {
			out.failed[phase]++;
			out.failures.set(failure, (out.failures.get(failure) ?? 0) + 1);
		}
	};
	const polling = Array.from({length: pollers}, () => new Poller(clusterIP, port, onAnswer));
	const began = performance.now();
	try {
		const live = () => [...podsNow.values()].filter(p => !p.metadata.deletionTimestamp);
		const settle = async (replicas: number) => eventually(() => podsNow.size === replicas && live().every(readyOf) && endpoints.length === replicas
			&& endpoints.every(n => (lastSeen.get(n) ?? 0) > performance.now() - 500), `rot at ${replicas} ready pods answering`, 60_000);
		await settle(2);
		phase = 'up';
		countedSince = performance.now();
		for (let i = 0; i < ups; i++) {
			const known = new Set(podsNow.keys());
			answers.length = 0;
			const t0 = performance.now();
			await client.scale(deployments, 'default', 'rot', 3);
			const first = await eventually(() => answers.find(a => a.name && !known.has(a.name)), 'the new pod to answer through the ClusterIP', 30_000);
			const name = first.name!;
			await eventually(() => readyAt.has(name) && listedAt.has(name), `the watches to see ${name} Ready and listed`);
			out.readyToAnswer.push(first.end - readyAt.get(name)!);
			out.readyToEndpoints.push(listedAt.get(name)! - readyAt.get(name)!);
			out.scaleToAnswer.push(first.end - t0);
			await client.scale(deployments, 'default', 'rot', 2);
			await settle(2);
		}
		// Round trips with the pods settled (and warm), for comparison.
		phase = 'idle';
		steady = true;
		await sleep(1000);
		steady = false;
		phase = 'up';
		const upsDone = performance.now();
		await client.scale(deployments, 'default', 'rot', 5);
		await settle(5);
		phase = 'down';
		const deleted = new Set<string>();
		for (let i = 0; i < downs; i++) {
			// A victim in the Endpoints that answered lately, with 2 more such pods beside it.
			const inRotation = () => endpoints.filter(n => !deleted.has(n) && (lastSeen.get(n) ?? 0) > performance.now() - 200);
			const candidates = await eventually(() => inRotation().length >= 3 && inRotation(), 'three pods in the rotation', 60_000);
			const victim = candidates[0];
			deleted.add(victim);
			answers.length = 0;
			const t0 = performance.now();
			await client.delete(pods, 'default', victim);
			// Gone: out of the Endpoints, and 3 rounds of the rotation answered by others since its last answer or failure.
			await eventually(() => {
				if (!unlistedAt.has(victim)) return false;
				const after = answers.filter(a => a.start >= t0);
				const last = after.findLastIndex(a => a.name === victim || a.failure);
				return after.slice(last + 1).filter(a => a.name).length >= 3 * Math.max(1, endpoints.length);
			}, `${victim} to leave the rotation`, 30_000);
			const after = answers.filter(a => a.start >= t0);
			const last = after.filter(a => a.name === victim || a.failure).at(-1);
			if (after.some(a => a.name === victim)) out.answeredAfterDelete++;
			out.deleteToGone.push(last ? last.end - t0 : 0);
			out.deleteToEndpoints.push(unlistedAt.get(victim)! - t0);
		}
		log(`rotation: scale-ups took ${f((upsDone - began) / 1000, 1)} s, deletions ${f((performance.now() - upsDone) / 1000, 1)} s`);
	} finally {
		phase = 'idle';
		await Promise.all(polling.map(p => p.stop()));
		podWatch.stop();
		epWatch.stop();
	}
	out.pollRate = counted / ((countedUntil - countedSince) / 1000);
	const trips = (what: string, v: number[]) => `${what} p50 ${f(percentile(v, 0.5))} ms, p99 ${f(percentile(v, 0.99))} ms, max ${f(Math.max(...v))} ms`;
	log(`rotation: poll round trips through the ClusterIP (new connection each): ${trips('settled', out.roundTrips.steady)}; ${trips('scale-ups/downs', out.roundTrips.up)}; ${trips('deletions', out.roundTrips.down)}`);
	log(`rotation: ${pollers} pollers, ${f(out.pollRate, 0)} polls/s; ${out.polls.up} polls during scale-ups (${out.failed.up} failed), ${out.polls.down} during deletions (${out.failed.down} failed)${out.failures.size ? `: ${[...out.failures].map(([k, v]) => `${k} x${v}`).join(', ')}` : ''}`);
	return out;
}

/** Listening TCP sockets on an address (to tell the nftables path from a user-space listener). */
function listenersOn(ip: string, p: number): string {
	const r = spawnSync('ss', ['-Hltn', `src ${ip}:${p}`], {encoding: 'utf8'});
	return r.status === 0 ? r.stdout.trim() : `(ss failed: ${r.stderr.trim()})`;
}

function nftTables(): string[] {
	const r = spawnSync('nft', ['list', 'tables'], {encoding: 'utf8'});
	return r.status === 0 ? r.stdout.split('\n').filter(l => l.includes('kubedeck-')) : [];
}

/** The rotation figures as rows (µs: the table prints whole units), and in the log. */
function rotationRows(rot: Rotation, label: string, log: (line: string) => void): BenchRow[] {
	const p = (values: number[], q: number) => percentile(values, q);
	const us = (values: number[], q: number) => p(values, q) * 1000;
	log(`pod Ready -> first answer through the ClusterIP${label} (${rot.readyToAnswer.length} scale-ups): p50 ${f(p(rot.readyToAnswer, 0.5), 1)} ms, p99 ${f(p(rot.readyToAnswer, 0.99), 1)} ms (Ready -> in Endpoints: p50 ${f(p(rot.readyToEndpoints, 0.5), 1)} ms, p99 ${f(p(rot.readyToEndpoints, 0.99), 1)} ms; scale call -> first answer p50 ${f(p(rot.scaleToAnswer, 0.5), 0)} ms)`);
	log(`pod deleted -> out of the rotation through the ClusterIP${label} (${rot.deleteToGone.length} deletions): p50 ${f(p(rot.deleteToGone, 0.5), 1)} ms, p99 ${f(p(rot.deleteToGone, 0.99), 1)} ms, max ${f(Math.max(...rot.deleteToGone), 1)} ms; the deleted pod answered after the delete call in ${rot.answeredAfterDelete} (delete -> out of Endpoints: p50 ${f(p(rot.deleteToEndpoints, 0.5), 1)} ms, p99 ${f(p(rot.deleteToEndpoints, 0.99), 1)} ms)`);
	return [
		info(`pod Ready -> first answer via ClusterIP${label}: p50 (baseline Ready -> in Endpoints)`, us(rot.readyToAnswer, 0.5), 'µs', us(rot.readyToEndpoints, 0.5)),
		info(`pod Ready -> first answer via ClusterIP${label}: p99 (baseline Ready -> in Endpoints)`, us(rot.readyToAnswer, 0.99), 'µs', us(rot.readyToEndpoints, 0.99)),
		info(`pod deleted -> out of rotation via ClusterIP${label}: p50 (baseline delete -> out of Endpoints)`, us(rot.deleteToGone, 0.5), 'µs', us(rot.deleteToEndpoints, 0.5)),
		info(`pod deleted -> out of rotation via ClusterIP${label}: p99 (baseline delete -> out of Endpoints)`, us(rot.deleteToGone, 0.99), 'µs', us(rot.deleteToEndpoints, 0.99)),
		info(`failed polls via ClusterIP${label} in scale-up/down cycles (of all polls)`, rot.failed.up, 'polls', rot.polls.up),
		info(`failed polls via ClusterIP${label} in deletions (of all polls)`, rot.failed.down, 'polls', rot.polls.down),
	];
}

export const network: Benchmark = {
	name: 'network',
	description: 'HTTP keep-alive req/s and p99 to one agnhost pod: direct, a plain Node.js pipe, ClusterIP and NodePort (user-space), ClusterIP (nftables), Ingress; pods entering and leaving the rotation',
	async run({quick, log}) {
		const opts = {seconds: quick ? 1 : 3, rounds: quick ? 1 : 5, warmup: quick ? 0.5 : 1};
		const ups = quick ? 5 : 20;
		const downs = quick ? 20 : 100;
		// Fewer on the nftables engine: there for comparison (connections there are not retried on another endpoint).
		const nftUps = quick ? 2 : 5;
		const nftDowns = quick ? 5 : 20;
		const rows: BenchRow[] = [];
		const httpPort = await freePort();
		const httpsPort = await freePort();

		// The user-space engine: direct, pipe, ClusterIP, NodePort, Ingress; then the rotation experiments.
		const user = await withEngine({configYaml: `network:\n  ingress: {http: ${httpPort}, https: ${httpsPort}}\n`}, async ({client}) => {
			await client.create(deployment('bench', 1));
			const svc = await client.create(service('bench', 'NodePort'));
			await client.create({
				apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: {name: 'bench', namespace: 'default'},
				spec: {rules: [{host: ingressHost, http: {paths: [{path: '/', pathType: 'Prefix', backend: {service: {name: 'bench', port: {number: port}}}}]}}]},
			});
			const pod = await podOf(client, 'bench');
			const podName = pod.metadata.name!;
			const podIP = (pod.status as Rec).podIP as string;
			const clusterIP = (svc.spec as Rec).clusterIP as string;
			const nodePort = ((svc.spec as Rec).ports as Rec[])[0].nodePort as number;
			await waitForAnswer('the pod', podIP, port, podName);
			await waitForAnswer('the ClusterIP', clusterIP, port, podName);
			await waitForAnswer('the NodePort', '127.0.0.1', nodePort, podName);
			await waitForAnswer('the Ingress', '127.0.0.1', httpPort, podName, ingressHost);
			const pipe = await startPipe(podIP);
			let loads: Map<string, Load[]>;
			try {
				await waitForAnswer('the plain pipe', '127.0.0.1', pipe.port, podName);
				log(`pod ${podName} at ${podIP}:${port}; ClusterIP ${clusterIP}:${port}; NodePort 127.0.0.1:${nodePort}; Ingress 127.0.0.1:${httpPort} (Host: ${ingressHost}); plain pipe 127.0.0.1:${pipe.port}`);
				log(`user-space engine: ${opts.rounds} round(s) of ${opts.seconds} s per path, 10 connections, pipelining 1`);
				loads = await measure([
					{name: 'direct', url: `http://${podIP}:${port}/`},
					{name: 'pipe', url: `http://127.0.0.1:${pipe.port}/`},
					{name: 'clusterip', url: `http://${clusterIP}:${port}/`},
					{name: 'nodeport', url: `http://127.0.0.1:${nodePort}/`},
					{name: 'ingress', url: `http://127.0.0.1:${httpPort}/`, host: ingressHost},
				], opts, log);
			} finally {
				await pipe.stop();
			}
			log(`rotation: ${ups} scale-ups by one and ${downs} deletions through ClusterIP of Service rot`);
			const rot = await rotation(client, ups, downs, log);
			return {loads, rot};
		});

		// The nftables engine: direct and ClusterIP, beside each other.
		let nft: {loads: Map<string, Load[]>; rot: Rotation} | undefined;
		if (!nftAvailable()) {
			log('nftables: skipped (needs root and the nft program)');
		} else {
			nft = await withEngine({configYaml: 'network:\n  proxyMode: nftables\n'}, async ({client, engine}) => {
				await client.create(deployment('bench', 1));
				const svc = await client.create(service('bench', 'ClusterIP'));
				const pod = await podOf(client, 'bench');
				const podName = pod.metadata.name!;
				const podIP = (pod.status as Rec).podIP as string;
				const clusterIP = (svc.spec as Rec).clusterIP as string;
				await waitForAnswer('the pod', podIP, port, podName);
				await waitForAnswer('the ClusterIP (nftables)', clusterIP, port, podName);
				const listening = listenersOn(clusterIP, port);
				if (listening.startsWith('(')) log(`nftables engine: cannot tell whether anything listens on the ClusterIP ${listening}`);
				else if (listening) throw new Error(`nftables engine: something listens on ${clusterIP}:${port} (the user-space proxy?): ${listening}`);
				log(`nftables engine (pid ${engine.pid}, table ${nftTables().join(', ') || '?'}): pod ${podName} at ${podIP}:${port}; ClusterIP ${clusterIP}:${port}, no listener on it (kernel DNAT)`);
				const loads = await measure([
					{name: 'direct', url: `http://${podIP}:${port}/`},
					{name: 'clusterip', url: `http://${clusterIP}:${port}/`},
				], opts, log);
				log(`rotation (nftables): ${nftUps} scale-ups by one and ${nftDowns} deletions through ClusterIP of Service rot`);
				return {loads, rot: await rotation(client, nftUps, nftDowns, line => log(`${line} (nftables)`))};
			});
			const left = nftTables();
			if (left.length) log(`nftables: tables left after the engine stopped: ${left.join(', ')}`);
		}

		const {loads, rot} = user;
		const rps = (l: Load) => l.rps, p99 = (l: Load) => l.p99 * 1000;
		const list = (ratios: number[]) => ratios.map(r => f(r)).join(', ');
		// One row per comparison, from the round with the median ratio; every round's ratio in the log.
		const compare = (runs: Map<string, Load[]>, name: string, base: string, what: string, goal?: number) => {
			const c = paired(runs, name, base, rps);
			log(`${what}: ${f(c.value, 0)} req/s = ${f(c.ratio)} of ${f(c.baseline, 0)} (median round; rounds: ${list(c.ratios)})${goal ? ` (goal >= ${goal})` : ''}`);
			return goal ? row(`${what}: req/s`, c.value, 'req/s', c.baseline, goal) : info(`${what}: req/s`, c.value, 'req/s', c.baseline);
		};
		const latency = (runs: Map<string, Load[]>, name: string, base: string, what: string) => {
			const c = paired(runs, name, base, p99);
			log(`${what}: p99 ${f(c.value / 1000)} ms = ${f(c.ratio)}x ${f(c.baseline / 1000)} ms (median round; rounds: ${list(c.ratios)})`);
			return {c, row: info(`${what}: p99`, c.value, 'µs', c.baseline)};
		};
		const directRps = median(loads.get('direct')!.map(rps)), directP99 = median(loads.get('direct')!.map(p99));
		log(`direct to the pod: median ${f(directRps, 0)} req/s, p99 ${f(directP99 / 1000)} ms`);
		rows.push(
			info('direct to the pod (median round): req/s', directRps, 'req/s', directRps),
			compare(loads, 'pipe', 'direct', 'plain Node.js pipe vs direct'),
			compare(loads, 'clusterip', 'pipe', 'ClusterIP (user-space) vs plain pipe', 0.9),
			compare(loads, 'clusterip', 'direct', 'ClusterIP (user-space) vs direct'),
			compare(loads, 'nodeport', 'pipe', 'NodePort (user-space) vs plain pipe', 0.9),
			compare(loads, 'nodeport', 'direct', 'NodePort (user-space) vs direct'),
			compare(loads, 'ingress', 'direct', 'Ingress vs direct', 0.5),
			// Latencies in µs: the table prints whole units.
			info('direct to the pod (median round): p99', directP99, 'µs', directP99),
			latency(loads, 'pipe', 'direct', 'plain Node.js pipe vs direct').row,
			latency(loads, 'clusterip', 'direct', 'ClusterIP (user-space) vs direct').row,
			latency(loads, 'nodeport', 'direct', 'NodePort (user-space) vs direct').row,
			latency(loads, 'ingress', 'direct', 'Ingress vs direct').row,
		);
		for (const [name, runs] of loads) {
			const failed = failuresOf(runs);
			if (failed) log(`${name}: ${failed}`);
		}
		if (nft) {
			log(`nftables engine: direct median ${f(median(nft.loads.get('direct')!.map(rps)), 0)} req/s, p99 ${f(median(nft.loads.get('direct')!.map(p99)) / 1000)} ms`);
			rows.push(compare(nft.loads, 'clusterip', 'direct', 'ClusterIP (nftables) vs direct', 0.9));
			const {c} = latency(nft.loads, 'clusterip', 'direct', 'ClusterIP (nftables) vs direct (goal <= 1.2x)');
			rows.push({figure: 'ClusterIP (nftables) vs direct: p99', value: c.value, unit: 'µs', baseline: c.baseline, ratio: c.ratio, goal: '<= 1.2x direct', met: c.ratio <= 1.2});
			for (const [name, runs] of nft.loads) {
				const failed = failuresOf(runs);
				if (failed) log(`nftables ${name}: ${failed}`);
			}
		} else rows.push(info('ClusterIP (nftables): skipped, needs root and nft', 0, '-', 1));

		rows.push(...rotationRows(rot, '', log));
		if (nft) rows.push(...rotationRows(nft.rot, ' (nftables)', log));
		return rows;
	},
};
