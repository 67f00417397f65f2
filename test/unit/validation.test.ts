import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {admissionErrors} from '../../source/api/admission.js';
import {fieldErrorMessage, formatStatus, invalid} from '../../source/api/errors.js';
import type {KubeObject} from '../../source/api/object.js';
import {typeForKind} from '../../source/api/resources.js';
import {validateUpdate} from '../../source/api/validation/kinds.js';
import {ephemeralContainerErrors} from '../../source/api/validation/pod.js';
import {parseSchedule} from '../../source/api/cron.js';
import {mostRecent} from '../../source/engine/controllers/cronjob.js';

function errorsOf(obj: KubeObject): string[] {
	const type = typeForKind(obj.apiVersion, obj.kind)!;
	return admissionErrors(type, structuredClone(obj)).map(e => `${e.field}: ${fieldErrorMessage(e)}`);
}

const deployment = (patch: (d: any) => void = () => {}): KubeObject => {
	const d: any = {
		apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web', namespace: 'default'},
		spec: {replicas: 2, selector: {matchLabels: {app: 'web'}}, template: {metadata: {labels: {app: 'web'}}, spec: {containers: [{name: 'web', image: 'nginx'}]}}},
	};
	patch(d);
	return d;
};

describe('validation', () => {
	it('accepts a well-formed deployment', () => {
		assert.deepEqual(errorsOf(deployment()), []);
	});

	it('rejects a selector that does not match the template labels, naming spec.selector', () => {
		const errors = errorsOf(deployment(d => (d.spec.template.metadata.labels = {app: 'other'})));
		assert.deepEqual(errors, ['spec.selector: Invalid value: {"matchLabels":{"app":"web"}}: selector does not match template labels']);
	});

	it('rejects negative replicas with the apiserver message', () => {
		assert.deepEqual(errorsOf(deployment(d => (d.spec.replicas = -1))), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
	});

	it('refuses a projected token shorter than ten minutes, as kube-apiserver does', () => {
		const errors = errorsOf(deployment(d => (d.spec.template.spec.volumes = [{name: 't', projected: {sources: [{serviceAccountToken: {path: 'token', expirationSeconds: 60}}]}}])));
		assert.deepEqual(errors, ['spec.template.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes']);
	});

	it('names a missing image by its path', () => {
		assert.deepEqual(errorsOf(deployment(d => delete d.spec.template.spec.containers[0].image)), ['spec.template.spec.containers[0].image: Required value']);
	});

	it('checks DNS-1123 names: subdomain for most kinds, label (63) for namespaces and services', () => {
		assert.match(errorsOf(deployment(d => (d.metadata.name = 'Web_1')))[0], /^metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain/);
		assert.deepEqual(errorsOf(deployment(d => (d.metadata.name = 'a.b'))), []);
		const svc = {apiVersion: 'v1', kind: 'Service', metadata: {name: 'a.b', namespace: 'default'}, spec: {ports: [{port: 80}]}};
		assert.match(errorsOf(svc)[0], /^metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label/);
		const long = {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'x'.repeat(64)}};
		assert.match(errorsOf(long)[0], /must be no more than 63 characters/);
	});

	it('checks label keys and values', () => {
		const errors = errorsOf(deployment(d => (d.metadata.labels = {'bad key': 'ok', good: 'bad value!'})));
		assert.equal(errors.length, 2);
		assert.match(errors[0], /^metadata.labels: Invalid value: "bad key": name part must consist of/);
		assert.match(errors[1], /^metadata.labels: Invalid value: "bad value!": a valid label must be/);
	});

	it('checks port ranges and NodePort range', () => {
		const pod = {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'p', namespace: 'default'}, spec: {containers: [{name: 'c', image: 'i', ports: [{containerPort: 70000}]}]}};
		assert.deepEqual(errorsOf(pod), ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive']);
		const svc = {apiVersion: 'v1', kind: 'Service', metadata: {name: 's', namespace: 'default'}, spec: {type: 'NodePort', ports: [{port: 80, nodePort: 8080}]}};
		assert.deepEqual(errorsOf(svc), ['spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767']);
	});

	it('requires Secret data to be base64 and caps ConfigMaps and Secrets at 1 MiB', () => {
		const secret = {apiVersion: 'v1', kind: 'Secret', metadata: {name: 's', namespace: 'default'}, data: {key: 'not base64!'}};
		assert.deepEqual(errorsOf(secret), ['data[key]: Invalid value: "<value omitted>": illegal base64 data']);
		const big = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'c', namespace: 'default'}, data: {a: 'x'.repeat(1024 * 1024 + 1)}};
		assert.deepEqual(errorsOf(big), ['data: Too long: must have at most 1048576 bytes']);
		const bigSecret = {apiVersion: 'v1', kind: 'Secret', metadata: {name: 's', namespace: 'default'}, data: {a: Buffer.alloc(1024 * 1024 + 1).toString('base64')}};
		assert.deepEqual(errorsOf(bigSecret), ['data: Too long: must have at most 1048576 bytes']);
	});

	it('rejects a Job template restartPolicy of Always', () => {
		const job = {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'j', namespace: 'default'}, spec: {template: {spec: {restartPolicy: 'Always', containers: [{name: 'c', image: 'i'}]}}}};
		assert.deepEqual(errorsOf(job), ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
	});

	it('parses CronJob schedules as the CronJob controller does, and names what is wrong', () => {
		const cron = (spec: Record<string, unknown>): KubeObject => ({
			apiVersion: 'batch/v1', kind: 'CronJob', metadata: {name: 'tick', namespace: 'default'},
			spec: {...spec, jobTemplate: {spec: {template: {spec: {restartPolicy: 'OnFailure', containers: [{name: 'c', image: 'busybox'}]}}}}},
		});
		for (const schedule of ['*/5 * * * *', '0 9 * * MON-FRI', '@hourly', '@midnight', '@every 90s', 'TZ=Asia/Seoul 0 9 * * *', '0 0 1,15 * *']) {
			assert.deepEqual(errorsOf(cron({schedule})), [], schedule);
		}
		assert.deepEqual(errorsOf(cron({schedule: '61 * * * *'})), ['spec.schedule: Invalid value: "61 * * * *": Invalid value for minute: 61']);
		assert.deepEqual(errorsOf(cron({schedule: '* * * *'})), ['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]']);
		assert.deepEqual(errorsOf(cron({schedule: '* * * * * *'})), ['spec.schedule: Invalid value: "* * * * * *": expected exactly 5 fields, found 6: [* * * * * *]']);
		assert.deepEqual(errorsOf(cron({schedule: '@fortnightly'})), ['spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly']);
		assert.deepEqual(errorsOf(cron({schedule: '0 9 * * *', timeZone: 'Mars/Olympus'})), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']);
		assert.deepEqual(errorsOf(cron({schedule: 'TZ=UTC 0 9 * * *', timeZone: 'UTC'})), ['spec.schedule: Invalid value: "TZ=UTC 0 9 * * *": cannot use both timeZone field and TZ or CRON_TZ in schedule']);
	});

	it('computes the next scheduled times in the CronJob\'s time zone, and at most one catch-up for many missed', () => {
		const at = (iso: string) => Date.parse(iso);
		const seoul = parseSchedule('0 9 * * *', 'Asia/Seoul');
		assert.equal(new Date(seoul.next(at('2026-01-01T00:00:00Z'))!).toISOString(), '2026-01-02T00:00:00.000Z', '09:00 in Seoul is 00:00 UTC');
		assert.equal(new Date(parseSchedule('*/15 * * * *').next(at('2026-01-01T00:15:00Z'))!).toISOString(), '2026-01-01T00:30:00.000Z', 'strictly after');
		assert.equal(parseSchedule('@every 90s').next(at('2026-01-01T00:00:00Z')), at('2026-01-01T00:01:30Z'));
		const everyMinute = parseSchedule('* * * * *');
		assert.deepEqual(mostRecent(everyMinute, at('2026-01-01T00:00:30Z'), at('2026-01-01T00:03:10Z')), {time: at('2026-01-01T00:03:00Z'), missed: 3});
		const longAgo = mostRecent(everyMinute, at('2025-01-01T00:00:00Z'), at('2026-01-01T00:03:10Z'));
		assert.equal(longAgo.time, at('2026-01-01T00:03:00Z'));
		assert.ok(longAgo.missed > 100);
		assert.deepEqual(mostRecent(everyMinute, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:59Z')), {time: undefined, missed: 0});
	});

	it('treats selector and PVC spec as immutable on update', () => {
		const old = deployment();
		const next = deployment(d => {
			d.spec.selector.matchLabels = {app: 'web2'};
			d.spec.template.metadata.labels = {app: 'web2'};
		});
		assert.equal(validateUpdate(next, old).map(e => `${e.field}: ${fieldErrorMessage(e)}`)[0], 'spec.selector: Invalid value: {"matchLabels":{"app":"web2"}}: field is immutable');
		const pvc = (mode: string) => ({apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: 'c'}, spec: {accessModes: [mode], resources: {requests: {storage: '1Gi'}}}});
		assert.match(fieldErrorMessage(validateUpdate(pvc('ReadWriteMany'), pvc('ReadWriteOnce'))[0]), /spec is immutable after creation/);
	});

	it('renders an Invalid status the way kubectl prints it', () => {
		const one = invalid('Deployment', 'apps', 'web', [{field: 'spec.replicas', type: 'FieldValueInvalid', detail: 'must be greater than or equal to 0', value: -1}]);
		assert.equal(formatStatus(one.status), 'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
		assert.equal(one.status.code, 422);
		const two = invalid('Deployment', 'apps', 'web', [
			{field: 'spec.replicas', type: 'FieldValueInvalid', detail: 'must be greater than or equal to 0', value: -1},
			{field: 'spec.template.spec.containers[0].image', type: 'FieldValueRequired', detail: ''},
		]);
		assert.equal(formatStatus(two.status), 'The Deployment "web" is invalid: \n* spec.replicas: Invalid value: -1: must be greater than or equal to 0\n* spec.template.spec.containers[0].image: Required value');
	});

	it('applies API defaults that kubectl output relies on', () => {
		const d = deployment() as any;
		admissionErrors(typeForKind('apps/v1', 'Deployment')!, d);
		assert.equal(d.spec.strategy.type, 'RollingUpdate');
		assert.equal(d.spec.strategy.rollingUpdate.maxSurge, '25%');
		assert.equal(d.spec.revisionHistoryLimit, 10);
		assert.equal(d.spec.template.spec.restartPolicy, 'Always');
		assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'Always');
		const svc: any = {apiVersion: 'v1', kind: 'Service', metadata: {name: 's', namespace: 'default'}, spec: {ports: [{port: 80}]}};
		admissionErrors(typeForKind('v1', 'Service')!, svc);
		assert.deepEqual(svc.spec.ports[0], {port: 80, protocol: 'TCP', targetPort: 80});
		assert.equal(svc.spec.sessionAffinity, 'None');
	});
});

describe('pods/ephemeralcontainers', () => {
	const pod = (ephemeral: Record<string, unknown>[] = []) => ({spec: {containers: [{name: 'web', image: 'nginx'}], ephemeralContainers: ephemeral}});
	const messages = (old: ReturnType<typeof pod>, next: ReturnType<typeof pod>) => ephemeralContainerErrors(old, next).map(e => `${e.field}: ${fieldErrorMessage(e)}`);

	it('takes a new ephemeral container, as kubectl debug sends it (empty resources are no resources)', () => {
		assert.deepEqual(messages(pod(), pod([{name: 'debugger', image: 'busybox', resources: {}, stdin: true, tty: true, targetContainerName: 'web'}])), []);
	});

	it('refuses a removed or changed one, a duplicate name, the fields a debugging container may not set, and an unknown target', () => {
		const existing = {name: 'debugger', image: 'busybox'};
		assert.deepEqual(messages(pod([existing]), pod()), ['spec.ephemeralContainers[0]: Forbidden: existing ephemeral containers "debugger" may not be removed']);
		assert.deepEqual(messages(pod([existing]), pod([{...existing, image: 'alpine'}])), ['spec.ephemeralContainers[0]: Forbidden: existing ephemeral containers "debugger" may not be changed']);
		assert.deepEqual(messages(pod(), pod([{name: 'web', image: 'busybox', ports: [{containerPort: 80}], readinessProbe: {exec: {command: ['true']}}, targetContainerName: 'db'}])), [
			'spec.ephemeralContainers[0].name: Duplicate value: "web"',
			'spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container',
			'spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container',
			'spec.ephemeralContainers[0].targetContainerName: Not found: "db"',
		]);
	});
});
