// The engine's own settings: its nodes and image mappings, read from
// <state dir>/config.yaml. Without one, the host is one node named after it
// with the host's cores and memory.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export interface NodeConfig {
	name: string;
	/** process: runs containers as host processes; simulated: pods go Running with no process (like kwok). */
	kind: 'process' | 'simulated';
	cpu: string;
	memory: string;
	pods: number;
	labels: Record<string, string>;
	taints: {key: string; value?: string; effect: string}[];
}

export interface EngineConfig {
	nodes: NodeConfig[];
	/** image name -> host program (and leading args) for the process runtime. */
	images: Record<string, string[]>;
	scheduler: {scoring: 'MostAllocated' | 'LeastAllocated'};
	/** Where NodePorts listen on the host (kube-proxy's --nodeport-addresses): every address by default, as in a cluster. */
	/** Filled in by networkDefaults where a config (a test's) leaves it out. */
	network?: NetworkSettings;
	/** api.extraSANs: more names (DNS names or IPv4 addresses) for the API's serving certificate. */
	api?: {extraSANs: string[]};
	/** ssh.listen: serve the SSH console on [ADDR:]PORT (as `serve --ssh` does). */
	ssh?: {listen: string};
}

/** What a config may say of the network: any part, the rest defaulted. */
export type NetworkSettings = Partial<Omit<NetworkConfig, 'ingress'>> & {ingress?: Partial<NetworkConfig['ingress']>};

export interface NetworkConfig {
	/** Where NodePorts listen on the host (kube-proxy's --nodeport-addresses). */
	nodePortAddress: string;
	/** The Ingress listeners' host ports. */
	ingress: {http: number; https: number};
	proxyMode: 'userspace' | 'nftables';
}

/** The network settings with their defaults: NodePorts on every address, the Ingress on 80/443 as root (else 8080/8443), the user-space proxy. */
export function networkDefaults(given: NetworkSettings = {}): NetworkConfig {
	const root = process.getuid?.() === 0;
	return {
		nodePortAddress: given.nodePortAddress ?? '0.0.0.0',
		ingress: {http: given.ingress?.http ?? (root ? 80 : 8080), https: given.ingress?.https ?? (root ? 443 : 8443)},
		proxyMode: given.proxyMode ?? 'userspace',
	};
}

export function defaultNode(): NodeConfig {
	return {
		name: os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'node',
		kind: 'process', cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 2 ** 20)}Mi`, pods: 110, labels: {}, taints: [],
	};
}

export class ConfigError extends Error {}

export function loadConfig(home: string): EngineConfig {
	const file = path.join(home, 'config.yaml');
	let raw: Record<string, any> = {};
	if (fs.existsSync(file)) {
		try {
			raw = YAML.parse(fs.readFileSync(file, 'utf8')) ?? {};
		} catch (error) {
			throw new ConfigError(`${file}: ${(error as Error).message}`);
		}
	}
	const base = defaultNode();
	const nodes: NodeConfig[] = (raw.nodes ?? [base]).map((n: Record<string, any>, i: number) => {
		if (!n.name || typeof n.name !== 'string') throw new ConfigError(`${file}: nodes[${i}].name: Required value`);
		if (n.kind !== undefined && !['process', 'simulated'].includes(n.kind)) throw new ConfigError(`${file}: nodes[${i}].kind: Unsupported value: "${n.kind}": supported values: "process", "simulated"`);
		return {
			name: n.name, kind: n.kind ?? 'process', cpu: String(n.cpu ?? base.cpu), memory: String(n.memory ?? base.memory),
			pods: Number(n.pods ?? 110), labels: n.labels ?? {}, taints: n.taints ?? [],
		};
	});
	const images: Record<string, string[]> = {};
	for (const [image, program] of Object.entries(raw.images ?? {})) images[image] = Array.isArray(program) ? program.map(String) : String(program).split(/\s+/);
	const nodePortAddress = raw.network?.nodePortAddress ?? '0.0.0.0';
	if (typeof nodePortAddress !== 'string' || net.isIP(nodePortAddress) !== 4) throw new ConfigError(`${file}: network.nodePortAddress: Invalid value: ${JSON.stringify(nodePortAddress)}: must be an IPv4 address (0.0.0.0 for every address, 127.0.0.1 for this host only)`);
	const ingress: Partial<NetworkConfig['ingress']> = {};
	for (const scheme of ['http', 'https']) {
		const value = raw.network?.ingress?.[scheme];
		if (value === undefined) continue;
		if (!Number.isInteger(value) || value < 1 || value > 65535) throw new ConfigError(`${file}: network.ingress.${scheme}: Invalid value: ${JSON.stringify(value)}: must be a port from 1 to 65535`);
		ingress[scheme as 'http' | 'https'] = value;
	}
	const proxyMode: NetworkConfig['proxyMode'] = raw.network?.proxyMode ?? 'userspace';
	if (!['userspace', 'nftables'].includes(proxyMode)) throw new ConfigError(`${file}: network.proxyMode: Unsupported value: ${JSON.stringify(proxyMode)}: supported values: "userspace", "nftables"`);
	const extraSANs = raw.api?.extraSANs ?? [];
	if (!Array.isArray(extraSANs) || extraSANs.some(n => typeof n !== 'string' || !(net.isIP(n) === 4 || /^[a-z0-9*]([-a-z0-9.]*[a-z0-9])?$/i.test(n)))) {
		throw new ConfigError(`${file}: api.extraSANs: Invalid value: ${JSON.stringify(extraSANs)}: must be a list of DNS names and IPv4 addresses`);
	}
	const listen = raw.ssh?.listen;
	if (listen !== undefined && !(/^(?:(?:\d{1,3}\.){3}\d{1,3}:|\[[0-9a-f:]+\]:)?\d{1,5}$/i.test(String(listen)) && Number(String(listen).split(':').pop()) <= 65535)) {
		throw new ConfigError(`${file}: ssh.listen: Invalid value: ${JSON.stringify(listen)}: must be [ADDR:]PORT, e.g. 2222 or 127.0.0.1:2222`);
	}
	return {
		api: {extraSANs},
		...(listen !== undefined ? {ssh: {listen: String(listen)}} : {}),
		nodes, images, scheduler: {scoring: raw.scheduler?.scoring === 'LeastAllocated' ? 'LeastAllocated' : 'MostAllocated'},
		network: networkDefaults({nodePortAddress, ingress, proxyMode}),
	};
}
