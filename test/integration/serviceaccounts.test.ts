// ServiceAccounts through the real kubectl and a real pod: every namespace
// has its default ServiceAccount and root CA, `kubectl create token` gives a
// token the API accepts and then refuses once it expires or its
// ServiceAccount goes, and a pod's process reaches the API with its own
// ServiceAccount's rights only, through client-node's in-cluster config.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {ManualClock} from '../../source/engine/clock.js';
import {Engine} from '../../source/engine/engine.js';
import {hasBubblewrap} from '../../source/engine/kubelet/kubelet.js';
import {memoryRoot} from '../../source/engine/layout.js';
import {typeByPlural} from '../../source/api/resources.js';
import {eventually, type EngineProcess, removeHome, repoRoot, runCli, startEngine, tempHome} from '../helpers.js';

const hasKubectl = (process.env.PATH ?? '').split(':').some(dir => fs.existsSync(path.join(dir, 'kubectl')));

describe('ServiceAccounts and their tokens', {skip: !hasKubectl && 'kubectl is not on PATH'}, () => {
	let home: string;
	let engine: EngineProcess;
	let kubeconfig: string;
	const kubectl = (args: string[], input?: string) => new Promise<{code: number; stdout: string; stderr: string}>(resolve => {
		const child = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', path.join(home, 'kube-cache'), ...args], {timeout: 60_000}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: stderr.trim()});
		});
		if (input !== undefined) child.stdin!.end(input);
	});

	before(async () => {
		home = tempHome();
		engine = await startEngine(home, {port: 0});
		kubeconfig = path.join(home, 'kubeconfig');
		const config = await runCli(['kubeconfig'], {home});
		fs.writeFileSync(kubeconfig, config.stdout, {mode: 0o600});
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});

	it('gives every namespace a default ServiceAccount and the cluster CA, and puts them back when deleted', async () => {
		assert.equal((await kubectl(['create', 'namespace', 'team'])).code, 0);
		assert.equal((await kubectl(['get', 'serviceaccount', 'default', '-n', 'team', '-o', 'name'])).stdout.trim(), 'serviceaccount/default');
		const ca = (await kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'team', '-o', 'jsonpath={.data.ca\\.crt}'])).stdout;
		assert.equal(ca, fs.readFileSync(path.join(home, 'ca.crt'), 'utf8'));
		assert.equal((await kubectl(['delete', 'serviceaccount', 'default', '-n', 'team'])).code, 0);
		await eventually(async () => (await kubectl(['get', 'serviceaccount', 'default', '-n', 'team'])).code === 0, 'the default ServiceAccount to come back');
		assert.equal((await kubectl(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'team'])).code, 0);
		await eventually(async () => (await kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'team', '-o', 'jsonpath={.data.ca\\.crt}'])).stdout === ca, 'the root CA ConfigMap to come back');
		const missing = await kubectl(['run', 'nobody', '-n', 'team', '--image=busybox', '--overrides={"spec":{"serviceAccountName":"ghost"}}', '--', 'true']);
		assert.match(missing.stderr, /pods "nobody" is forbidden: error looking up service account team\/ghost: serviceaccount "ghost" not found/);
	});

	it('issues tokens with kubectl create token that name the ServiceAccount, and stop working when it goes', async () => {
		assert.equal((await kubectl(['create', 'serviceaccount', 'robot', '-n', 'team'])).code, 0);
		const token = (await kubectl(['create', 'token', 'robot', '-n', 'team'])).stdout.trim();
		assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
		const who = await kubectl(['--token', token, 'auth', 'whoami']);
		assert.match(who.stdout, /Username\s+system:serviceaccount:team:robot\n.*Groups\s+\[system:serviceaccounts system:serviceaccounts:team system:authenticated\]/s, who.stderr);
		// No binding: it can read nothing.
		assert.match((await kubectl(['--token', token, 'get', 'pods', '-n', 'team'])).stderr, /User "system:serviceaccount:team:robot" cannot list resource "pods"/);
		const short = await kubectl(['create', 'token', 'robot', '-n', 'team', '--duration=1m']);
		assert.match(short.stderr, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
		// A token from another engine (another key) is not one of ours.
		const forged = `${token.split('.').slice(0, 2).join('.')}.${Buffer.from('forged').toString('base64url')}`;
		assert.match((await kubectl(['--token', forged, 'get', 'pods'])).stderr, /Unauthorized|provide credentials/);
		assert.equal((await kubectl(['delete', 'serviceaccount', 'robot', '-n', 'team'])).code, 0);
		assert.match((await kubectl(['--token', token, 'auth', 'whoami'])).stderr, /Unauthorized|provide credentials/);
	});

	it('lets a pod list pods in its namespace through client-node\'s in-cluster config, with its ServiceAccount\'s Role only', {skip: !hasBubblewrap() && 'the token is at /var/run/secrets/... only inside the bubblewrap sandbox'}, async () => {
		const script = `
const k8s = await import('/opt/node_modules/@kubernetes/client-node/dist/index.js');
const kc = new k8s.KubeConfig();
kc.loadFromCluster();
const api = kc.makeApiClient(k8s.CoreV1Api);
for (const namespace of ['team', 'default']) {
  try {
    const list = await api.listNamespacedPod({namespace});
    console.log(namespace + ': ' + list.items.map(p => p.metadata.name).sort().join(','));
  } catch (e) {
    console.log(namespace + ': ' + e.code);
  }
}`;
		fs.writeFileSync(path.join(home, 'incluster.mjs'), script);
		await kubectl(['create', 'namespace', 'team']);
		for (const args of [
			['create', 'configmap', 'script', '-n', 'team', `--from-file=${path.join(home, 'incluster.mjs')}`],
			['create', 'serviceaccount', 'reader', '-n', 'team'],
			['create', 'role', 'pod-reader', '-n', 'team', '--verb=get,list', '--resource=pods'],
			['create', 'rolebinding', 'reader', '-n', 'team', '--role=pod-reader', '--serviceaccount=team:reader'],
		]) {
			const r = await kubectl(args);
			assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
		}
		const pod = (name: string, sa: string, automount = true) => ({
			apiVersion: 'v1', kind: 'Pod', metadata: {name, namespace: 'team'},
			spec: {
				serviceAccountName: sa, restartPolicy: 'Never', automountServiceAccountToken: automount,
				containers: [{name: 'main', image: 'node', command: ['node', '/scripts/incluster.mjs'],
					volumeMounts: [{name: 'script', mountPath: '/scripts'}, {name: 'modules', mountPath: '/opt/node_modules', readOnly: true}]}],
				volumes: [{name: 'script', configMap: {name: 'script'}}, {name: 'modules', hostPath: {path: path.join(repoRoot, 'node_modules')}}],
			},
		});
		for (const manifest of [pod('reader', 'reader'), pod('stranger', 'default'), pod('tokenless', 'reader', false)]) {
			const applied = await kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
			assert.equal(applied.code, 0, applied.stderr);
		}
		for (const name of ['reader', 'stranger', 'tokenless']) {
			await eventually(async () => /Succeeded|Failed/.test((await kubectl(['get', 'pod', name, '-n', 'team', '-o', 'jsonpath={.status.phase}'])).stdout), `${name} to finish`, 30_000);
		}
		const logs = async (name: string) => (await kubectl(['logs', name, '-n', 'team'])).stdout + (await kubectl(['logs', name, '-n', 'team'])).stderr;
		assert.equal(await logs('reader'), 'team: reader,stranger,tokenless\ndefault: 403\n');
		assert.equal(await logs('stranger'), 'team: 403\ndefault: 403\n');
		// automountServiceAccountToken: false: there is no token file to read.
		assert.equal(await logs('tokenless'), 'team: ENOENT\ndefault: ENOENT\n');
		const volumes = JSON.parse((await kubectl(['get', 'pod', 'tokenless', '-n', 'team', '-o', 'json'])).stdout).spec.volumes;
		assert.ok(!volumes.some((v: {name: string}) => v.name.startsWith('kube-api-access-')));
	});
});

describe('a pod\'s projected ServiceAccount token', () => {
	it('is written again at 80% of its life, as the kubelet does, and the fresh token works', async () => {
		const home = tempHome();
		const clock = new ManualClock();
		const engine = await Engine.start({home, clock, config: {nodes: [{name: 'n', kind: 'process', cpu: '4', memory: '8Gi', pods: 10, labels: {}, taints: []}], images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
		try {
			const volume = {name: 'token', projected: {sources: [{serviceAccountToken: {path: 'token', expirationSeconds: 600}}]}};
			await engine.registry.create(typeByPlural('pods')!, 'default', {
				apiVersion: 'v1', kind: 'Pod', metadata: {name: 'client', namespace: 'default'},
				spec: {automountServiceAccountToken: false, volumes: [volume], containers: [{name: 'main', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{name: 'token', mountPath: '/token'}]}]},
			});
			await eventually(() => (engine.store.get('pods', 'default', 'client')?.status as {phase?: string})?.phase === 'Running', 'the pod to run');
			const file = path.join(memoryRoot(home), engine.store.get('pods', 'default', 'client')!.metadata.uid!, 'projected', 'token', 'token');
			const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {exp: number; iat: number};
			const first = fs.readFileSync(file, 'utf8');
			assert.equal(claims(first).exp - claims(first).iat, 600, 'the life asked for (only kube-api-access\'s 3607 s is extended)');
			assert.equal(engine.tokens!.authenticate(first)?.name, 'system:serviceaccount:default:default');
			clock.advance(470_000);
			assert.equal(fs.readFileSync(file, 'utf8'), first, 'not yet: 470 s of 600');
			clock.advance(20_000);
			const second = fs.readFileSync(file, 'utf8');
			assert.notEqual(second, first, 'written again at 480 s');
			assert.equal(claims(second).iat, claims(first).iat + 480);
			assert.equal(engine.tokens!.authenticate(second)?.name, 'system:serviceaccount:default:default');
			clock.advance(200_000);
			assert.equal(engine.tokens!.authenticate(first), undefined, 'the first one has expired');
			assert.equal(engine.tokens!.authenticate(fs.readFileSync(file, 'utf8'))?.name, 'system:serviceaccount:default:default', 'and the file holds a good one still');
		} finally {
			await engine.stop();
			removeHome(home);
		}
	});
});
