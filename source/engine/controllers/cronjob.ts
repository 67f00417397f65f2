// The CronJob controller (kube-controller-manager's cronjob controller v2,
// on the shared runner): at each scheduled time a Job from the template,
// named NAME-<minutes since the epoch> so that one time never makes two
// Jobs; concurrencyPolicy Allow, Forbid (a missed time waits for the running
// Job and starts when it ends, within startingDeadlineSeconds) and Replace;
// status.active, lastScheduleTime and lastSuccessfulTime; finished Jobs
// beyond the history limits deleted, oldest first.
//
// Times missed while the engine was down get at most one run, the most
// recent, as Kubernetes does, with a warning when more than 100 were
// missed; startingDeadlineSeconds bounds how late a run may start.
import {StatusError} from '../../api/errors.js';
import {parseSchedule, type Schedule} from '../../api/cron.js';
import type {KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import {isoTime} from '../../api/time.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {Clock} from '../clock.js';
import type {EventRecorder} from '../events.js';
import {controllerRef, isControlledBy} from './pods.js';
import {type Controller, ownerKeys, splitKey} from './runner.js';

type Rec = Record<string, any>;
const jobType = typeByPlural('jobs')!;
const cronType = typeByPlural('cronjobs')!;
const component = 'cronjob-controller';
export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const tooManyMissed = 100;

const finishedAs = (job: KubeObject): 'Complete' | 'Failed' | undefined =>
	((job.status as Rec)?.conditions ?? []).find((c: Rec) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type;

/** The Job name for a scheduled time, as the controller names it: minutes since the epoch. */
export const jobNameFor = (cronJob: KubeObject, time: number) => `${cronJob.metadata.name}-${Math.floor(time / 60_000)}`;

/** The latest scheduled time in (earliest, now], and how many there were (past 100 the count is a lower bound). */
export function mostRecent(schedule: Schedule, earliest: number, now: number): {time?: number; missed: number} {
	let time: number | undefined;
	let missed = 0;
	for (let t = schedule.next(earliest); t !== undefined && t <= now; t = schedule.next(t)) {
		time = t;
		if (++missed > tooManyMissed) break;
	}
	if (missed <= tooManyMissed) return {time, missed};
	// Many missed: find one close to now by looking back further and further, then walk to now.
	for (let back = 60_000; back < now - earliest; back *= 2) {
		const near = schedule.next(now - back);
		if (near === undefined || near > now) continue;
		let t: number | undefined = near;
		while (t !== undefined && t <= now) {
			time = t;
			t = schedule.next(t);
		}
		break;
	}
	return {time, missed};
}

export class CronJobController implements Controller {
	readonly name = component;
	readonly primary = 'cronjobs';
	readonly watches = [
		{resource: 'cronjobs'},
		{resource: 'jobs', keys: ownerKeys('CronJob')},
	];

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock) {}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const cronJob = this.store.get('cronjobs', namespace, name);
		if (!cronJob || cronJob.metadata.deletionTimestamp) return undefined;
		const spec = cronJob.spec as Rec, status = (cronJob.status ?? {}) as Rec;
		const now = this.clock.now();
		const jobs = this.store.scan('jobs', namespace, j => isControlledBy(j, cronJob));
		const wasActive = new Set(((status.active ?? []) as Rec[]).map(r => r.uid));
		for (const job of jobs) {
			const end = finishedAs(job);
			if (end && wasActive.has(job.metadata.uid)) void this.events.record(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, status: ${end}`, component);
		}
		const lastSuccess = jobs.filter(j => finishedAs(j) === 'Complete').map(j => (j.status as Rec).completionTime as string).filter(Boolean).sort().pop();
		const next: Rec = {
			active: jobs.filter(j => !finishedAs(j) && !j.metadata.deletionTimestamp).map(ref),
			lastScheduleTime: status.lastScheduleTime,
			lastSuccessfulTime: [status.lastSuccessfulTime, lastSuccess].filter(Boolean).sort().pop(),
		};
		await this.trimHistory(cronJob, jobs);

		let schedule: Schedule;
		try {
			schedule = parseSchedule(spec.schedule, spec.timeZone ?? undefined);
		} catch (error) {
			void this.events.record(cronJob, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${(error as Error).message}`, component);
			await this.writeStatus(cronJob, next);
			return undefined;
		}
		const upcoming = schedule.next(now);
		// (A timer that fires a little early finds nothing due and asks again for the rest.)
		const requeue = upcoming === undefined ? undefined : {requeueAfter: upcoming - now};
		if (spec.suspend) {
			await this.writeStatus(cronJob, next);
			return undefined;
		}

		const deadlineMs = typeof spec.startingDeadlineSeconds === 'number' ? spec.startingDeadlineSeconds * 1000 : undefined;
		let earliest = Date.parse(status.lastScheduleTime ?? cronJob.metadata.creationTimestamp!);
		if (deadlineMs !== undefined) earliest = Math.max(earliest, now - deadlineMs);
		const {time, missed} = mostRecent(schedule, earliest, now);
		if (time === undefined || jobs.some(j => j.metadata.name === jobNameFor(cronJob, time))) {
			await this.writeStatus(cronJob, next);
			return requeue;
		}
		if (missed > tooManyMissed) {
			void this.events.record(cronJob, 'Warning', 'TooManyMissedTimes', `too many missed start times: > ${tooManyMissed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`, component);
		}
		const policy = spec.concurrencyPolicy ?? 'Allow';
		if (policy === 'Forbid' && next.active.length > 0) {
			// The time stays unmet: the running Job's end queues this CronJob again, and it starts then.
			void this.events.record(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid', component);
			await this.writeStatus(cronJob, next);
			return requeue;
		}
		if (policy === 'Replace') {
			for (const active of jobs.filter(j => !finishedAs(j) && !j.metadata.deletionTimestamp)) {
				await this.registry.delete(jobType, namespace, active.metadata.name!, {propagationPolicy: 'Background'}).catch(() => {});
				void this.events.record(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${active.metadata.name}`, component);
			}
			next.active = [];
		}
		try {
			const created = await this.registry.create(jobType, namespace, this.jobFor(cronJob, time));
			void this.events.record(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`, component);
			next.active = [...next.active, ref(created)];
		} catch (error) {
			if (!(error instanceof StatusError && error.code === 409)) {
				void this.events.record(cronJob, 'Warning', 'FailedCreate', `Error creating job: ${(error as Error).message}`, component);
				throw error;
			}
		}
		next.lastScheduleTime = isoTime(time);
		await this.writeStatus(cronJob, next);
		return requeue;
	}

	private jobFor(cronJob: KubeObject, time: number): KubeObject {
		const template = ((cronJob.spec as Rec).jobTemplate ?? {}) as Rec;
		return {
			apiVersion: 'batch/v1', kind: 'Job',
			metadata: {
				name: jobNameFor(cronJob, time), namespace: cronJob.metadata.namespace,
				labels: {...template.metadata?.labels},
				annotations: {...template.metadata?.annotations, [scheduledTimestampAnnotation]: isoTime(time)},
				ownerReferences: [controllerRef(cronJob)],
			},
			spec: structuredClone(template.spec ?? {}),
		};
	}

	/** Finished Jobs past successfulJobsHistoryLimit and failedJobsHistoryLimit, oldest first, deleted with their pods. */
	private async trimHistory(cronJob: KubeObject, jobs: readonly KubeObject[]): Promise<void> {
		const spec = cronJob.spec as Rec;
		const started = (j: KubeObject) => (j.status as Rec)?.startTime ?? j.metadata.creationTimestamp ?? '';
		for (const [end, limit] of [['Complete', spec.successfulJobsHistoryLimit ?? 3], ['Failed', spec.failedJobsHistoryLimit ?? 1]] as const) {
			const finished = jobs.filter(j => finishedAs(j) === end && !j.metadata.deletionTimestamp).sort((a, b) => started(a).localeCompare(started(b)) || a.metadata.name!.localeCompare(b.metadata.name!));
			for (const job of finished.slice(0, Math.max(0, finished.length - limit))) {
				await this.registry.delete(jobType, job.metadata.namespace, job.metadata.name!, {propagationPolicy: 'Background'}).catch(() => {});
				void this.events.record(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`, component);
			}
		}
	}

	private async writeStatus(cronJob: KubeObject, fields: Rec): Promise<void> {
		const current = this.store.get('cronjobs', cronJob.metadata.namespace!, cronJob.metadata.name!);
		if (!current) return;
		const status: Rec = {...(current.status ?? {}), ...fields};
		for (const k of Object.keys(status)) if (status[k] === undefined || (k === 'active' && status[k].length === 0)) delete status[k];
		if (JSON.stringify(status) === JSON.stringify(current.status ?? {})) return;
		await this.registry.update(cronType, current.metadata.namespace, current.metadata.name!, {...current, status, metadata: {...current.metadata, resourceVersion: ''}}, {subresource: 'status'});
	}
}

function ref(job: KubeObject): Rec {
	return {apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, namespace: job.metadata.namespace, uid: job.metadata.uid};
}
