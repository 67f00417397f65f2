// The Deployment controller (pkg/controller/deployment): owns ReplicaSets
// named by the pod-template hash; rolls out with RollingUpdate
// (maxSurge/maxUnavailable, honouring readiness) or Recreate; keeps revision
// annotations and revisionHistoryLimit old ReplicaSets; honours pause;
// reports Available and Progressing (with progressDeadlineSeconds). Beyond
// Kubernetes, the annotation kubedeck.io/rollback-on-failure: "true" rolls a
// failed rollout back to the previous revision, as the user's notes ask.
import crypto from 'node:crypto';
import {deepEqual, type KubeObject, sortKeys} from '../../api/object.js';
import {podTemplateHashLabel as hashLabel, revisionAnnotation, withoutPodTemplateHash as withoutHash} from '../../api/workloads.js';
import {typeByPlural} from '../../api/resources.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import {isoTime} from '../../api/time.js';
import type {Clock} from '../clock.js';
import type {EventRecorder} from '../events.js';
import {isPodAvailable, isTerminal} from '../../api/pods.js';
import {controllerRef, hasController, isControlledBy} from './pods.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import {type Controller, ownerKeys, splitKey} from './runner.js';

type Rec = Record<string, any>;
const rsType = typeByPlural('replicasets')!;
const deployType = typeByPlural('deployments')!;

export const rollbackOnFailureAnnotation = 'kubedeck.io/rollback-on-failure';

/** A short, DNS-safe hash of the pod template (the pod-template-hash label). */
export function templateHash(template: Rec): string {
	const digest = crypto.createHash('sha256').update(JSON.stringify(sortKeys(template))).digest();
	const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
	let out = '';
	for (let i = 0; i < 10; i++) out += alphabet[digest[i] % alphabet.length];
	return out;
}

/** maxSurge/maxUnavailable: an int, or a percentage of replicas (surge rounds up, unavailable down). */
export function resolveIntOrPercent(value: unknown, total: number, roundUp: boolean): number {
	if (typeof value === 'number') return value;
	const m = String(value ?? '0').match(/^(\d+)%$/);
	if (!m) return Number(value) || 0;
	const exact = (Number(m[1]) * total) / 100;
	return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

const revisionOf = (rs: KubeObject) => Number(rs.metadata.annotations?.[revisionAnnotation] ?? 0);
const replicasOf = (rs: KubeObject) => Number((rs.spec as Rec).replicas ?? 0);
const statusOf = (rs: KubeObject) => (rs.status ?? {}) as Rec;

export class DeploymentController implements Controller {
	readonly name = 'deployment-controller';
	readonly primary = 'deployments';
	readonly watches;

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock) {
		this.watches = [
			{resource: 'deployments'},
			{resource: 'replicasets', keys: ownerKeys('Deployment')},
			// Recreate waits for the old pods to be gone: a pod's deletion wakes its Deployment (through its ReplicaSet).
			{resource: 'pods', keys: (pod: KubeObject, type: string) => (type === 'DELETED' ? this.deploymentOfPod(pod) : [])},
		];
	}

	private deploymentOfPod(pod: KubeObject): string[] {
		const rsRef = pod.metadata.ownerReferences?.find(r => r.controller && r.kind === 'ReplicaSet');
		const rs = rsRef && this.store.peek('replicasets', pod.metadata.namespace ?? '', rsRef.name);
		return rs ? ownerKeys('Deployment')(rs) : [];
	}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const d = this.store.get('deployments', namespace, name);
		if (!d || d.metadata.deletionTimestamp) return;
		const spec = d.spec as Rec;
		const replicas = spec.replicas ?? 1;
		const sets = await this.ownedReplicaSets(d);
		let newRS = sets.find(rs => deepEqual(withoutHash((rs.spec as Rec).template), spec.template));
		const olds = sets.filter(rs => rs !== newRS);
		const maxRevision = Math.max(0, ...sets.map(revisionOf));

		if (!spec.paused) {
			if (!newRS) {
				newRS = await this.createReplicaSet(d, maxRevision + 1, olds);
			} else if (revisionOf(newRS) < maxRevision) {
				// A rollback to an older template: that ReplicaSet becomes the newest revision.
				newRS = await this.setRevision(newRS, maxRevision + 1);
			}
			if (spec.strategy?.type === 'Recreate') await this.recreate(d, newRS, olds);
			else await this.rollingUpdate(d, newRS, olds);
			await this.cleanupHistory(d, olds);
		} else if (newRS && olds.every(rs => replicasOf(rs) === 0) && replicasOf(newRS) !== replicas) {
			await this.scale(d, newRS, replicas);
		}
		return this.writeStatus(d, newRS, olds);
	}

	/** ReplicaSets this Deployment controls, adopting orphans its selector matches. */
	private async ownedReplicaSets(d: KubeObject): Promise<KubeObject[]> {
		const selector = fromLabelSelector((d.spec as Rec).selector);
		const out: KubeObject[] = [];
		for (const rs of this.store.list('replicasets', d.metadata.namespace).items) {
			if (isControlledBy(rs, d)) out.push(rs);
			else if (!hasController(rs) && !rs.metadata.deletionTimestamp && matchesLabels(selector, (rs.spec as Rec).template?.metadata?.labels)) {
				out.push(await this.registry.patch(rsType, rs.metadata.namespace, rs.metadata.name!, 'application/merge-patch+json', {metadata: {ownerReferences: [...(rs.metadata.ownerReferences ?? []), controllerRef(d)]}}));
			}
		}
		return out;
	}

	private async createReplicaSet(d: KubeObject, revision: number, olds: KubeObject[]): Promise<KubeObject> {
		const spec = d.spec as Rec;
		const hash = templateHash(spec.template);
		const template = structuredClone(spec.template);
		template.metadata = {...template.metadata, labels: {...template.metadata?.labels, [hashLabel]: hash}};
		const replicas = spec.replicas ?? 1;
		const maxSurge = resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxSurge, replicas, true);
		// The first ReplicaSet starts at full size; a rollout's new one starts at zero and grows by surge.
		const initial = olds.every(rs => replicasOf(rs) === 0) && spec.strategy?.type !== 'Recreate' ? replicas : 0;
		const rs = await this.registry.create(rsType, d.metadata.namespace, {
			apiVersion: 'apps/v1', kind: 'ReplicaSet',
			metadata: {
				name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, labels: {...template.metadata.labels},
				annotations: {[revisionAnnotation]: String(revision), 'deployment.kubernetes.io/desired-replicas': String(replicas), 'deployment.kubernetes.io/max-replicas': String(replicas + maxSurge)},
				ownerReferences: [controllerRef(d)],
			},
			spec: {replicas: initial, minReadySeconds: spec.minReadySeconds ?? 0, selector: {...spec.selector, matchLabels: {...spec.selector?.matchLabels, [hashLabel]: hash}}, template},
		});
		if (initial > 0) void this.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rs.metadata.name} from 0 to ${initial}`, 'deployment-controller');
		return rs;
	}

	private async setRevision(rs: KubeObject, revision: number): Promise<KubeObject> {
		return this.registry.patch(rsType, rs.metadata.namespace, rs.metadata.name!, 'application/merge-patch+json', {metadata: {annotations: {[revisionAnnotation]: String(revision)}}});
	}

	private async scale(d: KubeObject, rs: KubeObject, to: number): Promise<KubeObject> {
		const from = replicasOf(rs);
		if (from === to) return rs;
		const scaled = await this.registry.patch(rsType, rs.metadata.namespace, rs.metadata.name!, 'application/merge-patch+json', {
			metadata: {annotations: {'deployment.kubernetes.io/desired-replicas': String((d.spec as Rec).replicas ?? 1)}}, spec: {replicas: to},
		});
		await this.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`, 'deployment-controller');
		return scaled;
	}

	private async recreate(d: KubeObject, newRS: KubeObject, olds: KubeObject[]): Promise<void> {
		for (const rs of olds) if (replicasOf(rs) > 0) await this.scale(d, rs, 0);
		// New pods start only once every old pod is gone.
		const oldPodsLeft = this.store.scan('pods', d.metadata.namespace, p => olds.some(rs => isControlledBy(p, rs)) && !isTerminal(p)).length;
		if (oldPodsLeft === 0) await this.scale(d, newRS, (d.spec as Rec).replicas ?? 1);
	}

	private async rollingUpdate(d: KubeObject, newRS: KubeObject, olds: KubeObject[]): Promise<void> {
		const spec = d.spec as Rec;
		const replicas = spec.replicas ?? 1;
		let maxSurge = resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxSurge ?? '25%', replicas, true);
		let maxUnavailable = resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas, false);
		if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
		const activeOlds = olds.filter(rs => replicasOf(rs) > 0);
		if (activeOlds.length === 0) {
			// Not rolling: a plain scale of the one ReplicaSet.
			await this.scale(d, newRS, replicas);
			return;
		}
		maxSurge = Math.max(0, maxSurge);
		// Scale up the new ReplicaSet as far as the surge allows.
		const total = replicasOf(newRS) + activeOlds.reduce((n, rs) => n + replicasOf(rs), 0);
		if (replicasOf(newRS) < replicas) {
			const room = replicas + maxSurge - total;
			if (room > 0) newRS = await this.scale(d, newRS, Math.min(replicas, replicasOf(newRS) + room));
		} else if (replicasOf(newRS) > replicas) {
			newRS = await this.scale(d, newRS, replicas);
		}
		// Scale down old ReplicaSets while keeping replicas - maxUnavailable available.
		const minAvailable = replicas - maxUnavailable;
		const now = this.clock.now();
		const available = (rs: KubeObject) => this.store.scan('pods', d.metadata.namespace, p => isControlledBy(p, rs) && !p.metadata.deletionTimestamp && isPodAvailable(p, spec.minReadySeconds ?? 0, now)).length;
		const newTotal = replicasOf(newRS) + activeOlds.reduce((n, rs) => n + replicasOf(rs), 0);
		const newAvailable = available(newRS);
		const oldAvailable = activeOlds.reduce((n, rs) => n + available(rs), 0);
		// Old pods that are not available can go at once: they add nothing to availability.
		let budget = Math.max(0, newAvailable + oldAvailable - minAvailable);
		const unhealthy = activeOlds.reduce((n, rs) => n + Math.max(0, replicasOf(rs) - available(rs)), 0);
		let cleanup = Math.min(unhealthy, Math.max(0, newTotal - replicas + maxSurge));
		for (const rs of [...activeOlds].sort((a, b) => revisionOf(a) - revisionOf(b))) {
			const unavailableHere = Math.max(0, replicasOf(rs) - available(rs));
			const dropUnhealthy = Math.min(cleanup, unavailableHere);
			cleanup -= dropUnhealthy;
			const dropHealthy = Math.min(budget, replicasOf(rs) - dropUnhealthy);
			budget -= dropHealthy;
			const target = replicasOf(rs) - dropUnhealthy - dropHealthy;
			if (target !== replicasOf(rs)) await this.scale(d, rs, Math.max(0, target));
		}
	}

	/** Keep revisionHistoryLimit old ReplicaSets that have scaled to zero; delete the oldest beyond it. */
	private async cleanupHistory(d: KubeObject, olds: KubeObject[]): Promise<void> {
		const limit = (d.spec as Rec).revisionHistoryLimit ?? 10;
		const idle = olds.filter(rs => replicasOf(rs) === 0 && (statusOf(rs).replicas ?? 0) === 0).sort((a, b) => revisionOf(a) - revisionOf(b));
		for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
			await this.registry.delete(rsType, rs.metadata.namespace, rs.metadata.name!).catch(() => {});
		}
	}

	private async writeStatus(d: KubeObject, newRS: KubeObject | undefined, olds: KubeObject[]) {
		const current = this.store.get('deployments', d.metadata.namespace!, d.metadata.name!);
		if (!current) return;
		const spec = current.spec as Rec;
		const replicas = spec.replicas ?? 1;
		const all = [...(newRS ? [this.store.get('replicasets', newRS.metadata.namespace!, newRS.metadata.name!) ?? newRS] : []), ...olds];
		const sum = (f: (s: Rec) => number) => all.reduce((n, rs) => n + f(statusOf(rs)), 0);
		const updated = newRS ? statusOf(all[0]).replicas ?? 0 : 0;
		const availableReplicas = sum(s => s.availableReplicas ?? 0);
		const maxUnavailable = resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas, false);
		const old = (current.status ?? {}) as Rec;
		const nowMs = this.clock.now();
		const now = isoTime(nowMs);
		const prevProgressing = (old.conditions ?? []).find((c: Rec) => c.type === 'Progressing');
		const complete = updated === replicas && sum(s => s.replicas ?? 0) === replicas && availableReplicas === replicas && !!newRS && (statusOf(all[0]).observedGeneration ?? 0) >= (all[0].metadata.generation ?? 0);
		// Progress is any change in the counts or a new generation; the deadline runs from the last progress.
		const changed = old.updatedReplicas !== updated || old.availableReplicas !== availableReplicas || old.replicas !== sum(s => s.replicas ?? 0) || old.observedGeneration !== current.metadata.generation;
		const deadlineMs = (spec.progressDeadlineSeconds ?? 600) * 1000;
		let progressing: Rec;
		if (spec.paused) progressing = {type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused'};
		else if (complete) progressing = {type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${newRS?.metadata.name}" has successfully progressed.`};
		else if (!changed && prevProgressing?.reason === 'ProgressDeadlineExceeded') progressing = prevProgressing;
		else if (!changed && prevProgressing?.reason === 'ReplicaSetUpdated' && nowMs - Date.parse(prevProgressing.lastUpdateTime) > deadlineMs) {
			progressing = {type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${newRS?.metadata.name}" has timed out progressing.`};
		} else progressing = {type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${newRS?.metadata.name}" is progressing.`};
		const keepTimes = (c: Rec, prev: Rec | undefined, bumpUpdate: boolean) => ({
			...c, lastUpdateTime: prev && !bumpUpdate && prev.reason === c.reason ? prev.lastUpdateTime : now,
			lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now,
		});
		const availableOk = availableReplicas >= replicas - maxUnavailable;
		const prevAvailable = (old.conditions ?? []).find((c: Rec) => c.type === 'Available');
		const conditions = [
			keepTimes({type: 'Available', status: availableOk ? 'True' : 'False', reason: availableOk ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: availableOk ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.'}, prevAvailable, false),
			keepTimes(progressing, prevProgressing, changed),
		];
		const status = {
			observedGeneration: current.metadata.generation, replicas: sum(s => s.replicas ?? 0), updatedReplicas: updated,
			readyReplicas: sum(s => s.readyReplicas ?? 0), availableReplicas, unavailableReplicas: Math.max(0, replicas - availableReplicas), conditions,
		};
		const revision = newRS ? String(revisionOf(newRS)) : current.metadata.annotations?.[revisionAnnotation];
		if (revision && current.metadata.annotations?.[revisionAnnotation] !== revision) {
			await this.registry.patch(deployType, current.metadata.namespace, current.metadata.name!, 'application/merge-patch+json', {metadata: {annotations: {[revisionAnnotation]: revision}}});
		}
		if (!deepEqual({...old, conditions: undefined}, {...old, ...status, conditions: undefined}) || !deepEqual(old.conditions, conditions)) {
			const fresh = this.store.get('deployments', current.metadata.namespace!, current.metadata.name!)!;
			await this.registry.update(deployType, fresh.metadata.namespace, fresh.metadata.name!, {...fresh, status: {...old, ...status}, metadata: {...fresh.metadata, resourceVersion: ''}}, {subresource: 'status'});
		}
		if (progressing.reason === 'ProgressDeadlineExceeded' && prevProgressing?.reason !== 'ProgressDeadlineExceeded') {
			await this.events.record(current, 'Warning', 'ProgressDeadlineExceeded', progressing.message, 'deployment-controller');
			if (current.metadata.annotations?.[rollbackOnFailureAnnotation] === 'true') await this.rollBack(current, olds);
		}
		if (complete || spec.paused) return undefined;
		// Look again when the progress deadline could pass.
		return {requeueAfter: Math.max(1000, Math.min(deadlineMs, 30_000))};
	}

	/** Automatic rollback: put the previous revision's template back. */
	private async rollBack(d: KubeObject, olds: KubeObject[]): Promise<void> {
		const previous = [...olds].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
		if (!previous) return;
		await this.registry.patch(deployType, d.metadata.namespace, d.metadata.name!, 'application/json-patch+json', [{op: 'replace', path: '/spec/template', value: withoutHash((previous.spec as Rec).template)}]);
		await this.events.record(d, 'Warning', 'DeploymentRollback', `Rolled back deployment "${d.metadata.name}" to revision ${revisionOf(previous)} after its rollout exceeded the progress deadline`, 'deployment-controller');
	}
}
