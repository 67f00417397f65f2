// A container's view of the host under bubblewrap: its own mount, PID, IPC
// and UTS namespaces, on bwrap's empty tmpfs root holding only
// - the host's system directories (/usr, /bin, /lib*, /sbin, /etc, /opt), read-only;
// - the programs the engine runs for it (node and kubedeck's images/), read-only;
// - its own /proc (its PID namespace: it sees only its pod's processes), a
//   minimal /dev, /sys read-only;
// - its pod's working directory, its own /tmp, and its volumes at their mountPath.
// The state directory, the engine's socket and key, /var/lib/kubedeck, /dev/shm,
// /home, /root and every other pod's files are simply not there. A mount
// point missing on the host (/data, /etc/config) is created in the tmpfs,
// never on the host: where it lies inside a system directory that lacks it,
// that directory is rebuilt one level deeper (a tmpfs dir with read-only
// binds of its entries).
//
// With --unshare-pid the container's processes die with it: when its main
// process exits, bwrap's init (PID 1 of the namespace) exits and the kernel
// kills whatever is left, setsid or not; --die-with-parent does the same
// when the shim goes. As root, bwrap mounts with root's rights (so it can
// bind what only root may traverse) and hands the program to setpriv, which
// drops to the container's uid, groups and no capabilities; as an ordinary
// user it runs in a user namespace of that user.
import fs from 'node:fs';
import path from 'node:path';
import {type ContainerIdentity, dropPrivileges} from './identity.js';

export interface SandboxMount {
	source: string;
	target: string;
	readOnly: boolean;
}

export interface SandboxSpec {
	argv: string[];
	identity: ContainerIdentity;
	mounts: SandboxMount[];
	/** The pod's working directory (bound at the same path, the container's cwd and HOME). */
	work: string;
	/** The container's own /tmp. */
	tmp: string;
	hostname: string;
	/** Host paths (that exist) the program needs outside the system directories, bound read-only at the same path. */
	readOnlyPaths: string[];
}

export const systemDirs = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt'];

function underSystemDir(p: string): string | undefined {
	return systemDirs.find(d => p === d || p.startsWith(`${d}/`));
}

/** Bind a system directory read-only, rebuilding it where a mount target inside it is missing on the host. */
function bindSystemDir(hostDir: string, targets: string[], args: string[]): void {
	const missingInside = (dir: string) => targets.some(t => t.startsWith(`${dir}/`) && !fs.existsSync(t));
	if (targets.length === 0) {
		args.push('--ro-bind', hostDir, hostDir);
		return;
	}
	if (!missingInside(hostDir)) {
		args.push('--ro-bind', hostDir, hostDir);
		return;
	}
	args.push('--dir', hostDir);
	for (const entry of fs.readdirSync(hostDir, {withFileTypes: true})) {
		const full = path.join(hostDir, entry.name);
		if (entry.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(full), full);
		else if (entry.isDirectory() && missingInside(full)) bindSystemDir(full, targets, args);
		else args.push('--ro-bind', full, full);
	}
}

/** A target inside a system directory with its existing part resolved through host symlinks (/lib/x -> /usr/lib/x). */
function resolveTarget(target: string): string {
	const resolved = path.resolve(target);
	if (!underSystemDir(resolved)) return resolved;
	let existing = resolved;
	const rest: string[] = [];
	while (!fs.existsSync(existing)) {
		rest.unshift(path.basename(existing));
		existing = path.dirname(existing);
	}
	return path.join(fs.realpathSync(existing), ...rest);
}

/**
 * Which system directories the host has, and which are symlinks (/bin ->
 * usr/bin on merged-/usr hosts): read once a minute, not for every
 * container (nine lstats per pod start showed in the pod-start benchmark).
 */
let layout: {at: number; dirs: {dir: string; link?: string}[]} | undefined;
function systemLayout(): {dir: string; link?: string}[] {
	if (layout && Date.now() - layout.at < 60_000) return layout.dirs;
	const dirs: {dir: string; link?: string}[] = [];
	for (const dir of systemDirs) {
		try {
			const stat = fs.lstatSync(dir);
			dirs.push(stat.isSymbolicLink() ? {dir, link: fs.readlinkSync(dir)} : {dir});
		} catch {}
	}
	layout = {at: Date.now(), dirs};
	return dirs;
}

/**
 * --dir for each ancestor of `target` not made yet: bwrap would create them
 * itself, but 0700 when it runs as root, which the container's uid could not
 * traverse. (Ancestors inside system directories exist, or were rebuilt.)
 */
function parents(target: string, made: Set<string>, args: string[]): void {
	const ancestors: string[] = [];
	for (let dir = path.dirname(target); dir !== '/'; dir = path.dirname(dir)) ancestors.unshift(dir);
	for (const dir of ancestors) {
		if (made.has(dir) || underSystemDir(dir) || dir === '/proc' || dir === '/dev' || dir === '/sys') continue;
		made.add(dir);
		args.push('--dir', dir);
	}
}

/** The bwrap command line that runs spec.argv inside the container's sandbox. */
export function sandboxArgv(spec: SandboxSpec): string[] {
	const {identity} = spec;
	const mounts = spec.mounts.map(m => ({...m, target: resolveTarget(m.target)})).sort((a, b) => a.target.length - b.target.length);
	const targets = mounts.map(m => m.target);
	const args = ['bwrap', '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--hostname', spec.hostname.slice(0, 63)];
	for (const {dir, link} of systemLayout()) {
		if (link !== undefined) args.push('--symlink', link, dir);
		else bindSystemDir(dir, targets, args);
	}
	const made = new Set<string>();
	for (const extra of spec.readOnlyPaths) {
		if (underSystemDir(extra)) continue;
		parents(extra, made, args);
		args.push('--ro-bind', extra, extra);
	}
	args.push('--proc', '/proc', '--dev', '/dev', '--ro-bind-try', '/sys', '/sys', '--dir', '/run', '--dir', '/var');
	made.add('/run').add('/var');
	const ro = identity.readOnlyRootFilesystem;
	if (ro) args.push('--dir', '/tmp');
	else args.push('--bind', spec.tmp, '/tmp');
	if (!targets.some(t => t === '/var/tmp' || t.startsWith('/var/tmp/'))) args.push('--symlink', '/tmp', '/var/tmp');
	if (!targets.some(t => t === '/var/run' || t.startsWith('/var/run/'))) args.push('--symlink', '../run', '/var/run');
	parents(spec.work, made, args);
	args.push(ro ? '--ro-bind' : '--bind', spec.work, spec.work);
	made.add(spec.work);
	for (const m of mounts) {
		parents(m.target, made, args);
		args.push(m.readOnly ? '--ro-bind' : '--bind', m.source, m.target);
		made.add(m.target);
	}
	// With readOnlyRootFilesystem only volumes stay writable, as in Kubernetes.
	if (ro) args.push('--remount-ro', '/');
	args.push('--chdir', spec.work);
	if (identity.real) {
		// Root mounts; setpriv then needs these two capabilities, and drops every capability with them.
		args.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--', ...dropPrivileges(identity), ...spec.argv);
	} else {
		const uid = process.getuid?.(), gid = process.getgid?.();
		if (identity.uid !== uid || identity.gid !== gid) args.push('--unshare-user', '--uid', String(identity.uid), '--gid', String(identity.gid));
		args.push('--', ...spec.argv);
	}
	return args;
}
