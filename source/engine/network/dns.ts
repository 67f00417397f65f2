// Cluster DNS, the records CoreDNS's kubernetes plugin serves, on a loopback
// address of the engine's own (UDP and TCP):
//   SERVICE.NS.svc.cluster.local          A: the ClusterIP; headless: one per ready endpoint
//   HOSTNAME.SERVICE.NS.svc.cluster.local A: a headless Service's endpoint with that hostname
//                                         (StatefulSet pods), or pod name
//   _PORT._PROTO.SERVICE.NS.svc.cluster.local  SRV for named ports
//   A-B-C-D.NS.pod.cluster.local          A: the pod address written in the name
// and every other name forwarded to the host's resolver. Names under
// cluster.local that match nothing are NXDOMAIN. The wire format is the
// dns-packet library's (a well-kept encoder and decoder, used by many).
//
// Ports below 1024 need root: as root the server listens on port 53, and
// pods under bubblewrap get an /etc/resolv.conf naming it, so ordinary
// programs resolve cluster names; unprivileged it listens on a high port,
// for tools that take one (dig -p, node's Resolver).
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type {KubeObject} from '../../api/object.js';
import type {Store} from '../../store/store.js';

type Rec = Record<string, any>;
type Answer = dnsPacket.Answer;

export const clusterDomain = 'cluster.local';
/** The port cluster DNS takes without root (every engine has an address of its own, so one port serves all). */
export const unprivilegedDnsPort = 10053;
/** Seconds a record may be cached, as CoreDNS's default. */
const ttl = 5;

export interface DnsAddress {
	ip: string;
	port: number;
}

/** The host's resolvers from /etc/resolv.conf (the first one is asked), as CoreDNS's forward plugin does. */
function hostResolvers(): string[] {
	try {
		const servers = fs.readFileSync('/etc/resolv.conf', 'utf8').split('\n').map(l => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s && net.isIPv4(s));
		return servers.length ? servers : ['127.0.0.53'];
	} catch {
		return ['127.0.0.53'];
	}
}

/** The answers for a question, or undefined when the name is not the cluster's (it is forwarded). */
export function answer(store: Store, name: string, type: string): {answers: Answer[]; rcode: 'NOERROR' | 'NXDOMAIN'} | undefined {
	const lower = name.toLowerCase().replace(/\.$/, '');
	if (lower !== clusterDomain && !lower.endsWith(`.${clusterDomain}`)) return undefined;
	const labels = lower.slice(0, -clusterDomain.length).replace(/\.$/, '').split('.').filter(Boolean);
	const none = {answers: [], rcode: 'NXDOMAIN' as const};
	const a = (ip: string): Answer => ({type: 'A', name, ttl, class: 'IN', data: ip});
	// A-B-C-D.NS.pod.cluster.local
	if (labels.length === 3 && labels[2] === 'pod') {
		const ip = labels[0].replace(/-/g, '.');
		return net.isIPv4(ip) && store.peek('namespaces', '', labels[1]) ? {answers: type === 'A' || type === 'ANY' ? [a(ip)] : [], rcode: 'NOERROR'} : none;
	}
	if (labels.at(-1) !== 'svc') return labels.length === 0 || (labels.length === 1 && labels[0] === 'svc') ? {answers: [], rcode: 'NOERROR'} : none;
	const rest = labels.slice(0, -1);
	if (rest.length < 2) return rest.length === 1 && store.peek('namespaces', '', rest[0]) ? {answers: [], rcode: 'NOERROR'} : none;
	const namespace = rest.at(-1)!;
	const serviceName = rest.at(-2)!;
	const svc = store.peek('services', namespace, serviceName);
	if (!svc) return none;
	const spec = svc.spec as Rec;
	const endpoints = store.peek('endpoints', namespace, serviceName);
	const ready = ((endpoints?.subsets ?? []) as Rec[]).flatMap(s => ((s.addresses ?? []) as Rec[]).map(addr => ({addr, ports: (s.ports ?? []) as Rec[]})));
	const headless = spec.clusterIP === 'None';
	const fqdn = `${serviceName}.${namespace}.svc.${clusterDomain}`;
	if (rest.length === 2) {
		if (type !== 'A' && type !== 'ANY') return {answers: [], rcode: 'NOERROR'};
		if (spec.type === 'ExternalName') return {answers: [{type: 'CNAME', name, ttl, class: 'IN', data: spec.externalName}], rcode: 'NOERROR'};
		const ips = headless ? [...new Set(ready.map(r => r.addr.ip as string))] : spec.clusterIP ? [spec.clusterIP] : [];
		return {answers: ips.map(a), rcode: 'NOERROR'};
	}
	// _port._proto.SERVICE.NS.svc
	if (rest.length === 4 && rest[0].startsWith('_') && rest[1].startsWith('_')) {
		const portName = rest[0].slice(1), protocol = rest[1].slice(1).toUpperCase();
		const port = ((spec.ports ?? []) as Rec[]).find(p => p.name === portName && (p.protocol ?? 'TCP') === protocol);
		if (!port) return none;
		if (type !== 'SRV' && type !== 'ANY') return {answers: [], rcode: 'NOERROR'};
		if (!headless) return {answers: [{type: 'SRV', name, ttl, class: 'IN', data: {priority: 0, weight: 100, port: port.port, target: fqdn}}], rcode: 'NOERROR'};
		return {answers: ready.flatMap(({addr, ports}) => {
			const p = ports.find(x => x.name === portName);
			return p ? [{type: 'SRV' as const, name, ttl, class: 'IN' as const, data: {priority: 0, weight: 100, port: p.port, target: `${endpointLabel(addr)}.${fqdn}`}}] : [];
		}), rcode: 'NOERROR'};
	}
	// HOSTNAME.SERVICE.NS.svc (headless only)
	if (rest.length === 3 && headless) {
		const found = ready.filter(r => endpointLabel(r.addr) === rest[0]);
		if (found.length === 0) return none;
		return {answers: type === 'A' || type === 'ANY' ? found.map(r => a(r.addr.ip)) : [], rcode: 'NOERROR'};
	}
	return none;
}

/** An endpoint's name under its headless Service: its hostname (StatefulSet pods), else its address with dashes, as CoreDNS names them. */
const endpointLabel = (addr: Rec) => (addr.hostname as string | undefined) ?? String(addr.ip).replace(/\./g, '-');

export class ClusterDns {
	private udp?: dgram.Socket;
	private tcp?: net.Server;
	private readonly upstream = hostResolvers();

	constructor(private readonly store: Store, readonly address: DnsAddress) {}

	async start(): Promise<void> {
		const udp = dgram.createSocket('udp4');
		udp.on('message', (message, from) => void this.handle(message, 'udp').then(reply => reply && udp.send(reply, from.port, from.address)).catch(() => {}));
		await new Promise<void>((resolve, reject) => udp.once('error', reject).bind(this.address.port, this.address.ip, () => resolve()));
		this.udp = udp;
		const tcp = net.createServer(socket => this.serveTcp(socket));
		await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(this.address.port, this.address.ip, () => resolve()));
		this.tcp = tcp;
	}

	async stop(): Promise<void> {
		this.udp?.close();
		await new Promise<void>(resolve => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
	}

	/** DNS over TCP: each message with a two-byte length in front. */
	private serveTcp(socket: net.Socket): void {
		let pending = Buffer.alloc(0);
		socket.on('error', () => socket.destroy());
		socket.on('data', chunk => {
			pending = Buffer.concat([pending, chunk]);
			while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
				const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
				pending = pending.subarray(2 + message.length);
				void this.handle(Buffer.from(message), 'tcp').then(reply => {
					if (!reply || socket.destroyed) return;
					const length = Buffer.alloc(2);
					length.writeUInt16BE(reply.length);
					socket.write(Buffer.concat([length, reply]));
				}).catch(() => socket.destroy());
			}
		});
	}

	private async handle(message: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
		let query: dnsPacket.Packet;
		try {
			query = dnsPacket.decode(message);
		} catch {
			return undefined;
		}
		const question = query.questions?.[0];
		if (!question) return undefined;
		const local = answer(this.store, question.name, question.type);
		if (!local) return this.forward(message, transport);
		return dnsPacket.encode({
			type: 'response', id: query.id, flags: dnsPacket.AUTHORITATIVE_ANSWER | (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (local.rcode === 'NXDOMAIN' ? 3 : 0),
			questions: query.questions, answers: local.answers,
		});
	}

	/** Any other name: asked of the host's resolver, the answer passed back as it came. */
	private forward(message: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
		const server = this.upstream[0];
		if (transport === 'tcp') {
			return new Promise(resolve => {
				const socket = net.connect(53, server);
				let data = Buffer.alloc(0);
				const length = Buffer.alloc(2);
				length.writeUInt16BE(message.length);
				socket.setTimeout(5000, () => socket.destroy());
				socket.on('connect', () => socket.write(Buffer.concat([length, message])));
				socket.on('data', d => {
					data = Buffer.concat([data, d]);
					if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
						socket.end();
						resolve(data.subarray(2, 2 + data.readUInt16BE(0)));
					}
				});
				socket.on('error', () => resolve(undefined));
				socket.on('close', () => resolve(undefined));
			});
		}
		return new Promise(resolve => {
			const socket = dgram.createSocket('udp4');
			const timer = setTimeout(() => {
				socket.close();
				resolve(undefined);
			}, 5000);
			socket.once('message', reply => {
				clearTimeout(timer);
				socket.close();
				resolve(reply);
			});
			socket.once('error', () => {
				clearTimeout(timer);
				socket.close();
				resolve(undefined);
			});
			socket.send(message, 53, server);
		});
	}
}

/** The resolv.conf a pod gets with dnsPolicy ClusterFirst (and its dnsConfig), as the kubelet writes it. */
export function resolvConf(pod: KubeObject, nameserver: string): string | undefined {
	const spec = pod.spec as Rec;
	const policy = spec.dnsPolicy ?? 'ClusterFirst';
	if (policy === 'Default') return undefined;
	const ns = pod.metadata.namespace ?? 'default';
	const config: Rec = spec.dnsConfig ?? {};
	const nameservers: string[] = policy === 'None' ? config.nameservers ?? [] : [nameserver, ...(config.nameservers ?? [])];
	const searches: string[] = policy === 'None' ? config.searches ?? [] : [`${ns}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain, ...(config.searches ?? [])];
	const options = new Map<string, string | undefined>(policy === 'None' ? [] : [['ndots', '5']]);
	for (const o of (config.options ?? []) as Rec[]) options.set(o.name, o.value);
	return [
		...nameservers.slice(0, 3).map(s => `nameserver ${s}`),
		...(searches.length ? [`search ${searches.join(' ')}`] : []),
		...(options.size ? [`options ${[...options].map(([k, v]) => (v === undefined ? k : `${k}:${v}`)).join(' ')}`] : []),
	].join('\n') + '\n';
}

/** The /etc/hosts a pod gets: localhost, its own name (and FQDN under its subdomain), and its hostAliases. */
export function hostsFile(pod: KubeObject, podIP: string): string {
	const spec = pod.spec as Rec;
	const hostname = spec.hostname ?? pod.metadata.name;
	const fqdn = spec.subdomain ? `${hostname}.${spec.subdomain}.${pod.metadata.namespace}.svc.${clusterDomain}` : undefined;
	const lines = ['# Kubernetes-managed hosts file.', '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${podIP}\t${fqdn ? `${fqdn}\t` : ''}${hostname}`];
	for (const alias of (spec.hostAliases ?? []) as Rec[]) lines.push(`${alias.ip}\t${(alias.hostnames ?? []).join('\t')}`);
	return `${lines.join('\n')}\n`;
}
