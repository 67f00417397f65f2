import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {toStoredVersion, viewOf} from '../../source/api/conversion.js';
import type {KubeObject} from '../../source/api/object.js';
import {knownKind, resourceTypes} from '../../source/api/resources.js';

const hpa = knownKind('HorizontalPodAutoscaler')!;
const v1 = viewOf(hpa, 'v1')!;

describe('autoscaling/v1 HorizontalPodAutoscaler', () => {
	it('is served besides the stored v2, and nothing else is', () => {
		assert.equal(hpa.version, 'v2');
		assert.ok(v1);
		assert.equal(viewOf(hpa, 'v2beta2'), undefined);
		assert.equal(viewOf(knownKind('Deployment')!, 'v1beta1'), undefined);
	});

	it('turns the CPU target into a Utilization metric and back', () => {
		const sent = {apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: {name: 'web', namespace: 'default'},
			spec: {scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'web'}, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50}} as KubeObject;
		const stored = toStoredVersion(sent, resourceTypes)!;
		assert.deepEqual(stored, {apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {name: 'web', namespace: 'default'},
			spec: {scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'web'}, minReplicas: 1, maxReplicas: 5,
				metrics: [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 50}}}]}});
		assert.deepEqual(v1.fromStored(stored), sent);
		// No target: none in v2 either (the controller's default of 80% applies).
		const bare = v1.toStored({...sent, spec: {...(sent.spec as object), targetCPUUtilizationPercentage: undefined}} as KubeObject);
		assert.equal((bare.spec as any).metrics, undefined);
	});

	it('keeps what v1 cannot say in annotations, so a v1 round trip loses nothing', () => {
		const stored = {apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {name: 'web', namespace: 'default', annotations: {team: 'a'}},
			spec: {scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'web'}, maxReplicas: 5,
				metrics: [
					{type: 'Resource', resource: {name: 'memory', target: {type: 'Utilization', averageUtilization: 70}}},
					{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 60}}},
				],
				behavior: {scaleDown: {stabilizationWindowSeconds: 30}}},
			status: {currentReplicas: 2, desiredReplicas: 3,
				currentMetrics: [{type: 'Resource', resource: {name: 'cpu', current: {averageUtilization: 90, averageValue: '90m'}}}, {type: 'Resource', resource: {name: 'memory', current: {averageUtilization: 10}}}],
				conditions: [{type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale'}]}} as KubeObject;
		const seen = v1.fromStored(stored) as any;
		assert.equal(seen.apiVersion, 'autoscaling/v1');
		assert.equal(seen.spec.targetCPUUtilizationPercentage, 60);
		assert.equal(seen.spec.metrics, undefined);
		assert.equal(seen.status.currentCPUUtilizationPercentage, 90);
		assert.equal(seen.metadata.annotations.team, 'a');
		assert.deepEqual(JSON.parse(seen.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics']), [(stored.spec as any).metrics[0]]);
		assert.deepEqual(JSON.parse(seen.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions']), (stored.status as any).conditions);
		const back = v1.toStored(seen) as any;
		assert.deepEqual(back.metadata.annotations, {team: 'a'});
		assert.deepEqual(back.spec.behavior, (stored.spec as any).behavior);
		assert.deepEqual(back.spec.metrics.map((m: any) => m.resource.name).sort(), ['cpu', 'memory']);
		assert.deepEqual(back.status.conditions, (stored.status as any).conditions);
		assert.deepEqual(back.status.currentMetrics.map((m: any) => m.resource.name).sort(), ['cpu', 'memory']);
	});

	it('leaves a manifest in a stored version alone', () => {
		assert.equal(toStoredVersion({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'x'}} as KubeObject, resourceTypes), undefined);
	});
});

describe('kubedeck apply with an autoscaling/v1 manifest', () => {
	it('plans it as the stored version', async () => {
		const {planManifests} = await import('../../source/client/operations/apply.js');
		const object = {apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: {name: 'web'},
			spec: {scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: 'web'}, maxReplicas: 3, targetCPUUtilizationPercentage: 50}} as KubeObject;
		const {planned, errors} = planManifests([{source: 'hpa.yaml', index: 1, object}], 'default');
		assert.deepEqual(errors, []);
		assert.equal(planned[0].type.version, 'v2');
		assert.equal(planned[0].object.apiVersion, 'autoscaling/v2');
		assert.equal((planned[0].object.spec as any).metrics[0].resource.target.averageUtilization, 50);
	});
});
