// kubectl describe: the object's details and its events.
import {StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {CliError} from '../client/errors.js';
import {describeText} from '../client/operations/describe.js';
import type {Command, CommandContext} from './context.js';
import {parseTargets} from './targets.js';

export const describeCommand: Command = {
	name: 'describe',
	summary: 'Show details of a specific resource or group of resources',
	usage: 'kubedeck describe TYPE [NAME_PREFIX] | TYPE/NAME [-l SELECTOR] [-A]',
	flags: {selector: {type: 'string', short: 'l'}, 'all-namespaces': {type: 'boolean', short: 'A'}},
	async run(ctx: CommandContext) {
		const targets = parseTargets(ctx.positionals);
		if (targets.length === 0) throw new CliError('You must specify the type of resource to describe. Use "kubedeck api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.');
		const client = await ctx.client();
		const namespace = ctx.bool('all-namespaces') ? undefined : ctx.namespace;
		const objects: KubeObject[] = [];
		let exit = 0;
		for (const {type, names} of targets) {
			if (names.length === 0) {
				objects.push(...(await client.list(type, {namespace, labelSelector: ctx.string('selector')})).items);
				continue;
			}
			for (const name of names) {
				try {
					objects.push(await client.get(type, ctx.namespace, name));
				} catch (error) {
					if (!(error instanceof StatusError) || error.code !== 404) throw error;
					// kubectl describe falls back to objects whose name starts with the argument.
					const prefixed = (await client.list(type, {namespace: ctx.namespace})).items.filter(o => o.metadata.name!.startsWith(name));
					if (prefixed.length === 0) {
						ctx.err(`Error from server (NotFound): ${error.message}`);
						exit = 1;
					}
					objects.push(...prefixed);
				}
			}
		}
		if (objects.length === 0 && exit === 0) ctx.err(`No resources found in ${ctx.namespace} namespace.`);
		const texts: string[] = [];
		for (const obj of objects) texts.push(await describeText(client, obj));
		if (texts.length) ctx.io.stdout.write(texts.join('\n\n'));
		return exit;
	},
};
