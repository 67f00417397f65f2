// :xray's trees (source/ui/xray.ts): every kind's lines with their branches,
// and the outline that draws a line only when it is asked for, which must
// read the same as drawing all of them.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import {xrayLines, xrayOutline, type XrayObjects} from '../../source/ui/xray.js';

function pod(name: string, owner: string, {containers = ['c'], claims = [] as string[], ready = true, labels = {}} = {}): KubeObject {
	return {
		apiVersion: 'v1', kind: 'Pod',
		metadata: {name, namespace: 'x', uid: `uid-${name}`, labels, ownerReferences: [{apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: owner}]},
		spec: {containers: containers.map(c => ({name: c, image: `img-${c}`})), volumes: claims.map(c => ({name: c, persistentVolumeClaim: {claimName: c}}))},
		status: {phase: 'Running', conditions: [{type: 'Ready', status: ready ? 'True' : 'False'}], containerStatuses: containers.map((c, i) => ({name: c, ready, restartCount: i, state: {running: {}}}))},
	};
}

const meta = (name: string, uid: string, owner?: string, revision?: string) => ({name, uid, ...(owner ? {ownerReferences: [{apiVersion: 'apps/v1', kind: 'Deployment', name: owner, uid: owner}]} : {}), ...(revision ? {annotations: {'deployment.kubernetes.io/revision': revision}} : {})});

const objects: XrayObjects = {
	deployments: [{apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('web', 'd1'), spec: {replicas: 3}, status: {readyReplicas: 2}}, {apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('api', 'd2'), spec: {replicas: 1}, status: {readyReplicas: 1}}],
	replicasets: [
		{apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('web-2', 'r2', 'd1', '2'), spec: {replicas: 2}, status: {readyReplicas: 1}},
		{apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('web-1', 'r1', 'd1', '1'), spec: {replicas: 1}, status: {readyReplicas: 1}},
		{apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('api-1', 'r3', 'd2'), spec: {replicas: 0}, status: {}},
	],
	statefulsets: [{apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('db', 's1'), spec: {replicas: 2}, status: {readyReplicas: 1}}],
	services: [
		{apiVersion: 'v1', kind: 'Service', metadata: {name: 'web'}, spec: {selector: {app: 'web'}, clusterIP: '10.0.0.1', ports: [{port: 80, nodePort: 30001}]}},
		{apiVersion: 'v1', kind: 'Service', metadata: {name: 'none'}, spec: {selector: {app: 'none'}, ports: [{port: 81, protocol: 'UDP'}]}},
	],
	endpoints: [{apiVersion: 'v1', kind: 'Endpoints', metadata: {name: 'web'}, subsets: [{addresses: [{ip: '10.1.0.1'}, {ip: '10.1.0.2'}]}]}],
	pvcs: [{apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: 'data-db-0'}, status: {phase: 'Bound'}}],
	pods: [
		pod('web-2-b', 'r2', {containers: ['c', 'side'], labels: {app: 'web'}}),
		pod('web-2-a', 'r2', {ready: false, labels: {app: 'web'}}),
		pod('web-1-a', 'r1', {claims: ['cache'], labels: {app: 'web'}}),
		pod('db-0', 's1', {claims: ['data-db-0']}),
		pod('db-1', 's1', {containers: ['db', 'exporter'], claims: ['data-db-1']}),
	],
};

const text = (kind: keyof XrayObjects) => xrayLines(kind, objects).map(l => l.text);

describe(':xray', () => {
	it('draws a Deployment\'s ReplicaSets, their pods, and each pod\'s containers and claims, by name, with the branches that close each level', () => {
		assert.deepEqual(text('deployments'), [
			'Deployment api 1/1 ready',
			'└─ ReplicaSet api-1 revision ? 0/0 ready',
			'',
			'Deployment web 2/3 ready',
			'├─ ReplicaSet web-1 revision 1 1/1 ready',
			'│  └─ Pod web-1-a Running',
			'│     ├─ container c (img-c) running',
			'│     └─ PersistentVolumeClaim cache missing',
			'└─ ReplicaSet web-2 revision 2 1/2 ready',
			'   ├─ Pod web-2-a Running (not ready)',
			'   │  └─ container c (img-c) running',
			'   └─ Pod web-2-b Running',
			'      ├─ container c (img-c) running',
			'      └─ container side (img-side) running, 1 restart',
			'',
		]);
		assert.deepEqual(xrayLines('deployments', objects).slice(3, 6).map(l => l.status), ['NotReady', 'Ready', 'Running']);
	});

	it('draws a StatefulSet\'s pods with their claims, and a Service\'s Endpoints and the pods it selects', () => {
		assert.deepEqual(text('statefulsets'), [
			'StatefulSet db 1/2 ready',
			'├─ Pod db-0 Running',
			'│  ├─ container c (img-c) running',
			'│  └─ PersistentVolumeClaim data-db-0 Bound',
			'└─ Pod db-1 Running',
			'   ├─ container db (img-db) running',
			'   ├─ container exporter (img-exporter) running, 1 restart',
			'   └─ PersistentVolumeClaim data-db-1 missing',
			'',
		]);
		assert.deepEqual(text('services'), [
			'Service none ClusterIP 81/UDP',
			'└─ Endpoints none (none yet)',
			'',
			'Service web ClusterIP 10.0.0.1 80:30001/TCP',
			'└─ Endpoints web 2 addresses',
			'   ├─ Pod web-1-a Running',
			'   │  ├─ container c (img-c) running',
			'   │  └─ PersistentVolumeClaim cache missing',
			'   ├─ Pod web-2-a Running (not ready)',
			'   │  └─ container c (img-c) running',
			'   └─ Pod web-2-b Running',
			'      ├─ container c (img-c) running',
			'      └─ container side (img-side) running, 1 restart',
			'',
		]);
	});

	it('reads any line of a large tree on its own as it reads in the whole, and refuses a line outside it', () => {
		// Pods with 1 to 3 lines under them, so the lookup crosses pods of every size.
		const many = Array.from({length: 500}, (_, i) => pod(`p-${String(i).padStart(3, '0')}`, 'r1', {containers: i % 3 === 0 ? ['a', 'b'] : ['a'], claims: i % 5 === 0 ? ['data'] : []}));
		const big: XrayObjects = {...objects, pods: many};
		const outline = xrayOutline('replicasets', big);
		const whole = xrayLines('replicasets', big);
		assert.equal(outline.length, whole.length);
		assert.equal(outline.roots, 3);
		// Read backwards, so no line is drawn from what reading the one before it left behind.
		for (let i = outline.length - 1; i >= 0; i--) assert.deepEqual(outline.at(i), whole[i], `line ${i}`);
		const pods = whole.filter(l => /^[├└]─ Pod /.test(l.text)).length;
		assert.equal(pods, 500);
		assert.equal(whole.filter(l => l.text.startsWith('└─ Pod p-499')).length, 1, 'the last pod closes the branch');
		assert.throws(() => outline.at(outline.length), RangeError);
		assert.throws(() => outline.at(-1), RangeError);
	});
});
