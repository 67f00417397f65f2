// What the dashboard adds above `describe`, refreshed while the view is open:
// for a Deployment the rollout as a progress bar, its ReplicaSets by revision
// and its pods (and the same progress on the status line after an action
// starts a rollout, until it finishes); for a StatefulSet its ordinals with
// their claims; for a DaemonSet its pods by node; for a Job its completions
// as a bar; for a CronJob its last and next run and its Jobs; for a
// HorizontalPodAutoscaler its metrics against their targets, with a
// sparkline of the readings taken while the view is open.
import {StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {resolveType} from '../api/resources.js';
import {fromLabelSelector, matchesLabels} from '../api/selectors.js';
import {revisionAnnotation} from '../api/workloads.js';
import type {ClusterClient} from '../client/types.js';
import {podStatus} from '../render/columns.js';
import {alignColumns} from '../render/format.js';
import {CliError} from '../client/errors.js';
import {daemonSetRolloutStatus, deploymentRolloutStatus, replicaSetsOf, statefulSetRolloutStatus} from '../client/operations/rollout.js';
import {parseSchedule} from '../api/cron.js';
import {age} from '../render/format.js';
import {sparkline} from './metrics-history.js';
import {parseQuantity} from '../api/quantity.js';

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

/** A status viewer's message, or its error's words (a status viewer refuses OnDelete). */
function statusMessage(view: () => [string, boolean]): string {
	try {
		return view()[0];
	} catch (error) {
		if (!(error instanceof CliError)) throw error;
		return error.message.replace(/^error: /, '');
	}
}

const ownedBy = (owner: KubeObject) => (o: KubeObject) => o.metadata.namespace === owner.metadata.namespace && !!o.metadata.ownerReferences?.some(r => r.controller && r.uid === owner.metadata.uid);

/** A StatefulSet's ordinals: each pod with its revision and its claims (and whether they are bound). */
async function statefulSetDetails(client: ClusterClient, sts: KubeObject, podsNow: readonly KubeObject[]): Promise<string[]> {
	const spec = sts.spec as Rec, status = (sts.status ?? {}) as Rec;
	const replicas = spec.replicas ?? 1, start = spec.ordinals?.start ?? 0;
	const claims = (await client.list(resolveType('persistentvolumeclaims')!, {namespace: sts.metadata.namespace})).items;
	const templates: Rec[] = spec.volumeClaimTemplates ?? [];
	const pods = podsNow.filter(ownedBy(sts));
	const ordinals = new Set([...Array.from({length: replicas}, (_, i) => start + i), ...pods.map(p => Number(p.metadata.name!.slice(sts.metadata.name!.length + 1))).filter(Number.isInteger)]);
	const rows = [['ORDINAL', 'POD', 'STATUS', 'NODE', 'REVISION', 'CLAIMS'], ...[...ordinals].sort((a, b) => a - b).map(i => {
		const name = `${sts.metadata.name}-${i}`;
		const pod = pods.find(p => p.metadata.name === name);
		const claimText = templates.map(t => {
			const claim = claims.find(c => c.metadata.name === `${t.metadata?.name}-${name}`);
			return claim ? `${claim.metadata.name} (${(claim.status as Rec)?.phase ?? 'Pending'}${(claim.status as Rec)?.capacity?.storage ? `, ${(claim.status as Rec).capacity.storage}` : ''})` : `${t.metadata?.name}-${name} (none yet)`;
		}).join(', ') || '<none>';
		const revision = pod?.metadata.labels?.['controller-revision-hash'];
		return [String(i), pod ? name : `${name} (not created)`, pod ? podStatus(pod) : '-', (pod?.spec as Rec | undefined)?.nodeName ?? '<none>', revision ? `${revision}${revision === status.updateRevision ? '' : ' (old)'}` : '-', claimText];
	})];
	const ready = status.readyReplicas ?? 0;
	return [`Rollout: ${progressBar(ready, replicas)} ${ready}/${replicas} ready  ${statusMessage(() => statefulSetRolloutStatus(sts))}`, `Revisions: current ${status.currentRevision ?? '-'}, update ${status.updateRevision ?? '-'}`, '', ...alignColumns(rows).split('\n'), ''];
}

function daemonSetDetails(ds: KubeObject, podsNow: readonly KubeObject[]): string[] {
	const status = (ds.status ?? {}) as Rec;
	const desired = status.desiredNumberScheduled ?? 0, ready = status.numberReady ?? 0;
	const pods = podsNow.filter(ownedBy(ds));
	const rows = [['NODE', 'POD', 'STATUS', 'REVISION'], ...pods.map(p => [(p.spec as Rec).nodeName ?? '<none>', p.metadata.name!, podStatus(p), p.metadata.labels?.['controller-revision-hash'] ?? '-']).sort((a, b) => a[0].localeCompare(b[0]))];
	return [`Rollout: ${progressBar(ready, desired)} ${ready}/${desired} ready  ${statusMessage(() => daemonSetRolloutStatus(ds))}`, '', ...alignColumns(rows).split('\n'), ''];
}

function jobDetails(job: KubeObject, podsNow: readonly KubeObject[]): string[] {
	const spec = job.spec as Rec, status = (job.status ?? {}) as Rec;
	const completions = spec.completions ?? (spec.parallelism === undefined || spec.parallelism === 1 ? 1 : undefined);
	const succeeded = status.succeeded ?? 0;
	const condition = ((status.conditions ?? []) as Rec[]).find(c => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
	const state = condition ? `${condition.type}${condition.reason ? ` (${condition.reason})` : ''}` : spec.suspend ? 'Suspended' : 'Running';
	const pods = podsNow.filter(p => p.metadata.namespace === job.metadata.namespace && p.metadata.labels?.['batch.kubernetes.io/controller-uid'] === job.metadata.uid);
	const rows = [['POD', 'STATUS', 'INDEX', 'NODE'], ...pods.map(p => [p.metadata.name!, podStatus(p), p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] ?? '-', (p.spec as Rec).nodeName ?? '<none>'])];
	const bar = completions === undefined ? `${succeeded} succeeded (work queue)` : `${progressBar(succeeded, completions)} ${succeeded}/${completions}`;
	return [`Completions: ${bar}  ${state}; active ${status.active ?? 0}, failed ${status.failed ?? 0}${spec.backoffLimit !== undefined ? ` of ${spec.backoffLimit + 1} tries` : ''}`, '', ...alignColumns(rows).split('\n'), ''];
}

async function cronJobDetails(client: ClusterClient, cj: KubeObject, now: number): Promise<string[]> {
	const spec = cj.spec as Rec, status = (cj.status ?? {}) as Rec;
	let next = '-';
	try {
		const at = spec.suspend ? undefined : parseSchedule(spec.schedule, spec.timeZone).next(now);
		next = spec.suspend ? 'suspended (S resumes)' : at ? `${new Date(at).toISOString()} (in ${age(new Date(now - (at - now)).toISOString(), now)})` : 'never';
	} catch (error) {
		next = `unparseable schedule: ${(error as Error).message}`;
	}
	const jobs = (await client.list(resolveType('jobs')!, {namespace: cj.metadata.namespace})).items.filter(ownedBy(cj))
		.sort((a, b) => Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? ''));
	const rows = [['JOB', 'STATUS', 'COMPLETIONS', 'AGE'], ...jobs.map(j => {
		const st = (j.status ?? {}) as Rec;
		const done = ((st.conditions ?? []) as Rec[]).find(c => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
		return [`${j.metadata.name}${j.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] === 'manual' ? ' (manual)' : ''}`, done?.type ?? (st.active ? 'Running' : 'Pending'), `${st.succeeded ?? 0}/${(j.spec as Rec).completions ?? 1}`, age(j.metadata.creationTimestamp, now)];
	})];
	return [
		`Schedule: ${spec.schedule}${spec.timeZone ? ` (${spec.timeZone})` : ''}  concurrency ${spec.concurrencyPolicy ?? 'Allow'}`,
		`Last run: ${status.lastScheduleTime ? `${status.lastScheduleTime} (${age(status.lastScheduleTime, now)} ago)` : 'never'}${status.lastSuccessfulTime ? `; last success ${age(status.lastSuccessfulTime, now)} ago` : ''}`,
		`Next run: ${next}`,
		't runs it now, S suspends or resumes',
		'', ...alignColumns(rows).split('\n'), '',
	];
}

/** An HPA's metrics against their targets; `history` holds the readings of this view, per metric, for the sparklines. */
function autoscalerDetails(hpa: KubeObject, history: Map<string, number[]>): string[] {
	const spec = hpa.spec as Rec, status = (hpa.status ?? {}) as Rec;
	const metrics: Rec[] = spec.metrics?.length ? spec.metrics : [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 80}}}];
	const lines = metrics.map((m, i) => {
		const source = m.resource ?? m.containerResource ?? m.object ?? m.pods ?? m.external ?? {};
		const target = source.target ?? {};
		const current = (status.currentMetrics?.[i] as Rec | undefined)?.[m.type === 'Resource' ? 'resource' : m.type === 'ContainerResource' ? 'containerResource' : String(m.type).toLowerCase()]?.current ?? {};
		const label = m.type === 'Object' ? `${source.metric?.name} on ${source.describedObject?.kind}/${source.describedObject?.name}` : `${source.name ?? source.metric?.name}`;
		const percent = target.averageUtilization !== undefined;
		const have = percent ? current.averageUtilization : current.averageValue ?? current.value;
		const want = percent ? `${target.averageUtilization}%` : target.averageValue ?? target.value;
		const key = `${i}`;
		const reading = percent ? Number(have) : have !== undefined ? (parseQuantity(String(have)) ?? NaN) : NaN;
		if (Number.isFinite(reading)) history.set(key, [...(history.get(key) ?? []), reading].slice(-30));
		return `  ${label}: ${have === undefined ? '<unknown>' : percent ? `${have}%` : have} / ${want}  ${sparkline(history.get(key) ?? [], 30)}`;
	});
	const conditions = ((status.conditions ?? []) as Rec[]).map(c => `  ${c.type} ${c.status}: ${c.reason} (${c.message})`);
	return [`Replicas: ${status.currentReplicas ?? 0} current, ${status.desiredReplicas ?? 0} desired (min ${spec.minReplicas ?? 1}, max ${spec.maxReplicas})  ${spec.scaleTargetRef?.kind}/${spec.scaleTargetRef?.name}`, 'Metrics (current / target, readings while open):', ...lines, ...conditions, ''];
}

/** The kinds whose describe is live, and what each adds above it. */
export const liveKinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'HorizontalPodAutoscaler'];

export async function liveDetails(client: ClusterClient, obj: KubeObject, podsNow: readonly KubeObject[], history: Map<string, number[]>, now = Date.now()): Promise<string[]> {
	switch (obj.kind) {
		case 'Deployment': return deploymentDetails(client, obj, podsNow);
		case 'StatefulSet': return statefulSetDetails(client, obj, podsNow);
		case 'DaemonSet': return daemonSetDetails(obj, podsNow);
		case 'Job': return jobDetails(obj, podsNow);
		case 'CronJob': return cronJobDetails(client, obj, now);
		case 'HorizontalPodAutoscaler': return autoscalerDetails(obj, history);
		default: return [];
	}
}
