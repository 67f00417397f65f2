// `:pulses`, as k9s has it: the namespace at a glance, a picture to look at
// rather than a table to read. Pods by status as bars, each node's CPU and
// memory against what it can give (bars now, sparklines over the last
// minutes), and events per minute (Warnings apart). The Pulses object polls
// metrics and events while the view is open; pulsesLines draws them (pure).
import type {KubeObject} from '../api/object.js';
import {parseQuantity} from '../api/quantity.js';
import {resolveType} from '../api/resources.js';
import type {ClusterClient} from '../client/types.js';
import {Poller, sparkline} from './metrics-history.js';

type Rec = Record<string, any>;

export interface NodeUsage {
	cpu: number[];
	memory: number[];
}

export class Pulses extends Poller {
	readonly nodes = new Map<string, NodeUsage>();
	events: KubeObject[] = [];
	error?: string;

	constructor(private readonly client: ClusterClient, private readonly namespace: string | undefined, intervalMs = 5_000, private readonly keep = 36) {
		super(intervalMs);
	}

	protected async poll(): Promise<void> {
		const [metrics, events] = await Promise.allSettled([this.client.metrics('nodes'), this.client.list(resolveType('events')!, {namespace: this.namespace})]);
		if (metrics.status === 'fulfilled') {
			for (const m of metrics.value) {
				const usage = this.nodes.get(m.metadata.name!) ?? {cpu: [], memory: []};
				const u = ((m as Rec).usage ?? {}) as Rec;
				usage.cpu = [...usage.cpu, parseQuantity(u.cpu ?? '0') ?? 0].slice(-this.keep);
				usage.memory = [...usage.memory, parseQuantity(u.memory ?? '0') ?? 0].slice(-this.keep);
				this.nodes.set(m.metadata.name!, usage);
			}
		}
		this.error = metrics.status === 'rejected' ? `no node metrics: ${(metrics.reason as Error).message}` : undefined;
		if (events.status === 'fulfilled') this.events = events.value.items;
	}
}

export interface PulseLine {
	text: string;
	tone?: 'ok' | 'warning' | 'error' | 'accent';
}

/** A bar of `width` cells, `value` of `total` filled. */
export function bar(value: number, total: number, width = 30): string {
	const filled = total > 0 ? Math.max(value > 0 ? 1 : 0, Math.round((Math.min(value, total) / total) * width)) : 0;
	return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

const eventTime = (e: KubeObject): number => Date.parse((e as Rec).series?.lastObservedTime ?? (e as Rec).lastTimestamp ?? (e as Rec).eventTime ?? e.metadata.creationTimestamp ?? '') || 0;

/** Events per minute over the last `minutes`, oldest first; Warnings counted apart. */
export function eventsPerMinute(events: KubeObject[], now: number, minutes = 15): {all: number[]; warnings: number[]} {
	const all = new Array<number>(minutes).fill(0), warnings = new Array<number>(minutes).fill(0);
	for (const e of events) {
		const ago = Math.floor((now - eventTime(e)) / 60_000);
		if (ago < 0 || ago >= minutes) continue;
		const count = Number((e as Rec).count ?? (e as Rec).series?.count ?? 1) || 1;
		all[minutes - 1 - ago] += count;
		if ((e as Rec).type === 'Warning') warnings[minutes - 1 - ago] += count;
	}
	return {all, warnings};
}

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)}Mi`;
const millicores = (cores: number) => `${Math.round(cores * 1000)}m`;

/** The pulses screen as lines. */
export function pulsesLines(input: {namespace: string | undefined; podTally: ReadonlyMap<string, number>; nodes: KubeObject[]; pulses: Pulses; now: number}): PulseLine[] {
	const {podTally, nodes, pulses, now} = input;
	const lines: PulseLine[] = [];
	const total = [...podTally.values()].reduce((a, b) => a + b, 0);
	lines.push({text: `Pods in ${input.namespace ?? 'all namespaces'}: ${total}`, tone: 'accent'});
	const tone = (status: string): PulseLine['tone'] => (status === 'Running' || status === 'Completed' ? 'ok' : /Pending|ContainerCreating|Terminating|Init/.test(status) ? 'warning' : 'error');
	for (const [status, n] of [...podTally].sort((a, b) => b[1] - a[1])) lines.push({text: `  ${status.padEnd(20)} ${bar(n, total)} ${n}`, tone: tone(status)});
	if (total === 0) lines.push({text: '  no pods'});
	lines.push({text: ''}, {text: `Nodes: ${nodes.length}${pulses.error ? `  (${pulses.error})` : ''}`, tone: 'accent'});
	for (const node of nodes) {
		const ready = ((node.status as Rec)?.conditions ?? []).some((c: Rec) => c.type === 'Ready' && c.status === 'True');
		const allocatable = ((node.status as Rec)?.allocatable ?? {}) as Rec;
		const cpuTotal = parseQuantity(allocatable.cpu ?? '0') ?? 0, memTotal = parseQuantity(allocatable.memory ?? '0') ?? 0;
		const usage = pulses.nodes.get(node.metadata.name!);
		const cpu = usage?.cpu.at(-1) ?? 0, mem = usage?.memory.at(-1) ?? 0;
		lines.push({text: `  ${node.metadata.name} ${ready ? 'Ready' : 'NotReady'}`, tone: ready ? 'ok' : 'error'});
		lines.push({text: `    CPU ${bar(cpu, cpuTotal, 20)} ${millicores(cpu)}/${millicores(cpuTotal)}  ${usage ? sparkline(usage.cpu, 30) : ''}`});
		lines.push({text: `    MEM ${bar(mem, memTotal, 20)} ${mib(mem)}/${mib(memTotal)}  ${usage ? sparkline(usage.memory, 30) : ''}`});
	}
	const perMinute = eventsPerMinute(pulses.events, now);
	const warnings = perMinute.warnings.reduce((a, b) => a + b, 0);
	lines.push({text: ''}, {text: 'Events per minute, the last 15 minutes (oldest left)', tone: 'accent'});
	lines.push({text: `  all       ${sparkline(perMinute.all, 15)}  ${perMinute.all.reduce((a, b) => a + b, 0)} in all, ${perMinute.all.at(-1)} this minute`});
	lines.push({text: `  warnings  ${sparkline(perMinute.warnings, 15)}  ${warnings} in all`, tone: warnings ? 'warning' : undefined});
	return lines;
}
