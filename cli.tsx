#!/usr/bin/env node
// kubedeck's entry point: argument parsing and dispatch only.
import {formatStatus, StatusError} from './source/api/errors.js';
import {connectEmbedded} from './source/client/connect.js';
import {EmbeddedClient} from './source/client/embedded.js';
import {defaultKubeconfig, kubeconfigTarget} from './source/client/kubeconfig.js';
import {CliError, ConnectionError} from './source/client/errors.js';
import {CommandContext, type Command, type Io, parseCommandArgs} from './source/commands/context.js';
import {stateHome} from './source/engine/home.js';

// Each command's module is loaded when that command runs: `serve` brings the whole engine and
// `dashboard` Ink and React, which a `get` has no use for (loading them all took about 300 ms of
// every command's start). The order is the help's.
const commands: Record<string, () => Promise<Command>> = {
	apply: async () => (await import('./source/commands/apply.js')).applyCommand,
	create: async () => (await import('./source/commands/create.js')).createCommand,
	get: async () => (await import('./source/commands/get.js')).getCommand,
	describe: async () => (await import('./source/commands/describe.js')).describeCommand,
	delete: async () => (await import('./source/commands/delete.js')).deleteCommand,
	logs: async () => (await import('./source/commands/logs.js')).logsCommand,
	exec: async () => (await import('./source/commands/exec.js')).execCommand,
	'port-forward': async () => (await import('./source/commands/port-forward.js')).portForwardCommand,
	top: async () => (await import('./source/commands/top.js')).topCommand,
	scale: async () => (await import('./source/commands/rollout.js')).scaleCommand,
	autoscale: async () => (await import('./source/commands/rollout.js')).autoscaleCommand,
	rollout: async () => (await import('./source/commands/rollout.js')).rolloutCommand,
	set: async () => (await import('./source/commands/rollout.js')).setCommand,
	label: async () => (await import('./source/commands/label.js')).labelCommand,
	annotate: async () => (await import('./source/commands/label.js')).annotateCommand,
	patch: async () => (await import('./source/commands/patch.js')).patchCommand,
	'api-resources': async () => (await import('./source/commands/discovery.js')).apiResourcesCommand,
	summary: async () => (await import('./source/commands/discovery.js')).summaryCommand,
	dashboard: async () => (await import('./source/commands/dashboard.js')).dashboardCommand,
	serve: async () => (await import('./source/commands/engine.js')).serveCommand,
	stop: async () => (await import('./source/commands/engine.js')).stopCommand,
	kubeconfig: async () => (await import('./source/commands/kubeconfig.js')).kubeconfigCommand,
	users: async () => (await import('./source/commands/users.js')).usersCommand,
	audit: async () => (await import('./source/commands/audit.js')).auditCommand,
	snapshot: async () => (await import('./source/commands/snapshot.js')).snapshotCommand,
	version: async () => (await import('./source/commands/engine.js')).versionCommand,
};

async function help(): Promise<string> {
	const all = await Promise.all(Object.values(commands).map(load => load()));
	const width = Math.max(...all.map(c => c.name.length)) + 2;
	return [
		'kubedeck: a terminal cluster manager with an embedded Kubernetes-style engine.',
		'',
		'Usage:',
		'  kubedeck [--readonly] [--theme NAME|FILE] [-n NS]',
		'                           open the dashboard (starts the engine in the background if needed)',
		'  kubedeck COMMAND [args]  run a kubectl-style command against it',
		'',
		'Commands:',
		...all.map(c => `  ${c.name.padEnd(width)}${c.summary}`),
		'',
		'Flags for every command:',
		'  -n, --namespace NAME     the namespace to work in (default "default")',
		'  -h, --help               help for a command',
		'  --kubeconfig FILE [--context C] [--user U] [--as U]',
		'                           work on the cluster a kubeconfig names (a real cluster, or this engine as a user)',
		'',
		'State lives in $KUBEDECK_HOME (default $XDG_STATE_HOME/kubedeck or ~/.local/state/kubedeck).',
	].join('\n');
}

/** `kubedeck --kubeconfig F get pods`: the connection flags may come before the command, as kubectl takes them. */
function commandFirst(argv: string[]): string[] {
	const leading: string[] = [];
	let i = 0;
	while (i < argv.length && /^--(kubeconfig|context|user|as)(=|$)/.test(argv[i])) {
		leading.push(argv[i]);
		if (!argv[i].includes('=') && i + 1 < argv.length) leading.push(argv[++i]);
		i++;
	}
	const rest = argv.slice(i);
	return rest.length && !rest[0].startsWith('-') ? [rest[0], ...leading, ...rest.slice(1)] : [...leading, ...rest];
}

export async function main(args: string[], io: Io): Promise<number> {
	let argv = commandFirst(args);
	const [name] = argv;
	if (name === '--help' || name === '-h' || name === 'help') {
		io.stdout.write(`${await help()}\n`);
		return 0;
	}
	if (name === '--version') argv = ['version'];
	// No arguments: the dashboard on a terminal, the cluster summary otherwise (pipes, scripts).
	// Flags alone (`kubedeck --readonly -n dev`) are the dashboard's.
	const flagsOnly = name === undefined || name.startsWith('-');
	const load = flagsOnly ? commands[(io.stdout as NodeJS.WriteStream).isTTY ? 'dashboard' : 'summary'] : Object.hasOwn(commands, argv[0]) ? commands[argv[0]] : undefined;
	if (!load) {
		io.stderr.write(`error: unknown command "${name}" for "kubedeck"\nRun 'kubedeck --help' for usage.\n`);
		return 1;
	}
	const command = await load();
	try {
		const parsed = parseCommandArgs(flagsOnly ? argv : argv.slice(1), command.flags);
		if (parsed.values.help) {
			io.stdout.write(`${command.summary}\n\nUsage:\n  ${command.usage}\n`);
			return 0;
		}
		// --kubeconfig (a file, or a list as $KUBECONFIG holds one): that cluster, as that user; --context alone:
		// a context of $KUBECONFIG (or ~/.kube/config), where kubectl looks. Otherwise the embedded engine, as
		// its local admin: kubedeck's own cluster is the default, whatever $KUBECONFIG points kubectl at.
		const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
		const kubeconfig = str(parsed.values.kubeconfig)
			?? (str(parsed.values.context) ? defaultKubeconfig(io.env) : undefined);
		const target = kubeconfig ? await kubeconfigTarget(kubeconfig, {context: str(parsed.values.context), user: str(parsed.values.user), as: str(parsed.values.as)}) : undefined;
		const connect = target
			? async () => new EmbeddedClient(target.endpoint, target.description)
			: () => connectEmbedded({home: stateHome(io.env), notice: message => io.stderr.write(`${message}\n`)});
		const ctx = new CommandContext(io, parsed.positionals, parsed.values, parsed.rest, connect, target?.namespace);
		try {
			return (await command.run(ctx)) ?? 0;
		} finally {
			await ctx.close();
		}
	} catch (error) {
		if (error instanceof CliError) {
			io.stderr.write(`${error.message}\n`);
			return error.exitCode;
		}
		if (error instanceof ConnectionError) {
			// kubectl prints its connection messages as they are, without "error: ".
			io.stderr.write(`${error.message}\n`);
			return 1;
		}
		if (error instanceof StatusError) {
			io.stderr.write(`${formatStatus(error.status)}\n`);
			return 1;
		}
		io.stderr.write(`error: ${(error as Error).message ?? String(error)}\n`);
		return 1;
	}
}

const exitCode = await main(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env});
process.exitCode = exitCode;
