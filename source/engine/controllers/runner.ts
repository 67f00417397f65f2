// The one runner every controller shares (client-go's workqueue plus
// controller-runtime's reconcile contract): event handlers only enqueue
// "namespace/name" keys; the runner dedupes them, runs one reconcile per key
// at a time, retries failures with exponential backoff, and honours
// requeueAfter. A reconcile reads desired and observed state afresh, takes a
// step, and writes status.
import {StatusError} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import type {Store, WatchEvent} from '../../store/store.js';
import type {Clock} from '../clock.js';

export interface ReconcileResult {
	requeueAfter?: number;
}

export interface Watched {
	resource: string;
	/** Keys to enqueue for an event; default: the object's own key. */
	keys?: (obj: KubeObject, event: WatchEvent['type']) => string[];
}

export interface Controller {
	name: string;
	/** The resource whose keys this controller reconciles; all its objects are queued at start. */
	primary: string;
	watches: Watched[];
	reconcile(key: string): Promise<ReconcileResult | void>;
	/** Keys to queue at start besides the primary objects' (dependents whose owner may be gone). */
	initialKeys?(): string[];
}

export const keyOf = (obj: KubeObject) => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

export function splitKey(key: string): [string, string] {
	const slash = key.indexOf('/');
	return [key.slice(0, slash), key.slice(slash + 1)];
}

/** The controller owner's key from a dependent's ownerReferences, if the owner is of `kind`. */
export function ownerKeys(kind: string) {
	return (obj: KubeObject) => {
		const owner = obj.metadata.ownerReferences?.find(r => r.controller && r.kind === kind);
		return owner ? [`${obj.metadata.namespace ?? ''}/${owner.name}`] : [];
	};
}

const baseDelay = 5;
const maxDelay = 60_000;
/**
 * Reconciles running at once per controller (client-go's worker count). It
 * bounds the memory a burst (a 10,000-replica scale-up) holds in flight, while
 * leaving enough writes in flight to fill each group commit.
 */
export const defaultWorkers = 1000;

export class ControllerRunner {
	private readonly queue = new Set<string>();
	private readonly active = new Set<string>();
	private readonly dirty = new Set<string>();
	private readonly failures = new Map<string, number>();
	private readonly timers = new Map<string, {cancel(): void}>();
	private readonly unsubscribe: (() => void)[] = [];
	private scheduled = false;
	private stopped = false;
	private inFlight = 0;
	private idleWaiters: (() => void)[] = [];

	constructor(private readonly controller: Controller, private readonly store: Store, private readonly clock: Clock, private readonly log: (line: string) => void = () => {}, private readonly workers = defaultWorkers) {}

	start(): void {
		const rv = Number(this.store.resourceVersion);
		for (const w of this.controller.watches) {
			this.unsubscribe.push(this.store.watch(w.resource, undefined, rv, event => {
				for (const key of w.keys ? w.keys(event.object, event.type) : [keyOf(event.object)]) this.enqueue(key);
			}));
		}
		for (const obj of this.store.scan(this.controller.primary)) this.enqueue(keyOf(obj));
		for (const key of this.controller.initialKeys?.() ?? []) this.enqueue(key);
	}

	stop(): void {
		this.stopped = true;
		for (const u of this.unsubscribe) u();
		for (const t of this.timers.values()) t.cancel();
		this.timers.clear();
	}

	enqueue(key: string): void {
		if (this.stopped) return;
		if (this.active.has(key)) {
			this.dirty.add(key);
			return;
		}
		this.queue.add(key);
		if (!this.scheduled) {
			this.scheduled = true;
			setImmediate(() => this.drain());
		}
	}

	/** Enqueue after a delay (requeueAfter, backoff); a sooner request wins. */
	enqueueAfter(key: string, ms: number): void {
		this.timers.get(key)?.cancel();
		// Now means now, not a timer: a clock that moves only when told (tests) would hold it back.
		if (ms <= 0) {
			this.timers.delete(key);
			return this.enqueue(key);
		}
		this.timers.set(key, this.clock.setTimeout(() => {
			this.timers.delete(key);
			this.enqueue(key);
		}, ms));
	}

	private drain(): void {
		this.scheduled = false;
		for (const key of this.queue) {
			if (this.inFlight >= this.workers) break;
			this.queue.delete(key);
			void this.process(key);
		}
	}

	private async process(key: string): Promise<void> {
		this.active.add(key);
		this.inFlight++;
		try {
			const result = await this.controller.reconcile(key);
			this.failures.delete(key);
			if (result?.requeueAfter !== undefined) this.enqueueAfter(key, result.requeueAfter);
		} catch (error) {
			const n = (this.failures.get(key) ?? 0) + 1;
			this.failures.set(key, n);
			// Conflicts are expected when two writers race: retry at once, quietly.
			const isConflict = error instanceof StatusError && error.code === 409;
			if (!isConflict && !this.stopped) this.log(`${this.controller.name}: reconcile ${key} failed (attempt ${n}): ${(error as Error).message}`);
			if (!this.stopped) this.enqueueAfter(key, isConflict ? 0 : Math.min(maxDelay, baseDelay * 2 ** n));
		} finally {
			this.active.delete(key);
			this.inFlight--;
			if (this.dirty.delete(key)) this.enqueue(key);
			else if (this.queue.size > 0 && !this.scheduled) {
				this.scheduled = true;
				setImmediate(() => this.drain());
			}
			if (this.inFlight === 0 && this.queue.size === 0) for (const w of this.idleWaiters.splice(0)) w();
		}
	}

	/** Resolves when nothing is queued or running (for tests). */
	idle(): Promise<void> {
		if (this.inFlight === 0 && this.queue.size === 0 && !this.scheduled) return Promise.resolve();
		return new Promise(resolve => this.idleWaiters.push(resolve));
	}
}
