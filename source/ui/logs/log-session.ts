// The log pane's streams: one per pod (a workload's pods are interleaved,
// each line tagged with its pod), always with timestamps so that a
// reconnect resumes where the stream stopped without repeating lines. The
// state is always known (connecting, streaming, idle, reconnecting, ended,
// error) and a dropped stream reconnects by itself with backoff: k9s users'
// most filed complaints are logs that stall silently and logs that stop.
import {StatusError} from '../../api/errors.js';
import type {ClusterClient, LogStream} from '../../client/types.js';
import {LogBuffer} from './log-buffer.js';

export type StreamState = 'connecting' | 'streaming' | 'idle' | 'reconnecting' | 'ended' | 'error';

export interface LogTarget {
	namespace: string;
	pod: string;
	container?: string;
	/** The prefix of its lines when several streams share the pane ('' for one). */
	source: string;
}

export interface LogSessionOptions {
	previous?: boolean;
	/** Lines to start with from each stream (kubectl --tail). */
	tailLines?: number;
	capacity?: number;
	/** How often listeners hear of new lines at most (a 10,000 lines/s pod must not mean 10,000 redraws). */
	notifyMs?: number;
}

const idleAfterMs = 10_000;

export class LogSession {
	readonly buffer: LogBuffer;
	state: StreamState = 'connecting';
	error?: string;
	private readonly streams = new Map<string, LogStream>();
	private readonly listeners = new Set<() => void>();
	private notifyTimer?: NodeJS.Timeout;
	private stopped = false;
	private lastLineAt = Date.now();

	constructor(private readonly client: ClusterClient, readonly targets: LogTarget[], readonly options: LogSessionOptions = {}) {
		this.buffer = new LogBuffer(options.capacity ?? 10_000);
		for (const target of targets) void this.run(target);
	}

	/** The state as a person reads it: streaming with nothing new for a while is idle. */
	get displayState(): StreamState {
		return this.state === 'streaming' && Date.now() - this.lastLineAt > idleAfterMs ? 'idle' : this.state;
	}

	private async run(target: LogTarget): Promise<void> {
		let backoff = 500;
		let first = true;
		while (!this.stopped) {
			const since = this.buffer.lastTimestamp(target.source);
			let sawLines = false;
			try {
				const stream = this.client.logs(target.namespace, target.pod, {
					container: target.container, follow: !this.options.previous, previous: this.options.previous, timestamps: true,
					...(since ? {sinceTime: since} : {tailLines: first ? this.options.tailLines ?? 1000 : undefined}),
				}, text => {
					// On a reconnect the server resends lines at `since` itself: skip what is already here.
					const lines = since ? text.split(/(?<=\n)/).filter(l => !(l.slice(0, l.indexOf(' ')) <= since)) : [text];
					if (lines.length === 0) return;
					sawLines = true;
					this.lastLineAt = Date.now();
					this.buffer.append(lines.join(''), target.source);
					this.setState('streaming');
				});
				this.streams.set(target.source, stream);
				if (!sawLines) this.setState(first ? 'connecting' : 'streaming');
				first = false;
				await stream.done;
				backoff = 500;
				if (this.options.previous || this.stopped) {
					this.setState('ended');
					return;
				}
				// The container instance stopped (or the engine closed the stream): say so, and look again
				// in a moment, since a restarted container logs on.
				this.setState('ended');
				await this.sleep(2_000);
			} catch (error) {
				if (this.stopped) return;
				const status = error instanceof StatusError ? error.code : 0;
				this.error = error instanceof StatusError ? error.message : `${(error as Error).message}`;
				if (status === 404 || status === 400) {
					// The pod is gone, or has no such container or previous instance: nothing to wait for.
					this.setState('error');
					return;
				}
				this.setState('reconnecting');
				await this.sleep(backoff);
				backoff = Math.min(backoff * 2, 5_000);
			}
		}
	}

	private sleep(ms: number): Promise<void> {
		return new Promise(resolve => {
			const timer = setTimeout(resolve, ms);
			timer.unref?.();
		});
	}

	private setState(state: StreamState): void {
		// With several streams, one that streams wins over one that ended.
		if (state === 'ended' && this.targets.length > 1 && this.state === 'streaming') return;
		if (state !== 'error' && state !== 'reconnecting') this.error = undefined;
		this.state = state;
		this.notify();
	}

	/**
	 * Read older lines back from the engine's log files (one stream only):
	 * the `count` lines before the first line in memory. Returns how many came.
	 */
	async readBack(count: number): Promise<number> {
		if (this.targets.length !== 1) return 0;
		const target = this.targets[0];
		const first = this.buffer.at(0);
		const text = await new Promise<string>((resolve, reject) => {
			let all = '';
			const stream = this.client.logs(target.namespace, target.pod, {container: target.container, previous: this.options.previous, timestamps: true, tailLines: this.buffer.length + count}, t => (all += t));
			stream.done.then(() => resolve(all), reject);
		});
		const lines = text.split('\n').filter(Boolean);
		const firstRaw = first ? `${first.ts ? `${first.ts} ` : ''}${first.text}` : undefined;
		const at = firstRaw ? lines.indexOf(firstRaw) : lines.length;
		const older = lines.slice(0, at < 0 ? Math.max(0, lines.length - this.buffer.length) : at).slice(-count);
		if (older.length) this.buffer.prepend(older, target.source);
		this.notify();
		return older.length;
	}

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	private notify(): void {
		if (this.notifyTimer) return;
		this.notifyTimer = setTimeout(() => {
			this.notifyTimer = undefined;
			for (const listener of this.listeners) listener();
		}, this.options.notifyMs ?? 50);
	}

	stop(): void {
		this.stopped = true;
		clearTimeout(this.notifyTimer);
		for (const stream of this.streams.values()) stream.stop();
		this.listeners.clear();
	}
}
