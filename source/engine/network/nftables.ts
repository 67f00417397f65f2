// The kernel data path, as kube-proxy's nftables mode lays it out
// (kubernetes/pkg/proxy/nftables/README.md): one table per state directory,
// `ip kubedeck-<id>`, with a nat chain on the output hook (connections made
// on this host: every loopback address is) and one on prerouting (NodePorts
// reached from elsewhere); a chain per service port that picks an endpoint
// with `numgen random`, and a chain per endpoint that DNATs to it. ClientIP
// affinity is a set per endpoint of recent client addresses with the
// affinity timeout. Each service chain counts its new connections (a nat
// chain sees only a connection's first packet), for the autoscaler.
//
// The whole table is written again in one `nft -f` transaction on every
// change (atomic: a connection sees the old rules or the new ones), and
// removed when the engine stops and when the next one starts. Needs root
// and the nft program; the user-space proxy (proxy.ts) is the default.
import {spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import type {Store} from '../../store/store.js';
import {stateId} from '../layout.js';
import {backendsFor} from './proxy.js';
import {liveClaimants} from './ranges.js';
import {followStore, type Following} from './follow.js';

type Rec = Record<string, any>;

export function nftAvailable(): boolean {
	if (process.getuid?.() !== 0) return false;
	const r = spawnSync('nft', ['list', 'tables'], {stdio: 'ignore'});
	return r.status === 0;
}

const short = (text: string) => crypto.createHash('sha256').update(text).digest('hex').slice(0, 10);

export class NftablesProxy {
	readonly table: string;
	private following?: Following;
	/** The last script written (a sync that changes nothing writes nothing). */
	private last = '';
	/** Service chain -> "namespace/name", to read the counters back. */
	private chains = new Map<string, string>();
	/** Connections counted by rules since replaced (a rewrite starts the kernel's counters at zero). */
	private readonly before = new Map<string, number>();

	constructor(private readonly store: Store, stateId: string, private readonly log: (line: string) => void) {
		this.table = `kubedeck-${stateId}`;
	}

	start(): void {
		// What an engine before this one left, and the tables of state directories that are gone.
		this.run(`table ip ${this.table} {}\ndelete table ip ${this.table}\n`);
		this.sweep();
		this.following = followStore(this.store, ['services', 'endpoints'], () => this.sync());
		this.sync();
	}

	stop(): void {
		this.following?.stop();
		this.run(`table ip ${this.table} {}\ndelete table ip ${this.table}\n`);
	}


	/** The rules for every Service now. */
	script(): string {
		const output: string[] = [], prerouting: string[] = [], chains: string[] = [], sets: string[] = [];
		this.chains = new Map();
		for (const svc of this.store.scan('services')) {
			const spec = svc.spec as Rec;
			if (spec.type === 'ExternalName' || !spec.clusterIP || spec.clusterIP === 'None') continue;
			const endpoints = this.store.peek('endpoints', svc.metadata.namespace!, svc.metadata.name!);
			const affinity = spec.sessionAffinity === 'ClientIP' ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10_800 : undefined;
			for (const sp of (spec.ports ?? []) as Rec[]) {
				if ((sp.protocol ?? 'TCP') !== 'TCP') continue;
				const id = short(`${svc.metadata.uid}/${sp.name ?? ''}/${sp.port}`);
				const chain = `svc-${id}`;
				this.chains.set(chain, `${svc.metadata.namespace}/${svc.metadata.name}`);
				const backends = backendsFor(endpoints, sp.name ?? '');
				output.push(`ip daddr ${spec.clusterIP} tcp dport ${sp.port} jump ${chain}`);
				for (const i of ((svc.status as Rec)?.loadBalancer?.ingress ?? []) as Rec[]) if (i.ip) output.push(`ip daddr ${i.ip} tcp dport ${sp.port} jump ${chain}`);
				if (sp.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) {
					output.push(`tcp dport ${sp.nodePort} fib daddr type local jump ${chain}`);
					prerouting.push(`tcp dport ${sp.nodePort} fib daddr type local jump ${chain}`);
				}
				const body = ['counter'];
				const endpointChains: string[] = [];
				backends.forEach((b, n) => {
					const ep = `ep-${id}-${n}`;
					const setName = `aff-${id}-${n}`;
					const rules = [];
					if (affinity !== undefined) {
						sets.push(`set ${setName} { type ipv4_addr; flags dynamic,timeout; timeout ${affinity}s; }`);
						body.push(`ip saddr @${setName} goto ${ep}`);
						rules.push(`update @${setName} { ip saddr }`);
					}
					rules.push(`meta l4proto tcp dnat to ${b.ip}:${b.port}`);
					endpointChains.push(`chain ${ep} {\n${rules.map(r => `\t\t${r}`).join('\n')}\n\t}`);
				});
				// No ready endpoint: the connection is refused, as kube-proxy rejects it.
				if (backends.length === 0) body.push('reject with tcp reset');
				else body.push(`numgen random mod ${backends.length} vmap { ${backends.map((_, n) => `${n} : goto ep-${id}-${n}`).join(', ')} }`);
				chains.push(`chain ${chain} {\n${body.map(r => `\t\t${r}`).join('\n')}\n\t}`, ...endpointChains);
			}
		}
		return [
			`table ip ${this.table} {}`,
			`delete table ip ${this.table}`,
			`table ip ${this.table} {`,
			...sets.map(s => `\t${s}`),
			'\tchain output {', '\t\ttype nat hook output priority -100; policy accept;', ...output.map(r => `\t\t${r}`), '\t}',
			'\tchain prerouting {', '\t\ttype nat hook prerouting priority -100; policy accept;', ...prerouting.map(r => `\t\t${r}`), '\t}',
			...chains.map(c => `\t${c}`),
			'}', '',
		].join('\n');
	}

	sync(): void {
		const script = this.script();
		if (script === this.last) return;
		// The rules about to be replaced: what they counted is kept (only a rewrite reads the counters).
		const counted = this.kernelCounts();
		if (!this.run(script)) return;
		this.last = script;
		for (const [service, n] of counted) this.before.set(service, (this.before.get(service) ?? 0) + n);
	}

	/** Remove kubedeck tables no live state directory owns (an engine that could not clean up, a directory removed since). */
	private sweep(): void {
		const r = spawnSync('nft', ['-j', 'list', 'tables'], {encoding: 'utf8'});
		if (r.status !== 0) return;
		const live = new Set(liveClaimants().map(home => `kubedeck-${stateId(home)}`));
		for (const item of (JSON.parse(r.stdout).nftables ?? []) as Rec[]) {
			const name: string | undefined = item.table?.family === 'ip' ? item.table.name : undefined;
			if (name?.startsWith('kubedeck-') && !live.has(name)) {
				this.run(`delete table ip ${name}\n`);
				this.log(`nftables: removed table ${name}: its state directory is gone`);
			}
		}
	}

	private run(script: string): boolean {
		const r = spawnSync('nft', ['-f', '-'], {input: script, encoding: 'utf8'});
		if (r.status !== 0) {
			this.log(`nftables: ${r.stderr.trim() || r.error?.message}`);
			return false;
		}
		return true;
	}

	/** New connections per Service ("namespace/name") counted by the kernel since the engine started. */
	connections(): Map<string, number> {
		const out = new Map(this.before);
		for (const [service, n] of this.kernelCounts()) out.set(service, (out.get(service) ?? 0) + n);
		return out;
	}

	/** What the rules in the kernel counted. */
	private kernelCounts(): Map<string, number> {
		const out = new Map<string, number>();
		if (!this.last) return out;
		const r = spawnSync('nft', ['-j', 'list', 'table', 'ip', this.table], {encoding: 'utf8'});
		if (r.status !== 0) return out;
		for (const item of (JSON.parse(r.stdout).nftables ?? []) as Rec[]) {
			const rule = item.rule;
			const service = rule && this.chains.get(rule.chain);
			const counter = service && (rule.expr as Rec[]).find(e => e.counter)?.counter;
			if (counter) out.set(service, (out.get(service) ?? 0) + counter.packets);
		}
		return out;
	}
}
