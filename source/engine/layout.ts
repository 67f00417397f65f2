// Where a state directory's pods keep what their processes may reach. The
// state directory itself (state.db, secrets.key, engine.sock, the logs) is
// 0700 and its owner's alone; a pod's working directory and volumes must be
// reachable by the pod's own uid, so they live in a tree of their own:
//
//   <data root>/pods/<pod uid>/work          working directory and HOME
//   <data root>/pods/<pod uid>/volumes/NAME  emptyDir, configMap volumes
//   <data root>/pods/<pod uid>/tmp/NAME      a container's /tmp (under bubblewrap)
//   <memory root>/<pod uid>/secrets/NAME     Secret volumes, in memory (/dev/shm)
//   <memory root>/<pod uid>/empty/NAME       emptyDir with medium: Memory
//
// As root (pods run as their own uids) the data root is
// /var/lib/kubedeck/<id>, as the kubelet's is /var/lib/kubelet: a path every
// uid can traverse (a state directory under /root could never be). Otherwise
// it is <state>/pod-data, since pods then run as the engine's own user. <id>
// is a hash of the state directory's path, so engines of different state
// directories never share a tree; each root holds a file naming its state
// directory, so an engine can sweep the roots of state directories that are
// gone. KUBEDECK_POD_DATA overrides the data root.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {Cgroups} from './kubelet/cgroups.js';

export const runningAsRoot = process.getuid?.() === 0;

/** A short, stable id of a state directory (its path's hash). */
export function stateId(home: string): string {
	return crypto.createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 12);
}

const dataBase = '/var/lib/kubedeck';

export function podDataRoot(home: string, env: NodeJS.ProcessEnv = process.env): string {
	if (env.KUBEDECK_POD_DATA) return path.join(path.resolve(env.KUBEDECK_POD_DATA), stateId(home));
	return runningAsRoot ? path.join(dataBase, stateId(home)) : path.join(path.resolve(home), 'pod-data');
}

/** Where local-path volumes are provisioned: <data root>/storage (as k3s keeps /var/lib/rancher/k3s/storage). */
export const storageRoot = (dataRoot: string) => path.join(dataRoot, 'storage');

/** The directory a provisioned volume gets: the only path under kubedeck's own tree a PV may name. */
export const provisionedPath = (root: string, pvName: string) => path.join(root, pvName);

/** Memory-backed storage: /dev/shm, else the user's runtime directory, else /tmp. */
function memoryBase(env: NodeJS.ProcessEnv): string {
	if (fs.existsSync('/dev/shm')) return '/dev/shm';
	return env.XDG_RUNTIME_DIR ?? '/tmp';
}

export function memoryRoot(home: string, env: NodeJS.ProcessEnv = process.env): string {
	return path.join(memoryBase(env), `kubedeck-${stateId(home)}`);
}

export interface DirSpec {
	path: string;
	mode: number;
	/** Owner, applied as root only. */
	owner?: {uid: number; gid: number};
	/** Emptied first (a container's /tmp, new for each instance). */
	fresh?: boolean;
}

/** mkdir -p with a mode and, as root, an owner (applied to the last component only). */
export function makeDir(dir: string, mode: number, owner?: {uid: number; gid: number}): void {
	fs.mkdirSync(dir, {recursive: true, mode});
	fs.chmodSync(dir, mode);
	if (runningAsRoot && owner) fs.chownSync(dir, owner.uid, owner.gid);
}

/**
 * makeDir for each, in order, off the event loop: on a disk busy with the
 * state file's fsyncs a mkdir waits milliseconds for the journal, and many
 * pods starting at once should wait in parallel, not in turn.
 */
export async function makeDirs(dirs: DirSpec[]): Promise<void> {
	for (const d of dirs) {
		if (d.fresh) await fs.promises.rm(d.path, {recursive: true, force: true});
		await fs.promises.mkdir(d.path, {recursive: true, mode: d.mode});
		await fs.promises.chmod(d.path, d.mode);
		if (runningAsRoot && d.owner) await fs.promises.chown(d.path, d.owner.uid, d.owner.gid);
	}
}

export interface PodPaths {
	/** The pod's directory in the data root. */
	dir: string;
	work: string;
	volumes: string;
	tmp: string;
	/** The pod's directory in the memory root. */
	memory: string;
}

export function podPaths(home: string, podUid: string): PodPaths {
	const dir = path.join(podDataRoot(home), 'pods', podUid);
	return {dir, work: path.join(dir, 'work'), volumes: path.join(dir, 'volumes'), tmp: path.join(dir, 'tmp'), memory: path.join(memoryRoot(home), podUid)};
}

const ownerFile = 'state-directory';

/** Create a root (data or memory) for `home`: traversable, not listable, and marked with its owner. */
export function ensureRoot(root: string, home: string): void {
	fs.mkdirSync(root, {recursive: true, mode: 0o711});
	fs.chmodSync(root, 0o711);
	const marker = path.join(root, ownerFile);
	if (!fs.existsSync(marker)) fs.writeFileSync(marker, `${path.resolve(home)}\n`, {mode: 0o600});
}

/**
 * Remove the data and memory roots whose state directory no longer exists
 * (a state directory removed while its engine was stopped). Returns the
 * roots removed.
 */
export function sweepOrphanRoots(env: NodeJS.ProcessEnv = process.env): string[] {
	const removed: string[] = [];
	const candidates: string[] = [];
	const base = env.KUBEDECK_POD_DATA ? path.resolve(env.KUBEDECK_POD_DATA) : runningAsRoot ? dataBase : undefined;
	if (base) for (const entry of safeList(base)) candidates.push(path.join(base, entry));
	const memory = memoryBase(env);
	for (const entry of safeList(memory)) if (entry.startsWith('kubedeck-')) candidates.push(path.join(memory, entry));
	for (const root of candidates) {
		let owner: string;
		try {
			owner = fs.readFileSync(path.join(root, ownerFile), 'utf8').trim();
		} catch {
			continue; // not ours, or being created
		}
		if (owner && !fs.existsSync(owner)) {
			fs.rmSync(root, {recursive: true, force: true});
			if (runningAsRoot) Cgroups.removeState(stateId(owner));
			removed.push(root);
		}
	}
	return removed;
}

/** Remove both roots and the cgroups of a state directory whose engine is stopped (tests, a discarded state directory). */
export function removeRoots(home: string, env: NodeJS.ProcessEnv = process.env): void {
	fs.rmSync(podDataRoot(home, env), {recursive: true, force: true});
	fs.rmSync(memoryRoot(home, env), {recursive: true, force: true});
	if (runningAsRoot) Cgroups.removeState(stateId(home));
}

function safeList(dir: string): string[] {
	try {
		return fs.readdirSync(dir);
	} catch {
		return [];
	}
}

/**
 * Remove the directories of pods that no longer exist (deleted while no
 * engine ran, or gone with a restored snapshot): their data, their
 * in-memory files and their logs. Returns how many pods' directories went.
 */
export function sweepPodDirectories(home: string, livePodUids: Set<string>): number {
	const gone = new Set<string>();
	const dataPods = path.join(podDataRoot(home), 'pods');
	for (const uid of safeList(dataPods)) {
		if (livePodUids.has(uid)) continue;
		fs.rmSync(path.join(dataPods, uid), {recursive: true, force: true});
		gone.add(uid);
	}
	const memory = memoryRoot(home);
	for (const uid of safeList(memory)) {
		if (uid === ownerFile || livePodUids.has(uid)) continue;
		fs.rmSync(path.join(memory, uid), {recursive: true, force: true});
		gone.add(uid);
	}
	const logs = path.join(home, 'pods');
	for (const entry of safeList(logs)) {
		const uid = entry.slice(entry.lastIndexOf('_') + 1);
		if (livePodUids.has(uid)) continue;
		fs.rmSync(path.join(logs, entry), {recursive: true, force: true});
		gone.add(uid);
	}
	return gone.size;
}
