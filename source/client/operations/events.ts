// The events about one object, as kubectl describe finds them.
import type {KubeObject} from '../../api/object.js';
import {knownKind} from '../../api/resources.js';
import type {ClusterClient} from '../types.js';

/** Events about one object, oldest first (kubectl asks by involvedObject fields). */
export async function eventsFor(client: ClusterClient, obj: KubeObject): Promise<KubeObject[]> {
	const fieldSelector = [`involvedObject.name=${obj.metadata.name}`, `involvedObject.uid=${obj.metadata.uid}`].join(',');
	const list = await client.list(knownKind('Event')!, {namespace: obj.metadata.namespace ?? 'default', fieldSelector});
	const time = (e: KubeObject) => Date.parse(String(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? 0));
	return list.items.sort((a, b) => time(a) - time(b));
}
