// What /proc says about a process: shared by the engine's lock (is the pid in
// engine.lock still the engine that wrote it?) and the kubelet's process
// ledger (is this pid still the container we started?). A pid alone cannot
// say: the kernel recycles pids, so both record the start time beside it.
import fs from 'node:fs';

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

/**
 * The process's start time from /proc/PID/stat (field 22, clock ticks since
 * boot), to tell a recycled pid from ours. The fields are counted after the
 * last ')', since the command name (field 2) may itself hold spaces and ')'.
 */
export function processStartTime(pid: number): string | undefined {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
	} catch {
		return undefined;
	}
}

/** This boot's id: a start time counts ticks since boot, so it means something only within one boot. */
export function bootId(): string | undefined {
	try {
		return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
	} catch {
		return undefined;
	}
}
