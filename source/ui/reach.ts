// Where a user on this host reaches a Service or an Ingress: the address to
// curl, shown in the Services pane. A ClusterIP port below 1024 opens only
// when the engine runs as root; the nodePort and load-balancer addresses
// are listed first since they are what a browser on the host takes.
import type {KubeObject} from '../api/object.js';

type Rec = Record<string, any>;

export function reachOf(obj: KubeObject, options: {privileged: boolean}): string {
	const spec = (obj.spec ?? {}) as Rec;
	const status = (obj.status ?? {}) as Rec;
	if (obj.kind === 'Service') {
		if (spec.type === 'ExternalName') return spec.externalName ?? '';
		const out: string[] = [];
		for (const p of (spec.ports ?? []) as Rec[]) {
			if (p.nodePort) out.push(`localhost:${p.nodePort}`);
			for (const i of (status.loadBalancer?.ingress ?? []) as Rec[]) if (i.ip && (p.port >= 1024 || options.privileged)) out.push(`${i.ip}:${p.port}`);
			if (spec.clusterIP && spec.clusterIP !== 'None' && (p.port >= 1024 || options.privileged)) out.push(`${spec.clusterIP}:${p.port}`);
		}
		if (spec.clusterIP === 'None') return 'headless: by pod';
		return out.length ? [...new Set(out)].join(' ') : 'port-forward (F)';
	}
	if (obj.kind === 'Ingress') {
		const lb = (status.loadBalancer?.ingress ?? [])[0] as Rec | undefined;
		if (!lb) return '<pending>';
		const ports = ((lb.ports ?? []) as Rec[]).map(p => p.port as number);
		const tlsHosts = new Set(((spec.tls ?? []) as Rec[]).flatMap(t => t.hosts ?? []));
		const urls: string[] = [];
		for (const rule of (spec.rules ?? []) as Rec[]) {
			const host = rule.host ?? lb.ip;
			const secure = rule.host && tlsHosts.has(rule.host) && ports[1];
			const port = secure ? ports[1] : ports[0];
			const standard = secure ? port === 443 : port === 80;
			const path = ((rule.http?.paths ?? []) as Rec[])[0]?.path ?? '/';
			urls.push(`${secure ? 'https' : 'http'}://${host.replace(/^\*\./, 'x.')}${standard || !port ? '' : `:${port}`}${path}`);
		}
		return urls.join(' ') || `http://${lb.ip}${ports[0] && ports[0] !== 80 ? `:${ports[0]}` : ''}/`;
	}
	return '';
}
