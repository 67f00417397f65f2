// The real kubectl against the engine's API over TCP: the REST shape the CLI
// uses is the one kubectl speaks (discovery, OpenAPI for validation, Tables,
// Status errors, strategic merge patch from apply, scale subresource).
import assert from 'node:assert/strict';
import https from 'node:https';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {type EngineProcess, eventually, examplesDir, removeHome, runCli, startEngine, tempHome} from '../helpers.js';

/** A request to the engine's TCP port. */
function tcp(port: number, method: string, urlPath: string, headers: Record<string, string> = {}, body?: string): Promise<{code: number; body: any}> {
	return new Promise((resolve, reject) => {
		// The engine's self-signed certificate: this test checks the token, not the chain.
		const req = https.request({host: '127.0.0.1', port, method, path: urlPath, headers, rejectUnauthorized: false}, res => {
			let text = '';
			res.on('data', c => (text += c));
			res.on('end', () => {
				let parsed: unknown;
				try {
					parsed = JSON.parse(text);
				} catch {
					parsed = text;
				}
				resolve({code: res.statusCode ?? 0, body: parsed});
			});
		});
		req.on('error', reject);
		req.end(body);
	});
}

describe('the TCP port', () => {
	let home: string;
	let engine: EngineProcess;
	let token: string;
	before(async () => {
		home = tempHome();
		engine = await startEngine(home, {port: 0});
		const config = await runCli(['kubeconfig'], {home});
		assert.equal(config.code, 0, config.stderr);
		token = /token: (\S+)/.exec(config.stdout)![1];
		assert.match(config.stdout, new RegExp(`server: https://127\\.0\\.0\\.1:${engine.port}`));
		assert.match(config.stdout, /certificate-authority-data: \S+/);
		assert.equal(fs.statSync(path.join(home, 'api-token')).mode & 0o777, 0o600);
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});

	it('answers 401 without the token or with a wrong one, and leaves the public paths open', async () => {
		const unauthorized = {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401};
		assert.deepEqual(await tcp(engine.port!, 'GET', '/api/v1/namespaces/default/secrets'), {code: 401, body: unauthorized});
		assert.deepEqual(await tcp(engine.port!, 'GET', '/api/v1/namespaces/default/secrets', {Authorization: `Bearer ${token.slice(0, -1)}x`}), {code: 401, body: unauthorized});
		assert.equal((await tcp(engine.port!, 'GET', '/api/v1/namespaces/default/secrets', {Authorization: `Bearer ${token}`})).code, 200);
		for (const open of ['/version', '/healthz', '/livez', '/readyz']) assert.equal((await tcp(engine.port!, 'GET', open)).code, 200, open);
	});

	it('refuses a browser request (Origin) with 403, and a text/plain body cannot create a pod', async () => {
		const pod = JSON.stringify({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'evil'}, spec: {containers: [{name: 'c', image: 'kubedeck/pause'}]}});
		const fromPage = await tcp(engine.port!, 'POST', '/api/v1/namespaces/default/pods', {Origin: 'http://evil.example', 'Content-Type': 'text/plain', Authorization: `Bearer ${token}`}, pod);
		assert.equal(fromPage.code, 403);
		assert.equal(fromPage.body.reason, 'Forbidden');
		const plain = await tcp(engine.port!, 'POST', '/api/v1/namespaces/default/pods', {'Content-Type': 'text/plain', Authorization: `Bearer ${token}`}, pod);
		assert.equal(plain.code, 415);
		assert.equal((await tcp(engine.port!, 'GET', '/api/v1/namespaces/default/pods/evil', {Authorization: `Bearer ${token}`})).code, 404);
	});

	it('serves the API on TCP without --port, on the same port after a restart, behind the `kubernetes` Service', async () => {
		const other = tempHome();
		let plain = await startEngine(other);
		try {
			const first = await runCli(['kubeconfig'], {home: other});
			assert.equal(first.code, 0, first.stderr);
			const server = /server: (https:\/\/127\.0\.0\.1:(\d+))/.exec(first.stdout)!;
			assert.ok(server, first.stdout);
			await plain.stop();
			plain = await startEngine(other);
			assert.equal(plain.port, Number(server[2]), 'the same port after a restart, so the kubeconfig still works');
			const svc = await runCli(['get', 'svc', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[0].port} {.spec.ports[0].targetPort}'], {home: other});
			assert.match(svc.stdout, new RegExp(`^127\\.\\d+\\.128\\.1 443 ${server[2]}$`));
			const ep = await runCli(['get', 'endpoints', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}'], {home: other});
			assert.equal(ep.stdout, `127.0.0.1:${server[2]}`);
		} finally {
			await plain.stop();
			removeHome(other);
		}
	});
});

function kubectlAvailable(): boolean {
	return (process.env.PATH ?? '').split(':').some(dir => fs.existsSync(path.join(dir, 'kubectl')));
}

describe('the real kubectl against the engine', {skip: !kubectlAvailable() && 'kubectl is not on PATH'}, () => {
	let home: string;
	let engine: EngineProcess;
	let kubeconfig: string;
	const kubectl = (args: string[], binary = 'kubectl') => new Promise<{code: number; stdout: string; stderr: string}>(resolve => {
		execFile(binary, ['--kubeconfig', kubeconfig, '--cache-dir', path.join(home, 'kube-cache'), ...args], {timeout: 60_000}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr});
		});
	});

	before(async () => {
		home = tempHome();
		engine = await startEngine(home, {port: 0});
		kubeconfig = path.join(home, 'kubeconfig');
		// kubectl uses the engine's token, from `kubedeck kubeconfig`.
		const config = await runCli(['kubeconfig'], {home});
		assert.equal(config.code, 0, config.stderr);
		fs.writeFileSync(kubeconfig, config.stdout, {mode: 0o600});
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});

	it('applies the seed examples, then reports them unchanged', async () => {
		const first = await kubectl(['apply', '-f', examplesDir]);
		assert.equal(first.code, 0, first.stderr);
		assert.match(first.stdout, /deployment\.apps\/edu-msa-board created/);
		const second = await kubectl(['apply', '-f', examplesDir]);
		assert.equal(second.code, 0, second.stderr);
		assert.ok(second.stdout.trim().split('\n').every(l => l.endsWith(' unchanged')), second.stdout);
	});

	it('gets server-side tables, including multi-type listings', async () => {
		const r = await kubectl(['get', 'pods,svc']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n(pod\/edu-msa-board-\S+\s+\d\/1\s+\S+\s+0\s+\S+\n){2}pod\/edu-msa-pod\s+\d\/1\s+/);
		assert.match(r.stdout, /service\/edu-msa-board\s+NodePort\s+127\.\d+\.\d+\.\d+\s+<none>\s+28082:30201\/TCP/);
	});

	it('re-applies a change with a strategic merge patch and scales through the scale subresource', async () => {
		const changed = path.join(home, 'board.yaml');
		fs.writeFileSync(changed, fs.readFileSync(path.join(examplesDir, 'seed-board.yaml'), 'utf8').replace('replicas: 2', 'replicas: 3'));
		const apply = await kubectl(['apply', '-f', changed]);
		assert.match(apply.stdout, /deployment\.apps\/edu-msa-board configured/);
		assert.equal((await kubectl(['scale', 'deploy/edu-msa-board', '--replicas=4'])).stdout.trim(), 'deployment.apps/edu-msa-board scaled');
		const spec = await kubectl(['get', 'deploy', 'edu-msa-board', '-o', 'jsonpath={.spec.replicas}/{.metadata.generation}']);
		assert.equal(spec.stdout, '4/3');
	});

	it('shows validation errors and NotFound as kube-apiserver would', async () => {
		const invalid = await kubectl(['patch', 'deploy', 'edu-msa-board', '-p', '{"spec":{"replicas":-1}}']);
		assert.notEqual(invalid.code, 0);
		assert.equal(invalid.stderr.trim(), 'The Deployment "edu-msa-board" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
		const missing = await kubectl(['get', 'pod', 'nope']);
		assert.equal(missing.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
	});

	it('deletes and waits until the objects are gone', async () => {
		const r = await kubectl(['delete', '-f', examplesDir]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /pod "nginx" deleted/);
		const left = await kubectl(['get', 'all', '-o', 'name']);
		assert.equal(left.stdout, 'service/kubernetes\n', 'what is left is what every cluster has in default');
	});

	it('runs a Job to completion and waits for it; kubedeck makes one from a CronJob; an unparseable schedule is refused', async () => {
		// kubectl's generators (create job, create cronjob) send protobuf bodies (1.32 and newer); a manifest goes through apply.
		const manifest = async (args: string[]) => {
			const r = await kubectl(['--dry-run=client', '-o', 'yaml', ...args]);
			assert.equal(r.code, 0, r.stderr);
			const file = path.join(home, `${args[2]}.yaml`);
			fs.writeFileSync(file, r.stdout);
			return file;
		};
		const created = await kubectl(['create', 'job', 'hello', '--image=busybox', '--', 'sh', '-c', 'echo hello']);
		assert.equal(created.stdout.trim(), 'job.batch/hello created', created.stderr);
		const waited = await kubectl(['wait', '--for=condition=complete', 'job/hello', '--timeout=60s']);
		assert.equal(waited.stdout.trim(), 'job.batch/hello condition met', waited.stderr);
		assert.match((await kubectl(['get', 'jobs'])).stdout, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nhello\s+Complete\s+1\/1\s+\d+s\s+\d+s\n$/);
		assert.equal((await kubectl(['logs', 'job/hello'])).stdout, 'hello\n');
		const tick = await kubectl(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--', 'true']);
		assert.equal(tick.stdout.trim(), 'cronjob.batch/tick created', tick.stderr);
		const manual = await runCli(['create', 'job', 'tick-now', '--from=cronjob/tick'], {home});
		assert.equal(manual.stdout.trim(), 'job.batch/tick-now created', manual.stderr);
		const owner = await kubectl(['get', 'job', 'tick-now', '-o', 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}']);
		assert.equal(owner.stdout, 'CronJob/manual');
		assert.match((await kubectl(['get', 'cronjobs'])).stdout, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\ntick\s+\*\/5 \* \* \* \*\s+<none>\s+False\s+\d\s+<none>\s+\d+s\n$/);
		const bad = await kubectl(['apply', '-f', await manifest(['create', 'cronjob', 'bad', '--image=busybox', '--schedule=61 * * * *'])]);
		assert.notEqual(bad.code, 0);
		assert.match(bad.stderr.trim(), /The CronJob "bad" is invalid: spec\.schedule: Invalid value: "61 \* \* \* \*": Invalid value for minute: 61$/);
		assert.equal((await kubectl(['delete', 'cronjob', 'tick'])).code, 0);
		assert.equal((await kubectl(['delete', 'job', 'hello'])).code, 0);
	});

	it('takes the protobuf bodies of kubectl\'s generators: create namespace, configmap, secret, deployment, service, autoscale', async () => {
		const run = async (args: string[], line: string) => {
			const r = await kubectl(args);
			assert.equal(r.stdout.trim(), line, r.stderr);
		};
		await run(['create', 'namespace', 'gen'], 'namespace/gen created');
		await run(['create', 'configmap', 'settings', '-n', 'gen', '--from-literal=mode=fast'], 'configmap/settings created');
		await run(['create', 'secret', 'generic', 'creds', '-n', 'gen', '--from-literal=password=s3cret'], 'secret/creds created');
		await run(['create', 'deployment', 'web', '-n', 'gen', '--image=kubedeck/agnhost', '--replicas=0', '--port=8080'], 'deployment.apps/web created');
		await run(['create', 'service', 'clusterip', 'web', '-n', 'gen', '--tcp=80:8080'], 'service/web created');
		await run(['autoscale', 'deploy', 'web', '-n', 'gen', '--min=1', '--max=5', '--cpu-percent=50'], 'horizontalpodautoscaler.autoscaling/web autoscaled');
		const get = async (what: string) => JSON.parse((await kubectl(['get', what, '-n', 'gen', '-o', 'json'])).stdout);
		assert.deepEqual((await get('cm/settings')).data, {mode: 'fast'});
		assert.equal(Buffer.from((await get('secret/creds')).data.password, 'base64').toString(), 's3cret');
		const deploy = await get('deploy/web');
		// Zeros a client sets on pointer fields stay; the zeros Go writes for fields never set do not.
		assert.equal(deploy.spec.replicas, 0);
		assert.deepEqual(deploy.spec.template.spec.containers[0].ports, [{containerPort: 8080, protocol: 'TCP'}]);
		assert.equal(deploy.spec.template.spec.hostNetwork, undefined);
		assert.equal(deploy.metadata.creationTimestamp.endsWith('Z') && !deploy.metadata.creationTimestamp.startsWith('1970'), true);
		const svc = await get('svc/web');
		assert.deepEqual(svc.spec.ports.map((p: Record<string, unknown>) => [p.port, p.targetPort, p.protocol]), [[80, 8080, 'TCP']]);
		const hpa = await get('hpa/web');
		assert.deepEqual(hpa.spec, {scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'web'}, minReplicas: 1, maxReplicas: 5, metrics: [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 50}}}]});
		assert.equal((await kubectl(['delete', 'namespace', 'gen'])).code, 0);
	});

	it('serves autoscaling/v1 beside v2: kubectl 1.27 autoscales, and a v1 read, patch and watch see the same object', async () => {
		// kubectl 1.27 to 1.32 create the autoscaler as autoscaling/v1 (1.33 sends v2); the gcloud directory has the old ones.
		const old = ['/usr/lib/google-cloud-sdk/bin/kubectl.1.27', '/usr/lib/google-cloud-sdk/bin/kubectl.1.32'].filter(f => fs.existsSync(f));
		assert.equal((await kubectl(['create', 'namespace', 'v1hpa'])).code, 0);
		assert.equal((await kubectl(['create', 'deployment', 'web', '-n', 'v1hpa', '--image=kubedeck/agnhost', '--replicas=0'])).code, 0);
		for (const [i, binary] of [...old, 'kubectl'].entries()) {
			const made = await kubectl(['autoscale', 'deploy', 'web', '-n', 'v1hpa', `--name=web${i}`, '--min=2', '--max=4', '--cpu-percent=40'], binary);
			assert.equal(made.stdout.trim(), `horizontalpodautoscaler.autoscaling/web${i} autoscaled`, `${binary}: ${made.stderr}`);
			const stored = JSON.parse((await kubectl(['get', `hpa/web${i}`, '-n', 'v1hpa', '-o', 'json'])).stdout);
			assert.equal(stored.apiVersion, 'autoscaling/v2');
			assert.deepEqual(stored.spec.metrics, [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 40}}}], binary);
		}
		const asV1 = JSON.parse((await kubectl(['get', 'horizontalpodautoscalers.v1.autoscaling/web0', '-n', 'v1hpa', '-o', 'json'])).stdout);
		assert.equal(asV1.apiVersion, 'autoscaling/v1');
		assert.equal(asV1.spec.targetCPUUtilizationPercentage, 40);
		assert.equal(asV1.spec.metrics, undefined);
		// A merge patch written against v1 lands on the v2 object.
		const patched = await kubectl(['patch', 'horizontalpodautoscalers.v1.autoscaling', 'web0', '-n', 'v1hpa', '--type=merge', '-p', '{"spec":{"targetCPUUtilizationPercentage":70}}']);
		assert.equal(patched.code, 0, patched.stderr);
		const after = JSON.parse((await kubectl(['get', 'hpa/web0', '-n', 'v1hpa', '-o', 'json'])).stdout);
		assert.equal(after.spec.metrics[0].resource.target.averageUtilization, 70);
		const watched = await kubectl(['get', '--raw', '/apis/autoscaling/v1/namespaces/v1hpa/horizontalpodautoscalers?watch=true&timeoutSeconds=1']);
		const events = watched.stdout.trim().split('\n').map(line => JSON.parse(line));
		assert.deepEqual(events.map(e => [e.type, e.object.apiVersion, e.object.metadata.name, e.object.spec.targetCPUUtilizationPercentage]).sort(),
			[...old, 'kubectl'].map((_, i) => ['ADDED', 'autoscaling/v1', `web${i}`, i === 0 ? 70 : 40]));
		const listed = JSON.parse((await kubectl(['get', '--raw', '/apis/autoscaling/v1/namespaces/v1hpa/horizontalpodautoscalers'])).stdout);
		assert.equal(listed.apiVersion, 'autoscaling/v1');
		assert.ok(listed.items.every((h: {apiVersion: string}) => h.apiVersion === 'autoscaling/v1'));
		const discovery = JSON.parse((await kubectl(['get', '--raw', '/apis/autoscaling'])).stdout);
		assert.deepEqual(discovery.versions.map((v: {version: string}) => v.version), ['v2', 'v1']);
		assert.equal(discovery.preferredVersion.version, 'v2');
		assert.equal((await kubectl(['delete', 'namespace', 'v1hpa'])).code, 0);
	});

	it('explains kinds and validates fields from the official schemas: kubectl explain, apply of a List, fieldValidation Strict, Warn and Ignore, on kubectl 1.27 too', async () => {
		const old = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
		for (const binary of ['kubectl', ...(fs.existsSync(old) ? [old] : [])]) {
			// 1.27 reads /openapi/v2 (gnostic's protobuf) where newer ones read /openapi/v3.
			const explained = await kubectl(['explain', 'deployment.spec.strategy'], binary);
			assert.match(explained.stdout, /KIND:\s+Deployment\nVERSION:\s+v1\n[^]*FIELD:\s+strategy <DeploymentStrategy>[^]*The deployment strategy to use to replace existing pods with new ones\.[^]*rollingUpdate\s+<RollingUpdateDeployment>/, `${binary}: ${explained.stderr}`);
			const file = path.join(home, 'list.yaml');
			fs.writeFileSync(file, 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: listed-a}, data: {a: "1"}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: listed-b}}\n');
			const listed = await kubectl(['apply', '-f', file], binary);
			assert.match(listed.stdout, /^configmap\/listed-a (created|unchanged)\nconfigmap\/listed-b (created|unchanged)\n$/, `${binary}: ${listed.stderr}`);
			// kubectl asks for Strict by default: an unknown field is refused, named by its path, and nothing is written.
			fs.writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: strict}\ndata: {a: "1"}\nbogus: 1\n');
			const strict = await kubectl(['apply', '-f', file], binary);
			assert.equal(strict.code, 1);
			assert.match(strict.stderr, /Error from server \(BadRequest\): error when creating "[^"]+": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"/, binary);
			assert.equal((await kubectl(['get', 'configmap', 'strict'], binary)).code, 1);
		}
		const file = path.join(home, 'warn.yaml');
		fs.writeFileSync(file, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: fields}\nspec:\n  replicas: 0\n  selector: {matchLabels: {app: fields}}\n  template:\n    metadata: {labels: {app: fields}}\n    spec: {containers: [{name: m, image: busybox, bogusField: 1}]}\n');
		const warned = await kubectl(['apply', '--validate=warn', '-f', file]);
		assert.equal(warned.code, 0, warned.stderr);
		assert.match(warned.stderr, /^Warning: unknown field "spec\.template\.spec\.containers\[0\]\.bogusField"$/m);
		assert.equal((await kubectl(['get', 'deployment', 'fields', '-o', 'jsonpath={.spec.template.spec.containers[0].bogusField}'])).stdout, '', 'dropped, as the Go struct drops it');
		fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('replicas: 0', 'replicas: 0\n  bogus: 1'));
		const ignored = await kubectl(['apply', '--validate=false', '-f', file]);
		assert.deepEqual([ignored.code, ignored.stderr], [0, ''], 'Ignore says nothing');
		assert.equal((await kubectl(['delete', 'deployment', 'fields'])).code, 0);
		assert.equal((await kubectl(['delete', 'configmap', 'listed-a', 'listed-b'])).code, 0);
	});

	it('undoes a Deployment\'s rollout onto its old ReplicaSet, which takes the next revision, and omits what Go omits', async () => {
		assert.equal((await kubectl(['create', 'deployment', 'undo', '--image=busybox', '--replicas=0'])).code, 0);
		await eventually(async () => (await kubectl(['get', 'rs', '-l', 'app=undo', '-o', 'name'])).stdout.trim().split('\n').length === 1, 'the first ReplicaSet');
		assert.equal((await kubectl(['set', 'image', 'deployment/undo', 'busybox=busybox:2'])).code, 0);
		await eventually(async () => (await kubectl(['get', 'rs', '-l', 'app=undo', '-o', 'name'])).stdout.trim().split('\n').length === 2, 'the second ReplicaSet');
		const undo = await kubectl(['rollout', 'undo', 'deployment/undo']);
		assert.equal(undo.stdout, 'deployment.apps/undo rolled back\n', undo.stderr);
		// kubectl sends the old template with `creationTimestamp: null`: stored as Go stores it, it is the old template again.
		assert.equal((await kubectl(['get', 'deployment', 'undo', '-o', 'jsonpath={.spec.template.metadata}'])).stdout, '{"labels":{"app":"undo"}}');
		await eventually(async () => /\nREVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/.test((await kubectl(['rollout', 'history', 'deployment/undo'])).stdout), 'revisions 2 and 3 (1 moved to 3)');
		assert.equal((await kubectl(['get', 'rs', '-l', 'app=undo', '-o', 'name'])).stdout.trim().split('\n').length, 2, 'no third ReplicaSet');
		// An empty list is omitted, as the Go encoder omits it.
		const released = JSON.parse((await kubectl(['patch', 'deployment', 'undo', '--type=json', '-p', '[{"op":"add","path":"/metadata/finalizers","value":[]}]', '-o', 'json'])).stdout);
		assert.equal('finalizers' in released.metadata, false);
		assert.equal((await kubectl(['delete', 'deployment', 'undo'])).code, 0);
	});

	it('keeps field ownership for server-side apply: a conflict names the manager and field, --force-conflicts takes it, a dropped field is pruned, and create, scale and label are recorded', async () => {
		const manifest = (replicas: number | undefined, labels: Record<string, string>) => {
			const file = path.join(home, `ssa-${replicas}-${Object.keys(labels).join('-')}.json`);
			fs.writeFileSync(file, JSON.stringify({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'ssa', labels},
				spec: {...(replicas === undefined ? {} : {replicas}), selector: {matchLabels: {app: 'ssa'}}, template: {metadata: {labels: {app: 'ssa'}}, spec: {containers: [{name: 'c', image: 'kubedeck/pause'}]}}}}));
			return file;
		};
		const first = await kubectl(['apply', '--server-side', '-f', manifest(0, {app: 'ssa', tier: 'front'})]);
		assert.equal(first.stdout, 'deployment.apps/ssa serverside-applied\n', first.stderr);
		// The same configuration again changes nothing: no write, the same resourceVersion.
		const version = async () => (await kubectl(['get', 'deployment', 'ssa', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
		const before = await version();
		assert.equal((await kubectl(['apply', '--server-side', '-f', manifest(0, {app: 'ssa', tier: 'front'})])).code, 0);
		assert.equal(await version(), before);
		const refused = await kubectl(['apply', '--server-side', '--field-manager=ops', '-f', manifest(1, {app: 'ssa'})]);
		assert.notEqual(refused.code, 0);
		assert.match(refused.stderr, /Apply failed with 1 conflict: conflict with "kubectl" using apps\/v1: \.spec\.replicas/);
		assert.equal((await kubectl(['get', 'deployment', 'ssa', '-o', 'jsonpath={.spec.replicas}'])).stdout, '0', 'nothing written');
		const forced = await kubectl(['apply', '--server-side', '--field-manager=ops', '--force-conflicts', '-f', manifest(1, {app: 'ssa'})]);
		assert.equal(forced.code, 0, forced.stderr);
		// kubectl hides managedFields unless asked.
		assert.equal(JSON.parse((await kubectl(['get', 'deployment', 'ssa', '-o', 'json'])).stdout).metadata.managedFields, undefined);
		const owners = async () => JSON.parse((await kubectl(['get', 'deployment', 'ssa', '-o', 'json', '--show-managed-fields'])).stdout).metadata.managedFields as {manager: string; operation: string; subresource?: string; fieldsV1: any}[];
		let entries = await owners();
		assert.deepEqual(entries.map(e => `${e.manager} ${e.operation}`), ['kubectl Apply', 'ops Apply']);
		assert.equal('f:replicas' in entries[0].fieldsV1['f:spec'], false, 'kubectl lost spec.replicas to ops');
		assert.deepEqual(entries[1].fieldsV1['f:spec']['f:replicas'], {});
		// kubectl stops applying the tier label and replicas: the label goes; replicas stay, ops holds them.
		const pruned = await kubectl(['apply', '--server-side', '-f', manifest(undefined, {app: 'ssa'})]);
		assert.equal(pruned.code, 0, pruned.stderr);
		assert.equal((await kubectl(['get', 'deployment', 'ssa', '-o', 'jsonpath={.metadata.labels} {.spec.replicas}'])).stdout, '{"app":"ssa"} 1');
		// An Update through the scale subresource takes replicas, and an apply of another value conflicts with it.
		assert.equal((await kubectl(['scale', 'deployment', 'ssa', '--replicas=2'])).code, 0);
		entries = await owners();
		const scaler = entries.find(e => e.subresource === 'scale');
		assert.ok(scaler && scaler.operation === 'Update' && scaler.fieldsV1['f:spec']['f:replicas'], JSON.stringify(entries));
		const again = await kubectl(['apply', '--server-side', '--field-manager=ops', '-f', manifest(1, {app: 'ssa'})]);
		assert.match(again.stderr, new RegExp(`conflict with "${scaler.manager}" with subresource "scale" using apps/v1: \\.spec\\.replicas`));
		// A label set by kubectl label is its own Update entry.
		assert.equal((await kubectl(['label', 'deployment', 'ssa', 'team=blue'])).code, 0);
		const labeller = (await owners()).find(e => e.operation === 'Update' && e.fieldsV1['f:metadata']?.['f:labels']?.['f:team']);
		assert.ok(labeller, 'kubectl label recorded');
		// Created by a generator: kubectl-create owns what it set.
		assert.equal((await kubectl(['create', 'configmap', 'ssa-cm', '--from-literal=a=1'])).code, 0);
		const cm = JSON.parse((await kubectl(['get', 'configmap', 'ssa-cm', '-o', 'json', '--show-managed-fields'])).stdout).metadata.managedFields;
		assert.deepEqual(cm.map((e: {manager: string; operation: string; fieldsV1: unknown}) => [e.manager, e.operation, e.fieldsV1]), [['kubectl-create', 'Update', {'f:data': {'.': {}, 'f:a': {}}}]]);
		// kubedeck's own get hides them too, and shows them when asked.
		assert.doesNotMatch((await runCli(['get', 'deployment', 'ssa', '-o', 'yaml'], {home})).stdout, /managedFields/);
		assert.match((await runCli(['get', 'deployment', 'ssa', '-o', 'yaml', '--show-managed-fields'], {home})).stdout, /managedFields:\n\s+- apiVersion: apps\/v1\n\s+fieldsType: FieldsV1/);
		// A field the kind does not declare, in server-side apply's words (kubectl asks for Strict), and nothing written.
		const bad = path.join(home, 'ssa-bad.json');
		fs.writeFileSync(bad, JSON.stringify({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'ssa-bad'}, spec: {selector: {matchLabels: {app: 'b'}}, template: {metadata: {labels: {app: 'b'}}, spec: {containers: [{name: 'c', image: 'kubedeck/pause', bogus: 1}]}}}}));
		const strict = await kubectl(['apply', '--server-side', '-f', bad]);
		assert.match(strict.stderr, /failed to create typed patch object \(default\/ssa-bad; apps\/v1, Kind=Deployment\): \.spec\.template\.spec\.containers\[name="c"\]\.bogus: field not declared in schema/);
		assert.equal((await kubectl(['get', 'deployment', 'ssa-bad'])).code, 1);
		const warned = await kubectl(['apply', '--server-side', '--validate=warn', '-f', bad]);
		assert.equal(warned.code, 0, warned.stderr);
		assert.match(warned.stderr, /Warning: \.spec\.template\.spec\.containers\[name="c"\]\.bogus: field not declared in schema/);
		assert.equal((await kubectl(['delete', 'deployment', 'ssa-bad'])).code, 0);
		// Misused options are refused as kube-apiserver refuses them.
		assert.match((await kubectl(['patch', 'deployment', 'ssa', '-p', '{"spec":{"replicas":1}}', '--field-manager', 'x'.repeat(129)])).stderr, /fieldManager: Too long: must have at most 128 bytes/);
		assert.equal((await kubectl(['delete', 'deployment', 'ssa'])).code, 0);
		assert.equal((await kubectl(['delete', 'configmap', 'ssa-cm'])).code, 0);
	});

	it('rolls a StatefulSet with claims and a DaemonSet out, shows their history and undoes a revision', async () => {
		const file = path.join(home, 'stateful.yaml');
		const manifest = (image: string) => `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: ${image}, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: ${image}, command: [sleep, '3600']}]
`;
		fs.writeFileSync(file, manifest('busybox'));
		assert.equal((await kubectl(['apply', '-f', file])).code, 0);
		const status = await kubectl(['rollout', 'status', 'sts/db', '--timeout=60s']);
		// kubectl reports every RollingUpdate StatefulSet as partitioned (the API defaults partition to 0).
		assert.match(status.stdout, /partitioned roll out complete: 2 new pods have been updated\.\.\.\n$/, status.stderr);
		assert.match((await kubectl(['rollout', 'status', 'ds/agent', '--timeout=60s'])).stdout, /daemon set "agent" successfully rolled out\n$/);
		assert.match((await kubectl(['get', 'pvc'])).stdout, /data-db-0\s+Bound\s+pvc-[\w-]+\s+10Mi\s+RWO\s+local-path/);
		assert.match((await kubectl(['get', 'sts'])).stdout, /^NAME\s+READY\s+AGE\ndb\s+2\/2\s+\d+s\n$/);
		assert.match((await kubectl(['get', 'ds'])).stdout, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagent\s+1\s+1\s+1\s+1\s+1\s+<none>\s+\d+s\n$/);

		fs.writeFileSync(file, manifest('busybox:2'));
		assert.equal((await kubectl(['apply', '-f', file])).code, 0);
		assert.equal((await kubectl(['rollout', 'status', 'sts/db', '--timeout=60s'])).code, 0);
		for (const ref of ['sts/db', 'ds/agent']) {
			const history = await kubectl(['rollout', 'history', ref]);
			assert.match(history.stdout, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/, history.stderr);
			const undo = await kubectl(['rollout', 'undo', ref]);
			assert.match(undo.stdout, /rolled back\n$/, undo.stderr);
		}
		assert.equal((await kubectl(['rollout', 'status', 'sts/db', '--timeout=60s'])).code, 0);
		assert.equal((await kubectl(['get', 'sts', 'db', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).stdout, 'busybox');
		assert.match((await kubectl(['rollout', 'history', 'sts/db'])).stdout, /\n2\s+<none>\n3\s+<none>\n/);
		await eventually(async () => (await kubectl(['get', 'pods', '-l', 'app=db', '-o', 'jsonpath={.items[*].spec.containers[0].image}'])).stdout === 'busybox busybox', 'the pods back at busybox', 60_000);
		assert.equal((await kubectl(['delete', '-f', file])).code, 0);
	});
});
