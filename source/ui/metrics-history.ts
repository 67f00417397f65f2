// CPU and memory per pod over the last minute, for the sparklines in the
// pods list: metrics.k8s.io polled every few seconds while pods are on
// screen, a short ring of samples per pod, pods that went away forgotten.
import {parseQuantity} from '../api/quantity.js';
import type {ClusterClient} from '../client/types.js';

const bars = '▁▂▃▄▅▆▇█';

export interface PodUsage {
	cpu: number[];
	memory: number[];
}

/** A sparkline scaled to its own peak (values of 0 draw the lowest bar). */
export function sparkline(values: number[], width = 8): string {
	const shown = values.slice(-width);
	const peak = Math.max(...shown, 0);
	return shown.map(v => bars[peak > 0 ? Math.min(bars.length - 1, Math.round((v / peak) * (bars.length - 1))) : 0]).join('');
}

export class MetricsHistory {
	private readonly pods = new Map<string, PodUsage>();
	private readonly listeners = new Set<() => void>();
	private timer?: NodeJS.Timeout;
	/** Bumped on every poll, for React. */
	version = 0;
	error?: string;

	constructor(private readonly client: ClusterClient, private readonly namespace: string | undefined, private readonly intervalMs = 5_000, private readonly keep = 12) {}

	start(): void {
		if (this.timer) return;
		void this.poll();
		this.timer = setInterval(() => void this.poll(), this.intervalMs);
		this.timer.unref?.();
	}

	stop(): void {
		clearInterval(this.timer);
		this.timer = undefined;
		this.listeners.clear();
	}

	get(namespace: string, name: string): PodUsage | undefined {
		return this.pods.get(`${namespace}/${name}`);
	}

	private async poll(): Promise<void> {
		try {
			const items = await this.client.metrics('pods', this.namespace);
			const seen = new Set<string>();
			for (const item of items) {
				const key = `${item.metadata.namespace}/${item.metadata.name}`;
				seen.add(key);
				let cpu = 0, memory = 0;
				for (const c of (item.containers ?? []) as {usage?: {cpu?: string; memory?: string}}[]) {
					cpu += parseQuantity(c.usage?.cpu ?? '0') ?? 0;
					memory += parseQuantity(c.usage?.memory ?? '0') ?? 0;
				}
				const usage = this.pods.get(key) ?? {cpu: [], memory: []};
				usage.cpu = [...usage.cpu, cpu].slice(-this.keep);
				usage.memory = [...usage.memory, memory].slice(-this.keep);
				this.pods.set(key, usage);
			}
			for (const key of this.pods.keys()) if (!seen.has(key)) this.pods.delete(key);
			this.error = undefined;
		} catch (error) {
			// No metrics (a cluster without metrics-server): the columns say so instead of failing.
			this.error = (error as Error).message;
		}
		this.version++;
		for (const listener of this.listeners) listener();
	}

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	getVersion = (): number => this.version;
}
