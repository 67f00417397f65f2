// What the workload controllers and the clients (rollout, create, the
// dashboard) both read: the Deployment revision annotation and the
// pod-template-hash label, the template a ControllerRevision holds, and the
// Job a CronJob makes by hand.
import type {KubeObject} from './object.js';

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const podTemplateHashLabel = 'pod-template-hash';

type Rec = Record<string, any>;

/** A ReplicaSet's template as its Deployment wrote it: without the pod-template-hash label. */
export function withoutPodTemplateHash(template: Rec): Rec {
	const copy = structuredClone(template);
	if (copy.metadata?.labels) delete copy.metadata.labels[podTemplateHashLabel];
	return copy;
}

/** The pod template a ControllerRevision puts back (its data is the patch `{spec: {template: {..., $patch: replace}}}`). */
export function revisionTemplate(revision: KubeObject): Rec {
	const {$patch: _, ...template} = ((revision.data as Rec | undefined)?.spec?.template ?? {}) as Rec;
	return template;
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
