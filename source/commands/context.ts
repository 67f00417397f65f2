// What every command gets: parsed flags, output streams, and a lazily
// connected ClusterClient. Flag parsing follows kubectl's habits (-n ns,
// -oyaml, -o=yaml, --flag=value, repeated -f, `--` before a command).
import {parseArgs, type ParseArgsConfig} from 'node:util';
import {CliError} from '../client/errors.js';
import type {ClusterClient} from '../client/types.js';

export interface Io {
	stdout: NodeJS.WritableStream;
	stderr: NodeJS.WritableStream;
	stdin: NodeJS.ReadableStream;
	env: NodeJS.ProcessEnv;
}

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** Flags every command accepts. */
export const globalFlags: FlagSpec = {
	namespace: {type: 'string', short: 'n'},
	help: {type: 'boolean', short: 'h'},
	// Another cluster (or the engine as another user), as kubectl's flags name them.
	kubeconfig: {type: 'string'},
	context: {type: 'string'},
	user: {type: 'string'},
	as: {type: 'string'},
};

export interface Command {
	name: string;
	summary: string;
	usage: string;
	flags: FlagSpec;
	run(ctx: CommandContext): Promise<number | void>;
}

export class CommandContext {
	private clientPromise?: Promise<ClusterClient>;

	constructor(
		readonly io: Io,
		readonly positionals: string[],
		readonly flags: Record<string, string | boolean | string[] | undefined>,
		/** Everything after `--`. */
		readonly rest: string[],
		private readonly connect: () => Promise<ClusterClient>,
		/** The kubeconfig context's namespace, when one is used and names one. */
		readonly contextNamespace?: string,
	) {}

	client(): Promise<ClusterClient> {
		return this.clientPromise ??= this.connect();
	}

	/** Close the client's connections, if one was opened. */
	async close(): Promise<void> {
		const client = await this.clientPromise?.catch(() => undefined);
		client?.close();
	}

	/** The namespace from -n, else the context's (kubectl's default), else "default". */
	get namespace(): string {
		return (this.flags.namespace as string | undefined) || this.contextNamespace || 'default';
	}

	get explicitNamespace(): string | undefined {
		return this.flags.namespace as string | undefined;
	}

	string(name: string): string | undefined {
		const value = this.flags[name];
		return Array.isArray(value) ? value[value.length - 1] : typeof value === 'string' ? value : undefined;
	}

	strings(name: string): string[] {
		const value = this.flags[name];
		return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
	}

	bool(name: string): boolean {
		const value = this.flags[name];
		return value === true || value === 'true';
	}

	out(text: string): void {
		this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
	}

	err(text: string): void {
		this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
	}
}

/**
 * Parse argv for one command. Values written as `-o=yaml` lose the `=` that
 * node's parser keeps, and `--` splits off the trailing command.
 */
export function parseCommandArgs(argv: string[], flags: FlagSpec) {
	const dash = argv.indexOf('--');
	const head = dash >= 0 ? argv.slice(0, dash) : argv;
	const rest = dash >= 0 ? argv.slice(dash + 1) : [];
	const options = {...globalFlags, ...flags};
	let parsed;
	try {
		parsed = parseArgs({args: head, options, allowPositionals: true, strict: true});
	} catch (error) {
		const message = (error as Error).message;
		const flag = message.match(/'(-[^']+)'/)?.[1];
		throw new CliError(flag ? `error: unknown flag: ${flag.split('=')[0]}` : `error: ${message}`);
	}
	const values: Record<string, string | boolean | string[] | undefined> = {};
	for (const [key, value] of Object.entries(parsed.values)) {
		const strip = (v: unknown) => (typeof v === 'string' && v.startsWith('=') ? v.slice(1) : v);
		values[key] = (Array.isArray(value) ? value.map(strip) : strip(value)) as string | boolean | string[];
	}
	return {positionals: parsed.positionals, values, rest};
}
