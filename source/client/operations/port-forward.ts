// Port-forwards, for `kubedeck port-forward` and the dashboard (`F` on a pod
// or a service, `f` lists them): a local TCP listener on 127.0.0.1 piping
// each connection to the pod's address. On the embedded engine every pod
// has its own loopback address, so the forward connects to it directly; a
// Service is forwarded to one of its ready pods, as kubectl does.
import net from 'node:net';
import type {KubeObject} from '../../api/object.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import {isPodReady} from '../../api/pods.js';

type Rec = Record<string, any>;

export interface Forward {
	id: number;
	/** What the user forwarded (pod/x or service/y) and where it goes. */
	target: string;
	local: number;
	remote: {host: string; port: number};
	connections: number;
	server: net.Server;
	sockets: Set<net.Socket>;
}

/** The pod address and port behind a pod or a service port (the first ready pod of the service). */
export function forwardTarget(obj: KubeObject, pods: KubeObject[], wanted?: number): {host: string; port: number} | {error: string} {
	const ready = (p: KubeObject) => (p.status as Rec)?.podIP && isPodReady(p);
	if (obj.kind === 'Pod') {
		const ip = (obj.status as Rec)?.podIP;
		// As the kubelet refuses it: a pod that is not running has no process to reach, and its address may be another's by now.
		const phase = (obj.status as Rec)?.phase;
		if (phase !== 'Running') return {error: `pod ${obj.metadata.name} is not running - current status=${phase ?? 'Pending'}`};
		if (!ip) return {error: `pod ${obj.metadata.name} has no address yet`};
		const port = wanted ?? ((obj.spec as Rec).containers ?? []).flatMap((c: Rec) => c.ports ?? [])[0]?.containerPort;
		if (!port) return {error: `pod ${obj.metadata.name} declares no containerPort: give one (":pf PORT")`};
		return {host: ip, port};
	}
	if (obj.kind === 'Service') {
		const spec = obj.spec as Rec;
		const servicePort = ((spec.ports ?? []) as Rec[]).find(p => wanted === undefined || p.port === wanted) ?? spec.ports?.[0];
		if (!servicePort) return {error: `service ${obj.metadata.name} has no ports`};
		const selector = fromLabelSelector({matchLabels: spec.selector ?? {}});
		const pod = pods.find(p => p.metadata.namespace === obj.metadata.namespace && matchesLabels(selector, p.metadata.labels) && ready(p));
		if (!pod) return {error: `service ${obj.metadata.name} has no ready pods`};
		const target = servicePort.targetPort ?? servicePort.port;
		const port = typeof target === 'number' ? target : ((pod.spec as Rec).containers ?? []).flatMap((c: Rec) => c.ports ?? []).find((p: Rec) => p.name === target)?.containerPort;
		if (!port) return {error: `service ${obj.metadata.name}: no container port named "${target}"`};
		return {host: (pod.status as Rec).podIP, port};
	}
	return {error: `port-forward works on pods and services, not ${obj.kind}`};
}

export class PortForwards {
	private readonly forwards: Forward[] = [];
	private nextId = 1;

	list(): readonly Forward[] {
		return this.forwards;
	}

	/** Listen on 127.0.0.1:local (0: any free port) and pipe connections to the remote; `onConnection` hears of each. */
	start(target: string, remote: {host: string; port: number}, local = 0, onConnection?: () => void): Promise<Forward> {
		return new Promise((resolve, reject) => {
			const forward: Forward = {id: this.nextId++, target, local, remote, connections: 0, sockets: new Set(), server: net.createServer(socket => {
				forward.connections++;
				onConnection?.();
				const upstream = net.connect(remote.port, remote.host);
				for (const s of [socket, upstream]) {
					forward.sockets.add(s);
					s.on('close', () => forward.sockets.delete(s));
				}
				socket.pipe(upstream).pipe(socket);
				const close = () => {
					socket.destroy();
					upstream.destroy();
				};
				socket.on('error', close);
				upstream.on('error', close);
				socket.on('close', close);
				upstream.on('close', close);
			})};
			forward.server.once('error', reject);
			forward.server.listen(local, '127.0.0.1', () => {
				forward.local = (forward.server.address() as net.AddressInfo).port;
				this.forwards.push(forward);
				resolve(forward);
			});
		});
	}

	stop(id: number): Forward | undefined {
		const at = this.forwards.findIndex(f => f.id === id);
		if (at < 0) return undefined;
		const [forward] = this.forwards.splice(at, 1);
		forward.server.close();
		for (const socket of forward.sockets) socket.destroy();
		return forward;
	}

	stopAll(): void {
		for (const f of [...this.forwards]) this.stop(f.id);
	}
}
