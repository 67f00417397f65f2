// What the dashboard adds above `describe` for a Deployment: the rollout as a
// progress bar, its ReplicaSets by revision and its pods, refreshed while the
// view is open; and the same progress on the status line after an action
// starts a rollout, until it finishes.
import {StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {resolveType} from '../api/resources.js';
import {fromLabelSelector, matchesLabels} from '../api/selectors.js';
import {revisionAnnotation} from '../api/workloads.js';
import type {ClusterClient} from '../client/types.js';
import {podStatus} from '../render/columns.js';
import {alignColumns} from '../render/format.js';
import {CliError} from '../client/errors.js';
import {deploymentRolloutStatus, replicaSetsOf} from '../client/operations/rollout.js';

type Rec = Record<string, any>;

export function progressBar(done: number, total: number, width = 20): string {
	const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : width;
	return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** The rollout in one line: a bar of available new replicas, and kubectl's message. */
export function rolloutLine(d: KubeObject): {text: string; done: boolean} {
	const replicas = (d.spec as Rec).replicas ?? 1;
	const status = (d.status ?? {}) as Rec;
	// Counted against what is wanted now: after a scale down from 1500 to 500 the status still
	// counts 1500 available for a moment ("1500/500"). A status older than the spec counts nothing yet.
	const stale = (status.observedGeneration ?? 0) < (d.metadata.generation ?? 0);
	const ready = stale ? 0 : Math.min(replicas, status.updatedReplicas ?? 0, status.availableReplicas ?? 0);
	let message: string, done: boolean;
	try {
		[message, done] = deploymentRolloutStatus(d);
	} catch (error) {
		if (!(error instanceof CliError)) throw error;
		[message, done] = [error.message.replace(/^error: /, ''), true];
	}
	return {text: `${progressBar(ready, replicas)} ${ready}/${replicas}  ${message}`, done};
}

/**
 * The Deployment's rollout, ReplicaSets and pods. The pods come from what the
 * dashboard already watches (`podsNow`), not from a list per refresh: a
 * 10,000-replica Deployment's pods each second was megabytes of JSON a second.
 */
export async function deploymentDetails(client: ClusterClient, d: KubeObject, podsNow: readonly KubeObject[]): Promise<string[]> {
	const sets = await replicaSetsOf(client, d);
	const selector = fromLabelSelector((d.spec as Rec).selector);
	const pods = podsNow.filter(p => p.metadata.namespace === d.metadata.namespace && matchesLabels(selector, p.metadata.labels));
	const current = d.metadata.annotations?.[revisionAnnotation];
	const rsRows = [['REPLICASET', 'REVISION', 'DESIRED', 'READY', 'IMAGES'], ...[...sets].reverse().map(rs => [
		rs.metadata.name!, `${rs.metadata.annotations?.[revisionAnnotation] ?? ''}${rs.metadata.annotations?.[revisionAnnotation] === current ? ' (current)' : ''}`,
		String((rs.spec as Rec).replicas ?? 0), String((rs.status as Rec)?.readyReplicas ?? 0),
		(((rs.spec as Rec).template?.spec?.containers ?? []) as Rec[]).map(c => c.image).join(','),
	])];
	const podRows = [['POD', 'STATUS', 'NODE', 'IP'], ...pods.map(p => [p.metadata.name!, podStatus(p), (p.spec as Rec).nodeName ?? '<none>', (p.status as Rec)?.podIP ?? '<none>'])];
	return [`Rollout: ${rolloutLine(d).text}`, '', ...alignColumns(rsRows).split('\n'), '', ...alignColumns(podRows.slice(0, 50)).split('\n'), ...(pods.length > 50 ? [`... and ${pods.length - 50} more pods`] : []), ''];
}

/** Poll a Deployment's rollout, reporting each step, until it is done (or the time runs out). */
export async function followRollout(client: ClusterClient, namespace: string, name: string, report: (line: string, done: boolean) => void, timeoutMs = 300_000): Promise<void> {
	const type = resolveType('deployments')!;
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		let d: KubeObject;
		try {
			d = await client.get(type, namespace, name);
		} catch (error) {
			if (error instanceof StatusError && error.code === 404) return;
			throw error;
		}
		const line = rolloutLine(d);
		report(line.text, line.done);
		if (line.done) return;
		await new Promise(r => setTimeout(r, 1000));
	}
}
