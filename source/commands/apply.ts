// kubectl apply -f: create or update from manifests. Every document is
// checked first (locally, then by the server with a dry run where its
// namespace already exists); one bad document means nothing is written.
import type {KubeObject} from '../api/object.js';
import {refOf} from '../api/resources.js';
import {CliError} from '../client/errors.js';
import {ApplyInterrupted} from '../client/operations/apply-interrupted.js';
import {applyInOrder, nothingApplied, planManifests, serverCheck} from '../client/operations/apply.js';
import {readManifests} from '../client/operations/manifests.js';
import type {Command, CommandContext} from './context.js';
import {formatObjects, parseOutput} from './output.js';

export const applyCommand: Command = {
	name: 'apply',
	summary: 'Apply a configuration to a resource by file name or stdin',
	usage: 'kubedeck apply -f FILENAME [-f FILENAME...] [-R] [-n NAMESPACE] [--dry-run=client|server] [-o yaml|json|name]',
	flags: {
		filename: {type: 'string', short: 'f', multiple: true},
		recursive: {type: 'boolean', short: 'R'},
		'dry-run': {type: 'string'},
		output: {type: 'string', short: 'o'},
	},
	async run(ctx: CommandContext) {
		const manifests = await readManifests(ctx.strings('filename'), {recursive: ctx.bool('recursive'), stdin: ctx.io.stdin});
		const dryRun = ctx.string('dry-run');
		if (dryRun && !['client', 'server', 'none'].includes(dryRun)) throw new CliError(`error: Invalid dry-run value (${dryRun}). Must be "none", "server", or "client".`);
		const output = parseOutput(ctx.string('output'));
		const {planned, errors} = planManifests(manifests, ctx.namespace, ctx.explicitNamespace);
		const client = dryRun === 'client' ? undefined : await ctx.client();
		try {
			if (errors.length === 0 && client) errors.push(...await serverCheck(client, planned));
		} catch (error) {
			if (!(error instanceof ApplyInterrupted)) throw error;
			ctx.err(error.message);
			ctx.err(nothingApplied(error));
			return 1;
		}
		if (errors.length > 0) {
			for (const e of errors) ctx.err(e);
			ctx.err(`error: nothing applied: ${errors.length} of ${manifests.length} document${manifests.length === 1 ? '' : 's'} ${errors.length === 1 ? 'has' : 'have'} errors`);
			return 1;
		}
		const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
		const results: KubeObject[] = [];
		const show = (object: KubeObject, verb: string) => {
			results.push(object);
			if (output.kind === 'table' || output.kind === 'wide') ctx.out(`${refOf(object)} ${verb}${suffix}`);
		};
		let failures: string[] = [];
		if (!client) {
			for (const plan of planned) show(plan.object, 'created');
		} else {
			failures = await applyInOrder(client, planned, dryRun === 'server', m => ctx.err(m), outcome => show(outcome.object, outcome.verb));
			for (const e of failures) ctx.err(e);
		}
		if (output.kind !== 'table' && output.kind !== 'wide') ctx.io.stdout.write(formatObjects(results, output, results.length === 1));
		return failures.length > 0 ? 1 : 0;
	},
};
