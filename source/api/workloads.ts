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
