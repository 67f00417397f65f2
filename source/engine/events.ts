// The event recorder: core/v1 Events about an object (involvedObject), with
// repeats folded into one event whose count grows, as client-go's
// EventCorrelator does, so a crash loop does not flood the store.
import crypto from 'node:crypto';
import {StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {typeByPlural} from '../api/resources.js';
import type {Registry} from '../server/registry.js';
import {type Clock, isoTime} from './clock.js';

export type EventType = 'Normal' | 'Warning';

const eventType = typeByPlural('events')!;

export class EventRecorder {
	/** Last event name per (object, reason, message), to fold repeats. */
	private readonly recent = new Map<string, string>();

	constructor(private readonly registry: Registry, private readonly clock: Clock) {}

	async record(obj: KubeObject, type: EventType, reason: string, message: string, component: string): Promise<void> {
		const namespace = obj.metadata.namespace || 'default';
		const key = `${obj.metadata.uid}|${type}|${reason}|${message}`;
		const now = isoTime(this.clock.now());
		const existing = this.recent.get(key);
		if (existing) {
			try {
				const event = this.registry.get(eventType, namespace, existing);
				await this.registry.patch(eventType, namespace, existing, 'application/merge-patch+json', {count: Number(event.count ?? 1) + 1, lastTimestamp: now});
				return;
			} catch (error) {
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
			if (tx.get('namespaces', '', namespace)) tx.create(eventType, event);
		}).catch(error => {
			// Events are best effort: a namespace being deleted must not fail the caller.
			if (!(error instanceof StatusError)) throw error;
		});
	}
}
