// The dashboard as a user with a kubeconfig sees it: the built binary in tmux
// against a real engine over TLS, as bob (view in dev1) and alice (edit in
// dev1, and carol: view and a Role that may scale Deployments). It opens on
// their namespace, refuses with RBAC's words what they may not list, gives a
// view user the read-only dashboard, and offers each user the keys their
// rules allow.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {cliPath, type EngineProcess, removeHome, runCli, startEngine, tempHome, tmuxServer} from '../helpers.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

describe('the dashboard with a user\'s kubeconfig, in tmux', {skip: !hasTmux && 'tmux is not installed'}, () => {
	let home: string;
	let engine: EngineProcess;
	const server = tmuxServer(`kdu-${process.pid}`);
	const {tmux, screen, until} = server;
	const writeConfig = async (user: string) => {
		const r = await runCli(['kubeconfig', '--user', user], {home});
		assert.equal(r.code, 0, r.stderr);
		const file = path.join(home, `${user}.kubeconfig`);
		fs.writeFileSync(file, r.stdout, {mode: 0o600});
		return file;
	};
	const open = async (user: string) => {
		const file = await writeConfig(user);
		server.open(user, `CI=true KUBEDECK_HOME=${home} KUBEDECK_CONFIG_DIR=${home}/conf-${user} ${process.execPath} ${cliPath} --kubeconfig ${file}`, 130, 30);
	};

	before(async () => {
		home = tempHome();
		engine = await startEngine(home, {port: 0});
		for (const [user, role] of [['alice', 'edit'], ['bob', 'view'], ['carol', 'view']]) {
			const r = await runCli(['users', 'add', user, '--namespace', 'dev1', '--role', role], {home});
			assert.equal(r.code, 0, r.stderr);
		}
		const r = await runCli(['create', 'deployment', 'web', '-n', 'dev1', '--image=kubedeck/agnhost', '--replicas=1'], {home});
		assert.equal(r.code, 0, r.stderr);
		const scaler = path.join(home, 'scaler.yaml');
		fs.writeFileSync(scaler, [
			'apiVersion: rbac.authorization.k8s.io/v1', 'kind: Role', 'metadata: {name: scaler, namespace: dev1}',
			'rules: [{apiGroups: [apps], resources: [deployments/scale], verbs: [get, patch, update]}]', '---',
			'apiVersion: rbac.authorization.k8s.io/v1', 'kind: RoleBinding', 'metadata: {name: carol-scaler, namespace: dev1}',
			'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: scaler}', 'subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]', '',
		].join('\n'));
		const applied = await runCli(['apply', '-f', scaler], {home});
		assert.equal(applied.code, 0, applied.stderr);
	});
	after(async () => {
		server.close();
		await engine.stop();
		removeHome(home);
	});

	it('opens bob\'s namespace, read-only, and shows what RBAC refuses him', async () => {
		await open('bob');
		await until('bob', /kubedeck \[read-only\] bob@kubedeck \(https:\/\/127\.0\.0\.1:\d+\)[^\n]*ns: dev1\s+view: pods\s+● live/, 'bob\'s first screen');
		await until('bob', /^[> ] web-\S+\s+1\/1\s+Running/m, 'the web pod');
		tmux('send-keys', '-t', 'bob', ':');
		tmux('send-keys', '-t', 'bob', 'ns', 'Enter');
		await until('bob', /● forbidden[^]*Error from server \(Forbidden\): namespaces is forbidden: User "bob" cannot list resource "namespaces"/, 'the namespaces refused');
		await until('bob', /Namespaces you are bound in: dev1/, 'his own namespaces, from the engine');
		tmux('send-keys', '-t', 'bob', 'Escape');
		await until('bob', /view: pods/, 'back on the pods');
		assert.doesNotMatch(screen('bob'), /<ctrl\+d> delete|<e> edit|<s> scale/, 'no keys that change things in the footer');
		tmux('send-keys', '-t', 'bob', 'C-d');
		await until('bob', /^forbidden: you cannot delete resource "pods" in API group "" in the namespace "dev1" \(RBAC\)/m, 'delete refused in RBAC\'s words');
		assert.doesNotMatch(screen('bob'), /Delete pod/);
	});

	it('offers carol the scale key on Deployments, and neither edit nor delete', async () => {
		await open('carol');
		await until('carol', /kubedeck carol@kubedeck[^\n]*ns: dev1\s+view: pods\s+● live/, 'carol\'s first screen (she may change something, so not read-only)');
		tmux('send-keys', '-t', 'carol', ':');
		tmux('send-keys', '-t', 'carol', 'deploy', 'Enter');
		await until('carol', /^> web\s+1\/1/m, 'the web Deployment');
		await until('carol', /<s> scale/, 'scale offered');
		assert.doesNotMatch(screen('carol'), /<ctrl\+d> delete|<e> edit/, 'edit and delete not offered');
		tmux('send-keys', '-t', 'carol', 's');
		await until('carol', /replicas: 1/, 'the scale prompt');
		tmux('send-keys', '-t', 'carol', '2', 'Enter');
		await until('carol', /^> web\s+\d\/2/m, 'scaled to 2');
		tmux('send-keys', '-t', 'carol', 'e');
		await until('carol', /^forbidden: you cannot update resource "deployments" in API group "apps" in the namespace "dev1" \(RBAC\)/m, 'edit refused in RBAC\'s words');
	});

	it('switches contexts with :ctx, as k9s does: from alice to bob (read-only) to kubedeck\'s own engine', async () => {
		const files = [await writeConfig('alice'), await writeConfig('bob')].join(path.delimiter);
		server.open('ctx', `CI=true KUBEDECK_HOME=${home} KUBEDECK_CONFIG_DIR=${home}/conf-ctx ${process.execPath} ${cliPath} --kubeconfig ${files}`, 130, 30);
		await until('ctx', /kubedeck alice@kubedeck[^\n]*ns: dev1\s+view: pods\s+● live/, 'alice\'s dashboard first (the first file\'s context)');
		tmux('send-keys', '-t', 'ctx', ':');
		tmux('send-keys', '-t', 'ctx', 'ctx', 'Enter');
		await until('ctx', /^\s*embedded  \(kubedeck's own engine\)\n\* alice@kubedeck\n\s+bob@kubedeck$/m, 'the contexts, alice\'s marked');
		tmux('send-keys', '-t', 'ctx', 'Escape');
		tmux('send-keys', '-t', 'ctx', ':');
		tmux('send-keys', '-t', 'ctx', 'ctx bob@kubedeck', 'Enter');
		await until('ctx', /kubedeck \[read-only\] bob@kubedeck[^\n]*ns: dev1\s+view: pods\s+● live/, 'bob\'s dashboard, read-only');
		tmux('send-keys', '-t', 'ctx', ':');
		tmux('send-keys', '-t', 'ctx', 'ctx embedded', 'Enter');
		await until('ctx', /kubedeck embedded \([^)]+\)[^\n]*view: pods\s+● live/, 'the engine\'s own dashboard, as its admin');
		tmux('send-keys', '-t', 'ctx', 'q');
	});

	it('lets alice (edit) change things: the dashboard is not read-only for her', async () => {
		await open('alice');
		await until('alice', /kubedeck alice@kubedeck[^\n]*ns: dev1\s+view: pods\s+● live/, 'alice\'s first screen');
		await until('alice', /^[> ] web-\S+\s+1\/1\s+Running/m, 'the web pod');
		assert.doesNotMatch(screen('alice').split('\n')[0], /read-only/);
		tmux('send-keys', '-t', 'alice', 'C-d');
		await until('alice', /Delete pod\/web-\S+ in namespace dev1\?/, 'delete asks');
		tmux('send-keys', '-t', 'alice', 'Escape');
	});
});
