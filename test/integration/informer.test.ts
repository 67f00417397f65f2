// @kubernetes/client-node's informer (makeInformer: list, then watch from the
// list's resourceVersion) against the engine over TLS, with the KubeConfig of
// `kubedeck kubeconfig`: the initial list fires `add` for what exists; a
// create, an update and a delete fire `add`, `update` and `delete`; and when
// its watch resumes from a resourceVersion older than the history the store
// keeps (2,000 events across all kinds), the engine answers with a 410 ERROR
// event, on which the informer lists again (firing `delete` and `add` for
// what changed meanwhile) and goes on delivering events.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {EmbeddedClient} from '../../source/client/embedded.js';
import {socketPath} from '../../source/engine/home.js';
import {type EngineProcess, eventually, removeHome, runCli, startEngine, tempHome} from '../helpers.js';

const namespace = 'informed';

describe('a client-node informer against the engine over TLS', () => {
	let home: string;
	let engine: EngineProcess;
	let client: EmbeddedClient;
	let kc: k8s.KubeConfig;
	let core: k8s.CoreV1Api;
	let informer: k8s.Informer<k8s.V1ConfigMap> & k8s.ObjectCache<k8s.V1ConfigMap>;
	let running = false;
	let lists = 0;
	const events: string[] = [];
	const errors: unknown[] = [];
	const has = (event: string) => events.includes(event);
	const configMap = (name: string, data: Record<string, string> = {}): k8s.V1ConfigMap => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace}, data});

	before(async () => {
		home = tempHome();
		engine = await startEngine(home, {port: 0});
		client = new EmbeddedClient({socketPath: socketPath(home)}, 'test');
		const config = await runCli(['kubeconfig'], {home});
		assert.equal(config.code, 0, config.stderr);
		kc = new k8s.KubeConfig();
		kc.loadFromString(config.stdout);
		core = kc.makeApiClient(k8s.CoreV1Api);
		await core.createNamespace({body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespace}}});
		for (const name of ['existing-a', 'existing-b']) await core.createNamespacedConfigMap({namespace, body: configMap(name)});
		// The engine puts kube-root-ca.crt in every namespace, as Kubernetes does: once it is there, the namespace holds still.
		await eventually(() => core.readNamespacedConfigMap({name: 'kube-root-ca.crt', namespace}), 'kube-root-ca.crt in the namespace');
		informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () => {
			lists++;
			return core.listNamespacedConfigMap({namespace});
		});
		for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, obj => events.push(`${verb} ${obj.metadata!.name}`));
		// Stopping aborts the watch's request, which the informer reports as an error too: only errors while it runs count.
		informer.on('error', error => {
			if (running) errors.push(error);
		});
	});
	after(async () => {
		running = false;
		await informer?.stop();
		client?.close();
		await engine?.stop();
		removeHome(home);
	});

	it('fires add for the existing objects on its initial list, then add, update and delete for a create, an update and a delete', async () => {
		running = true;
		await informer.start();
		await eventually(() => events.length >= 3, 'add for the existing ConfigMaps');
		assert.deepEqual([...events].sort(), ['add existing-a', 'add existing-b', 'add kube-root-ca.crt']);
		assert.equal(lists, 1);
		assert.deepEqual(informer.list(namespace).map(c => c.metadata!.name).sort(), ['existing-a', 'existing-b', 'kube-root-ca.crt']);

		await core.createNamespacedConfigMap({namespace, body: configMap('created', {v: '1'})});
		await eventually(() => has('add created'), 'add for the created ConfigMap');
		const read = await core.readNamespacedConfigMap({name: 'created', namespace});
		await core.replaceNamespacedConfigMap({name: 'created', namespace, body: {...read, data: {v: '2'}}});
		await eventually(() => has('update created'), 'update for the replaced ConfigMap');
		assert.equal(informer.get('created', namespace)?.data?.v, '2');
		await core.deleteNamespacedConfigMap({name: 'created', namespace});
		await eventually(() => has('delete created'), 'delete for the deleted ConfigMap');
		assert.equal(informer.get('created', namespace), undefined);
		assert.deepEqual(events.filter(e => e.endsWith(' created')), ['add created', 'update created', 'delete created']);
		assert.equal(lists, 1, 'the watch delivered the changes; no relist');
		assert.deepEqual(errors, []);
	});

	it('lists again after its watch gets 410 Gone for a resourceVersion older than the history, and goes on delivering events', async () => {
		// Stopped, the informer keeps the resourceVersion it has seen; started again, it watches from it.
		running = false;
		await informer.stop();
		// makeInformer's object is a ListWatch; its type leaves latestResourceVersion out.
		const stale = (informer as unknown as k8s.ListWatch<k8s.V1ConfigMap>).latestResourceVersion();
		assert.match(stale, /^\d+$/);
		// Changes in the namespace while it is away, then enough writes elsewhere to push them and
		// the informer's version out of the store's history (2,000 events).
		await core.deleteNamespacedConfigMap({name: 'existing-b', namespace});
		await core.createNamespacedConfigMap({namespace, body: configMap('while-away')});
		await client.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'churn'}});
		for (let i = 0; i < 2100; i += 100) {
			await Promise.all(Array.from({length: 100}, (_, j) => client.create({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: `churn-${i + j}`, namespace: 'churn'}, data: {}})));
		}
		// The engine answers a watch from that version with an ERROR event carrying 410 Expired, and ends it.
		const answer = await rawWatch(home, kc, `/api/v1/namespaces/${namespace}/configmaps?watch=true&resourceVersion=${stale}`);
		const lines = answer.trim().split('\n').map(l => JSON.parse(l));
		assert.equal(lines.length, 1, answer);
		assert.equal(lines[0].type, 'ERROR');
		assert.equal(lines[0].object.code, 410);
		assert.equal(lines[0].object.reason, 'Expired');

		running = true;
		const seen = events.length;
		await informer.start();
		await eventually(() => lists === 2, 'the informer to list again after the 410');
		await eventually(() => has('delete existing-b') && has('add while-away'), 'delete and add for the changes made while it was away');
		assert.deepEqual(events.slice(seen).sort(), ['add while-away', 'delete existing-b']);
		assert.deepEqual(informer.list(namespace).map(c => c.metadata!.name).sort(), ['existing-a', 'kube-root-ca.crt', 'while-away']);

		// It watches again, from the new list's version.
		await core.createNamespacedConfigMap({namespace, body: configMap('after-relist', {v: '1'})});
		await eventually(() => has('add after-relist'), 'add for a ConfigMap created after the relist');
		const read = await core.readNamespacedConfigMap({name: 'after-relist', namespace});
		await core.replaceNamespacedConfigMap({name: 'after-relist', namespace, body: {...read, data: {v: '2'}}});
		await eventually(() => has('update after-relist'), 'update after the relist');
		await core.deleteNamespacedConfigMap({name: 'existing-a', namespace});
		await eventually(() => has('delete existing-a'), 'delete after the relist');
		assert.equal(lists, 2, 'one relist');
		assert.deepEqual(errors, []);
	});
});

/** The whole body of a watch request the engine ends by itself (as it does after an ERROR event), with the kubeconfig's token and CA. */
function rawWatch(home: string, kc: k8s.KubeConfig, urlPath: string): Promise<string> {
	const url = new URL(kc.getCurrentCluster()!.server);
	return new Promise((resolve, reject) => {
		const req = https.request({host: url.hostname, port: url.port, path: urlPath, ca: fs.readFileSync(path.join(home, 'ca.crt')), headers: {Authorization: `Bearer ${kc.getCurrentUser()!.token}`}, timeout: 10_000}, res => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', c => (text += c));
			res.on('end', () => resolve(text));
		});
		req.on('timeout', () => req.destroy(new Error('the watch was not ended')));
		req.on('error', reject);
		req.end();
	});
}
