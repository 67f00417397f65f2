// Rollouts as kubectl's rollout undo, restart and status do them: shared by
// the CLI's rollout command and the dashboard's keys and status line.
import {deepEqual, type KubeObject} from '../../api/object.js';
import {knownKind, objectRef, type ResourceType} from '../../api/resources.js';
import {formatLabelSelector, fromLabelSelector} from '../../api/selectors.js';
import {isoTime} from '../../api/time.js';
import {revisionAnnotation, revisionTemplate, withoutPodTemplateHash} from '../../api/workloads.js';
import {CliError} from '../errors.js';
import type {ClusterClient} from '../types.js';

type Rec = Record<string, any>;

/** One entry of a workload's history: its number, change cause and pod template. */
export interface Revision {
	revision: number;
	changeCause?: string;
	template: Rec;
}

/** A Deployment's history is its ReplicaSets; a StatefulSet's or DaemonSet's, its ControllerRevisions. Oldest first. */
export async function historyOf(client: ClusterClient, obj: KubeObject): Promise<Revision[]> {
	if (obj.kind === 'Deployment') {
		return (await replicaSetsOf(client, obj)).map(rs => ({
			revision: Number(rs.metadata.annotations?.[revisionAnnotation] ?? 0), changeCause: rs.metadata.annotations?.['kubernetes.io/change-cause'], template: withoutPodTemplateHash((rs.spec as Rec).template),
		}));
	}
	if (obj.kind !== 'StatefulSet' && obj.kind !== 'DaemonSet') throw new CliError(`error: no history viewer has been implemented for "${obj.kind}"`);
	const selector = formatLabelSelector(fromLabelSelector((obj.spec as Rec).selector));
	const list = await client.list(knownKind('ControllerRevision')!, {namespace: obj.metadata.namespace, labelSelector: selector});
	return list.items.filter(r => r.metadata.ownerReferences?.some(o => o.controller && o.uid === obj.metadata.uid))
		.map(r => ({revision: Number(r.revision ?? 0), changeCause: r.metadata.annotations?.['kubernetes.io/change-cause'], template: revisionTemplate(r)}))
		.sort((a, b) => a.revision - b.revision);
}

/** `rollout undo`: back to the revision before the current one, or to `toRevision`; returns kubectl's line. */
export async function rolloutUndo(client: ClusterClient, type: ResourceType, namespace: string, name: string, toRevision = 0): Promise<string> {
	const ref = objectRef(type, name);
	const d = await client.get(type, namespace, name);
	if (type.kind !== 'Deployment') {
		const history = await historyOf(client, d);
		const target = toRevision ? history.find(r => r.revision === toRevision) : history.at(-2);
		if (!target) throw new CliError(toRevision ? `error: unable to find specified revision ${toRevision} in history` : `error: no rollout history found for ${type.singular} "${name}"`);
		if (deepEqual(target.template, (d.spec as Rec).template)) return `${ref} skipped rollback (current template already matches revision ${target.revision})`;
		// kubectl applies the revision's data, a strategic merge patch that replaces the template.
		await client.patch(type, namespace, name, {spec: {template: {...target.template, $patch: 'replace'}}}, 'strategic');
		return `${ref} rolled back`;
	}
	const sets = await replicaSetsOf(client, d);
	const current = Number(d.metadata.annotations?.[revisionAnnotation] ?? 0);
	const target = toRevision ? sets.find(rs => Number(rs.metadata.annotations?.[revisionAnnotation]) === toRevision) : [...sets].reverse().find(rs => Number(rs.metadata.annotations?.[revisionAnnotation]) < current);
	if (!target) throw new CliError(toRevision ? `error: unable to find specified revision ${toRevision} in history` : `error: no rollout history found for deployment "${name}"`);
	const template = withoutPodTemplateHash((target.spec as Rec).template);
	if (deepEqual(template, (d.spec as Rec).template)) return `${ref} skipped rollback (current template already matches revision ${target.metadata.annotations?.[revisionAnnotation]})`;
	await client.patch(type, namespace, name, [{op: 'replace', path: '/spec/template', value: template}], 'json');
	return `${ref} rolled back`;
}

/** `rollout restart`: a new template annotation, so every pod is replaced by the rollout strategy. */
export async function rolloutRestart(client: ClusterClient, type: ResourceType, namespace: string, name: string): Promise<string> {
	await client.patch(type, namespace, name, {spec: {template: {metadata: {annotations: {'kubectl.kubernetes.io/restartedAt': isoTime(Date.now())}}}}}, 'strategic');
	return `${objectRef(type, name)} restarted`;
}

export async function replicaSetsOf(client: ClusterClient, d: KubeObject): Promise<KubeObject[]> {
	const selector = formatLabelSelector(fromLabelSelector((d.spec as Rec).selector));
	const list = await client.list(knownKind('ReplicaSet')!, {namespace: d.metadata.namespace, labelSelector: selector});
	return list.items.filter(rs => rs.metadata.ownerReferences?.some(r => r.controller && r.uid === d.metadata.uid))
		.sort((a, b) => Number(a.metadata.annotations?.[revisionAnnotation] ?? 0) - Number(b.metadata.annotations?.[revisionAnnotation] ?? 0));
}

/** One step of `rollout status` for any kind kubectl has a status viewer for: [message, done]. */
export function rolloutStatusOf(obj: KubeObject): [string, boolean] {
	switch (obj.kind) {
		case 'Deployment': return deploymentRolloutStatus(obj);
		case 'StatefulSet': return statefulSetRolloutStatus(obj);
		case 'DaemonSet': return daemonSetRolloutStatus(obj);
		default: throw new CliError(`error: no status viewer has been implemented for ${obj.kind}`);
	}
}

/** kubectl's StatefulSetStatusViewer. */
export function statefulSetRolloutStatus(sts: KubeObject): [string, boolean] {
	const spec = sts.spec as Rec, status = (sts.status ?? {}) as Rec;
	if ((spec.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') throw new CliError('error: rollout status is only available for RollingUpdate strategy type');
	if (!status.observedGeneration || (sts.metadata.generation ?? 0) > status.observedGeneration) return ['Waiting for statefulset spec update to be observed...', false];
	const replicas = spec.replicas ?? 1;
	if ((status.readyReplicas ?? 0) < replicas) return [`Waiting for ${replicas - (status.readyReplicas ?? 0)} pods to be ready...`, false];
	// As kubectl: any rollingUpdate (the API defaults one, partition 0) reports a partitioned roll out.
	const rolling = spec.updateStrategy?.rollingUpdate;
	if (rolling) {
		const partition = Number(rolling.partition ?? 0);
		if (rolling.partition !== undefined && (status.updatedReplicas ?? 0) < replicas - partition) return [`Waiting for partitioned roll out to finish: ${status.updatedReplicas ?? 0} out of ${replicas - partition} new pods have been updated...`, false];
		return [`partitioned roll out complete: ${status.updatedReplicas ?? 0} new pods have been updated...`, true];
	}
	if (status.updateRevision !== status.currentRevision) return [`waiting for statefulset rolling update to complete ${status.updatedReplicas ?? 0} pods at revision ${status.updateRevision}...`, false];
	return [`statefulset rolling update complete ${status.currentReplicas ?? 0} pods at revision ${status.currentRevision}...`, true];
}

/** kubectl's DaemonSetStatusViewer. */
export function daemonSetRolloutStatus(ds: KubeObject): [string, boolean] {
	const spec = ds.spec as Rec, status = (ds.status ?? {}) as Rec;
	const name = ds.metadata.name;
	if ((spec.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') throw new CliError('error: rollout status is only available for RollingUpdate strategy type');
	if ((ds.metadata.generation ?? 0) > (status.observedGeneration ?? 0)) return ['Waiting for daemon set spec update to be observed...', false];
	const desired = status.desiredNumberScheduled ?? 0;
	if ((status.updatedNumberScheduled ?? 0) < desired) return [`Waiting for daemon set "${name}" rollout to finish: ${status.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated...`, false];
	if ((status.numberAvailable ?? 0) < desired) return [`Waiting for daemon set "${name}" rollout to finish: ${status.numberAvailable ?? 0} of ${desired} updated pods are available...`, false];
	return [`daemon set "${name}" successfully rolled out`, true];
}

/** One step of `rollout status` (kubectl's DeploymentStatusViewer): [message, done]. */
export function deploymentRolloutStatus(d: KubeObject): [string, boolean] {
	const spec = d.spec as Rec, status = (d.status ?? {}) as Rec;
	const name = d.metadata.name;
	if ((d.metadata.generation ?? 0) > (status.observedGeneration ?? 0)) return ['Waiting for deployment spec update to be observed...', false];
	const progressing = (status.conditions ?? []).find((c: Rec) => c.type === 'Progressing');
	if (progressing?.reason === 'ProgressDeadlineExceeded') throw new CliError(`error: deployment "${name}" exceeded its progress deadline`);
	const replicas = spec.replicas ?? 1;
	const updated = status.updatedReplicas ?? 0;
	if (updated < replicas) return [`Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`, false];
	if ((status.replicas ?? 0) > updated) return [`Waiting for deployment "${name}" rollout to finish: ${(status.replicas ?? 0) - updated} old replicas are pending termination...`, false];
	if ((status.availableReplicas ?? 0) < updated) return [`Waiting for deployment "${name}" rollout to finish: ${status.availableReplicas ?? 0} of ${updated} updated replicas are available...`, false];
	return [`deployment "${name}" successfully rolled out`, true];
}
