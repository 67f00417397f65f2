// Opening the state file, and refusing what cannot be opened faithfully.
//
// A store that starts anyway loses data in silence: a 0-byte state.db once
// started an empty cluster (300 ConfigMaps and a Secret gone), and a deleted
// secrets.key was replaced by a new one that opens none of the stored
// Secrets. So a missing or emptied state file in a directory that held a
// cluster, a missing key, or a key other than the one the state was written
// with (the meta table records its fingerprint) stops the start with a
// message that names the file and the way out. An unreadable row names the
// object, as kube-apiserver names the key of an object it cannot decode or
// decrypt (KEP-3926, "Handling undecryptable resources").
//
// A first start creates the state file as a draft (state.db.init, 0600),
// with the key's fingerprint; then writes the key; then renames the draft
// into place. A crash at any point leaves either a draft (and maybe its key),
// which the next start discards, or a complete state file with its key:
// never a directory that refuses wrongly.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {keyFilePath, SecretBox, syncDirectory} from './crypto.js';

export class StateFileError extends Error {}

export const stateFilePath = (dir: string) => path.join(dir, 'state.db');
const draftPath = (dir: string) => path.join(dir, 'state.db.init');
export const restoreHint = 'restore a snapshot with "kubedeck snapshot restore FILE"';
const wayOut = (dir: string) => `${restoreHint}, or move ${dir} aside to start a new cluster`;

export const schema = `
	-- A rowid table: objects are kilobytes each, and SQLite advises WITHOUT ROWID only for small rows.
	CREATE TABLE IF NOT EXISTS objects (
		resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
		uid TEXT NOT NULL, rv INTEGER NOT NULL, data BLOB NOT NULL,
		UNIQUE (resource, namespace, name));
	CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** The state file's meta table: resourceVersion, clusterId, keyFingerprint. */
export function readMeta(db: Database.Database): Record<string, string> {
	return Object.fromEntries((db.prepare('SELECT key, value FROM meta').all() as {key: string; value: string}[]).map(r => [r.key, r.value]));
}

export function countSecrets(db: Database.Database): number {
	return (db.prepare("SELECT count(*) AS n FROM objects WHERE resource = 'secrets'").get() as {n: number}).n;
}

/** Throws unless `db` has a kubedeck state file's tables. */
export function checkStateSchema(db: Database.Database, file: string, wayOutText: string): void {
	let tables: string[];
	try {
		tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {name: string}[]).map(t => t.name);
	} catch (error) {
		throw new StateFileError(`${file} is not a kubedeck state file (${(error as Error).message}): ${wayOutText}`);
	}
	const missing = ['objects', 'meta'].filter(t => !tables.includes(t));
	if (missing.length > 0) throw new StateFileError(`${file} is not a kubedeck state file (it has no ${missing.join(' or ')} table): ${wayOutText}`);
}

/** Open (or, on a first start, create) the state file of `dir`, and its key. */
export function openStateFile(dir: string, synchronous: string): {db: Database.Database; box: SecretBox} {
	const file = stateFilePath(dir);
	const size = sizeOf(file);
	if (size === undefined || size === 0) {
		discardInterruptedFirstStart(dir);
		const evidence = earlierCluster(dir);
		if (evidence.length > 0) {
			const what = size === undefined ? 'is missing' : 'is empty (0 bytes)';
			throw new StateFileError(`state file ${file} ${what}, but ${dir} held a cluster (it has ${evidence.join(', ')}): ${wayOut(dir)}`);
		}
		// Nothing beside it shows a cluster: a 0-byte file here holds nothing to lose.
		for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, {force: true});
		createStateFile(dir);
	}
	// SQLite gives the -wal and -shm files the database file's mode; older state files were 0644.
	for (const f of [file, `${file}-wal`, `${file}-shm`]) {
		try {
			fs.chmodSync(f, 0o600);
		} catch {}
	}
	const db = new Database(file, {fileMustExist: true});
	try {
		checkStateSchema(db, file, wayOut(dir));
		db.pragma('journal_mode = WAL');
		db.pragma(`synchronous = ${synchronous}`);
		db.exec(schema);
		return {db, box: keyFor(db, dir, file)};
	} catch (error) {
		db.close();
		throw error;
	}
}

/** What in `dir` shows that a cluster lived here: the key, pod directories, the kubelet's process ledger. */
function earlierCluster(dir: string): string[] {
	const evidence: string[] = [];
	if (fs.existsSync(keyFilePath(dir))) evidence.push('secrets.key');
	try {
		if (fs.readdirSync(path.join(dir, 'pods')).length > 0) evidence.push('pod directories in pods/');
	} catch {}
	if (fs.existsSync(path.join(dir, 'run', 'processes.json'))) evidence.push('run/processes.json');
	return evidence;
}

/**
 * A draft left by a first start that did not finish: remove it, and the key
 * it wrote (which sealed nothing, since no state file was ever in place).
 * A key that is not the draft's stays, and counts as a cluster's.
 */
function discardInterruptedFirstStart(dir: string): void {
	const draft = draftPath(dir);
	if (!fs.existsSync(draft)) return;
	let fingerprint: string | undefined;
	try {
		const db = new Database(draft, {readonly: true, fileMustExist: true});
		try {
			fingerprint = readMeta(db).keyFingerprint;
		} finally {
			db.close();
		}
	} catch {}
	const box = SecretBox.load(dir);
	if (box && fingerprint !== undefined && box.fingerprint === fingerprint) fs.rmSync(box.file);
	for (const f of [draft, `${draft}-journal`]) fs.rmSync(f, {force: true});
}

function createStateFile(dir: string): void {
	const draft = draftPath(dir);
	fs.closeSync(fs.openSync(draft, 'wx', 0o600));
	const box = SecretBox.generate(dir);
	const db = new Database(draft);
	try {
		db.pragma('synchronous = FULL');
		db.exec(schema);
		const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
		db.transaction(() => {
			put.run('clusterId', crypto.randomUUID());
			put.run('keyFingerprint', box.fingerprint);
		})();
	} finally {
		db.close();
	}
	box.save();
	fs.renameSync(draft, stateFilePath(dir));
	syncDirectory(dir);
}

/** The key the state file was written with, or a refusal that says what is wrong with the one there. */
function keyFor(db: Database.Database, dir: string, file: string): SecretBox {
	const meta = readMeta(db);
	let box: SecretBox | undefined;
	try {
		box = SecretBox.load(dir);
	} catch (error) {
		throw new StateFileError(`${(error as Error).message}: put back the secrets.key this state belongs to, or move ${dir} aside to start a new cluster`);
	}
	const setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
	if (!box) {
		const secrets = countSecrets(db);
		const key = keyFilePath(dir);
		const tail = `put it back from a backup (keep it with your snapshots), or move ${dir} aside to start a new cluster`;
		if (secrets > 0) {
			throw new StateFileError(`${key} is missing: the ${secrets === 1 ? '1 Secret' : `${secrets} Secrets`} in ${file} ${secrets === 1 ? 'was' : 'were'} sealed with it and cannot be read without it; ${tail}`);
		}
		if (meta.keyFingerprint) throw new StateFileError(`${key} is missing: ${file} was written with it (it holds no Secret yet); ${tail}`);
		// A state file from before fingerprints were recorded, with no Secret: nothing is sealed, a first key loses nothing.
		box = SecretBox.generate(dir);
		box.save();
	}
	if (meta.keyFingerprint && meta.keyFingerprint !== box.fingerprint) {
		throw new StateFileError(`${box.file} is not the key ${file} was written with (its fingerprint is ${short(box.fingerprint)}, the state file's is ${short(meta.keyFingerprint)}): put back the secrets.key this state belongs to (the one kept with its snapshots), or move ${dir} aside to start a new cluster`);
	}
	// State files from before fingerprints and cluster ids were recorded adopt theirs now.
	if (!meta.keyFingerprint) setMeta.run('keyFingerprint', box.fingerprint);
	if (!meta.clusterId) setMeta.run('clusterId', crypto.randomUUID());
	return box;
}

/** A fingerprint short enough to compare by eye. */
export function short(fingerprint: string): string {
	return fingerprint.slice(0, 'sha256:'.length + 16);
}

interface Row {
	resource: string;
	namespace: string;
	name: string;
	data: Buffer | string;
}

/** Every stored object, decrypted and parsed; an unreadable row stops the load with its name and the way out. */
export function* readObjects(db: Database.Database, box: SecretBox, file: string): Generator<Row & {json: string; object: unknown}> {
	for (const row of db.prepare('SELECT resource, namespace, name, data FROM objects').iterate() as Iterable<Row>) {
		const what = `${row.resource} "${row.name}"${row.namespace ? ` in namespace "${row.namespace}"` : ''}`;
		let json: string;
		try {
			json = typeof row.data === 'string' ? row.data : box.open(row.data);
		} catch (error) {
			throw new StateFileError(`state file ${file}: the stored ${what} cannot be decrypted with ${box.file} (${(error as Error).message}): it was sealed with another key; put back the secrets.key it was written with, or ${restoreHint}`);
		}
		let object: unknown;
		try {
			object = JSON.parse(json);
		} catch (error) {
			const where = `resource = '${sql(row.resource)}' AND namespace = '${sql(row.namespace)}' AND name = '${sql(row.name)}'`;
			throw new StateFileError(`state file ${file}: the stored ${what} is not valid JSON (${(error as Error).message}): ${restoreHint}, or delete that row (sqlite3 ${file} "DELETE FROM objects WHERE ${where}")`);
		}
		yield {...row, json, object};
	}
}

const sql = (text: string) => text.replace(/'/g, "''");

function sizeOf(file: string): number | undefined {
	try {
		return fs.statSync(file).size;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}
