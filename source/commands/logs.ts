// kubectl logs: a pod's (or a workload's first pod's) container log;
// -f follows, --tail, --since, -p previous instance, --timestamps, -c,
// --all-containers, -l for several pods with a [pod/name/container] prefix.
import {formatStatus, StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {knownKind} from '../api/resources.js';
import {formatLabelSelector, fromLabelSelector} from '../api/selectors.js';
import type {ClusterClient, LogOptions} from '../client/types.js';
import {type Command, type CommandContext} from './context.js';
import {parseDuration} from './delete.js';
import {parseTargets} from './targets.js';
import {CliError} from '../client/errors.js';

type Rec = Record<string, any>;

/** `deploy/web`, `rs/x`, `job/y`: the first pod the workload's selector matches. */
async function podsFor(client: ClusterClient, ctx: CommandContext, arg: string): Promise<KubeObject[]> {
	if (!arg.includes('/')) return [await client.get(knownKind('Pod')!, ctx.namespace, arg)];
	const [{type, names: [name]}] = parseTargets([arg]);
	if (type.kind === 'Pod') return [await client.get(type, ctx.namespace, name)];
	const owner = await client.get(type, ctx.namespace, name);
	const selector = formatLabelSelector(fromLabelSelector((owner.spec as Rec).selector));
	const pods = (await client.list(knownKind('Pod')!, {namespace: ctx.namespace, labelSelector: selector})).items;
	if (pods.length === 0) throw new CliError(`error: no pods found for ${arg}`);
	if (pods.length > 1) ctx.err(`Found ${pods.length} pods, using pod/${pods[0].metadata.name}`);
	return [pods[0]];
}

export const logsCommand: Command = {
	name: 'logs',
	summary: 'Print the logs for a container in a pod',
	usage: 'kubedeck logs [-f] [-p] [-c CONTAINER] [--tail=N] [--since=10s] [--timestamps] [--all-containers] (POD | TYPE/NAME | -l SELECTOR)',
	flags: {
		follow: {type: 'boolean', short: 'f'}, previous: {type: 'boolean', short: 'p'}, container: {type: 'string', short: 'c'},
		tail: {type: 'string'}, since: {type: 'string'}, timestamps: {type: 'boolean'}, 'all-containers': {type: 'boolean'},
		selector: {type: 'string', short: 'l'}, 'limit-bytes': {type: 'string'}, prefix: {type: 'boolean'},
	},
	async run(ctx: CommandContext) {
		const client = await ctx.client();
		let pods: KubeObject[];
		const selector = ctx.string('selector');
		if (selector) {
			pods = (await client.list(knownKind('Pod')!, {namespace: ctx.namespace, labelSelector: selector})).items;
			if (pods.length === 0) {
				ctx.err(`No resources found in ${ctx.namespace} namespace.`);
				return 0;
			}
		} else {
			if (ctx.positionals.length === 0) throw new CliError('error: expected POD or TYPE/NAME is a required argument for the logs command');
			try {
				pods = await podsFor(client, ctx, ctx.positionals[0]);
			} catch (error) {
				if (error instanceof StatusError && error.code === 404) throw new CliError(`error: error from server (NotFound): ${error.message} in namespace "${ctx.namespace}"`);
				throw error;
			}
		}
		const tail = ctx.string('tail') !== undefined ? Number(ctx.string('tail')) : selector ? 10 : undefined;
		const base: LogOptions = {
			follow: ctx.bool('follow'), previous: ctx.bool('previous'), timestamps: ctx.bool('timestamps'),
			tailLines: tail !== undefined && tail >= 0 ? tail : undefined,
			sinceSeconds: ctx.string('since') ? Math.ceil(parseDuration(ctx.string('since')!) / 1000) : undefined,
			limitBytes: ctx.string('limit-bytes') ? Number(ctx.string('limit-bytes')) : undefined,
		};
		const jobs: {pod: KubeObject; container?: string}[] = [];
		for (const pod of pods) {
			const containers: string[] = ((pod.spec as Rec).containers ?? []).map((c: Rec) => c.name);
			if (ctx.bool('all-containers')) for (const c of [...((pod.spec as Rec).initContainers ?? []).map((c: Rec) => c.name), ...containers]) jobs.push({pod, container: c});
			else if (ctx.string('container')) {
				if (![...containers, ...((pod.spec as Rec).initContainers ?? []).map((c: Rec) => c.name)].includes(ctx.string('container')!)) {
					throw new CliError(`error: container ${ctx.string('container')} is not valid for pod ${pod.metadata.name}`);
				}
				jobs.push({pod, container: ctx.string('container')});
			} else {
				const chosen = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? containers[0];
				if (containers.length > 1 && !pod.metadata.annotations?.['kubectl.kubernetes.io/default-container']) ctx.err(`Defaulted container "${chosen}" out of: ${containers.join(', ')}`);
				jobs.push({pod, container: chosen});
			}
		}
		const prefix = ctx.bool('prefix') || pods.length > 1;
		const run = async ({pod, container}: {pod: KubeObject; container?: string}) => {
			const label = `[pod/${pod.metadata.name}/${container}] `;
			const stream = client.logs(pod.metadata.namespace!, pod.metadata.name!, {...base, container}, text => {
				ctx.io.stdout.write(prefix ? text.split('\n').map((l, i, all) => (i === all.length - 1 && l === '' ? '' : `${label}${l}`)).join('\n') : text);
			});
			const stop = () => stream.stop();
			process.once('SIGINT', stop);
			try {
				await stream.done;
			} finally {
				process.off('SIGINT', stop);
			}
		};
		let exit = 0;
		const handle = async (job: {pod: KubeObject; container?: string}) => {
			try {
				await run(job);
			} catch (error) {
				if (!(error instanceof StatusError)) throw error;
				ctx.err(error.reason === 'BadRequest' ? `Error from server (BadRequest): ${error.message}` : formatStatus(error.status));
				exit = 1;
			}
		};
		// Followed streams run side by side; the rest print one after another, as kubectl does.
		if (base.follow) await Promise.all(jobs.map(handle));
		else for (const job of jobs) await handle(job);
		return exit;
	},
};
