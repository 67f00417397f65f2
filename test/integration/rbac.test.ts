// Users, client certificates, tokens and RBAC, through the real kubectl (the
// one on PATH, and 1.27 from the gcloud directory when it is there) against a
// real engine over TLS: the seed's "a user granted dev1 works in dev1 alone".
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import YAML from 'yaml';
import {selfSignedCert} from '../../source/server/auth/ca.js';
import {type EngineProcess, removeHome, runCli, startEngine, tempHome} from '../helpers.js';

const kubectl127 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
const hasKubectl = (process.env.PATH ?? '').split(':').some(dir => fs.existsSync(path.join(dir, 'kubectl')));

describe('users and RBAC through the real kubectl', {skip: !hasKubectl && 'kubectl is not on PATH'}, () => {
	let home: string;
	let engine: EngineProcess;
	const configs: Record<string, string> = {};

	const kubectl = (who: string, args: string[], binary = 'kubectl') => new Promise<{code: number; stdout: string; stderr: string}>(resolve => {
		execFile(binary, ['--kubeconfig', configs[who], '--cache-dir', path.join(home, `cache-${who}-${path.basename(binary)}`), ...args], {timeout: 60_000}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: stderr.trim()});
		});
	});
	const cli = async (args: string[]) => {
		const r = await runCli(args, {home});
		assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
		return r.stdout;
	};
	const writeConfig = (who: string, text: string) => {
		configs[who] = path.join(home, `${who}.kubeconfig`);
		fs.writeFileSync(configs[who], text, {mode: 0o600});
	};

	before(async () => {
		home = tempHome();
		engine = await startEngine(home, {port: 0});
		writeConfig('admin', await cli(['kubeconfig']));
		assert.match(await cli(['users', 'add', 'alice', '--namespace', 'dev1', '--role', 'edit']), /rolebinding\.rbac\.authorization\.k8s\.io\/kubedeck-user-alice created \(edit in dev1\)/);
		await cli(['users', 'add', 'bob', '--namespace', 'dev1', '--role', 'view']);
		await cli(['users', 'add', 'carol', '--namespace', 'dev1', '--role', 'admin']);
		assert.equal((await kubectl('admin', ['create', 'namespace', 'dev2'])).code, 0);
		writeConfig('alice', await cli(['kubeconfig', '--user', 'alice']));
		writeConfig('bob', await cli(['kubeconfig', '--user', 'bob', '--token']));
		writeConfig('carol', await cli(['kubeconfig', '--user', 'carol']));
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});

	it('gives a user a client certificate from the cluster CA, in a context for their namespace', () => {
		const config = YAML.parse(fs.readFileSync(configs.alice, 'utf8'));
		assert.equal(config['current-context'], 'alice@kubedeck');
		assert.equal(config.contexts[0].context.namespace, 'dev1');
		assert.ok(config.users[0].user['client-certificate-data'] && config.users[0].user['client-key-data']);
		assert.equal(config.clusters[0].cluster['certificate-authority-data'], Buffer.from(fs.readFileSync(path.join(home, 'ca.crt'))).toString('base64'));
		assert.equal(fs.statSync(path.join(home, 'ca.key')).mode & 0o777, 0o600);
		// Nothing but hashes of tokens is kept.
		const bobToken = YAML.parse(fs.readFileSync(configs.bob, 'utf8')).users[0].user.token as string;
		assert.ok(!fs.readFileSync(path.join(home, 'state.db')).includes(bobToken));
	});

	it('lets alice (edit in dev1) work in dev1 and nowhere else, with kube-apiserver\'s 403s', async () => {
		assert.equal((await kubectl('alice', ['create', 'deployment', 'web', '--image=kubedeck/agnhost', '--replicas=0'])).stdout.trim(), 'deployment.apps/web created');
		assert.equal((await kubectl('alice', ['scale', 'deployment', 'web', '--replicas=0'])).code, 0);
		assert.match((await kubectl('alice', ['get', 'deployments'])).stdout, /^NAME\s+READY/);
		const refused = [
			[['get', 'pods', '-n', 'dev2'], 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "dev2"'],
			[['get', 'pods', '-A'], 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster scope'],
			[['get', 'namespaces'], 'Error from server (Forbidden): namespaces is forbidden: User "alice" cannot list resource "namespaces" in API group "" at the cluster scope'],
			[['get', 'rolebindings'], 'Error from server (Forbidden): rolebindings.rbac.authorization.k8s.io is forbidden: User "alice" cannot list resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "dev1"'],
		] as const;
		for (const [args, message] of refused) {
			const r = await kubectl('alice', [...args]);
			assert.equal(r.code, 1, args.join(' '));
			assert.equal(r.stderr, message);
		}
		// kubedeck's own CLI takes the same kubeconfig, and gets the same answers.
		const own = await runCli(['--kubeconfig', configs.alice, 'get', 'deployments'], {home});
		assert.match(own.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/0/, own.stderr);
		const ownAll = await runCli(['--kubeconfig', configs.alice, 'get', 'pods', '-A'], {home});
		assert.equal(ownAll.code, 1);
		assert.equal(ownAll.stderr.trim(), 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster scope');
		// --context alone looks where kubectl looks: $KUBECONFIG, a list of files merged.
		const merged = await runCli(['--context', 'alice@kubedeck', 'get', 'deployments'], {home, env: {KUBECONFIG: [configs.bob, configs.alice].join(path.delimiter)}});
		assert.match(merged.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/0/, merged.stderr);
		const noSuch = await runCli(['--context', 'carol@kubedeck', 'get', 'pods'], {home, env: {KUBECONFIG: configs.alice}});
		assert.equal(noSuch.stderr.trim(), `error: context "carol@kubedeck" does not exist in ${configs.alice}`);
		const as = await kubectl('alice', ['get', 'pods', '--as=bob']);
		assert.equal(as.stderr, 'Error from server (Forbidden): users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope');
		// The engine tells each user their namespaces; its users are for cluster-admins only.
		assert.deepEqual(JSON.parse((await kubectl('alice', ['get', '--raw', '/kubedeck/v1/namespaces'])).stdout), {namespaces: ['dev1']});
		assert.match((await kubectl('alice', ['get', '--raw', '/kubedeck/v1/users'])).stderr, /forbidden: User "alice" cannot get path "\/kubedeck\/v1\/users"/);
		// Her own namespace she may read by name (view's namespaces rule, in the namespace it names).
		assert.equal((await kubectl('alice', ['get', 'namespace', 'dev1', '-o', 'name'])).stdout.trim(), 'namespace/dev1');
	});

	it('keeps alice\'s namespace at the baseline Pod Security level: no hostPath or privileged pods, a warning for such a template', async () => {
		const labels = JSON.parse((await kubectl('admin', ['get', 'namespace', 'dev1', '-o', 'json'])).stdout).metadata.labels;
		assert.equal(labels['pod-security.kubernetes.io/enforce'], 'baseline');
		const file = path.join(home, 'hostile.json');
		const spec = {containers: [{name: 'main', image: 'busybox', command: ['sleep', '60'], securityContext: {privileged: true}, volumeMounts: [{name: 'root', mountPath: '/host'}]}], volumes: [{name: 'root', hostPath: {path: '/'}}]};
		fs.writeFileSync(file, JSON.stringify({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'hostile'}, spec}));
		const pod = await kubectl('alice', ['apply', '-f', file]);
		assert.equal(pod.code, 1);
		assert.match(pod.stderr, /pods "hostile" is forbidden: violates PodSecurity "baseline:latest": privileged \(container "main" must not set securityContext\.privileged=true\), hostPath volume \("root"\)/);
		fs.writeFileSync(file, JSON.stringify({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'hostile'},
			spec: {replicas: 0, selector: {matchLabels: {app: 'hostile'}}, template: {metadata: {labels: {app: 'hostile'}}, spec}}}));
		const deploy = await kubectl('alice', ['apply', '-f', file]);
		assert.equal(deploy.code, 0, deploy.stderr);
		assert.match(deploy.stderr, /^Warning: would violate PodSecurity "baseline:latest": privileged \(container "main" must not set securityContext\.privileged=true\), hostPath volume \("root"\)$/m);
		assert.equal((await kubectl('alice', ['delete', 'deployment', 'hostile'])).code, 0);
		// audit mode: what a change would break of the audit level is written on its audit event.
		assert.equal((await kubectl('admin', ['label', 'namespace', 'dev1', 'pod-security.kubernetes.io/audit=restricted'])).code, 0);
		assert.equal((await kubectl('alice', ['create', 'deployment', 'plain', '--image=busybox', '--replicas=0'])).code, 0);
		const events = fs.readFileSync(path.join(home, 'audit.log'), 'utf8').trim().split('\n').map(l => JSON.parse(l));
		const made = events.find(e => e.verb === 'create' && e.objectRef?.resource === 'deployments' && e.objectRef?.name === 'plain');
		assert.match(made.annotations['pod-security.kubernetes.io/audit-violations'], /^would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
		assert.equal((await kubectl('alice', ['delete', 'deployment', 'plain'])).code, 0);
		// A label that names no level is refused as Pod Security admission refuses it, and nothing is written.
		const typo = await kubectl('admin', ['label', '--overwrite', 'namespace', 'dev1', 'pod-security.kubernetes.io/enforce=baseine']);
		assert.equal(typo.code, 1);
		assert.equal(typo.stderr, 'The Namespace "dev1" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "baseine": must be one of privileged, baseline, restricted');
		assert.equal(JSON.parse((await kubectl('admin', ['get', 'namespace', 'dev1', '-o', 'json'])).stdout).metadata.labels['pod-security.kubernetes.io/enforce'], 'baseline');
	});

	it('lets bob (view, by token) read but not scale, write or read Secrets', async () => {
		assert.match((await kubectl('bob', ['get', 'deployment', 'web'])).stdout, /^NAME\s+READY/);
		const scale = await kubectl('bob', ['scale', 'deployment', 'web', '--replicas=1']);
		assert.equal(scale.stderr, 'Error from server (Forbidden): deployments.apps "web" is forbidden: User "bob" cannot patch resource "deployments/scale" in API group "apps" in the namespace "dev1"');
		assert.equal((await kubectl('admin', ['create', 'secret', 'generic', 'creds', '-n', 'dev1', '--from-literal=password=s3cret'])).code, 0);
		const secret = await kubectl('bob', ['get', 'secret', 'creds', '-o', 'yaml']);
		assert.equal(secret.code, 1);
		assert.match(secret.stderr, /secrets "creds" is forbidden: User "bob" cannot get resource "secrets"/);
		assert.doesNotMatch(secret.stdout, /czNjcmV0/);
		// A rotated token replaces the old one at once.
		await cli(['users', 'token', 'bob']);
		assert.equal((await kubectl('bob', ['get', 'deployments'])).stderr, 'error: You must be logged in to the server (Unauthorized)');
	});

	it('refuses a bad token, a certificate from another CA and no credential with 401, and leaves the health paths open', async () => {
		const bad = YAML.parse(fs.readFileSync(configs.bob, 'utf8'));
		bad.users[0].user.token = 'kd_not-a-token';
		writeConfig('bad', YAML.stringify(bad));
		// kubectl words a 401 on discovery differently from one on the request itself.
		const loggedOut = /error: You must be logged in to the server \((Unauthorized|the server has asked for the client to provide credentials)\)$/;
		assert.match((await kubectl('bad', ['get', 'pods'])).stderr, loggedOut);
		const stranger = selfSignedCert('alice', {});
		const other = YAML.parse(fs.readFileSync(configs.alice, 'utf8'));
		other.users[0].user = {'client-certificate-data': Buffer.from(stranger.cert).toString('base64'), 'client-key-data': Buffer.from(stranger.key).toString('base64')};
		writeConfig('stranger', YAML.stringify(other));
		assert.match((await kubectl('stranger', ['get', 'pods'])).stderr, loggedOut);
		const ca = fs.readFileSync(path.join(home, 'ca.crt'));
		const get = (p: string) => new Promise<number>((resolve, reject) => {
			https.get({host: '127.0.0.1', port: engine.port, path: p, ca}, res => {
				res.resume();
				resolve(res.statusCode ?? 0);
			}).on('error', reject);
		});
		// The serving certificate is the cluster CA's, for 127.0.0.1: verified here, not skipped.
		assert.equal(await get('/api/v1/pods'), 401);
		for (const open of ['/healthz', '/readyz', '/livez', '/version']) assert.equal(await get(open), 200, open);
	});

	it('answers auth can-i, can-i --list and auth whoami, on kubectl 1.27 too', async () => {
		const binaries = ['kubectl', ...(fs.existsSync(kubectl127) ? [kubectl127] : [])];
		for (const binary of binaries) {
			assert.equal((await kubectl('alice', ['auth', 'can-i', 'create', 'deployments'], binary)).stdout.trim(), 'yes', binary);
			const no = await kubectl('alice', ['auth', 'can-i', 'create', 'deployments', '-n', 'dev2'], binary);
			assert.equal([no.code, no.stdout.trim()].join(' '), '1 no', binary);
			// Impersonation: the admin asks as bob (view in dev1).
			assert.equal((await kubectl('admin', ['auth', 'can-i', 'get', 'secrets', '-n', 'dev1', '--as=bob'], binary)).stdout.trim(), 'no');
			assert.equal((await kubectl('admin', ['auth', 'can-i', 'list', 'pods', '-n', 'dev1', '--as=bob'], binary)).stdout.trim(), 'yes');
			assert.equal((await kubectl('admin', ['auth', 'can-i', '*', '*'], binary)).stdout.trim(), 'yes');
			const who = await kubectl('alice', ['auth', 'whoami'], binary);
			assert.match(who.stdout, /^ATTRIBUTE\s+VALUE\nUsername\s+alice\nGroups\s+\[system:authenticated\]\n$/, `${binary}: ${who.stderr}`);
			const list = await kubectl('alice', ['auth', 'can-i', '--list'], binary);
			assert.match(list.stdout, /^deployments\.apps\s+\[\]\s+\[\]\s+\[create delete deletecollection patch update get list watch\]$/m, binary);
			assert.doesNotMatch(list.stdout, /^roles\.rbac/m);
			// The same refusals, whatever the kubectl.
			assert.equal((await kubectl('alice', ['get', 'pods', '-n', 'dev2'], binary)).stderr.split('\n').pop(), 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "dev2"');
			assert.match((await kubectl('carol', ['scale', 'deployment', 'web', '--replicas=0'], binary)).stdout, /deployment\.apps\/web scaled/);
		}
		assert.match((await kubectl('admin', ['auth', 'whoami'])).stdout, /Username\s+system:admin\nGroups\s+\[system:masters system:authenticated\]/);
		// SubjectAccessReview and TokenReview, as a webhook or a controller asks them.
		const review = async (obj: object) => {
			const file = path.join(home, 'review.json');
			fs.writeFileSync(file, JSON.stringify(obj));
			const r = await kubectl('admin', ['create', '-f', file, '-o', 'json']);
			assert.equal(r.code, 0, r.stderr);
			return JSON.parse(r.stdout).status;
		};
		const sar = (user: string, verb: string) => ({apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: {user, resourceAttributes: {namespace: 'dev1', verb, group: 'apps', resource: 'deployments'}}});
		assert.equal((await review(sar('alice', 'delete'))).allowed, true);
		assert.equal((await review(sar('bob', 'delete'))).allowed, false);
		const bobToken = (await cli(['users', 'token', 'bob'])).trim();
		const tokenReview = await review({apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {token: bobToken}});
		assert.deepEqual([tokenReview.authenticated, tokenReview.user?.username], [true, 'bob']);
		assert.equal((await review({apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {token: 'kd_nope'}})).authenticated, false);
		// Only who may create them can ask about someone else.
		assert.match((await kubectl('alice', ['auth', 'can-i', 'list', 'pods', '--as=bob'])).stderr, /cannot impersonate resource "users"/);
		// Each Impersonate-Group header is one group, never split: "ops,system:masters" is not system:masters.
		const as = JSON.parse((await kubectl('admin', ['auth', 'whoami', '--as=zed', '--as-group=ops,system:masters', '--as-group=qa', '-o', 'json'])).stdout);
		assert.deepEqual(as.status.userInfo.groups.filter((g: string) => g !== 'system:authenticated'), ['ops,system:masters', 'qa']);
		assert.match((await kubectl('admin', ['get', 'secrets', '-A', '--as=zed', '--as-group=ops,system:masters'])).stderr, /forbidden: User "zed" cannot list resource "secrets"/);
		// An identity that may impersonate any group (as the SSH console's may) still cannot become system:masters.
		await cli(['users', 'add', 'imp']);
		writeConfig('imp', await cli(['kubeconfig', '--user', 'imp']));
		assert.equal((await kubectl('admin', ['create', 'clusterrole', 'impersonator', '--verb=impersonate', '--resource=users,groups'])).code, 0);
		assert.equal((await kubectl('admin', ['create', 'clusterrolebinding', 'imp', '--clusterrole=impersonator', '--user=imp'])).code, 0);
		assert.match((await kubectl('imp', ['get', 'secrets', '-A', '--as=zed', '--as-group=ops'])).stderr, /User "zed" cannot list resource "secrets"/);
		assert.match((await kubectl('imp', ['get', 'secrets', '-A', '--as=zed', '--as-group=system:masters'])).stderr, /User "imp" cannot impersonate resource "groups" in API group "" at the cluster scope/);
		// And no user is given a group that the system gives, or one a list would split.
		for (const group of ['ops,system:masters', ' system:masters', 'system:nodes']) {
			const bad = await runCli(['users', 'add', 'mal', '--group', group], {home});
			assert.equal(bad.code, 1, group);
			assert.match(bad.stderr, /system:masters|invalid group/, group);
		}
	});

	it('keeps a user from granting what they do not hold, as kube-apiserver\'s escalation check does', async () => {
		// carol is admin in dev1: she may bind view or edit there, not cluster-admin, and may not write a role beyond hers.
		assert.equal((await kubectl('carol', ['create', 'rolebinding', 'dave-view', '--clusterrole=view', '--user=dave'])).code, 0);
		const sneaky = await kubectl('carol', ['create', 'rolebinding', 'sneaky', '--clusterrole=cluster-admin', '--user=carol']);
		assert.equal(sneaky.code, 1);
		assert.match(sneaky.stderr, /rolebindings\.rbac\.authorization\.k8s\.io "sneaky" is forbidden: user "carol" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/);
		const nodes = await kubectl('carol', ['create', 'role', 'nodes', '--verb=get', '--resource=nodes']);
		assert.match(nodes.stderr, /attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}/);
		assert.equal((await kubectl('carol', ['create', 'role', 'pod-reader', '--verb=get', '--resource=pods'])).code, 0);
		// A role that does not exist yet could hold anything: binding it takes more than carol holds.
		assert.match((await kubectl('carol', ['create', 'rolebinding', 'later', '--clusterrole=not-yet', '--user=carol'])).stderr, /attempting to grant RBAC permissions not currently held/);
		// The binding she made works for dave at once (the rule cache follows the bindings).
		assert.equal((await kubectl('admin', ['auth', 'can-i', 'list', 'pods', '-n', 'dev1', '--as=dave'])).stdout.trim(), 'yes');
		const changed = await kubectl('admin', ['patch', 'rolebinding', 'dave-view', '-n', 'dev1', '--type=merge', '-p', '{"roleRef":{"name":"edit"}}']);
		assert.match(changed.stderr, /roleRef: Invalid value: .*cannot change roleRef/);
	});

	it('writes every change to the audit log with its user and response code, and prints it', async () => {
		const r = await runCli(['audit', '--user', 'carol'], {home});
		assert.equal(r.code, 0, r.stderr);
		const lines = r.stdout.trim().split('\n');
		assert.match(lines[0], /^TIME\s+USER\s+VERB\s+RESOURCE\s+NAMESPACE\s+NAME\s+CODE$/);
		assert.ok(lines.some(l => /carol\s+create\s+rolebindings\.rbac\.authorization\.k8s\.io\s+dev1\s+\S*\s*201$/.test(l)), r.stdout);
		assert.ok(lines.some(l => /carol\s+create\s+rolebindings\.rbac\.authorization\.k8s\.io\s+dev1\s+\S*\s*403$/.test(l)), r.stdout);
		assert.ok(lines.slice(1).every(l => /\scarol\s/.test(l)));
		assert.equal(fs.statSync(path.join(home, 'audit.log')).mode & 0o777, 0o600);
		const events = fs.readFileSync(path.join(home, 'audit.log'), 'utf8').trim().split('\n').map(l => JSON.parse(l));
		assert.ok(events.every(e => e.apiVersion === 'audit.k8s.io/v1' && e.kind === 'Event' && e.user.username));
		assert.ok(!events.some(e => e.verb === 'list' || e.verb === 'get'), 'reads are not audited');
		// An exec is audited as the create of pods/exec it is, refused ones too.
		assert.equal((await kubectl('admin', ['run', 'sleeper', '-n', 'dev1', '--image=busybox', '--', 'sleep', '300'])).code, 0);
		const execed = await kubectl('admin', ['exec', '-n', 'dev1', 'sleeper', '--as=bob', '--', 'true']);
		assert.match(execed.stderr, /forbidden: User "bob" cannot create resource "pods\/exec" in API group "" in the namespace "dev1"/);
		const after = fs.readFileSync(path.join(home, 'audit.log'), 'utf8').trim().split('\n').map(l => JSON.parse(l));
		assert.ok(after.some(e => e.objectRef?.subresource === 'exec' && e.user.username === 'bob' && e.responseStatus.code === 403), 'the refused exec');
	});

	it('takes a token from a kubeconfig\'s exec plugin, keeps it until it expires or is refused, and runs the plugin again then', async () => {
		await cli(['users', 'add', 'dora', '--namespace', 'dev1', '--role', 'view']);
		assert.equal((await kubectl('admin', ['create', 'configmap', 'dora-cm', '-n', 'dev1'])).code, 0);
		const tokenFile = path.join(home, 'dora.token');
		const runs = path.join(home, 'dora.runs');
		fs.writeFileSync(tokenFile, (await cli(['users', 'token', 'dora'])).trim());
		// The plugin reads its token and expiry from files, so the test decides both; each run leaves a line.
		const plugin = path.join(home, 'dora-plugin.sh');
		const expiry = path.join(home, 'dora.expiry');
		fs.writeFileSync(plugin, '#!/bin/sh\necho run >> "$RUNS"\nprintf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"%s}}\' "$(cat "$TOKEN_FILE")" "$(cat "$EXPIRY" 2>/dev/null)"\n', {mode: 0o700});
		const admin = YAML.parse(fs.readFileSync(configs.admin, 'utf8'));
		const config = {...admin, users: [{name: 'dora', user: {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never',
			env: [{name: 'TOKEN_FILE', value: tokenFile}, {name: 'RUNS', value: runs}, {name: 'EXPIRY', value: expiry}]}}}],
		contexts: [{name: 'dora', context: {cluster: admin.contexts[0].context.cluster, user: 'dora', namespace: 'dev1'}}], 'current-context': 'dora'};
		writeConfig('dora', YAML.stringify(config));
		const runCount = () => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').trim().split('\n').length : 0);
		const {kubeconfigTarget} = await import('../../source/client/kubeconfig.js');
		const {EmbeddedClient} = await import('../../source/client/embedded.js');
		const {resolveType} = await import('../../source/api/resources.js');
		const target = await kubeconfigTarget(configs.dora);
		assert.equal(runCount(), 0, 'the plugin runs when a request needs it, not when the kubeconfig is read');
		const client = new EmbeddedClient(target.endpoint, target.description);
		const configmaps = resolveType('configmaps')!;
		try {
			const list = async () => (await client.list(configmaps, {namespace: 'dev1'})).items.map(d => d.metadata.name);
			assert.ok((await list()).includes('dora-cm'));
			await list();
			assert.equal(runCount(), 1, 'a credential without an expiry is kept');
			// The token is rotated: the server refuses the kept one, the plugin runs again and the request goes through.
			fs.writeFileSync(tokenFile, (await cli(['users', 'token', 'dora'])).trim());
			assert.ok((await list()).includes('dora-cm'));
			assert.equal(runCount(), 2);
			// An expired credential is fetched again on the next request; one that expires later is kept.
			fs.writeFileSync(expiry, ',"expirationTimestamp":"2000-01-01T00:00:00Z"');
			client.close();
			const expiring = new EmbeddedClient((await kubeconfigTarget(configs.dora)).endpoint, target.description);
			await expiring.list(configmaps, {namespace: 'dev1'});
			await expiring.list(configmaps, {namespace: 'dev1'});
			assert.equal(runCount(), 4);
			expiring.close();
			fs.writeFileSync(expiry, `,"expirationTimestamp":"${new Date(Date.now() + 3_600_000).toISOString()}"`);
			const later = new EmbeddedClient((await kubeconfigTarget(configs.dora)).endpoint, target.description);
			await later.list(configmaps, {namespace: 'dev1'});
			await later.list(configmaps, {namespace: 'dev1'});
			assert.equal(runCount(), 5);
			later.close();
			// The CLI through the same kubeconfig, and kube's words when the plugin fails.
			const r = await runCli(['--kubeconfig', configs.dora, 'get', 'configmap', 'dora-cm'], {home});
			assert.match(r.stdout, /^NAME\s+DATA\s+AGE\ndora-cm\s/, r.stderr);
			fs.writeFileSync(plugin, '#!/bin/sh\necho "no credentials for you" >&2\nexit 3\n');
			const failed = await runCli(['--kubeconfig', configs.dora, 'get', 'configmaps'], {home});
			assert.equal(failed.code, 1);
			assert.match(failed.stderr, /the exec credential plugin \S+dora-plugin\.sh exited with 3: no credentials for you/);
		} finally {
			client.close();
		}
	});

	it('lists and removes users, with the bindings it made for them', async () => {
		const list = await cli(['users', 'list']);
		assert.match(list, /^NAME\s+GROUPS\s+ROLES\s+TOKEN\s+SSH KEYS\s+AGE\nalice\s+<none>\s+edit@dev1\s+no\s+0\s+\S+\nbob\s+<none>\s+view@dev1\s+yes\s+0/);
		await cli(['users', 'remove', 'alice']);
		assert.doesNotMatch(await cli(['users', 'list']), /^alice/m);
		assert.equal((await kubectl('admin', ['get', 'rolebinding', 'kubedeck-user-alice', '-n', 'dev1'])).code, 1);
		// Her certificate is the CA's and still valid, but it names no user any more.
		assert.equal((await kubectl('alice', ['get', 'deployments'])).stderr, 'error: You must be logged in to the server (Unauthorized)');
		// Added again, alice is a new user: the certificate issued to the old one does not work for her.
		await cli(['users', 'add', 'alice', '--namespace', 'dev1', '--role', 'edit']);
		assert.equal((await kubectl('alice', ['get', 'deployments'])).stderr, 'error: You must be logged in to the server (Unauthorized)');
		const bad = await runCli(['users', 'add', 'system:me'], {home});
		assert.equal(bad.code, 1);
		assert.match(bad.stderr, /invalid user name "system:me"/);
	});
});
