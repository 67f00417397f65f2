// Kubernetes' protobuf wire format for request bodies, as kube-apiserver
// reads it (k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the magic
// bytes "k8s\0", then a runtime.Unknown {1 typeMeta {1 apiVersion, 2 kind},
// 2 raw (the object's own message), 3 contentEncoding, 4 contentType}. The
// object is decoded with protobufjs against the official generated.proto
// files (protos/, data with their source and licence) and turned into the JSON
// form the rest of the API takes, with the types whose JSON is not their
// message's: Time and MicroTime (RFC 3339), Quantity and IntOrString (a
// string or a number), RawExtension (embedded JSON), Duration, and bytes
// (base64). kubectl 1.32 and newer sends these for its typed requests
// (create deployment|job|cronjob|..., autoscale); answers stay JSON, which
// its Accept header allows.
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import protobuf from 'protobufjs';

type Rec = Record<string, any>;

const protoRoot = fileURLToPath(new URL('../../../../protos/', import.meta.url));
export const protobufMagic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Message packages per API group ('' is core). */
const groupPackages: Record<string, string> = {
	'': 'k8s.io.api.core', apps: 'k8s.io.api.apps', batch: 'k8s.io.api.batch', autoscaling: 'k8s.io.api.autoscaling',
	'networking.k8s.io': 'k8s.io.api.networking', 'rbac.authorization.k8s.io': 'k8s.io.api.rbac', 'storage.k8s.io': 'k8s.io.api.storage',
	policy: 'k8s.io.api.policy', 'authentication.k8s.io': 'k8s.io.api.authentication', 'authorization.k8s.io': 'k8s.io.api.authorization',
	'discovery.k8s.io': 'k8s.io.api.discovery', 'coordination.k8s.io': 'k8s.io.api.coordination', 'scheduling.k8s.io': 'k8s.io.api.scheduling',
};

const files = [
	'core/v1', 'apps/v1', 'batch/v1', 'autoscaling/v1', 'autoscaling/v2', 'networking/v1', 'rbac/v1', 'storage/v1', 'policy/v1',
	'authentication/v1', 'authorization/v1', 'discovery/v1', 'coordination/v1', 'scheduling/v1',
].map(f => `k8s.io/api/${f}/generated.proto`);

let root: protobuf.Root | undefined;

/** The definitions, parsed once, on the first protobuf request (about 300 ms and 20 MB, so not before one comes). */
function definitions(): protobuf.Root {
	if (root) return root;
	const r = new protobuf.Root();
	// Imports are written as Go import paths; they are files under protos/.
	r.resolvePath = (_origin, target) => path.join(protoRoot, target);
	r.loadSync(files, {keepCase: true});
	r.resolveAll();
	return (root = r);
}

export class ProtobufError extends Error {}

/** The apiVersion and kind a body names, and the object as JSON. */
export function decodeProtobuf(buf: Buffer): Rec {
	if (buf.length < 4 || !buf.subarray(0, 4).equals(protobufMagic)) throw new ProtobufError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
	const defs = definitions();
	const unknown = defs.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown').decode(buf.subarray(4)) as unknown as Rec;
	const apiVersion: string = unknown.typeMeta?.apiVersion ?? '';
	const kind: string = unknown.typeMeta?.kind ?? '';
	if (unknown.contentEncoding) throw new ProtobufError(`content encoding ${JSON.stringify(unknown.contentEncoding)} is not supported`);
	const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
	const pkg = groupPackages[group];
	let type: protobuf.Type | undefined;
	try {
		type = pkg ? defs.lookupType(`${pkg}.${version}.${kind}`) : undefined;
	} catch {
		type = undefined;
	}
	if (!type) throw new ProtobufError(`no kind "${kind}" is registered for version "${apiVersion}"`);
	const message = type.decode(unknown.raw ?? new Uint8Array());
	return {apiVersion, kind, ...toJson(type, message as unknown as Rec)};
}

const seconds = (value: unknown) => Number(value ?? 0);

/**
 * Go's generated code writes every field that is not a pointer, set or not,
 * so "", 0 and false arrive for fields the client never set; kube-apiserver's
 * Go structs cannot tell them from unset either, and its JSON omits them
 * (omitempty). Pointer fields are written only when set, and there 0 and false
 * mean something: these are kept (the API's pointer ints and bools; a pointer
 * string set to "" is the one case lost).
 */
const meaningfulZero = new Set([
	// *int32 / *int64
	'replicas', 'minReplicas', 'parallelism', 'completions', 'backoffLimit', 'backoffLimitPerIndex', 'maxFailedIndexes', 'activeDeadlineSeconds',
	'terminationGracePeriodSeconds', 'ttlSecondsAfterFinished', 'startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit',
	'revisionHistoryLimit', 'progressDeadlineSeconds', 'partition', 'runAsUser', 'runAsGroup', 'fsGroup', 'defaultMode', 'mode', 'priority',
	'stabilizationWindowSeconds', 'deletionGracePeriodSeconds', 'gracePeriodSeconds', 'expirationSeconds', 'tolerationSeconds', 'averageUtilization',
	'targetCPUUtilizationPercentage', 'minDomains', 'maxSkew', 'start', 'value',
	// *bool
	'automountServiceAccountToken', 'allowPrivilegeEscalation', 'privileged', 'readOnlyRootFilesystem', 'runAsNonRoot', 'suspend', 'optional',
	'enableServiceLinks', 'shareProcessNamespace', 'hostUsers', 'setHostnameAsFQDN', 'allowVolumeExpansion', 'manualSelector', 'ready', 'serving',
	'terminating', 'immutable', 'allowWatchBookmarks', 'sendInitialEvents',
]);

function unsetScalar(name: string, value: unknown): boolean {
	if (value === '') return true;
	if ((value === 0 || value === false) && !meaningfulZero.has(name)) return true;
	return false;
}

/** A decoded message as Kubernetes' JSON: only the fields that were sent, k8s's special types in their JSON form. */
function toJson(type: protobuf.Type, message: Rec): Rec {
	const out: Rec = {};
	for (const field of type.fieldsArray) {
		if (!Object.prototype.hasOwnProperty.call(message, field.name)) continue;
		const value = message[field.name];
		if (field.repeated && Array.isArray(value) && value.length === 0) continue;
		// Empty maps and lists are omitted, as Kubernetes' JSON omits them.
		if (field.map && Object.keys(value as Rec).length === 0) continue;
		if (field.map) {
			const entries: Rec = {};
			for (const [k, v] of Object.entries(value as Rec)) entries[k] = convert(field, v);
			out[field.name] = entries;
		} else if (field.repeated) {
			out[field.name] = (value as unknown[]).map(v => convert(field, v));
		} else {
			const converted = convert(field, value);
			if (converted !== undefined && !unsetScalar(field.name, converted)) out[field.name] = converted;
		}
	}
	return out;
}

function convert(field: protobuf.Field, value: unknown): unknown {
	const resolved = field.resolvedType;
	if (resolved instanceof protobuf.Type) {
		const m = value as Rec;
		switch (resolved.fullName) {
			case '.k8s.io.apimachinery.pkg.apis.meta.v1.Time':
				// Go's zero time (a field never set, written anyway) comes as 0 s.
				if (!seconds(m.seconds) && !Number(m.nanos ?? 0)) return undefined;
				return new Date(seconds(m.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
			case '.k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime':
				return `${new Date(seconds(m.seconds) * 1000).toISOString().slice(0, 19)}.${String(Math.floor(Number(m.nanos ?? 0) / 1000)).padStart(6, '0')}Z`;
			case '.k8s.io.apimachinery.pkg.api.resource.Quantity':
				return m.string ?? '0';
			case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
				return Number(m.type ?? 0) === 1 ? (m.strVal ?? '') : Number(m.intVal ?? 0);
			case '.k8s.io.apimachinery.pkg.runtime.RawExtension':
				return m.raw?.length ? JSON.parse(Buffer.from(m.raw).toString('utf8')) : {};
			case '.k8s.io.apimachinery.pkg.apis.meta.v1.Duration':
				return goDuration(Number(m.duration ?? 0));
			default:
				return toJson(resolved, m);
		}
	}
	if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
	// int64 arrives as a Long; the values Kubernetes keeps in them fit a double.
	if (value !== null && typeof value === 'object' && 'low' in (value as Rec) && 'high' in (value as Rec)) return protobuf.util.LongBits.from(value as protobuf.Long).toNumber();
	return value;
}

/** Nanoseconds as Go's time.Duration prints them (1h2m3s, 1.5s, 0s). */
function goDuration(ns: number): string {
	if (ns === 0) return '0s';
	const sign = ns < 0 ? '-' : '';
	let rest = Math.abs(ns) / 1e9;
	const h = Math.floor(rest / 3600);
	rest -= h * 3600;
	const m = Math.floor(rest / 60);
	rest -= m * 60;
	return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${Number(rest.toFixed(9))}s`;
}
