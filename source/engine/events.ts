// The event recorder: core/v1 Events about an object (involvedObject), with
// client-go's EventCorrelator rules so a crash loop or a big scale-up does
// not flood the store: an identical event only bumps the count of the one
// before it; and after 10 similar events (same object, type and reason,
// different messages) within 10 minutes, the rest are folded into one
// "(combined from similar events): ..." event.
import crypto from 'node:crypto';
import {StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {typeByPlural} from '../api/resources.js';
import type {Registry} from '../server/registry.js';
import {isoTime} from '../api/time.js';
import type {Clock} from './clock.js';
import {StoreClosedError} from '../store/store.js';

export type EventType = 'Normal' | 'Warning';

const eventType = typeByPlural('events')!;

/** client-go's defaults: more than this many similar events in the window are combined. */
const similarEventsLimit = 10;
const similarEventsWindowMs = 10 * 60 * 1000;

export class EventRecorder {
	/** Last event name per (object, reason, message), to fold repeats. */
	private readonly recent = new Map<string, string>();
	/** Distinct messages seen per (object, type, reason) in the current window. */
	private readonly similar = new Map<string, {since: number; messages: Set<string>}>();

	constructor(private readonly registry: Registry, private readonly clock: Clock) {}

	async record(obj: KubeObject, type: EventType, reason: string, rawMessage: string, component: string): Promise<void> {
		const namespace = obj.metadata.namespace || 'default';
		const nowMs = this.clock.now();
		const group = `${obj.metadata.uid}|${type}|${reason}`;
		let seen = this.similar.get(group);
		if (!seen || nowMs - seen.since > similarEventsWindowMs) this.similar.set(group, seen = {since: nowMs, messages: new Set()});
		if (seen.messages.size <= similarEventsLimit) seen.messages.add(rawMessage);
		if (this.similar.size > 10_000) this.similar.delete(this.similar.keys().next().value!);
		const combined = seen.messages.size > similarEventsLimit && !seen.messages.has(rawMessage);
		const message = combined ? `(combined from similar events): ${rawMessage}` : rawMessage;
		const key = combined ? `${group}|combined` : `${group}|${message}`;
		const now = isoTime(nowMs);
		const existing = this.recent.get(key);
		if (existing) {
			try {
				const event = this.registry.get(eventType, namespace, existing);
				await this.registry.patch(eventType, namespace, existing, 'application/merge-patch+json', {count: Number(event.count ?? 1) + 1, lastTimestamp: now, message});
				return;
			} catch (error) {
				// Best effort: an event that comes as the engine stops is dropped, not a rejection nobody handles.
				if (error instanceof StoreClosedError) return;
				if (!(error instanceof StatusError && error.code === 404)) throw error;
			}
		}
		const name = `${obj.metadata.name}.${crypto.randomBytes(8).toString('hex')}`;
		this.recent.set(key, name);
		if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value!);
		const event = {
			apiVersion: 'v1', kind: 'Event', metadata: {name, namespace},
			involvedObject: {apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion},
			reason, message, type, count: 1, firstTimestamp: now, lastTimestamp: now, source: {component}, reportingComponent: component,
		};
		// The engine's own events are well-formed by construction: they skip admission
		// (one is written per pod start, so its cost shows in scheduling throughput).
		await this.registry.store.write(tx => {
			if (tx.peek('namespaces', '', namespace)) tx.create(eventType, event);
		}).catch(error => {
			// Events are best effort: a namespace being deleted, or the engine stopping, must not fail the caller.
			if (!(error instanceof StatusError) && !(error instanceof StoreClosedError)) throw error;
		});
	}
}
