// Control groups for containers, where the engine may create them (as root,
// with cgroupfs mounted writable): every container gets one, so its whole
// process tree can be listed, signalled and killed (a process cannot leave
// its cgroup without write access to another), and its memory limit is the
// kernel's (OOMKilled from the kernel's OOM killer, as the kubelet reports
// it). Three layouts are met in practice, and each is handled:
// - cgroup v2 alone (/sys/fs/cgroup is cgroup2): one tree for both;
// - hybrid (v1 controllers plus v2 at /sys/fs/cgroup/unified): the v2 tree
//   contains and kills (cgroup.kill), the v1 memory controller limits;
// - v1 alone: the freezer contains (freeze, kill every member, thaw), the
//   memory controller limits.
// Layout in each tree: kubedeck-<state id>/pod-<uid>-<container>. A
// container enters its cgroups itself, first thing (launch.ts: a shell
// writes its own pid, then execs), so it is inside before any of its own
// code runs and no fork can escape in between.
// node has no cgroup library worth the name (the npm packages wrap cgexec or
// are abandoned), and the interface is files, hence this small module.
import fs from 'node:fs';
import path from 'node:path';

/** One container's cgroups: plain data, so the shim can be handed it over IPC. */
export interface CgroupSet {
	/** Where the container is contained (and killed). */
	containment: string;
	containmentVersion: 1 | 2;
	/** Where its memory is limited, when a memory controller is available. */
	memory?: string;
	memoryVersion?: 1 | 2;
	/** Bytes. */
	memoryLimit?: number;
}

/** Make a container's cgroups and set its memory limit (off the event loop: cgroupfs mkdirs contend with forks). */
export async function createSet(set: CgroupSet): Promise<void> {
	await fs.promises.mkdir(set.containment, {recursive: true});
	if (!set.memory || set.memoryLimit === undefined) return;
	if (set.memory !== set.containment) await fs.promises.mkdir(set.memory, {recursive: true});
	const limit = String(set.memoryLimit);
	const write = (file: string, value: string) => fs.promises.writeFile(path.join(set.memory!, file), value);
	if (set.memoryVersion === 2) {
		await write('memory.max', limit);
		if (fs.existsSync(path.join(set.memory, 'memory.swap.max'))) await write('memory.swap.max', '0');
	} else {
		await write('memory.limit_in_bytes', limit);
		// memory+swap too, or the limit only pushes the container into swap.
		if (fs.existsSync(path.join(set.memory, 'memory.memsw.limit_in_bytes'))) await write('memory.memsw.limit_in_bytes', limit);
	}
}

interface Mount {
	path: string;
	version: 1 | 2;
	controllers: Set<string>;
}

function readMounts(): Mount[] {
	let text: string;
	try {
		text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
	} catch {
		return [];
	}
	const mounts: Mount[] = [];
	for (const line of text.split('\n')) {
		// "36 31 0:33 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory"
		const [left, right] = line.split(' - ');
		if (!right) continue;
		const fields = left.split(' ');
		const [fstype, , options] = right.split(' ');
		if (fields[3] !== '/') continue; // a bind of a subtree (inside a container): not the hierarchy's root
		if (fstype === 'cgroup2') {
			const controllers = new Set(readText(path.join(fields[4], 'cgroup.controllers')).split(/\s+/).filter(Boolean));
			mounts.push({path: fields[4], version: 2, controllers});
		} else if (fstype === 'cgroup') {
			mounts.push({path: fields[4], version: 1, controllers: new Set(options.split(','))});
		}
	}
	return mounts;
}

function readText(file: string): string {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch {
		return '';
	}
}

function write(file: string, value: string): void {
	fs.writeFileSync(file, value);
}

const pause = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
	Atomics.wait(pause, 0, 0, ms);
}

export class Cgroups {
	private constructor(
		private readonly containmentRoot: string,
		private readonly containmentVersion: 1 | 2,
		private readonly memoryRoot: string | undefined,
		private readonly memoryVersion: 1 | 2 | undefined,
	) {}

	/**
	 * The cgroups this process may use for the state directory `id`, or
	 * undefined where it may not (not root, cgroupfs read-only or absent).
	 */
	static detect(id: string, mounts: Mount[] = readMounts()): Cgroups | undefined {
		if (process.env.KUBEDECK_NO_CGROUPS) return undefined;
		const v2 = mounts.find(m => m.version === 2);
		const freezer = mounts.find(m => m.version === 1 && m.controllers.has('freezer'));
		const v1memory = mounts.find(m => m.version === 1 && m.controllers.has('memory'));
		const name = `kubedeck-${id}`;
		let containment: Mount | undefined;
		// cgroup.kill (kernel 5.14+) and cgroup.freeze exist in every v2 cgroup but the root: look in ours.
		if (v2 && tryMkdir(path.join(v2.path, name)) && ['cgroup.kill', 'cgroup.freeze'].some(f => fs.existsSync(path.join(v2.path, name, f)))) containment = v2;
		else if (freezer && tryMkdir(path.join(freezer.path, name))) containment = freezer;
		if (!containment) return undefined;
		let memory = v2?.controllers.has('memory') ? v2 : v1memory;
		if (memory && memory !== containment && !tryMkdir(path.join(memory.path, name))) memory = undefined;
		if (memory?.version === 2) enableMemory(memory.path, name);
		return new Cgroups(path.join(containment.path, name), containment.version, memory && path.join(memory.path, name), memory?.version);
	}

	/** Kill and remove every cgroup of a state directory (one that is gone, or discarded). */
	static removeState(id: string, mounts: Mount[] = readMounts()): void {
		for (const m of mounts) {
			const dir = path.join(m.path, `kubedeck-${id}`);
			if (fs.existsSync(dir)) removeTree(dir, m.version);
		}
	}

	/**
	 * A container's cgroups (one flat directory per container in each tree:
	 * pod-<uid>-<name>), with its memory limit in bytes. Only named here:
	 * createSet makes them, in the shim, off the engine's event loop (every
	 * mkdir in cgroupfs contends with the forks and migrations of every other
	 * pod start). A memory cgroup only when there is a limit to enforce.
	 */
	container(podUid: string, container: string, memoryLimit?: number): CgroupSet {
		const name = `pod-${podUid}-${container}`;
		const set: CgroupSet = {containment: path.join(this.containmentRoot, name), containmentVersion: this.containmentVersion};
		if (memoryLimit === undefined || !this.memoryRoot) return set;
		return {...set, memory: path.join(this.memoryRoot, name), memoryVersion: this.memoryVersion, memoryLimit: Math.max(1, Math.floor(memoryLimit))};
	}

	/** Kill and remove a pod's cgroups (after its containers are gone). */
	removePod(podUid: string): void {
		const prefix = `pod-${podUid}-`;
		for (const root of this.roots()) {
			for (const entry of safeList(root)) if (entry.startsWith(prefix)) removeTree(path.join(root, entry), root === this.containmentRoot ? this.containmentVersion : this.memoryVersion ?? 1);
		}
	}

	/**
	 * Kill everything an earlier engine of this state directory left in its
	 * cgroups, and remove them: the sweep at start. Returns how many cgroups
	 * still had processes.
	 */
	sweep(): number {
		let populated = 0;
		for (const entry of safeList(this.containmentRoot)) {
			const dir = path.join(this.containmentRoot, entry);
			if (!fs.statSync(dir).isDirectory()) continue;
			populated += removeTree(dir, this.containmentVersion);
		}
		if (this.memoryRoot && this.memoryRoot !== this.containmentRoot) {
			for (const entry of safeList(this.memoryRoot)) {
				const dir = path.join(this.memoryRoot, entry);
				if (fs.statSync(dir).isDirectory()) removeTree(dir, this.memoryVersion ?? 1);
			}
		}
		return populated;
	}

	/** Remove the state directory's own cgroup where it is empty (engine stop). */
	release(): void {
		for (const root of this.roots()) {
			try {
				fs.rmdirSync(root);
			} catch {}
		}
	}

	private roots(): string[] {
		return [this.containmentRoot, ...(this.memoryRoot && this.memoryRoot !== this.containmentRoot ? [this.memoryRoot] : [])];
	}
}

function tryMkdir(dir: string): boolean {
	try {
		fs.mkdirSync(dir, {recursive: true});
		return true;
	} catch {
		return false;
	}
}

function enableMemory(v2root: string, child: string): void {
	for (const dir of [v2root, path.join(v2root, child)]) {
		const file = path.join(dir, 'cgroup.subtree_control');
		if (!readText(file).split(/\s+/).includes('memory')) {
			try {
				write(file, '+memory');
			} catch {}
		}
	}
}

function safeList(dir: string): string[] {
	try {
		return fs.readdirSync(dir);
	} catch {
		return [];
	}
}

/** The files to write a pid into to move it into the set (one per tree). */
export function procsFiles(set: CgroupSet): string[] {
	const files = [path.join(set.containment, 'cgroup.procs')];
	if (set.memory && set.memory !== set.containment) files.push(path.join(set.memory, 'cgroup.procs'));
	return files;
}

/** Move process `pid` into the set. */
export function join(set: CgroupSet, pid: number | string = process.pid): void {
	for (const file of procsFiles(set)) write(file, String(pid));
}

/** Every process in the container's cgroup. */
export function members(dir: string): number[] {
	return readText(path.join(dir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
}

export function cgroupPids(set: CgroupSet): number[] {
	return members(set.containment);
}

/**
 * SIGKILL every process in the cgroup, atomically with respect to forks:
 * cgroup.kill on v2 (kernel 5.14+), else freeze, kill every member, thaw.
 */
export function killCgroup(dir: string, version: 1 | 2): void {
	if (version === 2 && fs.existsSync(path.join(dir, 'cgroup.kill'))) {
		try {
			write(path.join(dir, 'cgroup.kill'), '1');
		} catch {}
		return;
	}
	const freezeFile = version === 2 ? path.join(dir, 'cgroup.freeze') : path.join(dir, 'freezer.state');
	const frozen = version === 2 ? '1' : 'FROZEN';
	try {
		write(freezeFile, frozen);
		// v1 freezing is asynchronous: FREEZING until every task has stopped.
		for (let i = 0; i < 100 && version === 1 && readText(freezeFile).trim() !== 'FROZEN'; i++) sleepMs(2);
	} catch {}
	for (const pid of members(dir)) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {}
	}
	try {
		write(freezeFile, version === 2 ? '0' : 'THAWED');
	} catch {}
}

export function killSet(set: CgroupSet): void {
	killCgroup(set.containment, set.containmentVersion);
}

/** Did the kernel's OOM killer kill a process of this container? */
export function oomKilled(set: CgroupSet): boolean {
	if (!set.memory) return false;
	const file = set.memoryVersion === 2 ? path.join(set.memory, 'memory.events') : path.join(set.memory, 'memory.oom_control');
	const match = readText(file).match(/^oom_kill (\d+)$/m);
	return !!match && Number(match[1]) > 0;
}

/**
 * One attempt at removing a container's cgroups, without waiting: false
 * while the kernel is still reaping its killed members (try again later).
 */
export function tryRemoveSet(set: CgroupSet): boolean {
	let done = true;
	for (const dir of [set.containment, ...(set.memory && set.memory !== set.containment ? [set.memory] : [])]) {
		try {
			fs.rmdirSync(dir);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') done = false;
		}
	}
	return done;
}

/** Kill what is left in the set and remove its directories. */
export function removeSet(set: CgroupSet): void {
	removeTree(set.containment, set.containmentVersion);
	if (set.memory && set.memory !== set.containment) removeTree(set.memory, set.memoryVersion ?? 1);
}

/**
 * Kill and remove a cgroup and its children, deepest first. rmdir fails
 * while the kernel is still reaping killed members, so it is retried for a
 * short while. Returns how many of the cgroups had members.
 */
function removeTree(dir: string, version: 1 | 2): number {
	if (!fs.existsSync(dir)) return 0;
	let populated = 0;
	for (const entry of safeList(dir)) {
		const child = path.join(dir, entry);
		try {
			if (fs.statSync(child).isDirectory()) populated += removeTree(child, version);
		} catch {}
	}
	if (members(dir).length > 0) {
		populated++;
		killCgroup(dir, version);
	}
	for (let attempt = 0; attempt < 50; attempt++) {
		try {
			fs.rmdirSync(dir);
			break;
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code === 'ENOENT') break;
			if (code !== 'EBUSY' || attempt === 49) break;
			sleepMs(10);
		}
	}
	return populated;
}
