// A pod's status as the kubelet reports it, computed from its containers'
// records: each container's state (running, waiting with a reason, or
// terminated), the pod phase, and the Initialized/Ready/ContainersReady
// conditions, keeping transition times that did not change.
import type {KubeObject} from '../../api/object.js';
import {isoTime} from '../../api/time.js';
import type {RunningContainer} from './runtime.js';

type Rec = Record<string, any>;

export interface Terminated {
	exitCode: number;
	reason: string;
	signal?: number;
	message?: string;
	startedAt: string;
	finishedAt: string;
	ranMs: number;
}

export interface ContainerRecord {
	name: string;
	init: boolean;
	restartCount: number;
	running?: RunningContainer;
	waiting?: {reason: string; message?: string};
	terminated?: Terminated;
	lastTerminated?: Terminated;
	backoffUntil?: number;
	backoffMs?: number;
	ready: boolean;
	started: boolean;
	probeTimers: {cancel(): void}[];
	probeCounts: Record<string, {fail: number; ok: number}>;
	killing?: Promise<void>;
	env?: Record<string, string>;
}

/** A container the kubelet has not started yet. */
export function newContainerRecord(name: string, init = false): ContainerRecord {
	return {name, init, restartCount: 0, ready: false, started: false, probeTimers: [], probeCounts: {}};
}

export function willRestart(policy: string, t: Terminated): boolean {
	return policy === 'Always' || (policy === 'OnFailure' && t.exitCode !== 0);
}


function containerStatus(c: Rec, rec: ContainerRecord): Rec {
	const {ranMs: _r, ...terminated} = rec.terminated ?? ({} as Terminated);
	let state: Rec;
	if (rec.running) state = {running: {startedAt: isoTime(rec.running.startedAt)}};
	else if (rec.waiting) state = {waiting: rec.waiting};
	else if (rec.terminated) state = {terminated};
	else state = {waiting: {reason: 'ContainerCreating'}};
	const last = rec.lastTerminated ? (({ranMs: _x, ...t}) => ({terminated: t}))(rec.lastTerminated) : {};
	return {
		name: c.name, image: c.image, imageID: '', containerID: rec.running ? `process://${rec.running.pid}` : '',
		state, lastState: last, ready: !!rec.running && rec.ready, restartCount: rec.restartCount, started: !!rec.running && rec.started,
	};
}

export function podStatusFor(pod: KubeObject, containers: Map<string, ContainerRecord>, podIP: string | undefined, now: string): Rec {
	const spec = pod.spec as Rec;
	const old = (pod.status ?? {}) as Rec;
	const policy = spec.restartPolicy ?? 'Always';
	const initStatuses = ((spec.initContainers ?? []) as Rec[]).map(c => containerStatus(c, containers.get(c.name)!));
	const containerStatuses = ((spec.containers ?? []) as Rec[]).map(c => containerStatus(c, containers.get(c.name)!));
	// An ephemeral container the kubelet has not seen yet is waiting, as a new one is.
	const ephemeral = ((spec.ephemeralContainers ?? []) as Rec[]).map(c => containerStatus(c, containers.get(c.name) ?? newContainerRecord(c.name)));
	const initDone = initStatuses.every(s => s.state.terminated?.exitCode === 0);
	const initFailed = initStatuses.some(s => s.state.terminated && s.state.terminated.exitCode !== 0 && policy === 'Never');
	const records = ((spec.containers ?? []) as Rec[]).map(c => containers.get(c.name)!);
	const allDone = records.every(r => !r.running && r.terminated && !willRestart(policy, r.terminated));
	let phase: string;
	if (initFailed) phase = 'Failed';
	else if (!initDone) phase = 'Pending';
	else if (allDone) phase = records.every(r => r.terminated!.exitCode === 0) ? 'Succeeded' : 'Failed';
	else if (records.some(r => r.running || r.terminated)) phase = 'Running';
	else phase = 'Pending';
	const ready = phase === 'Running' && containerStatuses.every(s => s.ready);
	const condition = (type: string, value: boolean, reason?: string) => {
		const status = value ? 'True' : 'False';
		const previous = (old.conditions ?? []).find((c: Rec) => c.type === type);
		return {type, status, lastProbeTime: null, lastTransitionTime: previous?.status === status ? previous.lastTransitionTime : now, ...(reason && !value ? {reason} : {})};
	};
	const scheduled = (old.conditions ?? []).find((c: Rec) => c.type === 'PodScheduled') ?? {type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now};
	const startTimes = records.map(r => r.running?.startedAt).filter((t): t is number => t !== undefined);
	return {
		...old,
		phase,
		conditions: [
			condition('PodReadyToStartContainers', true), condition('Initialized', initDone, 'ContainersNotInitialized'),
			condition('Ready', ready, 'ContainersNotReady'), condition('ContainersReady', ready, 'ContainersNotReady'), scheduled,
		],
		hostIP: '127.0.0.1', hostIPs: [{ip: '127.0.0.1'}], podIP, podIPs: podIP ? [{ip: podIP}] : [],
		startTime: old.startTime ?? (startTimes.length ? isoTime(Math.min(...startTimes)) : now),
		...(initStatuses.length ? {initContainerStatuses: initStatuses} : {}),
		containerStatuses,
		...(ephemeral.length ? {ephemeralContainerStatuses: ephemeral} : {}),
	};
}
