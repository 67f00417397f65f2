import assert from 'node:assert/strict';
import {afterEach, beforeEach, describe, it} from 'node:test';
import {typeByPlural} from '../../source/api/resources.js';
import {ManualClock} from '../../source/engine/clock.js';
import {EventRecorder} from '../../source/engine/events.js';
import {Registry} from '../../source/server/registry.js';
import {Store} from '../../source/store/store.js';
import {removeHome, tempHome} from '../helpers.js';

describe('event recorder', () => {
	let home: string;
	let store: Store;
	let recorder: EventRecorder;
	const owner = {apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {name: 'rs', namespace: 'default', uid: 'rs-uid'}};
	beforeEach(async () => {
		home = tempHome();
		store = new Store(home);
		const registry = new Registry(store);
		await registry.create(typeByPlural('namespaces')!, undefined, {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default'}});
		recorder = new EventRecorder(registry, new ManualClock());
	});
	afterEach(async () => {
		await store.close();
		removeHome(home);
	});

	it('counts an identical event instead of storing it again', async () => {
		for (let i = 0; i < 3; i++) await recorder.record(owner, 'Warning', 'BackOff', 'Back-off restarting failed container', 'kubelet');
		const events = store.list('events', 'default').items;
		assert.equal(events.length, 1);
		assert.equal(events[0].count, 3);
	});

	it('folds similar events beyond ten into one combined event', async () => {
		for (let i = 0; i < 15; i++) await recorder.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: rs-${i}`, 'replicaset-controller');
		const events = store.list('events', 'default').items;
		assert.equal(events.length, 12);
		const combined = events.filter(e => String(e.message).startsWith('(combined from similar events): '));
		assert.equal(combined.length, 1);
		assert.equal(combined[0].count, 4);
		assert.equal(combined[0].message, '(combined from similar events): Created pod: rs-14');
	});
});
