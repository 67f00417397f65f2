// Pod spec rules (k8s.io/kubernetes/pkg/apis/core/validation), the subset a
// user meets first: containers, ports, env, volumes, probes, resources.
import {field, type FieldError} from '../errors.js';
import {deepEqual} from '../object.js';
import {parseQuantity, quantityFormatMessage} from '../quantity.js';
import {dns1123Label, dns1123Subdomain, validateLabels} from './meta.js';

type Rec = Record<string, any>;

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const protocols = ['TCP', 'UDP', 'SCTP'];
const envNameRe = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const volumeSources = ['emptyDir', 'hostPath', 'configMap', 'secret', 'persistentVolumeClaim', 'projected', 'downwardAPI', 'local'];

export function validPort(value: unknown): boolean {
	return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

/** An IntOrString port reference: a number 1-65535 or an IANA_SVC_NAME. */
export function validPortRef(value: unknown): boolean {
	if (typeof value === 'number') return validPort(value);
	return typeof value === 'string' && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) && value.length <= 15 && /[a-z]/.test(value);
}

/**
 * validateLocalDescendingPath: relative, and no '..' element (split on '/',
 * after turning '\\' into '/', as filepath.ToSlash does on the node's OS).
 */
function localDescendingPath(value: string, path: string): FieldError[] {
	const errors: FieldError[] = [];
	if (value.startsWith('/')) errors.push(field.invalid(path, value, 'must be a relative path'));
	if (value.split('/').includes('..')) errors.push(field.invalid(path, value, "must not contain '..'"));
	return errors;
}

/** ValidateLocalNonReservedPath: also not starting with '..' (a "..data" file would shadow the atomic writer's own). */
function localNonReservedPath(value: string, path: string): FieldError[] {
	const errors = localDescendingPath(value, path);
	if (value.startsWith('..') && !value.startsWith('../')) errors.push(field.invalid(path, value, "must not start with '..'"));
	return errors;
}

/** validateKeyToPath: items of configMap and secret volumes and projections. */
function validateKeyToPaths(items: unknown, path: string): FieldError[] {
	const errors: FieldError[] = [];
	for (const [i, item] of (Array.isArray(items) ? items : []).entries()) {
		const p = `${path}.items[${i}]`;
		if (!item?.key) errors.push(field.required(`${p}.key`));
		if (!item?.path) errors.push(field.required(`${p}.path`));
		errors.push(...localNonReservedPath(String(item?.path ?? ''), `${p}.path`));
	}
	return errors;
}

/**
 * validateDownwardAPIVolumeFile. kube-apiserver passes it the volume's path,
 * not the item's, so the field it names is ".downwardAPI.path" for every item.
 */
function validateDownwardAPIFiles(items: unknown, path: string): FieldError[] {
	const errors: FieldError[] = [];
	for (const item of Array.isArray(items) ? items : []) {
		if (!item?.path) errors.push(field.required(`${path}.path`));
		errors.push(...localNonReservedPath(String(item?.path ?? ''), `${path}.path`));
	}
	return errors;
}

/** The paths inside configMap, secret, downwardAPI and projected volumes: they must stay inside the volume. */
function validateVolumePaths(v: Rec, p: string): FieldError[] {
	const errors: FieldError[] = [];
	if (v.configMap) errors.push(...validateKeyToPaths(v.configMap.items, `${p}.configMap`));
	if (v.secret) errors.push(...validateKeyToPaths(v.secret.items, `${p}.secret`));
	if (v.downwardAPI) errors.push(...validateDownwardAPIFiles(v.downwardAPI.items, `${p}.downwardAPI`));
	for (const [i, source] of (Array.isArray(v.projected?.sources) ? v.projected.sources : []).entries()) {
		const s = `${p}.projected.sources[${i}]`;
		if (source?.configMap) errors.push(...validateKeyToPaths(source.configMap.items, `${s}.configMap`));
		if (source?.secret) errors.push(...validateKeyToPaths(source.secret.items, `${s}.secret`));
		if (source?.downwardAPI) errors.push(...validateDownwardAPIFiles(source.downwardAPI.items, `${s}.downwardAPI`));
		// The token's path is checked against the projected volume's own path (fldPath.Child("path")), as kube-apiserver does.
		if (source?.serviceAccountToken) {
			if (!source.serviceAccountToken.path) errors.push(field.required(`${p}.projected.path`));
			else errors.push(...localNonReservedPath(String(source.serviceAccountToken.path), `${p}.projected.path`));
			// Undefined is an hour (the kubelet asks for that); the kubelet refreshes at 80% of it.
			const seconds = source.serviceAccountToken.expirationSeconds;
			if (seconds !== undefined) errors.push(...tokenLifeErrors(`${s}.serviceAccountToken.expirationSeconds`, seconds));
		}
	}
	return errors;
}

/** A token's requested life, as kube-apiserver bounds it (projected volumes and TokenRequest alike). */
export function tokenLifeErrors(path: string, seconds: unknown): FieldError[] {
	if (typeof seconds !== 'number' || seconds < 600) return [field.invalid(path, seconds, 'may not specify a duration less than 10 minutes')];
	if (seconds > 2 ** 32) return [field.invalid(path, seconds, 'may not specify a duration larger than 2^32 seconds')];
	return [];
}

function validateResources(resources: Rec | undefined, path: string): FieldError[] {
	const errors: FieldError[] = [];
	for (const part of ['limits', 'requests'] as const) {
		for (const [name, value] of Object.entries(resources?.[part] ?? {})) {
			const n = parseQuantity(value as string);
			if (n === undefined) errors.push(field.invalid(`${path}.${part}[${name}]`, value, quantityFormatMessage));
			else if (n < 0) errors.push(field.invalid(`${path}.${part}[${name}]`, value, 'must be greater than or equal to 0'));
		}
	}
	for (const [name, request] of Object.entries(resources?.requests ?? {})) {
		const limit = resources?.limits?.[name];
		if (limit === undefined) continue;
		const r = parseQuantity(request as string), l = parseQuantity(limit);
		if (r !== undefined && l !== undefined && r > l) {
			errors.push(field.invalid(`${path}.requests`, request, `must be less than or equal to ${name} limit of ${limit}`));
		}
	}
	return errors;
}

function validateProbe(probe: Rec | undefined, path: string): FieldError[] {
	if (!probe) return [];
	const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter(h => probe[h]);
	const errors: FieldError[] = [];
	if (handlers.length === 0) errors.push(field.required(path, 'must specify a handler type'));
	if (handlers.length > 1) errors.push(field.forbidden(`${path}.${handlers[1]}`, 'may not specify more than 1 handler type'));
	if (probe.httpGet && !validPortRef(probe.httpGet.port)) errors.push(field.invalid(`${path}.httpGet.port`, probe.httpGet.port, 'must contain a valid port'));
	if (probe.tcpSocket && !validPortRef(probe.tcpSocket.port)) errors.push(field.invalid(`${path}.tcpSocket.port`, probe.tcpSocket.port, 'must contain a valid port'));
	if (probe.exec && !(Array.isArray(probe.exec.command) && probe.exec.command.length > 0)) errors.push(field.required(`${path}.exec.command`));
	for (const k of ['periodSeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold']) {
		if (probe[k] !== undefined && !(Number.isInteger(probe[k]) && probe[k] >= 1)) errors.push(field.invalid(`${path}.${k}`, probe[k], 'must be greater than or equal to 1'));
	}
	if (probe.initialDelaySeconds !== undefined && !(Number.isInteger(probe.initialDelaySeconds) && probe.initialDelaySeconds >= 0)) {
		errors.push(field.invalid(`${path}.initialDelaySeconds`, probe.initialDelaySeconds, 'must be greater than or equal to 0'));
	}
	return errors;
}

function validateContainer(c: Rec, path: string, volumeNames: Set<string>): FieldError[] {
	const errors: FieldError[] = [];
	if (!c.name) errors.push(field.required(`${path}.name`));
	else for (const p of dns1123Label(String(c.name))) errors.push(field.invalid(`${path}.name`, c.name, p));
	if (!c.image) errors.push(field.required(`${path}.image`));
	for (const k of ['command', 'args'] as const) {
		if (c[k] !== undefined && !(Array.isArray(c[k]) && c[k].every((a: unknown) => typeof a === 'string'))) {
			errors.push(field.invalid(`${path}.${k}`, c[k], 'must be a list of strings'));
		}
	}
	const portNames = new Set<string>();
	for (const [i, port] of (c.ports ?? []).entries()) {
		const p = `${path}.ports[${i}]`;
		if (!validPort(port.containerPort)) errors.push(field.invalid(`${p}.containerPort`, port.containerPort, 'must be between 1 and 65535, inclusive'));
		if (port.hostPort !== undefined && port.hostPort !== 0 && !validPort(port.hostPort)) errors.push(field.invalid(`${p}.hostPort`, port.hostPort, 'must be between 1 and 65535, inclusive'));
		if (port.protocol !== undefined && !protocols.includes(port.protocol)) errors.push(field.notSupported(`${p}.protocol`, port.protocol, protocols));
		if (port.name !== undefined) {
			if (!validPortRef(port.name) || typeof port.name !== 'string') errors.push(field.invalid(`${p}.name`, port.name, 'must be no more than 15 characters, contain only lowercase alphanumeric characters or \'-\', and contain at least one letter'));
			if (portNames.has(port.name)) errors.push(field.duplicate(`${p}.name`, port.name));
			portNames.add(port.name);
		}
	}
	for (const [i, env] of (c.env ?? []).entries()) {
		const p = `${path}.env[${i}]`;
		if (!env.name) errors.push(field.required(`${p}.name`));
		else if (!envNameRe.test(env.name)) errors.push(field.invalid(`${p}.name`, env.name, "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"));
		if (env.value !== undefined && env.valueFrom !== undefined) errors.push(field.invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
		if (env.valueFrom) {
			const sources = ['configMapKeyRef', 'secretKeyRef', 'fieldRef', 'resourceFieldRef'].filter(s => env.valueFrom[s]);
			if (sources.length !== 1) errors.push(field.invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time'));
			for (const s of ['configMapKeyRef', 'secretKeyRef'] as const) {
				const ref = env.valueFrom[s];
				if (ref && !ref.key) errors.push(field.required(`${p}.valueFrom.${s}.key`));
				if (ref && !ref.name) errors.push(field.required(`${p}.valueFrom.${s}.name`));
			}
			if (env.valueFrom.fieldRef && !env.valueFrom.fieldRef.fieldPath) errors.push(field.required(`${p}.valueFrom.fieldRef.fieldPath`));
		}
	}
	for (const [i, from] of (c.envFrom ?? []).entries()) {
		const refs = ['configMapRef', 'secretRef'].filter(s => from[s]);
		if (refs.length !== 1) errors.push(field.invalid(`${path}.envFrom[${i}]`, '', 'must specify one of: `configMapRef` or `secretRef`'));
		for (const r of refs) if (!from[r].name) errors.push(field.required(`${path}.envFrom[${i}].${r}.name`));
	}
	const mountPaths = new Set<string>();
	for (const [i, m] of (c.volumeMounts ?? []).entries()) {
		const p = `${path}.volumeMounts[${i}]`;
		if (!m.name) errors.push(field.required(`${p}.name`));
		else if (!volumeNames.has(m.name)) errors.push(field.notFound(`${p}.name`, m.name));
		if (!m.mountPath) errors.push(field.required(`${p}.mountPath`));
		else if (mountPaths.has(m.mountPath)) errors.push(field.invalid(`${p}.mountPath`, m.mountPath, 'must be unique'));
		mountPaths.add(m.mountPath);
		// ValidateVolumeMounts names these on the list (volumeMounts.subPath), without the index: kube-apiserver's paths, kept.
		if (m.subPath) errors.push(...localDescendingPath(String(m.subPath), `${path}.volumeMounts.subPath`));
		if (m.subPathExpr) {
			if (m.subPath) errors.push(field.invalid(`${p}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
			errors.push(...localDescendingPath(String(m.subPathExpr), `${path}.volumeMounts.subPathExpr`));
		}
	}
	errors.push(...validateResources(c.resources, `${path}.resources`));
	errors.push(...validateProbe(c.livenessProbe, `${path}.livenessProbe`));
	errors.push(...validateProbe(c.readinessProbe, `${path}.readinessProbe`));
	errors.push(...validateProbe(c.startupProbe, `${path}.startupProbe`));
	if (c.livenessProbe?.successThreshold !== undefined && c.livenessProbe.successThreshold !== 1) {
		errors.push(field.invalid(`${path}.livenessProbe.successThreshold`, c.livenessProbe.successThreshold, 'must be 1'));
	}
	return errors;
}

export function validatePodSpec(spec: Rec | undefined, path: string, allowedRestart = restartPolicies): FieldError[] {
	if (!spec || typeof spec !== 'object') return [field.required(path)];
	const errors: FieldError[] = [];
	const volumeNames = new Set<string>();
	for (const [i, v] of (spec.volumes ?? []).entries()) {
		const p = `${path}.volumes[${i}]`;
		if (!v.name) errors.push(field.required(`${p}.name`));
		else {
			for (const problem of dns1123Label(v.name)) errors.push(field.invalid(`${p}.name`, v.name, problem));
			if (volumeNames.has(v.name)) errors.push(field.duplicate(`${p}.name`, v.name));
			volumeNames.add(v.name);
		}
		const sources = volumeSources.filter(s => v[s] !== undefined);
		if (sources.length === 0) errors.push(field.required(p, 'must specify a volume type'));
		if (sources.length > 1) errors.push(field.forbidden(`${p}.${sources[1]}`, 'may not specify more than 1 volume type'));
		if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) errors.push(field.required(`${p}.persistentVolumeClaim.claimName`));
		if (v.configMap && !v.configMap.name) errors.push(field.required(`${p}.configMap.name`));
		if (v.secret && !v.secret.secretName) errors.push(field.required(`${p}.secret.secretName`));
		if (v.hostPath && !v.hostPath.path) errors.push(field.required(`${p}.hostPath.path`));
		errors.push(...validateVolumePaths(v, p));
	}
	const containers = spec.containers;
	if (!Array.isArray(containers) || containers.length === 0) errors.push(field.required(`${path}.containers`));
	const names = new Set<string>();
	for (const [list, items] of [['initContainers', spec.initContainers ?? []], ['containers', containers ?? []]] as const) {
		for (const [i, c] of (items as Rec[]).entries()) {
			errors.push(...validateContainer(c, `${path}.${list}[${i}]`, volumeNames));
			if (c.name && names.has(c.name)) errors.push(field.duplicate(`${path}.${list}[${i}].name`, c.name));
			names.add(c.name);
		}
	}
	if (spec.restartPolicy !== undefined && !allowedRestart.includes(spec.restartPolicy)) {
		errors.push(field.notSupported(`${path}.restartPolicy`, spec.restartPolicy, allowedRestart));
	}
	if (spec.terminationGracePeriodSeconds !== undefined && !(Number.isInteger(spec.terminationGracePeriodSeconds) && spec.terminationGracePeriodSeconds >= 0)) {
		errors.push(field.invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
	}
	errors.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
	if (spec.nodeName) for (const p of dns1123Subdomain(spec.nodeName)) errors.push(field.invalid(`${path}.nodeName`, spec.nodeName, p));
	for (const [i, t] of (spec.tolerations ?? []).entries()) {
		if (t.operator !== undefined && !['Exists', 'Equal'].includes(t.operator)) errors.push(field.notSupported(`${path}.tolerations[${i}].operator`, t.operator, ['Equal', 'Exists']));
	}
	return errors;
}

/** Go's reflect IsZero, as the validation asks it of a field that may not be set: kubectl sends `resources: {}`. */
function isZero(value: unknown): boolean {
	if (value === undefined || value === null || value === '' || value === 0 || value === false) return true;
	if (Array.isArray(value)) return value.length === 0;
	return typeof value === 'object' && Object.values(value as Rec).every(isZero);
}

/** Fields an ephemeral container may not set (EphemeralContainerCommon's, that a debugging container has no use for). */
const notForEphemeral = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resources', 'resizePolicy', 'restartPolicy'];

/**
 * pods/ephemeralcontainers: a pod's ephemeral containers may be added to, never removed or changed
 * (ValidatePodEphemeralContainersUpdate), and a new one is a container with a name no other of the
 * pod's containers has, none of the fields above, and a targetContainerName that names one of them.
 */
export function ephemeralContainerErrors(old: Rec, next: Rec): FieldError[] {
	const errors: FieldError[] = [];
	const before = ((old.spec as Rec)?.ephemeralContainers ?? []) as Rec[];
	const after = ((next.spec as Rec)?.ephemeralContainers ?? []) as Rec[];
	if (!Array.isArray(after)) return [field.invalid('spec.ephemeralContainers', after, 'must be a list')];
	for (const [i, c] of before.entries()) {
		const now = after.find(e => e?.name === c.name);
		if (!now) errors.push(field.forbidden(`spec.ephemeralContainers[${i}]`, `existing ephemeral containers ${JSON.stringify(c.name)} may not be removed`));
		else if (!deepEqual(now, c)) errors.push(field.forbidden(`spec.ephemeralContainers[${i}]`, `existing ephemeral containers ${JSON.stringify(c.name)} may not be changed`));
	}
	const spec = (next.spec ?? {}) as Rec;
	const regular = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c: Rec) => c.name);
	const names = new Set<string>(regular);
	const volumeNames = new Set<string>(((spec.volumes ?? []) as Rec[]).map(v => v.name));
	for (const [i, c] of after.entries()) {
		const p = `spec.ephemeralContainers[${i}]`;
		if (before.some(e => e.name === c?.name)) {
			names.add(c.name);
			continue;
		}
		errors.push(...validateContainer(c, p, volumeNames));
		if (c?.name && names.has(c.name)) errors.push(field.duplicate(`${p}.name`, c.name));
		names.add(c?.name);
		for (const f of notForEphemeral) if (!isZero(c?.[f])) errors.push(field.forbidden(`${p}.${f}`, 'cannot be set for an Ephemeral Container'));
		if (c?.targetContainerName !== undefined && !regular.includes(c.targetContainerName)) errors.push(field.notFound(`${p}.targetContainerName`, c.targetContainerName));
	}
	return errors;
}
