// kubectl describe output: a header block every kind shares (Name, Namespace,
// Labels, Annotations), a body per kind, and the object's Events. Kinds
// without their own body get their spec and status printed as an indented
// tree, which reads the same way.
import type {KubeObject} from '../api/object.js';
import {lastAppliedAnnotation} from '../api/object.js';
import {accessModes} from './columns.js';
import {age} from './format.js';

type Rec = Record<string, any>;

class Writer {
	lines: string[] = [];

	/** `Key:<TAB>value` (or `Key:` alone); tabs are aligned at the end, like kubectl's tabwriter. */
	field(level: number, key: string, value?: unknown): void {
		const indent = '  '.repeat(level);
		this.lines.push(value === undefined ? `${indent}${key}:` : `${indent}${key}:\t${String(value)}`);
	}

	map(level: number, key: string, map: Record<string, string> | undefined): void {
		const entries = Object.entries(map ?? {});
		if (entries.length === 0) return this.field(level, key, '<none>');
		entries.forEach(([k, v], i) => {
			if (i === 0) this.field(level, key, `${k}=${v}`);
			else this.lines.push(`\t${k}=${v}`);
		});
	}

	/** Align each run of consecutive tabbed lines (tabwriter with padding 2). */
	render(): string {
		const out: string[] = [];
		for (let i = 0; i < this.lines.length;) {
			if (!this.lines[i].includes('\t')) {
				out.push(this.lines[i++]);
				continue;
			}
			let j = i;
			while (j < this.lines.length && this.lines[j].includes('\t')) j++;
			const block = this.lines.slice(i, j).map(l => l.split('\t'));
			const width = Math.max(...block.map(cells => cells[0].length)) + 2;
			for (const cells of block) out.push(`${cells[0].padEnd(width)}${cells.slice(1).join('  ')}`.trimEnd());
			i = j;
		}
		return out.join('\n');
	}

	text(line: string): void {
		this.lines.push(line);
	}

	tree(level: number, value: unknown): void {
		if (Array.isArray(value)) {
			for (const item of value) {
				if (typeof item === 'object' && item !== null) {
					const [first, ...rest] = Object.entries(item);
					if (!first) continue;
					this.lines.push(`${'  '.repeat(level)}- ${first[0]}: ${typeof first[1] === 'object' ? '' : first[1]}`.trimEnd());
					if (typeof first[1] === 'object') this.tree(level + 2, first[1]);
					this.tree(level + 1, Object.fromEntries(rest));
				} else {
					this.lines.push(`${'  '.repeat(level)}- ${item}`);
				}
			}
			return;
		}
		for (const [k, v] of Object.entries((value ?? {}) as Rec)) {
			const key = k.charAt(0).toUpperCase() + k.slice(1);
			if (typeof v === 'object' && v !== null) {
				if ((Array.isArray(v) && v.length === 0) || Object.keys(v).length === 0) {
					this.field(level, key, '<none>');
					continue;
				}
				this.field(level, key);
				this.tree(level + 1, v);
			} else {
				this.field(level, key, v);
			}
		}
	}
}

function annotationsWithoutLastApplied(obj: KubeObject): Record<string, string> {
	const {[lastAppliedAnnotation]: _, ...rest} = obj.metadata.annotations ?? {};
	return rest;
}

function describePod(w: Writer, pod: KubeObject): void {
	const spec = (pod.spec ?? {}) as Rec, status = (pod.status ?? {}) as Rec;
	w.field(0, 'Priority', spec.priority ?? 0);
	w.field(0, 'Service Account', spec.serviceAccountName ?? 'default');
	w.field(0, 'Node', spec.nodeName ? `${spec.nodeName}/${status.hostIP ?? ''}` : '<none>');
	w.field(0, 'Start Time', status.startTime ?? '<unset>');
	w.map(0, 'Labels', pod.metadata.labels);
	w.map(0, 'Annotations', annotationsWithoutLastApplied(pod));
	w.field(0, 'Status', pod.metadata.deletionTimestamp ? 'Terminating' : status.phase ?? 'Pending');
	if (status.reason) w.field(0, 'Reason', status.reason);
	if (status.message) w.field(0, 'Message', status.message);
	w.field(0, 'IP', status.podIP ?? '');
	w.field(0, 'IPs', status.podIP ? '' : '<none>');
	if (status.podIP) w.field(1, 'IP', status.podIP);
	const owner = pod.metadata.ownerReferences?.find(r => r.controller);
	if (owner) w.field(0, 'Controlled By', `${owner.kind}/${owner.name}`);
	w.field(0, 'Containers');
	for (const c of spec.containers ?? []) {
		const cs = (status.containerStatuses ?? []).find((s: Rec) => s.name === c.name) ?? {};
		w.field(1, c.name);
		w.field(2, 'Container ID', cs.containerID ?? '');
		w.field(2, 'Image', c.image);
		w.field(2, 'Image ID', cs.imageID ?? '');
		const ports = (c.ports ?? []).map((p: Rec) => `${p.containerPort}/${p.protocol ?? 'TCP'}`);
		w.field(2, 'Port', ports.length ? ports.join(', ') : '<none>');
		if (c.command) w.field(2, 'Command'), c.command.forEach((a: string) => w.text(`${'  '.repeat(3)}${a}`));
		if (c.args) w.field(2, 'Args'), c.args.forEach((a: string) => w.text(`${'  '.repeat(3)}${a}`));
		const state = cs.state ?? {waiting: {reason: 'ContainerCreating'}};
		const [stateName, detail] = Object.entries(state)[0] as [string, Rec];
		w.field(2, 'State', stateName.charAt(0).toUpperCase() + stateName.slice(1));
		for (const [k, v] of Object.entries(detail ?? {})) w.field(3, k.charAt(0).toUpperCase() + k.slice(1), v);
		if (cs.lastState && Object.keys(cs.lastState).length) {
			const [lastName, lastDetail] = Object.entries(cs.lastState)[0] as [string, Rec];
			w.field(2, 'Last State', lastName.charAt(0).toUpperCase() + lastName.slice(1));
			for (const [k, v] of Object.entries(lastDetail ?? {})) w.field(3, k.charAt(0).toUpperCase() + k.slice(1), v);
		}
		w.field(2, 'Ready', cs.ready ? 'True' : 'False');
		w.field(2, 'Restart Count', cs.restartCount ?? 0);
		for (const part of ['limits', 'requests']) {
			if (c.resources?.[part]) {
				w.field(2, part.charAt(0).toUpperCase() + part.slice(1));
				for (const [k, v] of Object.entries(c.resources[part])) w.field(3, k, v);
			}
		}
		const env: Rec[] = c.env ?? [];
		const envFrom: Rec[] = c.envFrom ?? [];
		if (envFrom.length) {
			w.field(2, 'Environment Variables from');
			for (const e of envFrom) {
				const ref = e.configMapRef ? `${e.configMapRef.name}  ConfigMap` : `${e.secretRef?.name}  Secret`;
				w.text(`${'  '.repeat(3)}${ref}  Optional: ${(e.configMapRef ?? e.secretRef)?.optional ?? false}`);
			}
		}
		if (env.length === 0) w.field(2, 'Environment', '<none>');
		else {
			w.field(2, 'Environment');
			for (const e of env) {
				const from = e.valueFrom?.secretKeyRef ? `<set to the key '${e.valueFrom.secretKeyRef.key}' in secret '${e.valueFrom.secretKeyRef.name}'>`
					: e.valueFrom?.configMapKeyRef ? `<set to the key '${e.valueFrom.configMapKeyRef.key}' of config map '${e.valueFrom.configMapKeyRef.name}'>`
						: e.valueFrom?.fieldRef ? `(v1:${e.valueFrom.fieldRef.fieldPath})` : e.value ?? '';
				w.text(`${'  '.repeat(3)}${e.name}:  ${from}`);
			}
		}
		const mounts: Rec[] = c.volumeMounts ?? [];
		if (mounts.length === 0) w.field(2, 'Mounts', '<none>');
		else {
			w.field(2, 'Mounts');
			for (const m of mounts) w.text(`${'  '.repeat(3)}${m.mountPath} from ${m.name} (${m.readOnly ? 'ro' : 'rw'})`);
		}
	}
	const conditions: Rec[] = status.conditions ?? [];
	if (conditions.length) {
		w.field(0, 'Conditions');
		w.text('  Type              Status');
		for (const cond of conditions) w.text(`  ${cond.type.padEnd(18)}${cond.status}`);
	}
	const volumes: Rec[] = spec.volumes ?? [];
	if (volumes.length === 0) w.field(0, 'Volumes', '<none>');
	else {
		w.field(0, 'Volumes');
		for (const v of volumes) {
			w.field(1, v.name);
			const [kind, source] = Object.entries(v).find(([k]) => k !== 'name') as [string, Rec];
			w.field(2, 'Type', kind);
			for (const [k, val] of Object.entries(source ?? {})) w.field(2, k.charAt(0).toUpperCase() + k.slice(1), typeof val === 'object' ? JSON.stringify(val) : val);
		}
	}
	w.field(0, 'QoS Class', status.qosClass ?? 'BestEffort');
	w.map(0, 'Node-Selectors', spec.nodeSelector);
	const tolerations: Rec[] = spec.tolerations ?? [];
	w.field(0, 'Tolerations', tolerations.length ? tolerations.map(t => `${t.key ?? ''}${t.operator === 'Exists' ? '' : `=${t.value ?? ''}`}:${t.effect ?? ''}`).join(', ') : '<none>');
}

function describeWorkload(w: Writer, obj: KubeObject): void {
	const spec = (obj.spec ?? {}) as Rec, status = (obj.status ?? {}) as Rec;
	w.map(0, 'Labels', obj.metadata.labels);
	w.map(0, 'Annotations', annotationsWithoutLastApplied(obj));
	if (spec.selector) w.field(0, 'Selector', Object.entries(spec.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','));
	if (obj.kind === 'Deployment') {
		w.field(0, 'Replicas', `${spec.replicas ?? 0} desired | ${status.updatedReplicas ?? 0} updated | ${status.replicas ?? 0} total | ${status.availableReplicas ?? 0} available | ${status.unavailableReplicas ?? 0} unavailable`);
		w.field(0, 'StrategyType', spec.strategy?.type ?? '');
		w.field(0, 'MinReadySeconds', spec.minReadySeconds ?? 0);
		if (spec.strategy?.rollingUpdate) w.field(0, 'RollingUpdateStrategy', `${spec.strategy.rollingUpdate.maxUnavailable} max unavailable, ${spec.strategy.rollingUpdate.maxSurge} max surge`);
	} else if (spec.replicas !== undefined) {
		w.field(0, 'Replicas', `${status.replicas ?? 0} current / ${spec.replicas} desired`);
	}
	const template = spec.template ?? spec.jobTemplate?.spec?.template;
	for (const [k, v] of Object.entries(spec)) {
		if (['selector', 'template', 'jobTemplate', 'replicas', 'strategy', 'minReadySeconds'].includes(k)) continue;
		if (typeof v !== 'object') w.field(0, k.charAt(0).toUpperCase() + k.slice(1), v);
	}
	if (template) {
		w.field(0, 'Pod Template');
		w.map(1, 'Labels', template.metadata?.labels);
		w.field(1, 'Containers');
		for (const c of template.spec?.containers ?? []) {
			w.field(2, c.name);
			w.field(3, 'Image', c.image);
			const ports = (c.ports ?? []).map((p: Rec) => `${p.containerPort}/${p.protocol ?? 'TCP'}`);
			w.field(3, 'Port', ports.length ? ports.join(', ') : '<none>');
			if (c.command) w.field(3, 'Command', c.command.join(' '));
			w.field(3, 'Environment', (c.env ?? []).length ? (c.env as Rec[]).map(e => `${e.name}=${e.value ?? '<from>'}`).join(', ') : '<none>');
			w.field(3, 'Mounts', (c.volumeMounts ?? []).length ? (c.volumeMounts as Rec[]).map(m => `${m.mountPath} from ${m.name}`).join(', ') : '<none>');
		}
		w.field(1, 'Volumes', (template.spec?.volumes ?? []).length ? (template.spec.volumes as Rec[]).map(v => v.name).join(', ') : '<none>');
	}
	const conditions: Rec[] = status.conditions ?? [];
	if (conditions.length) {
		w.field(0, 'Conditions');
		w.text('  Type           Status  Reason');
		w.text('  ----           ------  ------');
		for (const cond of conditions) w.text(`  ${cond.type.padEnd(15)}${String(cond.status).padEnd(8)}${cond.reason ?? ''}`);
	}
}

function describeService(w: Writer, svc: KubeObject, endpoints: KubeObject | undefined): void {
	const spec = (svc.spec ?? {}) as Rec;
	w.map(0, 'Labels', svc.metadata.labels);
	w.map(0, 'Annotations', annotationsWithoutLastApplied(svc));
	w.field(0, 'Selector', Object.entries(spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>');
	w.field(0, 'Type', spec.type ?? 'ClusterIP');
	w.field(0, 'IP Family Policy', spec.ipFamilyPolicy ?? 'SingleStack');
	w.field(0, 'IP Families', (spec.ipFamilies ?? ['IPv4']).join(','));
	w.field(0, 'IP', spec.clusterIP ?? '<none>');
	w.field(0, 'IPs', (spec.clusterIPs ?? [spec.clusterIP]).join(','));
	const ingress: Rec[] = (svc.status as Rec)?.loadBalancer?.ingress ?? [];
	if (ingress.length) w.field(0, 'LoadBalancer Ingress', ingress.map(i => `${i.ip ?? i.hostname}${i.ipMode ? ` (${i.ipMode})` : ''}`).join(', '));
	for (const p of spec.ports ?? []) {
		w.field(0, 'Port', `${p.name ?? '<unset>'}  ${p.port}/${p.protocol ?? 'TCP'}`);
		w.field(0, 'TargetPort', `${p.targetPort}/${p.protocol ?? 'TCP'}`);
		if (p.nodePort) w.field(0, 'NodePort', `${p.name ?? '<unset>'}  ${p.nodePort}/${p.protocol ?? 'TCP'}`);
		w.field(0, 'Endpoints', endpointsOfPort(endpoints, p.name ?? ''));
	}
	w.field(0, 'Session Affinity', spec.sessionAffinity ?? 'None');
	if (spec.externalTrafficPolicy) w.field(0, 'External Traffic Policy', spec.externalTrafficPolicy);
	w.field(0, 'Internal Traffic Policy', spec.internalTrafficPolicy ?? 'Cluster');
}

/** A service port's ready endpoints as kubectl's describe prints them: three, then how many more. */
function endpointsOfPort(endpoints: KubeObject | undefined, portName: string): string {
	const all: string[] = [];
	for (const subset of (endpoints?.subsets ?? []) as Rec[]) {
		const port = ((subset.ports ?? []) as Rec[]).find(p => (p.name ?? '') === portName);
		if (!port) continue;
		for (const a of (subset.addresses ?? []) as Rec[]) all.push(`${a.ip}:${port.port}`);
	}
	if (all.length === 0) return '<none>';
	return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

/** ConfigMaps show their data; Secrets show only sizes, as kubectl does. */
function describeData(w: Writer, obj: KubeObject): void {
	w.map(0, 'Labels', obj.metadata.labels);
	w.map(0, 'Annotations', annotationsWithoutLastApplied(obj));
	if (obj.kind === 'Secret') {
		w.text('');
		w.field(0, 'Type', obj.type ?? 'Opaque');
		w.text('');
		w.text('Data');
		w.text('====');
		for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) w.text(`${k}:  ${Buffer.from(v, 'base64').length} bytes`);
		return;
	}
	w.text('');
	w.text('Data');
	w.text('====');
	for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) {
		w.text(`${k}:`);
		w.text('----');
		w.text(v);
		w.text('');
	}
	w.text('');
	w.text('BinaryData');
	w.text('====');
}

function finalizers(w: Writer, obj: KubeObject): void {
	w.field(0, 'Finalizers', `[${(obj.metadata.finalizers ?? []).join(' ')}]`);
}

/** kubectl's PersistentVolumeClaim describer, with the pods that use the claim. */
function describeClaim(w: Writer, pvc: KubeObject, usedBy: string[], now: number): void {
	const spec = (pvc.spec ?? {}) as Rec, status = (pvc.status ?? {}) as Rec;
	w.field(0, 'StorageClass', spec.storageClassName ?? '');
	if (pvc.metadata.deletionTimestamp) w.field(0, 'Status', `Terminating (lasts ${age(pvc.metadata.deletionTimestamp, now)})`);
	else w.field(0, 'Status', status.phase ?? 'Pending');
	w.field(0, 'Volume', spec.volumeName ?? '');
	w.map(0, 'Labels', pvc.metadata.labels);
	w.map(0, 'Annotations', annotationsWithoutLastApplied(pvc));
	finalizers(w, pvc);
	w.field(0, 'Capacity', status.capacity?.storage ?? '');
	w.field(0, 'Access Modes', accessModes(status.accessModes));
	w.field(0, 'VolumeMode', spec.volumeMode ?? 'Filesystem');
	w.field(0, 'Used By', usedBy.length ? usedBy.join(', ') : '<none>');
}

/** kubectl's PersistentVolume describer: the binding, the reclaim policy, the node it lives on, and its source. */
function describeVolume(w: Writer, pv: KubeObject, now: number): void {
	const spec = (pv.spec ?? {}) as Rec, status = (pv.status ?? {}) as Rec;
	w.map(0, 'Labels', pv.metadata.labels);
	w.map(0, 'Annotations', annotationsWithoutLastApplied(pv));
	finalizers(w, pv);
	w.field(0, 'StorageClass', spec.storageClassName ?? '');
	w.field(0, 'Status', pv.metadata.deletionTimestamp ? `Terminating (lasts ${age(pv.metadata.deletionTimestamp, now)})` : status.phase ?? 'Pending');
	w.field(0, 'Claim', spec.claimRef ? `${spec.claimRef.namespace}/${spec.claimRef.name}` : '');
	w.field(0, 'Reclaim Policy', spec.persistentVolumeReclaimPolicy ?? 'Retain');
	w.field(0, 'Access Modes', accessModes(spec.accessModes));
	w.field(0, 'VolumeMode', spec.volumeMode ?? 'Filesystem');
	w.field(0, 'Capacity', spec.capacity?.storage ?? '');
	const terms: Rec[] = spec.nodeAffinity?.required?.nodeSelectorTerms ?? [];
	if (terms.length === 0) w.field(0, 'Node Affinity', '<none>');
	else {
		w.field(0, 'Node Affinity');
		w.field(1, 'Required Terms');
		terms.forEach((term, i) => w.field(2, `Term ${i}`, ((term.matchExpressions ?? []) as Rec[]).map(e => `${e.key} ${e.operator.toLowerCase()} [${(e.values ?? []).join(', ')}]`).join(', ')));
	}
	w.field(0, 'Message', status.message ?? '');
	w.field(0, 'Source');
	if (spec.hostPath) {
		w.field(1, 'Type', 'HostPath (bare host directory volume)');
		w.field(1, 'Path', spec.hostPath.path);
		w.field(1, 'HostPathType', spec.hostPath.type ?? '');
	} else if (spec.local) {
		w.field(1, 'Type', 'LocalVolume (a persistent volume backed by local storage on a node)');
		w.field(1, 'Path', spec.local.path);
	} else {
		w.tree(1, Object.fromEntries(Object.entries(spec).filter(([k]) => !['capacity', 'accessModes', 'claimRef', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeMode', 'nodeAffinity', 'mountOptions'].includes(k))));
	}
}

/** kubectl's HorizontalPodAutoscaler (v2) describer: each metric as "current / target", the replica counts and the conditions. */
function describeAutoscaler(w: Writer, hpa: KubeObject): void {
	const spec = (hpa.spec ?? {}) as Rec, status = (hpa.status ?? {}) as Rec;
	w.map(0, 'Labels', hpa.metadata.labels);
	w.map(0, 'Annotations', annotationsWithoutLastApplied(hpa));
	w.field(0, 'CreationTimestamp', hpa.metadata.creationTimestamp ? new Date(hpa.metadata.creationTimestamp).toUTCString().replace('GMT', '+0000') : '');
	w.field(0, 'Reference', `${spec.scaleTargetRef?.kind}/${spec.scaleTargetRef?.name}`);
	w.field(0, 'Metrics', '( current / target )');
	const metrics: Rec[] = spec.metrics?.length ? spec.metrics : [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: 80}}}];
	metrics.forEach((m, i) => {
		const cur = status.currentMetrics?.[i] as Rec | undefined;
		if (m.type === 'Resource' || m.type === 'ContainerResource') {
			const source = m.resource ?? m.containerResource, target = source.target ?? {}, current = (cur?.resource ?? cur?.containerResource)?.current;
			if (target.averageUtilization !== undefined) {
				const have = current?.averageUtilization !== undefined ? `${current.averageUtilization}% (${current.averageValue})` : '<unknown>';
				w.field(1, `resource ${source.name} on pods  (as a percentage of request)`, `${have} / ${target.averageUtilization}%`);
			} else {
				w.field(1, `resource ${source.name} on pods`, `${current?.averageValue ?? '<unknown>'} / ${target.averageValue}`);
			}
		} else if (m.type === 'Object') {
			const target = m.object.target ?? {}, current = cur?.object?.current;
			const d = m.object.describedObject ?? {};
			const label = `"${m.object.metric?.name}" on ${d.kind}/${d.name}`;
			if (target.averageValue !== undefined) w.field(1, `${label} (target average value)`, `${current?.averageValue ?? '<unknown>'} / ${target.averageValue}`);
			else w.field(1, `${label} (target value)`, `${current?.value ?? '<unknown>'} / ${target.value}`);
		} else {
			w.field(1, `${m.type} metric`, '<unknown> / <unsupported>');
		}
	});
	w.field(0, 'Min replicas', spec.minReplicas ?? 1);
	w.field(0, 'Max replicas', spec.maxReplicas);
	if (spec.behavior) w.tree(0, {behavior: spec.behavior});
	w.field(0, `${spec.scaleTargetRef?.kind} pods`, `${status.currentReplicas ?? 0} current / ${status.desiredReplicas ?? 0} desired`);
	const conditions: Rec[] = status.conditions ?? [];
	if (conditions.length) {
		w.text('Conditions:');
		for (const line of indentedTable([['Type', 'Status', 'Reason', 'Message'], ['----', '------', '------', '-------'], ...conditions.map(c => [String(c.type), String(c.status), c.reason ?? '', c.message ?? ''])])) w.text(line);
	}
}

/** What describe prints of an object; `related` holds what else kubectl reads for it (a Service's Endpoints, the pods using a claim). */
export function describeObject(obj: KubeObject, events: KubeObject[], now = Date.now(), related: {endpoints?: KubeObject; usedBy?: string[]} = {}): string {
	const w = new Writer();
	w.field(0, 'Name', obj.metadata.name);
	if (obj.metadata.namespace) w.field(0, 'Namespace', obj.metadata.namespace);
	switch (obj.kind) {
		case 'Pod': describePod(w, obj); break;
		case 'Deployment': case 'ReplicaSet': case 'StatefulSet': case 'DaemonSet': case 'Job': case 'CronJob': describeWorkload(w, obj); break;
		case 'Service': describeService(w, obj, related.endpoints); break;
		case 'ConfigMap': case 'Secret': describeData(w, obj); break;
		case 'PersistentVolumeClaim': describeClaim(w, obj, related.usedBy ?? [], now); break;
		case 'PersistentVolume': describeVolume(w, obj, now); break;
		case 'HorizontalPodAutoscaler': describeAutoscaler(w, obj); break;
		default: {
			w.map(0, 'Labels', obj.metadata.labels);
			w.map(0, 'Annotations', annotationsWithoutLastApplied(obj));
			const {apiVersion: _a, kind: _k, metadata: _m, ...body} = obj;
			if (obj.kind === 'Namespace') w.field(0, 'Status', (obj.status as Rec)?.phase ?? 'Active');
			else w.tree(0, body);
		}
	}
	if (obj.metadata.deletionTimestamp && !obj.kind.startsWith('PersistentVolume')) w.field(0, 'Terminating Since', obj.metadata.deletionTimestamp);
	w.lines.push(...eventLines(events, now));
	return `${w.render()}\n`;
}

export function eventLines(events: KubeObject[], now: number): string[] {
	if (events.length === 0) return ['Events:\t<none>'];
	const rows = [['Type', 'Reason', 'Age', 'From', 'Message'], ['----', '------', '----', '----', '-------']];
	for (const e of events) {
		const last = (e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) as string | undefined;
		const count = Number(e.count ?? 1);
		const when = count > 1 && e.firstTimestamp ? `${age(last, now)} (x${count} over ${age(e.firstTimestamp as string, now)})` : age(last, now);
		rows.push([String(e.type ?? 'Normal'), String(e.reason ?? ''), when, String((e.source as Rec)?.component ?? e.reportingComponent ?? ''), String(e.message ?? '').trim()]);
	}
	return ['Events:', ...indentedTable(rows)];
}

/** A table under a describe heading, as kubectl's tabwriter prints Events and Conditions: indented 2, columns 2 apart. */
function indentedTable(rows: string[][]): string[] {
	const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)) + 2);
	return rows.map(r => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('')}`);
}

