// CPU and memory of containers, read from /proc. A container is a process
// group (its leader and everything it started), so usage is summed over the
// group; pidusage and similar libraries measure single pids, which would miss
// a shell's children, hence our own reader.
import fs from 'node:fs';
import os from 'node:os';

const ticksPerSecond = 100; // USER_HZ on Linux
const pageSize = 4096;

export interface GroupUsage {
	/** Total CPU time used so far, in seconds. */
	cpuSeconds: number;
	/** Resident memory, bytes. */
	rssBytes: number;
}

/** Usage of every process group among `groups`, in one pass over /proc. */
export function readGroupUsage(groups: Set<number>): Map<number, GroupUsage> {
	const out = new Map<number, GroupUsage>();
	if (groups.size === 0) return out;
	let entries: string[];
	try {
		entries = fs.readdirSync('/proc');
	} catch {
		return out;
	}
	for (const entry of entries) {
		if (!/^\d+$/.test(entry)) continue;
		let stat: string;
		try {
			stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
		} catch {
			continue;
		}
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		// fields[0] is state (field 3); pgrp is field 5, utime 14, stime 15, rss 24.
		const pgrp = Number(fields[2]);
		if (!groups.has(pgrp)) continue;
		const usage = out.get(pgrp) ?? {cpuSeconds: 0, rssBytes: 0};
		usage.cpuSeconds += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
		usage.rssBytes += Number(fields[21]) * pageSize;
		out.set(pgrp, usage);
	}
	return out;
}

/** Host CPU and memory in use, for NodeMetrics. */
export function hostUsage(): {cpuSeconds: number; memoryBytes: number} {
	const cpuSeconds = os.cpus().reduce((n, c) => n + (c.times.user + c.times.nice + c.times.sys + c.times.irq) / 1000, 0);
	return {cpuSeconds, memoryBytes: os.totalmem() - os.freemem()};
}
