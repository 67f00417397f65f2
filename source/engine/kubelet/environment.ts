// A container's environment, resolved the way the kubelet does:
// env from ConfigMaps and Secrets (envFrom, valueFrom), the downward API
// fields, service links ({NAME}_SERVICE_HOST/PORT), `$(VAR)` expansion; and
// without bubblewrap, each mount's host directory (volumes.ts makes them).
import type {KubeObject} from '../../api/object.js';
import type {Store} from '../../store/store.js';
import type {SandboxMount} from './sandbox.js';

type Rec = Record<string, any>;

/** A problem that keeps a container from being created (CreateContainerConfigError). */
export class ContainerConfigError extends Error {}

export function configSource(store: Store, kind: 'configmaps' | 'secrets', namespace: string, name: string, optional: boolean): Record<string, string> | undefined {
	const obj = store.get(kind, namespace, name);
	if (!obj) {
		if (optional) return undefined;
		throw new ContainerConfigError(`${kind === 'configmaps' ? 'configmap' : 'secret'} "${name}" not found`);
	}
	const data = (obj.data ?? {}) as Record<string, string>;
	if (kind === 'secrets') return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
	return {...data, ...Object.fromEntries(Object.entries((obj.binaryData ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))};
}

export function fieldRef(pod: KubeObject, fieldPath: string, podIP: string): string {
	const labelMatch = fieldPath.match(/^metadata\.(labels|annotations)\['(.+)'\]$/);
	if (labelMatch) return (pod.metadata[labelMatch[1] as 'labels'] ?? {})[labelMatch[2]] ?? '';
	switch (fieldPath) {
		case 'metadata.name': return pod.metadata.name ?? '';
		case 'metadata.namespace': return pod.metadata.namespace ?? '';
		case 'metadata.uid': return pod.metadata.uid ?? '';
		case 'spec.nodeName': return (pod.spec as Rec).nodeName ?? '';
		case 'spec.serviceAccountName': return (pod.spec as Rec).serviceAccountName ?? '';
		case 'status.podIP': case 'status.podIPs': return podIP;
		case 'status.hostIP': case 'status.hostIPs': return '127.0.0.1';
		default: throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
	}
}

/** `$(VAR)` references to earlier variables expand; `$$(VAR)` escapes. */
export function expand(value: string, env: Record<string, string>): string {
	return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name) => (whole === '$$' ? '$' : name in env ? env[name] : whole));
}

function serviceLinks(store: Store, namespace: string): Record<string, string> {
	const env: Record<string, string> = {};
	for (const svc of store.list('services', namespace).items) {
		const spec = svc.spec as Rec;
		if (!spec.clusterIP || spec.clusterIP === 'None') continue;
		const prefix = svc.metadata.name!.toUpperCase().replace(/-/g, '_');
		const ports: Rec[] = spec.ports ?? [];
		if (ports.length === 0) continue;
		env[`${prefix}_SERVICE_HOST`] = spec.clusterIP;
		env[`${prefix}_SERVICE_PORT`] = String(ports[0].port);
		for (const p of ports) {
			if (p.name) env[`${prefix}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
			const proto = (p.protocol ?? 'TCP').toLowerCase();
			env[`${prefix}_PORT_${p.port}_${proto.toUpperCase()}`] = `${proto}://${spec.clusterIP}:${p.port}`;
		}
		env[`${prefix}_PORT`] = `${(ports[0].protocol ?? 'TCP').toLowerCase()}://${spec.clusterIP}:${ports[0].port}`;
	}
	return env;
}

export interface EnvContext {
	store: Store;
	pod: KubeObject;
	podIP: string;
	nodeName: string;
	cwd: string;
	/** The container's mounts (host directory and mountPath). */
	mounts: SandboxMount[];
	/** Whether the container runs in a sandbox with its volumes at their mountPath; else their directories go into env vars. */
	sandboxed: boolean;
}

export function containerEnv(container: Rec, ctx: EnvContext): Record<string, string> {
	const {pod, store} = ctx;
	const namespace = pod.metadata.namespace!;
	const env: Record<string, string> = {
		PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: ctx.cwd, LANG: process.env.LANG ?? 'C.UTF-8',
		HOSTNAME: podHostname(pod), POD_NAME: pod.metadata.name!, POD_NAMESPACE: namespace, POD_IP: ctx.podIP, HOST: ctx.podIP, NODE_NAME: ctx.nodeName,
	};
	if ((pod.spec as Rec).enableServiceLinks !== false) Object.assign(env, serviceLinks(store, namespace));
	// The API's own Service, in every pod whatever its namespace, as the kubelet adds it (in-cluster clients read these).
	const api = store.get('services', 'default', 'kubernetes')?.spec as Rec | undefined;
	if (api?.clusterIP && api.ports?.length) {
		env.KUBERNETES_SERVICE_HOST = api.clusterIP;
		env.KUBERNETES_SERVICE_PORT = String(api.ports[0].port);
		env.KUBERNETES_SERVICE_PORT_HTTPS = String(api.ports[0].port);
		env.KUBERNETES_PORT = `tcp://${api.clusterIP}:${api.ports[0].port}`;
	}
	if (!ctx.sandboxed) {
		for (const m of ctx.mounts) env[`KUBEDECK_MOUNT_${m.target.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '').toUpperCase()}`] = m.source;
	}
	for (const from of (container.envFrom ?? []) as Rec[]) {
		const ref = from.configMapRef ?? from.secretRef;
		const data = configSource(store, from.configMapRef ? 'configmaps' : 'secrets', namespace, ref.name, !!ref.optional);
		for (const [k, v] of Object.entries(data ?? {})) env[`${from.prefix ?? ''}${k}`] = v;
	}
	for (const e of (container.env ?? []) as Rec[]) {
		if (e.valueFrom) {
			const vf = e.valueFrom;
			if (vf.configMapKeyRef || vf.secretKeyRef) {
				const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
				const kind = vf.configMapKeyRef ? 'configmaps' : 'secrets';
				const data = configSource(store, kind, namespace, ref.name, !!ref.optional);
				if (data && !(ref.key in data) && !ref.optional) throw new ContainerConfigError(`couldn't find key ${ref.key} in ${kind === 'configmaps' ? 'ConfigMap' : 'Secret'} ${namespace}/${ref.name}`);
				if (data && ref.key in data) env[e.name] = data[ref.key];
			} else if (vf.fieldRef) {
				env[e.name] = fieldRef(pod, vf.fieldRef.fieldPath, ctx.podIP);
			} else if (vf.resourceFieldRef) {
				env[e.name] = String(container.resources?.limits?.[vf.resourceFieldRef.resource.split('.')[1]] ?? '0');
			}
		} else {
			env[e.name] = expand(String(e.value ?? ''), env);
		}
	}
	return env;
}

/** A pod's hostname, as the kubelet gives it: spec.hostname when set (Indexed Jobs, StatefulSets), else its name; 63 characters at most. */
export function podHostname(pod: KubeObject): string {
	return String((pod.spec as Rec).hostname ?? pod.metadata.name).slice(0, 63);
}
