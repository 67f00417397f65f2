// ServiceAccounts, as a cluster gives every namespace and pod one:
// - each namespace has a `default` ServiceAccount and the `kube-root-ca.crt`
//   ConfigMap (the cluster CA, for in-cluster clients); Kubernetes' controllers
//   make them soon after the namespace, kubedeck makes them in the namespace's
//   own write, so a pod created right after its namespace is never refused for
//   a ServiceAccount not made yet (the serviceaccounts controller in
//   engine/controllers/serviceaccounts.ts puts back one that is deleted);
// - the ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount):
//   a pod's ServiceAccount must exist, and unless automountServiceAccountToken
//   is false (on the pod, else on the ServiceAccount) the pod gets the
//   projected `kube-api-access-*` volume (a bound token, ca.crt, namespace)
//   mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in
//   every container.
import crypto from 'node:crypto';
import type {KubeObject} from '../api/object.js';
import type {Transaction} from '../store/store.js';
import {StatusError} from '../api/errors.js';
import {mountedTokenSeconds} from './auth/tokens.js';

type Rec = Record<string, any>;

export const tokenMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
export const rootCAConfigMap = 'kube-root-ca.crt';

/** The objects a new namespace comes with. */
export function namespaceDefaults(namespace: string, rootCA: string | undefined): KubeObject[] {
	return [
		{apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'default', namespace}} as KubeObject,
		...(rootCA ? [{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: rootCAConfigMap, namespace, annotations: {'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.'}}, data: {'ca.crt': rootCA}} as KubeObject] : []),
	];
}

/** The projected volume the admission plugin adds (its name's suffix is random, as there). */
export function tokenVolume(): Rec {
	return {
		name: `kube-api-access-${crypto.randomBytes(3).toString('hex').slice(0, 5)}`,
		projected: {
			defaultMode: 0o644,
			sources: [
				{serviceAccountToken: {expirationSeconds: mountedTokenSeconds, path: 'token'}},
				{configMap: {name: rootCAConfigMap, items: [{key: 'ca.crt', path: 'ca.crt'}]}},
				{downwardAPI: {items: [{path: 'namespace', fieldRef: {apiVersion: 'v1', fieldPath: 'metadata.namespace'}}]}},
			],
		},
	};
}

/** Admits a new pod: its ServiceAccount must exist; the token volume is added unless automount is off. */
export function admitPodServiceAccount(tx: Transaction, pod: KubeObject): void {
	const spec = (pod.spec ?? {}) as Rec;
	const namespace = pod.metadata.namespace!;
	const name: string = spec.serviceAccountName || 'default';
	const sa = tx.peek('serviceaccounts', namespace, name);
	if (!sa) {
		throw new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 403, reason: 'Forbidden',
			message: `pods "${pod.metadata.name ?? pod.metadata.generateName ?? ''}" is forbidden: error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`,
			details: {name: pod.metadata.name, kind: 'pods'}});
	}
	const automount = spec.automountServiceAccountToken ?? (sa as Rec).automountServiceAccountToken ?? true;
	if (!automount) return;
	const containers: Rec[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
	// A pod that mounts something there itself keeps its own (as the plugin skips it).
	if (containers.some(c => (c.volumeMounts ?? []).some((m: Rec) => m.mountPath === tokenMountPath))) return;
	const volume = tokenVolume();
	spec.volumes = [...(spec.volumes ?? []), volume];
	for (const c of containers) c.volumeMounts = [...(c.volumeMounts ?? []), {name: volume.name, readOnly: true, mountPath: tokenMountPath}];
}
