// The state file: every object in one SQLite database (WAL), the way k3s keeps
// Kubernetes state in SQLite through kine. The store gives the API server's
// storage semantics: uid, creationTimestamp, one global monotonic
// resourceVersion, generation, optimistic concurrency, finalizers, watch.
//
// Durability: synchronous=FULL, so a write is fsync'd before it is
// acknowledged (etcd's promise). To keep that cheap, writes are group
// committed: every write queued during one turn of the event loop reaches
// SQLite in one transaction, and all are acknowledged after its one commit.
//
// A write runs against memory first (its Transaction records what it changes,
// reads see its own and the batch's earlier changes); only the writes that
// succeed reach SQLite, once per object at the end of the batch. So a failed
// write needs no savepoint to undo, and an object written twice in one batch
// (a binding and a status update) costs one row write.
//
// Opening the file, and refusing one that is missing, emptied or unreadable, is
// state-file.ts's.
import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import {alreadyExists, conflict, expired, notFound} from '../api/errors.js';
import {deepEqual, type KubeObject} from '../api/object.js';
import type {ResourceType} from '../api/resources.js';
import {isoTime} from '../api/time.js';
import type {SecretBox} from './crypto.js';
import {openStateFile, readObjects, stateFilePath} from './state-file.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
	type: WatchEventType;
	resource: string;
	namespace: string;
	rv: number;
	/** The object as JSON (with its new resourceVersion). */
	json: string;
	object: KubeObject;
}

interface Entry {
	object: KubeObject;
	json: string;
}

type Change = {entry: Entry | null; type: WatchEventType; resource: string; namespace: string; name: string};

export interface StoreOptions {
	/** SQLite synchronous setting; FULL (the default) fsyncs every commit. */
	synchronous?: 'FULL' | 'NORMAL' | 'OFF';
	/** How many events the watch history keeps before older ones are compacted. */
	historySize?: number;
	now?: () => Date;
}

export interface ListResult {
	items: KubeObject[];
	resourceVersion: string;
}

export interface ListOptions {
	filter?: (obj: KubeObject) => boolean;
}

function keyOf(namespace: string, name: string): string {
	return `${namespace}/${name}`;
}

/**
 * A transaction's view: reads see its own writes; writes are applied to the
 * shared cache only when the whole batch commits.
 */
export class Transaction {
	readonly changes = new Map<string, Change>();

	/**
	 * @param committed what earlier writes of the same batch changed: they are
	 * not in the store's cache until the batch commits, but this write must see them.
	 */
	constructor(private readonly store: Store, private readonly committed: Map<string, Change> = new Map()) {}

	private change(resource: string, namespace: string, name: string): Change | undefined {
		const key = `${resource}|${keyOf(namespace, name)}`;
		return this.changes.get(key) ?? this.committed.get(key);
	}

	get(resource: string, namespace: string, name: string): KubeObject | undefined {
		const change = this.change(resource, namespace, name);
		if (change) return change.entry ? JSON.parse(change.entry.json) : undefined;
		return this.store.get(resource, namespace, name);
	}

	/**
	 * The current object without a copy: read it, or build the next version
	 * from shallow copies of it ({...old, status}); never mutate it. The store
	 * keeps its own parsed copy of whatever is written.
	 */
	peek(resource: string, namespace: string, name: string): KubeObject | undefined {
		const change = this.change(resource, namespace, name);
		if (change) return change.entry?.object;
		return this.store.peek(resource, namespace, name);
	}

	list(resource: string, namespace?: string): KubeObject[] {
		const base = new Map(this.store.list(resource, namespace).items.map(o => [keyOf(o.metadata.namespace ?? '', o.metadata.name!), o]));
		for (const change of [...this.committed.values(), ...this.changes.values()]) {
			if (change.resource !== resource || (namespace && change.namespace !== namespace)) continue;
			const key = keyOf(change.namespace, change.name);
			if (change.entry) base.set(key, JSON.parse(change.entry.json));
			else base.delete(key);
		}
		return [...base.values()].sort(compareObjects);
	}

	/** Create: AlreadyExists if the name is taken. Assigns uid, timestamps, rv, generation. */
	create(type: ResourceType, obj: KubeObject): KubeObject {
		const namespace = type.namespaced ? obj.metadata.namespace ?? '' : '';
		const name = obj.metadata.name!;
		if (this.peek(type.plural, namespace, name)) throw alreadyExists(type, name);
		const meta = obj.metadata;
		// The registry assigns the uid before defaulting; direct store users get one here.
		meta.uid ??= crypto.randomUUID();
		meta.creationTimestamp = this.store.timestamp();
		meta.generation = 1;
		delete meta.deletionTimestamp;
		delete meta.deletionGracePeriodSeconds;
		if (!type.namespaced) delete meta.namespace;
		return this.put(type, obj, 'ADDED');
	}

	/**
	 * Update: NotFound if missing, Conflict if metadata.resourceVersion is set
	 * and stale. Keeps uid and creationTimestamp; bumps generation when the
	 * spec (or other non-metadata, non-status content) changed.
	 */
	update(type: ResourceType, obj: KubeObject): KubeObject {
		const namespace = type.namespaced ? obj.metadata.namespace ?? '' : '';
		const name = obj.metadata.name!;
		const old = this.peek(type.plural, namespace, name);
		if (!old) throw notFound(type, name);
		if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(type, name);
		if (obj.metadata.uid && obj.metadata.uid !== old.metadata.uid) {
			throw conflict(type, name, `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
		}
		const meta = obj.metadata;
		meta.uid = old.metadata.uid;
		meta.creationTimestamp = old.metadata.creationTimestamp;
		meta.generation = old.metadata.generation ?? 1;
		// deletionTimestamp can be set only by delete, never cleared by update.
		if (old.metadata.deletionTimestamp) {
			meta.deletionTimestamp = old.metadata.deletionTimestamp;
			meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
		} else {
			delete meta.deletionTimestamp;
			delete meta.deletionGracePeriodSeconds;
		}
		if (specChanged(old, obj)) meta.generation += 1;
		// A write that changes nothing is not a write: same resourceVersion, no event (as kube-apiserver).
		meta.resourceVersion = old.metadata.resourceVersion;
		if (deepEqual(old, obj)) return structuredClone(old);
		// An object marked for deletion goes away once its last finalizer is removed.
		if (meta.deletionTimestamp && !(meta.finalizers?.length)) return this.remove(type, obj);
		return this.put(type, obj, 'MODIFIED');
	}

	/**
	 * Delete: objects with finalizers are only marked (deletionTimestamp);
	 * the rest are removed. Preconditions as in metav1.DeleteOptions.
	 */
	delete(type: ResourceType, namespace: string, name: string, options: {uid?: string; resourceVersion?: string; gracePeriodSeconds?: number} = {}): {object: KubeObject; removed: boolean} {
		const ns = type.namespaced ? namespace : '';
		const old = this.get(type.plural, ns, name);
		if (!old) throw notFound(type, name);
		if (options.uid && options.uid !== old.metadata.uid) {
			throw conflict(type, name, `Precondition failed: UID in precondition: ${options.uid}, UID in object meta: ${old.metadata.uid}`);
		}
		if (options.resourceVersion && options.resourceVersion !== old.metadata.resourceVersion) {
			throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${options.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
		}
		if (old.metadata.finalizers?.length) {
			if (!old.metadata.deletionTimestamp) {
				old.metadata.deletionTimestamp = this.store.timestamp();
				old.metadata.deletionGracePeriodSeconds = options.gracePeriodSeconds ?? 0;
				return {object: this.put(type, old, 'MODIFIED'), removed: false};
			}
			return {object: old, removed: false};
		}
		return {object: this.remove(type, old), removed: true};
	}

	/** Mark an object as being deleted without removing it (graceful pod deletion). */
	markDeleting(type: ResourceType, obj: KubeObject, gracePeriodSeconds: number): KubeObject {
		obj.metadata.deletionTimestamp ??= this.store.timestamp();
		obj.metadata.deletionGracePeriodSeconds = gracePeriodSeconds;
		return this.put(type, obj, 'MODIFIED');
	}

	private remove(type: ResourceType, obj: KubeObject): KubeObject {
		const namespace = type.namespaced ? obj.metadata.namespace ?? '' : '';
		const rv = this.store.nextResourceVersion();
		obj.metadata.resourceVersion = String(rv);
		this.changes.set(`${type.plural}|${keyOf(namespace, obj.metadata.name!)}`, {
			entry: null, type: 'DELETED', resource: type.plural, namespace, name: obj.metadata.name!,
		});
		this.store.recordEvent({type: 'DELETED', resource: type.plural, namespace, rv, json: JSON.stringify(obj), object: obj});
		return obj;
	}

	private put(type: ResourceType, obj: KubeObject, eventType: WatchEventType): KubeObject {
		const namespace = type.namespaced ? obj.metadata.namespace ?? '' : '';
		const rv = this.store.nextResourceVersion();
		obj.metadata.resourceVersion = String(rv);
		const json = JSON.stringify(obj);
		// The cache keeps its own copy: the caller may go on mutating `obj`.
		const entry = {object: JSON.parse(json) as KubeObject, json};
		this.changes.set(`${type.plural}|${keyOf(namespace, obj.metadata.name!)}`, {entry, type: eventType, resource: type.plural, namespace, name: obj.metadata.name!});
		this.store.recordEvent({type: eventType, resource: type.plural, namespace, rv, json, object: entry.object});
		// The caller's object, now as stored; the cache keeps its own copy.
		return obj;
	}
}

/** Did anything besides metadata and status change? (generation rule of the API server) */
function specChanged(old: KubeObject, next: KubeObject): boolean {
	return !deepEqual(stripMetaStatus(old), stripMetaStatus(next));
}

function stripMetaStatus(o: KubeObject): Record<string, unknown> {
	const {metadata: _m, status: _s, ...rest} = o;
	return rest;
}

/** The first index of `entries` (in list order) at or after namespace/name. */
export function firstAtOrAfter<T>(entries: readonly T[], namespace: string, name: string, objectOf: (entry: T) => KubeObject = e => (e as {object: KubeObject}).object): number {
	let lo = 0, hi = entries.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		const m = objectOf(entries[mid]).metadata;
		const ns = m.namespace ?? '', n = m.name ?? '';
		if (ns < namespace || (ns === namespace && n < name)) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

export function compareObjects(a: KubeObject, b: KubeObject): number {
	const an = a.metadata.namespace ?? '', bn = b.metadata.namespace ?? '';
	if (an !== bn) return an < bn ? -1 : 1;
	const aname = a.metadata.name ?? '', bname = b.metadata.name ?? '';
	return aname < bname ? -1 : aname > bname ? 1 : 0;
}

interface Watcher {
	resource: string;
	namespace: string;
	send: (event: WatchEvent) => void;
}

interface PendingWrite {
	run: (tx: Transaction) => unknown;
	resolve: (value: any) => void;
	reject: (error: unknown) => void;
}

/** A write after close (a controller's last step racing the engine's stop). */
export class StoreClosedError extends Error {
	constructor() {
		super('the state store is closed');
	}
}

export class Store {
	readonly db: Database.Database;
	readonly box: SecretBox;
	readonly statements: {put: Database.Statement; remove: Database.Statement; setRv: Database.Statement};
	private readonly cache = new Map<string, Map<string, Entry>>();
	/** Each resource's entries in list order, made on the first list after a change (sortedEntries). */
	private readonly sorted = new Map<string, Entry[]>();
	private rv: number;
	/**
	 * Recent events for watches that resume from a resourceVersion; JSON only, parsed on replay, to keep
	 * memory down. A ring: dropping the oldest of a 2,000-element array with splice moved every other
	 * element on every write (14 µs each, an eighth of a write's cost).
	 */
	private readonly history: Omit<WatchEvent, 'object'>[] = [];
	private historyStart = 0;
	private readonly historySize: number;
	/** The oldest resourceVersion a watch may start from. */
	private compactedRv: number;
	private readonly watchers = new Set<Watcher>();
	private queue: PendingWrite[] = [];
	private flushScheduled = false;
	private batchEvents: WatchEvent[] | null = null;
	private readonly now: () => Date;
	private closed = false;

	constructor(readonly dir: string, options: StoreOptions = {}) {
		fs.mkdirSync(dir, {recursive: true, mode: 0o700});
		fs.chmodSync(dir, 0o700);
		this.now = options.now ?? (() => new Date());
		// Events kept for watches resuming from a resourceVersion. kube-apiserver keeps 100 per
		// resource type in its watch cache; 2,000 across all types serves reconnecting clients,
		// and an older version gets 410 Expired, on which informers relist.
		this.historySize = options.historySize ?? 2_000;
		const opened = openStateFile(dir, options.synchronous ?? 'FULL');
		this.db = opened.db;
		this.box = opened.box;
		this.statements = {
			put: this.db.prepare('INSERT INTO objects (resource, namespace, name, uid, rv, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (resource, namespace, name) DO UPDATE SET uid = excluded.uid, rv = excluded.rv, data = excluded.data'),
			remove: this.db.prepare('DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?'),
			setRv: this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('resourceVersion', ?)"),
		};
		const stored = this.db.prepare("SELECT value FROM meta WHERE key = 'resourceVersion'").get() as {value: string} | undefined;
		this.rv = Number(stored?.value ?? 0);
		this.compactedRv = this.rv;
		try {
			for (const row of readObjects(this.db, this.box, stateFilePath(dir))) {
				this.cacheFor(row.resource).set(keyOf(row.namespace, row.name), {object: row.object as KubeObject, json: row.json});
			}
		} catch (error) {
			this.db.close();
			throw error;
		}
	}

	private cacheFor(resource: string): Map<string, Entry> {
		// Whoever asks for the map to change it: the resource's list order is made again on the next list.
		this.sorted.delete(resource);
		let map = this.cache.get(resource);
		if (!map) this.cache.set(resource, map = new Map());
		return map;
	}

	timestamp(): string {
		return isoTime(this.now().getTime());
	}

	nextResourceVersion(): number {
		return ++this.rv;
	}

	get resourceVersion(): string {
		return String(this.rv);
	}

	recordEvent(event: WatchEvent): void {
		this.batchEvents?.push(event);
	}

	get(resource: string, namespace: string, name: string): KubeObject | undefined {
		const entry = this.cache.get(resource)?.get(keyOf(namespace, name));
		return entry ? JSON.parse(entry.json) : undefined;
	}

	/** The cached object itself (no copy): read only. */
	peek(resource: string, namespace: string, name: string): KubeObject | undefined {
		return this.cache.get(resource)?.get(keyOf(namespace, name))?.object;
	}

	/** Objects of one resource, sorted by namespace then name; `namespace` undefined or "" means all. */
	list(resource: string, namespace?: string, options: ListOptions = {}): ListResult {
		return {items: this.listEntries(resource, namespace, options).map(e => JSON.parse(e.json)), resourceVersion: this.resourceVersion};
	}

	listEntries(resource: string, namespace?: string, options: ListOptions = {}): Entry[] {
		const all = this.sortedEntries(resource);
		if (!namespace && !options.filter) return all.slice();
		const out: Entry[] = [];
		// Sorted by namespace first: one namespace's objects are a run, found by binary search.
		const from = namespace ? firstAtOrAfter(all, namespace, '') : 0;
		for (let i = from; i < all.length; i++) {
			const entry = all[i];
			if (namespace && entry.object.metadata.namespace !== namespace) break;
			if (options.filter && !options.filter(entry.object)) continue;
			out.push(entry);
		}
		return out;
	}

	/**
	 * A resource's entries in list order (namespace, then name), kept until the resource next
	 * changes: a chunked list of 10,000 pods asks for them 20 times, and sorting them each time
	 * was most of each chunk's cost.
	 */
	private sortedEntries(resource: string): Entry[] {
		let sorted = this.sorted.get(resource);
		if (!sorted) {
			sorted = [...(this.cache.get(resource)?.values() ?? [])].sort((a, b) => compareObjects(a.object, b.object));
			this.sorted.set(resource, sorted);
		}
		return sorted;
	}

	/**
	 * The stored objects themselves, without copying: for read-only scans on
	 * hot paths (controllers counting their pods). Never mutate them.
	 */
	scan(resource: string, namespace?: string, filter?: (obj: KubeObject) => boolean): readonly KubeObject[] {
		return this.listEntries(resource, namespace, {filter}).map(e => e.object);
	}

	/**
	 * Queue a write. `run` executes with the batch (against memory; a throw
	 * drops only its own changes); its result is returned once the batch is
	 * durably committed.
	 */
	write<T>(run: (tx: Transaction) => T): Promise<T> {
		if (this.closed) return Promise.reject(new StoreClosedError());
		return new Promise<T>((resolve, reject) => {
			this.queue.push({run, resolve, reject});
			if (!this.flushScheduled) {
				this.flushScheduled = true;
				setImmediate(() => this.flush());
			}
		});
	}

	private flush(): void {
		this.flushScheduled = false;
		const batch = this.queue;
		this.queue = [];
		if (batch.length === 0) return;
		const outcomes: {ok: boolean; value: unknown; tx?: Transaction; events?: WatchEvent[]}[] = [];
		const startRv = this.rv;
		// What the batch's successful writes changed so far, visible to the writes after them.
		const batchChanges = new Map<string, Change>();
		for (const write of batch) {
			const rvBefore = this.rv;
			const tx = new Transaction(this, batchChanges);
			this.batchEvents = [];
			try {
				const value = write.run(tx);
				outcomes.push({ok: true, value, tx, events: this.batchEvents});
				for (const [key, change] of tx.changes) batchChanges.set(key, change);
			} catch (error) {
				// Nothing of a failed write reached SQLite or the batch: dropping its changes undoes it.
				this.rv = rvBefore;
				outcomes.push({ok: false, value: error});
			}
		}
		this.batchEvents = null;
		try {
			this.db.transaction(() => {
				for (const change of batchChanges.values()) {
					if (!change.entry) {
						this.statements.remove.run(change.resource, change.namespace, change.name);
						continue;
					}
					const {object, json} = change.entry;
					const data = change.resource === 'secrets' ? this.box.seal(json) : json;
					this.statements.put.run(change.resource, change.namespace, change.name, object.metadata.uid, Number(object.metadata.resourceVersion), data);
				}
				if (this.rv !== startRv) this.statements.setRv.run(String(this.rv));
			})();
		} catch (error) {
			// The commit itself failed: nothing of this batch is durable.
			this.rv = startRv;
			this.batchEvents = null;
			for (const write of batch) write.reject(error);
			return;
		}
		// Durable now: publish to the cache, then to watchers, then acknowledge.
		const events: WatchEvent[] = [];
		for (const outcome of outcomes) {
			if (!outcome.ok || !outcome.tx) continue;
			for (const change of outcome.tx.changes.values()) {
				const map = this.cacheFor(change.resource);
				if (change.entry) map.set(keyOf(change.namespace, change.name), change.entry);
				else map.delete(keyOf(change.namespace, change.name));
			}
			events.push(...outcome.events!);
		}
		for (const event of events) this.publish(event);
		batch.forEach((write, i) => (outcomes[i].ok ? write.resolve(outcomes[i].value) : write.reject(outcomes[i].value)));
	}

	private publish(event: WatchEvent): void {
		const kept = {type: event.type, resource: event.resource, namespace: event.namespace, rv: event.rv, json: event.json};
		if (this.history.length < this.historySize) this.history.push(kept);
		else {
			this.compactedRv = this.history[this.historyStart].rv;
			this.history[this.historyStart] = kept;
			this.historyStart = (this.historyStart + 1) % this.historySize;
		}
		for (const watcher of this.watchers) {
			if (watcher.resource !== event.resource) continue;
			if (watcher.namespace && watcher.namespace !== event.namespace) continue;
			watcher.send(event);
		}
	}

	/**
	 * Watch one resource (optionally one namespace) from a resourceVersion:
	 * replays the events after it from history, then streams live ones.
	 * A version older than the compacted history fails with 410 Expired.
	 */
	watch(resource: string, namespace: string | undefined, fromRv: number, send: (event: WatchEvent) => void): () => void {
		if (fromRv < this.compactedRv) {
			throw expired(`too old resource version: ${fromRv} (${this.compactedRv})`);
		}
		for (let i = 0; i < this.history.length; i++) {
			const event = this.history[(this.historyStart + i) % this.history.length];
			if (event.rv <= fromRv || event.resource !== resource) continue;
			if (namespace && namespace !== event.namespace) continue;
			send({...event, object: JSON.parse(event.json)});
		}
		const watcher: Watcher = {resource, namespace: namespace ?? '', send};
		this.watchers.add(watcher);
		return () => this.watchers.delete(watcher);
	}

	/** Finish queued writes and close the database. */
	async close(): Promise<void> {
		if (this.closed) return;
		if (this.queue.length > 0) await new Promise<void>(resolve => setImmediate(() => { this.flush(); resolve(); }));
		this.closed = true;
		this.watchers.clear();
		this.db.close();
	}
}
