// Field ownership (source/api/managed-fields.ts, field-set.ts): what an Update
// records, how an apply merges, prunes and conflicts, on the Deployment's real
// schema (the vendored OpenAPI definitions), as kube-apiserver does it.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {StatusError} from '../../source/api/errors.js';
import {schemaOf} from '../../source/api/field-schema.js';
import {FieldSet, fieldsOf, printPath} from '../../source/api/field-set.js';
import {applyConfiguration, type ManagedFieldsEntry, recordUpdate, type Writer} from '../../source/api/managed-fields.js';
import {resolveType} from '../../source/api/resources.js';

type Rec = Record<string, any>;
const schema = schemaOf(resolveType('deployments')!);
const time = '2026-12-08T00:00:00Z';
const as = (manager: string, subresource?: string): Writer => ({manager, apiVersion: 'apps/v1', time, ...(subresource ? {subresource} : {})});

function deployment(replicas: number, containers: Rec[] = [{name: 'web', image: 'nginx:1'}], labels: Rec = {app: 'web'}): Rec {
	return {
		apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web', namespace: 'default', labels},
		spec: {replicas, selector: {matchLabels: {app: 'web'}}, template: {metadata: {labels: {app: 'web'}}, spec: {containers}}},
	};
}

/** Apply onto `live` and return the object with its managedFields, as the registry stores it. */
function apply(live: Rec | undefined, config: Rec, writer: Writer, force = false): Rec {
	const {object, managedFields} = applyConfiguration(live, config, schema, writer, force);
	return {...object, metadata: {...(object.metadata as Rec), managedFields}};
}

const entry = (obj: Rec, manager: string): ManagedFieldsEntry | undefined => (obj.metadata.managedFields as ManagedFieldsEntry[]).find(e => e.manager === manager);
const owns = (obj: Rec, manager: string, ...path: string[]) => FieldSet.fromFieldsV1(entry(obj, manager)?.fieldsV1).touches(path);

function conflictOf(run: () => unknown): StatusError {
	try {
		run();
	} catch (error) {
		if (error instanceof StatusError) return error;
		throw error;
	}
	assert.fail('no conflict');
}

describe('managedFields', () => {
	it('records a create as an Update that owns what the object sets, with `.` on maps and items that appeared, and never the server\'s fields or status', () => {
		const created = {...deployment(2), metadata: {...deployment(2).metadata, uid: 'u', resourceVersion: '5', creationTimestamp: time}, status: {replicas: 0}};
		const entries = recordUpdate(undefined, undefined, created, schema, as('kubectl-create'))!;
		assert.equal(entries.length, 1);
		assert.deepEqual({...entries[0], fieldsV1: undefined}, {manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time, fieldsType: 'FieldsV1', fieldsV1: undefined});
		const f = entries[0].fieldsV1 as Rec;
		assert.deepEqual(f['f:metadata'], {'f:labels': {'.': {}, 'f:app': {}}});
		assert.deepEqual(f['f:spec']['f:replicas'], {});
		assert.deepEqual(f['f:spec']['f:template']['f:spec']['f:containers'], {'.': {}, 'k:{"name":"web"}': {'.': {}, 'f:image': {}, 'f:name': {}}});
		assert.equal(f['f:status'], undefined);
		assert.equal(f['f:apiVersion'], undefined);
	});

	it('moves a field to the manager that changed it, and drops a manager that owns nothing any more', () => {
		const before: Rec = {...deployment(2), metadata: {...deployment(2).metadata, managedFields: recordUpdate(undefined, undefined, deployment(2), schema, as("kubectl-create"))}};
		const after: Rec = {...before, spec: {...before.spec, replicas: 5}};
		const entries = recordUpdate(before.metadata.managedFields, before, after, schema, as('kubectl-scale', 'scale'))!;
		const scaled = {...after, metadata: {...after.metadata, managedFields: entries}};
		assert.deepEqual(entry(scaled, 'kubectl-scale')?.fieldsV1, {'f:spec': {'f:replicas': {}}});
		assert.equal(entry(scaled, 'kubectl-scale')?.subresource, 'scale');
		assert.equal(owns(scaled, 'kubectl-create', 'f:spec', 'f:replicas'), false);
		assert.equal(owns(scaled, 'kubectl-create', 'f:spec', 'f:selector'), true);
		// Changing every field it held leaves a manager with nothing: its entry goes.
		const only = [{manager: 'a', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: {'f:spec': {'f:replicas': {}}}}];
		assert.deepEqual(recordUpdate(only, deployment(1), deployment(3), schema, as('b'))!.map(e => e.manager), ['b']);
	});

	it('refuses an apply that changes a field another manager owns (409 naming both), shares a field applied with the same value, and takes it when forced', () => {
		const first = apply(undefined, deployment(2), as('alice'));
		assert.equal(owns(first, 'alice', 'f:spec', 'f:replicas'), true);
		const error = conflictOf(() => apply(first, deployment(3), as('bob')));
		assert.equal(error.code, 409);
		assert.equal(error.status.reason, 'Conflict');
		assert.equal(error.status.message, 'Apply failed with 1 conflict: conflict with "alice" using apps/v1: .spec.replicas');
		assert.deepEqual(error.status.details?.causes, [{reason: 'FieldManagerConflict', message: 'conflict with "alice" using apps/v1', field: '.spec.replicas'}]);
		const shared = apply(first, deployment(2), as('bob'));
		assert.equal(owns(shared, 'alice', 'f:spec', 'f:replicas') && owns(shared, 'bob', 'f:spec', 'f:replicas'), true);
		const forced = apply(first, deployment(3), as('bob'), true);
		assert.equal((forced.spec as Rec).replicas, 3);
		assert.equal(owns(forced, 'bob', 'f:spec', 'f:replicas'), true);
		assert.equal(owns(forced, 'alice', 'f:spec', 'f:replicas'), false);
		assert.equal(owns(forced, 'alice', 'f:spec', 'f:selector'), true);
	});

	it('leaves an entry (and its time) as it was when the manager holds the same fields again, so a repeated apply writes nothing', () => {
		const first = apply(undefined, deployment(2), as('alice'));
		const later = {...as('alice'), time: '2026-12-09T00:00:00Z'};
		const again = apply(first, deployment(2), later);
		assert.deepEqual(again, first, 'the same object, managedFields and all');
		assert.equal(entry(apply(first, deployment(3), later), 'alice')?.time, time, 'a value changed, the fields held did not');
		assert.equal(entry(apply(first, deployment(2, undefined, {app: 'web', tier: 'x'}), later), 'alice')?.time, later.time, 'a field more: the time moves');
		const created = recordUpdate(undefined, undefined, deployment(1), schema, as('kubectl-edit'));
		assert.equal(recordUpdate(created, deployment(1), deployment(4), schema, later)?.[0].time, time);
	});

	it('names an Update manager and its subresource in a conflict, and lists many fields', () => {
		const applied = apply(undefined, deployment(2), as('alice'));
		const scaledObject: Rec = {...applied, spec: {...applied.spec, replicas: 5}};
		const scaled = {...scaledObject, metadata: {...scaledObject.metadata, managedFields: recordUpdate(applied.metadata.managedFields, applied, scaledObject, schema, as('kubectl', 'scale'))}};
		assert.equal(conflictOf(() => apply(scaled, deployment(2), as('alice'))).status.message,
			'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
		const both = conflictOf(() => apply(applied, deployment(4, [{name: 'web', image: 'nginx:2'}]), as('bob')));
		assert.equal(both.status.message, 'Apply failed with 2 conflicts: conflicts with "alice" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image');
	});

	it('merges keyed lists item by item, so two managers each own their own container', () => {
		const web = apply(undefined, deployment(1), as('alice'));
		const sidecar = apply(web, {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web'}, spec: {template: {spec: {containers: [{name: 'log', image: 'busybox'}]}}}}, as('bob'));
		assert.deepEqual((sidecar.spec as Rec).template.spec.containers.map((c: Rec) => c.name), ['web', 'log']);
		assert.equal(owns(sidecar, 'bob', 'f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"log"}'), true);
		assert.equal(owns(sidecar, 'bob', 'f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"web"}'), false);
		assert.equal(owns(sidecar, 'alice', 'f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'), true);
	});

	it('removes what a manager stopped applying, unless another manager holds it', () => {
		const both = apply(undefined, deployment(1, undefined, {app: 'web', tier: 'front'}), as('alice'));
		const dropped = apply(both, deployment(1, undefined, {app: 'web'}), as('alice'));
		assert.deepEqual(dropped.metadata.labels, {app: 'web'});
		const held = apply(both, deployment(1, undefined, {tier: 'front'}), as('bob'));
		const kept = apply(held, deployment(1, undefined, {app: 'web'}), as('alice'));
		assert.deepEqual(kept.metadata.labels, {app: 'web', tier: 'front'});
		assert.equal(owns(kept, 'alice', 'f:metadata', 'f:labels', 'f:tier'), false);
		assert.equal(owns(kept, 'bob', 'f:metadata', 'f:labels', 'f:tier'), true);
		// A container no longer applied goes with it.
		const two = apply(undefined, deployment(1, [{name: 'web', image: 'a'}, {name: 'log', image: 'b'}]), as('alice'));
		const one = apply(two, deployment(1, [{name: 'web', image: 'a'}]), as('alice'));
		assert.deepEqual((one.spec as Rec).template.spec.containers, [{name: 'web', image: 'a'}]);
	});

	it('counts an item\'s defaulted key field (a port\'s protocol) so it matches the stored item, and prints paths as kube-apiserver does', () => {
		const svc = schemaOf(resolveType('services')!);
		const applied = fieldsOf({spec: {ports: [{port: 80}]}}, svc);
		assert.equal(applied.touches(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}', 'f:port']), true);
		assert.equal(printPath(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}', 'f:targetPort']), '.spec.ports[port=80,protocol="TCP"].targetPort');
		assert.equal(printPath(['f:metadata', 'f:finalizers', 'v:"x"']), '.metadata.finalizers[="x"]');
	});
});

describe('merge order', () => {
	it('keeps the live items in place, puts new ones where the configuration has them, and shared ones in its order', async () => {
		const {merge} = await import('../../source/api/field-set.js');
		const containers = (...names: string[]) => deployment(1, names.map(name => ({name, image: name})));
		const merged = merge(containers('a', 'b', 'c'), containers('c', 'd', 'a'), schema) as Rec;
		assert.deepEqual(merged.spec.template.spec.containers.map((c: Rec) => c.name), ['b', 'c', 'd', 'a']);
	});
});
