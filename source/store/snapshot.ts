// Snapshots of the state file, as `etcdctl snapshot save` / `etcdutl
// snapshot restore|status` give Kubernetes operators.
//
// save: `VACUUM INTO` copies the database as one read transaction, so the
// copy is consistent while the engine keeps writing (WAL readers do not block
// writers, nor writers them), and unlike the online backup API stepped a few
// pages at a time it cannot restart for ever under constant writes. Secrets
// stay sealed in the copy: it is useless without the secrets.key it names by
// fingerprint, which is to be kept with it (and apart from it).
//
// restore: into a stopped state directory only (it takes the engine's lock
// for the time it works); the file is checked with PRAGMA integrity_check and
// for a kubedeck state file's tables, and its Secrets' key against the
// directory's, before anything is replaced. The revision is bumped past both
// the snapshot's and the replaced state's, as etcdutl's --bump-revision and
// --mark-compacted do (what the Kubernetes docs advise for restores), so a
// client holding a newer resourceVersion gets 410 and relists instead of
// trusting a cache the restore made stale.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {keyFilePath, SecretBox, syncDirectory} from './crypto.js';
import {checkStateSchema, countSecrets, readMeta, short, stateFilePath} from './state-file.js';

export class SnapshotError extends Error {}

export interface SnapshotStatus {
	/** First 8 hex digits of the file's SHA-256 (etcdutl prints a hash of its content too). */
	hash: string;
	/** The resourceVersion the snapshot was taken at. */
	revision: number;
	/** Objects in the snapshot (etcd's "total keys"). */
	totalKey: number;
	totalSize: number;
	secrets: number;
	resources: Record<string, number>;
	clusterId?: string;
	keyFingerprint?: string;
	/** Whether `home`'s secrets.key opens the snapshot's Secrets. */
	key: {file: string; status: KeyStatus};
}

/** 'not needed': the snapshot holds no Secret. */
export type KeyStatus = 'matches' | 'differs' | 'missing' | 'not needed';

/** Save a consistent copy of `home`'s state file to `target` (0600), whether or not an engine runs. */
export function saveSnapshot(home: string, target: string): void {
	const file = stateFilePath(home);
	if (!fs.existsSync(file)) throw new SnapshotError(`there is no state file at ${file} to save`);
	// Written beside the target and renamed into place, as etcdctl writes FILE.part: a crash never leaves half a snapshot under its name.
	const part = `${target}.part`;
	fs.rmSync(part, {force: true});
	fs.closeSync(fs.openSync(part, 'wx', 0o600));
	try {
		const db = new Database(file, {fileMustExist: true, timeout: 30_000});
		try {
			checkStateSchema(db, file, 'nothing to save');
			db.prepare('VACUUM INTO ?').run(part);
		} finally {
			db.close();
		}
		// One self-contained file: no -wal to keep beside it. SQLite does not fsync VACUUM INTO's output; do it here.
		const copy = new Database(part);
		try {
			copy.pragma('journal_mode = DELETE');
		} finally {
			copy.close();
		}
		const fd = fs.openSync(part, 'r+');
		try {
			fs.fsyncSync(fd);
		} finally {
			fs.closeSync(fd);
		}
		fs.renameSync(part, target);
		syncDirectory(path.dirname(path.resolve(target)));
	} catch (error) {
		fs.rmSync(part, {force: true});
		throw error;
	}
}

/** Open a snapshot read-only, checked: SQLite, intact, a kubedeck state file. */
function openSnapshot(file: string): Database.Database {
	if (!fs.existsSync(file)) throw new SnapshotError(`open ${file}: no such file or directory`);
	let db: Database.Database;
	try {
		db = new Database(file, {readonly: true, fileMustExist: true});
	} catch (error) {
		throw new SnapshotError(`${file} is not a kubedeck snapshot (${(error as Error).message})`);
	}
	try {
		let problems: string[];
		try {
			problems = (db.pragma('integrity_check') as {integrity_check: string}[]).map(r => r.integrity_check);
		} catch (error) {
			const message = (error as Error).message;
			if (/not a database/.test(message)) throw new SnapshotError(`${file} is not a kubedeck snapshot (${message})`);
			problems = [message];
		}
		if (problems.length !== 1 || problems[0] !== 'ok') {
			const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
			throw new SnapshotError(`${file} failed its integrity check (PRAGMA integrity_check): ${shown}; it cannot be restored`);
		}
		try {
			checkStateSchema(db, file, 'it cannot be restored');
		} catch (error) {
			throw new SnapshotError((error as Error).message);
		}
		return db;
	} catch (error) {
		db.close();
		throw error;
	}
}

function statusOf(db: Database.Database, file: string, home: string): SnapshotStatus {
	const meta = readMeta(db);
	const resources: Record<string, number> = {};
	for (const row of db.prepare('SELECT resource, count(*) AS n FROM objects GROUP BY resource ORDER BY resource').all() as {resource: string; n: number}[]) {
		resources[row.resource] = row.n;
	}
	const content = fs.readFileSync(file);
	return {
		hash: crypto.createHash('sha256').update(content).digest('hex').slice(0, 8),
		revision: Number(meta.resourceVersion ?? 0),
		totalKey: Object.values(resources).reduce((a, b) => a + b, 0),
		totalSize: content.length,
		secrets: countSecrets(db),
		resources,
		clusterId: meta.clusterId,
		keyFingerprint: meta.keyFingerprint,
		key: {file: keyFilePath(home), status: keyStatus(db, meta.keyFingerprint, home)},
	};
}

/** Does `home`'s key open the snapshot's Secrets? By fingerprint, or, for a state file from before fingerprints, by opening them. */
function keyStatus(db: Database.Database, fingerprint: string | undefined, home: string): KeyStatus {
	const secrets = countSecrets(db);
	if (secrets === 0) return 'not needed';
	const box = SecretBox.load(home);
	if (!box) return 'missing';
	if (fingerprint) return fingerprint === box.fingerprint ? 'matches' : 'differs';
	try {
		for (const row of db.prepare("SELECT data FROM objects WHERE resource = 'secrets'").iterate() as Iterable<{data: Buffer}>) box.open(row.data);
		return 'matches';
	} catch {
		return 'differs';
	}
}

/** What a snapshot holds, checked first (`kubedeck snapshot status`). */
export function snapshotStatus(file: string, home: string): SnapshotStatus {
	const db = openSnapshot(file);
	try {
		return statusOf(db, file, home);
	} finally {
		db.close();
	}
}

/**
 * Replace `home`'s state file with the snapshot, atomically. The caller
 * holds the state directory's lock. Returns the snapshot's status and the
 * revision the restored state starts at.
 */
export function restoreSnapshot(file: string, home: string): {status: SnapshotStatus; revision: number; previous?: string} {
	const db = openSnapshot(file);
	let status: SnapshotStatus;
	try {
		status = statusOf(db, file, home);
	} finally {
		db.close();
	}
	const key = status.key.file;
	const secrets = status.secrets === 1 ? 'the 1 Secret' : `the ${status.secrets} Secrets`;
	const fingerprint = status.keyFingerprint ? ` (fingerprint ${short(status.keyFingerprint)})` : '';
	if (status.key.status === 'missing') {
		throw new SnapshotError(`${secrets} in ${file} ${status.secrets === 1 ? 'is' : 'are'} sealed with a key that ${home} does not have${fingerprint}: copy the secrets.key kept with the snapshot to ${key} (mode 0600), then restore again`);
	}
	if (status.key.status === 'differs') {
		throw new SnapshotError(`${secrets} in ${file} ${status.secrets === 1 ? 'is' : 'are'} sealed with another key than ${key}${fingerprint}: copy the secrets.key kept with the snapshot to ${key} (mode 0600), then restore again`);
	}
	const target = stateFilePath(home);
	const draft = `${target}.restore`;
	fs.rmSync(draft, {force: true});
	try {
		// copyFile gives the copy the snapshot's mode; the state file is 0600 whatever the snapshot's was.
		fs.copyFileSync(file, draft);
		fs.chmodSync(draft, 0o600);
		const previousRevision = settlePrevious(target);
		const revision = Math.max(status.revision, previousRevision) + 1;
		const copy = new Database(draft, {fileMustExist: true});
		try {
			copy.pragma('synchronous = FULL');
			const setMeta = copy.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
			copy.transaction(() => {
				setMeta.run('resourceVersion', String(revision));
				// A snapshot without Secrets needs no key: it takes the directory's (or a new one at the next start).
				if (status.secrets === 0) {
					const box = SecretBox.load(home);
					if (box) setMeta.run('keyFingerprint', box.fingerprint);
					else copy.prepare("DELETE FROM meta WHERE key = 'keyFingerprint'").run();
				}
			})();
		} finally {
			copy.close();
		}
		// The replaced state file is kept beside it (a hard link: no copy), as one restore's way back.
		let previous: string | undefined;
		if ((fs.statSync(target, {throwIfNoEntry: false})?.size ?? 0) > 0) {
			previous = `${target}.pre-restore`;
			fs.rmSync(previous, {force: true});
			fs.linkSync(target, previous);
		}
		// Its -wal and -shm belong to the old database: SQLite would replay an old WAL into the new one.
		for (const f of [`${target}-wal`, `${target}-shm`]) fs.rmSync(f, {force: true});
		fs.renameSync(draft, target);
		syncDirectory(home);
		return {status, revision, previous};
	} catch (error) {
		fs.rmSync(draft, {force: true});
		throw error;
	}
}

/**
 * Fold the old state file's WAL into it (an engine killed with -9 leaves one), so removing the
 * -wal loses nothing of the state kept as the way back; returns its revision.
 */
function settlePrevious(target: string): number {
	if ((fs.statSync(target, {throwIfNoEntry: false})?.size ?? 0) === 0) return 0;
	try {
		const db = new Database(target, {fileMustExist: true});
		try {
			db.pragma('wal_checkpoint(TRUNCATE)');
			return Number(readMeta(db).resourceVersion ?? 0);
		} finally {
			db.close();
		}
	} catch {
		return 0;
	}
}
