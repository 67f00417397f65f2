// An exec request (`ssh -p 2222 alice@host get pods -n dev1`): the command
// line is split as a shell would, and the matching kubedeck command runs in
// the engine as the session's user, its output and exit code going back on
// the channel. Only the commands that work on the cluster through its API
// are offered; the ones that would act on the server's own machine (read
// its files, listen on its ports, manage the engine) are not: a manifest
// comes on stdin (`-f -`), a port-forward is `ssh -L`.
import {CliError} from '../../client/errors.js';
import type {ClusterClient} from '../../client/types.js';
import type {Io} from '../../commands/context.js';
import {allCommands, loadCommand, runCommand} from '../../commands/main.js';

const offered = ['get', 'describe', 'logs', 'exec', 'top', 'scale', 'autoscale', 'rollout', 'set', 'label', 'annotate', 'patch', 'delete', 'apply', 'create', 'api-resources', 'version'];

/** What the console says for `help`, or for a command it does not offer. */
async function help(): Promise<string> {
	const shown = await allCommands(offered);
	const width = Math.max(...shown.map(c => c.name.length)) + 2;
	return [
		'kubedeck ssh console: `ssh HOST` opens the dashboard; `ssh HOST COMMAND [args]` runs a command as you.',
		'',
		'Commands:',
		...shown.map(c => `  ${c.name.padEnd(width)}${c.summary}`),
		'',
		'Manifests come on stdin (apply -f - < app.yaml); port-forwards are ssh\'s own: ssh -L 8080:NAME.NAMESPACE.svc:80 (or POD.NAMESPACE.pod:PORT).',
	].join('\n');
}

/** A command line split into words as sh does: spaces separate, quotes ('...', "...") and backslashes keep. */
export function splitCommandLine(line: string): string[] {
	const words: string[] = [];
	let word: string | undefined;
	let quote: '"' | '\'' | undefined;
	for (let i = 0; i < line.length; i++) {
		const c = line[i];
		if (quote === '\'') {
			if (c === '\'') quote = undefined;
			else word += c;
		} else if (quote === '"') {
			if (c === '"') quote = undefined;
			else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) word += line[++i];
			else word += c;
		} else if (c === '\'' || c === '"') {
			quote = c;
			word ??= '';
		} else if (c === '\\' && i + 1 < line.length) {
			word = (word ?? '') + line[++i];
		} else if (/\s/.test(c)) {
			if (word !== undefined) words.push(word);
			word = undefined;
		} else {
			word = (word ?? '') + c;
		}
	}
	if (quote) throw new CliError(`error: unterminated ${quote} quote in the command line`);
	if (word !== undefined) words.push(word);
	return words;
}

/** Runs one command line as the session's user (`connect` gives their client); the exit code. */
export async function runConsoleCommand(line: string, io: Io, connect: () => Promise<ClusterClient>): Promise<number> {
	let argv: string[];
	try {
		argv = splitCommandLine(line);
	} catch (error) {
		io.stderr.write(`${(error as Error).message}\n`);
		return 1;
	}
	// `ssh host -- logs -f x` arrives with the `--` when the client passed it on.
	if (argv[0] === '--') argv = argv.slice(1);
	const [name, ...rest] = argv;
	if (name === 'help' || name === '--help' || name === '-h') {
		io.stdout.write(`${await help()}\n`);
		return 0;
	}
	const command = await loadCommand(name);
	if (!command || !offered.includes(name)) {
		io.stderr.write(`error: ${command ? `"${name}" is not offered by the ssh console (it would act on the server's machine)` : `unknown command "${name}"`}\n\n${await help()}\n`);
		return 1;
	}
	return runCommand(command, rest, io, async parsed => {
		const given = (flag: string) => parsed.values[flag] !== undefined && parsed.values[flag] !== false;
		for (const flag of ['kubeconfig', 'context', 'user', 'as']) {
			if (given(flag)) throw new CliError(`error: --${flag} is not taken over the ssh console: you act as yourself, on this cluster`);
		}
		for (const flag of ['from-file', 'from-env-file']) {
			if (given(flag)) throw new CliError(`error: --${flag} would read the server's files: use --from-literal, or apply -f - with the manifest on stdin`);
		}
		const files = parsed.values.filename;
		if ([files ?? []].flat().some(f => f !== '-')) throw new CliError('error: the ssh console reads manifests from stdin only: -f - (ssh HOST apply -f - < app.yaml)');
		return {connect};
	});
}
