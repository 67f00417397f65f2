// SSH's own port-forward (`ssh -L 8080:web.dev1.svc:80`): a direct-tcpip
// channel names where to connect, and the console resolves it as the
// session's user, through the API: a Service (NAME.NAMESPACE.svc:PORT, to
// one of its ready pods, as kubectl port-forward svc/NAME does) or a pod
// (POD.NAMESPACE.pod:PORT). The user must hold what `kubectl port-forward`
// needs: create on pods/portforward of that pod (asked with a
// SelfSubjectAccessReview, so RBAC answers for them), and read the Service
// and pods to find it. Only then is the pod's address dialled.
import {refOf, typeForKind} from '../../api/resources.js';
import type {KubeObject} from '../../api/object.js';
import {CliError} from '../../client/errors.js';
import {forwardTarget} from '../../client/operations/port-forward.js';
import type {ClusterClient} from '../../client/types.js';

type Rec = Record<string, any>;

/** NAME.NAMESPACE.svc or POD.NAMESPACE.pod, with or without .cluster.local. */
export function parseForwardHost(host: string): {kind: 'svc' | 'pod'; namespace: string; name: string} | undefined {
	const parts = host.toLowerCase().replace(/\.cluster\.local\.?$/, '').split('.');
	if (parts.length < 3) return undefined;
	const kind = parts.pop() as string;
	const namespace = parts.pop()!;
	const name = parts.join('.');
	if ((kind !== 'svc' && kind !== 'pod') || !namespace || !name) return undefined;
	return {kind, namespace, name};
}

/** Where a direct-tcpip channel to host:port goes for this user: a pod's address; throws with why not. */
export async function resolveForward(client: ClusterClient, host: string, port: number): Promise<{host: string; port: number; target: string}> {
	const where = parseForwardHost(host);
	if (!where) throw new CliError(`error: the console forwards to NAME.NAMESPACE.svc:PORT or POD.NAMESPACE.pod:PORT, not ${host}`);
	const pods = typeForKind('v1', 'Pod')!;
	let pod: KubeObject;
	let remote: {host: string; port: number} | {error: string};
	if (where.kind === 'svc') {
		const svc = await client.get(typeForKind('v1', 'Service')!, where.namespace, where.name);
		if (!((svc.spec as Rec).ports ?? []).some((p: Rec) => p.port === port)) throw new CliError(`error: service ${where.namespace}/${where.name} has no port ${port}`);
		const selector = Object.entries(((svc.spec as Rec).selector ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
		if (!selector) throw new CliError(`error: service ${where.namespace}/${where.name} selects no pods`);
		const candidates = (await client.list(pods, {namespace: where.namespace, labelSelector: selector})).items;
		remote = forwardTarget(svc, candidates, port);
		pod = candidates.find(p => 'host' in remote && (p.status as Rec)?.podIP === remote.host)!;
	} else {
		pod = await client.get(pods, where.namespace, where.name);
		remote = forwardTarget(pod, [], port);
	}
	if ('error' in remote) throw new CliError(`error: ${remote.error}`);
	const review = await client.create({
		apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
		spec: {resourceAttributes: {namespace: where.namespace, verb: 'create', resource: 'pods', subresource: 'portforward', name: pod.metadata.name}},
	} as KubeObject);
	if (!(review.status as Rec | undefined)?.allowed) {
		throw new CliError(`error: pods "${pod.metadata.name}" is forbidden: you cannot create resource "pods/portforward" in API group "" in the namespace "${where.namespace}"`);
	}
	return {...remote, target: refOf(pod)};
}
