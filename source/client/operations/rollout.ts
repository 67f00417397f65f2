// Rollouts as kubectl's rollout undo, restart and status do them: shared by
// the CLI's rollout command and the dashboard's keys and status line.
import {deepEqual, type KubeObject} from '../../api/object.js';
import {knownKind, objectRef, type ResourceType} from '../../api/resources.js';
import {formatLabelSelector, fromLabelSelector} from '../../api/selectors.js';
import {isoTime} from '../../api/time.js';
import {revisionAnnotation, withoutPodTemplateHash} from '../../api/workloads.js';
import {CliError} from '../errors.js';
import type {ClusterClient} from '../types.js';

type Rec = Record<string, any>;

/** `rollout undo`: back to the revision before the current one, or to `toRevision`; returns kubectl's line. */
export async function rolloutUndo(client: ClusterClient, type: ResourceType, namespace: string, name: string, toRevision = 0): Promise<string> {
	const ref = objectRef(type, name);
	const d = await client.get(type, namespace, name);
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
