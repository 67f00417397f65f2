// The command table and the dispatch: argument parsing, the connection a command
// gets (kubeconfig or the embedded engine), and kubectl's way of printing errors.
// cli.tsx runs it on the process's argv; the SSH console runs some commands as its users.
import {formatStatus, StatusError} from '../api/errors.js';
import {connectEmbedded} from '../client/connect.js';
import {EmbeddedClient} from '../client/embedded.js';
import {defaultKubeconfig, kubeconfigTarget} from '../client/kubeconfig.js';
import {CliError, ConnectionError} from '../client/errors.js';
import type {ClusterClient} from '../client/types.js';
import {CommandContext, type Command, type Io, parseCommandArgs} from './context.js';
import {stateHome} from '../engine/home.js';

// Each command's module is loaded when that command runs: `serve` brings the whole engine and
// `dashboard` Ink and React, which a `get` has no use for (loading them all took about 200 ms of
// every command's start). The order is the help's.
const loaders: Record<string, () => Promise<Command>> = {
	apply: async () => (await import('./apply.js')).applyCommand,
	create: async () => (await import('./create.js')).createCommand,
	get: async () => (await import('./get.js')).getCommand,
	describe: async () => (await import('./describe.js')).describeCommand,
	delete: async () => (await import('./delete.js')).deleteCommand,
	logs: async () => (await import('./logs.js')).logsCommand,
	exec: async () => (await import('./exec.js')).execCommand,
	'port-forward': async () => (await import('./port-forward.js')).portForwardCommand,
	top: async () => (await import('./top.js')).topCommand,
	scale: async () => (await import('./rollout.js')).scaleCommand,
	autoscale: async () => (await import('./rollout.js')).autoscaleCommand,
	rollout: async () => (await import('./rollout.js')).rolloutCommand,
	set: async () => (await import('./rollout.js')).setCommand,
	label: async () => (await import('./label.js')).labelCommand,
	annotate: async () => (await import('./label.js')).annotateCommand,
	patch: async () => (await import('./patch.js')).patchCommand,
	'api-resources': async () => (await import('./discovery.js')).apiResourcesCommand,
	summary: async () => (await import('./discovery.js')).summaryCommand,
	dashboard: async () => (await import('./dashboard.js')).dashboardCommand,
	serve: async () => (await import('./engine.js')).serveCommand,
	stop: async () => (await import('./engine.js')).stopCommand,
	kubeconfig: async () => (await import('./kubeconfig.js')).kubeconfigCommand,
	users: async () => (await import('./users.js')).usersCommand,
	audit: async () => (await import('./audit.js')).auditCommand,
	snapshot: async () => (await import('./snapshot.js')).snapshotCommand,
	ssh: async () => (await import('./ssh.js')).sshCommand,
	version: async () => (await import('./engine.js')).versionCommand,
};

/** The command of a name, loaded; undefined for a name that is none. */
export function loadCommand(name: string): Promise<Command | undefined> {
	return Object.hasOwn(loaders, name) ? loaders[name]() : Promise.resolve(undefined);
}

/** Every command (for help), in the help's order. */
export function allCommands(names = Object.keys(loaders)): Promise<Command[]> {
	return Promise.all(names.filter(n => Object.hasOwn(loaders, n)).map(n => loaders[n]()));
}

async function help(): Promise<string> {
	const commands = await allCommands();
	const width = Math.max(...commands.map(c => c.name.length)) + 2;
	return [
		'kubedeck: a terminal cluster manager with an embedded Kubernetes-style engine.',
		'',
		'Usage:',
		'  kubedeck [--readonly] [--theme NAME|FILE] [-n NS]',
		'                           open the dashboard (starts the engine in the background if needed)',
		'  kubedeck COMMAND [args]  run a kubectl-style command against it',
		'',
		'Commands:',
		...commands.map(c => `  ${c.name.padEnd(width)}${c.summary}`),
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
	const command = await loadCommand(flagsOnly ? ((io.stdout as NodeJS.WriteStream).isTTY ? 'dashboard' : 'summary') : argv[0]);
	if (!command) {
		io.stderr.write(`error: unknown command "${name}" for "kubedeck"\nRun 'kubedeck --help' for usage.\n`);
		return 1;
	}
	return runCommand(command, flagsOnly ? argv : argv.slice(1), io, async parsed => {
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
		return {connect, namespace: target?.namespace};
	});
}

type Parsed = ReturnType<typeof parseCommandArgs>;

/**
 * One command on its arguments (after its name), connected as `connection` says, its errors
 * printed as kubectl prints them; the exit code.
 */
export async function runCommand(command: Command, argv: string[], io: Io, connection: (parsed: Parsed) => Promise<{connect: () => Promise<ClusterClient>; namespace?: string}>): Promise<number> {
	try {
		const parsed = parseCommandArgs(argv, command.flags);
		if (parsed.values.help) {
			io.stdout.write(`${command.summary}\n\nUsage:\n  ${command.usage}\n`);
			return 0;
		}
		const {connect, namespace} = await connection(parsed);
		const ctx = new CommandContext(io, parsed.positionals, parsed.values, parsed.rest, connect, namespace);
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
