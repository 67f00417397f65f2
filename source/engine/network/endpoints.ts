// The endpoints controller and the EndpointSlice controller in one
// reconcile, as kube-controller-manager keeps them: for each Service with a
// selector, the pods it selects become its Endpoints (ready ones in
// `addresses`, the others in `notReadyAddresses`, terminating ones left out)
// and one discovery.k8s.io/v1 EndpointSlice per set of resolved ports
// (terminating endpoints kept with ready=false, serving, terminating=true,
// as the EndpointSlice API marks them). Named targetPorts resolve from each
// pod's container ports. A Service without a selector keeps the Endpoints
// its user writes. Objects are written only when they change.
import crypto from 'node:crypto';
import {deepEqual, type KubeObject} from '../../api/object.js';
import {isPodReady, isTerminal} from '../../api/pods.js';
import {typeByPlural} from '../../api/resources.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {EventRecorder} from '../events.js';
import {type Controller, splitKey} from '../controllers/runner.js';

type Rec = Record<string, any>;
const endpointsType = typeByPlural('endpoints')!;
const sliceType = typeByPlural('endpointslices')!;
export const serviceNameLabel = 'kubernetes.io/service-name';
const managedBy = 'endpointslice-controller.k8s.io';

export interface EndpointPort {
	name?: string;
	port: number;
	protocol: string;
}

/** A service port's target on one pod: a number, or a named container port; undefined when the pod declares no such name. */
export function resolvePort(pod: KubeObject, servicePort: Rec): number | undefined {
	const target = servicePort.targetPort ?? servicePort.port;
	if (typeof target === 'number') return target;
	if (/^\d+$/.test(String(target))) return Number(target);
	for (const c of ((pod.spec as Rec).containers ?? []) as Rec[]) {
		const found = (c.ports ?? []).find((p: Rec) => p.name === target && (p.protocol ?? 'TCP') === (servicePort.protocol ?? 'TCP'));
		if (found) return found.containerPort;
	}
	return undefined;
}

/** A Service's selector is a plain map: matchLabels. */
const selectorOf = (svc: KubeObject) => fromLabelSelector({matchLabels: (svc.spec as Rec).selector ?? {}});

export class EndpointsController implements Controller {
	readonly name = 'endpoint-controller';
	readonly primary = 'services';
	readonly watches = [
		{resource: 'services'},
		// A pod event concerns the Services of its namespace that select it, and those whose endpoints name it (its labels may have just changed).
		{resource: 'pods', keys: (pod: KubeObject) => this.servicesFor(pod)},
	];
	/** Ports a Service could not resolve on a pod, reported once until they resolve. */
	private readonly unresolved = new Set<string>();

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder) {}

	private servicesFor(pod: KubeObject): string[] {
		const ns = pod.metadata.namespace!;
		const keys: string[] = [];
		for (const svc of this.store.scan('services', ns)) {
			const selector = selectorOf(svc);
			if (selector.length === 0) continue;
			const named = this.store.peek('endpoints', ns, svc.metadata.name!);
			const listed = ((named?.subsets ?? []) as Rec[]).some(s => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])].some((a: Rec) => a.targetRef?.name === pod.metadata.name));
			if (listed || matchesLabels(selector, pod.metadata.labels)) keys.push(`${ns}/${svc.metadata.name}`);
		}
		return keys;
	}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const svc = this.store.peek('services', namespace, name);
		if (!svc || svc.metadata.deletionTimestamp) return this.remove(namespace, name);
		const spec = svc.spec as Rec;
		const selector = selectorOf(svc);
		// No selector: the Endpoints are the user's (and ExternalName Services have none).
		if (selector.length === 0 || spec.type === 'ExternalName') return;
		const pods = this.store.scan('pods', namespace, p => matchesLabels(selector, p.metadata.labels) && !isTerminal(p) && !!(p.status as Rec)?.podIP);
		const servicePorts: Rec[] = spec.ports ?? [];
		const publishNotReady = !!spec.publishNotReadyAddresses;
		// Pods grouped by the ports they resolve to (usually one group).
		const groups = new Map<string, {ports: EndpointPort[]; pods: KubeObject[]}>();
		const missing: string[] = [];
		for (const pod of pods) {
			const ports: EndpointPort[] = [];
			for (const sp of servicePorts) {
				const port = resolvePort(pod, sp);
				if (port === undefined) missing.push(`${sp.name ?? sp.port} (targetPort ${sp.targetPort}) on pod ${pod.metadata.name}`);
				else ports.push({...(sp.name ? {name: sp.name} : {}), port, protocol: sp.protocol ?? 'TCP'});
			}
			if (ports.length === 0) continue;
			const group = JSON.stringify(ports);
			if (!groups.has(group)) groups.set(group, {ports, pods: []});
			groups.get(group)!.pods.push(pod);
		}
		await this.reportUnresolved(svc, missing);
		// A pod with a hostname under this Service as its subdomain is named by it in DNS (StatefulSet pods).
		const address = (pod: KubeObject) => {
			const podSpec = pod.spec as Rec;
			const hostname = podSpec.hostname && podSpec.subdomain === name ? {hostname: podSpec.hostname} : {};
			return {ip: (pod.status as Rec).podIP, ...hostname, nodeName: podSpec.nodeName, targetRef: {kind: 'Pod', namespace, name: pod.metadata.name, uid: pod.metadata.uid}};
		};
		const subsets = [...groups.values()].map(({ports, pods: members}) => {
			const live = members.filter(p => !p.metadata.deletionTimestamp);
			const ready = live.filter(p => publishNotReady || isPodReady(p)).sort(byIp);
			const notReady = live.filter(p => !publishNotReady && !isPodReady(p)).sort(byIp);
			return {...(ready.length ? {addresses: ready.map(address)} : {}), ...(notReady.length ? {notReadyAddresses: notReady.map(address)} : {}), ports};
		}).filter(s => s.addresses || s.notReadyAddresses);
		await this.writeEndpoints(svc, subsets);
		await this.writeSlices(svc, [...groups.values()]);
	}

	private async reportUnresolved(svc: KubeObject, missing: string[]): Promise<void> {
		const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
		if (missing.length === 0) {
			this.unresolved.delete(key);
			return;
		}
		if (this.unresolved.has(key)) return;
		this.unresolved.add(key);
		await this.events.record(svc, 'Warning', 'FailedToResolvePort', `no container port named as the targetPort of service port ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}: those pods get no traffic on it`, 'endpoint-controller');
	}

	private async writeEndpoints(svc: KubeObject, subsets: Rec[]): Promise<void> {
		const {namespace, name} = svc.metadata;
		const current = this.store.peek('endpoints', namespace!, name!);
		const labels = {...svc.metadata.labels, 'endpoints.kubernetes.io/managed-by': 'endpoint-controller'};
		if (current && deepEqual(current.subsets ?? [], subsets) && deepEqual(current.metadata.labels ?? {}, labels)) return;
		const body: KubeObject = {apiVersion: 'v1', kind: 'Endpoints', metadata: {name, namespace, labels}, subsets};
		if (!current) {
			await this.registry.create(endpointsType, namespace, body).catch(ignoreExists);
			return;
		}
		await this.registry.update(endpointsType, namespace, name!, {...body, metadata: {...body.metadata, resourceVersion: current.metadata.resourceVersion}});
	}

	private async writeSlices(svc: KubeObject, groups: {ports: EndpointPort[]; pods: KubeObject[]}[]): Promise<void> {
		const {namespace, name, uid} = svc.metadata;
		const existing = this.store.scan('endpointslices', namespace, s => s.metadata.labels?.[serviceNameLabel] === name && s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === managedBy);
		const wanted = new Map<string, KubeObject>();
		for (const {ports, pods} of groups.length ? groups : [{ports: [], pods: []}]) {
			const sliceName = `${name}-${crypto.createHash('sha256').update(`${uid}/${JSON.stringify(ports)}`).digest('hex').slice(0, 5)}`;
			wanted.set(sliceName, {
				apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
				metadata: {
					name: sliceName, namespace, labels: {[serviceNameLabel]: name!, 'endpointslice.kubernetes.io/managed-by': managedBy},
					ownerReferences: [{apiVersion: 'v1', kind: 'Service', name: name!, uid: uid!, controller: true, blockOwnerDeletion: true}],
				},
				addressType: 'IPv4',
				endpoints: [...pods].sort(byIp).map(pod => {
					const terminating = !!pod.metadata.deletionTimestamp;
					const serving = isPodReady(pod) || !!(svc.spec as Rec).publishNotReadyAddresses;
					return {
						addresses: [(pod.status as Rec).podIP], conditions: {ready: serving && !terminating, serving, terminating},
						nodeName: (pod.spec as Rec).nodeName, targetRef: {kind: 'Pod', namespace, name: pod.metadata.name, uid: pod.metadata.uid},
					};
				}),
				ports,
			});
		}
		for (const slice of existing) {
			const want = wanted.get(slice.metadata.name!);
			if (!want) {
				await this.registry.delete(sliceType, namespace, slice.metadata.name!).catch(() => {});
				continue;
			}
			wanted.delete(slice.metadata.name!);
			if (deepEqual(slice.endpoints ?? [], want.endpoints) && deepEqual(slice.ports ?? [], want.ports)) continue;
			await this.registry.update(sliceType, namespace, slice.metadata.name!, {...want, metadata: {...want.metadata, resourceVersion: slice.metadata.resourceVersion}});
		}
		for (const slice of wanted.values()) await this.registry.create(sliceType, namespace, slice).catch(ignoreExists);
	}

	/** The Service is gone: its Endpoints go too, as kube-controller-manager deletes them (its slices go with their owner). */
	private async remove(namespace: string, name: string): Promise<void> {
		this.unresolved.delete(`${namespace}/${name}`);
		if (this.store.peek('endpoints', namespace, name)) await this.registry.delete(endpointsType, namespace, name).catch(() => {});
	}
}

const byIp = (a: KubeObject, b: KubeObject) => String((a.status as Rec).podIP).localeCompare(String((b.status as Rec).podIP), undefined, {numeric: true});

function ignoreExists(error: unknown): void {
	if ((error as {reason?: string}).reason !== 'AlreadyExists') throw error;
}
