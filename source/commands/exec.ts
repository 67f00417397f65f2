// kubedeck exec POD [-c CONTAINER] [-it] -- COMMAND: runs the command in the
// container, inside the pod's sandbox, as kubectl exec does: the engine
// starts it and streams it over its socket (pods/exec on a WebSocket); here
// only this terminal is attached. With -t the engine gives the command a
// terminal and this one goes raw, so ctrl-c and ctrl-z reach the command,
// not this process.
import {StatusError} from '../api/errors.js';
import {knownKind} from '../api/resources.js';
import type {ExecSession} from '../client/types.js';
import {type Command, type CommandContext} from './context.js';
import {CliError} from '../client/errors.js';

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
		if (!client.exec) throw new CliError(`error: exec is not supported against ${client.description} yet`);
		const stdin = ctx.io.stdin as NodeJS.ReadStream;
		const stdout = ctx.io.stdout as NodeJS.WriteStream;
		const wantStdin = ctx.bool('stdin');
		let tty = ctx.bool('tty');
		if (tty && !(wantStdin && stdin.isTTY)) {
			ctx.err('Unable to use a TTY - input is not a terminal or the right kind of file');
			tty = false;
		}
		// Raw before the stream opens, so keys typed meanwhile are not echoed here but reach the command.
		const wasRaw = stdin.isRaw;
		if (tty) stdin.setRawMode(true);
		const early: Buffer[] = [];
		const hold = (data: Buffer) => early.push(data);
		if (wantStdin) stdin.on('data', hold);
		let session: ExecSession;
		try {
			session = await client.exec(ctx.namespace, podName, ctx.rest, {
				container, stdin: wantStdin, tty,
				onStdout: data => ctx.io.stdout.write(data), onStderr: data => ctx.io.stderr.write(data),
			});
		} catch (error) {
			if (tty) stdin.setRawMode(wasRaw);
			stdin.off('data', hold);
			stdin.pause();
			if (error instanceof StatusError) throw new CliError(`error: ${error.message}`);
			throw error;
		}
		const onResize = () => session.resize(stdout.columns ?? 80, stdout.rows ?? 24);
		const onData = (data: Buffer) => session.write(data);
		const onEnd = () => session.closeStdin();
		if (tty) {
			onResize();
			stdout.on('resize', onResize);
		}
		if (wantStdin) {
			stdin.off('data', hold);
			for (const data of early) session.write(data);
			stdin.on('data', onData);
			stdin.on('end', onEnd);
			stdin.resume();
		}
		try {
			const code = await session.exited;
			if (code) ctx.err(`command terminated with exit code ${code}`);
			return code;
		} catch (error) {
			throw new CliError(`error: ${(error as Error).message}`);
		} finally {
			if (tty) {
				stdin.setRawMode(wasRaw);
				stdout.off('resize', onResize);
			}
			if (wantStdin) {
				stdin.off('data', onData);
				stdin.off('end', onEnd);
				stdin.pause();
			}
			session.close();
		}
	},
};
