// The state file refuses to start what it cannot start faithfully: a missing
// or emptied state.db in a directory that held a cluster, a missing or
// different secrets.key, a row it cannot read. Each refusal names the file,
// the object, and the way out; none starts an empty cluster in silence.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {afterEach, beforeEach, describe, it} from 'node:test';
import Database from 'better-sqlite3';
import type {KubeObject} from '../../source/api/object.js';
import {typeByPlural} from '../../source/api/resources.js';
import {Store} from '../../source/store/store.js';
import {removeHome, runCli, tempHome} from '../helpers.js';

const cmType = typeByPlural('configmaps')!;
const secretType = typeByPlural('secrets')!;
const cm = (name: string): KubeObject => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: 'default'}, data: {k: 'v'}});
const secret = (name: string): KubeObject => ({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace: 'default'}, data: {password: Buffer.from('hunter2').toString('base64')}});

/** A state directory that held a cluster: some ConfigMaps and a Secret. */
async function earlierCluster(home: string): Promise<void> {
	const store = new Store(home);
	for (let i = 0; i < 3; i++) await store.write(tx => tx.create(cmType, cm(`cm-${i}`)));
	await store.write(tx => tx.create(secretType, secret('db-password')));
	await store.close();
}

function refusal(home: string): string {
	try {
		new Store(home).close();
	} catch (error) {
		return (error as Error).message;
	}
	throw new Error('the store opened');
}

describe('state file checks', () => {
	let home: string;
	beforeEach(() => {
		home = tempHome();
	});
	afterEach(() => removeHome(home));
	const file = () => path.join(home, 'state.db');
	const key = () => path.join(home, 'secrets.key');
	const wayOut = () => `restore a snapshot with "kubedeck snapshot restore FILE", or move ${home} aside to start a new cluster`;

	it('refuses an emptied (0-byte) state file in a directory that held a cluster', async () => {
		await earlierCluster(home);
		fs.truncateSync(file(), 0);
		for (const f of ['state.db-wal', 'state.db-shm']) fs.rmSync(path.join(home, f), {force: true});
		assert.equal(refusal(home), `state file ${file()} is empty (0 bytes), but ${home} held a cluster (it has secrets.key): ${wayOut()}`);
		assert.equal(fs.statSync(file()).size, 0, 'nothing was written over it');
	});

	it('refuses a missing state file when the key or pod directories show an earlier cluster', async () => {
		await earlierCluster(home);
		fs.rmSync(file());
		fs.mkdirSync(path.join(home, 'pods', 'default_web_1234'), {recursive: true});
		assert.equal(refusal(home), `state file ${file()} is missing, but ${home} held a cluster (it has secrets.key, pod directories in pods/): ${wayOut()}`);
		assert.equal(fs.existsSync(file()), false, 'no empty state file was created');
		fs.rmSync(key());
		assert.equal(refusal(home), `state file ${file()} is missing, but ${home} held a cluster (it has pod directories in pods/): ${wayOut()}`);
	});

	it('refuses to replace a deleted secrets.key, naming it', async () => {
		await earlierCluster(home);
		fs.rmSync(key());
		assert.equal(refusal(home), `${key()} is missing: the 1 Secret in ${file()} was sealed with it and cannot be read without it; put it back from a backup (keep it with your snapshots), or move ${home} aside to start a new cluster`);
		assert.equal(fs.existsSync(key()), false, 'no new key was made');
	});

	it('refuses a secrets.key other than the one the state was written with', async () => {
		await earlierCluster(home);
		const original = fs.readFileSync(key());
		fs.writeFileSync(key(), Buffer.alloc(32, 7), {mode: 0o600});
		const message = refusal(home);
		assert.match(message, new RegExp(`^${escape(key())} is not the key ${escape(file())} was written with \\(its fingerprint is sha256:[0-9a-f]{16}, the state file's is sha256:[0-9a-f]{16}\\): put back the secrets\\.key this state belongs to \\(the one kept with its snapshots\\), or move ${escape(home)} aside to start a new cluster$`));
		assert.ok(!message.includes(original.toString('hex')), 'the key itself is never printed');
		fs.writeFileSync(key(), original);
		const store = new Store(home);
		assert.equal(store.list('configmaps').items.length, 3);
		await store.close();
	});

	it('names the state file and the object when a row is not valid JSON', async () => {
		await earlierCluster(home);
		const db = new Database(file());
		db.prepare("UPDATE objects SET data = ? WHERE resource = 'configmaps' AND name = 'cm-1'").run('{"apiVersion":"v1","kind":"ConfigMap","data":{"k":"a\u0001b"}}');
		db.close();
		assert.equal(refusal(home), `state file ${file()}: the stored configmaps "cm-1" in namespace "default" is not valid JSON (Bad control character in string literal in JSON at position 52): restore a snapshot with "kubedeck snapshot restore FILE", or delete that row (sqlite3 ${file()} "DELETE FROM objects WHERE resource = 'configmaps' AND namespace = 'default' AND name = 'cm-1'")`);
	});

	it('names the state file and the Secret when a row was sealed with another key', async () => {
		await earlierCluster(home);
		const other = tempHome();
		try {
			const store = new Store(other);
			await store.write(tx => tx.create(secretType, secret('db-password')));
			await store.close();
			const foreign = (new Database(path.join(other, 'state.db'), {readonly: true}).prepare("SELECT data FROM objects WHERE resource = 'secrets'").get() as {data: Buffer}).data;
			const db = new Database(file());
			db.prepare("UPDATE objects SET data = ? WHERE resource = 'secrets' AND name = 'db-password'").run(foreign);
			db.close();
		} finally {
			removeHome(other);
		}
		assert.equal(refusal(home), `state file ${file()}: the stored secrets "db-password" in namespace "default" cannot be decrypted with ${key()} (Unsupported state or unable to authenticate data): it was sealed with another key; put back the secrets.key it was written with, or restore a snapshot with "kubedeck snapshot restore FILE"`);
	});

	it('starts afresh where a first start was interrupted, or where nothing shows an earlier cluster', async () => {
		// A first start that died after writing its key, before renaming its draft into place.
		const draftKey = Buffer.alloc(32, 1);
		fs.writeFileSync(key(), draftKey, {mode: 0o600});
		const draft = new Database(path.join(home, 'state.db.init'));
		draft.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
		draft.prepare("INSERT INTO meta VALUES ('keyFingerprint', ?)").run(`sha256:${crypto.createHash('sha256').update(draftKey).digest('hex')}`);
		draft.close();
		let store = new Store(home);
		await store.write(tx => tx.create(secretType, secret('s')));
		await store.close();
		assert.equal(fs.existsSync(path.join(home, 'state.db.init')), false);
		assert.ok(!fs.readFileSync(key()).equals(draftKey), 'the draft\'s key went with it');
		store = new Store(home);
		assert.equal(store.list('secrets').items.length, 1);
		await store.close();
		// One that died while writing its draft (no key yet); and a 0-byte state file with no trace of a cluster.
		for (const leftover of ['state.db.init', 'state.db']) {
			const bare = tempHome();
			try {
				fs.writeFileSync(path.join(bare, leftover), leftover === 'state.db' ? '' : 'half-written');
				store = new Store(bare);
				await store.write(tx => tx.create(cmType, cm('a')));
				await store.close();
				assert.equal(fs.existsSync(path.join(bare, 'state.db.init')), false);
			} finally {
				removeHome(bare);
			}
		}
	});

	it('keeps the state file and its WAL files 0600, and records the key\'s fingerprint, never the key', async () => {
		const store = new Store(home);
		await store.write(tx => tx.create(cmType, cm('a')));
		for (const f of ['state.db', 'state.db-wal', 'state.db-shm']) assert.equal(fs.statSync(path.join(home, f)).mode & 0o777, 0o600, f);
		const meta = Object.fromEntries((store.db.prepare('SELECT key, value FROM meta').all() as {key: string; value: string}[]).map(r => [r.key, r.value]));
		await store.close();
		assert.match(meta.keyFingerprint, /^sha256:[0-9a-f]{64}$/);
		assert.match(meta.clusterId, /^[0-9a-f-]{36}$/);
		assert.ok(!JSON.stringify(meta).includes(fs.readFileSync(key()).toString('hex')));
	});

	it('adopts a state file written before fingerprints were recorded', async () => {
		await earlierCluster(home);
		const db = new Database(file());
		db.prepare("DELETE FROM meta WHERE key IN ('keyFingerprint', 'clusterId')").run();
		db.close();
		const store = new Store(home);
		assert.equal(store.list('secrets').items.length, 1);
		await store.close();
		fs.writeFileSync(key(), Buffer.alloc(32, 7), {mode: 0o600});
		assert.match(refusal(home), /is not the key .* was written with/);
	});

	it('`kubedeck serve` prints a refusal as one error line, without a stack', async () => {
		await earlierCluster(home);
		fs.truncateSync(file(), 0);
		const r = await runCli(['serve'], {home});
		assert.equal(r.code, 1);
		assert.equal(r.stdout, '');
		assert.equal(r.stderr, `error: state file ${file()} is empty (0 bytes), but ${home} held a cluster (it has secrets.key): ${wayOut()}\n`);
		// The first command, which would start the engine in the background, says the same, once.
		const get = await runCli(['get', 'configmaps'], {home});
		assert.equal(get.code, 1);
		assert.equal(get.stderr, `error: the kubedeck engine did not start: state file ${file()} is empty (0 bytes), but ${home} held a cluster (it has secrets.key): ${wayOut()} (see ${path.join(home, 'engine.log')})\n`);
	});
});

function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
