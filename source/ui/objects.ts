// What the dashboard derives from an object for its views: the label
// selector of a workload's pods, a Secret with its values hidden, and a log
// pane over a pod or a workload's pods.
import type {KubeObject} from '../api/object.js';
import {objectRef, typeForKind} from '../api/resources.js';
import {formatLabelSelector, fromLabelSelector, matchesLabels, parseLabelSelector} from '../api/selectors.js';
import type {ClusterClient} from '../client/types.js';
import type {LogPane} from './keys/logs.js';
import {LogSession, type LogTarget} from './logs/log-session.js';
import {initialLogView} from './views/log-view.js';

type Rec = Record<string, any>;

/** A Secret with its values hidden, as the dashboard shows it until asked (k9s shows them; its users asked otherwise). */
export function maskSecret(secret: KubeObject): KubeObject {
	const hide = (data: unknown) => Object.fromEntries(Object.keys((data ?? {}) as object).map(k => [k, '********']));
	const annotations = {...secret.metadata.annotations};
	// The last-applied annotation holds the manifest, values included.
	if (annotations['kubectl.kubernetes.io/last-applied-configuration']) annotations['kubectl.kubernetes.io/last-applied-configuration'] = '********';
	return {...secret, metadata: {...secret.metadata, annotations}, data: hide(secret.data), ...(secret.stringData ? {stringData: hide(secret.stringData)} : {})};
}

/** The label selector of a workload's pods, or undefined for kinds without one. */
export function podSelectorOf(obj: KubeObject): string | undefined {
	const spec = obj.spec as Rec | undefined;
	if (obj.kind === 'Service') return spec?.selector ? formatLabelSelector(fromLabelSelector({matchLabels: spec.selector})) : undefined;
	if (obj.kind === 'CronJob' || !spec?.selector) return undefined;
	return formatLabelSelector(fromLabelSelector(spec.selector)) || undefined;
}

/** At most this many of a workload's pods are interleaved in one pane. */
const maxPods = 20;

/** A log pane for a pod (one container) or a workload (its pods, from `pods`, interleaved and tagged). */
export function logPaneFor(client: ClusterClient, obj: KubeObject, pods: readonly KubeObject[], previous = false, container?: string): LogPane | {error: string} {
	let targets: LogTarget[];
	let containers: string[] = [];
	if (obj.kind === 'Pod') {
		containers = ((obj.spec as Rec).containers ?? []).map((c: Rec) => c.name);
		targets = [{namespace: obj.metadata.namespace!, pod: obj.metadata.name!, container: container ?? containers[0], source: ''}];
	} else {
		const selector = podSelectorOf(obj);
		if (!selector) return {error: `logs: ${obj.kind} has no pods to show logs of`};
		const labels = parseLabelSelector(selector);
		const mine = pods.filter(p => p.metadata.namespace === obj.metadata.namespace && matchesLabels(labels, p.metadata.labels));
		if (mine.length === 0) return {error: `logs: no pods match ${selector}`};
		targets = mine.slice(0, maxPods).map(p => ({namespace: p.metadata.namespace!, pod: p.metadata.name!, source: p.metadata.name!}));
	}
	const label = targets.length === 1 ? `${obj.metadata.namespace}/${targets[0].pod}${containers.length > 1 ? ` [${targets[0].container}]` : ''}` : `${objectRef(typeForKind(obj.apiVersion, obj.kind)!, obj.metadata.name!)} (${targets.length} pods)`;
	const session = new LogSession(client, targets, {previous, tailLines: 1000});
	return {title: `Logs ${label}${previous ? ' (previous)' : ''}`, session, view: initialLogView(), targets, previous, containers};
}
