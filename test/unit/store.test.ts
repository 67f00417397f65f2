import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {afterEach, beforeEach, describe, it} from 'node:test';
import Database from 'better-sqlite3';
import type {KubeObject} from '../../source/api/object.js';
import {typeByPlural} from '../../source/api/resources.js';
import {Store, type WatchEvent} from '../../source/store/store.js';
import {removeHome, tempHome} from '../helpers.js';

const cmType = typeByPlural('configmaps')!;
const secretType = typeByPlural('secrets')!;
const deployType = typeByPlural('deployments')!;
const cm = (name: string, data: Record<string, string> = {k: 'v'}): KubeObject => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: 'default'}, data});

describe('store', () => {
	let home: string;
	let store: Store;
	beforeEach(() => {
		home = tempHome();
		store = new Store(home);
	});
	afterEach(async () => {
		await store.close();
		removeHome(home);
	});

	it('assigns uid, creationTimestamp, generation and increasing resourceVersions', async () => {
		const a = await store.write(tx => tx.create(cmType, cm('a')));
		const b = await store.write(tx => tx.create(cmType, cm('b')));
		assert.match(a.metadata.uid!, /^[0-9a-f-]{36}$/);
		assert.ok(a.metadata.creationTimestamp);
		assert.equal(a.metadata.generation, 1);
		assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
		assert.deepEqual(store.list('configmaps', 'default').items.map(o => o.metadata.name), ['a', 'b']);
	});

	it('lists in namespace-then-name order, kept between lists and made again after each change, and a namespace alone', async () => {
		const names = (ns?: string) => store.listEntries('configmaps', ns).map(e => `${e.object.metadata.namespace}/${e.object.metadata.name}`);
		const inNs = (name: string, namespace: string) => ({...cm(name), metadata: {name, namespace}});
		await store.write(tx => {
			for (const [name, ns] of [['m', 'b'], ['a', 'b'], ['z', 'a'], ['c', 'c']]) tx.create(cmType, inNs(name, ns));
		});
		assert.deepEqual(names(), ['a/z', 'b/a', 'b/m', 'c/c']);
		const first = store.listEntries('configmaps');
		first.reverse();
		assert.deepEqual(names(), ['a/z', 'b/a', 'b/m', 'c/c'], 'a caller\'s copy is its own');
		await store.write(tx => tx.create(cmType, inNs('b', 'b')));
		assert.deepEqual(names(), ['a/z', 'b/a', 'b/b', 'b/m', 'c/c']);
		await store.write(tx => tx.delete(cmType, 'b', 'a'));
		assert.deepEqual(names(), ['a/z', 'b/b', 'b/m', 'c/c']);
		assert.deepEqual(names('b'), ['b/b', 'b/m']);
		assert.deepEqual(names('c'), ['c/c']);
		assert.deepEqual(names('nope'), []);
	});

	it('refuses a duplicate create with AlreadyExists and a stale update with Conflict, changing nothing', async () => {
		const a = await store.write(tx => tx.create(cmType, cm('a')));
		await assert.rejects(store.write(tx => tx.create(cmType, cm('a'))), (e: any) => e.code === 409 && e.reason === 'AlreadyExists' && e.message === 'configmaps "a" already exists');
		const updated = await store.write(tx => tx.update(cmType, {...cm('a', {k: 'new'}), metadata: {...a.metadata}}));
		await assert.rejects(store.write(tx => tx.update(cmType, {...cm('a', {k: 'stale'}), metadata: {...a.metadata}})), (e: any) => e.code === 409 && e.reason === 'Conflict');
		assert.deepEqual(store.get('configmaps', 'default', 'a')!.data, {k: 'new'});
		assert.equal(store.get('configmaps', 'default', 'a')!.metadata.resourceVersion, updated.metadata.resourceVersion);
	});

	it('bumps generation only when the spec changes, and skips writes that change nothing', async () => {
		const d: KubeObject = {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'd', namespace: 'default'}, spec: {replicas: 1}};
		const created = await store.write(tx => tx.create(deployType, d));
		const statusOnly = await store.write(tx => tx.update(deployType, {...created, status: {replicas: 1}}));
		assert.equal(statusOnly.metadata.generation, 1);
		const scaled = await store.write(tx => tx.update(deployType, {...statusOnly, spec: {replicas: 3}}));
		assert.equal(scaled.metadata.generation, 2);
		const same = await store.write(tx => tx.update(deployType, structuredClone(scaled)));
		assert.equal(same.metadata.resourceVersion, scaled.metadata.resourceVersion);
	});

	it('marks objects with finalizers as deleting and removes them when the last finalizer goes', async () => {
		const obj = cm('f');
		obj.metadata.finalizers = ['example.com/hold'];
		await store.write(tx => tx.create(cmType, obj));
		const marked = await store.write(tx => tx.delete(cmType, 'default', 'f'));
		assert.equal(marked.removed, false);
		assert.ok(store.get('configmaps', 'default', 'f')!.metadata.deletionTimestamp);
		const current = store.get('configmaps', 'default', 'f')!;
		current.metadata.finalizers = [];
		await store.write(tx => tx.update(cmType, current));
		assert.equal(store.get('configmaps', 'default', 'f'), undefined);
	});

	it('lets a write see what earlier writes of the same group commit changed (no lost update)', async () => {
		const [, second] = await Promise.all([
			store.write(tx => tx.create(cmType, cm('shared', {step: '1'}))),
			store.write(tx => {
				const current = tx.get('configmaps', 'default', 'shared');
				assert.ok(current, 'the create queued just before is visible');
				return tx.update(cmType, {...current, data: {step: '2'}});
			}),
			store.write(tx => {
				const current = tx.get('configmaps', 'default', 'shared')!;
				return tx.update(cmType, {...current, data: {...(current.data as object), later: 'yes'}});
			}),
		]);
		assert.equal(second.metadata.generation, 2);
		assert.deepEqual(store.get('configmaps', 'default', 'shared')!.data, {step: '2', later: 'yes'});
		// The three writes reach the file as one row holding the last version, with its resourceVersion.
		const rv = store.get('configmaps', 'default', 'shared')!.metadata.resourceVersion;
		await store.close();
		store = new Store(home);
		const reopened = store.get('configmaps', 'default', 'shared')!;
		assert.deepEqual([reopened.data, reopened.metadata.resourceVersion, store.resourceVersion], [{step: '2', later: 'yes'}, rv, rv]);
	});

	it('fails one write of a batch without undoing the others', async () => {
		const results = await Promise.allSettled([
			store.write(tx => tx.create(cmType, cm('x'))),
			store.write(tx => {
				tx.create(cmType, cm('half'));
				throw new Error('boom');
			}),
			store.write(tx => tx.create(cmType, cm('y'))),
		]);
		assert.deepEqual(results.map(r => r.status), ['fulfilled', 'rejected', 'fulfilled']);
		assert.deepEqual(store.list('configmaps').items.map(o => o.metadata.name), ['x', 'y']);
		await store.close();
		store = new Store(home);
		assert.deepEqual(store.list('configmaps').items.map(o => o.metadata.name), ['x', 'y']);
	});

	it('replays events after a resourceVersion, streams new ones, and answers 410 for compacted history', async () => {
		const small = new Store(tempHome(), {historySize: 3});
		try {
			const first = await small.write(tx => tx.create(cmType, cm('a')));
			await small.write(tx => tx.create(cmType, cm('b')));
			const seen: WatchEvent[] = [];
			const stop = small.watch('configmaps', 'default', Number(first.metadata.resourceVersion), e => seen.push(e));
			await small.write(tx => tx.delete(cmType, 'default', 'a'));
			stop();
			assert.deepEqual(seen.map(e => `${e.type} ${e.object.metadata.name}`), ['ADDED b', 'DELETED a']);
			for (const n of ['c', 'd', 'e']) await small.write(tx => tx.create(cmType, cm(n)));
			assert.throws(() => small.watch('configmaps', undefined, Number(first.metadata.resourceVersion), () => {}), (e: any) => e.code === 410 && /too old resource version/.test(e.message));
		} finally {
			await small.close();
			removeHome(small.dir);
		}
	});

	it('encrypts Secrets at rest with a 0600 key, in a 0700 state directory', async () => {
		await store.write(tx => tx.create(secretType, {apiVersion: 'v1', kind: 'Secret', metadata: {name: 's', namespace: 'default'}, data: {password: Buffer.from('hunter2-plaintext').toString('base64')}}));
		await store.write(tx => tx.create(cmType, cm('visible', {note: 'plain-config'})));
		assert.equal(fs.statSync(home).mode & 0o777, 0o700);
		assert.equal(fs.statSync(path.join(home, 'secrets.key')).mode & 0o777, 0o600);
		const raw = new Database(path.join(home, 'state.db'), {readonly: true});
		const rows = raw.prepare('SELECT resource, data FROM objects').all() as {resource: string; data: Buffer | string}[];
		raw.close();
		const secretRow = rows.find(r => r.resource === 'secrets')!;
		const secretBytes = Buffer.from(secretRow.data as Buffer);
		assert.ok(secretBytes.toString('latin1').startsWith('k8s:enc:aesgcm:v1:'));
		assert.ok(!secretBytes.includes(Buffer.from('aHVudGVyMi1wbGFpbnRleHQ=')) && !secretBytes.includes(Buffer.from('"password"')));
		assert.ok(String(rows.find(r => r.resource === 'configmaps')!.data).includes('plain-config'));
		await store.close();
		store = new Store(home);
		assert.equal(Buffer.from((store.get('secrets', 'default', 's')!.data as any).password, 'base64').toString(), 'hunter2-plaintext');
	});
});
