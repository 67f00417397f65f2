// API defaulting (k8s.io/kubernetes/pkg/apis/*/v1/defaults.go): the fields the
// API server fills in so `describe`, `rollout history` and a re-`apply` see the
// same object a real cluster would store.
import type {KubeObject} from './object.js';

type Rec = Record<string, any>;

function setDefault(obj: Rec, key: string, value: unknown): void {
	if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

function defaultContainer(c: Rec): void {
	const image = String(c.image ?? '');
	const tag = image.includes('@') ? 'digest' : (image.split('/').pop() ?? '').split(':')[1];
	setDefault(c, 'imagePullPolicy', !tag || tag === 'latest' ? 'Always' : 'IfNotPresent');
	setDefault(c, 'terminationMessagePath', '/dev/termination-log');
	setDefault(c, 'terminationMessagePolicy', 'File');
	setDefault(c, 'resources', {});
	for (const port of c.ports ?? []) setDefault(port, 'protocol', 'TCP');
	for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
		if (!probe) continue;
		setDefault(probe, 'timeoutSeconds', 1);
		setDefault(probe, 'periodSeconds', 10);
		setDefault(probe, 'successThreshold', 1);
		setDefault(probe, 'failureThreshold', 3);
		if (probe.httpGet) {
			setDefault(probe.httpGet, 'path', '/');
			setDefault(probe.httpGet, 'scheme', 'HTTP');
		}
	}
	for (const env of c.env ?? []) {
		if (env.valueFrom?.fieldRef) setDefault(env.valueFrom.fieldRef, 'apiVersion', 'v1');
	}
}

export function defaultPodSpec(spec: Rec | undefined, restartPolicy = 'Always'): void {
	if (!spec) return;
	// Jobs pass '' so a missing restartPolicy stays missing and validation names it.
	if (restartPolicy) setDefault(spec, 'restartPolicy', restartPolicy);
	setDefault(spec, 'terminationGracePeriodSeconds', 30);
	setDefault(spec, 'dnsPolicy', 'ClusterFirst');
	setDefault(spec, 'schedulerName', 'default-scheduler');
	setDefault(spec, 'securityContext', {});
	setDefault(spec, 'serviceAccountName', spec.serviceAccount ?? 'default');
	setDefault(spec, 'enableServiceLinks', true);
	for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(c);
	for (const v of spec.volumes ?? []) {
		if (v.configMap) setDefault(v.configMap, 'defaultMode', 0o644);
		if (v.secret) setDefault(v.secret, 'defaultMode', 0o644);
		if (v.hostPath) setDefault(v.hostPath, 'type', '');
	}
}

function defaultTemplate(spec: Rec, restartPolicy = 'Always'): void {
	if (!spec.template) return;
	spec.template.metadata ??= {};
	defaultPodSpec(spec.template.spec, restartPolicy);
}

/** Fill in defaults in place. Called on create and update, before validation. */
/**
 * What Go's decoding and encoding make of a built-in object: a null is the field's zero value,
 * which the encoder omits (a template's `creationTimestamp: null`, as kubectl's rollout undo
 * sends it), and so is an empty list (`ownerReferences: []`: every list field of the built-in
 * kinds is omitempty). Empty objects stay: `emptyDir: {}` means something.
 */
export function omitEmpty(value: Rec): void {
	for (const key of Object.keys(value)) {
		const v = value[key];
		if (v === null || (Array.isArray(v) && v.length === 0)) delete value[key];
		else if (Array.isArray(v)) {
			for (const item of v) if (item !== null && typeof item === 'object') omitEmpty(item);
		} else if (typeof v === 'object') omitEmpty(v);
	}
}

export function applyDefaults(obj: KubeObject): void {
	omitEmpty(obj as unknown as Rec);
	const spec = obj.spec as Rec | undefined;
	switch (obj.kind) {
		case 'Namespace':
			obj.metadata.labels = {...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name ?? ''};
			obj.spec = {finalizers: ['kubernetes'], ...spec};
			break;
		case 'Pod':
			defaultPodSpec(spec);
			break;
		case 'ReplicaSet':
			if (!spec) break;
			setDefault(spec, 'replicas', 1);
			defaultTemplate(spec);
			break;
		case 'Deployment':
			if (!spec) break;
			setDefault(spec, 'replicas', 1);
			setDefault(spec, 'strategy', {type: 'RollingUpdate'});
			if (spec.strategy.type === undefined) spec.strategy.type = 'RollingUpdate';
			if (spec.strategy.type === 'RollingUpdate') {
				spec.strategy.rollingUpdate ??= {};
				setDefault(spec.strategy.rollingUpdate, 'maxSurge', '25%');
				setDefault(spec.strategy.rollingUpdate, 'maxUnavailable', '25%');
			}
			setDefault(spec, 'revisionHistoryLimit', 10);
			setDefault(spec, 'progressDeadlineSeconds', 600);
			defaultTemplate(spec);
			break;
		case 'StatefulSet':
			if (!spec) break;
			setDefault(spec, 'replicas', 1);
			setDefault(spec, 'podManagementPolicy', 'OrderedReady');
			setDefault(spec, 'updateStrategy', {type: 'RollingUpdate', rollingUpdate: {partition: 0}});
			setDefault(spec, 'revisionHistoryLimit', 10);
			setDefault(spec, 'persistentVolumeClaimRetentionPolicy', {whenDeleted: 'Retain', whenScaled: 'Retain'});
			for (const claim of spec.volumeClaimTemplates ?? []) {
				claim.apiVersion ??= 'v1';
				claim.kind ??= 'PersistentVolumeClaim';
				if (claim.spec) setDefault(claim.spec, 'volumeMode', 'Filesystem');
			}
			defaultTemplate(spec);
			break;
		case 'DaemonSet':
			if (!spec) break;
			setDefault(spec, 'updateStrategy', {type: 'RollingUpdate', rollingUpdate: {maxUnavailable: 1, maxSurge: 0}});
			setDefault(spec, 'revisionHistoryLimit', 10);
			defaultTemplate(spec);
			break;
		case 'Job':
			if (!spec) break;
			defaultJobSpec(spec, obj.metadata.uid, obj.metadata.name);
			break;
		case 'CronJob':
			if (!spec) break;
			setDefault(spec, 'concurrencyPolicy', 'Allow');
			setDefault(spec, 'suspend', false);
			setDefault(spec, 'successfulJobsHistoryLimit', 3);
			setDefault(spec, 'failedJobsHistoryLimit', 1);
			if (spec.jobTemplate?.spec) {
				const job = spec.jobTemplate.spec;
				setDefault(job, 'backoffLimit', 6);
				setDefault(job, 'completionMode', 'NonIndexed');
				setDefault(job, 'suspend', false);
				if (job.template) defaultPodSpec(job.template.spec, '');
			}
			break;
		case 'Service':
			if (!spec) break;
			setDefault(spec, 'type', 'ClusterIP');
			setDefault(spec, 'sessionAffinity', 'None');
			if (spec.type !== 'ExternalName') {
				setDefault(spec, 'ipFamilies', ['IPv4']);
				setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
				setDefault(spec, 'internalTrafficPolicy', 'Cluster');
			}
			if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
			for (const port of spec.ports ?? []) {
				setDefault(port, 'protocol', 'TCP');
				setDefault(port, 'targetPort', port.port);
			}
			break;
		case 'Secret':
			obj.type ??= 'Opaque';
			break;
		case 'PersistentVolumeClaim':
			if (spec) setDefault(spec, 'volumeMode', 'Filesystem');
			break;
		case 'PersistentVolume':
			if (!spec) break;
			setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
			setDefault(spec, 'volumeMode', 'Filesystem');
			break;
		case 'StorageClass':
			obj.reclaimPolicy ??= 'Delete';
			obj.volumeBindingMode ??= 'Immediate';
			break;
		case 'HorizontalPodAutoscaler':
			if (spec) setDefault(spec, 'minReplicas', 1);
			break;
	}
}

/**
 * Jobs get a generated selector on the job's uid unless manualSelector is set
 * (pkg/registry/batch/job/strategy.go generateSelector).
 */
function defaultJobSpec(spec: Rec, uid: string | undefined, name: string | undefined): void {
	setDefault(spec, 'backoffLimit', 6);
	setDefault(spec, 'completionMode', 'NonIndexed');
	setDefault(spec, 'suspend', false);
	if (spec.completions === undefined && spec.parallelism === undefined) {
		spec.completions = 1;
		spec.parallelism = 1;
	}
	setDefault(spec, 'parallelism', 1);
	if (!spec.manualSelector && uid && spec.template) {
		// The labels kube-apiserver gives a Job's pods (1.27+): both spellings of the uid and the name.
		const labels = {'batch.kubernetes.io/controller-uid': uid, 'controller-uid': uid, ...(name ? {'batch.kubernetes.io/job-name': name, 'job-name': name} : {})};
		spec.selector ??= {matchLabels: {'batch.kubernetes.io/controller-uid': uid}};
		spec.template.metadata = {...spec.template.metadata, labels: {...spec.template.metadata?.labels, ...labels}};
	}
	if (spec.template) defaultPodSpec(spec.template.spec, '');
}
