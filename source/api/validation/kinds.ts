// Per-kind validation on create and update, returning apimachinery field
// errors. The API server turns a non-empty list into a 422 Invalid Status.
import {knownTimeZone, parseSchedule, scheduleZone} from '../cron.js';
import {field, type FieldError} from '../errors.js';
import {deepEqual, type KubeObject} from '../object.js';
import {parseQuantity, quantityFormatMessage} from '../quantity.js';
import {fromLabelSelector, matchesLabels} from '../selectors.js';
import {configMapKey, validateLabels} from './meta.js';
import {validatePodSpec, validPort, validPortRef} from './pod.js';

type Rec = Record<string, any>;

/** 1 MiB, the limit etcd's request size puts on ConfigMaps and Secrets. */
export const maxConfigSize = 1024 * 1024;

function nonNegative(value: unknown, path: string): FieldError[] {
	if (value === undefined) return [];
	if (!Number.isInteger(value)) return [field.invalid(path, value, 'must be an integer')];
	return (value as number) < 0 ? [field.invalid(path, value, 'must be greater than or equal to 0')] : [];
}

function intOrPercent(value: unknown, path: string): FieldError[] {
	if (value === undefined) return [];
	if (typeof value === 'number') return nonNegative(value, path);
	if (typeof value === 'string' && /^[0-9]+%$/.test(value)) return [];
	return [field.invalid(path, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
}

/** A workload's selector and template: the selector must be non-empty and select the template. */
function validateSelectorAndTemplate(spec: Rec, kind: string, restart?: string[]): FieldError[] {
	const errors: FieldError[] = [];
	const selector = spec.selector;
	const hasSelector = selector && (Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).length > 0);
	if (!hasSelector) {
		errors.push(field.required('spec.selector'));
	} else {
		errors.push(...validateLabels(selector.matchLabels, 'spec.selector.matchLabels'));
		for (const [i, e] of (selector.matchExpressions ?? []).entries()) {
			if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) errors.push(field.notSupported(`spec.selector.matchExpressions[${i}].operator`, e.operator, ['In', 'NotIn', 'Exists', 'DoesNotExist']));
		}
	}
	const template = spec.template;
	if (!template) {
		errors.push(field.required('spec.template'));
		return errors;
	}
	errors.push(...validateLabels(template.metadata?.labels, 'spec.template.metadata.labels'));
	if (hasSelector && !matchesLabels(fromLabelSelector(selector), template.metadata?.labels)) {
		errors.push(field.invalid('spec.selector', selector, `selector does not match template labels`));
	}
	// A StatefulSet's claim templates are volumes of its pods (kube-apiserver skips the pod spec here for
	// that reason, a TODO of its own; checking the union of both names a bad mount instead of letting the pod fail).
	const claims: Rec[] = kind === 'StatefulSet' ? spec.volumeClaimTemplates ?? [] : [];
	const podSpec = claims.length && template.spec ? {...template.spec, volumes: [...(template.spec.volumes ?? []).filter((v: Rec) => !claims.some(c => c.metadata?.name === v.name)), ...claims.map(c => ({name: c.metadata?.name, persistentVolumeClaim: {claimName: c.metadata?.name}}))]} : template.spec;
	errors.push(...validatePodSpec(podSpec, 'spec.template.spec', restart));
	for (const [i, c] of claims.entries()) {
		if (!c.metadata?.name) errors.push(field.required(`spec.volumeClaimTemplates[${i}].metadata.name`));
		errors.push(...validateAccessModes(c.spec?.accessModes, `spec.volumeClaimTemplates[${i}].spec.accessModes`));
		errors.push(...validateStorageSize(c.spec?.resources?.requests?.storage, `spec.volumeClaimTemplates[${i}].spec.resources[storage]`));
	}
	return errors;
}

function validateConfigData(obj: KubeObject, base64: boolean): FieldError[] {
	const errors: FieldError[] = [];
	let size = 0;
	const seen = new Set<string>();
	for (const part of ['data', 'binaryData', 'stringData'] as const) {
		const data = obj[part] as Rec | undefined;
		if (data === undefined || data === null) continue;
		if (typeof data !== 'object' || Array.isArray(data)) {
			errors.push(field.invalid(part, data, 'must be a map of string keys to string values'));
			continue;
		}
		for (const [key, value] of Object.entries(data)) {
			for (const p of configMapKey(key)) errors.push(field.invalid(`${part}[${key}]`, key, p));
			if (part !== 'stringData' && seen.has(key)) errors.push(field.invalid(`${part}[${key}]`, key, 'duplicate of key present in data'));
			seen.add(key);
			if (typeof value !== 'string') {
				errors.push(field.invalid(`${part}[${key}]`, value, 'must be a string'));
				continue;
			}
			const encoded = part === 'binaryData' || (base64 && part === 'data');
			if (encoded) {
				if (!isBase64(value)) errors.push(field.invalid(`${part}[${key}]`, '<value omitted>', 'illegal base64 data'));
				size += Buffer.from(value, 'base64').length;
			} else {
				size += Buffer.byteLength(value);
			}
		}
	}
	// kube-apiserver names the whole ConfigMap with an empty path here (": Too long"); "data" says what is too long.
	if (size > maxConfigSize) errors.push(field.tooLong('data', maxConfigSize));
	return errors;
}

export function isBase64(value: string): boolean {
	const trimmed = value.replace(/\s+/g, '');
	return /^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) && trimmed.length % 4 === 0;
}

function validateService(spec: Rec | undefined): FieldError[] {
	if (!spec) return [field.required('spec')];
	const errors: FieldError[] = [];
	const types = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
	const type = spec.type ?? 'ClusterIP';
	if (!types.includes(type)) errors.push(field.notSupported('spec.type', type, types));
	const ports: Rec[] = spec.ports ?? [];
	const headless = spec.clusterIP === 'None';
	if (ports.length === 0 && type !== 'ExternalName' && !headless) errors.push(field.required('spec.ports'));
	const names = new Set<string>();
	for (const [i, port] of ports.entries()) {
		const p = `spec.ports[${i}]`;
		if (ports.length > 1 && !port.name) errors.push(field.required(`${p}.name`));
		if (port.name) {
			if (names.has(port.name)) errors.push(field.duplicate(`${p}.name`, port.name));
			names.add(port.name);
		}
		if (!validPort(port.port)) errors.push(field.invalid(`${p}.port`, port.port, 'must be between 1 and 65535, inclusive'));
		if (port.targetPort !== undefined && !validPortRef(port.targetPort)) errors.push(field.invalid(`${p}.targetPort`, port.targetPort, 'must be between 1 and 65535, inclusive'));
		if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol)) errors.push(field.notSupported(`${p}.protocol`, port.protocol, ['SCTP', 'TCP', 'UDP']));
		if (port.nodePort !== undefined && port.nodePort !== 0) {
			if (type !== 'NodePort' && type !== 'LoadBalancer') errors.push(field.forbidden(`${p}.nodePort`, 'may not be used when `type` is \'ClusterIP\''));
			else if (!(Number.isInteger(port.nodePort) && port.nodePort >= 30000 && port.nodePort <= 32767)) {
				errors.push(field.invalid(`${p}.nodePort`, port.nodePort, 'provided port is not in the valid range. The range of valid ports is 30000-32767'));
			}
		}
	}
	if (type === 'ExternalName' && !spec.externalName) errors.push(field.required('spec.externalName'));
	if (spec.sessionAffinity !== undefined && !['None', 'ClientIP'].includes(spec.sessionAffinity)) errors.push(field.notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
	errors.push(...validateLabels(spec.selector, 'spec.selector'));
	return errors;
}

function validateIngress(spec: Rec | undefined): FieldError[] {
	if (!spec) return [field.required('spec')];
	const errors: FieldError[] = [];
	const backend = (b: Rec | undefined, p: string) => {
		if (!b) return errors.push(field.required(p));
		if (!b.service && !b.resource) return errors.push(field.invalid(p, b, 'one backend (`service` or `resource`) must be specified'));
		if (b.service) {
			if (!b.service.name) errors.push(field.required(`${p}.service.name`));
			const port = b.service.port ?? {};
			if (port.number === undefined && !port.name) errors.push(field.required(`${p}.service.port`, 'port name or number is required'));
			if (port.number !== undefined && !validPort(port.number)) errors.push(field.invalid(`${p}.service.port.number`, port.number, 'must be between 1 and 65535, inclusive'));
		}
		return 0;
	};
	if (spec.defaultBackend) backend(spec.defaultBackend, 'spec.defaultBackend');
	if (!spec.defaultBackend && !(spec.rules ?? []).length) errors.push(field.invalid('spec.rules', spec.rules ?? [], 'either `defaultBackend` or `rules` must be specified'));
	for (const [i, rule] of (spec.rules ?? []).entries()) {
		if (rule.host !== undefined && !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(rule.host)) {
			errors.push(field.invalid(`spec.rules[${i}].host`, rule.host, 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character'));
		}
		for (const [j, path] of (rule.http?.paths ?? []).entries()) {
			const p = `spec.rules[${i}].http.paths[${j}]`;
			if (!path.pathType) errors.push(field.required(`${p}.pathType`, 'pathType must be specified'));
			else if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(path.pathType)) errors.push(field.notSupported(`${p}.pathType`, path.pathType, ['Exact', 'ImplementationSpecific', 'Prefix']));
			if (path.pathType !== 'ImplementationSpecific' && path.path !== undefined && !String(path.path).startsWith('/')) errors.push(field.invalid(`${p}.path`, path.path, "must be an absolute path"));
			backend(path.backend, `${p}.backend`);
		}
	}
	for (const [i, tls] of (spec.tls ?? []).entries()) {
		if (tls.hosts !== undefined && !Array.isArray(tls.hosts)) errors.push(field.invalid(`spec.tls[${i}].hosts`, tls.hosts, 'must be a list'));
	}
	return errors;
}

const accessModes = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];

function validateStorageSize(value: unknown, path: string): FieldError[] {
	if (value === undefined) return [field.required(path)];
	const n = parseQuantity(value as string);
	if (n === undefined) return [field.invalid(path, value, quantityFormatMessage)];
	return n <= 0 ? [field.invalid(path, value, 'must be greater than zero')] : [];
}

function validateAccessModes(modes: unknown, path: string): FieldError[] {
	if (!Array.isArray(modes) || modes.length === 0) return [field.required(path, 'at least 1 access mode is required')];
	return modes.filter(m => !accessModes.includes(m)).map(m => field.notSupported(path, m, accessModes));
}

/** Validation on create, and the create-time rules that also hold on update. */
export function validateObject(obj: KubeObject): FieldError[] {
	const spec = obj.spec as Rec | undefined;
	switch (obj.kind) {
		case 'Pod':
			return validatePodSpec(spec, 'spec');
		case 'ReplicaSet':
		case 'Deployment':
		case 'StatefulSet': {
			if (!spec) return [field.required('spec')];
			const errors = [...nonNegative(spec.replicas, 'spec.replicas'), ...validateSelectorAndTemplate(spec, obj.kind, obj.kind === 'Deployment' || obj.kind === 'ReplicaSet' || obj.kind === 'StatefulSet' ? ['Always'] : undefined)];
			if (obj.kind === 'Deployment') {
				const strategy = spec.strategy ?? {};
				if (strategy.type !== undefined && !['RollingUpdate', 'Recreate'].includes(strategy.type)) errors.push(field.notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
				errors.push(...intOrPercent(strategy.rollingUpdate?.maxSurge, 'spec.strategy.rollingUpdate.maxSurge'));
				errors.push(...intOrPercent(strategy.rollingUpdate?.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'));
				if (strategy.type === 'Recreate' && strategy.rollingUpdate) errors.push(field.forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\''));
				const surge = strategy.rollingUpdate?.maxSurge, unavail = strategy.rollingUpdate?.maxUnavailable;
				if ((surge === 0 || surge === '0%') && (unavail === 0 || unavail === '0%')) errors.push(field.invalid('spec.strategy.rollingUpdate.maxUnavailable', unavail, 'may not be 0 when `maxSurge` is 0'));
				errors.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
				if (spec.progressDeadlineSeconds !== undefined && !(Number.isInteger(spec.progressDeadlineSeconds) && spec.progressDeadlineSeconds > (spec.minReadySeconds ?? 0))) {
					errors.push(field.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
				}
			}
			errors.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
			if (obj.kind === 'StatefulSet' && spec.podManagementPolicy !== undefined && !['OrderedReady', 'Parallel'].includes(spec.podManagementPolicy)) {
				errors.push(field.notSupported('spec.podManagementPolicy', spec.podManagementPolicy, ['OrderedReady', 'Parallel']));
			}
			return errors;
		}
		case 'DaemonSet':
			if (!spec) return [field.required('spec')];
			return validateSelectorAndTemplate(spec, obj.kind, ['Always']);
		case 'Job': {
			if (!spec) return [field.required('spec')];
			const errors = [
				...nonNegative(spec.parallelism, 'spec.parallelism'),
				...nonNegative(spec.completions, 'spec.completions'),
				...nonNegative(spec.backoffLimit, 'spec.backoffLimit'),
			];
			if (spec.activeDeadlineSeconds !== undefined && !(Number.isInteger(spec.activeDeadlineSeconds) && spec.activeDeadlineSeconds > 0)) {
				errors.push(field.invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be greater than 0'));
			}
			if (!spec.template) errors.push(field.required('spec.template'));
			else {
				errors.push(...validatePodSpec(spec.template.spec, 'spec.template.spec', ['OnFailure', 'Never']));
				if (spec.template.spec && spec.template.spec.restartPolicy === undefined) errors.push(field.required('spec.template.spec.restartPolicy', 'valid values: "OnFailure", "Never"'));
			}
			return errors;
		}
		case 'CronJob': {
			if (!spec) return [field.required('spec')];
			const errors: FieldError[] = [];
			if (!spec.schedule) errors.push(field.required('spec.schedule'));
			else {
				try {
					parseSchedule(spec.schedule);
				} catch (error) {
					errors.push(field.invalid('spec.schedule', spec.schedule, (error as Error).message));
				}
				if (spec.timeZone !== undefined && scheduleZone(spec.schedule)) errors.push(field.invalid('spec.schedule', spec.schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
			}
			if (spec.timeZone !== undefined && spec.timeZone !== null && (typeof spec.timeZone !== 'string' || !knownTimeZone(spec.timeZone))) {
				errors.push(field.invalid('spec.timeZone', spec.timeZone, `unknown time zone ${spec.timeZone}`));
			}
			if (spec.startingDeadlineSeconds !== undefined && spec.startingDeadlineSeconds !== null) errors.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
			if (spec.concurrencyPolicy !== undefined && !['Allow', 'Forbid', 'Replace'].includes(spec.concurrencyPolicy)) errors.push(field.notSupported('spec.concurrencyPolicy', spec.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
			errors.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
			errors.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
			const jobSpec = spec.jobTemplate?.spec;
			if (!jobSpec?.template) errors.push(field.required('spec.jobTemplate.spec.template'));
			else {
				errors.push(...validatePodSpec(jobSpec.template.spec, 'spec.jobTemplate.spec.template.spec', ['OnFailure', 'Never']));
				if (jobSpec.template.spec && jobSpec.template.spec.restartPolicy === undefined) errors.push(field.required('spec.jobTemplate.spec.template.spec.restartPolicy', 'valid values: "OnFailure", "Never"'));
			}
			return errors;
		}
		case 'Service':
			return validateService(spec);
		case 'Ingress':
			return validateIngress(spec);
		case 'ConfigMap':
			return validateConfigData(obj, false);
		case 'Secret':
			return validateConfigData(obj, true);
		case 'PersistentVolumeClaim': {
			if (!spec) return [field.required('spec')];
			return [
				...validateAccessModes(spec.accessModes, 'spec.accessModes'),
				...validateStorageSize(spec.resources?.requests?.storage, 'spec.resources[storage]'),
			];
		}
		case 'PersistentVolume': {
			if (!spec) return [field.required('spec')];
			const errors = [...validateAccessModes(spec.accessModes, 'spec.accessModes'), ...validateStorageSize(spec.capacity?.storage, 'spec.capacity[storage]')];
			const sources = ['hostPath', 'local', 'nfs', 'csi'].filter(s => spec[s]);
			if (sources.length === 0) errors.push(field.required('spec', 'must specify a volume type'));
			if (spec.persistentVolumeReclaimPolicy !== undefined && !['Retain', 'Delete', 'Recycle'].includes(spec.persistentVolumeReclaimPolicy)) {
				errors.push(field.notSupported('spec.persistentVolumeReclaimPolicy', spec.persistentVolumeReclaimPolicy, ['Delete', 'Recycle', 'Retain']));
			}
			return errors;
		}
		case 'StorageClass': {
			const errors: FieldError[] = [];
			if (!obj.provisioner) errors.push(field.required('provisioner'));
			if (obj.reclaimPolicy !== undefined && !['Retain', 'Delete'].includes(obj.reclaimPolicy as string)) errors.push(field.notSupported('reclaimPolicy', obj.reclaimPolicy, ['Delete', 'Retain']));
			if (obj.volumeBindingMode !== undefined && !['Immediate', 'WaitForFirstConsumer'].includes(obj.volumeBindingMode as string)) errors.push(field.notSupported('volumeBindingMode', obj.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
			return errors;
		}
		case 'HorizontalPodAutoscaler': {
			if (!spec) return [field.required('spec')];
			const errors: FieldError[] = [];
			if (!spec.scaleTargetRef?.kind) errors.push(field.required('spec.scaleTargetRef.kind'));
			if (!spec.scaleTargetRef?.name) errors.push(field.required('spec.scaleTargetRef.name'));
			if (!(Number.isInteger(spec.maxReplicas) && spec.maxReplicas >= 1)) errors.push(field.invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to 1'));
			if (spec.minReplicas !== undefined) {
				if (!(Number.isInteger(spec.minReplicas) && spec.minReplicas >= 1)) errors.push(field.invalid('spec.minReplicas', spec.minReplicas, 'must be greater than or equal to 1'));
				else if (spec.minReplicas > spec.maxReplicas) errors.push(field.invalid('spec.maxReplicas', spec.maxReplicas, '`maxReplicas` must be greater than or equal to `minReplicas`'));
			}
			return errors;
		}
		case 'Role':
		case 'ClusterRole':
			return validateRules(obj.rules);
		case 'RoleBinding':
		case 'ClusterRoleBinding':
			return validateBinding(obj);
		case 'Node': {
			const errors: FieldError[] = [];
			for (const [i, t] of ((spec?.taints ?? []) as Rec[]).entries()) {
				if (!t.key) errors.push(field.required(`spec.taints[${i}].key`));
				if (!['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) errors.push(field.notSupported(`spec.taints[${i}].effect`, t.effect, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']));
			}
			return errors;
		}
		default:
			return [];
	}
}

function immutable(path: string, oldValue: unknown, newValue: unknown): FieldError[] {
	return deepEqual(oldValue, newValue) ? [] : [field.invalid(path, newValue, 'field is immutable')];
}

/** Rules that compare an update with the stored object: immutable fields. */
export function validateUpdate(next: KubeObject, old: KubeObject): FieldError[] {
	const n = (next.spec ?? {}) as Rec, o = (old.spec ?? {}) as Rec;
	switch (next.kind) {
		case 'Deployment':
		case 'ReplicaSet':
		case 'StatefulSet':
		case 'DaemonSet':
		case 'Job': {
			const errors = immutable('spec.selector', o.selector, n.selector);
			if (next.kind === 'StatefulSet') {
				for (const f of ['serviceName', 'volumeClaimTemplates', 'podManagementPolicy']) {
					if (!deepEqual(o[f], n[f])) errors.push(field.forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
				}
			}
			if (next.kind === 'Job') errors.push(...immutable('spec.template', o.template, n.template), ...immutable('spec.completions', o.completions, n.completions));
			return errors;
		}
		case 'PersistentVolumeClaim': {
			// Binding sets volumeName (and a class may be set once) on a claim that had none.
			const {resources: _n, ...restNew} = n;
			const {resources: _o, ...restOld}: Rec = {...o, ...(o.volumeName || n.volumeName === undefined ? {} : {volumeName: n.volumeName}), ...(o.storageClassName !== undefined || n.storageClassName === undefined ? {} : {storageClassName: n.storageClassName})};
			const errors: FieldError[] = [];
			if (!deepEqual(restNew, restOld) || !deepEqual(_n?.limits, _o?.limits)) {
				errors.push(field.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
			}
			const oldSize = parseQuantity(_o?.requests?.storage ?? '0') ?? 0, newSize = parseQuantity(_n?.requests?.storage ?? '0') ?? 0;
			if (newSize < oldSize) errors.push(field.forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
			return errors;
		}
		case 'PersistentVolume':
			return [...immutable('spec.hostPath', o.hostPath, n.hostPath), ...immutable('spec.local', o.local, n.local)];
		case 'StorageClass':
			return [
				...immutable('parameters', old.parameters, next.parameters),
				...immutable('provisioner', old.provisioner, next.provisioner),
				...immutable('reclaimPolicy', old.reclaimPolicy, next.reclaimPolicy),
				...immutable('volumeBindingMode', old.volumeBindingMode, next.volumeBindingMode),
			];
		case 'Secret':
		case 'ConfigMap':
			if (old.immutable === true) {
				const errors: FieldError[] = [];
				if (!deepEqual(old.data, next.data) || !deepEqual(old.binaryData, next.binaryData)) errors.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
				if (next.immutable !== true) errors.push(field.forbidden('immutable', 'field is immutable when `immutable` is set'));
				return errors;
			}
			return [];
		case 'Service': {
			const errors: FieldError[] = [];
			if (o.clusterIP && n.clusterIP !== undefined && n.clusterIP !== '' && n.clusterIP !== o.clusterIP) errors.push(field.invalid('spec.clusterIP', n.clusterIP, 'field is immutable'));
			return errors;
		}
		case 'RoleBinding':
		case 'ClusterRoleBinding':
			// pkg/apis/rbac/validation ValidateRoleBindingUpdate.
			return deepEqual(next.roleRef, old.roleRef) ? [] : [field.invalid('roleRef', next.roleRef, 'cannot change roleRef')];
		case 'Pod': {
			// Only image, activeDeadlineSeconds and tolerations additions may change on a pod.
			const strip = (spec: Rec) => ({...spec, containers: (spec.containers ?? []).map((c: Rec) => ({...c, image: undefined})), activeDeadlineSeconds: undefined, tolerations: undefined, nodeName: undefined});
			if (!deepEqual(strip(n), strip(o)) || (o.nodeName && n.nodeName !== o.nodeName)) {
				return [field.forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)')];
			}
			return [];
		}
		default:
			return [];
	}
}

/** PolicyRules as pkg/apis/rbac/validation ValidatePolicyRule checks them. */
function validateRules(rules: unknown): FieldError[] {
	const errors: FieldError[] = [];
	if (rules !== undefined && !Array.isArray(rules)) return [field.invalid('rules', rules, 'must be a list')];
	for (const [i, r] of ((rules ?? []) as Rec[]).entries()) {
		const at = `rules[${i}]`;
		if (!r?.verbs?.length) errors.push(field.required(`${at}.verbs`, 'verbs must contain at least one value'));
		if (r?.nonResourceURLs?.length) {
			if (r.apiGroups?.length || r.resources?.length || r.resourceNames?.length) errors.push(field.invalid(`${at}.nonResourceURLs`, r.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
			continue;
		}
		if (!r?.apiGroups?.length) errors.push(field.required(`${at}.apiGroups`, 'resource rules must supply at least one api group'));
		if (!r?.resources?.length) errors.push(field.required(`${at}.resources`, 'resource rules must supply at least one resource'));
	}
	return errors;
}

const subjectKinds = ['ServiceAccount', 'User', 'Group'];

function validateBinding(obj: KubeObject): FieldError[] {
	const errors: FieldError[] = [];
	const ref = obj.roleRef as Rec | undefined;
	const kinds = obj.kind === 'RoleBinding' ? ['Role', 'ClusterRole'] : ['ClusterRole'];
	if (!ref?.name) errors.push(field.required('roleRef.name'));
	if (ref?.apiGroup !== 'rbac.authorization.k8s.io') errors.push(field.notSupported('roleRef.apiGroup', ref?.apiGroup ?? '', ['rbac.authorization.k8s.io']));
	if (!kinds.includes(ref?.kind)) errors.push(field.notSupported('roleRef.kind', ref?.kind ?? '', kinds));
	for (const [i, sub] of ((obj.subjects ?? []) as Rec[]).entries()) {
		const at = `subjects[${i}]`;
		if (!sub?.name) errors.push(field.required(`${at}.name`));
		if (!subjectKinds.includes(sub?.kind)) errors.push(field.notSupported(`${at}.kind`, sub?.kind ?? '', subjectKinds));
		else if (sub.kind === 'ServiceAccount' && !sub.namespace && obj.kind === 'ClusterRoleBinding') errors.push(field.required(`${at}.namespace`));
	}
	return errors;
}
