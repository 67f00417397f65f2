// `describe` as kubectl gathers it: the object, its events, and for a
// Service its Endpoints, for a claim the pods that use it; printed by the shared describe printer.
import type {KubeObject} from '../../api/object.js';
import {knownKind} from '../../api/resources.js';
import {describeObject} from '../../render/describe.js';
import type {ClusterClient} from '../types.js';
import {eventsFor} from './events.js';

export async function describeText(client: ClusterClient, obj: KubeObject, now = Date.now()): Promise<string> {
	const [events, endpoints, pods] = await Promise.all([
		eventsFor(client, obj),
		obj.kind === 'Service' ? client.get(knownKind('Endpoints')!, obj.metadata.namespace, obj.metadata.name!).catch(() => undefined) : undefined,
		obj.kind === 'PersistentVolumeClaim' ? client.list(knownKind('Pod')!, {namespace: obj.metadata.namespace}).catch(() => undefined) : undefined,
	]);
	// kubectl lists every pod whose volumes name the claim, finished or not.
	const usedBy = pods?.items.filter(p => ((p.spec as Record<string, any>)?.volumes ?? []).some((v: Record<string, any>) => v.persistentVolumeClaim?.claimName === obj.metadata.name)).map(p => p.metadata.name!);
	return describeObject(obj, events, now, {endpoints, usedBy});
}
