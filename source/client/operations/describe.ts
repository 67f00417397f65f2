// `describe` as kubectl gathers it: the object, its events, and for a
// Service its Endpoints; printed by the shared describe printer.
import type {KubeObject} from '../../api/object.js';
import {knownKind} from '../../api/resources.js';
import {describeObject} from '../../render/describe.js';
import type {ClusterClient} from '../types.js';
import {eventsFor} from './events.js';

export async function describeText(client: ClusterClient, obj: KubeObject, now = Date.now()): Promise<string> {
	const [events, endpoints] = await Promise.all([
		eventsFor(client, obj),
		obj.kind === 'Service' ? client.get(knownKind('Endpoints')!, obj.metadata.namespace, obj.metadata.name!).catch(() => undefined) : undefined,
	]);
	return describeObject(obj, events, now, {endpoints});
}
