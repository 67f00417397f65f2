// Where an engine keeps its state, and the lock that makes one engine own it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** KUBEDECK_HOME, else $XDG_STATE_HOME/kubedeck, else ~/.local/state/kubedeck. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KUBEDECK_HOME) return path.resolve(env.KUBEDECK_HOME);
	const base = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
	return path.join(base, 'kubedeck');
}

export const socketPath = (home: string) => path.join(home, 'engine.sock');
export const lockPath = (home: string) => path.join(home, 'engine.lock');
export const logPath = (home: string) => path.join(home, 'engine.log');

/**
 * Is this pid a running process? A zombie (exited, not yet reaped: common
 * for a detached engine whose parent is gone, under a PID 1 that does not
 * reap) counts as gone.
 */
export function processRunning(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return true;
	}
}

function isAlive(pid: number): boolean {
	if (!processRunning(pid)) return false;
	// A recycled pid that is not a node process is not our engine.
	try {
		const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
		return cmdline.includes('node') || cmdline.includes('kubedeck');
	} catch {
		return true;
	}
}

/** The pid in the lock file if that process is alive. */
export function lockOwner(home: string): number | undefined {
	try {
		const pid = Number(fs.readFileSync(lockPath(home), 'utf8').trim());
		return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
	} catch {
		return undefined;
	}
}

export class LockError extends Error {}

/**
 * Take the state directory's lock for this process. A lock left by a dead
 * process is taken over; a live owner is an error that names it.
 */
export function acquireLock(home: string): () => void {
	fs.mkdirSync(home, {recursive: true, mode: 0o700});
	const file = lockPath(home);
	for (let attempt = 0; attempt < 5; attempt++) {
		try {
			fs.writeFileSync(file, `${process.pid}\n`, {flag: 'wx', mode: 0o600});
			return () => {
				try {
					if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
				} catch {}
			};
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			const owner = lockOwner(home);
			if (owner !== undefined && owner !== process.pid) {
				throw new LockError(`another kubedeck engine (pid ${owner}) is running with state directory ${home}; stop it with "kubedeck stop"`);
			}
			// Stale: its owner is gone. Remove it and try again (another taker may win the race).
			try {
				fs.unlinkSync(file);
			} catch {}
		}
	}
	throw new LockError(`could not take the lock ${file}`);
}
