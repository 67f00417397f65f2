// kubectl get: tables from the shared renderers, -o formats, selectors,
// -A, and -w to stream changes after the first listing.
import {StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import type {ResourceType} from '../api/resources.js';
import {alignColumns} from '../render/format.js';
import {type Command, type CommandContext} from './context.js';
import {formatObjects, parseOutput, tableRows} from './output.js';
import {parseTargets, type Target, typeOrFail} from './targets.js';
import {CliError} from '../client/errors.js';
import {readManifests} from '../client/operations/manifests.js';

export const getFlags = {
	output: {type: 'string', short: 'o'},
	selector: {type: 'string', short: 'l'},
	'field-selector': {type: 'string'},
	'all-namespaces': {type: 'boolean', short: 'A'},
	watch: {type: 'boolean', short: 'w'},
	'watch-only': {type: 'boolean'},
	'no-headers': {type: 'boolean'},
	'show-labels': {type: 'boolean'},
	'show-managed-fields': {type: 'boolean'},
	filename: {type: 'string', short: 'f', multiple: true},
	recursive: {type: 'boolean', short: 'R'},
	'ignore-not-found': {type: 'boolean'},
} as const;

async function targetsFromFiles(ctx: CommandContext): Promise<Target[]> {
	const manifests = await readManifests(ctx.strings('filename'), {recursive: ctx.bool('recursive'), stdin: ctx.io.stdin});
	return manifests.map(m => ({type: typeOrFail(`${m.object.kind}`), names: [m.object.metadata.name!], namespace: m.object.metadata.namespace}));
}

export const getCommand: Command = {
	name: 'get',
	summary: 'Display one or many resources',
	usage: 'kubedeck get TYPE[,TYPE...] [NAME...] | TYPE/NAME... [-o wide|yaml|json|name|jsonpath=...] [-l SELECTOR] [-A] [-w]',
	flags: getFlags,
	async run(ctx: CommandContext) {
		const targets = ctx.strings('filename').length ? await targetsFromFiles(ctx) : parseTargets(ctx.positionals);
		if (targets.length === 0) {
			throw new CliError('You must specify the type of resource to get. Use "kubedeck api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.');
		}
		const output = parseOutput(ctx.string('output'));
		const allNamespaces = ctx.bool('all-namespaces');
		const namespace = allNamespaces ? undefined : ctx.namespace;
		const client = await ctx.client();
		const ignoreNotFound = ctx.bool('ignore-not-found');
		let exit = 0;
		const collected: {type: ResourceType; items: KubeObject[]; resourceVersion?: string; named: boolean}[] = [];
		for (const target of targets) {
			const ns = (target as Target & {namespace?: string}).namespace ?? namespace;
			if (target.names.length > 0) {
				const items: KubeObject[] = [];
				for (const name of target.names) {
					try {
						items.push(await client.get(target.type, ns ?? ctx.namespace, name));
					} catch (error) {
						if (!(error instanceof StatusError)) throw error;
						if (!(ignoreNotFound && error.code === 404)) {
							ctx.err(`Error from server (${error.reason}): ${error.message}`);
							exit = 1;
						}
					}
				}
				collected.push({type: target.type, items, named: true});
			} else {
				const list = await client.list(target.type, {namespace: ns, labelSelector: ctx.string('selector'), fieldSelector: ctx.string('field-selector')});
				collected.push({type: target.type, items: list.items, resourceVersion: list.metadata.resourceVersion, named: false});
			}
		}
		const total = collected.reduce((n, c) => n + c.items.length, 0);
		if (!ctx.bool('watch-only')) {
			if (output.kind === 'table' || output.kind === 'wide') {
				const visible = collected.filter(c => c.items.length > 0);
				const blocks = visible.map(c => alignColumns(tableRows(c.type, c.items, {
					wide: output.kind === 'wide', allNamespaces, withKind: targets.length > 1, noHeaders: ctx.bool('no-headers'), showLabels: ctx.bool('show-labels'),
				})));
				if (blocks.length) ctx.out(blocks.join('\n\n'));
				if (total === 0 && exit === 0 && !collected.some(c => c.named)) {
					ctx.err(allNamespaces || collected.every(c => !c.type.namespaced) ? 'No resources found' : `No resources found in ${ctx.namespace} namespace.`);
				}
			} else if (total > 0 || !collected.some(c => c.named)) {
				const items = collected.flatMap(c => c.items);
				const single = collected.length === 1 && collected[0].named && items.length === 1;
				ctx.io.stdout.write(formatObjects(items, output, single, ctx.bool('show-managed-fields')));
			}
		}
		if (ctx.bool('watch') || ctx.bool('watch-only')) {
			if (collected.length !== 1) throw new CliError('error: you may only specify a single resource type');
			const {type, items} = collected[0];
			const names = targets[0].names;
			const fromRv = collected[0].resourceVersion ?? items.map(i => Number(i.metadata.resourceVersion)).reduce((a, b) => Math.max(a, b), 0).toString();
			const watch = client.watch(type, {namespace, resourceVersion: fromRv, labelSelector: ctx.string('selector'), fieldSelector: ctx.string('field-selector')}, event => {
				if (event.type === 'ERROR' || event.type === 'BOOKMARK') return;
				if (names.length && !names.includes(event.object.metadata.name!)) return;
				if (output.kind === 'table' || output.kind === 'wide') {
					ctx.out(alignColumns(tableRows(type, [event.object], {wide: output.kind === 'wide', allNamespaces, noHeaders: true})));
				} else {
					ctx.io.stdout.write(formatObjects([event.object], output, true, ctx.bool('show-managed-fields')));
				}
			});
			const stop = () => watch.stop();
			process.once('SIGINT', stop);
			await watch.done;
			process.off('SIGINT', stop);
		}
		return exit;
	},
};
