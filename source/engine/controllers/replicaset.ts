// The ReplicaSet controller: keep spec.replicas active pods that match the
// selector, adopting orphans and releasing pods that stopped matching;
// replace deleted or finished pods; write status.
import type {KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import {fromLabelSelector, matchesLabels} from '../../api/selectors.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {Clock} from '../clock.js';
import type {EventRecorder} from '../events.js';
import {isPodAvailable, isPodReady, isTerminal} from '../../api/pods.js';
import {controllerRef, deletionOrder, hasController, isControlledBy, podFromTemplate, selectedPods} from './pods.js';
import {type Controller, ownerKeys, splitKey} from './runner.js';

type Rec = Record<string, any>;
const podType = typeByPlural('pods')!;
const rsType = typeByPlural('replicasets')!;

/** At most this many pod creations or deletions in one reconcile step. */
const burst = 500;

export class ReplicaSetController implements Controller {
	readonly name = 'replicaset-controller';
	readonly primary = 'replicasets';
	readonly watches = [
		{resource: 'replicasets'},
		{resource: 'pods', keys: ownerKeys('ReplicaSet')},
	];

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly clock: Clock) {}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const rs = this.store.get('replicasets', namespace, name);
		if (!rs || rs.metadata.deletionTimestamp) return;
		const spec = rs.spec as Rec;
		const selector = fromLabelSelector(spec.selector);
		const owned: KubeObject[] = [];
		// The store's own objects (read only); anything changed goes through the registry.
		for (const pod of this.store.scan('pods', namespace)) {
			const mine = isControlledBy(pod, rs);
			const matches = matchesLabels(selector, pod.metadata.labels);
			if (mine && !matches) {
				// Released: the pod's labels no longer match.
				await this.registry.patch(podType, namespace, pod.metadata.name!, 'application/json-patch+json', [{op: 'replace', path: '/metadata/ownerReferences', value: (pod.metadata.ownerReferences ?? []).filter(r => r.uid !== rs.metadata.uid)}]);
			} else if (mine) {
				owned.push(pod);
			} else if (matches && !hasController(pod) && !pod.metadata.deletionTimestamp) {
				const adopted = await this.registry.patch(podType, namespace, pod.metadata.name!, 'application/merge-patch+json', {metadata: {ownerReferences: [...(pod.metadata.ownerReferences ?? []), controllerRef(rs)]}});
				owned.push(adopted);
			}
		}
		const active = owned.filter(p => !isTerminal(p) && !p.metadata.deletionTimestamp);
		const diff = active.length - (spec.replicas ?? 1);
		if (diff < 0) {
			const count = Math.min(-diff, burst);
			const created = await Promise.allSettled(Array.from({length: count}, () => this.registry.create(podType, namespace, podFromTemplate(rs, spec.template))));
			// Events are best effort and do not hold up the next step.
			for (const result of created) {
				if (result.status === 'fulfilled') void this.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${result.value.metadata.name}`, 'replicaset-controller');
				else void this.events.record(rs, 'Warning', 'FailedCreate', `Error creating: ${(result.reason as Error).message}`, 'replicaset-controller');
			}
		} else if (diff > 0) {
			const victims = [...active].sort(deletionOrder).slice(0, Math.min(diff, burst));
			await Promise.all(victims.map(async pod => {
				await this.registry.delete(podType, namespace, pod.metadata.name!).catch(() => {});
				void this.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, 'replicaset-controller');
			}));
		}
		return this.writeStatus(rs);
	}

	private async writeStatus(rs: KubeObject) {
		const spec = rs.spec as Rec;
		const current = this.store.get('replicasets', rs.metadata.namespace!, rs.metadata.name!);
		if (!current) return;
		const pods = selectedPods(this.store, current).filter(p => isControlledBy(p, current) && !isTerminal(p) && !p.metadata.deletionTimestamp);
		const now = this.clock.now();
		const minReady = spec.minReadySeconds ?? 0;
		const templateLabels = spec.template?.metadata?.labels ?? {};
		const status = {
			replicas: pods.length,
			fullyLabeledReplicas: pods.filter(p => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
			readyReplicas: pods.filter(isPodReady).length,
			availableReplicas: pods.filter(p => isPodAvailable(p, minReady, now)).length,
			observedGeneration: current.metadata.generation,
		};
		const old = (current.status ?? {}) as Rec;
		if (Object.entries(status).some(([k, v]) => old[k] !== v)) {
			await this.registry.update(rsType, current.metadata.namespace, current.metadata.name!, {...current, status: {...old, ...status}, metadata: {...current.metadata, resourceVersion: ''}}, {subresource: 'status'});
		}
		// Pods that are ready but not yet available need another look when minReadySeconds passes.
		if (minReady > 0 && status.readyReplicas > status.availableReplicas) return {requeueAfter: minReady * 1000};
		return undefined;
	}
}
