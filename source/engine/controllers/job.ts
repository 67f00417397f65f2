// The Job controller (kube-controller-manager's, on the shared runner): runs
// pods from the template until enough succeed, parallelism at a time; in
// Indexed mode one pod per completion index, each told its index.
//
// Finished pods are counted as Kubernetes has counted them since 1.26, so a
// count survives the pods' deletion and a crash: each pod carries the
// batch.kubernetes.io/job-tracking finalizer; a finished pod's uid goes
// first into status.uncountedTerminatedPods, then its finalizer comes off,
// then the uid is folded into status.succeeded or status.failed. Whatever
// step a crash interrupts, the next reconcile finishes it without counting
// a pod twice or losing it.
//
// Failures: a pod that failed (or, under restartPolicy OnFailure, a restart)
// counts against backoffLimit; replacements wait 10 s, doubling to 6 min
// (kept in memory, as kube-controller-manager keeps its backoff records);
// podFailurePolicy rules (FailJob, Ignore, Count on exit codes and pod
// conditions) come first. A Job that is past its limit, its
// activeDeadlineSeconds, or its completions gets FailureTarget or
// SuccessCriteriaMet, its remaining pods are stopped, and then Failed or
// Complete. ttlSecondsAfterFinished deletes it afterwards.
import type {KubeObject} from '../../api/object.js';
import {isPodReady, isTerminal} from '../../api/pods.js';
import {typeByPlural} from '../../api/resources.js';
import {isoTime} from '../../api/time.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {Clock} from '../clock.js';
import type {EventRecorder} from '../events.js';
import {isControlledBy, podFromTemplate} from './pods.js';
import {type Controller, ownerKeys, splitKey} from './runner.js';

type Rec = Record<string, any>;
const podType = typeByPlural('pods')!;
const jobType = typeByPlural('jobs')!;
export const trackingFinalizer = 'batch.kubernetes.io/job-tracking';
export const completionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';
const component = 'job-controller';
/** At most this many pod creations in one reconcile step. */
const burst = 500;
const backoffBaseMs = 10_000;
const backoffMaxMs = 360_000;

/** A pod the Job is done with: it ended, or it is being deleted and nothing in it runs any more. */
function isFinished(pod: KubeObject): boolean {
	if (isTerminal(pod)) return true;
	if (!pod.metadata.deletionTimestamp) return false;
	return !(((pod.status as Rec)?.containerStatuses ?? []) as Rec[]).some(s => s.state?.running);
}

const indexOf = (pod: KubeObject): number | undefined => {
	const value = pod.metadata.annotations?.[completionIndexAnnotation];
	return value === undefined ? undefined : Number(value);
};

/** "0-2,5" from {0,1,2,5}, as status.completedIndexes is written. */
export function formatIndexes(indexes: Iterable<number>): string {
	const sorted = [...new Set(indexes)].sort((a, b) => a - b);
	const parts: string[] = [];
	for (let i = 0; i < sorted.length;) {
		let j = i;
		while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
		parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
		i = j + 1;
	}
	return parts.join(',');
}

export function parseIndexes(text: string | undefined): Set<number> {
	const out = new Set<number>();
	for (const part of (text ?? '').split(',').filter(Boolean)) {
		const [from, to = from] = part.split('-').map(Number);
		for (let i = from; i <= to; i++) out.add(i);
	}
	return out;
}

/** The first podFailurePolicy rule a failed pod matches, with the words for its message. */
function matchFailurePolicy(job: KubeObject, pod: KubeObject): {action: string; index: number; message: string} | undefined {
	const rules: Rec[] = (job.spec as Rec).podFailurePolicy?.rules ?? [];
	const statuses: Rec[] = [...((pod.status as Rec)?.initContainerStatuses ?? []), ...((pod.status as Rec)?.containerStatuses ?? [])];
	for (const [index, rule] of rules.entries()) {
		if (rule.onExitCodes) {
			const {containerName, operator, values = []} = rule.onExitCodes as Rec;
			for (const s of statuses) {
				const code = s.state?.terminated?.exitCode;
				if (code === undefined || code === 0 || (containerName && s.name !== containerName)) continue;
				if ((operator === 'In') === values.includes(code)) {
					return {action: rule.action, index, message: `Container ${s.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${code} matching ${rule.action} rule at index ${index}`};
				}
			}
		}
		for (const want of (rule.onPodConditions ?? []) as Rec[]) {
			const has = ((pod.status as Rec)?.conditions ?? []).some((c: Rec) => c.type === want.type && c.status === (want.status ?? 'True'));
			if (has) return {action: rule.action, index, message: `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${want.type} matching ${rule.action} rule at index ${index}`};
		}
	}
	return undefined;
}

export class JobController implements Controller {
	readonly name = component;
	readonly primary = 'jobs';
	readonly watches = [
		{resource: 'jobs'},
		{resource: 'pods', keys: ownerKeys('Job')},
	];
	/** Failures since the last success and the time of the last, per Job key and uid (kube-controller-manager keeps these in memory too). */
	private readonly backoff = new Map<string, {uid: string; failures: number; last: number}>();

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock) {}

	/** Pods still holding the tracking finalizer: their Jobs need a look at start, even a Job that is gone. */
	initialKeys(): string[] {
		return this.store.scan('pods', undefined, p => !!p.metadata.finalizers?.includes(trackingFinalizer)).flatMap(ownerKeys('Job'));
	}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const job = this.store.get('jobs', namespace, name);
		if (!job || job.metadata.deletionTimestamp) {
			// The Job is going: its pods must not wait for a count that will never be taken.
			const orphans = this.store.scan('pods', namespace, p => !!p.metadata.finalizers?.includes(trackingFinalizer) &&
				!!p.metadata.ownerReferences?.some(r => r.controller && r.kind === 'Job' && r.name === name && (!job || r.uid === job.metadata.uid)));
			await Promise.all(orphans.map(p => this.release(p)));
			this.backoff.delete(key);
			return undefined;
		}
		const counted = await this.count(job);
		const record = this.backoff.get(key);
		if (record?.uid !== job.metadata.uid || counted.newSuccesses > 0) this.backoff.delete(key);
		if (counted.newFailures > 0) {
			const failures = (this.backoff.get(key)?.failures ?? 0) + counted.newFailures;
			this.backoff.set(key, {uid: job.metadata.uid!, failures, last: this.clock.now()});
		}
		return this.step(counted.job, key, counted.failJob);
	}

	/** Takes the finalizer off a pod (it goes away then if it was being deleted). */
	private async release(pod: KubeObject): Promise<void> {
		const fresh = this.store.get('pods', pod.metadata.namespace!, pod.metadata.name!);
		if (!fresh?.metadata.finalizers?.includes(trackingFinalizer)) return;
		await this.registry.patch(podType, pod.metadata.namespace, pod.metadata.name!, 'application/json-patch+json', [
			{op: 'test', path: '/metadata/uid', value: fresh.metadata.uid},
			{op: 'replace', path: '/metadata/finalizers', value: fresh.metadata.finalizers.filter(f => f !== trackingFinalizer)},
		]).catch(() => {});
	}

	/**
	 * Counts the finished pods into status in the three crash-safe steps; the
	 * Job as it stands after, how many failures are new, and a FailJob rule's
	 * message if a newly failed pod matched one.
	 */
	private async count(job: KubeObject): Promise<{job: KubeObject; newSuccesses: number; newFailures: number; failJob?: string}> {
		const status = (job.status ?? {}) as Rec;
		const uncounted = {succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])] as string[], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] as string[]};
		const known = new Set([...uncounted.succeeded, ...uncounted.failed]);
		const tracked = this.store.scan('pods', job.metadata.namespace, p => isControlledBy(p, job) && !!p.metadata.finalizers?.includes(trackingFinalizer));
		const completed = parseIndexes(status.completedIndexes);
		let newSuccesses = 0, newFailures = 0, failJob: string | undefined;
		const ignored: KubeObject[] = [];
		const fresh = tracked.filter(p => isFinished(p) && !known.has(p.metadata.uid!));
		// Once the Job has what it needs, the pods stopped after (or finishing late) are not counted.
		const done = ((status.conditions ?? []) as Rec[]).some(c => ['SuccessCriteriaMet', 'Complete'].includes(c.type) && c.status === 'True');
		for (const pod of fresh) {
			if (done) {
				ignored.push(pod);
				continue;
			}
			if ((pod.status as Rec)?.phase === 'Succeeded') {
				const index = indexOf(pod);
				if ((job.spec as Rec).completionMode === 'Indexed' && index !== undefined) {
					// A second success of an index (a retried pod that got there too) counts once, as Kubernetes counts indexes.
					if (completed.has(index)) {
						ignored.push(pod);
						continue;
					}
					completed.add(index);
				}
				uncounted.succeeded.push(pod.metadata.uid!);
				newSuccesses++;
				continue;
			}
			const rule = matchFailurePolicy(job, pod);
			if (rule?.action === 'Ignore') {
				ignored.push(pod);
				continue;
			}
			if (rule?.action === 'FailJob') failJob ??= rule.message;
			uncounted.failed.push(pod.metadata.uid!);
			newFailures++;
		}
		let current = job;
		// 1: the uids into uncountedTerminatedPods.
		if (fresh.length > ignored.length) {
			current = await this.writeStatus(current, {uncountedTerminatedPods: uncounted, ...(completed.size ? {completedIndexes: formatIndexes(completed)} : {})});
		}
		// 2: the finalizers off (of the pods just listed, of any a crash left listed, and of ignored ones).
		const listed = new Set([...uncounted.succeeded, ...uncounted.failed]);
		await Promise.all([...tracked.filter(p => listed.has(p.metadata.uid!)), ...ignored].map(p => this.release(p)));
		// 3: the uids folded into the counts.
		if (listed.size) {
			const s = (current.status ?? {}) as Rec;
			current = await this.writeStatus(current, {
				succeeded: (s.succeeded ?? 0) + uncounted.succeeded.length, failed: (s.failed ?? 0) + uncounted.failed.length,
				uncountedTerminatedPods: {},
			});
		}
		return {job: current, newSuccesses, newFailures, failJob};
	}

	private async step(job: KubeObject, key: string, failJob: string | undefined) {
		const spec = job.spec as Rec, status = (job.status ?? {}) as Rec;
		const now = this.clock.now();
		const conditions: Rec[] = status.conditions ?? [];
		const has = (type: string) => conditions.some(c => c.type === type && c.status === 'True');
		const pods = this.store.scan('pods', job.metadata.namespace, p => isControlledBy(p, job));
		const active = pods.filter(p => !isFinished(p) && !p.metadata.deletionTimestamp);
		// Finished since count() looked, so not counted yet: neither active nor missing.
		const unsettled = pods.filter(p => isFinished(p) && p.metadata.finalizers?.includes(trackingFinalizer));
		const terminating = pods.filter(p => !isFinished(p) && p.metadata.deletionTimestamp);
		const counts = {active: active.length, ready: active.filter(isPodReady).length, terminating: terminating.length};

		if (has('Complete') || has('Failed')) {
			await this.writeStatus(job, counts);
			return this.expire(job, now);
		}

		// What ends the Job: the target conditions first, the final ones once its pods have stopped.
		let target = conditions.find(c => (c.type === 'FailureTarget' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
		if (!target && !spec.suspend) {
			const restarts = spec.template?.spec?.restartPolicy === 'OnFailure'
				? active.reduce((n, p) => n + ((p.status as Rec)?.containerStatuses ?? []).reduce((m: number, s: Rec) => m + (s.restartCount ?? 0), 0), 0) : 0;
			const startTime = status.startTime ? Date.parse(status.startTime) : undefined;
			const deadline = spec.activeDeadlineSeconds !== undefined && startTime !== undefined ? startTime + spec.activeDeadlineSeconds * 1000 : undefined;
			const failed = status.failed ?? 0, succeeded = status.succeeded ?? 0;
			const completions = spec.completions ?? undefined;
			if (failJob) target = this.condition('FailureTarget', 'PodFailurePolicy', failJob, now);
			else if (failed + restarts > (spec.backoffLimit ?? 6)) target = this.condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
			else if (deadline !== undefined && now >= deadline) target = this.condition('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
			else if (spec.completionMode === 'Indexed' ? parseIndexes(status.completedIndexes).size >= (completions ?? 0)
				: completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0) {
				target = this.condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
			}
			if (target) {
				await this.writeStatus(job, {...counts, conditions: [...conditions, target]});
				if (target.type === 'FailureTarget') void this.events.record(job, 'Warning', target.reason, target.message, component);
				job = this.store.get('jobs', job.metadata.namespace!, job.metadata.name!) ?? job;
			}
		}
		if (target) {
			await this.deletePods(job, active);
			if (active.length > 0 || terminating.length > 0) return undefined;
			const success = target.type === 'SuccessCriteriaMet';
			const final = this.condition(success ? 'Complete' : 'Failed', target.reason, target.message, now);
			const latest = ((this.store.get('jobs', job.metadata.namespace!, job.metadata.name!) ?? job).status ?? {}) as Rec;
			await this.writeStatus(job, {...counts, active: 0, ready: 0, conditions: [...(latest.conditions ?? []), final], ...(success ? {completionTime: isoTime(now)} : {})});
			if (success) void this.events.record(job, 'Normal', 'Completed', 'Job completed', component);
			this.backoff.delete(key);
			return this.expire(this.store.get('jobs', job.metadata.namespace!, job.metadata.name!) ?? job, now);
		}

		if (spec.suspend) {
			await this.deletePods(job, active);
			const suspended = conditions.find(c => c.type === 'Suspended');
			const next = suspended?.status === 'True' ? conditions : [...conditions.filter(c => c.type !== 'Suspended'), this.condition('Suspended', 'JobSuspended', 'Job suspended', now)];
			if (suspended?.status !== 'True') void this.events.record(job, 'Normal', 'Suspended', 'Job suspended', component);
			await this.writeStatus(job, {...counts, active: 0, ready: 0, conditions: next});
			return undefined;
		}

		// Running: set the start (again after a resume), then make the pods that are missing.
		const resumed = conditions.some(c => c.type === 'Suspended' && c.status === 'True');
		const started: Rec = {...counts};
		if (!status.startTime || resumed) started.startTime = isoTime(now);
		if (resumed) {
			started.conditions = conditions.map(c => c.type === 'Suspended' ? this.condition('Suspended', 'JobResumed', 'Job resumed', now, 'False') : c);
			void this.events.record(job, 'Normal', 'Resumed', 'Job resumed', component);
		}
		job = await this.writeStatus(job, started);

		const record = this.backoff.get(key);
		const wait = record ? record.last + Math.min(backoffMaxMs, backoffBaseMs * 2 ** (record.failures - 1)) - now : 0;
		const deadlineWait = spec.activeDeadlineSeconds !== undefined ? Date.parse(((job.status ?? {}) as Rec).startTime) + spec.activeDeadlineSeconds * 1000 - now : undefined;
		const after = (ms: number | undefined) => ({requeueAfter: Math.max(0, Math.min(ms ?? Infinity, deadlineWait ?? Infinity))});
		// (their change queued this Job again, so the next pass counts them.)
		if (unsettled.length) return undefined;
		const missing = this.missing(job, active);
		if (missing.length === 0) return deadlineWait !== undefined ? after(undefined) : undefined;
		if (wait > 0) return after(wait);
		const created = await Promise.allSettled(missing.slice(0, burst).map(index => this.registry.create(podType, job.metadata.namespace, this.podFor(job, index))));
		for (const result of created) {
			if (result.status === 'fulfilled') void this.events.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${result.value.metadata.name}`, component);
			else void this.events.record(job, 'Warning', 'FailedCreate', `Error creating: ${(result.reason as Error).message}`, component);
		}
		return deadlineWait !== undefined ? after(undefined) : undefined;
	}

	/** The pods to create now: a completion index each (undefined when NonIndexed). */
	private missing(job: KubeObject, active: readonly KubeObject[]): (number | undefined)[] {
		const spec = job.spec as Rec, status = (job.status ?? {}) as Rec;
		const parallelism = spec.parallelism ?? 1;
		const room = parallelism - active.length;
		if (room <= 0) return [];
		if (spec.completionMode === 'Indexed') {
			const busy = new Set([...parseIndexes(status.completedIndexes), ...active.map(indexOf)]);
			const out: number[] = [];
			for (let i = 0; i < (spec.completions ?? 0) && out.length < room; i++) if (!busy.has(i)) out.push(i);
			return out;
		}
		const succeeded = status.succeeded ?? 0;
		// Without completions (a work queue) the first success means: no new pods, let the others finish.
		const wanted = spec.completions !== undefined && spec.completions !== null ? Math.min(parallelism, spec.completions - succeeded) : succeeded > 0 ? 0 : parallelism;
		return Array.from({length: Math.max(0, wanted - active.length)}, () => undefined);
	}

	private podFor(job: KubeObject, index: number | undefined): KubeObject {
		const template = (job.spec as Rec).template as Rec;
		const pod = podFromTemplate(job, template);
		pod.metadata.finalizers = [trackingFinalizer];
		if (index === undefined) return pod;
		// As the Job controller names and tells an Indexed pod: NAME-INDEX-xxxxx, the index in an
		// annotation and a label, JOB_COMPLETION_INDEX from the annotation, hostname NAME-INDEX.
		pod.metadata.generateName = `${job.metadata.name}-${index}-`;
		pod.metadata.annotations = {...pod.metadata.annotations, [completionIndexAnnotation]: String(index)};
		pod.metadata.labels = {...pod.metadata.labels, [completionIndexAnnotation]: String(index)};
		const spec = pod.spec as Rec;
		spec.hostname ??= `${job.metadata.name}-${index}`;
		const env = {name: 'JOB_COMPLETION_INDEX', valueFrom: {fieldRef: {fieldPath: `metadata.annotations['${completionIndexAnnotation}']`}}};
		for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Rec[]) c.env = [...(c.env ?? []).filter((e: Rec) => e.name !== env.name), env];
		return pod;
	}

	private async deletePods(job: KubeObject, pods: readonly KubeObject[]): Promise<void> {
		await Promise.all(pods.map(async pod => {
			await this.registry.delete(podType, pod.metadata.namespace, pod.metadata.name!).catch(() => {});
			void this.events.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, component);
		}));
	}

	/** ttlSecondsAfterFinished: the Job (and, by the garbage collector, its pods) deleted once it has passed. */
	private async expire(job: KubeObject, now: number) {
		const ttl = (job.spec as Rec).ttlSecondsAfterFinished;
		if (ttl === undefined || ttl === null) return undefined;
		const finished = ((job.status as Rec)?.conditions ?? []).find((c: Rec) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
		if (!finished) return undefined;
		const due = Date.parse(finished.lastTransitionTime) + ttl * 1000;
		if (now < due) return {requeueAfter: due - now};
		await this.registry.delete(jobType, job.metadata.namespace, job.metadata.name!, {propagationPolicy: 'Background', preconditions: {uid: job.metadata.uid}}).catch(() => {});
		return undefined;
	}

	private condition(type: string, reason: string, message: string, now: number, status = 'True'): Rec {
		const time = isoTime(now);
		return {type, status, lastProbeTime: time, lastTransitionTime: time, reason, message};
	}

	/** Writes these status fields if they change anything; the Job as stored after. */
	private async writeStatus(job: KubeObject, fields: Rec): Promise<KubeObject> {
		const current = this.store.get('jobs', job.metadata.namespace!, job.metadata.name!);
		if (!current) return job;
		const old = (current.status ?? {}) as Rec;
		const next: Rec = {...old, ...fields};
		for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
		if (next.uncountedTerminatedPods && !next.uncountedTerminatedPods.succeeded?.length && !next.uncountedTerminatedPods.failed?.length) next.uncountedTerminatedPods = {};
		if (JSON.stringify(old) === JSON.stringify(next)) return current;
		return this.registry.update(jobType, current.metadata.namespace, current.metadata.name!, {...current, status: next, metadata: {...current.metadata, resourceVersion: ''}}, {subresource: 'status'});
	}
}
