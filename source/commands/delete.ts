// kubectl delete: by name, TYPE/NAME, -f, -l or --all; waits until the
// objects are gone unless --wait=false.
import {formatStatus, StatusError} from '../api/errors.js';
import {qualifiedPlural, type ResourceType, typeForKind} from '../api/resources.js';
import type {ClusterClient} from '../client/types.js';
import {type Command, type CommandContext} from './context.js';
import {parseTargets} from './targets.js';
import {CliError} from '../client/errors.js';
import {readManifests} from '../client/operations/manifests.js';

interface Victim {
	type: ResourceType;
	namespace: string;
	name: string;
	source?: string;
}

async function waitGone(client: ClusterClient, victim: Victim, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		try {
			await client.get(victim.type, victim.namespace, victim.name);
		} catch (error) {
			if (error instanceof StatusError && error.code === 404) return;
			throw error;
		}
		await new Promise(r => setTimeout(r, 100));
	}
	throw new CliError(`error: timed out waiting for the condition on ${qualifiedPlural(victim.type)}/${victim.name}`);
}

export const deleteCommand: Command = {
	name: 'delete',
	summary: 'Delete resources by file names, stdin, resources and names, or by resources and label selector',
	usage: 'kubedeck delete (-f FILENAME | TYPE [NAME...] | TYPE/NAME... | TYPE -l SELECTOR | TYPE --all) [--ignore-not-found] [--grace-period=N] [--force] [--wait=false]',
	flags: {
		filename: {type: 'string', short: 'f', multiple: true},
		recursive: {type: 'boolean', short: 'R'},
		selector: {type: 'string', short: 'l'},
		all: {type: 'boolean'},
		'all-namespaces': {type: 'boolean', short: 'A'},
		'ignore-not-found': {type: 'boolean'},
		'grace-period': {type: 'string'},
		force: {type: 'boolean'},
		cascade: {type: 'string'},
		wait: {type: 'string'},
		timeout: {type: 'string'},
		'dry-run': {type: 'string'},
	},
	async run(ctx: CommandContext) {
		const victims: Victim[] = [];
		const client = await ctx.client();
		const namespace = ctx.namespace;
		if (ctx.strings('filename').length) {
			const manifests = await readManifests(ctx.strings('filename'), {recursive: ctx.bool('recursive'), stdin: ctx.io.stdin});
			for (const m of manifests) {
				const type = typeForKind(m.object.apiVersion, m.object.kind);
				if (!type) throw new CliError(`error: resource mapping not found for name: "${m.object.metadata?.name}" from "${m.source}": no matches for kind "${m.object.kind}" in version "${m.object.apiVersion}"`);
				victims.push({type, namespace: m.object.metadata.namespace ?? namespace, name: m.object.metadata.name!, source: m.source});
			}
		} else {
			const targets = parseTargets(ctx.positionals);
			if (targets.length === 0) throw new CliError('error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   \'-f rsrc.yaml\'\n   \'--filename=rsrc.json\'\n   \'<resource> <name>\'\n   \'<resource>\'');
			for (const {type, names} of targets) {
				if (names.length > 0) {
					if (ctx.bool('all') || ctx.string('selector')) throw new CliError('error: name cannot be provided when a selector is specified');
					victims.push(...names.map(name => ({type, namespace, name})));
				} else if (ctx.bool('all') || ctx.string('selector')) {
					const list = await client.list(type, {namespace: ctx.bool('all-namespaces') ? undefined : namespace, labelSelector: ctx.string('selector')});
					victims.push(...list.items.map(o => ({type, namespace: o.metadata.namespace ?? '', name: o.metadata.name!})));
				} else {
					throw new CliError('error: resource(s) were provided, but no name was specified');
				}
			}
			if (victims.length === 0) {
				ctx.err(`No resources found`);
				return 0;
			}
		}
		const force = ctx.bool('force');
		const grace = ctx.string('grace-period') !== undefined ? Number(ctx.string('grace-period')) : force ? 0 : undefined;
		if (force && grace === 0) ctx.err('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.');
		const cascade = ctx.string('cascade');
		const propagationPolicy = cascade === 'orphan' ? 'Orphan' : cascade === 'foreground' ? 'Foreground' : 'Background';
		const dryRun = ctx.string('dry-run') === 'server' || ctx.string('dry-run') === 'client';
		let exit = 0;
		const deleted: Victim[] = [];
		for (const victim of victims) {
			try {
				await client.delete(victim.type, victim.namespace, victim.name, {gracePeriodSeconds: grace, propagationPolicy, dryRun});
				ctx.out(`${victim.type.group ? `${victim.type.kind.toLowerCase()}.${victim.type.group}` : victim.type.kind.toLowerCase()} "${victim.name}" ${force && grace === 0 ? 'force deleted' : 'deleted'}${dryRun ? ' (dry run)' : ''}`);
				deleted.push(victim);
			} catch (error) {
				if (!(error instanceof StatusError)) throw error;
				if (error.code === 404 && ctx.bool('ignore-not-found')) continue;
				ctx.err(formatStatus(error.status, victim.source ? {verb: 'deleting', source: victim.source} : undefined));
				exit = 1;
			}
		}
		if (ctx.string('wait') !== 'false' && !dryRun) {
			const timeout = ctx.string('timeout') ? parseDuration(ctx.string('timeout')!) : 60_000;
			for (const victim of deleted) await waitGone(client, victim, timeout);
		}
		return exit;
	},
};

export function parseDuration(text: string): number {
	const m = text.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
	if (!m) throw new CliError(`error: invalid duration "${text}"`);
	const n = Number(m[1]);
	return n * ({ms: 1, s: 1000, m: 60_000, h: 3_600_000}[m[2] ?? 's'] ?? 1000);
}
