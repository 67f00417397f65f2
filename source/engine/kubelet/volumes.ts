// A pod's volumes on the host, as the kubelet's volume plugins set them up:
// emptyDir (on disk, or in memory with medium: Memory), configMap and secret
// files (secrets in memory-backed storage, never on disk), hostPath, and
// bound PersistentVolumeClaims. Every path a manifest supplies is treated as
// hostile, again here although the API server has validated it (defence in
// depth, as the kubelet re-checks what the apiserver admitted):
// - items[].path must stay inside its volume;
// - subPath is resolved one component at a time and must stay inside its
//   volume after following symlinks (a container can plant a symlink in an
//   emptyDir for a sibling container to mount: CVE-2017-1002101);
// - hostPath (and a PV's path) may not reach kubedeck's own directories: the
//   state directory, the pods' data and memory roots, or any directory that
//   contains one of them.
// As root, files belong to root and the pod's own group (or its fsGroup), so
// the pod reads them and cannot change them: configMap and secret volumes are
// read-only for the pod even without bubblewrap.
import fs from 'node:fs';
import path from 'node:path';
import type {KubeObject} from '../../api/object.js';
import type {Store} from '../../store/store.js';
import {makeDir, type PodPaths, provisionedPath} from '../layout.js';
import {ContainerConfigError, configSource, expand, fieldRef} from './environment.js';
import type {SandboxMount} from './sandbox.js';

type Rec = Record<string, any>;

export interface Volume {
	dir: string;
	/** Mounted read-only whatever the volumeMount says (configMap, secret). */
	readOnly: boolean;
}

export interface VolumeContext {
	store: Store;
	pod: KubeObject;
	paths: PodPaths;
	/** The pod's own group (owner of its directories), when the engine can set ownership (root). */
	podGroup?: number;
	/** The pod's user (its runAsUser or its own id), when the engine can set ownership (root). */
	podOwner?: {uid: number};
	fsGroup?: number;
	/** kubedeck's own directories, which no hostPath may reach. */
	protectedPaths: string[];
	/** Where provisioned volumes live: a PV may name its own directory there, nothing else. */
	storageRoot: string;
	/** A token for the pod's ServiceAccount, bound to the pod (projected serviceAccountToken sources). */
	serviceAccountToken?: (pod: KubeObject, audience?: string, expirationSeconds?: number) => string | undefined;
	podIP?: string;
}

/** A projected token's life when its source names none (the API's default for serviceAccountToken). */
const defaultTokenSeconds = 3600;

const tokenSources = (pod: KubeObject) => (((pod.spec as Rec).volumes ?? []) as Rec[])
	.flatMap(v => ((v.projected?.sources ?? []) as Rec[]).filter(s => s.serviceAccountToken).map(s => ({volume: String(v.name), mode: v.projected.defaultMode ?? 0o644, source: s.serviceAccountToken as Rec})));

/**
 * When the kubelet writes a pod's projected tokens again, in seconds from now: as the kubelet's
 * token manager does, once a token is 80% through its requested life or a day old, whichever
 * comes first. Undefined when the pod mounts no token.
 */
export function tokenRefreshSeconds(pod: KubeObject): number | undefined {
	const lives = tokenSources(pod).map(t => Number(t.source.expirationSeconds ?? defaultTokenSeconds));
	return lives.length ? Math.min(...lives.map(seconds => Math.min(0.8 * seconds, 24 * 3600))) : undefined;
}

/**
 * Write the pod's projected tokens afresh, each file replaced whole (a new file renamed over the
 * old: a client reading the token never sees half of one), before the old ones expire.
 */
export function refreshTokens(ctx: VolumeContext, volumes: Map<string, Volume>): void {
	const owner = filesOwnerOf(ctx);
	for (const {volume, mode, source} of tokenSources(ctx.pod)) {
		const dir = volumes.get(volume)?.dir;
		if (!dir) continue;
		const token = ctx.serviceAccountToken?.(ctx.pod, source.audience, source.expirationSeconds);
		if (token === undefined) throw new ContainerConfigError(`cannot make a token for the pod's ServiceAccount (${(ctx.pod.spec as Rec).serviceAccountName ?? 'default'})`);
		checkRelative(String(source.path), 'serviceAccountToken path');
		const target = path.resolve(dir, String(source.path));
		if (!inside(target, dir)) throw new ContainerConfigError(`serviceAccountToken path "${source.path}" leaves its volume`);
		// The directory is the engine's (0750, nothing of the pod's may write in it): the temporary name cannot be planted.
		const fresh = path.join(path.dirname(target), `.${path.basename(target)}.new`);
		fs.writeFileSync(fresh, token, {mode});
		fs.chmodSync(fresh, mode);
		if (asRoot && owner) fs.chownSync(fresh, 0, owner.gid);
		fs.renameSync(fresh, target);
	}
}

/** Who owns the files the kubelet writes into a pod's volumes (root, the pod's group) when it can set ownership. */
function filesOwnerOf(ctx: VolumeContext): {uid: number; gid: number} | undefined {
	const group = ctx.fsGroup ?? ctx.podGroup;
	return group !== undefined ? {uid: 0, gid: group} : undefined;
}

const asRoot = process.getuid?.() === 0;

function inside(child: string, parent: string): boolean {
	const rel = path.relative(parent, child);
	return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A manifest-supplied relative path: no absolute path, no '..' component (validateLocalDescendingPath). */
function checkRelative(value: string, what: string): void {
	if (path.isAbsolute(value) || value.split('/').includes('..')) throw new ContainerConfigError(`${what} "${value}" must be a relative path without '..'`);
}

function writeItems(dir: string, data: Record<string, string>, items: Rec[] | undefined, mode: number, owner?: {uid: number; gid: number}): void {
	fs.rmSync(dir, {recursive: true, force: true});
	makeDir(dir, 0o750, owner);
	const entries = items?.length ? items.filter(i => i.key in data).map(i => [String(i.path), data[i.key], i.mode ?? mode] as const) : Object.entries(data).map(([k, v]) => [k, v, mode] as const);
	for (const [file, content, fileMode] of entries) {
		checkRelative(file, 'items path');
		const target = path.resolve(dir, file);
		if (!inside(target, dir) || target === dir) throw new ContainerConfigError(`items path "${file}" leaves its volume`);
		// The directory was just made by us and nothing else can write in it: no symlink can be planted here.
		for (let d = path.dirname(target); d !== dir && !fs.existsSync(d); d = path.dirname(d)) makeDir(d, 0o750, owner);
		fs.writeFileSync(target, content, {mode: fileMode});
		fs.chmodSync(target, fileMode);
		if (asRoot && owner) fs.chownSync(target, 0, owner.gid);
	}
}

/** Does `dir` (once resolved) reach one of kubedeck's directories: equal, inside, or containing one? */
function reachesProtected(dir: string, protectedPaths: string[]): string | undefined {
	let resolved: string;
	try {
		resolved = fs.realpathSync(dir);
	} catch {
		resolved = path.resolve(dir);
	}
	return protectedPaths.find(p => inside(resolved, p) || inside(p, resolved));
}

function hostDirectory(dir: string, what: string, ctx: VolumeContext): string {
	const hit = reachesProtected(dir, ctx.protectedPaths);
	if (hit) throw new ContainerConfigError(`${what} "${dir}" is not allowed: it reaches kubedeck's own directory ${hit}`);
	return dir;
}

/**
 * A provisioned volume handed to the pod that mounts it, as the kubelet's
 * fsGroup ownership change does (fsGroupChangePolicy OnRootMismatch): each
 * kubedeck pod has a uid of its own, so what an earlier pod of the claim
 * wrote (a StatefulSet pod's previous life) would otherwise belong to another
 * uid. Owner: the pod's user; group: its fsGroup or own group, which all its
 * containers have, group-writable and directories setgid. Symlinks are
 * re-owned, never followed; the root becomes 2770, so no other pod's uid can
 * enter it even where it is visible.
 */
function adoptVolume(dir: string, uid: number, gid: number): void {
	const root = fs.statSync(dir);
	if (root.uid === uid && root.gid === gid) return;
	const walk = (p: string) => {
		for (const entry of fs.readdirSync(p, {withFileTypes: true})) {
			const child = path.join(p, entry.name);
			fs.lchownSync(child, uid, gid);
			if (entry.isSymbolicLink()) continue;
			const mode = fs.lstatSync(child).mode & 0o7777;
			fs.chmodSync(child, entry.isDirectory() ? mode | 0o2070 : mode | 0o060);
			if (entry.isDirectory()) walk(child);
		}
	};
	walk(dir);
	fs.chownSync(dir, uid, gid);
	fs.chmodSync(dir, 0o2770);
}

/** Create or refresh each volume's directory; returns the host directory per volume name. */
export function prepareVolumes(ctx: VolumeContext): Map<string, Volume> {
	const {pod, paths, store} = ctx;
	const volumes = new Map<string, Volume>();
	const namespace = pod.metadata.namespace!;
	const group = ctx.fsGroup ?? ctx.podGroup;
	const rootOwned = ctx.podGroup !== undefined ? {uid: 0, gid: ctx.podGroup} : undefined;
	const filesOwner = filesOwnerOf(ctx);
	for (const v of ((pod.spec as Rec).volumes ?? []) as Rec[]) {
		if (v.emptyDir) {
			const memory = v.emptyDir.medium === 'Memory';
			if (memory) makeDir(paths.memory, 0o750, rootOwned);
			const dir = memory ? path.join(paths.memory, 'empty', v.name) : path.join(paths.volumes, v.name);
			makeDir(path.dirname(dir), 0o750, rootOwned);
			// World-writable as in Kubernetes (any of the pod's uids may write), inside a directory only the pod can enter.
			makeDir(dir, ctx.fsGroup !== undefined ? 0o2777 : 0o777, filesOwner);
			volumes.set(v.name, {dir, readOnly: false});
		} else if (v.configMap) {
			const data = configSource(store, 'configmaps', namespace, v.configMap.name, !!v.configMap.optional) ?? {};
			makeDir(paths.volumes, 0o750, rootOwned);
			const dir = path.join(paths.volumes, v.name);
			writeItems(dir, data, v.configMap.items, v.configMap.defaultMode ?? 0o644, filesOwner);
			volumes.set(v.name, {dir, readOnly: true});
		} else if (v.secret) {
			const data = configSource(store, 'secrets', namespace, v.secret.secretName, !!v.secret.optional) ?? {};
			makeDir(paths.memory, 0o750, rootOwned);
			makeDir(path.join(paths.memory, 'secrets'), 0o750, rootOwned);
			const dir = path.join(paths.memory, 'secrets', v.name);
			writeItems(dir, data, v.secret.items, v.secret.defaultMode ?? 0o644, filesOwner);
			volumes.set(v.name, {dir, readOnly: true});
		} else if (v.projected || v.downwardAPI) {
			// Projected (ServiceAccount token, configMap, secret and downwardAPI sources) and downwardAPI volumes hold
			// tokens and the pod's own fields: in memory, as secrets are, read-only for the pod.
			const data = v.projected ? projectedData(ctx, v.projected.sources ?? []) : downwardData(ctx, v.downwardAPI.items ?? []);
			makeDir(paths.memory, 0o750, rootOwned);
			makeDir(path.join(paths.memory, 'projected'), 0o750, rootOwned);
			const dir = path.join(paths.memory, 'projected', v.name);
			writeItems(dir, data, undefined, (v.projected ?? v.downwardAPI).defaultMode ?? 0o644, filesOwner);
			volumes.set(v.name, {dir, readOnly: true});
		} else if (v.hostPath) {
			const dir = hostDirectory(String(v.hostPath.path), 'hostPath', ctx);
			if (v.hostPath.type === 'DirectoryOrCreate') fs.mkdirSync(dir, {recursive: true});
			if (!fs.existsSync(dir) && v.hostPath.type && v.hostPath.type !== 'FileOrCreate') throw new ContainerConfigError(`hostPath type check failed: ${dir} does not exist`);
			volumes.set(v.name, {dir, readOnly: false});
		} else if (v.persistentVolumeClaim) {
			const claim = store.get('persistentvolumeclaims', namespace, v.persistentVolumeClaim.claimName);
			if (!claim) throw new ContainerConfigError(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" not found`);
			const volumeName = (claim.spec as Rec).volumeName;
			const pv = volumeName ? store.get('persistentvolumes', '', volumeName) : undefined;
			const pvSpec = (pv?.spec ?? {}) as Rec;
			const hostDir = pvSpec.hostPath?.path ?? pvSpec.local?.path;
			if (!hostDir || pvSpec.claimRef?.uid !== claim.metadata.uid) throw new ContainerConfigError(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" is not bound`);
			// A provisioned volume's own directory is the one place under kubedeck's tree a volume may be.
			const provisioned = path.resolve(String(hostDir)) === provisionedPath(ctx.storageRoot, volumeName) && fs.existsSync(hostDir);
			const dir = provisioned ? path.resolve(String(hostDir)) : hostDirectory(String(hostDir), `persistentvolume "${volumeName}" path`, ctx);
			fs.mkdirSync(dir, {recursive: true});
			// ReadOnlyMany alone is mounted read-only, as a claim marked readOnly is.
			const modes: string[] = pvSpec.accessModes ?? [];
			const readOnly = !!v.persistentVolumeClaim.readOnly || (modes.length > 0 && modes.every(m => m === 'ReadOnlyMany'));
			// Static volumes are the user's directories and keep their owners, as hostPath does in Kubernetes.
			if (provisioned && !readOnly && ctx.podOwner && group !== undefined) adoptVolume(dir, ctx.podOwner.uid, group);
			volumes.set(v.name, {dir, readOnly});
		}
	}
	return volumes;
}

/** A downwardAPI volume's files: fieldRef values (and resourceFieldRef, from the first container's limits). */
function downwardData(ctx: VolumeContext, items: Rec[]): Record<string, string> {
	const data: Record<string, string> = {};
	for (const item of items) {
		if (item.fieldRef) data[item.path] = fieldRef(ctx.pod, item.fieldRef.fieldPath, ctx.podIP ?? '');
		else if (item.resourceFieldRef) {
			const containers = ((ctx.pod.spec as Rec).containers ?? []) as Rec[];
			const c = containers.find(x => x.name === item.resourceFieldRef.containerName) ?? containers[0];
			const [kind, resource] = String(item.resourceFieldRef.resource).split('.');
			data[item.path] = String(c?.resources?.[kind]?.[resource] ?? '0');
		}
	}
	return data;
}

/** The files of a projected volume, source by source; an item's mode is kept per file by writeItems' caller. */
function projectedData(ctx: VolumeContext, sources: Rec[]): Record<string, string> {
	const data: Record<string, string> = {};
	const namespace = ctx.pod.metadata.namespace!;
	const pick = (source: Record<string, string>, items: Rec[] | undefined) => {
		if (!items?.length) Object.assign(data, source);
		else for (const i of items) if (i.key in source) data[i.path] = source[i.key];
	};
	for (const s of sources) {
		if (s.serviceAccountToken) {
			const token = ctx.serviceAccountToken?.(ctx.pod, s.serviceAccountToken.audience, s.serviceAccountToken.expirationSeconds);
			if (token === undefined) throw new ContainerConfigError(`cannot make a token for the pod's ServiceAccount (${(ctx.pod.spec as Rec).serviceAccountName ?? 'default'})`);
			data[s.serviceAccountToken.path] = token;
		} else if (s.configMap) {
			pick(configSource(ctx.store, 'configmaps', namespace, s.configMap.name, !!s.configMap.optional) ?? {}, s.configMap.items);
		} else if (s.secret) {
			pick(configSource(ctx.store, 'secrets', namespace, s.secret.name, !!s.secret.optional) ?? {}, s.secret.items);
		} else if (s.downwardAPI) {
			Object.assign(data, downwardData(ctx, s.downwardAPI.items ?? []));
		}
	}
	return data;
}

/**
 * The host path of `subPath` inside a volume, resolved one component at a
 * time: a symlink is followed only if it stays inside the volume, and a
 * missing component is created (as the kubelet creates a missing subPath).
 */
export function resolveSubPath(volumeDir: string, subPath: string): string {
	checkRelative(subPath, 'subPath');
	const root = fs.realpathSync(volumeDir);
	let current = root;
	for (const part of subPath.split('/').filter(p => p && p !== '.')) {
		const next = path.join(current, part);
		let stat: fs.Stats | undefined;
		try {
			stat = fs.lstatSync(next);
		} catch {}
		if (!stat) {
			fs.mkdirSync(next, {mode: 0o777});
			current = next;
		} else if (stat.isSymbolicLink()) {
			const target = fs.realpathSync(next);
			if (!inside(target, root)) throw new ContainerConfigError(`subPath "${subPath}" leaves its volume (through the symlink ${part})`);
			current = target;
		} else {
			current = next;
		}
	}
	return current;
}

/**
 * The mounts of one container, from its volumeMounts and the pod's volumes;
 * subPaths resolved safely, subPathExpr expanded with the container's env
 * ($(POD_NAME) and the like) first, as the kubelet does.
 */
export function containerMounts(container: Rec, volumes: Map<string, Volume>, env: Record<string, string> = {}): SandboxMount[] {
	const mounts: SandboxMount[] = [];
	for (const m of (container.volumeMounts ?? []) as Rec[]) {
		const volume = volumes.get(m.name);
		if (!volume) continue;
		const sub = m.subPath ? String(m.subPath) : m.subPathExpr ? expand(String(m.subPathExpr), env) : '';
		const source = sub ? resolveSubPath(volume.dir, sub) : volume.dir;
		mounts.push({source, target: String(m.mountPath), readOnly: !!m.readOnly || volume.readOnly});
	}
	return mounts;
}
