// kubedeck exec POD [-c CONTAINER] [-it] -- COMMAND: runs the command with the
// container's environment, working directory and mounts. The engine says how
// (it knows the container's env and sandbox); the command then runs here,
// attached to this terminal, so -it gives an interactive shell.
import {spawn} from 'node:child_process';
import {StatusError} from '../api/errors.js';
import {knownKind} from '../api/resources.js';
import type {ExecSpec} from '../client/types.js';
import {CliError, type Command, type CommandContext} from './context.js';

export const execCommand: Command = {
	name: 'exec',
	summary: 'Execute a command in a container',
	usage: 'kubedeck exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [args...]',
	flags: {container: {type: 'string', short: 'c'}, stdin: {type: 'boolean', short: 'i'}, tty: {type: 'boolean', short: 't'}},
	async run(ctx: CommandContext) {
		const [target] = ctx.positionals;
		if (!target) throw new CliError('error: pod, type/name or --filename must be specified');
		if (ctx.rest.length === 0) throw new CliError('error: you must specify at least one command for the container');
		const podName = target.startsWith('pod/') ? target.slice(4) : target;
		const client = await ctx.client();
		const pod = await client.get(knownKind('Pod')!, ctx.namespace, podName);
		const containers: string[] = ((pod.spec as {containers: {name: string}[]}).containers).map(c => c.name);
		const container = ctx.string('container') ?? pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? containers[0];
		if (!ctx.string('container') && containers.length > 1) ctx.err(`Defaulted container "${container}" out of: ${containers.join(', ')}`);
		if (!client.execSpec) throw new CliError(`error: exec is not supported against ${client.description} yet`);
		let spec: ExecSpec;
		try {
			spec = await client.execSpec(ctx.namespace, podName, container, ctx.rest);
		} catch (error) {
			if (error instanceof StatusError) throw new CliError(`error: ${error.message}`);
			throw error;
		}
		return new Promise<number>(resolve => {
			const child = spawn(spec.argv[0], spec.argv.slice(1), {cwd: spec.cwd, env: spec.env, stdio: [ctx.bool('stdin') ? 'inherit' : 'ignore', 'pipe', 'pipe']});
			child.stdout!.on('data', d => ctx.io.stdout.write(d));
			child.stderr!.on('data', d => ctx.io.stderr.write(d));
			child.on('error', error => {
				ctx.err(`error: ${error.message}`);
				resolve(126);
			});
			child.on('close', code => {
				if (code) ctx.err(`command terminated with exit code ${code}`);
				resolve(code ?? 1);
			});
		});
	},
};
