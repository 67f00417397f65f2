// Names the Deployment machinery shares between the controller and the
// rollout commands: the revision annotation and the pod-template-hash label
// that ReplicaSets add to their Deployment's template.
export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const podTemplateHashLabel = 'pod-template-hash';

type Rec = Record<string, any>;

/** A ReplicaSet's template as its Deployment wrote it: without the pod-template-hash label. */
export function withoutPodTemplateHash(template: Rec): Rec {
	const copy = structuredClone(template);
	if (copy.metadata?.labels) delete copy.metadata.labels[podTemplateHashLabel];
	return copy;
}

/**
 * A Job started by hand from a CronJob (`create job --from=cronjob/NAME`,
 * the dashboard's `t`): the CronJob's job template, marked manual and owned
 * by the CronJob, as kubectl makes it.
 */
export function jobFromCronJob(cron: {metadata: {name?: string; namespace?: string; uid?: string}; spec?: unknown}, name: string) {
	const template = ((cron.spec as Rec | undefined)?.jobTemplate ?? {}) as Rec;
	return {
		apiVersion: 'batch/v1', kind: 'Job',
		metadata: {
			name, namespace: cron.metadata.namespace, labels: template.metadata?.labels,
			annotations: {...template.metadata?.annotations, 'cronjob.kubernetes.io/instantiate': 'manual'},
			ownerReferences: [{apiVersion: 'batch/v1', kind: 'CronJob', name: cron.metadata.name!, uid: cron.metadata.uid!, controller: true}],
		},
		spec: template.spec,
	};
}
