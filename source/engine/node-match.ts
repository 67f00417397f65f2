// Whether a pod may go on a node, by the rules that do not depend on what else
// runs there (kube-scheduler's NodeAffinity and TaintToleration filters, which
// the DaemonSet controller also asks): nodeSelector, required node affinity
// (matchExpressions on labels, with In/NotIn/Exists/DoesNotExist/Gt/Lt, and
// matchFields on metadata.name), and NoSchedule/NoExecute taints.
import type {KubeObject} from '../api/object.js';

type Rec = Record<string, any>;

function requirementHolds(e: Rec, value: string | undefined): boolean {
	const values: string[] = e.values ?? [];
	switch (e.operator) {
		case 'In': return value !== undefined && values.includes(value);
		case 'NotIn': return value === undefined || !values.includes(value);
		case 'Exists': return value !== undefined;
		case 'DoesNotExist': return value === undefined;
		case 'Gt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) > Number(values[0]);
		case 'Lt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) < Number(values[0]);
		default: return false;
	}
}

/** Required node selector terms: any term, each with all its expressions and fields (no terms: any node). */
export function nodeSelectorTermsMatch(terms: Rec[] | undefined, node: KubeObject): boolean {
	if (!terms?.length) return true;
	const labels = node.metadata.labels ?? {};
	return terms.some(term => {
		const expressions: Rec[] = term.matchExpressions ?? [], fields: Rec[] = term.matchFields ?? [];
		// A term with neither matches nothing, as in Kubernetes.
		if (expressions.length === 0 && fields.length === 0) return false;
		return expressions.every(e => requirementHolds(e, labels[e.key])) && fields.every(f => requirementHolds(f, f.key === 'metadata.name' ? node.metadata.name : undefined));
	});
}

export function tolerates(tolerations: Rec[] | undefined, taint: Rec): boolean {
	return (tolerations ?? []).some((t: Rec) =>
		(t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
		(t.operator === 'Exists' ? (t.key === undefined || t.key === '' || t.key === taint.key) : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')));
}

/**
 * Why a pod spec may not go on the node (the scheduler's words), or undefined
 * if it may. `effects` are the taint effects that count: NoExecute alone asks
 * whether a pod already there may stay.
 */
export function placementConflict(spec: Rec, node: KubeObject, effects: string[] = ['NoSchedule', 'NoExecute']): string | undefined {
	const labels = node.metadata.labels ?? {};
	// A spec that names its node fits that node alone (NodeName filter).
	if (spec.nodeName && spec.nodeName !== node.metadata.name) return "node(s) didn't match the requested node name";
	if (spec.nodeSelector && !Object.entries(spec.nodeSelector).every(([k, v]) => labels[k] === v)) return "node(s) didn't match Pod's node affinity/selector";
	if (!nodeSelectorTermsMatch(spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, node)) return "node(s) didn't match Pod's node affinity/selector";
	const taint = ((node.spec as Rec)?.taints ?? []).find((t: Rec) => effects.includes(t.effect) && !tolerates(spec.tolerations, t));
	return taint ? `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}` : undefined;
}
