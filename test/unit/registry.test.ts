import assert from 'node:assert/strict';
import {afterEach, beforeEach, describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import {typeByPlural} from '../../source/api/resources.js';
import {Registry} from '../../source/server/registry.js';
import {Store} from '../../source/store/store.js';
import {removeHome, tempHome} from '../helpers.js';

const t = (plural: string) => typeByPlural(plural)!;
const svc = (name: string, spec: object): KubeObject => ({apiVersion: 'v1', kind: 'Service', metadata: {name}, spec});

describe('registry', () => {
	let home: string;
	let store: Store;
	let registry: Registry;
	beforeEach(async () => {
		home = tempHome();
		store = new Store(home);
		registry = new Registry(store);
		await registry.create(t('namespaces'), undefined, {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default'}});
	});
	afterEach(async () => {
		await store.close();
		removeHome(home);
	});

	it('gives a Job a selector on its own uid', async () => {
		const job = await registry.create(t('jobs'), 'default', {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'j', uid: 'user-supplied'}, spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'c', image: 'i'}]}}}}) as any;
		assert.notEqual(job.metadata.uid, 'user-supplied');
		assert.equal(job.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], job.metadata.uid);
		assert.equal(job.spec.template.metadata.labels['batch.kubernetes.io/controller-uid'], job.metadata.uid);
	});

	it('allocates unique ClusterIPs and NodePorts, and refuses a taken NodePort', async () => {
		const a = await registry.create(t('services'), 'default', svc('a', {type: 'NodePort', ports: [{port: 80}]})) as any;
		const b = await registry.create(t('services'), 'default', svc('b', {type: 'NodePort', ports: [{port: 80}]})) as any;
		assert.match(a.spec.clusterIP, /^127\.1\.\d+\.\d+$/);
		assert.notEqual(a.spec.clusterIP, b.spec.clusterIP);
		assert.notEqual(a.spec.ports[0].nodePort, b.spec.ports[0].nodePort);
		await assert.rejects(registry.create(t('services'), 'default', svc('c', {type: 'NodePort', ports: [{port: 80, nodePort: a.spec.ports[0].nodePort}]})),
			(e: any) => e.code === 422 && /spec\.ports\[0\]\.nodePort: Invalid value: \d+: provided port is already allocated/.test(e.message));
		const headless = await registry.create(t('services'), 'default', svc('h', {clusterIP: 'None', selector: {app: 'x'}})) as any;
		assert.equal(headless.spec.clusterIP, 'None');
	});

	it('keeps the ClusterIP on update and status out of main-resource writes', async () => {
		const created = await registry.create(t('services'), 'default', svc('a', {ports: [{port: 80}]})) as any;
		const updated = await registry.update(t('services'), 'default', 'a', {...svc('a', {ports: [{port: 81}]}), status: {loadBalancer: {ingress: [{ip: '1.2.3.4'}]}}}) as any;
		assert.equal(updated.spec.clusterIP, created.spec.clusterIP);
		assert.deepEqual(updated.status, {loadBalancer: {}});
		const status = await registry.update(t('services'), 'default', 'a', {...updated, spec: {ports: [{port: 99}]}, status: {loadBalancer: {ingress: [{ip: '1.2.3.4'}]}}}, {subresource: 'status'}) as any;
		assert.equal(status.spec.ports[0].port, 81);
		assert.deepEqual(status.status.loadBalancer.ingress, [{ip: '1.2.3.4'}]);
	});

	it('writes nothing on a dry run', async () => {
		const rv = store.resourceVersion;
		const result = await registry.create(t('configmaps'), 'default', {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'dry'}, data: {a: 'b'}}, {dryRun: true});
		assert.equal(result.metadata.name, 'dry');
		assert.equal(store.get('configmaps', 'default', 'dry'), undefined);
		assert.equal(store.resourceVersion, rv);
	});

	it('names objects from generateName, turns stringData into data, and scales through the scale view', async () => {
		const secret = await registry.create(t('secrets'), 'default', {apiVersion: 'v1', kind: 'Secret', metadata: {generateName: 'token-'}, stringData: {pw: 'x'}}) as any;
		assert.match(secret.metadata.name, /^token-[a-z0-9]{5}$/);
		assert.deepEqual(secret.data, {pw: 'eA=='});
		assert.equal(secret.stringData, undefined);
		await registry.create(t('deployments'), 'default', {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'd'}, spec: {selector: {matchLabels: {a: 'b'}}, template: {metadata: {labels: {a: 'b'}}, spec: {containers: [{name: 'c', image: 'i'}]}}}});
		const scale = await registry.patch(t('deployments'), 'default', 'd', 'application/merge-patch+json', {spec: {replicas: 4}}, {subresource: 'scale'}) as any;
		assert.deepEqual([scale.kind, scale.spec.replicas, scale.status.selector], ['Scale', 4, 'a=b']);
		assert.equal((store.get('deployments', 'default', 'd')!.spec as any).replicas, 4);
	});
});
