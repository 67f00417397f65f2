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

/**
 * Something the dashboard polls while a view shows it (metrics, pulses): started and stopped
 * with the view, and a version React subscribes to, bumped after each poll.
 */
export abstract class Poller {
	private timer?: NodeJS.Timeout;
	private readonly listeners = new Set<() => void>();
	/** Bumped on every poll, for React. */
	version = 0;

	constructor(private readonly intervalMs: number) {}

	protected abstract poll(): Promise<void>;

	start(): void {
		if (this.timer) return;
		void this.tick();
		this.timer = setInterval(() => void this.tick(), this.intervalMs);
		this.timer.unref?.();
	}

	stop(): void {
		clearInterval(this.timer);
		this.timer = undefined;
		this.listeners.clear();
	}

	private async tick(): Promise<void> {
		await this.poll();
		this.version++;
		for (const listener of this.listeners) listener();
	}

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	getVersion = (): number => this.version;
}

export class MetricsHistory extends Poller {
	private readonly pods = new Map<string, PodUsage>();
	error?: string;

	constructor(private readonly client: ClusterClient, private readonly namespace: string | undefined, intervalMs = 5_000, private readonly keep = 12) {
		super(intervalMs);
	}

	get(namespace: string, name: string): PodUsage | undefined {
		return this.pods.get(`${namespace}/${name}`);
	}

	protected async poll(): Promise<void> {
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
	}
}
