// kubectl top pods|nodes: CPU and memory from metrics.k8s.io.
import {knownKind} from '../api/resources.js';
import {parseQuantity} from '../api/quantity.js';
import {alignColumns, formatCores, formatMebibytes} from '../render/format.js';
import {type Command, type CommandContext} from './context.js';
import {CliError} from '../client/errors.js';

type Rec = Record<string, any>;

const cores = (q: string) => formatCores(parseQuantity(q) ?? 0);
const mebibytes = (q: string) => formatMebibytes(parseQuantity(q) ?? 0);

export const topCommand: Command = {
	name: 'top',
	summary: 'Display resource (CPU/memory) usage of pods or nodes',
	usage: 'kubedeck top pods [NAME] [-A] [--containers] | top nodes',
	flags: {'all-namespaces': {type: 'boolean', short: 'A'}, containers: {type: 'boolean'}, 'no-headers': {type: 'boolean'}},
	async run(ctx: CommandContext) {
		const [what, name] = ctx.positionals;
		const client = await ctx.client();
		if (what === 'node' || what === 'nodes' || what === 'no') {
			const metrics = await client.metrics('nodes');
			const nodes = new Map((await client.list(knownKind('Node')!)).items.map(n => [n.metadata.name, n]));
			const rows = metrics.filter(m => !name || m.metadata.name === name).map(m => {
				const alloc = ((nodes.get(m.metadata.name)?.status as Rec)?.allocatable ?? {}) as Rec;
				const usage = m.usage as Rec;
				const pct = (used: string, total: string) => `${Math.round(((parseQuantity(used) ?? 0) / (parseQuantity(total ?? '0') || 1)) * 100)}%`;
				return [m.metadata.name!, cores(usage.cpu), pct(usage.cpu, alloc.cpu), mebibytes(usage.memory), pct(usage.memory, alloc.memory)];
			});
			ctx.out(alignColumns([...(ctx.bool('no-headers') ? [] : [['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']]), ...rows]));
			return 0;
		}
		if (what !== 'pod' && what !== 'pods' && what !== 'po') throw new CliError('error: kubedeck top supports "pods" and "nodes"');
		const all = ctx.bool('all-namespaces');
		const metrics = (await client.metrics('pods', all ? undefined : ctx.namespace)).filter(m => !name || m.metadata.name === name);
		if (metrics.length === 0) {
			if (name) throw new CliError(`error: metrics not available yet for pod ${ctx.namespace}/${name}`);
			ctx.err(`No resources found in ${ctx.namespace} namespace.`);
			return 0;
		}
		const header = [...(all ? ['NAMESPACE'] : []), 'NAME', ...(ctx.bool('containers') ? ['CONTAINER'] : []), 'CPU(cores)', 'MEMORY(bytes)'];
		const rows: string[][] = [];
		for (const m of metrics) {
			const containers = m.containers as {name: string; usage: Rec}[];
			const prefix = [...(all ? [m.metadata.namespace!] : []), m.metadata.name!];
			if (ctx.bool('containers')) for (const c of containers) rows.push([...prefix, c.name, cores(c.usage.cpu), mebibytes(c.usage.memory)]);
			else {
				const cpu = containers.reduce((n, c) => n + (parseQuantity(c.usage.cpu) ?? 0), 0);
				const mem = containers.reduce((n, c) => n + (parseQuantity(c.usage.memory) ?? 0), 0);
				rows.push([...prefix, formatCores(cpu), formatMebibytes(mem)]);
			}
		}
		ctx.out(alignColumns([...(ctx.bool('no-headers') ? [] : [header]), ...rows]));
		return 0;
	},
};
