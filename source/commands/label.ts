// kubectl label and annotate: KEY=VALUE adds, KEY- removes; an existing key
// needs --overwrite. Sent as a merge patch of metadata, as kubectl does.
import {formatStatus, StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {validateAnnotations, validateLabels} from '../api/validation/meta.js';
import {fieldErrorMessage} from '../api/errors.js';
import {type Command, type CommandContext} from './context.js';
import {parseTargets} from './targets.js';
import {CliError} from '../client/errors.js';
import {refOf} from '../api/resources.js';

function metadataCommand(kind: 'labels' | 'annotations'): Command {
	const verb = kind === 'labels' ? 'label' : 'annotate';
	return {
		name: verb,
		summary: kind === 'labels' ? 'Update the labels on a resource' : 'Update the annotations on a resource',
		usage: `kubedeck ${verb} TYPE NAME | TYPE/NAME KEY_1=VAL_1 ... KEY_N- [--overwrite] [-l SELECTOR | --all]`,
		flags: {overwrite: {type: 'boolean'}, selector: {type: 'string', short: 'l'}, all: {type: 'boolean'}, 'dry-run': {type: 'string'}},
		async run(ctx: CommandContext) {
			const isChange = (a: string) => a.includes('=') || a.endsWith('-');
			const firstChange = ctx.positionals.findIndex(isChange);
			if (firstChange < 0) throw new CliError(`error: at least one ${kind === 'labels' ? 'label' : 'annotation'} update is required`);
			const targetArgs = ctx.positionals.slice(0, firstChange);
			const changes = ctx.positionals.slice(firstChange);
			const set: Record<string, string> = {};
			const remove: string[] = [];
			for (const change of changes) {
				if (change.endsWith('-') && !change.includes('=')) remove.push(change.slice(0, -1));
				else {
					const eq = change.indexOf('=');
					set[change.slice(0, eq)] = change.slice(eq + 1);
				}
			}
			const problems = kind === 'labels' ? validateLabels(set, 'metadata.labels') : validateAnnotations(set, 'metadata.annotations');
			if (problems.length) throw new CliError(`error: invalid ${kind === 'labels' ? 'label' : 'annotation'} spec: ${problems.map(p => fieldErrorMessage(p)).join('; ')}`);
			const client = await ctx.client();
			const objects: KubeObject[] = [];
			for (const {type, names} of parseTargets(targetArgs)) {
				if (names.length) for (const name of names) objects.push(await client.get(type, ctx.namespace, name));
				else if (ctx.string('selector') || ctx.bool('all')) objects.push(...(await client.list(type, {namespace: ctx.namespace, labelSelector: ctx.string('selector')})).items);
				else throw new CliError('error: resource(s) were provided, but no name was specified');
			}
			let exit = 0;
			for (const obj of objects) {
				const current = obj.metadata[kind] ?? {};
				if (!ctx.bool('overwrite')) {
					const clash = Object.keys(set).find(k => k in current && current[k] !== set[k]);
					if (clash) throw new CliError(`error: '${clash}' already has a value (${current[clash]}), and --overwrite is false`);
				}
				const patch: Record<string, string | null> = {...set};
				for (const key of remove) patch[key] = null;
				const changed = Object.entries(patch).some(([k, v]) => (v === null ? k in current : current[k] !== v));
				if (!changed) {
					ctx.out(`${refOf(obj)} not ${kind === 'labels' ? 'labeled' : 'annotated'}`);
					continue;
				}
				try {
					const type = parseTargets([`${obj.kind}/${obj.metadata.name}`])[0].type;
					await client.patch(type, obj.metadata.namespace, obj.metadata.name!, {metadata: {[kind]: patch}}, 'merge', {dryRun: ctx.string('dry-run') === 'server'});
					const onlyRemoved = Object.keys(set).length === 0;
					ctx.out(`${refOf(obj)} ${kind === 'labels' ? (onlyRemoved ? 'unlabeled' : 'labeled') : 'annotated'}`);
				} catch (error) {
					if (!(error instanceof StatusError)) throw error;
					ctx.err(formatStatus(error.status));
					exit = 1;
				}
			}
			return exit;
		},
	};
}

export const labelCommand = metadataCommand('labels');
export const annotateCommand = metadataCommand('annotations');
