// The local equivalent of a cloud-controller-manager's service controller,
// as k3s's service load balancer gives one: a Service of type LoadBalancer
// gets an address of its own from the engine's Service range, written to
// status.loadBalancer.ingress, and the proxy listens on it at the Service's
// ports. The address is kept while the Service stays a LoadBalancer.
import type {KubeObject} from '../../api/object.js';
import {typeByPlural} from '../../api/resources.js';
import {addressAt, apiServiceIp, dnsServiceIp, isEdge, type AddressRange} from '../../server/allocators.js';
import type {Registry} from '../../server/registry.js';
import type {Store} from '../../store/store.js';
import type {EventRecorder} from '../events.js';
import {type Controller, splitKey} from '../controllers/runner.js';

type Rec = Record<string, any>;
const serviceType = typeByPlural('services')!;

export class LoadBalancerController implements Controller {
	readonly name = 'service-lb-controller';
	readonly primary = 'services';
	readonly watches = [{resource: 'services'}];

	constructor(private readonly store: Store, private readonly registry: Registry, private readonly events: EventRecorder, private readonly range: AddressRange) {}

	async reconcile(key: string) {
		const [namespace, name] = splitKey(key);
		const svc = this.store.peek('services', namespace, name);
		if (!svc || svc.metadata.deletionTimestamp) return;
		const spec = svc.spec as Rec;
		const ingress: Rec[] = (svc.status as Rec)?.loadBalancer?.ingress ?? [];
		if (spec.type !== 'LoadBalancer') {
			if (ingress.length) await this.writeIngress(svc, []);
			return;
		}
		if (ingress.some(i => i.ip)) return;
		const ip = this.freeAddress(svc);
		if (!ip) {
			await this.events.record(svc, 'Warning', 'SyncLoadBalancerFailed', 'no free address left in the engine\'s Service range for a load balancer', 'service-lb-controller');
			return;
		}
		await this.writeIngress(svc, [{ip, ipMode: 'VIP'}]);
		await this.events.record(svc, 'Normal', 'EnsuredLoadBalancer', `Ensured load balancer at ${ip}`, 'service-lb-controller');
	}

	private async writeIngress(svc: KubeObject, ingress: Rec[]): Promise<void> {
		await this.registry.update(serviceType, svc.metadata.namespace, svc.metadata.name!, {...svc, status: {...(svc.status as Rec), loadBalancer: ingress.length ? {ingress} : {}}, metadata: {...svc.metadata, resourceVersion: ''}}, {subresource: 'status'});
	}

	/** An address no Service uses as its ClusterIP or load-balancer address, from the top of the range down. */
	private freeAddress(svc: KubeObject): string | undefined {
		const used = new Set<string>([apiServiceIp(this.range), dnsServiceIp(this.range)]);
		for (const s of this.store.scan('services')) {
			if (s.metadata.uid === svc.metadata.uid) continue;
			used.add((s.spec as Rec).clusterIP);
			for (const i of ((s.status as Rec)?.loadBalancer?.ingress ?? []) as Rec[]) if (i.ip) used.add(i.ip);
		}
		used.add((svc.spec as Rec).clusterIP);
		for (let n = this.range.size - 1; n >= 0; n--) {
			const ip = addressAt(this.range, n);
			if (!isEdge(ip) && !used.has(ip)) return ip;
		}
		return undefined;
	}
}
