// kubectl scale, set image and rollout (status, history, undo, restart,
// pause, resume), with kubectl's wording.
import {formatStatus, StatusError} from '../api/errors.js';
import {objectRef, type ResourceType} from '../api/resources.js';
import {CliError} from '../client/errors.js';
import {historyOf, rolloutRestart, rolloutStatusOf, rolloutUndo} from '../client/operations/rollout.js';
import type {ClusterClient} from '../client/types.js';
import type {Command, CommandContext} from './context.js';
import {parseDuration} from './delete.js';
import {parseTargets} from './targets.js';

type Rec = Record<string, any>;

function oneTarget(ctx: CommandContext, args: string[]): {type: ResourceType; name: string} {
	const targets = parseTargets(args);
	if (targets.length !== 1 || targets[0].names.length !== 1) throw new CliError('error: exactly one TYPE NAME or TYPE/NAME is required');
	return {type: targets[0].type, name: targets[0].names[0]};
}

export const scaleCommand: Command = {
	name: 'scale',
	summary: 'Set a new size for a deployment, replica set or stateful set',
	usage: 'kubedeck scale (TYPE NAME | TYPE/NAME) --replicas=COUNT',
	flags: {replicas: {type: 'string'}},
	async run(ctx) {
		const replicas = Number(ctx.string('replicas'));
		if (ctx.string('replicas') === undefined || !Number.isInteger(replicas) || replicas < 0) throw new CliError('error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
		const client = await ctx.client();
		let exit = 0;
		for (const {type, names} of parseTargets(ctx.positionals)) {
			if (!type.subresources?.includes('scale')) throw new CliError(`error: no scaler has been implemented for ${type.kind}`);
			for (const name of names) {
				try {
					await client.scale(type, ctx.namespace, name, replicas);
					ctx.out(`${objectRef(type, name)} scaled`);
				} catch (error) {
					if (!(error instanceof StatusError)) throw error;
					ctx.err(formatStatus(error.status));
					exit = 1;
				}
			}
		}
		return exit;
	},
};

/** A whole number flag, or a kubectl-style error naming it. */
function wholeFlag(ctx: CommandContext, name: string, fallback: number): number {
	const text = ctx.string(name);
	if (text === undefined) return fallback;
	const n = Number(text);
	if (!Number.isInteger(n)) throw new CliError(`error: invalid argument "${text}" for "--${name}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
	return n;
}

export const autoscaleCommand: Command = {
	name: 'autoscale',
	summary: 'Auto-scale a deployment, replica set or stateful set (a HorizontalPodAutoscaler)',
	usage: 'kubedeck autoscale (TYPE NAME | TYPE/NAME) --max=MAXPODS [--min=MINPODS] [--cpu-percent=CPU] [--name=NAME]',
	flags: {min: {type: 'string'}, max: {type: 'string'}, 'cpu-percent': {type: 'string'}, name: {type: 'string'}},
	async run(ctx) {
		const {type, name} = oneTarget(ctx, ctx.positionals);
		if (!type.subresources?.includes('scale')) throw new CliError(`error: cannot autoscale a ${type.kind}: cannot autoscale a ${type.kind}`);
		const max = wholeFlag(ctx, 'max', -1), min = wholeFlag(ctx, 'min', -1), cpu = wholeFlag(ctx, 'cpu-percent', -1);
		if (max < 1) throw new CliError(`error: --max=MAXPODS is required and must be at least 1, max: ${max}`);
		if (min > max) throw new CliError(`error: --max=MAXPODS must be larger or equal to --min=MINPODS, max: ${max}, min: ${min}`);
		const client = await ctx.client();
		const target = await client.get(type, ctx.namespace, name);
		const hpaName = ctx.string('name') ?? name;
		await client.create({
			apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {name: hpaName, namespace: ctx.namespace},
			spec: {
				scaleTargetRef: {apiVersion: target.apiVersion, kind: target.kind, name},
				...(min >= 0 ? {minReplicas: min} : {}), maxReplicas: max,
				// Without --cpu-percent the controller's default (80% of requests) applies, as with kubectl.
				...(cpu >= 0 ? {metrics: [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: cpu}}}]} : {}),
			},
		}, {namespace: ctx.namespace});
		ctx.out(`horizontalpodautoscaler.autoscaling/${hpaName} autoscaled`);
		return 0;
	},
};

export const setCommand: Command = {
	name: 'set',
	summary: 'Set specific features on objects (set image)',
	usage: 'kubedeck set image (TYPE NAME | TYPE/NAME) CONTAINER=IMAGE ... ',
	flags: {},
	async run(ctx) {
		const [what, ...rest] = ctx.positionals;
		if (what !== 'image') throw new CliError(`error: unknown command "set ${what ?? ''}": kubedeck supports "set image"`);
		const changes = rest.filter(a => a.includes('='));
		const {type, name} = oneTarget(ctx, rest.filter(a => !a.includes('=')));
		if (changes.length === 0) throw new CliError('error: at least one image update is required');
		const client = await ctx.client();
		const obj = await client.get(type, ctx.namespace, name);
		const podSpec = type.kind === 'Pod' ? (obj.spec as Rec) : type.kind === 'CronJob' ? (obj.spec as Rec).jobTemplate.spec.template.spec : (obj.spec as Rec).template.spec;
		const containers: Rec[] = [...(podSpec.initContainers ?? []), ...podSpec.containers];
		for (const change of changes) {
			const [container, image] = change.split('=');
			const targets = container === '*' ? containers : containers.filter(c => c.name === container);
			if (targets.length === 0) throw new CliError(`error: unable to find container named "${container}"`);
			for (const c of targets) c.image = image;
		}
		await client.patch(type, ctx.namespace, name, {spec: obj.spec}, 'merge');
		ctx.out(`${objectRef(type, name)} image updated`);
		return 0;
	},
};

async function rolloutStatus(ctx: CommandContext, client: ClusterClient, type: ResourceType, name: string): Promise<number> {
	const timeout = ctx.string('timeout') ? parseDuration(ctx.string('timeout')!) : 0;
	const deadline = timeout ? Date.now() + timeout : Infinity;
	let last = '';
	for (;;) {
		const [message, done] = rolloutStatusOf(await client.get(type, ctx.namespace, name));
		if (message !== last) ctx.out(message);
		last = message;
		if (done || ctx.string('watch') === 'false') return 0;
		if (Date.now() > deadline) throw new CliError('error: timed out waiting for the condition');
		await new Promise(r => setTimeout(r, 200));
	}
}

export const rolloutCommand: Command = {
	name: 'rollout',
	summary: 'Manage the rollout of a resource: status, history, undo, restart, pause, resume',
	usage: 'kubedeck rollout (status|history|undo|restart|pause|resume) (TYPE NAME | TYPE/NAME) [--to-revision=N] [--revision=N] [--timeout=5m]',
	flags: {'to-revision': {type: 'string'}, revision: {type: 'string'}, timeout: {type: 'string'}, watch: {type: 'string', short: 'w'}},
	async run(ctx) {
		const [verb, ...args] = ctx.positionals;
		const {type, name} = oneTarget(ctx, args);
		const client = await ctx.client();
		const ref = objectRef(type, name);
		switch (verb) {
			case 'status':
				return rolloutStatus(ctx, client, type, name);
			case 'history': {
				const history = await historyOf(client, await client.get(type, ctx.namespace, name));
				const wanted = ctx.string('revision');
				if (wanted) {
					const found = history.find(r => String(r.revision) === wanted);
					if (!found) throw new CliError(`error: unable to find the specified revision`);
					const t = found.template;
					ctx.out(`${ref} with revision #${wanted}\nPod Template:\n  Labels:\t${Object.entries(t.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`).join('\n\t')}\n  Containers:\n${(t.spec.containers as Rec[]).map(c => `   ${c.name}:\n    Image:\t${c.image}${c.command ? `\n    Command:\t${c.command.join(' ')}` : ''}`).join('\n')}`);
					return 0;
				}
				ctx.out(`${ref} \nREVISION  CHANGE-CAUSE\n${history.map(r => `${String(r.revision).padEnd(10)}${r.changeCause ?? '<none>'}`).join('\n')}`);
				return 0;
			}
			case 'undo':
				ctx.out(await rolloutUndo(client, type, ctx.namespace, name, ctx.string('to-revision') ? Number(ctx.string('to-revision')) : 0));
				return 0;
			case 'restart':
				ctx.out(await rolloutRestart(client, type, ctx.namespace, name));
				return 0;
			case 'pause':
			case 'resume': {
				const d = await client.get(type, ctx.namespace, name);
				const paused = verb === 'pause';
				if (!!(d.spec as Rec).paused === paused) throw new CliError(`error: ${ref} is ${paused ? 'already paused' : 'not paused'}`);
				await client.patch(type, ctx.namespace, name, {spec: {paused}}, 'merge');
				ctx.out(`${ref} ${paused ? 'paused' : 'resumed'}`);
				return 0;
			}
			default:
				throw new CliError(`error: unknown command "rollout ${verb ?? ''}": use status, history, undo, restart, pause or resume`);
		}
	},
};
