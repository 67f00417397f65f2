// Service addresses. With the process runtime every address is on loopback
// (127.0.0.0/8 routes to lo without privileges): Services take ClusterIPs
// from the engine's service range (its half of the /16 its state directory
// claimed host-wide, engine/network/ranges.ts), pods take theirs from the
// other half. NodePorts come from 30000-32767 as in kube-apiserver.
import {field, type FieldError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import type {Transaction} from '../store/store.js';

type ServiceSpec = {type?: string; clusterIP?: string; clusterIPs?: string[]; ports?: {nodePort?: number}[]};

export interface AddressRange {
	/** The first two octets, and which addresses of the /16 (offsets from .0.0). */
	prefix: string;
	first: number;
	size: number;
}

/** The fixed range of earlier versions, for a registry without an engine (its Services keep their addresses). */
export const legacyServiceRange: AddressRange = {prefix: '127.1', first: 0, size: 65_536};

const cidrOf = (range: AddressRange) => `${range.prefix}.${range.first >> 8}.0/${32 - Math.log2(range.size)}`;

/** The range's n-th address (0 is its first): the one place an offset becomes an address. */
export function addressAt(range: AddressRange, n: number): string {
	const offset = range.first + n;
	return `${range.prefix}.${(offset >> 8) & 255}.${offset & 255}`;
}

/** Is `ip` one of the range's addresses? */
export function inRange(range: AddressRange, ip: string): boolean {
	const m = /^(\d+\.\d+)\.(\d+)\.(\d+)$/.exec(ip);
	if (!m || m[1] !== range.prefix) return false;
	const offset = Number(m[2]) * 256 + Number(m[3]) - range.first;
	return offset >= 0 && offset < range.size;
}

/** A network or broadcast-looking address (.0, .255), which no Service or pod gets. */
export const isEdge = (ip: string) => ip.endsWith('.0') || ip.endsWith('.255');

export const nodePortRange = {min: 30000, max: 32767};

function servicesIn(tx: Transaction): KubeObject[] {
	return tx.list('services');
}

export function allocateClusterIp(tx: Transaction, svc: KubeObject, old: KubeObject | undefined, range: AddressRange = legacyServiceRange): FieldError[] {
	const spec = svc.spec as ServiceSpec;
	const previous = (old?.spec as ServiceSpec | undefined)?.clusterIP;
	if (spec.type === 'ExternalName') return [];
	if (spec.clusterIP === 'None') {
		spec.clusterIPs = ['None'];
		return [];
	}
	if (previous && (!spec.clusterIP || spec.clusterIP === previous)) {
		spec.clusterIP = previous;
		spec.clusterIPs = [previous];
		return [];
	}
	// Load-balancer addresses come from the same range (engine/network/loadbalancer.ts).
	const used = new Set(servicesIn(tx).filter(s => s.metadata.uid !== svc.metadata.uid).flatMap(s => [(s.spec as ServiceSpec).clusterIP, ...((s.status as {loadBalancer?: {ingress?: {ip?: string}[]}})?.loadBalancer?.ingress ?? []).map(i => i.ip)]));
	if (spec.clusterIP) {
		if (!inRange(range, spec.clusterIP)) return [field.invalid('spec.clusterIPs', [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: provided IP is not in the valid range. The range of valid IPs is ${cidrOf(range)}`)];
		if (used.has(spec.clusterIP)) return [field.invalid('spec.clusterIPs', [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`)];
		spec.clusterIPs = [spec.clusterIP];
		return [];
	}
	// The range's first address is the `kubernetes` Service's, as kube-apiserver keeps it; the tenth is cluster DNS's.
	const kept = new Set([apiServiceIp(range), dnsServiceIp(range)]);
	// Start at a hash of the name so addresses are spread and mostly stable across re-creation.
	const start = [...`${svc.metadata.namespace}/${svc.metadata.name}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % range.size;
	for (let i = 0; i < range.size; i++) {
		const ip = addressAt(range, (start + i) % range.size);
		if (isEdge(ip) || used.has(ip) || kept.has(ip)) continue;
		spec.clusterIP = ip;
		spec.clusterIPs = [ip];
		return [];
	}
	return [field.invalid('spec.clusterIPs', [], 'failed to allocate a serviceIP: range is full')];
}

/** The address of the `kubernetes` Service in `default`: the range's first usable one (given only when asked for by name). */
export function apiServiceIp(range: AddressRange): string {
	return addressAt(range, (range.first & 255) === 0 ? 1 : 0);
}

/** Where cluster DNS listens: the range's tenth address (kube-dns's 10.96.0.10 in kubeadm's clusters). */
export function dnsServiceIp(range: AddressRange): string {
	return addressAt(range, 10);
}

export function allocateNodePorts(tx: Transaction, svc: KubeObject, old: KubeObject | undefined): FieldError[] {
	const spec = svc.spec as ServiceSpec;
	if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') {
		for (const port of spec.ports ?? []) delete port.nodePort;
		return [];
	}
	const own = new Set(((old?.spec as ServiceSpec | undefined)?.ports ?? []).map(p => p.nodePort));
	const used = new Set<number>();
	for (const s of servicesIn(tx)) {
		if (s.metadata.uid === svc.metadata.uid) continue;
		for (const p of (s.spec as ServiceSpec).ports ?? []) if (p.nodePort) used.add(p.nodePort);
	}
	const errors: FieldError[] = [];
	for (const [i, port] of (spec.ports ?? []).entries()) {
		if (port.nodePort) {
			if (used.has(port.nodePort) && !own.has(port.nodePort)) errors.push(field.invalid(`spec.ports[${i}].nodePort`, port.nodePort, 'provided port is already allocated'));
			used.add(port.nodePort);
		}
	}
	for (const port of spec.ports ?? []) {
		if (port.nodePort) continue;
		const reuse = [...own].find(p => p && !used.has(p));
		let chosen = reuse;
		// From a random place in the range, as kube-apiserver allocates: engines side by side (tests) then rarely pick the same port.
		const size = nodePortRange.max - nodePortRange.min + 1;
		const start = Math.floor(Math.random() * size);
		for (let i = 0; chosen === undefined && i < size; i++) {
			const p = nodePortRange.min + ((start + i) % size);
			if (!used.has(p)) chosen = p;
		}
		if (chosen === undefined) {
			errors.push(field.invalid('spec.ports', spec.ports, 'failed to allocate a nodePort: range is full'));
			break;
		}
		port.nodePort = chosen;
		used.add(chosen);
	}
	return errors;
}
