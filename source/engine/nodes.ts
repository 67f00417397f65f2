// Virtual nodes: each configured node registers a Node object and renews its
// Ready condition (the kubelet's heartbeat). The node lifecycle controller
// marks a node whose heartbeat stops NotReady, and after a grace period
// deletes its pods so their controllers replace them elsewhere.
import os from 'node:os';
import {StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {typeByPlural} from '../api/resources.js';
import type {Registry} from '../server/registry.js';
import {isoTime} from '../api/time.js';
import type {Clock} from './clock.js';
import type {NodeConfig} from './config.js';
import type {EventRecorder} from './events.js';

const nodeType = typeByPlural('nodes')!;
const podType = typeByPlural('pods')!;

export const heartbeatIntervalMs = 10_000;
/** kube-controller-manager's --node-monitor-grace-period. */
export const nodeMonitorGraceMs = 40_000;
/** How long pods stay on a NotReady node before they are evicted. */
export const podEvictionGraceMs = 60_000;

export const simulatedNodeLabel = 'kubedeck.io/node-kind';

function readyCondition(ready: boolean, now: string, reason: string, message: string) {
	return {type: 'Ready', status: ready ? 'True' : 'Unknown', lastHeartbeatTime: now, lastTransitionTime: now, reason, message};
}

export function nodeObject(config: NodeConfig, now: string): KubeObject {
	const capacity = {cpu: config.cpu, memory: config.memory, pods: String(config.pods), 'ephemeral-storage': '100Gi'};
	return {
		apiVersion: 'v1', kind: 'Node',
		metadata: {name: config.name, labels: {'kubernetes.io/hostname': config.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': os.arch() === 'x64' ? 'amd64' : os.arch(), [simulatedNodeLabel]: config.kind, ...config.labels}},
		spec: config.taints.length ? {taints: config.taints} : {},
		status: {
			capacity, allocatable: capacity,
			conditions: [readyCondition(true, now, 'KubeletReady', config.kind === 'simulated' ? 'simulated node is posting ready status' : 'kubelet is posting ready status')],
			addresses: [{type: 'InternalIP', address: '127.0.0.1'}, {type: 'Hostname', address: config.name}],
			nodeInfo: {
				kubeletVersion: 'v1.32.0-kubedeck', kubeProxyVersion: 'v1.32.0-kubedeck', operatingSystem: 'linux', architecture: os.arch(),
				osImage: `${os.type()} ${os.release()}`, kernelVersion: os.release(), containerRuntimeVersion: config.kind === 'simulated' ? 'simulated://1' : 'process://1',
				machineID: config.name, systemUUID: config.name, bootID: String(process.pid),
			},
			daemonEndpoints: {kubeletEndpoint: {Port: 0}},
		},
	};
}

/** Register a node (create, or refresh labels and status) and keep its heartbeat going. */
export class NodeAgent {
	private timer?: {cancel(): void};

	constructor(private readonly config: NodeConfig, private readonly registry: Registry, private readonly clock: Clock) {}

	async register(): Promise<void> {
		const desired = nodeObject(this.config, isoTime(this.clock.now()));
		try {
			const current = this.registry.get(nodeType, '', this.config.name);
			await this.registry.update(nodeType, undefined, this.config.name, {...current, metadata: {...current.metadata, labels: {...current.metadata.labels, ...desired.metadata.labels}}, spec: {...(current.spec as object), ...(desired.spec as object)}});
			await this.heartbeat();
		} catch (error) {
			if (!(error instanceof StatusError && error.code === 404)) throw error;
			const created = await this.registry.create(nodeType, undefined, desired);
			await this.registry.update(nodeType, undefined, this.config.name, {...created, status: desired.status}, {subresource: 'status'});
		}
		this.schedule();
	}

	private schedule(): void {
		this.timer = this.clock.setTimeout(() => {
			this.heartbeat().catch(() => {}).finally(() => this.schedule());
		}, heartbeatIntervalMs);
	}

	async heartbeat(): Promise<void> {
		const current = this.registry.get(nodeType, '', this.config.name);
		const now = isoTime(this.clock.now());
		const fresh = nodeObject(this.config, now).status as Record<string, any>;
		const old = ((current.status as Record<string, any>)?.conditions ?? []).find((c: Record<string, string>) => c.type === 'Ready');
		if (old?.status === 'True') fresh.conditions[0].lastTransitionTime = old.lastTransitionTime;
		await this.registry.update(nodeType, undefined, this.config.name, {...current, status: {...(current.status as object), ...fresh}}, {subresource: 'status'});
	}

	stop(): void {
		this.timer?.cancel();
	}
}

/** Marks nodes with a stale heartbeat NotReady (Unknown) and evicts their pods after a grace period. */
export class NodeLifecycleController {
	private timer?: {cancel(): void};

	constructor(private readonly registry: Registry, private readonly clock: Clock, private readonly events: EventRecorder) {}

	start(): void {
		const tick = () => {
			this.check().catch(() => {}).finally(() => (this.timer = this.clock.setTimeout(tick, 5_000)));
		};
		this.timer = this.clock.setTimeout(tick, 5_000);
	}

	stop(): void {
		this.timer?.cancel();
	}

	/** Node names seen at the last check: pods bound to one that has since gone are orphans. */
	private knownNodes = new Set<string>();

	async check(): Promise<void> {
		const now = this.clock.now();
		const nodes = this.registry.list(nodeType, undefined).items;
		const names = new Set(nodes.map(n => n.metadata.name!));
		// PodGC's orphaned pods: no kubelet is left to stop them, so they are deleted at once.
		for (const gone of [...this.knownNodes].filter(n => !names.has(n))) {
			for (const pod of this.registry.list(podType, undefined, {fieldSelector: [{field: 'spec.nodeName', op: '=', value: gone}]}).items) {
				await this.events.record(pod, 'Normal', 'PodGCOrphaned', `Deleting orphaned pod ${pod.metadata.namespace}/${pod.metadata.name}: node ${gone} no longer exists`, 'pod-garbage-collector');
				await this.registry.delete(podType, pod.metadata.namespace, pod.metadata.name!, {gracePeriodSeconds: 0}).catch(() => {});
			}
		}
		this.knownNodes = names;
		for (const node of nodes) {
			const ready = ((node.status as Record<string, any>)?.conditions ?? []).find((c: Record<string, string>) => c.type === 'Ready');
			if (!ready) continue;
			const silentFor = now - Date.parse(ready.lastHeartbeatTime);
			if (ready.status === 'True' && silentFor > nodeMonitorGraceMs) {
				ready.status = 'Unknown';
				ready.reason = 'NodeStatusUnknown';
				ready.message = 'Kubelet stopped posting node status.';
				ready.lastTransitionTime = isoTime(now);
				await this.registry.update(nodeType, undefined, node.metadata.name!, node, {subresource: 'status'});
				await this.events.record(node, 'Normal', 'NodeNotReady', `Node ${node.metadata.name} status is now: NodeNotReady`, 'node-controller');
			} else if (ready.status !== 'True' && now - Date.parse(ready.lastTransitionTime) > podEvictionGraceMs) {
				const pods = this.registry.list(podType, undefined, {fieldSelector: [{field: 'spec.nodeName', op: '=', value: node.metadata.name!}]}).items;
				for (const pod of pods) {
					await this.events.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`, 'taint-eviction-controller');
					await this.registry.delete(podType, pod.metadata.namespace, pod.metadata.name!, {gracePeriodSeconds: 0}).catch(() => {});
				}
			}
		}
	}
}
