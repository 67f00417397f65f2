import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {typeByPlural} from '../../source/api/resources.js';
import {formatTable} from '../../source/commands/output.js';
import {jsonpathTemplate} from '../../source/commands/jsonpath.js';
import {podStatus, rendererFor} from '../../source/render/columns.js';
import {alignColumns, humanDuration} from '../../source/render/format.js';

const now = Date.parse('2026-01-01T00:10:00Z');
const pod = (status: object, extra: object = {}) => ({
	apiVersion: 'v1', kind: 'Pod', metadata: {name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z', ...extra},
	spec: {containers: [{name: 'a'}, {name: 'b'}], nodeName: 'node-1'}, status,
});

describe('renderers', () => {
	it('formats ages like kubectl', () => {
		assert.deepEqual([7e3, 119e3, 200e3, 600e3, 4 * 3600e3 + 60e3, 30 * 3600e3, 3 * 86400e3 + 3600e3, 400 * 86400e3].map(humanDuration),
			['7s', '119s', '3m20s', '10m', '4h1m', '30h', '3d1h', '400d']);
	});

	it('aligns columns as Go tabwriter does for kubectl (min width 6, padding 3)', () => {
		assert.equal(alignColumns([['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], ['web', '2/2', 'Running', '0', '7s']]),
			'NAME   READY   STATUS    RESTARTS   AGE\nweb    2/2     Running   0          7s');
	});

	it('derives the pod STATUS column from container states', () => {
		assert.equal(podStatus(pod({phase: 'Pending'})), 'Pending');
		assert.equal(podStatus(pod({phase: 'Running', containerStatuses: [{name: 'a', ready: true, state: {running: {}}}, {name: 'b', state: {waiting: {reason: 'CrashLoopBackOff'}}}]})), 'CrashLoopBackOff');
		assert.equal(podStatus(pod({phase: 'Succeeded', containerStatuses: [{name: 'a', state: {terminated: {exitCode: 0, reason: 'Completed'}}}]})), 'Completed');
		assert.equal(podStatus(pod({phase: 'Running'}, {deletionTimestamp: '2026-01-01T00:09:00Z'})), 'Terminating');
	});

	it('prints a pod row with READY, RESTARTS (with the last restart age) and wide columns', () => {
		const p = pod({phase: 'Running', podIP: '127.2.0.5', containerStatuses: [
			{name: 'a', ready: true, restartCount: 2, state: {running: {}}, lastState: {terminated: {finishedAt: '2026-01-01T00:09:00Z'}}},
			{name: 'b', ready: true, restartCount: 0, state: {running: {}}},
		]});
		assert.deepEqual(rendererFor('Pod').row(p, now).slice(0, 7), ['web', '2/2', 'Running', '2 (60s ago)', '10m', '127.2.0.5', 'node-1']);
		const table = formatTable(typeByPlural('pods')!, [p], {wide: true, now});
		assert.equal(table.split('\n')[0].trim(), 'NAME   READY   STATUS    RESTARTS      AGE   IP          NODE     NOMINATED NODE   READINESS GATES');
	});

	it('prints service ports with node ports', () => {
		const svc = {apiVersion: 'v1', kind: 'Service', metadata: {name: 'web', creationTimestamp: '2026-01-01T00:00:00Z'}, spec: {type: 'NodePort', clusterIP: '127.1.0.9', ports: [{port: 80, nodePort: 30080, protocol: 'TCP'}]}};
		assert.deepEqual(rendererFor('Service').row(svc, now).slice(0, 5), ['web', 'NodePort', '127.1.0.9', '<none>', '80:30080/TCP']);
	});
});

describe('jsonpath templates', () => {
	const list = {items: [{metadata: {name: 'a'}, spec: {replicas: 1}}, {metadata: {name: 'b'}, spec: {replicas: 3}}]};
	it('evaluates kubectl expressions, ranges and literals', () => {
		assert.equal(jsonpathTemplate('{.items[*].metadata.name}', list), 'a b');
		assert.equal(jsonpathTemplate('{range .items[*]}{.metadata.name}={.spec.replicas}{"\\n"}{end}', list), 'a=1\nb=3\n');
		assert.equal(jsonpathTemplate('name: {.items[0].metadata.name}', list), 'name: a');
	});
});
