// One pure renderer per kind: an object in, kubectl's columns out. `get`, the
// server's Table responses (for the real kubectl) and the dashboard all use
// these, so they can never disagree on a column.
import type {KubeObject} from '../api/object.js';
import {formatLabelSelector, fromLabelSelector} from '../api/selectors.js';
import {age, joinOrNone} from './format.js';

type Rec = Record<string, any>;

export interface Column {
	name: string;
	/** 0: always shown; 1: only with -o wide. */
	priority: 0 | 1;
	type?: 'string' | 'integer' | 'date';
	description?: string;
}

export interface Renderer {
	columns: Column[];
	row(obj: KubeObject, now: number): string[];
}

const c = (name: string, priority: 0 | 1 = 0, type: Column['type'] = 'string'): Column => ({name, priority, type});

function containersAndImages(template: Rec | undefined): [string, string] {
	const containers: Rec[] = template?.spec?.containers ?? [];
	return [containers.map(x => x.name).join(','), containers.map(x => x.image).join(',')];
}

function selectorText(selector: Rec | undefined): string {
	const text = formatLabelSelector(fromLabelSelector(selector));
	return text || '<none>';
}

/** The STATUS column of `kubectl get pods` (printers.printPod). */
export function podStatus(pod: KubeObject): string {
	const status = (pod.status ?? {}) as Rec;
	const spec = (pod.spec ?? {}) as Rec;
	let reason: string = status.reason || status.phase || 'Unknown';
	const initStatuses: Rec[] = status.initContainerStatuses ?? [];
	let initializing = false;
	for (const [i, cs] of initStatuses.entries()) {
		if (cs.state?.terminated?.exitCode === 0) continue;
		if (cs.state?.terminated) {
			reason = cs.state.terminated.reason ? `Init:${cs.state.terminated.reason}` : cs.state.terminated.signal ? `Init:Signal:${cs.state.terminated.signal}` : `Init:ExitCode:${cs.state.terminated.exitCode}`;
		} else if (cs.state?.waiting?.reason && cs.state.waiting.reason !== 'PodInitializing') {
			reason = `Init:${cs.state.waiting.reason}`;
		} else {
			reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
		}
		initializing = true;
		break;
	}
	if (!initializing) {
		let hasRunning = false;
		const statuses: Rec[] = status.containerStatuses ?? [];
		for (const cs of [...statuses].reverse()) {
			if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
			else if (cs.state?.terminated?.reason) reason = cs.state.terminated.reason;
			else if (cs.state?.terminated) reason = cs.state.terminated.signal ? `Signal:${cs.state.terminated.signal}` : `ExitCode:${cs.state.terminated.exitCode}`;
			else if (cs.state?.running && cs.ready) hasRunning = true;
		}
		if (reason === 'Completed' && hasRunning) {
			const ready = (status.conditions ?? []).some((cond: Rec) => cond.type === 'Ready' && cond.status === 'True');
			reason = ready ? 'Running' : 'NotReady';
		}
	}
	if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
	return reason;
}

function podReadyAndRestarts(pod: KubeObject, now: number): [string, string] {
	const status = (pod.status ?? {}) as Rec;
	const statuses: Rec[] = status.containerStatuses ?? [];
	const total = ((pod.spec as Rec)?.containers ?? []).length;
	const ready = statuses.filter(s => s.ready).length;
	let restarts = 0;
	let last: number | undefined;
	for (const s of statuses) {
		restarts += s.restartCount ?? 0;
		const finished = s.lastState?.terminated?.finishedAt;
		if (finished) last = Math.max(last ?? 0, Date.parse(finished));
	}
	const restartText = restarts > 0 && last ? `${restarts} (${age(new Date(last).toISOString(), now)} ago)` : String(restarts);
	return [`${ready}/${total}`, restartText];
}

function servicePorts(spec: Rec): string {
	const ports: Rec[] = spec.ports ?? [];
	if (ports.length === 0) return '<none>';
	return ports.map(p => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

export function accessModes(modes: string[] | undefined): string {
	const short: Rec = {ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP'};
	return (modes ?? []).map(m => short[m] ?? m).join(',');
}

function nodeStatus(node: KubeObject): string {
	const conditions: Rec[] = (node.status as Rec)?.conditions ?? [];
	const ready = conditions.find(cond => cond.type === 'Ready');
	let text = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
	if ((node.spec as Rec)?.unschedulable) text += ',SchedulingDisabled';
	return text;
}

function endpointsText(ep: KubeObject): string {
	const out: string[] = [];
	for (const subset of (ep.subsets as Rec[] | undefined) ?? []) {
		for (const address of subset.addresses ?? []) {
			for (const port of subset.ports ?? [{}]) out.push(port.port ? `${address.ip}:${port.port}` : address.ip);
		}
	}
	if (out.length === 0) return '<none>';
	return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

const nameAge: Renderer = {columns: [c('Name'), c('Age')], row: (o, now) => [o.metadata.name!, age(o.metadata.creationTimestamp, now)]};

const renderers: Record<string, Renderer> = {
	Pod: {
		columns: [c('Name'), c('Ready'), c('Status'), c('Restarts', 0, 'string'), c('Age'), c('IP', 1), c('Node', 1), c('Nominated Node', 1), c('Readiness Gates', 1)],
		row(o, now) {
			const [ready, restarts] = podReadyAndRestarts(o, now);
			const status = (o.status ?? {}) as Rec;
			const gates: Rec[] = (o.spec as Rec)?.readinessGates ?? [];
			return [o.metadata.name!, ready, podStatus(o), restarts, age(o.metadata.creationTimestamp, now),
				status.podIP || '<none>', (o.spec as Rec)?.nodeName || '<none>', status.nominatedNodeName || '<none>', gates.length ? `${gates.length}` : '<none>'];
		},
	},
	Deployment: {
		columns: [c('Name'), c('Ready'), c('Up-to-date', 0, 'integer'), c('Available', 0, 'integer'), c('Age'), c('Containers', 1), c('Images', 1), c('Selector', 1)],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const [containers, images] = containersAndImages(spec.template);
			return [o.metadata.name!, `${status.readyReplicas ?? 0}/${spec.replicas ?? 0}`, String(status.updatedReplicas ?? 0), String(status.availableReplicas ?? 0),
				age(o.metadata.creationTimestamp, now), containers, images, selectorText(spec.selector)];
		},
	},
	ReplicaSet: {
		columns: [c('Name'), c('Desired', 0, 'integer'), c('Current', 0, 'integer'), c('Ready', 0, 'integer'), c('Age'), c('Containers', 1), c('Images', 1), c('Selector', 1)],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const [containers, images] = containersAndImages(spec.template);
			return [o.metadata.name!, String(spec.replicas ?? 0), String(status.replicas ?? 0), String(status.readyReplicas ?? 0), age(o.metadata.creationTimestamp, now), containers, images, selectorText(spec.selector)];
		},
	},
	StatefulSet: {
		columns: [c('Name'), c('Ready'), c('Age'), c('Containers', 1), c('Images', 1)],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const [containers, images] = containersAndImages(spec.template);
			return [o.metadata.name!, `${status.readyReplicas ?? 0}/${spec.replicas ?? 0}`, age(o.metadata.creationTimestamp, now), containers, images];
		},
	},
	DaemonSet: {
		columns: [c('Name'), c('Desired', 0, 'integer'), c('Current', 0, 'integer'), c('Ready', 0, 'integer'), c('Up-to-date', 0, 'integer'), c('Available', 0, 'integer'), c('Node Selector'), c('Age'), c('Containers', 1), c('Images', 1), c('Selector', 1)],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const [containers, images] = containersAndImages(spec.template);
			const nodeSelector = Object.entries(spec.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
			return [o.metadata.name!, String(status.desiredNumberScheduled ?? 0), String(status.currentNumberScheduled ?? 0), String(status.numberReady ?? 0),
				String(status.updatedNumberScheduled ?? 0), String(status.numberAvailable ?? 0), nodeSelector, age(o.metadata.creationTimestamp, now), containers, images, selectorText(spec.selector)];
		},
	},
	Job: {
		columns: [c('Name'), c('Status'), c('Completions'), c('Duration'), c('Age'), c('Containers', 1), c('Images', 1), c('Selector', 1)],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const [containers, images] = containersAndImages(spec.template);
			const conditions: Rec[] = status.conditions ?? [];
			const has = (type: string) => conditions.some(cond => cond.type === type && cond.status === 'True');
			const state = has('Complete') ? 'Complete' : has('Failed') ? 'Failed' : has('FailureTarget') ? 'FailureTarget' : has('Suspended') ? 'Suspended' : 'Running';
			const completions = spec.completions !== undefined && spec.completions !== null ? `${status.succeeded ?? 0}/${spec.completions}` : `${status.succeeded ?? 0}/1 of ${spec.parallelism ?? 1}`;
			const start = status.startTime ? Date.parse(status.startTime) : undefined;
			const end = status.completionTime ? Date.parse(status.completionTime) : now;
			const duration = start === undefined ? '' : age(new Date(start).toISOString(), end);
			return [o.metadata.name!, state, completions, duration, age(o.metadata.creationTimestamp, now), containers, images, selectorText(spec.selector)];
		},
	},
	CronJob: {
		columns: [c('Name'), c('Schedule'), c('Timezone'), c('Suspend'), c('Active', 0, 'integer'), c('Last Schedule'), c('Age'), c('Containers', 1), c('Images', 1), c('Selector', 1)],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const [containers, images] = containersAndImages(spec.jobTemplate?.spec?.template);
			return [o.metadata.name!, spec.schedule, spec.timeZone ?? '<none>', spec.suspend === undefined ? '<unset>' : spec.suspend ? 'True' : 'False', String((status.active ?? []).length),
				status.lastScheduleTime ? age(status.lastScheduleTime, now) : '<none>', age(o.metadata.creationTimestamp, now), containers, images, selectorText(spec.jobTemplate?.spec?.selector)];
		},
	},
	Service: {
		columns: [c('Name'), c('Type'), c('Cluster-IP'), c('External-IP'), c('Port(s)'), c('Age'), c('Selector', 1)],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const ingress: Rec[] = status.loadBalancer?.ingress ?? [];
			const external = spec.type === 'ExternalName' ? spec.externalName : ingress.length ? ingress.map(i => i.ip ?? i.hostname).join(',') : (spec.externalIPs ?? []).join(',') || (spec.type === 'LoadBalancer' ? '<pending>' : '<none>');
			const selector = Object.entries(spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
			return [o.metadata.name!, spec.type ?? 'ClusterIP', spec.clusterIP || '<none>', external, servicePorts(spec), age(o.metadata.creationTimestamp, now), selector];
		},
	},
	Endpoints: {
		columns: [c('Name'), c('Endpoints'), c('Age')],
		row: (o, now) => [o.metadata.name!, endpointsText(o), age(o.metadata.creationTimestamp, now)],
	},
	EndpointSlice: {
		columns: [c('Name'), c('AddressType'), c('Ports'), c('Endpoints'), c('Age')],
		row(o, now) {
			const ports = ((o.ports ?? []) as Rec[]).map(p => String(p.port ?? '')).filter(Boolean);
			const addresses = ((o.endpoints ?? []) as Rec[]).flatMap(e => e.addresses ?? []);
			const shown = addresses.length > 3 ? `${addresses.slice(0, 3).join(',')} + ${addresses.length - 3} more...` : addresses.join(',');
			return [o.metadata.name!, String(o.addressType ?? ''), ports.join(',') || '<unset>', shown || '<unset>', age(o.metadata.creationTimestamp, now)];
		},
	},
	IngressClass: {
		columns: [c('Name'), c('Controller'), c('Parameters'), c('Age')],
		row: (o, now) => [o.metadata.name!, String((o.spec as Rec)?.controller ?? ''), (o.spec as Rec)?.parameters ? `${(o.spec as Rec).parameters.kind}/${(o.spec as Rec).parameters.name}` : '<none>', age(o.metadata.creationTimestamp, now)],
	},
	Ingress: {
		columns: [c('Name'), c('Class'), c('Hosts'), c('Address'), c('Ports'), c('Age')],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const hosts = joinOrNone((spec.rules ?? []).map((r: Rec) => r.host ?? '*'), '*');
			const address = (status.loadBalancer?.ingress ?? []).map((i: Rec) => i.ip ?? i.hostname).join(',');
			return [o.metadata.name!, spec.ingressClassName ?? '<none>', hosts, address, (spec.tls ?? []).length ? '80, 443' : '80', age(o.metadata.creationTimestamp, now)];
		},
	},
	ConfigMap: {
		columns: [c('Name'), c('Data', 0, 'integer'), c('Age')],
		row: (o, now) => [o.metadata.name!, String(Object.keys((o.data as Rec) ?? {}).length + Object.keys((o.binaryData as Rec) ?? {}).length), age(o.metadata.creationTimestamp, now)],
	},
	Secret: {
		columns: [c('Name'), c('Type'), c('Data', 0, 'integer'), c('Age')],
		row: (o, now) => [o.metadata.name!, String(o.type ?? 'Opaque'), String(Object.keys((o.data as Rec) ?? {}).length), age(o.metadata.creationTimestamp, now)],
	},
	PersistentVolumeClaim: {
		columns: [c('Name'), c('Status'), c('Volume'), c('Capacity'), c('Access Modes'), c('StorageClass'), c('VolumeAttributesClass'), c('Age'), c('VolumeMode', 1)],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const bound = status.phase === 'Bound';
			return [o.metadata.name!, status.phase ?? 'Pending', spec.volumeName ?? '', bound ? status.capacity?.storage ?? '' : '', bound ? accessModes(status.accessModes) : '',
				spec.storageClassName ?? '<unset>', spec.volumeAttributesClassName ?? '<unset>', age(o.metadata.creationTimestamp, now), spec.volumeMode ?? 'Filesystem'];
		},
	},
	PersistentVolume: {
		columns: [c('Name'), c('Capacity'), c('Access Modes'), c('Reclaim Policy'), c('Status'), c('Claim'), c('StorageClass'), c('VolumeAttributesClass'), c('Reason'), c('Age'), c('VolumeMode', 1)],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const claim = spec.claimRef ? `${spec.claimRef.namespace}/${spec.claimRef.name}` : '';
			return [o.metadata.name!, spec.capacity?.storage ?? '', accessModes(spec.accessModes), spec.persistentVolumeReclaimPolicy ?? 'Retain', status.phase ?? 'Pending', claim,
				spec.storageClassName ?? '', spec.volumeAttributesClassName ?? '<unset>', status.reason ?? '', age(o.metadata.creationTimestamp, now), spec.volumeMode ?? 'Filesystem'];
		},
	},
	StorageClass: {
		columns: [c('Name'), c('Provisioner'), c('ReclaimPolicy'), c('VolumeBindingMode'), c('AllowVolumeExpansion'), c('Age')],
		row(o, now) {
			const isDefault = o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true';
			return [isDefault ? `${o.metadata.name} (default)` : o.metadata.name!, String(o.provisioner), String(o.reclaimPolicy ?? 'Delete'), String(o.volumeBindingMode ?? 'Immediate'),
				String(o.allowVolumeExpansion ?? false), age(o.metadata.creationTimestamp, now)];
		},
	},
	Namespace: {
		columns: [c('Name'), c('Status'), c('Age')],
		row: (o, now) => [o.metadata.name!, o.metadata.deletionTimestamp ? 'Terminating' : ((o.status as Rec)?.phase ?? 'Active'), age(o.metadata.creationTimestamp, now)],
	},
	Node: {
		columns: [c('Name'), c('Status'), c('Roles'), c('Age'), c('Version'), c('Internal-IP', 1), c('External-IP', 1), c('OS-Image', 1), c('Kernel-Version', 1), c('Container-Runtime', 1)],
		row(o, now) {
			const status = (o.status ?? {}) as Rec;
			const roles = Object.keys(o.metadata.labels ?? {}).filter(k => k.startsWith('node-role.kubernetes.io/')).map(k => k.slice('node-role.kubernetes.io/'.length));
			const address = (type: string) => (status.addresses ?? []).find((a: Rec) => a.type === type)?.address ?? '<none>';
			const info = status.nodeInfo ?? {};
			return [o.metadata.name!, nodeStatus(o), roles.join(',') || '<none>', age(o.metadata.creationTimestamp, now), info.kubeletVersion ?? '',
				address('InternalIP'), address('ExternalIP'), info.osImage ?? '<unknown>', info.kernelVersion ?? '<unknown>', info.containerRuntimeVersion ?? '<unknown>'];
		},
	},
	Event: {
		columns: [c('Last Seen'), c('Type'), c('Reason'), c('Object'), c('Message')],
		row(o, now) {
			const inv = (o.involvedObject ?? {}) as Rec;
			const last = (o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp) as string | undefined;
			const count = Number(o.count ?? 1);
			const seen = count > 1 && o.firstTimestamp ? `${age(last, now)} (x${count} over ${age(o.firstTimestamp as string, now)})` : age(last, now);
			return [seen, String(o.type ?? 'Normal'), String(o.reason ?? ''), `${String(inv.kind ?? '').toLowerCase()}/${inv.name ?? ''}`, String(o.message ?? '').trim()];
		},
	},
	HorizontalPodAutoscaler: {
		columns: [c('Name'), c('Reference'), c('Targets'), c('MinPods', 0, 'integer'), c('MaxPods', 0, 'integer'), c('Replicas', 0, 'integer'), c('Age')],
		row(o, now) {
			const spec = o.spec as Rec, status = (o.status ?? {}) as Rec;
			const targets = (spec.metrics ?? []).map((m: Rec, i: number) => {
				const target = m.resource?.target ?? m.pods?.target ?? m.object?.target ?? {};
				const want = target.averageUtilization !== undefined ? `${target.averageUtilization}%` : target.averageValue ?? target.value ?? '?';
				const cur = status.currentMetrics?.[i]?.resource?.current;
				const have = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : cur?.averageValue ?? '<unknown>';
				return `${m.resource ? `${m.resource.name}: ` : ''}${have}/${want}`;
			}).join(', ') || '<none>';
			return [o.metadata.name!, `${spec.scaleTargetRef?.kind}/${spec.scaleTargetRef?.name}`, targets, String(spec.minReplicas ?? 1), String(spec.maxReplicas),
				String(status.currentReplicas ?? 0), age(o.metadata.creationTimestamp, now)];
		},
	},
	ServiceAccount: {
		columns: [c('Name'), c('Secrets', 0, 'integer'), c('Age')],
		row: (o, now) => [o.metadata.name!, String(((o.secrets as unknown[]) ?? []).length), age(o.metadata.creationTimestamp, now)],
	},
	ControllerRevision: {
		columns: [c('Name'), c('Controller'), c('Revision', 0, 'integer'), c('Age')],
		row(o, now) {
			const owner = o.metadata.ownerReferences?.find(r => r.controller);
			return [o.metadata.name!, owner ? `${owner.kind.toLowerCase()}.${owner.apiVersion.split('/')[0]}/${owner.name}` : '<none>', String(o.revision ?? 0), age(o.metadata.creationTimestamp, now)];
		},
	},
};

export function rendererFor(kind: string): Renderer {
	return renderers[kind] ?? nameAge;
}
