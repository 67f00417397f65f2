// A live list of one resource type for the dashboard: list, then watch from
// the list's resourceVersion; when the watch ends or expires, list again
// (client-go's informer pattern). React reads it with useSyncExternalStore.
// Kept cheap at 10,000 objects: names are kept in order by binary-search
// insertion (a full sort only after a relist), an optional tally (pods by
// status) is kept up to date per event, and a burst of events makes one
// snapshot per turn of the event loop. Given a projection (`{project:
// slimObject}`), it stores what the projection keeps of each object, list and
// watch alike, with repeated strings and subtrees shared through an Interner
// the feed keeps (emptied on each relist); without one, objects are stored
// as received.
import {formatStatus, StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import type {ResourceType} from '../api/resources.js';
import type {ClusterClient, Watch} from '../client/types.js';
import {Interner} from './slim.js';
import {objectKey as keyOf} from './table-model.js';

/** What a feed stores of an object instead of the object itself (slimObject is one). Must not change `obj`. */
export type Projection = (type: ResourceType, obj: KubeObject, interner: Interner) => KubeObject;

export interface FeedOptions {
	/** Applied to every object the feed stores (from the list and from the watch); the tally is taken of what it returns. */
	project?: Projection;
}

export interface FeedSnapshot {
	items: KubeObject[];
	/** forbidden: RBAC refuses the list or watch (the error says so in kubectl's words); asked again every 10 s. */
	state: 'loading' | 'live' | 'reconnecting' | 'error' | 'forbidden';
	error?: string;
	/** Objects per tally value ("Running" -> 3), when the feed keeps a tally. */
	tally: ReadonlyMap<string, number>;
}

/** Objects per page of a relist (kubectl's chunk size). */
const pageSize = 500;

/** Where `key` is, or would go, in the sorted `order`. */
function position(order: string[], key: string): number {
	let lo = 0, hi = order.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (order[mid] < key) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

export class ResourceFeed {
	private readonly objects = new Map<string, KubeObject>();
	private snapshot: FeedSnapshot = {items: [], state: 'loading', tally: new Map()};
	private readonly listeners = new Set<() => void>();
	private watch?: Watch;
	private stopped = false;
	/** Keys in list order ("namespace/name" sorts as kubectl lists: by namespace, then name). */
	private order: string[] = [];
	private readonly counts = new Map<string, number>();
	private publishScheduled = false;
	private state: FeedSnapshot['state'] = 'loading';
	private error?: string;

	private readonly project?: Projection;
	/** The strings and subtrees the projection shares, while there is one. */
	private readonly interner?: Interner;

	constructor(private readonly client: ClusterClient, readonly type: ResourceType, readonly namespace: string | undefined, private readonly tallyOf?: (obj: KubeObject) => string, options: FeedOptions = {}) {
		this.project = options.project;
		if (this.project) this.interner = new Interner();
		void this.run();
	}

	private stored(obj: KubeObject): KubeObject {
		return this.project ? this.project(this.type, obj, this.interner!) : obj;
	}

	private count(obj: KubeObject | undefined, delta: number): void {
		if (!obj || !this.tallyOf) return;
		const value = this.tallyOf(obj);
		const n = (this.counts.get(value) ?? 0) + delta;
		if (n === 0) this.counts.delete(value);
		else this.counts.set(value, n);
	}

	private async run(): Promise<void> {
		while (!this.stopped) {
			try {
				const resourceVersion = await this.relist();
				this.publish('live');
				this.watch = this.client.watch(this.type, {namespace: this.namespace, resourceVersion}, event => {
					if (event.type === 'ERROR' || event.type === 'BOOKMARK') return;
					const key = keyOf(event.object);
					const old = this.objects.get(key);
					this.count(old, -1);
					if (event.type === 'DELETED') {
						if (old) {
							this.objects.delete(key);
							this.order.splice(position(this.order, key), 1);
						}
					} else {
						if (!old) this.order.splice(position(this.order, key), 0, key);
						const obj = this.stored(event.object);
						this.objects.set(key, obj);
						this.count(obj, 1);
					}
					this.publish('live');
				});
				await this.watch.done;
			} catch (error) {
				if (error instanceof StatusError && (error.code === 403 || error.code === 401)) {
					// Not a lost connection: this user may not list these. Ask again now and then (a binding may come).
					this.publish('forbidden', formatStatus(error.status));
					await new Promise(r => setTimeout(r, 10_000).unref?.());
					continue;
				}
				this.publish('error', (error as Error).message);
			}
			if (this.stopped) return;
			this.publish('reconnecting');
			await new Promise(r => setTimeout(r, 500));
		}
	}

	/**
	 * List afresh, keeping what the projection keeps of each object; the list's resourceVersion.
	 * Its own method, so the list as received is not held (in `run`'s frame) while the watch runs.
	 */
	private async relist(): Promise<string | undefined> {
		this.objects.clear();
		this.counts.clear();
		this.interner?.clear();
		// In pages, so a long list is never held (and parsed) whole: each page's objects die young once projected.
		let resourceVersion: string | undefined;
		let token: string | undefined;
		do {
			const list = await this.client.list(this.type, {namespace: this.namespace, limit: pageSize, continue: token});
			resourceVersion ??= list.metadata.resourceVersion;
			for (const item of list.items) {
				const obj = this.stored(item);
				this.objects.set(keyOf(obj), obj);
				this.count(obj, 1);
			}
			token = list.metadata.continue || undefined;
		} while (token && !this.stopped);
		this.order = [...this.objects.keys()].sort();
		return resourceVersion;
	}

	private publish(state: FeedSnapshot['state'], error?: string): void {
		this.state = state;
		this.error = error;
		// A burst of watch events (a scale-up) becomes one snapshot per turn of the event loop, not one per event.
		if (this.publishScheduled) return;
		this.publishScheduled = true;
		setImmediate(() => {
			this.publishScheduled = false;
			this.snapshot = {items: this.order.map(key => this.objects.get(key)!), state: this.state, error: this.error, tally: new Map(this.counts)};
			for (const listener of this.listeners) listener();
		});
	}

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	getSnapshot = (): FeedSnapshot => this.snapshot;

	stop(): void {
		this.stopped = true;
		this.watch?.stop();
	}
}
