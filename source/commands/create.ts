// kubectl create: from files (-f), or the imperative generators
// `create namespace`, `create configmap`, `create secret generic`,
// `create deployment`, `create job` (also --from=cronjob/NAME), `create cronjob`,
// making the objects kubectl's generators make.
import fs from 'node:fs';
import path from 'node:path';
import {formatStatus, StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {type Command, type CommandContext} from './context.js';
import {formatObjects, parseOutput} from './output.js';
import {CliError} from '../client/errors.js';
import {planManifests} from '../client/operations/apply.js';
import {readManifests} from '../client/operations/manifests.js';
import {refOf, resolveType} from '../api/resources.js';
import {jobFromCronJob} from '../api/workloads.js';

/** --from-literal=k=v and --from-file=[key=]path (a directory adds each file). */
function collectData(ctx: CommandContext): Record<string, string> {
	const data: Record<string, string> = {};
	const put = (key: string, value: string) => {
		if (key in data) throw new CliError(`error: cannot add key ${key}, another key by that name already exists in Data for ConfigMap "${ctx.positionals[1]}"`);
		data[key] = value;
	};
	for (const literal of ctx.strings('from-literal')) {
		const eq = literal.indexOf('=');
		if (eq <= 0) throw new CliError(`error: invalid literal source ${literal}, expected key=value`);
		put(literal.slice(0, eq), literal.slice(eq + 1));
	}
	for (const spec of ctx.strings('from-file')) {
		const eq = spec.indexOf('=');
		const [key, file] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [undefined, spec];
		let stat: fs.Stats;
		try {
			stat = fs.statSync(file);
		} catch {
			throw new CliError(`error: error reading ${file}: no such file or directory`);
		}
		if (stat.isDirectory()) {
			if (key) throw new CliError(`error: cannot give a key name for a directory path`);
			for (const entry of fs.readdirSync(file)) {
				const full = path.join(file, entry);
				if (fs.statSync(full).isFile()) put(entry, fs.readFileSync(full, 'utf8'));
			}
		} else {
			put(key ?? path.basename(file), fs.readFileSync(file, 'utf8'));
		}
	}
	for (const envFile of ctx.strings('from-env-file')) {
		for (const line of fs.readFileSync(envFile, 'utf8').split('\n')) {
			if (!line.trim() || line.trim().startsWith('#')) continue;
			const eq = line.indexOf('=');
			if (eq <= 0) throw new CliError(`error: invalid env file line: ${line}`);
			put(line.slice(0, eq).trim(), line.slice(eq + 1));
		}
	}
	return data;
}

/** One container named after the object, with the image and the command after `--`, as kubectl's job and cronjob generators make it. */
function singleContainer(ctx: CommandContext, name: string): Record<string, unknown>[] {
	const image = ctx.string('image');
	if (!image) throw new CliError('error: required flag(s) "image" not set');
	return [{name, image, ...(ctx.rest.length ? {command: ctx.rest} : {})}];
}

function restartPolicy(ctx: CommandContext, fallback: string): string {
	const policy = ctx.string('restart') ?? fallback;
	if (!['OnFailure', 'Never'].includes(policy)) throw new CliError(`error: invalid restart policy: ${policy}`);
	return policy;
}

/** `create job NAME --from=cronjob/CJ`: the CronJob's job template, marked as started by hand and owned by the CronJob. */
async function jobFromCronJobFlag(ctx: CommandContext, name: string, from: string): Promise<KubeObject> {
	const [kind, cronName] = from.split('/');
	if (!cronName || !['cronjob', 'cronjobs', 'cj', 'cronjob.batch', 'cronjobs.batch'].includes(kind.toLowerCase())) {
		throw new CliError(`error: from must be an existing cronjob: ${from}`);
	}
	const client = await ctx.client();
	return jobFromCronJob(await client.get(resolveType('cronjobs')!, ctx.namespace, cronName), name) as KubeObject;
}

async function generate(ctx: CommandContext): Promise<KubeObject> {
	const [what, ...args] = ctx.positionals;
	const namespace = ctx.namespace;
	switch (what) {
		case 'namespace':
		case 'ns': {
			if (!args[0]) throw new CliError('error: exactly one NAME is required, got 0');
			return {apiVersion: 'v1', kind: 'Namespace', metadata: {name: args[0]}};
		}
		case 'configmap':
		case 'cm': {
			if (!args[0]) throw new CliError('error: exactly one NAME is required, got 0');
			return {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: args[0], namespace}, data: collectData(ctx)};
		}
		case 'secret': {
			if (args[0] !== 'generic') throw new CliError(`error: unknown secret type "${args[0] ?? ''}": kubedeck supports "create secret generic NAME"`);
			if (!args[1]) throw new CliError('error: exactly one NAME is required, got 0');
			const data = Object.fromEntries(Object.entries(collectData(ctx)).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
			return {apiVersion: 'v1', kind: 'Secret', metadata: {name: args[1], namespace}, type: ctx.string('type') ?? 'Opaque', data};
		}
		case 'deployment':
		case 'deploy': {
			const name = args[0];
			if (!name) throw new CliError('error: exactly one NAME is required, got 0');
			const images = ctx.strings('image');
			if (images.length === 0) throw new CliError('error: required flag(s) "image" not set');
			if (images.length > 1 && ctx.rest.length) throw new CliError('error: cannot specify multiple --image options and command');
			const replicas = Number(ctx.string('replicas') ?? 1);
			const labels = {app: name};
			const containers = images.map(image => {
				const base = image.split('/').pop()!.split(/[:@]/)[0].replace(/[^a-z0-9-]/g, '-');
				return {name: base, image, ...(ctx.rest.length ? {command: ctx.rest} : {}), ...(ctx.string('port') ? {ports: [{containerPort: Number(ctx.string('port'))}]} : {})};
			});
			return {
				apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace, labels},
				spec: {replicas, selector: {matchLabels: labels}, template: {metadata: {labels}, spec: {containers}}},
			};
		}
		case 'job': {
			const name = args[0];
			if (!name) throw new CliError('error: exactly one NAME is required, got 0');
			const from = ctx.string('from');
			if (from) {
				if (ctx.string('image') || ctx.rest.length) throw new CliError('error: either --image or --from must be specified');
				return jobFromCronJobFlag(ctx, name, from);
			}
			return {
				apiVersion: 'batch/v1', kind: 'Job', metadata: {name, namespace},
				spec: {template: {metadata: {}, spec: {containers: singleContainer(ctx, name), restartPolicy: restartPolicy(ctx, 'Never')}}},
			};
		}
		case 'cronjob':
		case 'cj': {
			const name = args[0];
			if (!name) throw new CliError('error: exactly one NAME is required, got 0');
			const schedule = ctx.string('schedule');
			if (!schedule) throw new CliError('error: required flag(s) "schedule" not set');
			return {
				apiVersion: 'batch/v1', kind: 'CronJob', metadata: {name, namespace},
				spec: {schedule, jobTemplate: {metadata: {name}, spec: {template: {metadata: {}, spec: {containers: singleContainer(ctx, name), restartPolicy: restartPolicy(ctx, 'OnFailure')}}}}},
			};
		}
		default:
			throw new CliError(`error: unknown command "${what}" for "kubedeck create": use -f FILE, or one of namespace, configmap, secret generic, deployment, job, cronjob`);
	}
}

export const createCommand: Command = {
	name: 'create',
	summary: 'Create a resource from a file or from stdin, or with a generator',
	usage: 'kubedeck create -f FILENAME | namespace NAME | configmap NAME [--from-literal=k=v] [--from-file=[key=]path] | secret generic NAME [...] | deployment NAME --image=IMAGE [--replicas=N] [-- COMMAND...] | job NAME --image=IMAGE [-- COMMAND...] | job NAME --from=cronjob/NAME | cronjob NAME --image=IMAGE --schedule=SCHEDULE [--restart=OnFailure|Never] [-- COMMAND...]',
	flags: {
		filename: {type: 'string', short: 'f', multiple: true},
		recursive: {type: 'boolean', short: 'R'},
		'from-literal': {type: 'string', multiple: true},
		'from-file': {type: 'string', multiple: true},
		'from-env-file': {type: 'string', multiple: true},
		image: {type: 'string', multiple: true},
		replicas: {type: 'string', short: 'r'},
		port: {type: 'string'},
		type: {type: 'string'},
		from: {type: 'string'},
		schedule: {type: 'string'},
		restart: {type: 'string'},
		'dry-run': {type: 'string'},
		output: {type: 'string', short: 'o'},
		'save-config': {type: 'boolean'},
	},
	async run(ctx: CommandContext) {
		const output = parseOutput(ctx.string('output'));
		const dryRun = ctx.string('dry-run');
		let objects: {object: KubeObject; source?: string}[];
		if (ctx.strings('filename').length) {
			const manifests = await readManifests(ctx.strings('filename'), {recursive: ctx.bool('recursive'), stdin: ctx.io.stdin});
			const {planned, errors} = planManifests(manifests, ctx.namespace, ctx.explicitNamespace);
			if (errors.length) {
				for (const e of errors) ctx.err(e);
				return 1;
			}
			objects = planned.map(p => ({object: p.object, source: p.manifest.source}));
		} else {
			if (ctx.positionals.length === 0) throw new CliError('error: must specify one of -f and -k, or a resource to generate (namespace, configmap, secret generic, deployment, job, cronjob)');
			objects = [{object: await generate(ctx)}];
		}
		const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
		const results: KubeObject[] = [];
		let exit = 0;
		for (const {object, source} of objects) {
			if (dryRun === 'client') {
				results.push(object);
				if (output.kind === 'table') ctx.out(`${refOf(object)} created${suffix}`);
				continue;
			}
			try {
				const created = await (await ctx.client()).create(object, {dryRun: dryRun === 'server', namespace: ctx.namespace});
				results.push(created);
				if (output.kind === 'table') ctx.out(`${refOf(created)} created${suffix}`);
			} catch (error) {
				if (!(error instanceof StatusError)) throw error;
				ctx.err(formatStatus(error.status, source ? {verb: 'creating', source} : undefined));
				exit = 1;
			}
		}
		if (output.kind !== 'table' && output.kind !== 'wide' && results.length) ctx.io.stdout.write(formatObjects(results, output, results.length === 1));
		return exit;
	},
};
