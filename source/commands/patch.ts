// kubectl patch: strategic (default), merge or json patches.
import YAML from 'yaml';
import {formatStatus, StatusError} from '../api/errors.js';
import {deepEqual} from '../api/object.js';
import type {PatchType} from '../client/types.js';
import {type Command, type CommandContext} from './context.js';
import {formatObjects, parseOutput} from './output.js';
import {parseTargets} from './targets.js';
import {CliError} from '../client/errors.js';
import {refOf} from '../api/resources.js';

export const patchCommand: Command = {
	name: 'patch',
	summary: 'Update fields of a resource using strategic merge patch, a JSON merge patch, or a JSON patch',
	usage: "kubedeck patch TYPE NAME | TYPE/NAME -p PATCH [--type strategic|merge|json]",
	flags: {patch: {type: 'string', short: 'p'}, type: {type: 'string'}, 'dry-run': {type: 'string'}, output: {type: 'string', short: 'o'}},
	async run(ctx: CommandContext) {
		const text = ctx.string('patch');
		if (!text) throw new CliError('error: must specify -p to patch');
		const patchType = (ctx.string('type') ?? 'strategic') as PatchType;
		if (!['strategic', 'merge', 'json'].includes(patchType)) throw new CliError(`error: --type must be one of [json merge strategic], not "${patchType}"`);
		let patch: unknown;
		try {
			patch = YAML.parse(text);
		} catch (error) {
			throw new CliError(`error: unable to parse "${text}": ${(error as Error).message}`);
		}
		const targets = parseTargets(ctx.positionals);
		if (targets.length !== 1 || targets[0].names.length !== 1) throw new CliError('error: patch needs exactly one TYPE NAME or TYPE/NAME');
		const {type, names: [name]} = targets[0];
		const client = await ctx.client();
		const output = parseOutput(ctx.string('output'));
		try {
			const before = await client.get(type, ctx.namespace, name);
			const after = await client.patch(type, ctx.namespace, name, patch, patchType, {dryRun: ctx.string('dry-run') === 'server'});
			if (output.kind !== 'table') ctx.io.stdout.write(formatObjects([after], output, true));
			else ctx.out(`${refOf(after)} ${before.metadata.resourceVersion === after.metadata.resourceVersion || deepEqual(before, after) ? 'patched (no change)' : 'patched'}`);
			return 0;
		} catch (error) {
			if (!(error instanceof StatusError)) throw error;
			ctx.err(formatStatus(error.status));
			return 1;
		}
	},
};
