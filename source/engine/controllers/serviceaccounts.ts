// The serviceaccounts and root-ca-cert-publisher controllers in one: every
// namespace that is not terminating keeps its `default` ServiceAccount and
// its kube-root-ca.crt ConfigMap with the cluster CA. Both are made with the
// namespace (server/serviceaccounts.ts); this puts back one that was deleted,
// and refreshes the CA where it changed.
import {StatusError} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import {typeForKind} from '../../api/resources.js';
import type {Registry} from '../../server/registry.js';
import {namespaceDefaults, rootCAConfigMap} from '../../server/serviceaccounts.js';
import type {Store} from '../../store/store.js';
import type {Controller} from './runner.js';

export class ServiceAccountsController implements Controller {
	readonly name = 'serviceaccounts-controller';
	readonly primary = 'namespaces';
	readonly watches = [
		{resource: 'namespaces'},
		{resource: 'serviceaccounts', keys: (sa: KubeObject) => (sa.metadata.name === 'default' ? [`/${sa.metadata.namespace}`] : [])},
		{resource: 'configmaps', keys: (cm: KubeObject) => (cm.metadata.name === rootCAConfigMap ? [`/${cm.metadata.namespace}`] : [])},
	];

	constructor(private readonly store: Store, private readonly registry: Registry) {}

	async reconcile(key: string): Promise<void> {
		const name = key.slice(1);
		const ns = this.store.get('namespaces', '', name);
		if (!ns || ns.metadata.deletionTimestamp) return;
		for (const wanted of namespaceDefaults(name, this.registry.rootCA)) {
			const type = typeForKind(wanted.apiVersion, wanted.kind)!;
			const current = this.store.get(type.plural, name, wanted.metadata.name!);
			try {
				if (!current) await this.registry.create(type, name, wanted);
				else if (wanted.kind === 'ConfigMap' && JSON.stringify(current.data) !== JSON.stringify(wanted.data)) await this.registry.update(type, name, wanted.metadata.name!, {...current, data: wanted.data} as KubeObject);
			} catch (error) {
				// A namespace deleted meanwhile, or a write that raced ours: the next event brings us back.
				if (!(error instanceof StatusError) || ![404, 409, 403].includes(error.code)) throw error;
			}
		}
	}
}
