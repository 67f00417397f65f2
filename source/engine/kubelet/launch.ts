// How a container's process (or a command exec'd into it) is started: the
// argv that puts it inside the pod's sandbox as the pod's identity.
// - bubblewrap installed: the container runs under bwrap (sandbox.ts). A
//   command exec'd into it joins the container's own mount and PID
//   namespaces with nsenter where the engine is root (it sees the container's
//   /tmp and processes, and dies with it); an engine that is not root cannot
//   enter the namespaces bwrap makes, so the command gets a sandbox of its
//   own with the same mounts, working directory and /tmp.
// - no bubblewrap: the process runs on the host, as the container's uid
//   (setpriv, when the engine is root) in the container's working directory.
// Either way it starts inside the container's cgroups, where there are any.
import fs from 'node:fs';
import path from 'node:path';
import type {CgroupSet} from './cgroups.js';
import {procsFiles} from './cgroups.js';
import {dropPrivileges} from './identity.js';
import {sandboxArgv, type SandboxSpec} from './sandbox.js';

/** What a container is started with: its sandbox (argv as the image resolution gave it), and whether bwrap builds one. */
export interface LaunchSpec extends SandboxSpec {
	sandboxed: boolean;
}

export function containerArgv(spec: LaunchSpec, cgroup?: CgroupSet): string[] {
	// pdeathsig: the main process dies with its shim, even when the shim is killed on its own.
	return joinCgroup(cgroup, spec.sandboxed ? sandboxArgv(spec) : [...dropPrivileges(spec.identity, {pdeathsig: true}), ...spec.argv]);
}

/**
 * argv, started inside the cgroups: a shell writes its own pid into each,
 * then execs argv, so the process is inside before its first instruction. (A
 * container could also be forked by a shim that moved itself in and back
 * out, but each move of the multi-threaded shim stalls every fork on the
 * host for an RCU grace period, which halved the pod start rate.)
 */
function joinCgroup(cgroup: CgroupSet | undefined, argv: string[]): string[] {
	if (!cgroup) return argv;
	const files = procsFiles(cgroup);
	const script = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 126; shift; n=$((n-1)); done; exec "$@"';
	return ['/bin/sh', '-c', script, 'sh', String(files.length), ...files, ...argv];
}

/** The sandbox's init (PID 1 of its namespace): bwrap's child. */
export function sandboxInit(bwrapPid: number): number | undefined {
	try {
		const first = fs.readFileSync(`/proc/${bwrapPid}/task/${bwrapPid}/children`, 'utf8').trim().split(/\s+/)[0];
		return first ? Number(first) : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The argv of a command exec'd into a running container (for `exec`, the
 * dashboard's shell and exec probes). `containerPid` is the container's main
 * process as started (bwrap, when sandboxed).
 */
export function execArgv(spec: LaunchSpec, containerPid: number, cgroup?: CgroupSet, tty = false): string[] {
	if (tty) spec = onTerminal(spec);
	const init = spec.sandboxed && spec.identity.real ? sandboxInit(containerPid) : undefined;
	if (!init) return containerArgv(spec, cgroup);
	return joinCgroup(cgroup, ['nsenter', `--target=${init}`, '--mount', '--pid', `--wd=${spec.work}`, '--', ...dropPrivileges(spec.identity), ...spec.argv]);
}

/**
 * A spec for a program on a terminal (exec -t, a container with tty: true). The pseudo-terminal is
 * the engine's (or its shim's), not in the sandbox's /dev/pts (bwrap mounts a devpts of its own)
 * and its process groups are outside the sandbox's PID namespace: ttyname() would fail inside, and
 * a shell could not give the terminal back at exit. script(1) gives the program a terminal inside,
 * and passes output, input and window size changes through.
 */
export function onTerminal(spec: LaunchSpec): LaunchSpec {
	if (!spec.sandboxed) return spec;
	return {...spec, argv: ['script', '-qfec', `exec ${spec.argv.map(shellQuote).join(' ')}`, '/dev/null']};
}

function shellQuote(arg: string): string {
	return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Recent answers of findProgram: a deployment's pods all ask about the same program. */
const found = new Map<string, {at: number; ok: boolean}>();

/** Whether a program resolves on PATH (or as a path), so a missing one is a StartError as the runtime reports it. */
export function findProgram(program: string, envPath: string): boolean {
	const key = `${program}\0${envPath}`;
	const cached = found.get(key);
	if (cached && Date.now() - cached.at < 5_000) return cached.ok;
	const ok = lookProgram(program, envPath);
	if (found.size > 1000) found.clear();
	found.set(key, {at: Date.now(), ok});
	return ok;
}

function lookProgram(program: string, envPath: string): boolean {
	const candidates = program.includes('/') ? [program] : envPath.split(':').filter(Boolean).map(dir => path.join(dir, program));
	return candidates.some(file => {
		try {
			fs.accessSync(file, fs.constants.X_OK);
			return fs.statSync(file).isFile();
		} catch {
			return false;
		}
	});
}
