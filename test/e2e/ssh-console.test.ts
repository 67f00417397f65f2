// The SSH ops console with the real OpenSSH client: a `kubedeck serve --ssh`
// on 127.0.0.1 (a free port), keys made with ssh-keygen in the temp home,
// the host checked against the known_hosts line `kubedeck ssh known-hosts`
// prints. Dashboards run in tmux (send-keys in, capture-pane out): alice
// (edit in dev1) sees dev1 only and scales there; bob (view) cannot scale
// and sees no Secret values; resize reflows; ten sessions at once each get a
// frame and one killed client leaves the others working. Exec requests
// return output and exit codes; unknown keys and passwords are refused.
import assert from 'node:assert/strict';
import {execFileSync, spawn, spawnSync, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import ssh2 from 'ssh2';
import {cliPath, eventually, removeHome, runCli, tempHome, tmuxServer} from '../helpers.js';

const hasTools = spawnSync('tmux', ['-V']).status === 0 && spawnSync('ssh', ['-V']).status === 0 && spawnSync('ssh-keygen', ['-?']).error === undefined;

interface ConsoleEngine {
	child: ChildProcess;
	port: number;
	fingerprint: string;
	/** Everything the engine printed (its log is stderr). */
	output(): string;
	stop(): Promise<void>;
}

/** `kubedeck serve --ssh 127.0.0.1:0`; resolves once it says where the console listens and that it serves. */
function startConsoleEngine(home: string): Promise<ConsoleEngine> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [cliPath, 'serve', '--port', '0', '--ssh', '127.0.0.1:0'], {env: {...process.env, KUBEDECK_HOME: home}, stdio: ['ignore', 'pipe', 'pipe']});
		let output = '';
		const exited = new Promise<void>(r => child.once('exit', () => r()));
		const onData = (d: Buffer) => {
			output += d;
			const m = /SSH console on 127\.0\.0\.1:(\d+) \(host key (SHA256:\S+);[^]*kubedeck engine serving/.exec(output);
			if (!m) return;
			child.removeListener('exit', early);
			resolve({
				child, port: Number(m[1]), fingerprint: m[2], output: () => output,
				async stop() {
					if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
					await exited;
				},
			});
		};
		const early = (code: number | null) => reject(new Error(`engine exited early (${code}): ${output}`));
		child.stdout!.on('data', onData);
		child.stderr!.on('data', (d: Buffer) => (output += d));
		child.once('exit', early);
	});
}

describe('the SSH ops console, with OpenSSH', {skip: !hasTools && 'tmux, ssh or ssh-keygen is not installed'}, () => {
	let home: string;
	let engine: ConsoleEngine;
	let knownHosts: string;
	const key = (name: string) => path.join(home, `${name}_ed25519`);
	const server = tmuxServer(`kds-${process.pid}`);
	const {tmux, screen, until} = server;
	/** ssh's options for a user with a key: no config, no agent, the host checked against what the engine says. */
	const sshArgs = (user: string, keyName = user, extra: string[] = []) => [
		'-F', '/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'IdentitiesOnly=yes',
		'-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10', '-i', key(keyName), '-p', String(engine.port), ...extra, `${user}@127.0.0.1`,
	];
	const ssh = (user: string, command: string[], options: {key?: string; extra?: string[]; input?: string} = {}) => new Promise<{code: number; stdout: string; stderr: string}>((resolve, reject) => {
		const child = spawn('ssh', [...sshArgs(user, options.key, options.extra), ...command], {stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, SSH_AUTH_SOCK: ''}});
		let stdout = '', stderr = '';
		child.stdout.on('data', d => (stdout += d));
		child.stderr.on('data', d => (stderr += d));
		const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
		child.on('error', reject);
		child.on('close', code => {
			clearTimeout(timer);
			resolve({code: code ?? -1, stdout, stderr});
		});
		child.stdin.end(options.input ?? '');
	});
	/** A dashboard session in tmux: ssh with a terminal (-t), as an operator would type it. */
	const openDashboard = (name: string, user: string, columns = 160, rows = 30) => {
		const argv = ['ssh', '-t', ...sshArgs(user)].map(a => `'${a}'`).join(' ');
		server.open(name, `SSH_AUTH_SOCK= ${argv}`, columns, rows);
	};
	const kd = (args: string[], input?: string) => runCli(args, {home, input});
	/** ssh2's client logged in as a user with their key (what OpenSSH cannot be made to do: open channels at will, drop mid-setup). */
	const connectAs = (user: string, keyName = user) => new Promise<ssh2.Client>((resolve, reject) => {
		const client = new ssh2.Client();
		client.once('ready', () => {
			client.off('error', reject);
			client.on('error', () => {});
			resolve(client);
		}).once('error', reject);
		client.connect({host: '127.0.0.1', port: engine.port, username: user, privateKey: fs.readFileSync(key(keyName)), hostVerifier: () => true});
	});
	const execOn = (client: ssh2.Client, command: string) => new Promise<ssh2.ClientChannel>((resolve, reject) => client.exec(command, (error, channel) => (error ? reject(error) : resolve(channel))));
	const outputOf = (channel: ssh2.ClientChannel) => new Promise<string>(resolve => {
		let out = '';
		channel.on('data', (d: Buffer) => (out += d));
		channel.stderr.on('data', (d: Buffer) => (out += d));
		channel.once('close', () => resolve(out));
	});
	const engineFds = () => fs.readdirSync(`/proc/${engine.child.pid}/fd`).length;

	before(async () => {
		home = tempHome();
		for (const name of ['alice', 'bob', 'stranger']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key(name)]);
		engine = await startConsoleEngine(home);
		const hosts = await kd(['ssh', 'known-hosts', `127.0.0.1:${engine.port}`]);
		assert.equal(hosts.code, 0, hosts.stderr);
		knownHosts = path.join(home, 'known_hosts');
		fs.writeFileSync(knownHosts, hosts.stdout);
		for (const [user, role] of [['alice', 'edit'], ['bob', 'view']]) {
			const r = await kd(['users', 'add', user, '--namespace', 'dev1', '--role', role, '--ssh-key', `${key(user)}.pub`]);
			assert.equal(r.code, 0, r.stderr);
		}
		for (const args of [
			['create', 'deployment', 'web', '-n', 'dev1', '--image=kubedeck/agnhost', '--replicas=1'],
			['create', 'namespace', 'dev2'],
			['create', 'deployment', 'elsewhere', '-n', 'dev2', '--image=kubedeck/agnhost', '--replicas=1'],
			['create', 'secret', 'generic', 'creds', '-n', 'dev1', '--from-literal=password=s3cr3t-value'],
			['create', 'deployment', 'ticker', '-n', 'dev1', '--image=busybox', '--', 'sh', '-c', 'while true; do echo tick; sleep 0.2; done'],
		]) {
			const r = await kd(args);
			assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
		}
		await eventually(async () => (await kd(['get', 'pods', '-n', 'dev1'])).stdout.match(/Running/g)?.length === 2, 'the dev1 pods running', 30_000);
	});
	after(async () => {
		server.close();
		await engine?.stop();
		removeHome(home);
	});

	it('keeps its host key in the state directory (0600), its fingerprint printed at start and by kubedeck ssh fingerprint', async () => {
		const file = path.join(home, 'ssh_host_ed25519_key');
		assert.equal(fs.statSync(file).mode & 0o777, 0o600);
		const r = await kd(['ssh', 'fingerprint']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, new RegExp(`^256 ${engine.fingerprint.replace(/[+/]/g, c => `\\${c}`)} `));
		// OpenSSH computes the same fingerprint from the line ssh checks the host against.
		assert.match(execFileSync('ssh-keygen', ['-lf', knownHosts], {encoding: 'utf8'}), new RegExp(engine.fingerprint.replace(/[+/]/g, c => `\\${c}`)));
	});

	it('runs an exec request as the user: output and exit code; RBAC refuses what the user may not do', async () => {
		const pods = await ssh('alice', ['get', 'pods', '-n', 'dev1']);
		assert.equal(pods.code, 0, `${pods.stderr}\n${engine.output().slice(-2000)}`);
		assert.match(pods.stdout, /^NAME\s+READY\s+STATUS/);
		assert.match(pods.stdout, /^web-\S+\s+1\/1\s+Running/m);
		const elsewhere = await ssh('alice', ['get', 'pods', '-n', 'dev2']);
		assert.equal(elsewhere.code, 1);
		assert.match(elsewhere.stderr, /pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "dev2"/);
		const scale = await ssh('bob', ['scale', 'deploy/web', '--replicas=3', '-n', 'dev1']);
		assert.equal(scale.code, 1);
		assert.match(scale.stderr, /User "bob" cannot patch resource "deployments\/scale"/);
		const secret = await ssh('bob', ['get', 'secret', 'creds', '-n', 'dev1', '-o', 'yaml']);
		assert.equal(secret.code, 1);
		assert.doesNotMatch(secret.stdout + secret.stderr, /s3cr3t|czNjcjN0/);
		// What would act on the server's machine is not offered.
		const refused = await ssh('alice', ['kubeconfig']);
		assert.equal(refused.code, 1);
		assert.match(refused.stderr, /"kubeconfig" is not offered by the ssh console/);
		const file = await ssh('alice', ['apply', '-f', '/etc/passwd']);
		assert.equal(file.code, 1);
		assert.match(file.stderr, /reads manifests from stdin only/);
		// A manifest on stdin is applied as alice: in her namespace, refused in another.
		const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-ssh}\ndata: {a: b}\n';
		const applied = await ssh('alice', ['apply', '-n', 'dev1', '-f', '-'], {input: cm});
		assert.equal(applied.code, 0, applied.stderr);
		assert.match(applied.stdout, /configmap\/from-ssh created/);
		// A long command line is in the audit whole, and so is the login.
		const long = `get pods -n dev1 -l app=web,${'k'.repeat(300)}!=1`;
		await ssh('alice', [long]);
		const audit = await kd(['audit', '--user', 'alice', '-o', 'json']);
		assert.match(audit.stdout, /"verb":"session-end","user":\{"username":"alice"[^]*"kubedeck.io\/ssh-exitCode":"0"/);
		assert.ok(audit.stdout.includes(`"requestURI":"ssh: exec ${long}"`), 'the whole command line in the audit');
		assert.match(audit.stdout, /"requestURI":"ssh: login","verb":"session-login","user":\{"username":"alice"[^]*"kubedeck.io\/ssh-key":"SHA256:/);
	});

	it('streams logs -f until the client disconnects, and lets go of the stream', async () => {
		const before = engineFds();
		const child = spawn('ssh', [...sshArgs('alice'), '--', 'logs', '-f', 'deploy/ticker', '-n', 'dev1'], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, SSH_AUTH_SOCK: ''}});
		let out = '';
		child.stdout.on('data', d => (out += d));
		try {
			await eventually(() => (out.match(/tick/g)?.length ?? 0) >= 3, 'ticks streaming over ssh', 20_000);
			const seen = out.length;
			await eventually(() => out.length > seen, 'more ticks later');
		} finally {
			child.kill('SIGKILL');
		}
		await eventually(() => engineFds() <= before, 'the engine to close the session\'s log stream and connections', 15_000);
	});

	it('refuses an unknown key and logs the attempt with its address', async () => {
		const r = await ssh('alice', ['get', 'pods', '-n', 'dev1'], {key: 'stranger'});
		assert.equal(r.code, 255);
		assert.match(r.stderr, /Permission denied \(publickey\)/);
		assert.match(engine.output(), /ssh: refused "alice" from 127\.0\.0\.1:\d+: unknown key SHA256:/);
		const audit = await kd(['audit', '-o', 'json']);
		assert.match(audit.stdout, /"verb":"session-login-refused"[^\n]*"kubedeck.io\/ssh-username":"alice","kubedeck.io\/ssh-reason":"unknown key SHA256:/);
	});

	it('counts a connection\'s unknown keys once against its address, so a client offering several keys first is not locked out', {timeout: 60_000}, async () => {
		const others = Array.from({length: 4}, () => ssh2.utils.generateKeyPairSync('ed25519').private);
		for (let i = 0; i < 4; i++) {
			await new Promise<void>((resolve, reject) => {
				const client = new ssh2.Client();
				client.on('error', reject).on('close', () => reject(new Error(`connection ${i + 1} closed before it logged in`))).on('ready', () => {
					client.end();
					resolve();
				});
				client.connect({host: '127.0.0.1', port: engine.port, username: 'alice', hostVerifier: () => true,
					authHandler: [...others, fs.readFileSync(key('alice'), 'utf8')].map(k => ({type: 'publickey', username: 'alice', key: k})) as never});
			});
		}
		// Sixteen unknown keys from one address in a minute, and it is not refused.
		const r = await ssh('alice', ['version']);
		assert.equal(r.code, 0, r.stderr);
	});

	it('refuses passwords: only publickey is offered, and a password sent anyway is refused and logged', async () => {
		const r = await ssh('alice', ['true'], {extra: ['-o', 'PreferredAuthentications=password,keyboard-interactive']});
		assert.equal(r.code, 255);
		assert.match(r.stderr, /Permission denied \(publickey\)/);
		// OpenSSH in batch mode never sends the password; ssh2's client does.
		const error = await new Promise<Error & {level?: string}>(resolve => {
			const client = new ssh2.Client();
			client.on('error', e => resolve(e)).on('ready', () => {
				client.end();
				resolve(Object.assign(new Error('logged in with a password'), {level: 'accepted'}));
			});
			client.connect({host: '127.0.0.1', port: engine.port, username: 'alice', password: 'hunter2', tryKeyboard: true, hostVerifier: () => true});
		});
		assert.equal(error.level, 'client-authentication');
		assert.match(engine.output(), /ssh: refused "alice" from 127\.0\.0\.1:\d+: password authentication is not accepted/);
	});

	it('survives malformed traffic', async () => {
		await new Promise<void>(resolve => {
			const socket = net.connect(engine.port, '127.0.0.1', () => socket.write(`SSH-2.0-garbage\r\n${'\u0000\u00ff\u0013'.repeat(2000)}`));
			socket.on('error', () => resolve());
			socket.on('close', () => resolve());
			socket.resume();
		});
		const r = await ssh('alice', ['version']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /Server Version: v1\./);
	});

	it('refuses an 11th session channel open at once on one connection', {timeout: 30_000}, async () => {
		const client = await connectAs('alice');
		try {
			// Closed sessions do not count: twelve one after the other all run.
			for (let i = 0; i < 12; i++) assert.match(await outputOf(await execOn(client, 'version')), /Server Version: v1\./);
			// `apply -f -` reads stdin until it ends: each channel stays open, holding nothing but itself.
			for (let i = 0; i < 10; i++) await execOn(client, 'apply -n dev1 -f -');
			await assert.rejects(execOn(client, 'version'), /open failure/i);
			assert.match(engine.output(), /ssh: alice from 127\.0\.0\.1:\d+: session refused: 10 are open on this connection/);
		} finally {
			client.end();
		}
	});

	it('leaves no connection to the pod behind when clients drop while their forwards are being set up', {timeout: 60_000}, async () => {
		const pod = (await kd(['get', 'pods', '-n', 'dev1', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
		await new Promise(r => setTimeout(r, 500));
		const before = engineFds();
		for (let batch = 0; batch < 12; batch++) {
			await Promise.all(Array.from({length: 5}, async (_, i) => {
				const client = await connectAs('alice');
				client.forwardOut('127.0.0.1', 10_000, `${pod}.dev1.pod`, 8080, () => {});
				await new Promise(r => setTimeout(r, (batch * 5 + i) * 7 % 41));
				const closed = new Promise<void>(r => client.once('close', () => r()));
				client.end();
				await closed;
			}));
		}
		await eventually(() => engineFds() <= before + 2, `the engine to hold no forward (fds ${engineFds()}, ${before} before)`, 15_000);
	});

	it('gives a removed key, or a removed user, no new channel, and ends the connections made with it', {timeout: 60_000}, async () => {
		for (const args of [['users', 'add', 'carol', '--ssh-key', `${key('stranger')}.pub`], ['users', 'add-key', 'carol', `${key('alice')}.pub`]]) {
			const r = await kd(args);
			assert.equal(r.code, 0, r.stderr);
		}
		const byStranger = await connectAs('carol', 'stranger');
		const byAlice = await connectAs('carol', 'alice');
		const closed = (client: ssh2.Client) => new Promise<void>(r => client.once('close', () => r()));
		const [aliceClosed, strangerClosed] = [closed(byAlice), closed(byStranger)];
		assert.match(await outputOf(await execOn(byAlice, 'version')), /Server Version: v1\./);
		const rk = await kd(['users', 'remove-key', 'carol', `${key('alice')}.pub`]);
		assert.equal(rk.code, 0, rk.stderr);
		await assert.rejects(execOn(byAlice, 'version'));
		await aliceClosed;
		// The other key is still hers.
		assert.match(await outputOf(await execOn(byStranger, 'version')), /Server Version: v1\./);
		const rm = await kd(['users', 'remove', 'carol']);
		assert.equal(rm.code, 0, rm.stderr);
		// Ended without opening anything: the console checks its connections.
		await strangerClosed;
		assert.match(engine.output(), /ssh: carol from 127\.0\.0\.1:\d+: disconnected: the user or their key was removed/);
	});

	it('gives alice her own dashboard in dev1, where she scales, and nothing outside it', async () => {
		openDashboard('alice', 'alice');
		await until('alice', /kubedeck alice@ssh \(127\.0\.0\.1:\d+\)[^\n]*ns: dev1\s+view: pods\s+● live/, 'alice\'s dashboard on dev1');
		await until('alice', /^[> ] web-\S+\s+1\/1\s+Running/m, 'the web pod');
		assert.doesNotMatch(screen('alice'), /elsewhere|read-only/);
		tmux('send-keys', '-t', 'alice', ':');
		tmux('send-keys', '-t', 'alice', 'deploy', 'Enter');
		tmux('send-keys', '-t', 'alice', '/', 'web', 'Enter');
		await until('alice', /^> web\s+1\/1/m, 'the web Deployment selected');
		await until('alice', /<s> s/, 'scale offered to alice');
		tmux('send-keys', '-t', 'alice', 's');
		await until('alice', /replicas: 1/, 'the scale prompt');
		tmux('send-keys', '-t', 'alice', '2', 'Enter');
		await until('alice', /^> web\s+\d\/2/m, 'web scaled to 2 on her screen');
		const replicas = await kd(['get', 'deploy', 'web', '-n', 'dev1', '-o', 'jsonpath={.spec.replicas}']);
		assert.equal(replicas.stdout.trim(), '2');
		// All namespaces is refused whole, in RBAC's words, and shows nothing of dev2.
		tmux('send-keys', '-t', 'alice', ':');
		tmux('send-keys', '-t', 'alice', 'ns all', 'Enter');
		await until('alice', /deployments\.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" at the cluster scope/, 'all namespaces refused');
		assert.doesNotMatch(screen('alice'), /elsewhere/);
		tmux('send-keys', '-t', 'alice', ':');
		tmux('send-keys', '-t', 'alice', 'ns dev1', 'Enter');
		await until('alice', /^[> ] web\s+\d\/2/m, 'back in dev1');
		// F shows the ssh -L line instead of listening on the server.
		tmux('send-keys', '-t', 'alice', ':');
		tmux('send-keys', '-t', 'alice', 'svc', 'Enter');
		await until('alice', /view: services/, 'the services');
		tmux('send-keys', '-t', 'alice', ':');
		tmux('send-keys', '-t', 'alice', 'pods', 'Enter');
		await until('alice', /view: pods/, 'the pods');
		tmux('send-keys', '-t', 'alice', '/', 'web', 'Enter');
		await until('alice', /^> web-\S+\s+1\/1\s+Running/m, 'a web pod selected');
		tmux('send-keys', '-t', 'alice', 'F');
		await until('alice', /port-forward \[LOCAL:\]PORT:/, 'the port-forward prompt');
		tmux('send-keys', '-t', 'alice', 'C-u', '9090:8080', 'Enter');
		await until('alice', new RegExp(`ssh -N -L 9090:web-\\S+\\.dev1\\.pod:8080 -p ${engine.port} alice@127\\.0\\.0\\.1`), 'the ssh -L line');
		tmux('send-keys', '-t', 'alice', 'Escape');
		// s on a pod: a shell in it, on this session's terminal, and back to the dashboard after.
		await until('alice', /^> web-\S+\s+1\/1\s+Running/m, 'the pods again');
		tmux('send-keys', '-t', 'alice', 's');
		await until('alice', /^\$/m, 'the pod\'s shell prompt');
		tmux('send-keys', '-t', 'alice', 'echo via-$((6*7))', 'Enter');
		await until('alice', /^via-42$/m, 'the shell\'s answer');
		tmux('send-keys', '-t', 'alice', 'exit', 'Enter');
		await until('alice', /^shell in web-\S+ exited$/m, 'back in the dashboard');
	});

	it('forwards ssh -L to a pod, checked against the user\'s right to port-forward', async () => {
		const pod = (await kd(['get', 'pods', '-n', 'dev1', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
		const forward = async (user: string, local: number) => {
			const child = spawn('ssh', [...sshArgs(user, user, ['-N', '-o', 'ExitOnForwardFailure=yes', '-L', `${local}:${pod}.dev1.pod:8080`])], {stdio: 'ignore', env: {...process.env, SSH_AUTH_SOCK: ''}});
			try {
				return await eventually(async () => {
					const res = await fetch(`http://127.0.0.1:${local}/`).catch(() => undefined);
					return res && `${res.status} ${await res.text()}`;
				}, 'an answer through the forward', 10_000);
			} finally {
				child.kill('SIGKILL');
			}
		};
		const free = () => new Promise<number>(resolve => {
			const s = net.createServer().listen(0, '127.0.0.1', () => {
				const {port} = s.address() as net.AddressInfo;
				s.close(() => resolve(port));
			});
		});
		assert.match(await forward('alice', await free()), new RegExp(`^200 .*${pod}`));
		// bob (view) may not port-forward: the channel is refused, so the connection is closed without an answer.
		const bobPort = await free();
		const child = spawn('ssh', [...sshArgs('bob', 'bob', ['-N', '-L', `${bobPort}:${pod}.dev1.pod:8080`])], {stdio: 'ignore', env: {...process.env, SSH_AUTH_SOCK: ''}});
		try {
			await eventually(() => new Promise<boolean>(resolve => {
				const s = net.connect(bobPort, '127.0.0.1', () => s.end());
				s.on('error', () => resolve(false));
				s.on('close', () => resolve(true));
			}), 'bob\'s local listener', 10_000);
			await eventually(() => /port-forward to \S+\.dev1\.pod:8080 refused: error: pods "\S+" is forbidden: you cannot create resource "pods\/portforward"/.test(engine.output()), 'bob\'s forward refused in the log');
		} finally {
			child.kill('SIGKILL');
		}
	});

	it('gives bob (view) a read-only dashboard: no scale, and no Secret values', async () => {
		openDashboard('bob', 'bob');
		await until('bob', /kubedeck \[read-only\] bob@ssh[^\n]*ns: dev1\s+view: pods\s+● live/, 'bob\'s read-only dashboard');
		tmux('send-keys', '-t', 'bob', ':');
		tmux('send-keys', '-t', 'bob', 'deploy', 'Enter');
		tmux('send-keys', '-t', 'bob', '/', 'web', 'Enter');
		await until('bob', /^> web\s+\d\/2/m, 'the web Deployment selected');
		assert.doesNotMatch(screen('bob'), /<s> s|<e> edit|<ctrl\+d> delete/);
		tmux('send-keys', '-t', 'bob', 's');
		await until('bob', /forbidden: you cannot (patch|update) resource "deployments\/scale"/, 'scale refused in RBAC\'s words');
		tmux('send-keys', '-t', 'bob', ':');
		tmux('send-keys', '-t', 'bob', 'secrets', 'Enter');
		await until('bob', /secrets is forbidden: User "bob" cannot list resource "secrets"/, 'Secrets refused to a view user');
		assert.doesNotMatch(screen('bob'), /s3cr3t|creds/);
		tmux('send-keys', '-t', 'bob', 'q');
	});

	it('reflows the dashboard when the client\'s window changes size', async () => {
		await until('alice', /^kubedeck alice@ssh/m, 'alice\'s dashboard');
		tmux('resize-window', '-t', 'alice', '-x', '70', '-y', '20');
		await until('alice', /^kubedeck alice@ssh[^\n]*…$/m, 'the header cut to 70 columns');
		const lines = screen('alice').split('\n');
		assert.ok(lines.every(l => l.length <= 70), `every line within 70 columns:\n${lines.join('\n')}`);
		assert.match(lines.filter(l => l.trim()).at(-1)!, /<\?> help\s+<q> quit$/);
		tmux('resize-window', '-t', 'alice', '-x', '160', '-y', '30');
		await until('alice', /^kubedeck alice@ssh[^\n]*pods: \d+ Running/m, 'the header whole again at 160 columns');
	});

	it('serves ten sessions at once, each its own frame; a killed client leaves the others working and releases what it held', async () => {
		tmux('send-keys', '-t', 'alice', 'q');
		await new Promise(r => setTimeout(r, 1000));
		const baseline = engineFds();
		const names = Array.from({length: 10}, (_, i) => `s${i}`);
		for (const name of names) openDashboard(name, 'alice', 100, 24);
		for (const name of names) await until(name, /kubedeck alice@ssh[^\n]*ns: dev1\s+view: pods\s+● live[^]*<q> quit/, `session ${name}'s first frame`, 30_000);
		// Each is its own dashboard: one moves to Deployments, its neighbour stays on pods.
		tmux('send-keys', '-t', 's1', ':');
		tmux('send-keys', '-t', 's1', 'deploy', 'Enter');
		await until('s1', /view: deployments/, 's1 on deployments');
		assert.match(screen('s2'), /view: pods/);
		// Kill one client outright: its pane's process is ssh itself.
		const pid = Number(tmux('display-message', '-p', '-t', 's0', '#{pane_pid}').trim());
		process.kill(pid, 'SIGKILL');
		tmux('send-keys', '-t', 's3', ':');
		tmux('send-keys', '-t', 's3', 'deploy', 'Enter');
		await until('s3', /^\s+web\s+\d\/2/m, 's3 still answers');
		const r = await ssh('alice', ['get', 'deploy', 'web', '-n', 'dev1', '--no-headers']);
		assert.equal(r.code, 0, r.stderr);
		for (const name of names.slice(1)) tmux('send-keys', '-t', name, 'q');
		await eventually(() => engineFds() <= baseline + 2, `the engine to release the sessions' watches and connections (fds back to ${baseline})`, 20_000);
		assert.doesNotMatch(engine.output(), /TypeError|ReferenceError|Unhandled/);
	});
});
