// The real kubectl's streaming commands against the engine over TLS: exec
// (with stdin, exit codes and a terminal), cp (tar through exec, both ways)
// and port-forward. kubectl 1.30 and newer speak WebSockets (exec) and SPDY
// inside a WebSocket (port-forward); 1.29 and older speak SPDY/3.1 on the
// upgraded connection: each version on PATH and in the gcloud directory is
// driven, so both framings are exercised.
import assert from 'node:assert/strict';
import {execFile, spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {eventually, type EngineProcess, removeHome, runCli, startEngine, tempHome, tmuxServer} from '../helpers.js';

const onPath = (process.env.PATH ?? '').split(':').some(dir => fs.existsSync(path.join(dir, 'kubectl')));
const gcloud = '/usr/lib/google-cloud-sdk/bin';
const versions = [['PATH', 'kubectl'], ...['1.27', '1.33'].map(v => [v, path.join(gcloud, `kubectl.${v}`)]).filter(([, file]) => fs.existsSync(file))];
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

describe('kubectl exec, cp and port-forward', {skip: !onPath && 'kubectl is not on PATH'}, () => {
	let home: string;
	let engine: EngineProcess;
	let kubeconfig: string;
	const kubectl = (binary: string, args: string[], input?: string) => new Promise<{code: number; stdout: string; stderr: string}>(resolve => {
		const child = execFile(binary, ['--kubeconfig', kubeconfig, '--cache-dir', path.join(home, 'kube-cache'), ...args], {timeout: 60_000}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: stderr.trim()});
		});
		if (input !== undefined) child.stdin!.end(input);
	});
	const request = (port: number, urlPath: string, body?: string) => new Promise<string>((resolve, reject) => {
		const req = http.request({host: '127.0.0.1', port, path: urlPath, agent: false, method: body === undefined ? 'GET' : 'POST'}, res => {
			let answer = '';
			res.on('data', chunk => (answer += chunk));
			res.on('end', () => resolve(answer));
		}).on('error', reject);
		req.end(body);
	});

	before(async () => {
		home = tempHome();
		engine = await startEngine(home, {port: 0});
		kubeconfig = path.join(home, 'kubeconfig');
		const config = await runCli(['kubeconfig'], {home});
		assert.equal(config.code, 0, config.stderr);
		fs.writeFileSync(kubeconfig, config.stdout, {mode: 0o600});
		assert.equal((await kubectl('kubectl', ['run', 'box', '--image=busybox', '--', 'sleep', '3600'])).code, 0);
		assert.equal((await kubectl('kubectl', ['run', 'web', '--image=kubedeck/agnhost'])).code, 0);
		for (const pod of ['box', 'web']) assert.equal((await kubectl('kubectl', ['wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=60s'])).code, 0);
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});

	for (const [version, binary] of versions) {
		it(`runs commands with kubectl ${version}: output, stdin, exit codes, and cp both ways`, async () => {
			assert.deepEqual(await kubectl(binary, ['exec', 'box', '--', 'echo', 'hi']), {code: 0, stdout: 'hi\n', stderr: ''});
			const failed = await kubectl(binary, ['exec', 'box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
			assert.equal(failed.code, 3);
			assert.equal(failed.stdout, 'out\n');
			assert.equal(failed.stderr, 'err\ncommand terminated with exit code 3');
			assert.equal((await kubectl(binary, ['exec', '-i', 'box', '--', 'wc', '-c'], 'x'.repeat(200_000))).stdout.trim(), '200000', 'stdin, whole');
			const file = path.join(home, `cp-${version}.txt`);
			fs.writeFileSync(file, `copied by ${version}\n`);
			assert.equal((await kubectl(binary, ['cp', file, 'box:/tmp/copied.txt'])).code, 0);
			assert.equal((await kubectl(binary, ['exec', 'box', '--', 'cat', '/tmp/copied.txt'])).stdout, `copied by ${version}\n`);
			const back = path.join(home, `back-${version}.txt`);
			assert.equal((await kubectl(binary, ['cp', 'box:/tmp/copied.txt', back])).code, 0);
			assert.equal(fs.readFileSync(back, 'utf8'), `copied by ${version}\n`);
			// kubectl 1.30+ use the WebSocket, and would fall back to SPDY quietly if it failed (-v=4 says so).
			assert.doesNotMatch((await kubectl(binary, ['-v=4', 'exec', 'box', '--', 'true'])).stderr, /fallback to secondary dialer/);
			const missing = await kubectl(binary, ['exec', 'ghost', '--', 'true']);
			assert.equal(missing.stderr, 'Error from server (NotFound): pods "ghost" not found');
		});

		it(`attaches to a container's input and output with kubectl ${version}, and stdinOnce ends its input with the attach's`, async () => {
			const pod = `reader-${version.replace(/\W/g, '').toLowerCase()}`;
			const manifest = JSON.stringify({apiVersion: 'v1', kind: 'Pod', metadata: {name: pod}, spec: {restartPolicy: 'Never', containers: [{name: 'c', image: 'busybox', stdin: true, stdinOnce: true,
				command: ['sh', '-c', 'echo ready; while read l; do echo got:$l; done; echo bye']}]}});
			const applied = await kubectl(binary, ['apply', '-f', '-'], manifest);
			assert.equal(applied.code, 0, applied.stderr);
			assert.equal((await kubectl(binary, ['wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=60s'])).code, 0);
			// What the container wrote before the attach is the log's, not the attach's; what comes after is both.
			const attached = await kubectl(binary, ['attach', '-i', pod, '-c', 'c'], 'one\ntwo\n');
			assert.equal(attached.code, 0, attached.stderr);
			assert.equal(attached.stdout, 'got:one\ngot:two\nbye\n');
			// stdinOnce: the attach's end of input was the container's, so it finished.
			await eventually(async () => (await kubectl(binary, ['get', 'pod', pod, '-o', 'jsonpath={.status.phase}'])).stdout === 'Succeeded', 'the container done');
			assert.equal((await kubectl(binary, ['logs', pod])).stdout, 'ready\ngot:one\ngot:two\nbye\n');
			const missing = await kubectl(binary, ['attach', 'ghost']);
			assert.equal(missing.stderr, 'Error from server (NotFound): pods "ghost" not found');
			assert.equal((await kubectl(binary, ['delete', 'pod', pod])).code, 0);
		});

		it(`forwards a local port to a pod with kubectl ${version}, and says why a port cannot be reached`, async () => {
			// -v=4 shows whether kubectl 1.31+ fell back from the WebSocket tunnel to plain SPDY: it must not.
			const child = spawn(binary, ['--kubeconfig', kubeconfig, '-v=4', 'port-forward', 'pod/web', ':8080', ':9'], {stdio: ['ignore', 'pipe', 'pipe']});
			try {
				let out = '';
				child.stdout.on('data', chunk => (out += chunk));
				child.stderr.on('data', chunk => (out += chunk));
				const ports = await eventually(() => {
					const found = [...out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)].map(m => [Number(m[1]), Number(m[2])]);
					return found.length === 2 && new Map(found.map(([local, remote]) => [remote, local]));
				}, 'kubectl to listen');
				const local = ports.get(8080)!;
				assert.equal(await request(local, '/hostname'), 'web');
				assert.equal(await request(local, '/hostname'), 'web', 'a second connection');
				const body = 'y'.repeat(300_000);
				assert.equal(await request(local, '/echo', body), body, 'a large body there and back, whole');
				// Nothing listens on 9 in the pod: kubectl prints the engine's reason (and, as kubectl does, stops).
				await request(ports.get(9)!, '/').catch(() => '');
				await eventually(() => /error forwarding port 9 to pod web, uid [\w-]+: connect ECONNREFUSED/.test(out), 'the reason on the error stream');
				assert.doesNotMatch(out, /fallback to secondary dialer/);
			} finally {
				child.kill();
			}
		});
	}

	it('runs a pod on a terminal with kubectl run -it --rm: a shell at its prompt, its exit code, and the pod gone after', {skip: !hasTmux && 'needs tmux'}, async () => {
		const server = tmuxServer(`kdr-${process.pid}`);
		try {
			server.open('run', `kubectl --kubeconfig ${kubeconfig} run term -it --rm --restart=Never --image=busybox -- sh; echo "kubectl exited $?"; sleep 60`, 100, 20);
			await server.until('run', /^\$/m, 'the shell\'s prompt');
			server.tmux('send-keys', '-t', 'run', 'echo answer-$((6*7)); tty', 'Enter');
			await server.until('run', /^answer-42\n\/dev\/pts\/\d+$/m, 'the shell on a terminal of its own');
			server.tmux('send-keys', '-t', 'run', 'exit 3', 'Enter');
			await server.until('run', /pod "term" deleted[^]*kubectl exited 3/, 'the exit code, and the pod deleted');
			assert.equal((await kubectl('kubectl', ['get', 'pod', 'term'])).code, 1);
		} finally {
			server.close();
		}
	});

	it('debugs a running pod with an ephemeral container: kubectl debug runs it beside the others, once, and keeps its logs', async () => {
		const debug = await kubectl('kubectl', ['debug', 'box', '--image=busybox', '--profile=general', '-c', 'dbg', '--', 'sh', '-c', 'echo debug-$((6*7)); hostname']);
		assert.equal(debug.code, 0, debug.stderr);
		await eventually(async () => (await kubectl('kubectl', ['get', 'pod', 'box', '-o', 'jsonpath={.status.ephemeralContainerStatuses[0].state.terminated.reason}'])).stdout === 'Completed', 'the debug container done');
		assert.equal((await kubectl('kubectl', ['logs', 'box', '-c', 'dbg'])).stdout, 'debug-42\nbox\n');
		// The pod itself goes on, and the ephemeral container is not started again.
		assert.equal((await kubectl('kubectl', ['get', 'pod', 'box', '-o', 'jsonpath={.status.phase} {.status.ephemeralContainerStatuses[0].restartCount}'])).stdout, 'Running 0');
		assert.equal((await kubectl('kubectl', ['get', 'pod', 'box', '-o', 'jsonpath={.spec.ephemeralContainers[0].name}'])).stdout, 'dbg');
	});

	it('gives kubectl debug -it a shell in an ephemeral container, attached on its terminal', {skip: !hasTmux && 'needs tmux'}, async () => {
		const server = tmuxServer(`kdd-${process.pid}`);
		try {
			server.open('dbg', `kubectl --kubeconfig ${kubeconfig} debug box -it --image=busybox --profile=general -c shell -- sh; echo "kubectl exited $?"; sleep 60`, 100, 20);
			await server.until('dbg', /^\$/m, 'the shell\'s prompt');
			server.tmux('send-keys', '-t', 'dbg', 'echo dbg-$((6*7))', 'Enter');
			await server.until('dbg', /^dbg-42$/m, 'the shell answering');
			server.tmux('send-keys', '-t', 'dbg', 'exit', 'Enter');
			await server.until('dbg', /kubectl exited 0/, 'kubectl done');
		} finally {
			server.close();
		}
	});

	it('gives kubectl 1.27 a terminal over SPDY (exec -it), sized as its window and resized with it', {skip: (!hasTmux || !fs.existsSync(path.join(gcloud, 'kubectl.1.27'))) && 'needs tmux and kubectl 1.27'}, async () => {
		const server = tmuxServer(`kds-${process.pid}`);
		try {
			server.open('tty', `${path.join(gcloud, 'kubectl.1.27')} --kubeconfig ${kubeconfig} exec -it box -- sh`, 100, 20);
			await server.until('tty', /^\$/m, 'the shell\'s prompt');
			server.tmux('send-keys', '-t', 'tty', 'stty size; echo tty-$((6*7))', 'Enter');
			await server.until('tty', /^20 100\ntty-42$/m, 'a terminal of the window\'s size');
			server.tmux('resize-window', '-t', 'tty', '-x', '120', '-y', '30');
			await eventually(() => {
				server.tmux('send-keys', '-t', 'tty', 'stty size', 'Enter');
				return /^30 120$/m.test(server.screen('tty'));
			}, 'the new size', 10_000);
			server.tmux('send-keys', '-t', 'tty', 'exit', 'Enter');
		} finally {
			server.close();
		}
	});
});
