// Jobs with real processes on an in-process engine whose clock moves only
// when the test says (backoff, deadlines, TTL): completions and parallelism,
// Indexed mode, backoffLimit, podFailurePolicy, activeDeadlineSeconds,
// suspend, ttlSecondsAfterFinished, and counts that survive a pod's deletion;
// CronJobs' schedules, concurrency policies, history and missed times.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import {typeByPlural} from '../../source/api/resources.js';
import {ManualClock} from '../../source/engine/clock.js';
import type {NodeConfig} from '../../source/engine/config.js';
import {trackingFinalizer} from '../../source/engine/controllers/job.js';
import {Engine} from '../../source/engine/engine.js';
import {eventually, passing, removeHome, tempHome} from '../helpers.js';

type Rec = Record<string, any>;
const jobType = typeByPlural('jobs')!;
const podType = typeByPlural('pods')!;
const cronType = typeByPlural('cronjobs')!;
const node: NodeConfig = {name: 'local', kind: 'process', cpu: '4', memory: '8Gi', pods: 110, labels: {}, taints: []};


function job(name: string, spec: Rec, script: string, restartPolicy = 'Never'): KubeObject {
	return {
		apiVersion: 'batch/v1', kind: 'Job', metadata: {name, namespace: 'default'},
		spec: {...spec, template: {spec: {restartPolicy, terminationGracePeriodSeconds: 1, containers: [{name: 'main', image: 'busybox', command: ['sh', '-c', script]}]}}},
	};
}

describe('Jobs (real processes, manual clock)', () => {
	let engine: Engine;
	let home: string;
	const clock = new ManualClock(Date.now());
	const pass = passing(clock);
	before(async () => {
		home = tempHome();
		engine = await Engine.start({home, clock, config: {nodes: [node], images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});
	const get = (name: string) => engine.store.get('jobs', 'default', name);
	const status = (name: string) => (get(name)?.status ?? {}) as Rec;
	const condition = (name: string, type: string) => (status(name).conditions ?? []).find((c: Rec) => c.type === type && c.status === 'True');
	const podsOf = (name: string) => engine.store.scan('pods', 'default', p => p.metadata.labels?.['job-name'] === name);
	const reasons = (name: string) => engine.store.list('events', 'default').items.filter(e => (e.involvedObject as Rec).name === name).map(e => e.reason as string);

	it('runs 6 completions 3 at a time to Complete, and counts finished pods once their finalizers are off', async () => {
		let most = 0;
		const stop = engine.store.watch('pods', 'default', Number(engine.store.resourceVersion), () => {
			most = Math.max(most, podsOf('batch').filter(p => !['Succeeded', 'Failed'].includes((p.status as Rec)?.phase)).length);
		});
		await engine.registry.create(jobType, 'default', job('batch', {completions: 6, parallelism: 3}, 'sleep 0.3'));
		await eventually(() => condition('batch', 'Complete'), 'the Job to complete', 60_000);
		stop();
		const s = status('batch');
		assert.equal(s.succeeded, 6);
		assert.equal(s.failed ?? 0, 0);
		assert.ok(s.completionTime && s.startTime);
		assert.ok(condition('batch', 'SuccessCriteriaMet'), 'SuccessCriteriaMet comes before Complete');
		assert.ok(most <= 3 && most >= 2, `at most parallelism pods ran at once (saw ${most})`);
		const pods = podsOf('batch');
		assert.equal(pods.length, 6);
		assert.ok(pods.every(p => !p.metadata.finalizers?.includes(trackingFinalizer)), 'no pod keeps the tracking finalizer');
		assert.deepEqual(s.uncountedTerminatedPods, {});
		// Events are written best effort, after the status: wait for it rather than race it.
		await eventually(() => reasons('batch').includes('Completed'), 'the Completed event');
		// The count is kept in status: deleting the pods does not take it back.
		for (const p of pods) await engine.registry.delete(podType, 'default', p.metadata.name!);
		await eventually(() => podsOf('batch').length === 0, 'the pods gone');
		assert.equal(status('batch').succeeded, 6);
	});

	it('gives each pod of an Indexed Job its index (name, hostname, JOB_COMPLETION_INDEX) and lists completed indexes', async () => {
		await engine.registry.create(jobType, 'default', job('idx', {completions: 3, parallelism: 3, completionMode: 'Indexed'}, 'test "$HOSTNAME" = "idx-$JOB_COMPLETION_INDEX"'));
		await eventually(() => condition('idx', 'Complete'), 'the Indexed Job to complete', 60_000);
		assert.equal(status('idx').completedIndexes, '0-2');
		assert.equal(status('idx').succeeded, 3);
		assert.deepEqual(podsOf('idx').map(p => p.metadata.name!.replace(/-\w{5}$/, '')).sort(), ['idx-0', 'idx-1', 'idx-2']);
	});

	it('backs off 10 s then 20 s between failed pods, and fails the Job past its backoffLimit', async () => {
		await engine.registry.create(jobType, 'default', job('flaky', {backoffLimit: 2}, 'exit 1'));
		await eventually(() => status('flaky').failed === 1, 'the first failure');
		await new Promise(r => setTimeout(r, 300));
		assert.equal(podsOf('flaky').length, 1, 'no replacement before the back-off has passed');
		await pass(10_000);
		await eventually(() => status('flaky').failed === 2, 'the second failure, 10 s later');
		await pass(10_000);
		await new Promise(r => setTimeout(r, 300));
		assert.equal(podsOf('flaky').length, 2, 'the second back-off is 20 s');
		await pass(10_000);
		await eventually(() => status('flaky').failed === 3, 'the third failure');
		await eventually(() => condition('flaky', 'Failed'), 'the Job to fail');
		assert.equal(condition('flaky', 'Failed').reason, 'BackoffLimitExceeded');
		assert.ok(condition('flaky', 'FailureTarget'));
		assert.equal(podsOf('flaky').length, 3);
		await eventually(() => reasons('flaky').includes('BackoffLimitExceeded'), 'the BackoffLimitExceeded event');
	});

	it('fails at once on a podFailurePolicy FailJob exit code, and does not count an ignored one', async () => {
		const policy = {rules: [{action: 'Ignore', onExitCodes: {operator: 'In', values: [3]}}, {action: 'FailJob', onExitCodes: {containerName: 'main', operator: 'In', values: [42]}}]};
		await engine.registry.create(jobType, 'default', job('policy', {backoffLimit: 6, podFailurePolicy: policy}, 'exit 42'));
		await eventually(() => condition('policy', 'Failed'), 'the FailJob rule to fail the Job');
		assert.equal(condition('policy', 'Failed').reason, 'PodFailurePolicy');
		assert.match(condition('policy', 'Failed').message, /^Container main for pod default\/policy-\w{5} failed with exit code 42 matching FailJob rule at index 1$/);
		await engine.registry.create(jobType, 'default', job('ignored', {backoffLimit: 0, parallelism: 1, podFailurePolicy: policy}, 'exit 3'));
		await eventually(() => podsOf('ignored').length >= 2, 'a replacement for the ignored failure, with no back-off');
		assert.equal(status('ignored').failed ?? 0, 0);
		assert.equal(condition('ignored', 'Failed'), undefined);
		await engine.registry.delete(jobType, 'default', 'ignored', {propagationPolicy: 'Background'});
	});

	it('stops a Job past its activeDeadlineSeconds, suspends and resumes one, and deletes a finished Job after its TTL', async () => {
		await engine.registry.create(jobType, 'default', job('slow', {activeDeadlineSeconds: 30}, 'exec sleep 600'));
		await eventually(() => status('slow').active === 1, 'the pod running');
		await pass(31_000);
		await eventually(() => condition('slow', 'Failed'), 'the deadline to fail the Job');
		assert.equal(condition('slow', 'Failed').reason, 'DeadlineExceeded');
		await eventually(() => podsOf('slow').every(p => ['Failed', 'Succeeded'].includes((p.status as Rec)?.phase) || p.metadata.deletionTimestamp), 'its pod stopped');

		await engine.registry.create(jobType, 'default', job('paused', {suspend: true}, 'true'));
		await eventually(() => condition('paused', 'Suspended'), 'Suspended');
		assert.equal(podsOf('paused').length, 0);
		await engine.registry.patch(jobType, 'default', 'paused', 'application/merge-patch+json', {spec: {suspend: false}});
		await eventually(() => condition('paused', 'Complete'), 'the resumed Job to complete', 30_000);
		assert.equal((status('paused').conditions as Rec[]).find(c => c.type === 'Suspended')?.reason, 'JobResumed');

		await engine.registry.create(jobType, 'default', job('short-lived', {ttlSecondsAfterFinished: 60}, 'true'));
		await eventually(() => condition('short-lived', 'Complete'), 'Complete', 30_000);
		await pass(30_000);
		await new Promise(r => setTimeout(r, 200));
		assert.ok(get('short-lived'), 'still there before its TTL');
		await pass(31_000);
		await eventually(() => !get('short-lived'), 'deleted after its TTL');
		await eventually(() => podsOf('short-lived').length === 0, 'its pods collected');
	});
});

function cronJob(name: string, spec: Rec, script: string): KubeObject {
	return {
		apiVersion: 'batch/v1', kind: 'CronJob', metadata: {name, namespace: 'default'},
		spec: {schedule: '* * * * *', ...spec, jobTemplate: {spec: {template: {spec: {restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{name: 'main', image: 'busybox', command: ['sh', '-c', script]}]}}}}},
	};
}

describe('CronJobs (real processes, manual clock)', () => {
	let engine: Engine;
	let home: string;
	// Half a minute before a minute starts, so each advance of 60 s passes exactly one scheduled time.
	const clock = new ManualClock(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);
	const start = () => Engine.start({home, clock, config: {nodes: [node], images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
	before(async () => {
		home = tempHome();
		engine = await start();
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});
	const jobsOf = (cron: string) => engine.store.scan('jobs', 'default', j => j.metadata.ownerReferences?.some(r => r.kind === 'CronJob' && r.name === cron) ?? false)
		.filter(j => !j.metadata.deletionTimestamp).map(j => j.metadata.name!).sort();
	const cronStatus = (name: string) => (engine.store.get('cronjobs', 'default', name)?.status ?? {}) as Rec;
	const reasons = (name: string) => engine.store.list('events', 'default').items.filter(e => (e.involvedObject as Rec).name === name).map(e => e.reason as string);
	const minute = () => Math.floor(clock.now() / 60_000);
	const pass = passing(clock);

	it('starts a Job each minute; Forbid waits for the running one, Replace replaces it', async () => {
		await engine.registry.create(cronType, 'default', cronJob('forbid', {concurrencyPolicy: 'Forbid'}, 'exec sleep 600'));
		await engine.registry.create(cronType, 'default', cronJob('replace', {concurrencyPolicy: 'Replace'}, 'exec sleep 600'));
		await new Promise(r => setTimeout(r, 200));
		assert.deepEqual(jobsOf('forbid'), [], 'nothing before the first scheduled time');
		await pass(30_000);
		const first = `${minute()}`;
		await eventually(() => jobsOf('forbid').length === 1 && jobsOf('replace').length === 1, 'a Job each at the minute');
		assert.deepEqual(jobsOf('forbid'), [`forbid-${first}`], 'named after the scheduled minute');
		assert.equal(cronStatus('forbid').active?.[0]?.name, `forbid-${first}`);
		assert.equal(cronStatus('forbid').lastScheduleTime, new Date(Number(first) * 60_000).toISOString().replace('.000', ''));
		await eventually(() => engine.store.get('jobs', 'default', `forbid-${first}`)?.status && (engine.store.get('jobs', 'default', `forbid-${first}`)!.status as Rec).active === 1, 'the first Job running');
		await pass(60_000);
		const second = `${minute()}`;
		await eventually(() => jobsOf('replace').join() === `replace-${second}`, 'Replace: the old Job deleted and a new one made');
		await eventually(() => reasons('forbid').includes('JobAlreadyActive'), 'Forbid: told it did not start');
		assert.deepEqual(jobsOf('forbid'), [`forbid-${first}`]);
		// The running Job ends: the time that was held back starts then.
		await engine.registry.delete(jobType, 'default', `forbid-${first}`, {propagationPolicy: 'Background'});
		await eventually(() => jobsOf('forbid').join() === `forbid-${second}`, 'the held-back run started when the other ended');
		for (const name of ['forbid', 'replace']) await engine.registry.delete(cronType, 'default', name, {propagationPolicy: 'Background'});
	});

	it('keeps successfulJobsHistoryLimit finished Jobs, records lastSuccessfulTime, and holds a suspended CronJob', async () => {
		await engine.registry.create(cronType, 'default', cronJob('quick', {successfulJobsHistoryLimit: 2}, 'true'));
		for (let i = 0; i < 4; i++) {
			await pass(60_000);
			const name = `quick-${minute()}`;
			await eventually(() => (engine.store.get('jobs', 'default', name)?.status as Rec | undefined)?.succeeded === 1, `${name} to complete`, 30_000);
		}
		await eventually(() => jobsOf('quick').length === 2, 'two finished Jobs kept');
		assert.deepEqual(jobsOf('quick'), [`quick-${minute() - 1}`, `quick-${minute()}`]);
		await eventually(() => cronStatus('quick').lastSuccessfulTime && !cronStatus('quick').active, 'lastSuccessfulTime, nothing active');
		await engine.registry.patch(cronType, 'default', 'quick', 'application/merge-patch+json', {spec: {suspend: true}});
		await pass(60_000);
		await new Promise(r => setTimeout(r, 300));
		assert.ok(!jobsOf('quick').includes(`quick-${minute()}`), 'no Job while suspended');
		await engine.registry.delete(cronType, 'default', 'quick', {propagationPolicy: 'Background'});
	});

	it('runs a CronJob once after the engine was down for many scheduled times, with a warning', async () => {
		await engine.registry.create(cronType, 'default', cronJob('catchup', {}, 'true'));
		await pass(60_000);
		await eventually(() => jobsOf('catchup').length === 1, 'the first run');
		await engine.stop();
		clock.advance(3 * 3_600_000);
		engine = await start();
		await eventually(() => jobsOf('catchup').length === 2, 'one catch-up run');
		await new Promise(r => setTimeout(r, 300));
		assert.equal(jobsOf('catchup').length, 2, 'only one for all the missed times');
		assert.ok(jobsOf('catchup').includes(`catchup-${minute()}`), 'the most recent missed time');
		await eventually(() => reasons('catchup').includes('TooManyMissedTimes'), 'the TooManyMissedTimes event');
	});
});
