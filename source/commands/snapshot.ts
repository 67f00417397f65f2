// kubedeck snapshot save|restore|status FILE: what etcdctl snapshot save and
// etcdutl snapshot restore|status are to a Kubernetes operator. These work on
// the state file itself, not through the engine's API: save reads it beside a
// running engine, restore needs the engine stopped.
import {acquireLock, LockError, lockOwner, stateHome} from '../engine/home.js';
import {alignColumns} from '../render/format.js';
import {restoreSnapshot, saveSnapshot, SnapshotError, type SnapshotStatus, snapshotStatus} from '../store/snapshot.js';
import {type Command, type CommandContext} from './context.js';
import {CliError} from '../client/errors.js';

const usage = 'kubedeck snapshot save FILE | restore FILE | status FILE [-o table|json]';

export const snapshotCommand: Command = {
	name: 'snapshot',
	summary: 'Save, restore or inspect a snapshot of the state file (Secrets stay sealed: keep secrets.key with it)',
	usage,
	flags: {output: {type: 'string', short: 'o'}},
	async run(ctx: CommandContext) {
		const [verb, file, ...extra] = ctx.positionals;
		if (!verb || !['save', 'restore', 'status'].includes(verb)) throw new CliError(`error: ${verb ? `unknown snapshot command "${verb}"` : 'a snapshot command is required'}\nUsage:\n  ${usage}`);
		if (!file || extra.length > 0) throw new CliError(`error: snapshot ${verb} needs exactly one snapshot file\nUsage:\n  ${usage}`);
		const output = ctx.string('output') ?? 'table';
		if (!['table', 'json'].includes(output)) throw new CliError(`error: unable to match a printer suitable for the output format "${output}", allowed formats are: json,table`);
		const home = stateHome(ctx.io.env);
		try {
			if (verb === 'save') {
				saveSnapshot(home, file);
				ctx.out(`Snapshot saved at ${file}`);
			} else if (verb === 'status') {
				const status = snapshotStatus(file, home);
				ctx.out(output === 'json' ? JSON.stringify(status) : statusTable(status));
			} else {
				restore(ctx, home, file);
			}
		} catch (error) {
			if (error instanceof SnapshotError || error instanceof LockError) throw new CliError(`error: ${error.message}`);
			throw error;
		}
		return 0;
	},
};

function restore(ctx: CommandContext, home: string, file: string): void {
	const owner = lockOwner(home);
	const running = () => new CliError(`error: a kubedeck engine (pid ${lockOwner(home) ?? owner}) is running with state directory ${home}; stop it with "kubedeck stop" before restoring a snapshot into it`);
	if (owner !== undefined) throw running();
	// Held while the state file is replaced, so no engine starts on it half-way.
	let lock;
	try {
		lock = acquireLock(home);
	} catch (error) {
		if (error instanceof LockError) throw running();
		throw error;
	}
	try {
		const {status, revision, previous} = restoreSnapshot(file, home);
		ctx.out(`restored snapshot ${file} into ${home} (revision ${revision}, ${status.totalKey} objects)`);
		if (previous) ctx.err(`the state file it replaced is kept as ${previous}`);
	} finally {
		lock.release();
	}
}

/** etcdutl snapshot status -w table's columns, with the Secrets and whether this directory's key opens them. */
function statusTable(status: SnapshotStatus): string {
	const key = status.key.status === 'not needed' ? 'not needed (no Secrets)' : `${status.key.status} ${status.key.file}`;
	return alignColumns([
		['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE', 'SECRETS', 'KEY'],
		[status.hash, String(status.revision), String(status.totalKey), humanBytes(status.totalSize), String(status.secrets), key],
	]);
}

/** go-humanize's Bytes, which etcdutl prints sizes with: SI units, one decimal under 10. */
function humanBytes(bytes: number): string {
	if (bytes < 10) return `${bytes} B`;
	const units = ['B', 'kB', 'MB', 'GB', 'TB'];
	const e = Math.min(Math.floor(Math.log(bytes) / Math.log(1000)), units.length - 1);
	const value = Math.round((bytes / 1000 ** e) * 10) / 10;
	return `${value < 10 && e > 0 ? value.toFixed(1) : value.toFixed(0)} ${units[e]}`;
}
