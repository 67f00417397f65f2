// Services carry traffic: Endpoints and EndpointSlices follow the pods, the
// user-space proxy answers on ClusterIPs, NodePorts and load-balancer
// addresses, with real pods (the built-in HTTP image) behind them.
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import dns from 'node:dns/promises';
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import {after, before, describe, it} from 'node:test';
import YAML from 'yaml';
import type {KubeObject} from '../../source/api/object.js';
import {resolveType} from '../../source/api/resources.js';
import {EmbeddedClient} from '../../source/client/embedded.js';
import {hasBubblewrap} from '../../source/engine/kubelet/kubelet.js';
import {podPaths, stateId} from '../../source/engine/layout.js';
import {nftAvailable} from '../../source/engine/network/nftables.js';
import {selfSignedCert} from '../../source/server/auth/ca.js';
import {cliPath, closeEngine, type EngineProcess, eventually, openEngine, repoRoot, runCli, startEngine} from '../helpers.js';

type Rec = Record<string, any>;
const svcType = resolveType('services')!;
const epType = resolveType('endpoints')!;
const sliceType = resolveType('endpointslices')!;
const podType = resolveType('pods')!;
const deployType = resolveType('deployments')!;

/** One HTTP GET on a new connection: the body, or the error's code. */
function get(host: string, port: number, timeoutMs = 5000): Promise<string> {
	return new Promise((resolve, reject) => {
		const req = http.get({host, port, path: '/', agent: false, timeout: timeoutMs}, res => {
			let body = '';
			res.on('data', d => (body += d));
			res.on('end', () => resolve(body));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
	});
}

/** The pods a Service's Endpoints list as ready, by name. */
async function readyPods(client: EmbeddedClient, service: string): Promise<string[]> {
	const endpoints = await client.get(epType, 'default', service).catch(() => undefined);
	return ((endpoints?.subsets ?? []) as Rec[]).flatMap(s => ((s.addresses ?? []) as Rec[]).map(a => a.targetRef.name as string));
}

/** The pod names (named-...) in a log. */
const podNames = (text: string) => text.match(/^named-\S+$/gm) ?? [];

/** A port in the NodePort range nobody on this host listens on. */
async function freeNodePort(): Promise<number> {
	for (;;) {
		const port = 30000 + Math.floor(Math.random() * 2767);
		const free = await new Promise<boolean>(resolve => {
			const server = net.createServer().once('error', () => resolve(false)).listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
		});
		if (free) return port;
	}
}

const web = (name: string, replicas: number, extra: Rec = {}): KubeObject => ({
	apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace: 'default'},
	spec: {replicas, selector: {matchLabels: {app: name}}, template: {metadata: {labels: {app: name}}, spec: {containers: [{
		name: 'web', image: 'kubedeck/agnhost', args: ['netexec', '--http-port=8080'], ports: [{name: 'http', containerPort: 8080}],
		readinessProbe: {httpGet: {path: '/readyz', port: 8080}, periodSeconds: 1}, ...extra,
	}]}}},
});

describe('services and the proxy', () => {
	let home: string;
	let engine: EngineProcess;
	let client: EmbeddedClient;
	let ingressPorts: {http: number; https: number};
	before(async () => {
		ingressPorts = {http: await freeNodePort(), https: await freeNodePort()};
		({home, engine, client} = await openEngine(`network:\n  ingress: {http: ${ingressPorts.http}, https: ${ingressPorts.https}}\n`));
	});
	after(() => closeEngine({home, engine, client}));

	const readyAddresses = (name: string) => readyPods(client, name);
	const eventsOf = async (name: string) => (await client.list(resolveType('events')!, {namespace: 'default', fieldSelector: `involvedObject.name=${name}`})).items.map(e => `${e.reason}: ${e.message}`);

	it('answers the notes\' Deployment + NodePort example on its nodePort, from every replica in turn', async () => {
		const nodePort = await freeNodePort();
		const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(repoRoot, 'examples', 'seed-board.yaml'), 'utf8')).map(d => d.toJS() as KubeObject);
		for (const doc of docs) {
			if (doc.kind === 'Service') (doc.spec as Rec).ports[0].nodePort = nodePort;
			await client.create({...doc, metadata: {...doc.metadata, namespace: 'default'}});
		}
		await eventually(async () => (await readyAddresses('edu-msa-board')).length === 2, 'two ready endpoints', 60_000);
		const slices = (await client.list(sliceType, {namespace: 'default', labelSelector: 'kubernetes.io/service-name=edu-msa-board'})).items;
		assert.equal(slices.length, 1);
		assert.deepEqual((slices[0].endpoints as Rec[]).map(e => e.conditions), [{ready: true, serving: true, terminating: false}, {ready: true, serving: true, terminating: false}]);
		assert.deepEqual(slices[0].ports, [{port: 28082, protocol: 'TCP'}]);
		const answers = new Set<string>();
		for (let i = 0; i < 6; i++) answers.add(await get('127.0.0.1', nodePort));
		const pods = (await client.list(podType, {namespace: 'default', labelSelector: 'app=board-msa'})).items.map(p => p.metadata.name!);
		assert.deepEqual([...answers].sort(), pods.sort(), 'each replica answered');
		// And on the ClusterIP, at the service port.
		const svc = await client.get(svcType, 'default', 'edu-msa-board');
		assert.ok(pods.includes(await get((svc.spec as Rec).clusterIP, 28082)));
		// Where users see it: describe names the endpoints; get endpointslices has kubectl's columns.
		const ips = (await client.list(podType, {namespace: 'default', labelSelector: 'app=board-msa'})).items.map(p => `${(p.status as Rec).podIP}:28082`).sort((a, b) => a.localeCompare(b, undefined, {numeric: true}));
		const described = await runCli(['describe', 'svc', 'edu-msa-board'], {home});
		assert.match(described.stdout, new RegExp(`NodePort:\\s+<unset>  ${nodePort}/TCP\nEndpoints:\\s+${ips.join(',').replace(/\./g, '\\.')}\n`));
		const listed = await runCli(['get', 'endpointslices'], {home});
		assert.match(listed.stdout, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE\n/);
		assert.match(listed.stdout, new RegExp(`\nedu-msa-board-\\w{5}\\s+IPv4\\s+28082\\s+${ips.map(i => i.split(':')[0]).join(',').replace(/\./g, '\\.')}\\s`));
		// kubedeck port-forward, to the Service (one of its pods) and to a pod, as kubectl prints it.
		for (const [target, remote] of [['svc/edu-msa-board', '28082'], [`pod/${pods[0]}`, '28082']]) {
			const child = spawn(process.execPath, [cliPath, 'port-forward', target, `:${remote}`], {env: {...process.env, KUBEDECK_HOME: home}, stdio: ['ignore', 'pipe', 'pipe']});
			try {
				let out = '';
				child.stdout.on('data', d => (out += d));
				child.stderr.on('data', d => (out += d));
				const local = await eventually(() => /Forwarding from 127\.0\.0\.1:(\d+) -> 28082/.exec(out)?.[1], `port-forward ${target} ready`, 15_000).catch(error => {
					throw new Error(`${(error as Error).message}: ${out}`);
				});
				const answer = await get('127.0.0.1', Number(local));
				assert.ok(target.startsWith('pod/') ? answer === pods[0] : pods.includes(answer), answer);
				await eventually(() => out.includes(`Handling connection for ${local}`), 'the connection reported');
			} finally {
				child.kill('SIGINT');
				await new Promise(r => child.once('exit', r));
			}
		}
		for (const doc of docs) await client.delete(resolveType(doc.kind)!, 'default', doc.metadata.name!);
	});

	it('takes a pod that stops being ready out of the rotation and brings it back; named targetPorts resolve', async () => {
		// Ready while its working directory holds the file `ready`.
		await client.create(web('flappy', 2, {readinessProbe: {exec: {command: ['sh', '-c', 'test -e ready']}, periodSeconds: 1}}));
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'flappy', namespace: 'default'}, spec: {selector: {app: 'flappy'}, ports: [{port: 8081, targetPort: 'http'}]}});
		const pods = await eventually(async () => {
			const list = (await client.list(podType, {namespace: 'default', labelSelector: 'app=flappy'})).items.filter(p => (p.status as Rec)?.podIP);
			return list.length === 2 && list.every(p => (p.status as Rec).phase === 'Running') ? list : undefined;
		}, 'two running pods', 60_000);
		const mark = (pod: KubeObject, ready: boolean) => {
			const file = path.join(podPaths(home, pod.metadata.uid!).work, 'ready');
			if (ready) fs.writeFileSync(file, '');
			else fs.rmSync(file, {force: true});
		};
		for (const pod of pods) mark(pod, true);
		await eventually(async () => (await readyAddresses('flappy')).length === 2, 'both ready', 30_000);
		const clusterIP = ((await client.get(svcType, 'default', 'flappy')).spec as Rec).clusterIP;
		mark(pods[0], false);
		await eventually(async () => (await readyAddresses('flappy')).join() === pods[1].metadata.name, 'the first pod out of the endpoints', 30_000);
		for (let i = 0; i < 6; i++) assert.equal(await get(clusterIP, 8081), pods[1].metadata.name, 'only the ready pod answers');
		const ep = await client.get(epType, 'default', 'flappy');
		assert.deepEqual((ep.subsets as Rec[])[0].notReadyAddresses.map((a: Rec) => a.targetRef.name), [pods[0].metadata.name]);
		assert.deepEqual((ep.subsets as Rec[])[0].ports, [{port: 8080, protocol: 'TCP'}], 'targetPort "http" resolved from the container port');
		mark(pods[0], true);
		await eventually(async () => (await readyAddresses('flappy')).length === 2, 'back in rotation', 30_000);
		const answers = new Set<string>();
		for (let i = 0; i < 6; i++) answers.add(await get(clusterIP, 8081));
		assert.equal(answers.size, 2);
		await client.delete(deployType, 'default', 'flappy');
		await client.delete(svcType, 'default', 'flappy');
		await eventually(async () => !(await client.get(epType, 'default', 'flappy').catch(() => undefined)), 'the Endpoints go with their Service');
	});

	it('loses no request when a pod is deleted under steady traffic', async () => {
		await client.create(web('steady', 3));
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'steady', namespace: 'default'}, spec: {selector: {app: 'steady'}, ports: [{port: 8082, targetPort: 8080}]}});
		await eventually(async () => (await readyAddresses('steady')).length === 3, 'three ready', 60_000);
		const clusterIP = ((await client.get(svcType, 'default', 'steady')).spec as Rec).clusterIP;
		const victim = (await readyAddresses('steady'))[0];
		// Requests that fail, by when they started: while the deletion reaches the proxy one in flight to
		// the dying pod may be cut (kube-proxy has the same window); none may fail once the endpoints say it is out.
		const failed: number[] = [];
		let requests = 0, stop = false;
		const load = (async () => {
			while (!stop) {
				requests++;
				const started = Date.now();
				await get(clusterIP, 8082).catch(() => failed.push(started));
			}
		})();
		await new Promise(r => setTimeout(r, 300));
		await client.delete(podType, 'default', victim);
		await eventually(async () => !(await readyAddresses('steady')).includes(victim), 'the victim out of the endpoints', 30_000);
		const updated = Date.now();
		await eventually(async () => !(await client.get(podType, 'default', victim).catch(() => undefined)), 'the victim gone', 60_000);
		await new Promise(r => setTimeout(r, 300));
		stop = true;
		await load;
		assert.ok(requests > 20, `steady traffic (${requests} requests)`);
		assert.deepEqual(failed.filter(t => t >= updated), [], `${failed.length} of ${requests} requests failed, some after the endpoint update`);
		assert.ok(failed.length <= 2, `${failed.length} of ${requests} requests failed while the deletion reached the proxy`);
		await client.delete(deployType, 'default', 'steady');
		await client.delete(svcType, 'default', 'steady');
	});

	it('keeps a client on one pod with sessionAffinity ClientIP; a headless Service gets endpoints and no ClusterIP', async () => {
		await client.create(web('sticky', 2));
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'sticky', namespace: 'default'}, spec: {selector: {app: 'sticky'}, sessionAffinity: 'ClientIP', ports: [{port: 8083, targetPort: 8080}]}});
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'sticky-headless', namespace: 'default'}, spec: {clusterIP: 'None', selector: {app: 'sticky'}, ports: [{port: 8080}]}});
		await eventually(async () => (await readyAddresses('sticky')).length === 2, 'two ready', 60_000);
		await eventually(async () => (await readyAddresses('sticky-headless')).length === 2, 'the headless Service has endpoints too', 30_000);
		const clusterIP = ((await client.get(svcType, 'default', 'sticky')).spec as Rec).clusterIP;
		const answers = new Set<string>();
		for (let i = 0; i < 6; i++) answers.add(await get(clusterIP, 8083));
		assert.equal(answers.size, 1, 'one pod for one client');
		assert.equal(((await client.get(svcType, 'default', 'sticky-headless')).spec as Rec).clusterIP, 'None');
		await client.delete(deployType, 'default', 'sticky');
		for (const name of ['sticky', 'sticky-headless']) await client.delete(svcType, 'default', name);
	});

	it('gives a LoadBalancer an address that answers; reports a nodePort another program holds and a targetPort no container declares', async () => {
		await client.create(web('lb', 1));
		const taken = await freeNodePort();
		const squatter = net.createServer().listen(taken, '0.0.0.0');
		try {
			await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'lb', namespace: 'default'}, spec: {type: 'LoadBalancer', selector: {app: 'lb'}, ports: [{name: 'web', port: 8084, targetPort: 'http', nodePort: taken}, {name: 'nope', port: 8085, targetPort: 'nope'}]}});
			const ip = await eventually(async () => ((await client.get(svcType, 'default', 'lb')).status as Rec)?.loadBalancer?.ingress?.[0]?.ip as string | undefined, 'a load-balancer address', 30_000);
			assert.match(ip, /^127\.\d+\.\d+\.\d+$/);
			assert.notEqual(ip, ((await client.get(svcType, 'default', 'lb')).spec as Rec).clusterIP);
			await eventually(async () => (await readyAddresses('lb')).length === 1, 'ready', 60_000);
			const pod = (await readyAddresses('lb'))[0];
			assert.equal(await get(ip, 8084), pod, 'the load-balancer address answers at the service port');
			const events = await eventually(async () => {
				const all = await eventsOf('lb');
				return all.some(e => e.startsWith('FailedToListen')) && all.some(e => e.startsWith('FailedToResolvePort')) ? all : undefined;
			}, 'the warnings', 30_000);
			assert.ok(events.some(e => e.includes(`cannot listen on 0.0.0.0:${taken}: 0.0.0.0:${taken} is already in use by another program on this host`)), events.join('\n'));
			assert.ok(events.some(e => /no container port named as the targetPort of service port nope \(targetPort nope\)/.test(e)), events.join('\n'));
			// A duplicate nodePort is refused by the API.
			await assert.rejects(client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'dup', namespace: 'default'}, spec: {type: 'NodePort', selector: {app: 'lb'}, ports: [{port: 80, nodePort: taken}]}}), /spec\.ports\[0\]\.nodePort: Invalid value: \d+: provided port is already allocated/);
		} finally {
			squatter.close();
			await client.delete(deployType, 'default', 'lb');
			await client.delete(svcType, 'default', 'lb');
		}
	});

	it('answers cluster names: a Service\'s ClusterIP, a headless Service\'s pods, SRV for named ports, pod names; NXDOMAIN for the rest', async () => {
		await client.create(web('named', 2, {}));
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'named', namespace: 'default'}, spec: {selector: {app: 'named'}, ports: [{name: 'http', port: 8086, targetPort: 8080}]}});
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'named-pods', namespace: 'default'}, spec: {clusterIP: 'None', selector: {app: 'named'}, ports: [{name: 'http', port: 8080}]}});
		await eventually(async () => (await readyAddresses('named-pods')).length === 2, 'two ready', 60_000);
		const api = ((await client.get(svcType, 'default', 'kubernetes')).spec as Rec).clusterIP as string;
		const resolver = new dns.Resolver({timeout: 2000, tries: 1});
		resolver.setServers([`${api.replace(/\.1$/, '.10')}:${process.getuid?.() === 0 ? 53 : 10053}`]);
		const clusterIP = ((await client.get(svcType, 'default', 'named')).spec as Rec).clusterIP;
		assert.deepEqual(await resolver.resolve4('named.default.svc.cluster.local'), [clusterIP]);
		const podIPs = (await client.list(podType, {namespace: 'default', labelSelector: 'app=named'})).items.map(p => (p.status as Rec).podIP as string).sort();
		assert.deepEqual((await resolver.resolve4('named-pods.default.svc.cluster.local')).sort(), podIPs);
		assert.deepEqual(await resolver.resolveSrv('_http._tcp.named.default.svc.cluster.local'), [{name: 'named.default.svc.cluster.local', port: 8086, priority: 0, weight: 100}]);
		assert.deepEqual(await resolver.resolve4(`${podIPs[0].replace(/\./g, '-')}.default.pod.cluster.local`), [podIPs[0]]);
		await assert.rejects(resolver.resolve4('missing.default.svc.cluster.local'), /ENOTFOUND/);
		await assert.rejects(resolver.resolve4('named.elsewhere.svc.cluster.local'), /ENOTFOUND/);

		// As root, with bubblewrap, pods resolve names through their resolv.conf as in a cluster: by short name, from their namespace.
		if (process.getuid?.() !== 0 || !hasBubblewrap()) return;
		await client.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'caller', namespace: 'default'}, spec: {restartPolicy: 'Never', containers: [{
			name: 'c', image: 'busybox', command: ['sh', '-c', 'getent hosts named; wget -qO- http://named:8086/ && echo; cat /etc/resolv.conf'],
		}]}});
		const log = await eventually(async () => {
			const pod = await client.get(podType, 'default', 'caller');
			if (!['Succeeded', 'Failed'].includes((pod.status as Rec)?.phase)) return undefined;
			return (await runCli(['logs', 'caller'], {home})).stdout;
		}, 'the caller pod to finish', 60_000);
		assert.match(log, new RegExp(`^${clusterIP.replace(/\./g, '\\.')}\\s+named\\.default\\.svc\\.cluster\\.local`, 'm'), log);
		assert.ok(podNames(log).length === 1, `the pod called the Service by name: ${log}`);
		assert.match(log, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
	});

	it('routes Ingress rules by host and path to two Services, over HTTP and TLS by SNI, with 404, 503 and a wildcard host', async () => {
		for (const name of ['alpha', 'beta']) {
			await client.create(web(name, 1));
			await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name, namespace: 'default'}, spec: {selector: {app: name}, ports: [{name: 'http', port: 80, targetPort: 'http'}]}});
		}
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'empty', namespace: 'default'}, spec: {selector: {app: 'nobody'}, ports: [{port: 80}]}});
		const pair = selfSignedCert('shop.example', {dns: ['shop.example', '*.apps.example']});
		await client.create({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'shop-tls', namespace: 'default'}, type: 'kubernetes.io/tls', data: {'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64')}});
		const backend = (name: string, port = 80) => ({service: {name, port: {number: port}}});
		await client.create({apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: {name: 'shop', namespace: 'default'}, spec: {
			tls: [{hosts: ['shop.example', '*.apps.example'], secretName: 'shop-tls'}, {hosts: ['other.example'], secretName: 'missing-tls'}],
			rules: [
				{host: 'shop.example', http: {paths: [{path: '/', pathType: 'Prefix', backend: backend('alpha')}, {path: '/api', pathType: 'Prefix', backend: backend('beta')}, {path: '/down', pathType: 'Exact', backend: backend('empty')}]}},
				{host: 'blog.example', http: {paths: [{path: '/', pathType: 'Prefix', backend: backend('beta')}]}},
				{host: '*.apps.example', http: {paths: [{path: '/', pathType: 'ImplementationSpecific', backend: backend('alpha')}]}},
			],
		}});
		await eventually(async () => (await readyAddresses('alpha')).length === 1 && (await readyAddresses('beta')).length === 1, 'both ready', 60_000);
		const [alpha] = await readyAddresses('alpha'), [beta] = await readyAddresses('beta');
		const ask = (host: string, urlPath: string, secure = false) => new Promise<{code: number; body: string}>((resolve, reject) => {
			const request = (secure ? https : http).get({host: '127.0.0.1', port: secure ? ingressPorts.https : ingressPorts.http, path: urlPath, headers: {host}, servername: host, ca: pair.cert, agent: false}, res => {
				let body = '';
				res.on('data', d => (body += d));
				res.on('end', () => resolve({code: res.statusCode!, body}));
			});
			request.on('error', reject);
		});
		await eventually(async () => (await ask('shop.example', '/').catch(() => ({code: 0}))).code === 200, 'the Ingress listening', 15_000);
		assert.deepEqual(await ask('shop.example', '/'), {code: 200, body: alpha});
		assert.deepEqual(await ask('shop.example', '/api/orders'), {code: 200, body: beta}, 'the longest prefix wins');
		assert.deepEqual(await ask('shop.example', '/apiary'), {code: 200, body: alpha}, 'a prefix matches whole path elements');
		assert.deepEqual(await ask('blog.example', '/anything'), {code: 200, body: beta});
		assert.deepEqual(await ask('x.apps.example', '/'), {code: 200, body: alpha}, 'a wildcard host');
		assert.equal((await ask('a.b.apps.example', '/')).code, 404, 'a wildcard covers one label only');
		assert.equal((await ask('nowhere.example', '/')).code, 404);
		assert.equal((await ask('shop.example', '/down')).code, 503, 'no ready endpoint');
		assert.equal((await ask('shop.example', '/header?key=X-Forwarded-Host')).body, 'shop.example');
		assert.equal((await ask('shop.example', '/header?key=X-Forwarded-For')).body, '127.0.0.1');
		// A request target that is no URL (//[ reads as a bad host) is routed as it came (to no rule here, so no backend
		// sees it), and the engine goes on serving.
		const odd = await new Promise<string>((resolve, reject) => {
			const socket = net.connect(ingressPorts.http, '127.0.0.1', () => socket.write('GET //[ HTTP/1.1\r\nHost: nowhere.example\r\nConnection: close\r\n\r\n'));
			let got = '';
			socket.on('data', d => (got += d));
			socket.on('end', () => resolve(got));
			socket.on('error', reject);
		});
		assert.match(odd, /^HTTP\/1\.1 404 /, odd);
		assert.deepEqual(await ask('shop.example', '/'), {code: 200, body: alpha}, 'still serving after the odd target');
		// TLS by SNI with the certificate from the Secret (verified against it), for the host and the wildcard.
		assert.deepEqual(await ask('shop.example', '/api', true), {code: 200, body: beta});
		assert.deepEqual(await ask('y.apps.example', '/', true), {code: 200, body: alpha});
		assert.equal((await ask('shop.example', '/header?key=X-Forwarded-Proto', true)).body, 'https');
		// A WebSocket upgrade passes through and the connection carries both ways.
		const echoed = await new Promise<string>((resolve, reject) => {
			const socket = net.connect(ingressPorts.http, '127.0.0.1', () => socket.write('GET /ws HTTP/1.1\r\nHost: shop.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'));
			let got = '';
			socket.on('data', d => {
				got += d;
				if (got.includes('\r\n\r\n') && !got.includes('ping')) socket.write('ping');
				if (got.endsWith('ping')) {
					socket.destroy();
					resolve(got);
				}
			});
			socket.on('error', reject);
			setTimeout(() => reject(new Error(`no echo: ${got}`)), 5000);
		});
		assert.match(echoed, /^HTTP\/1\.1 101 /);
		// A request body and its answer stream through: each chunk is sent only once the one before has come back.
		const streamed = await new Promise<string[]>((resolve, reject) => {
			const chunks = ['one', 'two', 'three'];
			const back: string[] = [];
			const request = http.request({host: '127.0.0.1', port: ingressPorts.http, method: 'POST', path: '/echo', headers: {host: 'shop.example'}, agent: false}, res => {
				res.on('data', d => {
					back.push(String(d));
					const next = chunks[back.length];
					if (next) request.write(next);
					else request.end();
				});
				res.on('end', () => resolve(back));
			});
			request.on('error', reject);
			request.flushHeaders();
			request.write(chunks[0]);
			setTimeout(() => reject(new Error(`the stream stalled after ${JSON.stringify(back)}`)), 5000);
		});
		assert.deepEqual(streamed, ['one', 'two', 'three']);
		// A renewed certificate in the Secret is used for the next handshake, without a restart.
		const renewed = selfSignedCert('shop.example', {dns: ['shop.example']});
		await client.replace({...(await client.get(resolveType('secrets')!, 'default', 'shop-tls')), data: {'tls.crt': Buffer.from(renewed.cert).toString('base64'), 'tls.key': Buffer.from(renewed.key).toString('base64')}});
		const served = () => new Promise<string>((resolve, reject) => {
			const socket = tls.connect({host: '127.0.0.1', port: ingressPorts.https, servername: 'shop.example', rejectUnauthorized: false}, () => {
				resolve(socket.getPeerX509Certificate()!.fingerprint256);
				socket.destroy();
			});
			socket.on('error', reject);
		});
		const fingerprint = new crypto.X509Certificate(renewed.cert).fingerprint256;
		await eventually(async () => (await served()) === fingerprint, 'the renewed certificate served', 10_000);
		const ing = await client.get(resolveType('ingresses')!, 'default', 'shop');
		assert.deepEqual((ing.status as Rec).loadBalancer.ingress[0].ip, '127.0.0.1');
		const events = await eventually(async () => {
			const all = await eventsOf('shop');
			return all.some(e => e.includes('missing-tls')) ? all : undefined;
		}, 'the missing Secret reported');
		assert.ok(events.some(e => /^BadConfig: secret "missing-tls" not found/.test(e)), events.join('\n'));
		const listed = await runCli(['get', 'ingress'], {home});
		assert.match(listed.stdout, new RegExp(`^NAME\\s+CLASS\\s+HOSTS\\s+ADDRESS\\s+PORTS\\s+AGE\\nshop\\s+kubedeck\\s+shop\\.example,blog\\.example,\\*\\.apps\\.example\\s+127\\.0\\.0\\.1\\s+80, 443\\s`));
	});
});

describe('the nftables data path', {skip: nftAvailable() ? false : 'needs root and the nft program (network.proxyMode: nftables)'}, () => {
	let home: string;
	let engine: EngineProcess;
	let client: EmbeddedClient;
	// A table an engine left behind whose state directory is gone: the next engine removes it.
	const orphan = 'kubedeck-000000deadbe';
	before(async () => {
		spawnSync('nft', ['-f', '-'], {input: `table ip ${orphan} {}\n`});
		({home, engine, client} = await openEngine('network:\n  proxyMode: nftables\n'));
	});
	after(() => closeEngine({home, engine, client}));

	it('DNATs ClusterIP and NodePort connections in the kernel to ready pods, counts them, and removes its table at stop', async () => {
		const nodePort = await freeNodePort();
		await client.create(web('kernel', 2));
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'kernel', namespace: 'default'}, spec: {type: 'NodePort', selector: {app: 'kernel'}, ports: [{port: 80, targetPort: 'http', nodePort}]}});
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'kernel-sticky', namespace: 'default'}, spec: {selector: {app: 'kernel'}, sessionAffinity: 'ClientIP', ports: [{port: 81, targetPort: 8080}]}});
		await eventually(async () => (await readyPods(client, 'kernel')).length === 2 && (await readyPods(client, 'kernel-sticky')).length === 2, 'two ready endpoints', 60_000);
		assert.equal(spawnSync('nft', ['list', 'table', 'ip', orphan]).status, 1, 'an orphaned table is swept at start');
		const table = `kubedeck-${stateId(home)}`;
		const rules = () => spawnSync('nft', ['list', 'table', 'ip', table], {encoding: 'utf8'}).stdout;
		await eventually(() => (rules().match(/dnat to [\d.]+:8080/g) ?? []).length === 4, 'the endpoint rules written', 15_000);
		const clusterIP = ((await client.get(svcType, 'default', 'kernel')).spec as Rec).clusterIP;
		// Port 80 on the ClusterIP: no process listens there, the kernel answers it.
		const answers = new Set<string>();
		for (let i = 0; i < 20; i++) answers.add(await get(clusterIP, 80));
		assert.equal(answers.size, 2, 'both pods answer through the ClusterIP');
		assert.ok((await get('127.0.0.1', nodePort)).startsWith('kernel-'), 'the NodePort answers on localhost');
		const stickyIP = ((await client.get(svcType, 'default', 'kernel-sticky')).spec as Rec).clusterIP;
		const sticky = new Set<string>();
		for (let i = 0; i < 10; i++) sticky.add(await get(stickyIP, 81));
		assert.equal(sticky.size, 1, 'ClientIP affinity keeps one pod');
		assert.match(rules(), /counter packets (2[1-9]|[3-9]\d)/, 'the service chain counted the new connections');
		// A pod that leaves the rotation leaves the rules.
		await client.delete(deployType, 'default', 'kernel');
		await eventually(() => !/dnat to [\d.]+:8080[^]*dnat to [\d.]+:8080[^]*dnat to/.test(rules()), 'the endpoints gone from the rules', 30_000);
		await engine.stop();
		assert.equal(spawnSync('nft', ['list', 'table', 'ip', table], {encoding: 'utf8'}).status, 1, 'the table is removed at stop');
		engine = await startEngine(home);
	});
});
