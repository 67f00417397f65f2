// Time for everything time-driven in the engine (backoff, heartbeats,
// deadlines), behind one interface so tests can drive it by hand.

export interface Clock {
	now(): number;
	setTimeout(fn: () => void, ms: number): {cancel(): void};
}

export const realClock: Clock = {
	now: () => Date.now(),
	setTimeout(fn, ms) {
		const timer = setTimeout(fn, ms);
		timer.unref?.();
		return {cancel: () => clearTimeout(timer)};
	},
};

/** A clock that moves only when told to; timers fire in due order. */
export class ManualClock implements Clock {
	private timers: {at: number; fn: () => void; id: number}[] = [];
	private nextId = 0;

	constructor(private time = Date.parse('2026-01-01T00:00:00Z')) {}

	now(): number {
		return this.time;
	}

	setTimeout(fn: () => void, ms: number) {
		const id = this.nextId++;
		this.timers.push({at: this.time + Math.max(0, ms), fn, id});
		return {cancel: () => (this.timers = this.timers.filter(t => t.id !== id))};
	}

	advance(ms: number): void {
		const until = this.time + ms;
		for (;;) {
			this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
			const due = this.timers[0];
			if (!due || due.at > until) break;
			this.timers.shift();
			this.time = due.at;
			due.fn();
		}
		this.time = until;
	}
}
