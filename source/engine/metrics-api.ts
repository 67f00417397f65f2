// metrics.k8s.io/v1beta1, as metrics-server serves it: PodMetrics and
// NodeMetrics from the kubelets' latest samples, for `top`, the dashboard's
// sparklines and the autoscaler.
import type {Store} from '../store/store.js';
import type {Kubelet} from './kubelet/kubelet.js';
import {isoTime} from '../api/time.js';
import {metricsIntervalMs} from './kubelet/kubelet.js';

export const metricsGroupVersion = 'metrics.k8s.io/v1beta1';

const cpu = (cores: number) => `${Math.round(cores * 1000)}m`;
const memory = (bytes: number) => `${Math.round(bytes / 1024)}Ki`;
const window = `${metricsIntervalMs / 1000}s`;

export function podMetrics(kubelets: Kubelet[], store: Store, namespace?: string, name?: string) {
	const items = [];
	for (const kubelet of kubelets) {
		for (const [uid, sample] of kubelet.usage) {
			if (namespace && sample.namespace !== namespace) continue;
			if (name && sample.name !== name) continue;
			const pod = store.get('pods', sample.namespace, sample.name);
			if (!pod || pod.metadata.uid !== uid) continue;
			const latest = Math.max(...[...sample.containers.values()].map(c => c.timestamp));
			items.push({
				kind: 'PodMetrics', apiVersion: metricsGroupVersion,
				metadata: {name: sample.name, namespace: sample.namespace, labels: pod.metadata.labels, creationTimestamp: isoTime(Date.now())},
				timestamp: isoTime(latest), window,
				containers: [...sample.containers].map(([container, c]) => ({name: container, usage: {cpu: cpu(c.cpuCores), memory: memory(c.memoryBytes)}})),
			});
		}
	}
	return items.sort((a, b) => a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name));
}

/** A pod's latest usage summed over its containers (CPU in cores, memory in bytes), for the autoscaler. */
export function podUsage(kubelets: Kubelet[], uid: string): {cpu: number; memory: number} | undefined {
	for (const kubelet of kubelets) {
		const sample = kubelet.usage.get(uid);
		if (!sample) continue;
		let cpu = 0, memory = 0;
		for (const c of sample.containers.values()) {
			cpu += c.cpuCores;
			memory += c.memoryBytes;
		}
		return {cpu, memory};
	}
	return undefined;
}

export function nodeMetrics(kubelets: Kubelet[], store: Store, name?: string) {
	const usage = new Map<string, {cpu: number; memory: number}>();
	for (const kubelet of kubelets) {
		for (const sample of kubelet.usage.values()) {
			const u = usage.get(sample.nodeName) ?? {cpu: 0, memory: 0};
			for (const c of sample.containers.values()) {
				u.cpu += c.cpuCores;
				u.memory += c.memoryBytes;
			}
			usage.set(sample.nodeName, u);
		}
	}
	return store.list('nodes').items.filter(n => !name || n.metadata.name === name).map(n => {
		const u = usage.get(n.metadata.name!) ?? {cpu: 0, memory: 0};
		return {
			kind: 'NodeMetrics', apiVersion: metricsGroupVersion, metadata: {name: n.metadata.name, labels: n.metadata.labels, creationTimestamp: isoTime(Date.now())},
			timestamp: isoTime(Date.now()), window, usage: {cpu: cpu(u.cpu), memory: memory(u.memory)},
		};
	});
}
