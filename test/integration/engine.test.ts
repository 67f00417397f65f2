// The engine process: started on demand, stopped cleanly, one per state
// directory, and every acknowledged write survives kill -9.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {describe, it} from 'node:test';
import {EmbeddedClient} from '../../source/client/embedded.js';
import {lockOwner, socketPath} from '../../source/engine/home.js';
import {processRunning} from '../../source/engine/processes.js';
import {typeByPlural} from '../../source/api/resources.js';
import {eventually, removeHome, runCli, startEngine, tempHome} from '../helpers.js';

const alive = processRunning;

describe('engine lifecycle', () => {
	it('is started in the background by the first command, and stopped by `stop`', async () => {
		const home = tempHome();
		try {
			const first = await runCli(['get', 'ns', 'default', '-o', 'name'], {home});
			assert.equal(first.code, 0, first.stderr);
			assert.equal(first.stdout, 'namespace/default\n');
			assert.match(first.stderr, /^Started the kubedeck engine in the background \(pid \d+, state .*\)/);
			const pid = lockOwner(home)!;
			assert.ok(pid && alive(pid));
			const second = await runCli(['get', 'ns', 'default', '-o', 'name'], {home});
			assert.equal(second.stderr, '', 'a running engine is reused silently');
			const stop = await runCli(['stop'], {home});
			assert.equal(stop.stdout.trim(), `kubedeck engine stopped (pid ${pid})`);
			assert.equal(alive(pid), false);
			assert.equal(fs.existsSync(socketPath(home)), false);
			assert.equal(fs.existsSync(path.join(home, 'engine.lock')), false);
		} finally {
			await runCli(['stop'], {home});
			removeHome(home);
		}
	});

	it('refuses a bad --theme before starting anything', async () => {
		const home = tempHome();
		try {
			const r = await runCli(['dashboard', '--theme', 'nope'], {home});
			assert.equal(r.code, 1);
			assert.match(r.stderr, /^error: --theme: theme "nope" not found: built-in themes are dark, light, high-contrast, no-color/);
			assert.equal(lockOwner(home), undefined, 'no engine was started');
		} finally {
			await runCli(['stop'], {home});
			removeHome(home);
		}
	});

	it('refuses a second engine on the same state directory, and takes over a stale lock', async () => {
		const home = tempHome();
		const engine = await startEngine(home);
		try {
			const second = await runCli(['serve'], {home});
			assert.equal(second.code, 1);
			assert.equal(second.stderr.trim(), `error: another kubedeck engine (pid ${engine.pid}) is running with state directory ${home}; stop it with "kubedeck stop"`);
			await engine.kill9();
			assert.ok(fs.existsSync(path.join(home, 'engine.lock')), 'kill -9 leaves the lock behind');
			const next = await startEngine(home);
			assert.equal(lockOwner(home), next.pid);
			await next.stop();
		} finally {
			await engine.kill9();
			removeHome(home);
		}
	});

	it('leaves no container running when the engine is killed with -9, and restarts them with the next engine', async () => {
		const home = tempHome();
		let engine = await startEngine(home);
		try {
			const r = await runCli(['create', 'deployment', 'sleepers', '--image=busybox', '--replicas=2', '--', 'sleep', '3600'], {home});
			assert.equal(r.code, 0, r.stderr);
			const pidsOf = async () => {
				const pods = JSON.parse((await runCli(['get', 'pods', '-o', 'json'], {home})).stdout).items as {status: {containerStatuses?: {containerID: string; state: {running?: object}}[]}}[];
				return pods.flatMap(p => (p.status.containerStatuses ?? []).filter(c => c.state.running).map(c => Number(c.containerID.replace('process://', ''))));
			};
			const pids = await eventually(async () => {
				const found = await pidsOf();
				return found.length === 2 && found;
			}, 'two running containers');
			await engine.kill9();
			await eventually(() => pids.every(pid => !processRunning(pid)), 'the containers to die with the engine');
			engine = await startEngine(home);
			await eventually(async () => {
				const found = await pidsOf();
				return found.length === 2 && found.every(pid => !pids.includes(pid) && processRunning(pid));
			}, 'two new container processes, and no more');
		} finally {
			await engine.stop();
			removeHome(home);
		}
	});

	it('keeps every acknowledged write across kill -9 of the engine', async () => {
		const home = tempHome();
		const cm = typeByPlural('configmaps')!;
		let engine = await startEngine(home);
		const client = new EmbeddedClient({socketPath: socketPath(home)}, 'test');
		const acknowledged: string[] = [];
		try {
			// Many writers at once, so the kill lands while commits are in flight.
			let n = 0;
			let killed = false;
			const writer = async () => {
				while (!killed) {
					const name = `cm-${n++}`;
					try {
						await client.create({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: 'default'}, data: {n: String(n)}});
						acknowledged.push(name);
					} catch {
						return;
					}
				}
			};
			const writers = Array.from({length: 16}, writer);
			while (acknowledged.length < 400) await new Promise(r => setTimeout(r, 5));
			await engine.kill9();
			killed = true;
			await Promise.all(writers);
			client.close();

			engine = await startEngine(home);
			const after = new EmbeddedClient({socketPath: socketPath(home)}, 'test');
			const stored = new Set((await after.list(cm, {namespace: 'default'})).items.map(o => o.metadata.name));
			after.close();
			const lost = acknowledged.filter(name => !stored.has(name));
			assert.ok(acknowledged.length >= 400);
			assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged writes were lost`);
		} finally {
			await engine.stop();
			removeHome(home);
		}
	});
});
