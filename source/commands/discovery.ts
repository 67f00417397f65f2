// kubectl api-resources, and the cluster summary `kubedeck` prints until the
// dashboard takes over the no-argument case.
import {apiVersionOf, knownKind, resourceTypes} from '../api/resources.js';
import {podStatus} from '../render/columns.js';
import {alignColumns} from '../render/format.js';
import type {Command, CommandContext} from './context.js';

export const apiResourcesCommand: Command = {
	name: 'api-resources',
	summary: 'Print the supported API resources',
	usage: 'kubedeck api-resources [-o name]',
	flags: {output: {type: 'string', short: 'o'}},
	async run(ctx: CommandContext) {
		if (ctx.string('output') === 'name') {
			ctx.out(resourceTypes.map(t => (t.group ? `${t.plural}.${t.group}` : t.plural)).join('\n'));
			return 0;
		}
		const rows = [['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND'],
			...[...resourceTypes].sort((a, b) => a.plural.localeCompare(b.plural)).map(t => [t.plural, t.shortNames.join(','), apiVersionOf(t), String(t.namespaced), t.kind])];
		ctx.out(alignColumns(rows));
		return 0;
	},
};

export const summaryCommand: Command = {
	name: 'summary',
	summary: 'Show what runs on the cluster: namespaces, nodes, pods by status, workloads',
	usage: 'kubedeck summary',
	flags: {},
	async run(ctx: CommandContext) {
		const client = await ctx.client();
		const count = async (kind: string) => (await client.list(knownKind(kind)!)).items;
		const [namespaces, nodes, pods, deployments, services] = await Promise.all(['Namespace', 'Node', 'Pod', 'Deployment', 'Service'].map(count));
		const byStatus = new Map<string, number>();
		for (const pod of pods) byStatus.set(podStatus(pod), (byStatus.get(podStatus(pod)) ?? 0) + 1);
		ctx.out(`Cluster:      ${client.description}`);
		ctx.out(`Namespaces:   ${namespaces.map(n => n.metadata.name).join(', ')}`);
		ctx.out(`Nodes:        ${nodes.length}`);
		ctx.out(`Pods:         ${pods.length}${byStatus.size ? ` (${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}`);
		ctx.out(`Deployments:  ${deployments.length}`);
		ctx.out(`Services:     ${services.length}`);
		ctx.out('\nTry: kubedeck apply -f examples/   then   kubedeck get all');
		return 0;
	},
};
