// What a pod's status says, as Kubernetes' podutil reads it: shared by the
// controllers, the kubelet, the CLI and the dashboard, so it lives with the
// API types rather than in the engine.
import type {KubeObject} from './object.js';

type Rec = Record<string, any>;

export function isTerminal(pod: KubeObject): boolean {
	const phase = (pod.status as Rec)?.phase;
	return phase === 'Succeeded' || phase === 'Failed';
}

export function isPodReady(pod: KubeObject): boolean {
	return ((pod.status as Rec)?.conditions ?? []).some((c: Rec) => c.type === 'Ready' && c.status === 'True');
}

/** Ready for at least minReadySeconds (podutil.IsPodAvailable). */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
	const ready = ((pod.status as Rec)?.conditions ?? []).find((c: Rec) => c.type === 'Ready' && c.status === 'True');
	if (!ready) return false;
	return minReadySeconds === 0 || now - Date.parse(ready.lastTransitionTime) >= minReadySeconds * 1000;
}
