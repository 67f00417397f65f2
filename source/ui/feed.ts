// A live list of one resource type for the dashboard: list, then watch from
// the list's resourceVersion; when the watch ends or expires, list again
// (client-go's informer pattern). React reads it with useSyncExternalStore.
import type {KubeObject} from '../api/object.js';
import type {ResourceType} from '../api/resources.js';
import type {ClusterClient, Watch} from '../client/types.js';

export interface FeedSnapshot {
	items: KubeObject[];
	state: 'loading' | 'live' | 'reconnecting' | 'error';
	error?: string;
}

export class ResourceFeed {
	private readonly objects = new Map<string, KubeObject>();
	private snapshot: FeedSnapshot = {items: [], state: 'loading'};
	private readonly listeners = new Set<() => void>();
	private watch?: Watch;
	private stopped = false;
	/** Keys in list order ("namespace/name" sorts as kubectl lists: by namespace, then name). */
	private order: string[] = [];
	private membershipChanged = false;
	private publishScheduled = false;
	private state: FeedSnapshot['state'] = 'loading';
	private error?: string;

	constructor(private readonly client: ClusterClient, readonly type: ResourceType, readonly namespace: string | undefined) {
		void this.run();
	}

	private async run(): Promise<void> {
		while (!this.stopped) {
			try {
				const list = await this.client.list(this.type, {namespace: this.namespace});
				this.objects.clear();
				this.membershipChanged = true;
				for (const obj of list.items) this.objects.set(`${obj.metadata.namespace}/${obj.metadata.name}`, obj);
				this.publish('live');
				this.watch = this.client.watch(this.type, {namespace: this.namespace, resourceVersion: list.metadata.resourceVersion}, event => {
					if (event.type === 'ERROR' || event.type === 'BOOKMARK') return;
					const key = `${event.object.metadata.namespace}/${event.object.metadata.name}`;
					if (event.type === 'DELETED') this.membershipChanged = this.objects.delete(key) || this.membershipChanged;
					else {
						if (!this.objects.has(key)) this.membershipChanged = true;
						this.objects.set(key, event.object);
					}
					this.publish('live');
				});
				await this.watch.done;
			} catch (error) {
				this.publish('error', (error as Error).message);
			}
			if (this.stopped) return;
			this.publish('reconnecting');
			await new Promise(r => setTimeout(r, 500));
		}
	}

	private publish(state: FeedSnapshot['state'], error?: string): void {
		this.state = state;
		this.error = error;
		// A burst of watch events (a scale-up) becomes one snapshot per turn of the event loop, not one per event.
		if (this.publishScheduled) return;
		this.publishScheduled = true;
		setImmediate(() => {
			this.publishScheduled = false;
			// Sort only when the set of names changed; a modification keeps its place.
			if (this.order.length !== this.objects.size || this.membershipChanged) {
				this.order = [...this.objects.keys()].sort();
				this.membershipChanged = false;
			}
			this.snapshot = {items: this.order.map(key => this.objects.get(key)!), state: this.state, error: this.error};
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
