// Time-driven controller behaviour on an in-process engine with a manual
// clock and simulated nodes: a rollout that misses its progress deadline
// (and the opt-in automatic rollback), and pods replaced when their node
// stops reporting.
import assert from 'node:assert/strict';
import {afterEach, describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import {typeByPlural} from '../../source/api/resources.js';
import {ManualClock} from '../../source/engine/clock.js';
import type {NodeConfig} from '../../source/engine/config.js';
import {Engine} from '../../source/engine/engine.js';
import {eventually, removeHome, tempHome} from '../helpers.js';

type Rec = Record<string, any>;
const deployType = typeByPlural('deployments')!;

const node = (name: string): NodeConfig => ({name, kind: 'simulated', cpu: '8', memory: '16Gi', pods: 110, labels: {}, taints: []});

function deployment(annotations: Record<string, string> = {}): KubeObject {
	return {
		apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'app', namespace: 'default', annotations},
		spec: {replicas: 2, progressDeadlineSeconds: 30, selector: {matchLabels: {app: 'app'}}, template: {metadata: {labels: {app: 'app'}}, spec: {containers: [{name: 'c', image: 'pause'}]}}},
	};
}

describe('time-driven controllers (manual clock)', () => {
	let engine: Engine | undefined;
	let home: string;
	const clock = new ManualClock();
	const start = async (nodes: NodeConfig[]) => {
		home = tempHome();
		engine = await Engine.start({home, clock, config: {nodes, images: {}, scheduler: {scoring: 'MostAllocated'}}, log: () => {}});
		return engine;
	};
	afterEach(async () => {
		await engine?.stop();
		removeHome(home);
	});
	const progressing = (e: Engine) => ((e.store.get('deployments', 'default', 'app')!.status as Rec)?.conditions ?? []).find((c: Rec) => c.type === 'Progressing');
	const reasons = (e: Engine) => e.store.list('events', 'default').items.filter(ev => (ev.involvedObject as Rec).kind === 'Deployment').map(ev => ev.reason);

	it('marks a stalled rollout ProgressDeadlineExceeded, and rolls it back when asked to', async () => {
		const e = await start([node('sim-a')]);
		await e.registry.create(deployType, 'default', deployment({'kubedeck.io/rollback-on-failure': 'true'}));
		await eventually(() => progressing(e)?.reason === 'NewReplicaSetAvailable', 'the first rollout to complete');
		// v2 selects a node that does not exist: its pods stay Pending and the rollout stalls.
		await e.registry.patch(deployType, 'default', 'app', 'application/merge-patch+json', {spec: {template: {spec: {nodeSelector: {disk: 'ssd'}}}}});
		await eventually(() => progressing(e)?.reason === 'ReplicaSetUpdated', 'the rollout to start');
		assert.equal((e.store.get('deployments', 'default', 'app')!.spec as Rec).template.spec.nodeSelector.disk, 'ssd');
		clock.advance(25_000);
		await new Promise(r => setTimeout(r, 100));
		assert.equal(progressing(e)?.reason, 'ReplicaSetUpdated', 'not past the deadline yet');
		clock.advance(40_000);
		await eventually(() => reasons(e).includes('DeploymentRollback'), 'the automatic rollback');
		assert.ok(reasons(e).includes('ProgressDeadlineExceeded'));
		const d = e.store.get('deployments', 'default', 'app')!;
		assert.equal((d.spec as Rec).template.spec.nodeSelector, undefined, 'the template is back to revision 1');
		await eventually(() => progressing(e)?.reason === 'NewReplicaSetAvailable', 'the rolled-back deployment to be available again');
		assert.equal(e.store.get('deployments', 'default', 'app')!.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
	});

	it('holds a paused rollout and replaces every pod at once with Recreate', async () => {
		const e = await start([node('sim-a')]);
		const recreate = deployment();
		(recreate.spec as Rec).strategy = {type: 'Recreate'};
		await e.registry.create(deployType, 'default', recreate);
		await eventually(() => progressing(e)?.reason === 'NewReplicaSetAvailable', 'the first rollout');
		const sets = () => e.store.list('replicasets', 'default').items;
		await e.registry.patch(deployType, 'default', 'app', 'application/merge-patch+json', {spec: {paused: true}});
		await e.registry.patch(deployType, 'default', 'app', 'application/merge-patch+json', {spec: {template: {metadata: {labels: {app: 'app', v: '2'}}}}});
		await eventually(() => progressing(e)?.reason === 'DeploymentPaused', 'the paused condition');
		assert.equal(sets().length, 1, 'a paused deployment starts no new ReplicaSet');
		await e.registry.patch(deployType, 'default', 'app', 'application/merge-patch+json', {spec: {paused: false}});
		await eventually(() => progressing(e)?.reason === 'NewReplicaSetAvailable' && sets().length === 2, 'the resumed rollout to finish');
		const pods = e.store.list('pods', 'default').items.filter(p => !p.metadata.deletionTimestamp);
		assert.equal(pods.length, 2);
		assert.ok(pods.every(p => p.metadata.labels?.v === '2'), 'every pod runs the new template');
		const scaled = e.store.list('events', 'default').items.filter(ev => ev.reason === 'ScalingReplicaSet')
			.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion)).map(ev => String(ev.message));
		// Recreate scales the old ReplicaSet to 0 before the new one grows.
		const down = scaled.findIndex(m => /^Scaled down replica set .* from 2 to 0$/.test(m));
		const up = scaled.findIndex((m, i) => i > down && /^Scaled up replica set .* from 0 to 2$/.test(m));
		assert.ok(down >= 0 && up > down, `expected scale down before scale up, got ${JSON.stringify(scaled)}`);
	});

	it('adopts an orphan pod its selector matches, and releases one whose labels stop matching', async () => {
		const e = await start([node('sim-a')]);
		const podType = typeByPlural('pods')!;
		await e.registry.create(podType, 'default', {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'orphan', labels: {app: 'rs'}}, spec: {containers: [{name: 'c', image: 'pause'}]}});
		await e.registry.create(typeByPlural('replicasets')!, 'default', {
			apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {name: 'rs'},
			spec: {replicas: 2, selector: {matchLabels: {app: 'rs'}}, template: {metadata: {labels: {app: 'rs'}}, spec: {containers: [{name: 'c', image: 'pause'}]}}},
		});
		const owned = () => e.store.list('pods', 'default').items.filter(p => p.metadata.ownerReferences?.some(r => r.kind === 'ReplicaSet' && r.name === 'rs'));
		await eventually(() => owned().length === 2, 'two owned pods');
		assert.ok(owned().some(p => p.metadata.name === 'orphan'), 'the orphan was adopted, not replaced');
		assert.equal(e.store.list('pods', 'default').items.length, 2);
		await e.registry.patch(podType, 'default', 'orphan', 'application/merge-patch+json', {metadata: {labels: {app: 'elsewhere'}}});
		await eventually(() => owned().length === 2 && !owned().some(p => p.metadata.name === 'orphan'), 'the released pod replaced');
		const released = e.store.get('pods', 'default', 'orphan')!;
		assert.equal((released.metadata.ownerReferences ?? []).length, 0, 'the released pod no longer names the ReplicaSet');
	});

	it('never places more pods on a node than it holds, even when deciding many at once', async () => {
		const e = await start([{...node('tiny'), pods: 3}]);
		await Promise.all(Array.from({length: 6}, (_, i) => e.registry.create(typeByPlural('pods')!, 'default', {apiVersion: 'v1', kind: 'Pod', metadata: {name: `p${i}`}, spec: {containers: [{name: 'c', image: 'pause'}]}})));
		await eventually(() => e.store.list('events', 'default').items.filter(ev => ev.reason === 'FailedScheduling').length === 3, 'three FailedScheduling events');
		const bound = e.store.list('pods', 'default').items.filter(p => (p.spec as Rec).nodeName === 'tiny');
		assert.equal(bound.length, 3);
	});

	it('replaces the pods of a node that stops reporting, on a node that still does', async () => {
		const e = await start([node('sim-a'), node('sim-b')]);
		await e.registry.create(deployType, 'default', {...deployment(), spec: {...(deployment().spec as Rec), replicas: 4}});
		const podsOn = (name: string) => e.store.list('pods', 'default').items.filter(p => (p.spec as Rec).nodeName === name && !p.metadata.deletionTimestamp);
		await eventually(() => podsOn('sim-a').length + podsOn('sim-b').length === 4, '4 scheduled pods');
		// Bin packing put them together; silence that node's kubelet heartbeat.
		const busy = podsOn('sim-a').length === 4 ? 'sim-a' : 'sim-b';
		const other = busy === 'sim-a' ? 'sim-b' : 'sim-a';
		(e as unknown as {nodeAgents: {config: NodeConfig; stop(): void}[]}).nodeAgents.find(a => a.config.name === busy)!.stop();
		for (let i = 0; i < 25; i++) {
			clock.advance(5_000);
			await new Promise(r => setTimeout(r, 20));
		}
		const ready = ((e.store.get('nodes', '', busy)!.status as Rec).conditions as Rec[]).find(c => c.type === 'Ready');
		assert.equal(ready?.status, 'Unknown');
		await eventually(() => podsOn(other).length === 4 && podsOn(busy).length === 0, `the pods to move to ${other}`);
	});
});
