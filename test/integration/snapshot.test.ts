// Snapshots, as etcdctl snapshot save|restore|status give Kubernetes
// operators: a consistent copy taken while the engine runs and writes, a
// restore that checks the file and the key before it replaces anything, and
// a status that says what a snapshot holds.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {describe, it} from 'node:test';
import {typeByPlural} from '../../source/api/resources.js';
import {EmbeddedClient} from '../../source/client/embedded.js';
import {socketPath} from '../../source/engine/home.js';
import {removeHome, runCli, startEngine, tempHome} from '../helpers.js';

const cmType = typeByPlural('configmaps')!;
const secretType = typeByPlural('secrets')!;

describe('snapshots', () => {
	it('saves a consistent snapshot while writers run, and restores every write acknowledged before it', async () => {
		const home = tempHome();
		const fresh = tempHome();
		const snap = path.join(home, '..', `${path.basename(home)}-snap.db`);
		let engine = await startEngine(home);
		const client = new EmbeddedClient({socketPath: socketPath(home)}, 'test');
		try {
			await client.create({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'db-password', namespace: 'default'}, stringData: {password: 'hunter2'}});
			const acknowledged: string[] = [];
			let stop = false;
			let n = 0;
			const writer = async () => {
				while (!stop) {
					const name = `cm-${n++}`;
					await client.create({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: 'default'}, data: {n: name}});
					acknowledged.push(name);
				}
			};
			const writers = Array.from({length: 8}, writer);
			while (acknowledged.length < 200) await new Promise(r => setTimeout(r, 5));
			// Everything acknowledged before the save starts must be in it; writes go on during it.
			const before = [...acknowledged];
			const save = await runCli(['snapshot', 'save', snap], {home});
			const during = acknowledged.length - before.length;
			assert.equal(save.code, 0, save.stderr);
			assert.equal(save.stdout, `Snapshot saved at ${snap}\n`);
			assert.ok(during > 0, 'writes were acknowledged while the save ran');
			while (acknowledged.length < before.length + during + 50) await new Promise(r => setTimeout(r, 5));
			stop = true;
			await Promise.all(writers);
			assert.equal(fs.statSync(snap).mode & 0o777, 0o600, 'a snapshot is as private as the state file');

			const restoreLive = await runCli(['snapshot', 'restore', snap], {home});
			assert.equal(restoreLive.code, 1);
			assert.equal(restoreLive.stderr, `error: a kubedeck engine (pid ${engine.pid}) is running with state directory ${home}; stop it with "kubedeck stop" before restoring a snapshot into it\n`);
			await engine.stop();

			// Without the key the snapshot's Secret was sealed with, a restore is refused and says what to copy.
			const status = await runCli(['snapshot', 'status', snap, '-o', 'json'], {home: fresh});
			assert.equal(status.code, 0, status.stderr);
			const info = JSON.parse(status.stdout);
			assert.equal(info.secrets, 1);
			assert.ok(info.totalKey >= before.length + 1, `${info.totalKey} objects`);
			assert.equal(info.totalSize, fs.statSync(snap).size);
			assert.match(info.hash, /^[0-9a-f]{8}$/);
			assert.match(info.keyFingerprint, /^sha256:[0-9a-f]{64}$/);
			assert.deepEqual(info.key, {file: path.join(fresh, 'secrets.key'), status: 'missing'});
			const noKey = await runCli(['snapshot', 'restore', snap], {home: fresh});
			assert.equal(noKey.code, 1);
			assert.equal(noKey.stderr, `error: the 1 Secret in ${snap} is sealed with a key that ${fresh} does not have (fingerprint ${info.keyFingerprint.slice(0, 23)}): copy the secrets.key kept with the snapshot to ${path.join(fresh, 'secrets.key')} (mode 0600), then restore again\n`);
			assert.equal(fs.existsSync(path.join(fresh, 'state.db')), false, 'nothing was restored');

			fs.writeFileSync(path.join(fresh, 'secrets.key'), Buffer.alloc(32, 9), {mode: 0o600});
			const otherKey = await runCli(['snapshot', 'restore', snap], {home: fresh});
			assert.equal(otherKey.stderr, `error: the 1 Secret in ${snap} is sealed with another key than ${path.join(fresh, 'secrets.key')} (fingerprint ${info.keyFingerprint.slice(0, 23)}): copy the secrets.key kept with the snapshot to ${path.join(fresh, 'secrets.key')} (mode 0600), then restore again\n`);
			fs.copyFileSync(path.join(home, 'secrets.key'), path.join(fresh, 'secrets.key'));
			fs.chmodSync(snap, 0o644);
			const table = await runCli(['snapshot', 'status', snap], {home: fresh});
			const lines = table.stdout.trimEnd().split('\n');
			assert.match(lines[0], /^HASH +REVISION +TOTAL KEYS +TOTAL SIZE +SECRETS +KEY$/);
			assert.match(lines[1], new RegExp(`^${info.hash} +${info.revision} +${info.totalKey} +[0-9.]+ [kM]B +1 +matches ${path.join(fresh, 'secrets.key').replace(/[.]/g, '\\.')}$`));
			const restore = await runCli(['snapshot', 'restore', snap], {home: fresh});
			assert.equal(restore.code, 0, restore.stderr);
			assert.equal(restore.stdout, `restored snapshot ${snap} into ${fresh} (revision ${info.revision + 1}, ${info.totalKey} objects)\n`);
			assert.equal(fs.statSync(path.join(fresh, 'state.db')).mode & 0o777, 0o600, 'the restored state file is 0600 whatever the snapshot\'s mode');

			engine = await startEngine(fresh);
			const after = new EmbeddedClient({socketPath: socketPath(fresh)}, 'test');
			try {
				const stored = new Set((await after.list(cmType, {namespace: 'default'})).items.map(o => o.metadata.name));
				const lost = before.filter(name => !stored.has(name));
				assert.deepEqual(lost, [], `${lost.length} of ${before.length} writes acknowledged before the save are missing`);
				const secret = await after.get(secretType, 'default', 'db-password');
				assert.equal(Buffer.from((secret.data as {password: string}).password, 'base64').toString(), 'hunter2');
				// The restored revision is past the snapshot's, so a client holding a newer resourceVersion relists.
				const created = await after.create({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'after-restore', namespace: 'default'}});
				assert.ok(Number(created.metadata.resourceVersion) > info.revision + 1);
			} finally {
				after.close();
			}
		} finally {
			client.close();
			await engine.stop();
			removeHome(home);
			removeHome(fresh);
			fs.rmSync(snap, {force: true});
		}
	});

	it('refuses a corrupted snapshot with PRAGMA integrity_check before replacing anything, and a file that is not a snapshot', async () => {
		const home = tempHome();
		const target = tempHome();
		const snap = path.join(home, '..', `${path.basename(home)}-snap.db`);
		try {
			const engine = await startEngine(home);
			const client = new EmbeddedClient({socketPath: socketPath(home)}, 'test');
			for (let i = 0; i < 300; i++) await client.create({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: `cm-${i}`, namespace: 'default'}, data: {k: 'x'.repeat(200)}});
			client.close();
			assert.equal((await runCli(['snapshot', 'save', snap], {home})).code, 0);
			await engine.stop();
			const good = fs.readFileSync(snap);
			const bad = Buffer.from(good);
			// Overwrite pages in the middle of the file (not the header), as a bad disk or a torn copy would.
			bad.fill(0xa5, 4096 * 3, 4096 * 6);
			fs.writeFileSync(snap, bad);
			const before = fs.readdirSync(target);
			const restore = await runCli(['snapshot', 'restore', snap], {home: target});
			assert.equal(restore.code, 1);
			assert.match(restore.stderr, new RegExp(`^error: ${snap.replace(/[.]/g, '\\.')} failed its integrity check \\(PRAGMA integrity_check\\): .+; it cannot be restored\n$`));
			assert.deepEqual(fs.readdirSync(target), before, 'nothing was written into the state directory');
			const status = await runCli(['snapshot', 'status', snap], {home: target});
			assert.equal(status.code, 1);
			assert.match(status.stderr, /failed its integrity check/);

			fs.writeFileSync(snap, 'not a database at all, but long enough to be mistaken for one by nobody');
			const junk = await runCli(['snapshot', 'restore', snap], {home: target});
			assert.equal(junk.stderr, `error: ${snap} is not a kubedeck snapshot (file is not a database)\n`);
			const missing = await runCli(['snapshot', 'status', `${snap}.nope`], {home: target});
			assert.equal(missing.stderr, `error: open ${snap}.nope: no such file or directory\n`);
		} finally {
			removeHome(home);
			removeHome(target);
			fs.rmSync(snap, {force: true});
		}
	});
});
