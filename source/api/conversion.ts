// Versions served besides a kind's stored one. The engine keeps one version of
// each kind (resources.ts); a few kinds are also asked for in an older version
// that clients still send: kubectl 1.27 to 1.32 create the autoscaler of
// `kubectl autoscale` as autoscaling/v1. A served version converts to and
// from the stored one at the API's edge, as kube-apiserver converts through
// its internal version.
//
// HorizontalPodAutoscaler autoscaling/v1 <-> autoscaling/v2 follows
// k8s.io/kubernetes pkg/apis/autoscaling/v1/conversion.go: v1 carries only a
// CPU utilization target; what v2 has beyond it (other metrics, behavior,
// conditions, current metrics) rides in the autoscaling.alpha.kubernetes.io
// annotations, so an object read as v1 and written back loses nothing. One
// choice of ours: those annotations hold the v2 shapes (Kubernetes writes its
// older v2beta1 MetricSpec shape there); only a round trip through this
// server reads them.
import type {KubeObject} from './object.js';
import type {ResourceType} from './resources.js';

export interface VersionView {
	/** The served version: "v1". */
	version: string;
	toStored(obj: KubeObject): KubeObject;
	fromStored(obj: KubeObject): KubeObject;
}

type Rec = Record<string, any>;

const annotation = {
	metrics: 'autoscaling.alpha.kubernetes.io/metrics',
	currentMetrics: 'autoscaling.alpha.kubernetes.io/current-metrics',
	conditions: 'autoscaling.alpha.kubernetes.io/conditions',
	behavior: 'autoscaling.alpha.kubernetes.io/behavior',
};

const isCpuUtilization = (m: Rec, target: 'target' | 'current') =>
	m?.type === 'Resource' && m.resource?.name === 'cpu' && (target === 'current' || m.resource?.target?.type === 'Utilization');

/** Reads one of the round-trip annotations, removing it; a value that is not the JSON we wrote is dropped. */
function takeAnnotation(annotations: Rec, key: string): any {
	const text = annotations[key];
	delete annotations[key];
	if (typeof text !== 'string') return undefined;
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

function withoutEmpty(rec: Rec): Rec {
	return Object.fromEntries(Object.entries(rec).filter(([, v]) => v !== undefined));
}

const hpaV1: VersionView = {
	version: 'v1',
	toStored(obj) {
		const annotations: Rec = {...obj.metadata?.annotations};
		const otherMetrics = takeAnnotation(annotations, annotation.metrics);
		const otherCurrent = takeAnnotation(annotations, annotation.currentMetrics);
		const conditions = takeAnnotation(annotations, annotation.conditions);
		const behavior = takeAnnotation(annotations, annotation.behavior);
		const spec: Rec = obj.spec ?? {};
		const {targetCPUUtilizationPercentage: cpu, ...specRest} = spec;
		const metrics = [
			...(Array.isArray(otherMetrics) ? otherMetrics : []),
			...(cpu !== undefined && cpu !== null ? [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: cpu}}}] : []),
		];
		const status = obj.status as Rec | undefined;
		let storedStatus: Rec | undefined;
		if (status) {
			const {currentCPUUtilizationPercentage: current, ...statusRest} = status;
			const currentMetrics = [
				...(Array.isArray(otherCurrent) ? otherCurrent : []),
				...(current !== undefined && current !== null ? [{type: 'Resource', resource: {name: 'cpu', current: {averageUtilization: current}}}] : []),
			];
			storedStatus = withoutEmpty({...statusRest, currentMetrics: currentMetrics.length ? currentMetrics : undefined, conditions: Array.isArray(conditions) ? conditions : undefined});
		}
		const metadata = {...obj.metadata};
		if (Object.keys(annotations).length) metadata.annotations = annotations;
		else delete metadata.annotations;
		return withoutEmpty({
			...obj, apiVersion: 'autoscaling/v2', metadata,
			spec: withoutEmpty({...specRest, metrics: metrics.length ? metrics : undefined, behavior: behavior ?? undefined}),
			status: storedStatus,
		}) as KubeObject;
	},
	fromStored(obj) {
		const spec: Rec = obj.spec ?? {};
		const {metrics = [], behavior, ...specRest} = spec;
		const cpu = (metrics as Rec[]).find(m => isCpuUtilization(m, 'target'));
		const others = (metrics as Rec[]).filter(m => m !== cpu);
		const annotations: Rec = {...obj.metadata?.annotations};
		if (others.length) annotations[annotation.metrics] = JSON.stringify(others);
		if (behavior) annotations[annotation.behavior] = JSON.stringify(behavior);
		let status: Rec | undefined;
		if (obj.status) {
			const {currentMetrics = [], conditions, ...statusRest} = obj.status as Rec;
			const current = (currentMetrics as Rec[]).find(m => isCpuUtilization(m, 'current'));
			const otherCurrent = (currentMetrics as Rec[]).filter(m => m !== current);
			if (otherCurrent.length) annotations[annotation.currentMetrics] = JSON.stringify(otherCurrent);
			if (conditions?.length) annotations[annotation.conditions] = JSON.stringify(conditions);
			status = withoutEmpty({...statusRest, currentCPUUtilizationPercentage: current?.resource?.current?.averageUtilization});
		}
		return withoutEmpty({
			...obj, apiVersion: 'autoscaling/v1',
			metadata: Object.keys(annotations).length ? {...obj.metadata, annotations} : obj.metadata,
			spec: withoutEmpty({...specRest, targetCPUUtilizationPercentage: cpu?.resource?.target?.averageUtilization}),
			status,
		}) as KubeObject;
	},
};

/** A version whose shape is the stored one's (only apiVersion differs). */
function sameShape(group: string, version: string, stored: string): VersionView {
	return {
		version,
		toStored: obj => ({...obj, apiVersion: `${group}/${stored}`}),
		fromStored: obj => ({...obj, apiVersion: `${group}/${version}`}),
	};
}

/** Served versions by "group/Kind". */
const views: Record<string, VersionView[]> = {
	'autoscaling/HorizontalPodAutoscaler': [hpaV1],
	// kubectl 1.27's `auth whoami` asks v1beta1, then v1alpha1 (v1 from 1.28).
	'authentication.k8s.io/SelfSubjectReview': [sameShape('authentication.k8s.io', 'v1beta1', 'v1'), sameShape('authentication.k8s.io', 'v1alpha1', 'v1')],
};

/** The versions a type is served in besides its stored one, newest first. */
export function otherVersions(type: ResourceType): VersionView[] {
	return views[`${type.group}/${type.kind}`] ?? [];
}

/** The view of a type in a version other than its stored one; undefined if that version is not served. */
export function viewOf(type: ResourceType, version: string): VersionView | undefined {
	return otherVersions(type).find(v => v.version === version);
}

/** The type as a served version names it, for decoding and messages. */
export function typeInVersion(type: ResourceType, view: VersionView | undefined): ResourceType {
	return view ? {...type, version: view.version} : type;
}

/**
 * A manifest in a served version other than the stored one, in the stored
 * version; undefined when its apiVersion and kind are not one of those.
 */
export function toStoredVersion(obj: KubeObject, types: ResourceType[]): KubeObject | undefined {
	const [group, version] = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
	const type = types.find(t => t.group === group && t.kind === obj.kind);
	const view = type && viewOf(type, version);
	return view?.toStored(obj);
}
