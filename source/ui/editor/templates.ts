// New-object templates for `n` in the dashboard, and `D` (duplicate): the
// starting text of the inline editor. Each template is a small, valid
// manifest a person would otherwise copy from the Kubernetes docs.
import {type KubeObject, lastAppliedAnnotation} from '../../api/object.js';
import {revisionAnnotation} from '../../api/workloads.js';
import {toYaml} from '../../render/yaml.js';

const templates: Record<string, (ns: string) => string> = {
	Deployment: ns => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-app
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: my-app
  template:
    metadata:
      labels:
        app: my-app
    spec:
      containers:
      - name: app
        image: kubedeck/agnhost
        args: ["netexec", "--http-port=8080"]
        ports:
        - containerPort: 8080
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
`,
	Service: ns => `apiVersion: v1
kind: Service
metadata:
  name: my-app
  namespace: ${ns}
spec:
  type: ClusterIP
  selector:
    app: my-app
  ports:
  - port: 80
    targetPort: 8080
`,
	Job: ns => `apiVersion: batch/v1
kind: Job
metadata:
  name: my-job
  namespace: ${ns}
spec:
  backoffLimit: 3
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: job
        image: busybox
        command: ["sh", "-c", "echo hello from the job"]
`,
	CronJob: ns => `apiVersion: batch/v1
kind: CronJob
metadata:
  name: my-cronjob
  namespace: ${ns}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: job
            image: busybox
            command: ["sh", "-c", "date"]
`,
	ConfigMap: ns => `apiVersion: v1
kind: ConfigMap
metadata:
  name: my-config
  namespace: ${ns}
data:
  LOG_LEVEL: info
`,
	Secret: ns => `apiVersion: v1
kind: Secret
metadata:
  name: my-secret
  namespace: ${ns}
type: Opaque
# stringData is encoded into data by the server; it is never stored as written.
stringData:
  password: change-me
`,
	PersistentVolumeClaim: ns => `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: my-data
  namespace: ${ns}
spec:
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: 1Gi
`,
	Pod: ns => `apiVersion: v1
kind: Pod
metadata:
  name: my-pod
  namespace: ${ns}
spec:
  containers:
  - name: main
    image: kubedeck/agnhost
    args: ["netexec", "--http-port=8080"]
`,
	Namespace: () => `apiVersion: v1
kind: Namespace
metadata:
  name: my-namespace
`,
};

export const templateKinds = Object.keys(templates);

export function templateFor(kind: string, namespace: string): string | undefined {
	return templates[kind]?.(namespace);
}

/** The object as it can be created again: what the server sets (uid, versions, timestamps, status) gone. */
export function withoutServerFields(obj: KubeObject): KubeObject {
	const {uid: _u, resourceVersion: _r, creationTimestamp: _c, generation: _g, managedFields: _m, deletionTimestamp: _d, deletionGracePeriodSeconds: _dg, ...metadata} = obj.metadata;
	const copy: KubeObject = {...obj, metadata};
	delete copy.status;
	return copy;
}

/**
 * The object as a new one: server-set fields and owners gone, the name marked as a copy.
 * A workload's copy gets a selector of its own (each matchLabels value with `-copy`, in the
 * pod template too), so the copy's pods and the original's do not overlap; a comment at the
 * top says so, and putting the old labels back shares them on purpose.
 */
export function duplicateOf(obj: KubeObject): string {
	const {ownerReferences: _o, ...metadata} = withoutServerFields(obj).metadata;
	const annotations = {...metadata.annotations};
	delete annotations[lastAppliedAnnotation];
	delete annotations[revisionAnnotation];
	const copy: KubeObject = {...withoutServerFields(obj), metadata: {...metadata, name: `${obj.metadata.name}-copy`, annotations: Object.keys(annotations).length ? annotations : undefined}};
	const spec = copy.spec as Record<string, any> | undefined;
	// A Service's allocated addresses belong to the original.
	if (obj.kind === 'Service' && spec) copy.spec = {...spec, clusterIP: undefined, clusterIPs: undefined, ports: ((spec.ports ?? []) as Record<string, unknown>[]).map(p => ({...p, nodePort: undefined}))};
	const matchLabels: Record<string, string> | undefined = spec?.selector?.matchLabels;
	let note = '';
	if (spec?.template && matchLabels && Object.keys(matchLabels).length) {
		const own = Object.fromEntries(Object.entries(matchLabels).map(([k, v]) => [k, copyLabel(v)]));
		const template = spec.template as Record<string, any>;
		copy.spec = {...spec, selector: {...spec.selector, matchLabels: own}, template: {...template, metadata: {...template.metadata, labels: {...template.metadata?.labels, ...own}}}};
		const pairs = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
		note = `# The copy selects its own pods (${pairs(own)}), so they do not mix with ${obj.metadata.name}'s (${pairs(matchLabels)}).\n# Put the old labels back in spec.selector and spec.template to share them on purpose.\n`;
	}
	return note + toYaml(JSON.parse(JSON.stringify(copy)));
}

/** A label value for the copy, kept within the 63 characters a label value may have. */
const copyLabel = (value: string) => `${value.slice(0, 63 - '-copy'.length).replace(/[-_.]+$/, '')}-copy`;
