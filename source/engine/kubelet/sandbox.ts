// Volumes at their mountPath, without privileges or a container engine: each
// container runs under bubblewrap in its own mount namespace. The sandbox's
// root is bwrap's empty tmpfs, filled with binds of the host's top-level
// directories, so a mount point that does not exist on the host (/data,
// /etc/config) is created in the tmpfs, never on the host: where a mount
// point lies inside a host directory that lacks it, that directory is
// rebuilt one level deeper (a tmpfs dir with binds of its entries).
import fs from 'node:fs';
import path from 'node:path';

type Rec = Record<string, any>;

export interface SandboxMount {
	source: string;
	target: string;
	readOnly: boolean;
}

function bindTree(hostDir: string, targets: string[], args: string[]): void {
	for (const entry of fs.readdirSync(hostDir, {withFileTypes: true})) {
		const full = path.join(hostDir, entry.name);
		if (entry.isSymbolicLink()) {
			args.push('--symlink', fs.readlinkSync(full), full);
			continue;
		}
		const missingInside = targets.some(t => t.startsWith(`${full}/`) && !fs.existsSync(t));
		if (entry.isDirectory() && missingInside) {
			args.push('--dir', full);
			bindTree(full, targets, args);
		} else {
			args.push('--dev-bind', full, full);
		}
	}
}

/** A target with its existing part resolved through host symlinks (/var/run/x -> /run/x). */
function resolveTarget(target: string): string {
	let existing = path.resolve(target);
	const rest: string[] = [];
	while (!fs.existsSync(existing)) {
		rest.unshift(path.basename(existing));
		existing = path.dirname(existing);
	}
	return path.join(fs.realpathSync(existing), ...rest);
}

/** The bwrap command line that runs argv with each mount bound at its target. */
export function sandboxArgv(argv: string[], mounts: SandboxMount[], cwd: string): string[] {
	const targets = mounts.map(m => resolveTarget(m.target));
	const args = ['bwrap', '--die-with-parent'];
	bindTree('/', targets, args);
	mounts.forEach((m, i) => {
		// A target missing on the host gets its directory (or file) created inside the tmpfs by bwrap.
		args.push(m.readOnly ? '--ro-bind' : '--bind', m.source, targets[i]);
	});
	args.push('--chdir', cwd, '--', ...argv);
	return args;
}

/** The mounts of one container, from its volumeMounts and the pod's volume directories. */
export function containerMounts(container: Rec, volumes: Map<string, string>): SandboxMount[] {
	const mounts: SandboxMount[] = [];
	for (const m of (container.volumeMounts ?? []) as Rec[]) {
		const dir = volumes.get(m.name);
		if (!dir) continue;
		mounts.push({source: m.subPath ? path.join(dir, m.subPath) : dir, target: m.mountPath, readOnly: !!m.readOnly});
	}
	return mounts;
}
