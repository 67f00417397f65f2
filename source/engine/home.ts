// Where an engine keeps its state, and the lock that makes one engine own it.
//
// The lock says which process owns the directory by more than its pid: the
// kernel recycles pids, and an unrelated process that got the dead engine's
// pid once blocked every start and was sent SIGTERM by `kubedeck stop`. So
// engine.lock records the pid, the process's start time (/proc/PID/stat
// field 22) and this boot's id, which together name one process for good,
// and a random token the engine proves over its socket (identity.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {bootId, processRunning, processStartTime} from './processes.js';

/** KUBEDECK_HOME, else $XDG_STATE_HOME/kubedeck, else ~/.local/state/kubedeck. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KUBEDECK_HOME) return path.resolve(env.KUBEDECK_HOME);
	const base = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
	return path.join(base, 'kubedeck');
}

export const socketPath = (home: string) => path.join(home, 'engine.sock');
export const lockPath = (home: string) => path.join(home, 'engine.lock');
export const logPath = (home: string) => path.join(home, 'engine.log');

/** What engine.lock says about its owner. Locks written before the start time was recorded hold only a pid. */
export interface EngineLock {
	pid: number;
	/** /proc/PID/stat field 22; absent where /proc is not there. */
	startTime?: string;
	bootId?: string;
	/** Proven by the engine over its socket (identity.ts); absent in a lock that is not an engine's. */
	token?: string;
}

/** The lock file's content, whether or not its owner lives; undefined when there is none (or it is not a lock). */
export function readLock(home: string): EngineLock | undefined {
	let text: string;
	try {
		text = fs.readFileSync(lockPath(home), 'utf8').trim();
	} catch {
		return undefined;
	}
	if (/^\d+$/.test(text)) return {pid: Number(text)};
	try {
		const lock = JSON.parse(text) as EngineLock;
		return Number.isInteger(lock.pid) && lock.pid > 0 ? lock : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Is the process that wrote this lock still running? The same pid with
 * another start time (or in another boot) is a different process.
 */
export function lockIsHeld(lock: EngineLock): boolean {
	if (!processRunning(lock.pid)) return false;
	if (lock.startTime === undefined) return legacyOwnerLooksLikeEngine(lock.pid);
	const boot = bootId();
	if (lock.bootId && boot && lock.bootId !== boot) return false;
	return processStartTime(lock.pid) === lock.startTime;
}

/**
 * A lock of only a pid (an engine started before locks recorded more, or a
 * host without /proc): trust it only if the process is a `kubedeck serve`.
 * Any node process would do before, which is how a recycled pid passed.
 */
function legacyOwnerLooksLikeEngine(pid: number): boolean {
	let argv: string[];
	try {
		argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
	} catch {
		return true;
	}
	return argv.includes('serve') && argv.some(arg => /kubedeck|cli\.js$/.test(arg));
}

/** The lock, if the process that wrote it still runs. */
export function lockHolder(home: string): EngineLock | undefined {
	const lock = readLock(home);
	return lock && lockIsHeld(lock) ? lock : undefined;
}

/** The pid of the engine that holds the lock, if it still runs. */
export function lockOwner(home: string): number | undefined {
	return lockHolder(home)?.pid;
}

export class LockError extends Error {}

export interface HeldLock {
	/** What this process proves over its socket that it is the lock's owner. */
	token: string;
	release(): void;
}

/**
 * Take the state directory's lock for this process. A lock left by a dead
 * process (or naming a pid that now belongs to another process) is taken
 * over; a live owner is an error that names it.
 */
export function acquireLock(home: string): HeldLock {
	fs.mkdirSync(home, {recursive: true, mode: 0o700});
	const file = lockPath(home);
	const token = crypto.randomBytes(32).toString('hex');
	const mine: EngineLock = {pid: process.pid, startTime: processStartTime(process.pid), bootId: bootId(), token};
	const content = `${JSON.stringify(mine)}\n`;
	// Written whole under another name, then linked into place: link fails if the lock exists, and a
	// reader never sees a half-written lock (which it would take for stale, and remove).
	const tmp = `${file}.${process.pid}.tmp`;
	fs.writeFileSync(tmp, content, {mode: 0o600});
	try {
		for (let attempt = 0; attempt < 5; attempt++) {
			try {
				fs.linkSync(tmp, file);
				return {
					token,
					release: () => {
						try {
							if (fs.readFileSync(file, 'utf8') === content) fs.unlinkSync(file);
						} catch {}
					},
				};
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
				const seen = readText(file);
				const owner = lockHolder(home);
				if (owner !== undefined && owner.pid !== process.pid) {
					throw new LockError(`another kubedeck engine (pid ${owner.pid}) is running with state directory ${home}; stop it with "kubedeck stop"`);
				}
				// Stale: its owner is gone. Remove it, unless another taker replaced it meanwhile, and try again.
				try {
					if (readText(file) === seen) fs.unlinkSync(file);
				} catch {}
			}
		}
	} finally {
		fs.rmSync(tmp, {force: true});
	}
	throw new LockError(`could not take the lock ${file}`);
}

function readText(file: string): string | undefined {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}
}
