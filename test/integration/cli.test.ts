// The CLI end to end: the built binary, a real engine process, a real state
// file in a temp directory. Output is compared with what kubectl prints.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {describe, it} from 'node:test';
import {cliPath, engineForSuite, eventually, examplesDir, fixturesDir} from '../helpers.js';

describe('kubedeck CLI against a running engine', () => {
	const suite = engineForSuite();
	const {kd} = suite;

	it('starts with the default and kube-system namespaces', async () => {
		const r = await kd(['get', 'namespaces']);
		assert.equal(r.code, 0, r.stderr);
		const names = r.stdout.trim().split('\n').slice(1).map(l => l.split(/\s+/)[0]);
		assert.deepEqual(names, ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
		assert.match(r.stdout.split('\n')[0], /^NAME\s+STATUS\s+AGE$/);
	});

	it('applies the seed examples, reports unchanged on re-apply, and gets them back', async () => {
		const first = await kd(['apply', '-f', examplesDir]);
		assert.equal(first.code, 0, first.stderr);
		assert.deepEqual(first.stdout.trim().split('\n').sort(), [
			'configmap/edu-msa-configmap created', 'deployment.apps/edu-msa-board created', 'pod/edu-msa-pod created',
			'pod/nginx created', 'secret/edu-msa-secret created', 'service/edu-msa-board created',
		]);
		const again = await kd(['apply', '-f', examplesDir]);
		assert.equal(again.code, 0, again.stderr);
		assert.ok(again.stdout.trim().split('\n').every(l => l.endsWith(' unchanged')), again.stdout);

		const pods = await eventually(async () => {
			const r = await kd(['get', 'pods']);
			return /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n(edu-msa-board-[a-z0-9]{10}-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s+\S+\n){2}edu-msa-pod\s+1\/1\s+Running\s+0\s+\S+\nnginx\s+1\/1\s+Running/.test(r.stdout) && r;
		}, 'the seed pods Running and the two board replicas ready', 30_000);
		assert.ok(pods);
		const svc = await kd(['get', 'svc', 'edu-msa-board', '-o', 'jsonpath={.spec.type} {.spec.ports[0].nodePort} {.spec.clusterIP}']);
		assert.match(svc.stdout, /^NodePort 30201 127\.\d+\.\d+\.\d+$/);
		const secret = await kd(['get', 'secret', 'edu-msa-secret', '-o', 'json']);
		assert.equal(JSON.parse(secret.stdout).data.edu, 'bXNhaA==');
		const names = await kd(['get', 'cm,secret', '-o', 'name']);
		// Every namespace also has the cluster CA's ConfigMap, as in Kubernetes.
		assert.equal(names.stdout, 'configmap/edu-msa-configmap\nconfigmap/kube-root-ca.crt\nsecret/edu-msa-secret\n');
	});

	it('describes a pod with its envFrom sources, and a secret without its values', async () => {
		const pod = await kd(['describe', 'pod', 'edu-msa-pod']);
		assert.equal(pod.code, 0, pod.stderr);
		assert.match(pod.stdout, /^Name:\s+edu-msa-pod\nNamespace:\s+default\n/);
		assert.match(pod.stdout, /edu-msa-configmap {2}ConfigMap/);
		assert.match(pod.stdout, /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n[\s\S]*Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/edu-msa-pod to \S+/);
		assert.match(pod.stdout, /Normal\s+Started\s+\S+\s+kubelet\s+Started container edu-msa-container/);
		const secret = await kd(['describe', 'secret', 'edu-msa-secret']);
		assert.match(secret.stdout, /edu: {2}4 bytes/);
		assert.ok(!secret.stdout.includes('msah') && !secret.stdout.includes('bXNhaA=='));
	});

	it('runs the seed pod with the ConfigMap and the decoded Secret in its environment', async () => {
		// The notes: Secret data bXNhaA== reaches the container decoded, next to the ConfigMap's value.
		const logs = await eventually(async () => {
			const r = await kd(['logs', 'edu-msa-pod']);
			return r.stdout.includes('edu=') && r;
		}, 'the seed pod to log its environment');
		assert.equal(logs.stdout, 'edu=msah\n');
	});

	it('prints kubectl errors and exits non-zero', async () => {
		const missing = await kd(['get', 'pod', 'nope']);
		assert.equal(missing.code, 1);
		assert.equal(missing.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
		const badType = await kd(['get', 'foos']);
		assert.equal(badType.code, 1);
		assert.equal(badType.stderr.trim(), 'error: the server doesn\'t have a resource type "foos"');
		const noNs = await kd(['create', 'configmap', 'x', '--from-literal=a=b', '-n', 'nope']);
		assert.equal(noNs.code, 1);
		assert.equal(noNs.stderr.trim(), 'Error from server (NotFound): namespaces "nope" not found');
		const dup = await kd(['create', '-f', path.join(examplesDir, 'seed-nginx-pod.json')]);
		assert.equal(dup.code, 1);
		assert.match(dup.stderr, /Error from server \(AlreadyExists\): error when creating ".*seed-nginx-pod.json": pods "nginx" already exists/);
	});

	it('writes nothing from a multi-document apply with one bad document, and names the document and field', async () => {
		const r = await kd(['apply', '-f', path.join(fixturesDir, 'bad-second-doc.yaml')]);
		assert.equal(r.code, 1);
		assert.match(r.stderr, /bad-second-doc\.yaml" \(document 2\): The Deployment "broken" is invalid: spec\.selector: Invalid value: .*selector does not match template labels/);
		assert.equal(r.stdout, '');
		const cm = await kd(['get', 'configmap', 'good-config']);
		assert.equal(cm.code, 1, 'the valid first document must not have been written');
	});

	it('removes a field that disappears from the applied file (last-applied configuration)', async () => {
		const manifest = (data: string, labels: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: evolving\n  labels: {${labels}}\ndata: {${data}}\n`;
		assert.equal((await kd(['apply', '-f', '-'], manifest('a: "1", b: "2"', 'x: "1", y: "2"'))).stdout.trim(), 'configmap/evolving created');
		assert.equal((await kd(['label', 'cm', 'evolving', 'added-by-hand=yes'])).stdout.trim(), 'configmap/evolving labeled');
		assert.equal((await kd(['apply', '-f', '-'], manifest('a: "1"', 'x: "1"'))).stdout.trim(), 'configmap/evolving configured');
		const obj = JSON.parse((await kd(['get', 'cm', 'evolving', '-o', 'json'])).stdout);
		assert.deepEqual(obj.data, {a: '1'});
		assert.deepEqual(obj.metadata.labels, {'added-by-hand': 'yes', x: '1'});
	});

	it('creates with the imperative generators', async () => {
		assert.equal((await kd(['create', 'namespace', 'dev1'])).stdout.trim(), 'namespace/dev1 created');
		const file = path.join(suite.home, 'settings.conf');
		fs.writeFileSync(file, 'mode=fast\n');
		const cm = await kd(['create', 'configmap', 'app-config', '-n', 'dev1', '--from-literal=edu=msa', `--from-file=${file}`]);
		assert.equal(cm.stdout.trim(), 'configmap/app-config created', cm.stderr);
		const secret = await kd(['create', 'secret', 'generic', 'creds', '-n', 'dev1', '--from-literal=password=s3cret']);
		assert.equal(secret.stdout.trim(), 'secret/creds created', secret.stderr);
		const deploy = await kd(['create', 'deployment', 'worker', '-n', 'dev1', '--image=busybox', '--replicas=2', '--', 'sleep', '3600']);
		assert.equal(deploy.stdout.trim(), 'deployment.apps/worker created', deploy.stderr);
		const got = JSON.parse((await kd(['get', 'deploy', 'worker', '-n', 'dev1', '-o', 'json'])).stdout);
		assert.deepEqual(got.spec.template.spec.containers[0].command, ['sleep', '3600']);
		assert.equal(got.spec.replicas, 2);
		const data = JSON.parse((await kd(['get', 'cm', 'app-config', '-n', 'dev1', '-o', 'json'])).stdout).data;
		assert.deepEqual(data, {edu: 'msa', 'settings.conf': 'mode=fast\n'});
		const s = JSON.parse((await kd(['get', 'secret', 'creds', '-n', 'dev1', '-o', 'json'])).stdout);
		assert.equal(Buffer.from(s.data.password, 'base64').toString(), 's3cret');
		const all = await kd(['get', 'cm', '-A', '--no-headers']);
		assert.match(all.stdout, /^dev1\s+app-config\s+2\s+/m);
	});


	it('autoscales a Deployment as kubectl autoscale does, and refuses what cannot be', async () => {
		const made = await kd(['autoscale', 'deploy', 'worker', '-n', 'dev1', '--min=1', '--max=5', '--cpu-percent=50']);
		assert.equal(made.stdout.trim(), 'horizontalpodautoscaler.autoscaling/worker autoscaled', made.stderr);
		const hpa = JSON.parse((await kd(['get', 'hpa', 'worker', '-n', 'dev1', '-o', 'json'])).stdout);
		assert.deepEqual(hpa.spec, {
			scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker'}, minReplicas: 1, maxReplicas: 5,
			metrics: [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 50}}}],
		});
		assert.match((await kd(['get', 'hpa', '-n', 'dev1'])).stdout, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nworker\s+Deployment\/worker\s+cpu: \S+\/50%\s+1\s+5\s+\d+\s+\S+\n$/);
		const noMax = await kd(['autoscale', 'deploy', 'worker', '-n', 'dev1']);
		assert.equal(noMax.code, 1);
		assert.equal(noMax.stderr.trim(), 'error: --max=MAXPODS is required and must be at least 1, max: -1');
		assert.equal((await kd(['autoscale', 'deploy/worker', '-n', 'dev1', '--min=4', '--max=2'])).stderr.trim(), 'error: --max=MAXPODS must be larger or equal to --min=MINPODS, max: 2, min: 4');
		assert.equal((await kd(['autoscale', 'cm', 'app-config', '-n', 'dev1', '--max=2'])).stderr.trim(), 'error: cannot autoscale a ConfigMap: cannot autoscale a ConfigMap');
		assert.equal((await kd(['delete', 'hpa', 'worker', '-n', 'dev1'])).code, 0);
	});
	it('labels, annotates and patches (merge and json)', async () => {
		assert.equal((await kd(['label', 'pod', 'nginx', 'tier=web'])).stdout.trim(), 'pod/nginx labeled');
		const clash = await kd(['label', 'pod', 'nginx', 'tier=db']);
		assert.equal(clash.code, 1);
		assert.equal(clash.stderr.trim(), "error: 'tier' already has a value (web), and --overwrite is false");
		assert.equal((await kd(['label', 'pod', 'nginx', 'tier=db', '--overwrite'])).code, 0);
		assert.equal((await kd(['get', 'pods', '-l', 'tier=db', '-o', 'name'])).stdout, 'pod/nginx\n');
		assert.equal((await kd(['annotate', 'deploy', 'edu-msa-board', 'owner=team-a'])).stdout.trim(), 'deployment.apps/edu-msa-board annotated');
		assert.equal((await kd(['patch', 'deploy', 'edu-msa-board', '--type', 'merge', '-p', '{"spec":{"replicas":3}}'])).stdout.trim(), 'deployment.apps/edu-msa-board patched');
		assert.equal((await kd(['patch', 'deploy/edu-msa-board', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/replicas","value":2}]'])).code, 0);
		const deploy = JSON.parse((await kd(['get', 'deploy', 'edu-msa-board', '-o', 'json'])).stdout);
		assert.equal(deploy.spec.replicas, 2);
		assert.equal(deploy.metadata.generation, 3);
		const invalid = await kd(['patch', 'deploy', 'edu-msa-board', '--type', 'merge', '-p', '{"spec":{"replicas":-1}}']);
		assert.equal(invalid.code, 1);
		assert.equal(invalid.stderr.trim(), 'The Deployment "edu-msa-board" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
	});

	it('streams changes with get -w', async () => {
		const watcher = spawn(process.execPath, [cliPath, 'get', 'configmaps', '-w', '--no-headers'], {env: {...process.env, KUBEDECK_HOME: suite.home}});
		let out = '';
		watcher.stdout.on('data', d => (out += d));
		try {
			await eventually(() => out.includes('edu-msa-configmap'), 'the initial listing');
			await kd(['create', 'configmap', 'watched', '--from-literal=a=b']);
			await eventually(() => /^watched\s+1\s+/m.test(out), 'the new configmap in the watch output');
			await kd(['delete', 'configmap', 'watched']);
			await eventually(() => out.split('\n').filter(l => l.startsWith('watched')).length >= 2, 'the deletion in the watch output');
		} finally {
			watcher.kill();
		}
	});

	it('deletes by file, by name and by label', async () => {
		const byFile = await kd(['delete', '-f', path.join(examplesDir, 'seed-configmap-secret.yaml')]);
		assert.equal(byFile.code, 0, byFile.stderr);
		assert.deepEqual(byFile.stdout.trim().split('\n'), ['configmap "edu-msa-configmap" deleted', 'secret "edu-msa-secret" deleted', 'pod "edu-msa-pod" deleted']);
		assert.equal((await kd(['delete', 'deployment', 'edu-msa-board'])).stdout.trim(), 'deployment.apps "edu-msa-board" deleted');
		assert.equal((await kd(['delete', 'pods', '-l', 'tier=db'])).stdout.trim(), 'pod "nginx" deleted');
		const gone = await kd(['delete', 'pod', 'nginx']);
		assert.equal(gone.code, 1);
		assert.equal(gone.stderr.trim(), 'Error from server (NotFound): pods "nginx" not found');
		assert.equal((await kd(['delete', 'pod', 'nginx', '--ignore-not-found'])).code, 0);
		const empty = await kd(['get', 'pods']);
		assert.equal(empty.stdout, '');
		assert.equal(empty.stderr.trim(), 'No resources found in default namespace.');
	});

	it('deletes a namespace with everything in it, and refuses to delete default', async () => {
		assert.equal((await kd(['delete', 'namespace', 'dev1'])).code, 0);
		assert.equal((await kd(['get', 'cm', '-A', '-o', 'name'])).stdout.includes('app-config'), false);
		const protectedNs = await kd(['delete', 'namespace', 'default']);
		assert.equal(protectedNs.code, 1);
		assert.equal(protectedNs.stderr.trim(), 'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted');
	});
});
