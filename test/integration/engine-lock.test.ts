// The engine knows itself: a pid in engine.lock is not enough to call a
// process the engine. A recycled pid that now belongs to an unrelated node
// process must neither block a new engine nor be signalled by `stop`.
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {describe, it} from 'node:test';
import {lockOwner, lockPath, socketPath} from '../../source/engine/home.js';
import {verifyIdentity} from '../../source/engine/identity.js';
import {processRunning, processStartTime} from '../../source/engine/processes.js';
import {removeHome, runCli, startEngine, tempHome} from '../helpers.js';

/** An unrelated, long-lived node process: what a recycled pid may belong to. */
function decoy(script = 'setInterval(() => {}, 1000)'): Promise<ChildProcess> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ['-e', `${script}; console.log('ready')`], {stdio: ['ignore', 'pipe', 'inherit']});
		child.stdout!.once('data', () => resolve(child));
		child.once('error', reject);
	});
}

function kill(child: ChildProcess): void {
	if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

describe('engine identity', () => {
	it('takes over a lock naming a live unrelated node process, and `stop` never signals that process', async () => {
		const home = tempHome();
		const other = await decoy();
		const pid = other.pid!;
		try {
			// The lock an older engine left, naming what is now someone else's node process.
			for (const content of [`${pid}\n`, `${JSON.stringify({pid, startTime: '1', token: 'abc'})}\n`]) {
				fs.writeFileSync(lockPath(home), content);
				assert.equal(lockOwner(home), undefined, `lock ${content.trim()} has no live owner`);
				const stop = await runCli(['stop'], {home});
				assert.equal(stop.code, 0, stop.stderr);
				assert.equal(stop.stdout.trim(), `no kubedeck engine is running for ${home}: the lock ${lockPath(home)} was stale (pid ${pid} is not the engine that wrote it); nothing was signalled`);
				assert.ok(processRunning(pid), 'the unrelated process was not signalled');
			}

			const engine = await startEngine(home);
			try {
				assert.equal(lockOwner(home), engine.pid);
				const stop = await runCli(['stop'], {home});
				assert.equal(stop.stdout.trim(), `kubedeck engine stopped (pid ${engine.pid})`);
			} finally {
				await engine.kill9();
			}
			assert.ok(processRunning(pid), 'the unrelated process is still alive');

			// The first command starts an engine as if no lock were there, and `serve --detach` too.
			fs.writeFileSync(lockPath(home), `${pid}\n`);
			const get = await runCli(['get', 'ns', 'default', '-o', 'name'], {home});
			assert.equal(get.code, 0, get.stderr);
			assert.match(get.stderr, /^Started the kubedeck engine in the background/);
			assert.notEqual(lockOwner(home), pid);
			assert.equal((await runCli(['stop'], {home})).code, 0);
			fs.writeFileSync(lockPath(home), `${pid}\n`);
			const detach = await runCli(['serve', '--detach'], {home});
			assert.equal(detach.code, 0, detach.stderr);
			assert.match(detach.stdout, /^kubedeck engine started in the background \(pid \d+/);
			assert.equal((await runCli(['stop'], {home})).code, 0);
			assert.ok(processRunning(pid), 'the unrelated process is still alive');
		} finally {
			kill(other);
			await runCli(['stop'], {home});
			removeHome(home);
		}
	});

	it('does not signal a process whose pid and start time match but which cannot prove the lock\'s token', async () => {
		const home = tempHome();
		// A process that answers on the state directory's socket, but is not the engine that wrote the lock.
		const impostor = await decoy(`require('http').createServer((q, s) => s.end(JSON.stringify({pid: process.pid, proof: 'nope'}))).listen(${JSON.stringify(socketPath(home))})`);
		const pid = impostor.pid!;
		try {
			fs.writeFileSync(lockPath(home), JSON.stringify({pid, startTime: processStartTime(pid), token: 'a'.repeat(64)}));
			const stop = await runCli(['stop'], {home});
			assert.equal(stop.code, 1);
			assert.equal(stop.stderr.trim(), `error: the process answering on ${socketPath(home)} cannot prove it is the engine named in ${lockPath(home)} (pid ${pid}); nothing was signalled`);
			assert.ok(processRunning(pid), 'the impostor was not signalled');
		} finally {
			kill(impostor);
			removeHome(home);
		}
	});

	it('records the engine\'s pid, start time and a token in the lock, and proves the token on its socket only', async () => {
		const home = tempHome();
		const engine = await startEngine(home, {port: 0});
		try {
			const lock = JSON.parse(fs.readFileSync(lockPath(home), 'utf8'));
			assert.equal(lock.pid, engine.pid);
			assert.equal(lock.startTime, processStartTime(engine.pid));
			assert.match(lock.token, /^[0-9a-f]{64}$/);
			assert.equal(fs.statSync(lockPath(home)).mode & 0o777, 0o600);
			assert.deepEqual(fs.readdirSync(home).filter(f => f.endsWith('.tmp')), [], 'no temporary lock file is left');
			assert.equal(await verifyIdentity(socketPath(home), lock), 'proven');
			assert.equal(await verifyIdentity(socketPath(home), {...lock, token: 'b'.repeat(64)}), 'impostor');
			const token = fs.readFileSync(path.join(home, 'api-token'), 'utf8').trim();
			const status = await new Promise<number>((resolve, reject) => {
				https.get({host: '127.0.0.1', port: engine.port, path: '/kubedeck/identity?nonce=x', headers: {Authorization: `Bearer ${token}`}, rejectUnauthorized: false}, res => {
					res.resume();
					resolve(res.statusCode ?? 0);
				}).on('error', reject);
			});
			assert.equal(status, 404, 'the TCP API does not serve the identity check');
		} finally {
			await engine.stop();
			removeHome(home);
		}
	});
});
