// kubedeck port-forward TYPE/NAME [LOCAL:]REMOTE...: listen on 127.0.0.1 and
// pipe each connection to the pod behind the target (a pod; a Service's or
// a workload's first ready pod, as kubectl picks one), until interrupted.
// kubectl's lines: "Forwarding from 127.0.0.1:8080 -> 80", "Handling
// connection for 8080".
import type {KubeObject} from '../api/object.js';
import {isPodReady} from '../api/pods.js';
import {knownKind} from '../api/resources.js';
import {formatLabelSelector, fromLabelSelector, matchesLabels} from '../api/selectors.js';
import {CliError} from '../client/errors.js';
import {forwardTarget, PortForwards} from '../client/operations/port-forward.js';
import type {Command, CommandContext} from './context.js';
import {parseTargets} from './targets.js';

type Rec = Record<string, any>;

export const portForwardCommand: Command = {
	name: 'port-forward',
	summary: 'Forward one or more local ports to a pod',
	usage: 'kubedeck port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...]   (pod/NAME or NAME, svc/NAME, deploy/NAME; LOCAL_PORT 0 or :REMOTE picks a free port)',
	flags: {address: {type: 'string'}},
	async run(ctx: CommandContext) {
		const [target, ...specs] = ctx.positionals;
		if (!target || specs.length === 0) throw new CliError('error: TYPE/NAME and list of ports are required for port-forward');
		const address = ctx.string('address') ?? '127.0.0.1';
		if (address !== '127.0.0.1' && address !== 'localhost') throw new CliError(`error: --address ${address}: kubedeck forwards on 127.0.0.1 (localhost) only`);
		const ports = specs.map(spec => {
			const m = /^(?:(\d*):)?(\d+)$/.exec(spec);
			const local = m?.[1] === undefined ? Number(m?.[2]) : m[1] === '' ? 0 : Number(m[1]);
			const remote = Number(m?.[2]);
			if (!m || !(remote >= 1 && remote <= 65535) || !(local >= 0 && local <= 65535)) throw new CliError(`error: Error parsing local port '${spec}': ports must be numbers from 1 to 65535 (LOCAL_PORT:REMOTE_PORT, or :REMOTE_PORT for a free local port)`);
			return {local, remote, spec};
		});
		const client = await ctx.client();
		const [parsed] = parseTargets(target.includes('/') ? [target] : ['pod', target]);
		if (!parsed || parsed.names.length !== 1) throw new CliError('error: exactly one TYPE/NAME is required for port-forward');
		const obj = await client.get(parsed.type, ctx.namespace, parsed.names[0]);
		const pods = (await client.list(knownKind('Pod')!, {namespace: ctx.namespace})).items;
		const forwards = new PortForwards();
		const through = podOf(obj, pods);
		for (const {local, remote} of ports) {
			const where = forwardTarget(through, pods, remote);
			if ('error' in where) throw new CliError(`error: ${where.error}`);
			const forward = await forwards.start(target, where, local, () => ctx.out(`Handling connection for ${forward.local}`)).catch((error: NodeJS.ErrnoException) => {
				throw new CliError(error.code === 'EADDRINUSE' ? `error: unable to listen on port ${local}: address already in use` : `error: ${error.message}`);
			});
			ctx.out(`Forwarding from 127.0.0.1:${forward.local} -> ${remote}`);
		}
		await new Promise<void>(resolve => {
			const done = () => resolve();
			process.once('SIGINT', done);
			process.once('SIGTERM', done);
		});
		forwards.stopAll();
		return 0;
	},
};

/** What a port-forward goes through: a pod or a Service as they are; a workload's first ready pod. */
function podOf(obj: KubeObject, pods: KubeObject[]): KubeObject {
	if (obj.kind === 'Pod' || obj.kind === 'Service') return obj;
	const selector = fromLabelSelector((obj.spec as Rec)?.selector);
	if (selector.length === 0) throw new CliError(`error: cannot attach to ${obj.kind}: not implemented`);
	const pod = pods.find(p => (p.status as Rec)?.podIP && isPodReady(p) && matchesLabels(selector, p.metadata.labels));
	if (!pod) throw new CliError(`error: no ready pods for ${obj.kind.toLowerCase()} ${obj.metadata.name} (selector ${formatLabelSelector(selector)})`);
	return pod;
}
