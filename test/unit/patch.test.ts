import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import {applyPatch, mergePatch, strategicMergePatch} from '../../source/api/patch.js';
import {threeWayMergePatch} from '../../source/api/threeway.js';

const pod = (): KubeObject => ({
	apiVersion: 'v1', kind: 'Pod', metadata: {name: 'p', labels: {a: '1', b: '2'}, finalizers: ['x']},
	spec: {containers: [
		{name: 'main', image: 'v1', env: [{name: 'A', value: '1'}, {name: 'B', value: '2'}], ports: [{containerPort: 80, protocol: 'TCP'}]},
		{name: 'side', image: 's1'},
	]},
});

describe('merge patch (RFC 7386)', () => {
	it('merges maps, removes on null, replaces lists', () => {
		assert.deepEqual(mergePatch({a: {b: 1, c: 2}, l: [1, 2]}, {a: {b: null, d: 3}, l: [3]}), {a: {c: 2, d: 3}, l: [3]});
	});
});

describe('JSON patch (RFC 6902)', () => {
	it('applies operations and fails cleanly on a bad path', () => {
		const out = applyPatch(pod(), 'application/json-patch+json', [{op: 'replace', path: '/spec/containers/0/image', value: 'v2'}]) as any;
		assert.equal(out.spec.containers[0].image, 'v2');
		assert.throws(() => applyPatch(pod(), 'application/json-patch+json', [{op: 'replace', path: '/nope/x', value: 1}]), /rejected our request/);
	});
});

describe('strategic merge patch', () => {
	it('merges containers by name and env by name, keeping other elements', () => {
		const out = strategicMergePatch(pod(), {spec: {containers: [{name: 'main', image: 'v2', env: [{name: 'B', value: '3'}, {name: 'C', value: '4'}]}]}}) as any;
		assert.equal(out.spec.containers.length, 2);
		assert.equal(out.spec.containers[0].image, 'v2');
		assert.deepEqual(out.spec.containers[0].env, [{name: 'A', value: '1'}, {name: 'B', value: '3'}, {name: 'C', value: '4'}]);
		assert.equal(out.spec.containers[1].image, 's1');
	});

	it('honours $patch: delete, $patch: replace and $setElementOrder', () => {
		const deleted = strategicMergePatch(pod(), {spec: {containers: [{name: 'side', $patch: 'delete'}]}}) as any;
		assert.deepEqual(deleted.spec.containers.map((c: any) => c.name), ['main']);
		const replaced = strategicMergePatch(pod(), {spec: {$patch: 'replace', containers: [{name: 'only', image: 'x'}]}}) as any;
		assert.deepEqual(replaced.spec, {containers: [{name: 'only', image: 'x'}]});
		const ordered = strategicMergePatch(pod(), {spec: {'$setElementOrder/containers': [{name: 'side'}, {name: 'main'}], containers: [{name: 'main', image: 'v3'}]}}) as any;
		assert.deepEqual(ordered.spec.containers.map((c: any) => c.name), ['side', 'main']);
	});

	it('unions merge-strategy primitive lists and deletes from them', () => {
		const added = strategicMergePatch(pod(), {metadata: {finalizers: ['y']}}) as any;
		assert.deepEqual(added.metadata.finalizers, ['x', 'y']);
		const removed = strategicMergePatch(pod(), {metadata: {'$deleteFromPrimitiveList/finalizers': ['x']}}) as any;
		assert.deepEqual(removed.metadata.finalizers, []);
	});

	it('rejects an unknown patch content type with 415', () => {
		assert.throws(() => applyPatch(pod(), 'text/plain', {}), (e: any) => e.code === 415);
	});
});

describe('three-way apply patch', () => {
	it('is empty when the manifest is already live, even with server defaults in lists', () => {
		const manifest = {spec: {ports: [{port: 80}], selector: {app: 'web'}}};
		const live = {spec: {ports: [{port: 80, protocol: 'TCP', targetPort: 80}], selector: {app: 'web'}, clusterIP: '127.1.0.5'}};
		assert.deepEqual(threeWayMergePatch(manifest, manifest, live), {});
	});

	it('deletes fields removed from the manifest since the last apply, and leaves fields others own', () => {
		const original = {metadata: {labels: {a: '1', b: '2'}}, spec: {replicas: 2}};
		const modified = {metadata: {labels: {a: '1'}}, spec: {replicas: 3}};
		const live = {metadata: {labels: {a: '1', b: '2', owner: 'x'}}, spec: {replicas: 2, paused: false}};
		assert.deepEqual(threeWayMergePatch(original, modified, live), {metadata: {labels: {b: null}}, spec: {replicas: 3}});
	});

	it('sends a changed list whole', () => {
		const original = {spec: {containers: [{name: 'a', image: 'v1'}]}};
		const modified = {spec: {containers: [{name: 'a', image: 'v2'}]}};
		const live = {spec: {containers: [{name: 'a', image: 'v1', imagePullPolicy: 'IfNotPresent'}]}};
		assert.deepEqual(threeWayMergePatch(original, modified, live), {spec: {containers: [{name: 'a', image: 'v2'}]}});
	});
});
