// The HorizontalPodAutoscaler controller (autoscaling/v2, after
// pkg/controller/podautoscaler): every 15 s of the engine's clock it reads
// the target's scale (a Deployment, StatefulSet or ReplicaSet), works out
// replicas per metric and takes the largest:
// - Resource cpu/memory, Utilization (of the pods' requests) or
//   AverageValue, from the kubelets' samples (what `top` shows); pods
//   without a sample count as 100% of their request when scaling down and 0
//   when scaling up, not-ready pods as 0 when scaling up (the replica
//   calculator's rules), within a tolerance of 10%;
// - Object metrics on a Service: `requests_per_second` (HTTP requests the
//   Ingress routed to it) and `connections_per_second` (new connections
//   through its ClusterIP and NodePorts), rates between two syncs of the
//   counters the data path keeps, Value or AverageValue targets.
// Then `behavior`: stabilization windows (scale-down 300 s by default: the
// highest recommendation in the window wins) and rate policies (up: 4 pods
// or 100% per 15 s, whichever is more; down: 100% per 15 s), then
// min/maxReplicas. Conditions AbleToScale, ScalingActive and ScalingLimited
// say what it did and why, in kube-controller-manager's words.
import type {KubeObject} from '../../api/object.js';
import {isPodReady, isTerminal} from '../../api/pods.js';
import {parseQuantity} from '../../api/quantity.js';
import {typeByPlural, typeForKind} from '../../api/resources.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import {isoTime} from '../../api/time.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {Clock} from '../clock.js';
import type {EventRecorder} from '../events.js';
import {type Controller, keyOf, splitKey} from './runner.js';

type Rec = Record<string, any>;
const hpaType = typeByPlural('horizontalpodautoscalers')!;
const component = 'horizontal-pod-autoscaler';
export const syncPeriodMs = 15_000;
const tolerance = 0.1;

/** Where the autoscaler reads what it scales on; the engine wires in its kubelets and data path. */
export interface AutoscalerMetrics {
	/** A pod's latest usage, summed over its containers: CPU in cores, memory in bytes. */
	podUsage(uid: string): {cpu: number; memory: number} | undefined;
	/** A counter that only grows (requests, connections) for a Service, since the engine started. */
	serviceCounter(namespace: string, name: string, metric: string): number | undefined;
}

/** The Object metrics kubedeck serves, and what each counts. */
export const objectMetrics: Record<string, string> = {
	requests_per_second: 'HTTP requests the Ingress routed to the Service',
	connections_per_second: 'new connections through the Service\'s addresses',
};

interface Proposal {
	replicas: number;
	/** How the event and conditions name the metric. */
	description: string;
	current: Rec;
}

class MetricError extends Error {
	constructor(readonly reason: string, message: string) {
		super(message);
	}
}

const defaultBehavior = {
	scaleUp: {stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{type: 'Pods', value: 4, periodSeconds: 15}, {type: 'Percent', value: 100, periodSeconds: 15}]},
	scaleDown: {stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{type: 'Percent', value: 100, periodSeconds: 15}]},
};

const milli = (cores: number) => `${Math.round(cores * 1000)}m`;
const bytes = (n: number) => `${Math.round(n)}`;

export class HorizontalPodAutoscalerController implements Controller {
	readonly name = component;
	readonly primary = 'horizontalpodautoscalers';
	readonly watches = [{resource: 'horizontalpodautoscalers', keys: (hpa: KubeObject, type: string) => {
		// A deleted HPA's history goes with it (the reconcile no longer has its uid).
		if (type === 'DELETED') this.forget(hpa.metadata.uid!);
		return [keyOf(hpa)];
	}}];
	/** Per HPA (uid): recent recommendations, scale events, and the counters' last readings. */
	private readonly recommendations = new Map<string, {at: number; replicas: number}[]>();
	private readonly scaleEvents = new Map<string, {at: number; change: number}[]>();
	private readonly counters = new Map<string, {at: number; value: number}>();
	/** When each HPA (uid) was last synced, at which generation: its own status writes do not sync it again. */
	private readonly synced = new Map<string, {at: number; generation: number}>();

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock, private readonly metrics: AutoscalerMetrics) {}

	private forget(uid: string): void {
		this.recommendations.delete(uid);
		this.scaleEvents.delete(uid);
		this.synced.delete(uid);
		for (const key of this.counters.keys()) if (key.startsWith(`${uid}/`)) this.counters.delete(key);
	}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const hpa = this.store.get('horizontalpodautoscalers', namespace, name);
		if (!hpa || hpa.metadata.deletionTimestamp) return undefined;
		const now = this.clock.now();
		const last = this.synced.get(hpa.metadata.uid!);
		if (last && last.generation === hpa.metadata.generation && now - last.at < syncPeriodMs) return {requeueAfter: syncPeriodMs - (now - last.at)};
		this.synced.set(hpa.metadata.uid!, {at: now, generation: hpa.metadata.generation ?? 0});
		const spec = hpa.spec as Rec;
		const ref = spec.scaleTargetRef ?? {};
		const status: Rec = {...(hpa.status as Rec), observedGeneration: hpa.metadata.generation};
		const conditions = new Map<string, Rec>(((status.conditions ?? []) as Rec[]).map(c => [c.type, c]));
		const set = (type: string, ok: boolean, reason: string, message: string) => {
			const was = conditions.get(type);
			const value = ok ? 'True' : 'False';
			conditions.set(type, {type, status: value, lastTransitionTime: was?.status === value ? was.lastTransitionTime : isoTime(this.clock.now()), reason, message});
		};
		const finish = async () => {
			status.conditions = ['AbleToScale', 'ScalingActive', 'ScalingLimited'].map(t => conditions.get(t)).filter(Boolean);
			await this.writeStatus(hpa, status);
			return {requeueAfter: syncPeriodMs};
		};

		const type = typeForKind(ref.apiVersion, ref.kind);
		const target = type?.subresources?.includes('scale') ? this.store.get(type.plural, namespace, ref.name) : undefined;
		if (!target) {
			const message = type?.subresources?.includes('scale')
				? `the HPA controller was unable to get the target's current scale: ${type.plural}${type.group ? `.${type.group}` : ''} "${ref.name}" not found`
				: `the HPA controller was unable to get the target's current scale: no scale subresource for ${ref.kind} in ${ref.apiVersion}`;
			set('AbleToScale', false, 'FailedGetScale', message);
			if ((hpa.status as Rec)?.conditions?.find((c: Rec) => c.type === 'AbleToScale')?.reason !== 'FailedGetScale') void this.events.record(hpa, 'Warning', 'FailedGetScale', message, component);
			return finish();
		}
		const current = Number((target.spec as Rec).replicas ?? 1);
		const minReplicas = spec.minReplicas ?? 1;
		/** Set the target's replicas; false (with the condition and event) if the write failed. */
		const rescale = async (desired: number, reason: string): Promise<boolean> => {
			try {
				await this.registry.patch(type!, namespace, ref.name, 'application/merge-patch+json', {spec: {replicas: desired}});
			} catch (error) {
				set('AbleToScale', false, 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${(error as Error).message}`);
				void this.events.record(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${(error as Error).message}`, component);
				return false;
			}
			const history = this.scaleEvents.get(hpa.metadata.uid!) ?? [];
			history.push({at: this.clock.now(), change: desired - current});
			this.scaleEvents.set(hpa.metadata.uid!, history);
			void this.events.record(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`, component);
			status.lastScaleTime = isoTime(this.clock.now());
			set('AbleToScale', true, 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
			return true;
		};
		status.currentReplicas = Number((target.status as Rec)?.replicas ?? current);
		if (current === 0 && minReplicas !== 0) {
			status.desiredReplicas = 0;
			set('AbleToScale', true, 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale');
			set('ScalingActive', false, 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
			return finish();
		}
		// Outside min/max: brought inside first, without asking the metrics (reconcileAutoscaler).
		if (current > spec.maxReplicas || current < minReplicas) {
			const above = current > spec.maxReplicas;
			const desired = above ? spec.maxReplicas : minReplicas;
			status.desiredReplicas = desired;
			set('ScalingLimited', true, above ? 'TooManyReplicas' : 'TooFewReplicas', above ? 'the desired replica count is more than the maximum replica count' : 'the desired replica count is less than the minimum replica count');
			await rescale(desired, above ? 'Current number of replicas above Spec.MaxReplicas' : 'Current number of replicas below Spec.MinReplicas');
			return finish();
		}

		const selector = fromLabelSelector((target.spec as Rec).selector);
		const pods = selector.length ? this.store.scan('pods', namespace, p => matchesLabels(selector, p.metadata.labels) && !isTerminal(p) && !p.metadata.deletionTimestamp) : [];
		const metricSpecs: Rec[] = spec.metrics?.length ? spec.metrics : [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 80}}}];
		const proposals: Proposal[] = [];
		const currentMetrics: Rec[] = [];
		let failure: MetricError | undefined;
		for (const metric of metricSpecs) {
			try {
				const proposal = this.propose(hpa, metric, pods, current);
				proposals.push(proposal);
				currentMetrics.push(proposal.current);
			} catch (error) {
				if (!(error instanceof MetricError)) throw error;
				failure ??= error;
				currentMetrics.push({type: metric.type});
				void this.events.record(hpa, 'Warning', error.reason, error.message, component);
			}
		}
		status.currentMetrics = currentMetrics;
		if (proposals.length === 0) {
			set('AbleToScale', true, 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale');
			set('ScalingActive', false, failure!.reason, `the HPA was unable to compute the replica count: ${failure!.message}`);
			status.desiredReplicas = current;
			return finish();
		}
		const best = proposals.reduce((a, b) => (b.replicas > a.replicas ? b : a));
		// A metric that could not be read may be the one that wants more: no scale-down on the others' word (computeReplicasForMetrics).
		if (failure && best.replicas < current) {
			set('AbleToScale', true, 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale');
			set('ScalingActive', false, failure.reason, `the HPA was unable to compute the replica count: ${failure.message}`);
			status.desiredReplicas = current;
			return finish();
		}
		set('ScalingActive', true, 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${best.description}`);

		const {desired, limit, stabilized} = this.normalize(hpa, current, best.replicas);
		if (limit) set('ScalingLimited', true, limit.reason, limit.message);
		else set('ScalingLimited', false, 'DesiredWithinRange', 'the desired count is within the acceptable range');

		if (desired !== current) {
			if (!(await rescale(desired, this.reason(best, desired, current)))) return finish();
		} else if (stabilized && best.replicas < current) {
			set('AbleToScale', true, 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
		} else {
			set('AbleToScale', true, 'ReadyForNewScale', 'recommended size matches current size');
		}
		status.desiredReplicas = desired;
		return finish();
	}

	private reason(best: Proposal, desired: number, current: number): string {
		return desired > current ? `${best.description} above target` : 'All metrics below target';
	}

	/** Replicas one metric asks for. */
	private propose(hpa: KubeObject, metric: Rec, pods: readonly KubeObject[], current: number): Proposal {
		if (metric.type === 'Resource' || metric.type === 'ContainerResource') {
			const source = metric.type === 'Resource' ? metric.resource : metric.containerResource;
			return this.resourceProposal(source, pods, current, metric.type === 'ContainerResource' ? source.container : undefined);
		}
		if (metric.type === 'Object') return this.objectProposal(hpa, metric.object, pods, current);
		const reason = metric.type === 'Pods' ? 'FailedGetPodsMetric' : metric.type === 'External' ? 'FailedGetExternalMetric' : 'InvalidMetricSourceType';
		throw new MetricError(reason, `unable to get metric of type ${metric.type}: kubedeck serves Resource (cpu, memory) and Object metrics on a Service (${Object.keys(objectMetrics).join(', ')})`);
	}

	/** The replica calculator for a resource: utilization of requests, or an average value. */
	private resourceProposal(source: Rec, pods: readonly KubeObject[], current: number, container?: string): Proposal {
		const resource: string = source.name;
		if (resource !== 'cpu' && resource !== 'memory') throw new MetricError('FailedGetResourceMetric', `unable to get metrics for resource ${resource}: kubedeck measures cpu and memory`);
		const target: Rec = source.target ?? {};
		const utilization = target.type === 'Utilization' || target.averageUtilization !== undefined;
		const wantPer = utilization ? Number(target.averageUtilization) / 100 : parseQuantity(String(target.averageValue)) ?? 0;
		if (!(wantPer > 0)) throw new MetricError('FailedGetResourceMetric', `invalid ${resource} target: set averageUtilization or averageValue above zero`);
		// Per pod: what it uses and what it requested.
		const used = new Map<string, {value: number; request: number}>();
		const missing: {request: number}[] = [];
		const unready: {request: number}[] = [];
		for (const pod of pods) {
			const containers = ((pod.spec as Rec).containers ?? []) as Rec[];
			let request = 0;
			for (const c of containers.filter(c => !container || c.name === container)) {
				const r = c.resources?.requests?.[resource];
				if (r === undefined && utilization) throw new MetricError('FailedGetResourceMetric', `failed to get ${resource} utilization: missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
				request += parseQuantity(String(r ?? 0)) ?? 0;
			}
			// Pending pods are left out altogether (groupPods); Running ones without a sample are "missing".
			if ((pod.status as Rec)?.phase !== 'Running' || !(pod.spec as Rec).nodeName) continue;
			const usage = this.metrics.podUsage(pod.metadata.uid!);
			if (!usage) missing.push({request});
			else if (resource === 'cpu' && !isPodReady(pod)) unready.push({request});
			else used.set(pod.metadata.name!, {value: resource === 'cpu' ? usage.cpu : usage.memory, request});
		}
		if (used.size === 0) throw new MetricError('FailedGetResourceMetric', `failed to get ${resource} utilization: did not receive metrics for targeted pods (pods might be unready)`);
		const ratioOf = (entries: {value: number; request: number}[]) => {
			const total = entries.reduce((n, e) => n + e.value, 0);
			return utilization ? total / entries.reduce((n, e) => n + e.request, 0) / wantPer : total / entries.length / wantPer;
		};
		const measured = [...used.values()];
		const ratio = ratioOf(measured);
		const total = measured.reduce((n, e) => n + e.value, 0);
		const averageValue = total / measured.length;
		const averageUtilization = Math.round((total / measured.reduce((n, e) => n + e.request, 0)) * 100);
		const describe = resource === 'cpu' || resource === 'memory' ? `${resource} resource${utilization ? ' utilization (percentage of request)' : ''}` : resource;
		const currentStatus: Rec = {type: 'Resource', resource: {name: resource, current: {...(utilization ? {averageUtilization} : {}), averageValue: resource === 'cpu' ? milli(averageValue) : bytes(averageValue)}}};
		const proposal = (replicas: number) => ({replicas, description: describe, current: currentStatus});

		const rebalanceUnready = unready.length > 0 && ratio > 1;
		if (!rebalanceUnready && missing.length === 0) {
			if (Math.abs(ratio - 1) <= tolerance) return proposal(current);
			return proposal(Math.ceil(ratio * measured.length));
		}
		// Pods without a sample: 100% of their request on the way down, nothing on the way up; unready pods: nothing on the way up.
		const full = (request: number) => (utilization ? request : wantPer);
		const filled = [...measured, ...missing.map(m => ({value: ratio < 1 ? full(m.request) : 0, request: m.request})), ...(rebalanceUnready ? unready.map(u => ({value: 0, request: u.request})) : [])];
		const newRatio = ratioOf(filled);
		if (Math.abs(newRatio - 1) <= tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) return proposal(current);
		const replicas = Math.ceil(newRatio * filled.length);
		if ((newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current)) return proposal(current);
		return proposal(replicas);
	}

	/** An Object metric on a Service: a rate between this sync and the last. */
	private objectProposal(hpa: KubeObject, source: Rec, pods: readonly KubeObject[], current: number): Proposal {
		const described = source.describedObject ?? {};
		const metric: string = source.metric?.name;
		if (described.kind !== 'Service' || !objectMetrics[metric]) {
			throw new MetricError('FailedGetObjectMetric', `unable to get metric ${metric} for ${described.kind ?? 'object'} ${described.name ?? ''}: kubedeck serves ${Object.keys(objectMetrics).join(' and ')} on a Service`);
		}
		const namespace = hpa.metadata.namespace!;
		const value = this.metrics.serviceCounter(namespace, described.name, metric);
		if (value === undefined) throw new MetricError('FailedGetObjectMetric', `unable to get metric ${metric}: service "${described.name}" has no data path counting it`);
		const key = `${hpa.metadata.uid}/${namespace}/${described.name}/${metric}`;
		const now = this.clock.now();
		const last = this.counters.get(key);
		this.counters.set(key, {at: now, value});
		if (!last || now <= last.at) throw new MetricError('FailedGetObjectMetric', `unable to get metric ${metric}: the first reading of a rate is taken, the next sync has one`);
		const rate = Math.max(0, value - last.value) / ((now - last.at) / 1000);
		const target: Rec = source.target ?? {};
		const ready = pods.filter(isPodReady).length || current;
		const description = `${metric} metric on Service/${described.name}`;
		const quantity = (n: number) => `${Math.round(n * 1000)}m`;
		if (target.type === 'AverageValue' || target.averageValue !== undefined) {
			const want = parseQuantity(String(target.averageValue)) ?? 0;
			if (!(want > 0)) throw new MetricError('FailedGetObjectMetric', `invalid target for ${metric}: averageValue must be above zero`);
			const ratio = rate / (want * current);
			const replicas = Math.abs(ratio - 1) <= tolerance ? current : Math.ceil(rate / want);
			return {replicas, description, current: {type: 'Object', object: {metric: {name: metric}, describedObject: described, current: {averageValue: quantity(rate / current)}}}};
		}
		const want = parseQuantity(String(target.value)) ?? 0;
		if (!(want > 0)) throw new MetricError('FailedGetObjectMetric', `invalid target for ${metric}: value must be above zero`);
		const ratio = rate / want;
		const replicas = Math.abs(ratio - 1) <= tolerance ? current : Math.ceil(ratio * ready);
		return {replicas, description, current: {type: 'Object', object: {metric: {name: metric}, describedObject: described, current: {value: quantity(rate)}}}};
	}

	/** Stabilization windows, then the rate policies, then min/maxReplicas (normalizeDesiredReplicasWithBehaviors). */
	private normalize(hpa: KubeObject, current: number, proposed: number): {desired: number; stabilized: boolean; limit?: {reason: string; message: string}} {
		const spec = hpa.spec as Rec;
		const up = {...defaultBehavior.scaleUp, ...spec.behavior?.scaleUp};
		const down = {...defaultBehavior.scaleDown, ...spec.behavior?.scaleDown};
		const now = this.clock.now();
		const uid = hpa.metadata.uid!;
		const history = this.recommendations.get(uid) ?? [];
		let upRecommendation = proposed, downRecommendation = proposed;
		for (const r of history) {
			if (r.at > now - up.stabilizationWindowSeconds * 1000) upRecommendation = Math.min(upRecommendation, r.replicas);
			if (r.at > now - down.stabilizationWindowSeconds * 1000) downRecommendation = Math.max(downRecommendation, r.replicas);
		}
		const longest = Math.max(up.stabilizationWindowSeconds, down.stabilizationWindowSeconds) * 1000;
		this.recommendations.set(uid, [...history.filter(r => r.at > now - longest), {at: now, replicas: proposed}]);
		let stabilizedTo = current;
		if (stabilizedTo < upRecommendation) stabilizedTo = upRecommendation;
		if (stabilizedTo > downRecommendation) stabilizedTo = downRecommendation;

		const minReplicas = spec.minReplicas ?? 1, maxReplicas = spec.maxReplicas;
		const events = this.scaleEvents.get(uid) ?? [];
		const longestPeriod = Math.max(...[...up.policies, ...down.policies].map((p: Rec) => p.periodSeconds)) * 1000;
		this.scaleEvents.set(uid, events.filter(e => e.at > now - longestPeriod));
		const changedWithin = (seconds: number, sign: 1 | -1) => events.filter(e => e.at > now - seconds * 1000 && Math.sign(e.change) === sign).reduce((n, e) => n + Math.abs(e.change), 0);
		let desired = stabilizedTo;
		let limit: {reason: string; message: string} | undefined;
		if (stabilizedTo > current) {
			let allowed = maxReplicas;
			const rate = this.rateLimit(up, current, changedWithin, 1);
			if (rate < allowed) {
				allowed = Math.max(rate, current);
				if (stabilizedTo > allowed) limit = {reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate'};
			} else if (stabilizedTo > maxReplicas) {
				limit = {reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count'};
			}
			desired = Math.min(stabilizedTo, allowed);
		} else if (stabilizedTo < current) {
			let allowed = minReplicas;
			const rate = this.rateLimit(down, current, changedWithin, -1);
			if (rate > allowed) {
				allowed = Math.min(rate, current);
				if (stabilizedTo < allowed) limit = {reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate'};
			} else if (stabilizedTo < minReplicas) {
				limit = {reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count'};
			}
			desired = Math.max(stabilizedTo, allowed);
		} else if (current > maxReplicas) {
			desired = maxReplicas;
			limit = {reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count'};
		} else if (current < minReplicas) {
			desired = minReplicas;
			limit = {reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count'};
		}
		return {desired, stabilized: stabilizedTo !== proposed, limit};
	}

	/** The most (up) or fewest (down) replicas the policies allow now, measured from each period's start. */
	private rateLimit(rules: Rec, current: number, changedWithin: (seconds: number, sign: 1 | -1) => number, sign: 1 | -1): number {
		if (rules.selectPolicy === 'Disabled') return current;
		const pickMost = (rules.selectPolicy ?? 'Max') === 'Max';
		const proposals = (rules.policies as Rec[]).map(p => {
			const start = current - sign * changedWithin(p.periodSeconds, sign);
			if (sign > 0) return p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
			return p.type === 'Pods' ? start - p.value : Math.floor(start * (1 - p.value / 100));
		});
		// Max picks the policy allowing the biggest change: the most replicas up, the fewest down.
		return sign > 0 ? (pickMost ? Math.max(...proposals) : Math.min(...proposals)) : (pickMost ? Math.min(...proposals) : Math.max(...proposals));
	}

	private async writeStatus(hpa: KubeObject, status: Rec): Promise<void> {
		const current = this.store.get('horizontalpodautoscalers', hpa.metadata.namespace!, hpa.metadata.name!);
		if (!current || JSON.stringify(current.status ?? {}) === JSON.stringify(status)) return;
		await this.registry.update(hpaType, current.metadata.namespace, current.metadata.name!, {...current, status, metadata: {...current.metadata, resourceVersion: ''}}, {subresource: 'status'});
	}
}
