// Pod Security admission (k8s.io/pod-security-admission), for the Pod
// Security Standards' levels privileged, baseline and restricted, chosen per
// namespace by its labels pod-security.kubernetes.io/enforce (refuse),
// warn (a Warning header, which kubectl prints) and audit (an annotation on
// the audit event; kubedeck records it as a Warning too). Workload templates
// (Deployments, Jobs, ...) are checked for warn and audit only, as there: the
// pods they make are what enforce refuses. The checks and their words follow
// the policy's checks (policy/check_*.go); AppArmor, SELinux and Windows
// options are not checked (nothing here runs them).
import {field, type FieldError} from './errors.js';
import type {KubeObject} from './object.js';

type Rec = Record<string, any>;

export type Level = 'privileged' | 'baseline' | 'restricted';
export const levels: Level[] = ['privileged', 'baseline', 'restricted'];
export const labelPrefix = 'pod-security.kubernetes.io/';

const defaultCapabilities = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const safeSysctls = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);
const restrictedVolumes = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/**
 * A namespace's level for a mode (enforce, warn, audit); undefined when its label is absent. A label
 * that names no level fails closed for enforce (restricted) and open for warn and audit, as Pod
 * Security admission reads them; such labels are refused when written (labelErrors), so only an
 * older state file holds one.
 */
export function namespaceLevel(ns: KubeObject | undefined, mode: 'enforce' | 'warn' | 'audit'): Level | undefined {
	const value = ns?.metadata.labels?.[`${labelPrefix}${mode}`];
	if (value === undefined) return undefined;
	if (levels.includes(value as Level)) return value as Level;
	return mode === 'enforce' ? 'restricted' : undefined;
}

const versionPattern = /^(latest|v1\.(0|[1-9][0-9]*))$/;

/** The errors of a namespace's Pod Security labels, in Pod Security admission's words. */
export function labelErrors(labels: Record<string, string> | undefined): FieldError[] {
	const errors: FieldError[] = [];
	for (const mode of ['enforce', 'audit', 'warn']) {
		const level = labels?.[`${labelPrefix}${mode}`];
		if (level !== undefined && !levels.includes(level as Level)) errors.push(field.invalid(`metadata.labels[${labelPrefix}${mode}]`, level, `must be one of ${levels.join(', ')}`));
		const version = labels?.[`${labelPrefix}${mode}-version`];
		if (version !== undefined && !versionPattern.test(version)) errors.push(field.invalid(`metadata.labels[${labelPrefix}${mode}-version]`, version, 'must be "latest" or "v1.x"'));
	}
	return errors;
}

/** Whether an update changes any Pod Security label (only then are they checked, as Pod Security admission does). */
export function labelsChanged(next: KubeObject, old: KubeObject): boolean {
	const pick = (o: KubeObject) => Object.entries(o.metadata.labels ?? {}).filter(([k]) => k.startsWith(labelPrefix)).sort().join('\n');
	return pick(next) !== pick(old);
}

const list = (items: string[]) => items.map(i => JSON.stringify(i)).join(', ');
const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

function containersOf(spec: Rec): Rec[] {
	return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

function baseline(spec: Rec): string[] {
	const out: string[] = [];
	const containers = containersOf(spec);
	const hostNs = ['hostNetwork', 'hostPID', 'hostIPC'].filter(k => spec[k] === true);
	if (hostNs.length) out.push(`host namespaces (${hostNs.map(k => `${k}=true`).join(', ')})`);
	const privileged = containers.filter(c => c.securityContext?.privileged === true).map(c => c.name);
	if (privileged.length) out.push(`privileged (${plural(privileged.length, 'container', 'containers')} ${list(privileged)} must not set securityContext.privileged=true)`);
	const caps = containers.flatMap(c => ((c.securityContext?.capabilities?.add ?? []) as string[]).filter(cap => !defaultCapabilities.has(cap.replace(/^CAP_/, ''))).map(cap => [c.name, cap]));
	if (caps.length) {
		const names = [...new Set(caps.map(([n]) => n))];
		out.push(`non-default capabilities (${plural(names.length, 'container', 'containers')} ${list(names)} must not include ${list([...new Set(caps.map(([, c]) => c))])} in securityContext.capabilities.add)`);
	}
	const hostPaths = ((spec.volumes ?? []) as Rec[]).filter(v => v.hostPath).map(v => v.name);
	if (hostPaths.length) out.push(`hostPath ${plural(hostPaths.length, 'volume', 'volumes')} (${list(hostPaths)})`);
	const hostPorts = containers.flatMap(c => ((c.ports ?? []) as Rec[]).filter(p => p.hostPort).map(p => [c.name, p.hostPort]));
	if (hostPorts.length) {
		const names = [...new Set(hostPorts.map(([n]) => n))];
		out.push(`hostPort (${plural(names.length, 'container', 'containers')} ${list(names as string[])} ${plural(hostPorts.length, 'uses hostPort', 'use hostPorts')} ${hostPorts.map(([, p]) => p).join(', ')})`);
	}
	const unmasked = containers.filter(c => c.securityContext?.procMount && c.securityContext.procMount !== 'Default').map(c => c.name);
	if (unmasked.length) out.push(`procMount (${plural(unmasked.length, 'container', 'containers')} ${list(unmasked)} must not set securityContext.procMount to "Unmasked")`);
	const unconfined = [...(spec.securityContext?.seccompProfile?.type === 'Unconfined' ? ['pod'] : []), ...containers.filter(c => c.securityContext?.seccompProfile?.type === 'Unconfined').map(c => `container ${JSON.stringify(c.name)}`)];
	if (unconfined.length) out.push(`seccompProfile (${unconfined.join(' and ')} must not set securityContext.seccompProfile.type to "Unconfined")`);
	const sysctls = ((spec.securityContext?.sysctls ?? []) as Rec[]).map(s => s.name).filter(n => !safeSysctls.has(n));
	if (sysctls.length) out.push(`forbidden sysctls (${sysctls.join(', ')})`);
	return out;
}

function restricted(spec: Rec): string[] {
	const out: string[] = [];
	const containers = containersOf(spec);
	const podSc = spec.securityContext ?? {};
	const badVolumes = ((spec.volumes ?? []) as Rec[]).map(v => [v.name, Object.keys(v).find(k => k !== 'name')] as const).filter(([, t]) => t && !restrictedVolumes.includes(t));
	if (badVolumes.length) out.push(`restricted volume types (${plural(badVolumes.length, 'volume', 'volumes')} ${list(badVolumes.map(([n]) => n))} ${plural(badVolumes.length, 'uses', 'use')} restricted volume ${plural(new Set(badVolumes.map(([, t]) => t)).size, 'type', 'types')} ${list([...new Set(badVolumes.map(([, t]) => t!))])})`);
	const escalation = containers.filter(c => c.securityContext?.allowPrivilegeEscalation !== false).map(c => c.name);
	if (escalation.length) out.push(`allowPrivilegeEscalation != false (${plural(escalation.length, 'container', 'containers')} ${list(escalation)} must set securityContext.allowPrivilegeEscalation=false)`);
	const dropAll = containers.filter(c => !((c.securityContext?.capabilities?.drop ?? []) as string[]).includes('ALL')).map(c => c.name);
	const addsMore = containers.filter(c => ((c.securityContext?.capabilities?.add ?? []) as string[]).some(cap => cap !== 'NET_BIND_SERVICE')).map(c => c.name);
	if (dropAll.length || addsMore.length) {
		const parts = [
			...(dropAll.length ? [`${plural(dropAll.length, 'container', 'containers')} ${list(dropAll)} must set securityContext.capabilities.drop=["ALL"]`] : []),
			...(addsMore.length ? [`${plural(addsMore.length, 'container', 'containers')} ${list(addsMore)} must not include capabilities other than "NET_BIND_SERVICE" in securityContext.capabilities.add`] : []),
		];
		out.push(`unrestricted capabilities (${parts.join('; ')})`);
	}
	const nonRoot = (c: Rec) => c.securityContext?.runAsNonRoot ?? podSc.runAsNonRoot;
	const rootless = containers.filter(c => nonRoot(c) !== true).map(c => c.name);
	if (podSc.runAsNonRoot === false || rootless.length) {
		out.push(`runAsNonRoot != true (${podSc.runAsNonRoot === true ? '' : 'pod or '}${plural(rootless.length, 'container', 'containers')} ${list(rootless)} must set securityContext.runAsNonRoot=true)`);
	}
	const root = [...(podSc.runAsUser === 0 ? ['pod'] : []), ...containers.filter(c => c.securityContext?.runAsUser === 0).map(c => `container ${JSON.stringify(c.name)}`)];
	if (root.length) out.push(`runAsUser=0 (${root.join(' and ')} must not set runAsUser=0)`);
	const seccomp = (c: Rec) => c.securityContext?.seccompProfile?.type ?? podSc.seccompProfile?.type;
	const noSeccomp = containers.filter(c => !['RuntimeDefault', 'Localhost'].includes(seccomp(c))).map(c => c.name);
	if (noSeccomp.length) out.push(`seccompProfile (pod or ${plural(noSeccomp.length, 'container', 'containers')} ${list(noSeccomp)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`);
	return out;
}

/** What a pod spec breaks of a level ("host namespaces (hostNetwork=true)", ...); empty when it keeps it. */
export function violations(spec: Rec | undefined, level: Level): string[] {
	if (!spec || level === 'privileged') return [];
	return level === 'baseline' ? baseline(spec) : [...baseline(spec), ...restricted(spec)];
}

/** The pod spec of a pod or of a workload's template (a CronJob's is two levels down). */
export function podSpecOf(obj: KubeObject): Rec | undefined {
	if (obj.kind === 'Pod') return obj.spec as Rec | undefined;
	const spec = obj.spec as Rec | undefined;
	if (obj.kind === 'CronJob') return spec?.jobTemplate?.spec?.template?.spec;
	return spec?.template?.spec;
}

export const workloadKinds = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController']);

/** kube-apiserver's words: violates PodSecurity "baseline:latest": ... */
export function describeViolations(level: Level, found: string[]): string {
	return `PodSecurity "${level}:latest": ${found.join(', ')}`;
}
