// The panes of the design card, each a group of kinds: `tab` moves between
// panes, `[` and `]` between the kinds of a pane, and `:kind` jumps to any
// kind (and to its pane).
import {resolveType, type ResourceType} from '../api/resources.js';

export interface Pane {
	title: string;
	kinds: ResourceType[];
}

const paneKinds: [string, string[]][] = [
	['Workloads', ['pods', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'jobs', 'cronjobs']],
	['Services', ['services', 'ingresses', 'endpoints']],
	['Storage', ['persistentvolumeclaims', 'persistentvolumes', 'storageclasses']],
	['Config', ['configmaps', 'secrets']],
	['Namespaces', ['namespaces']],
	['Nodes', ['nodes']],
	['Events', ['events']],
];

export const panes: Pane[] = paneKinds.map(([title, kinds]) => ({title, kinds: kinds.map(k => resolveType(k)).filter((t): t is ResourceType => !!t)}));

/** Which pane shows a kind (kinds outside every pane belong to the first). */
export function paneOf(type: ResourceType): number {
	const index = panes.findIndex(p => p.kinds.some(k => k.plural === type.plural));
	return index < 0 ? 0 : index;
}
