// `kubedeck users`: the engine's users, for its admin. A user is a credential
// (a client certificate from `kubedeck kubeconfig --user`, or a token) plus
// ordinary RoleBindings; `users add NAME --namespace dev1 --role edit` is the
// seed's "a user granted dev1 works in dev1 alone". The records live behind
// the engine-only /kubedeck/v1/users endpoint (server/auth/users-api.ts);
// bindings are made through the Kubernetes API, so `kubectl get rolebindings`
// shows them.
import fs from 'node:fs';
import {StatusError} from '../api/errors.js';
import {knownKind} from '../api/resources.js';
import {bindingsOf, engineUsers, usersTable} from '../client/operations/users.js';
import {CliError} from '../client/errors.js';
import type {ClusterClient} from '../client/types.js';
import {type Command, type CommandContext} from './context.js';

export const userLabel = 'kubedeck.io/user';
const roles = ['view', 'edit', 'admin'];

/** The engine-only endpoint, through the local admin's connection. */
export async function engineApi(ctx: CommandContext): Promise<{client: ClusterClient; call: (method: string, path: string, body?: unknown) => Promise<any>}> {
	const client = await ctx.client();
	return {client, call: engineUsers(client)};
}

async function ensureNamespace(client: ClusterClient, name: string, level: string, out: (line: string) => void): Promise<void> {
	try {
		await client.get(knownKind('Namespace')!, undefined, name);
		return;
	} catch (error) {
		if (!(error instanceof StatusError && error.code === 404)) throw error;
	}
	await client.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name, labels: {'pod-security.kubernetes.io/enforce': level}}});
	out(`namespace/${name} created (pod-security.kubernetes.io/enforce: ${level})`);
}

async function add(ctx: CommandContext, name: string): Promise<number> {
	const namespace = ctx.explicitNamespace;
	const role = ctx.string('role') ?? (namespace ? 'edit' : undefined);
	if (role && !roles.includes(role)) throw new CliError(`error: --role must be one of ${roles.join(', ')}, not ${JSON.stringify(role)}`);
	if (role && !namespace) throw new CliError('error: --role needs --namespace: a user is granted a role in a namespace (bind a ClusterRole with a ClusterRoleBinding for cluster-wide rights)');
	const level = ctx.string('pod-security') ?? 'baseline';
	if (!['privileged', 'baseline', 'restricted'].includes(level)) throw new CliError(`error: --pod-security must be privileged, baseline or restricted, not ${JSON.stringify(level)}`);
	const sshKeys = ctx.strings('ssh-key').map(file => {
		try {
			return fs.readFileSync(file, 'utf8').trim();
		} catch (error) {
			throw new CliError(`error: cannot read the SSH key ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
		}
	});
	const {client, call} = await engineApi(ctx);
	await call('POST', '', {name, groups: ctx.strings('group'), sshKeys});
	ctx.out(`user/${name} created`);
	if (namespace && role) {
		await ensureNamespace(client, namespace, level, line => ctx.out(line));
		await client.create({
			apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding',
			metadata: {name: `kubedeck-user-${name}`, namespace, labels: {[userLabel]: name}},
			roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role},
			subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name}],
		});
		ctx.out(`rolebinding.rbac.authorization.k8s.io/kubedeck-user-${name} created (${role} in ${namespace})`);
	}
	ctx.out(`Give ${name} a kubeconfig with: kubedeck kubeconfig --user ${name}`);
	return 0;
}

async function list(ctx: CommandContext): Promise<number> {
	const table = await usersTable(await ctx.client());
	if (table === undefined) ctx.io.stderr.write('No users. Add one with: kubedeck users add NAME --namespace NS --role edit\n');
	else ctx.out(table);
	return 0;
}

async function remove(ctx: CommandContext, name: string): Promise<number> {
	const {client, call} = await engineApi(ctx);
	await call('DELETE', `/${encodeURIComponent(name)}`);
	// The bindings `users add` made go with the user; others naming them are the admin's to remove.
	for (const b of await bindingsOf(client, name)) {
		if (b.metadata.labels?.[userLabel] !== name) continue;
		await client.delete(knownKind(b.kind)!, b.metadata.namespace, b.metadata.name!);
	}
	ctx.out(`user/${name} removed`);
	return 0;
}

export const usersCommand: Command = {
	name: 'users',
	summary: 'Manage the engine\'s users: add, list, remove, token, add-key, remove-key',
	usage: [
		'kubedeck users add NAME [--namespace NS [--role view|edit|admin]] [--group G]... [--ssh-key FILE]... [--pod-security baseline|restricted|privileged]',
		'kubedeck users list',
		'kubedeck users remove NAME',
		'kubedeck users token NAME      (a new token; the old one stops working)',
		'kubedeck users add-key NAME FILE',
		'kubedeck users remove-key NAME FILE   (its SSH connections end)',
	].join('\n       '),
	flags: {role: {type: 'string'}, group: {type: 'string', multiple: true}, 'ssh-key': {type: 'string', multiple: true}, 'pod-security': {type: 'string'}},
	async run(ctx) {
		const [verb, name, file] = ctx.positionals;
		const needName = () => {
			if (!name) throw new CliError(`error: kubedeck users ${verb} needs a user name`);
			return name;
		};
		switch (verb) {
			case 'add': return add(ctx, needName());
			case 'list': case undefined: return list(ctx);
			case 'remove': case 'delete': return remove(ctx, needName());
			case 'token': {
				const {call} = await engineApi(ctx);
				ctx.out(((await call('POST', `/${encodeURIComponent(needName())}/token`)) as {token: string}).token);
				return 0;
			}
			case 'add-key': {
				if (!file) throw new CliError('error: kubedeck users add-key NAME FILE');
				const {call} = await engineApi(ctx);
				await call('POST', `/${encodeURIComponent(needName())}/keys`, {key: fs.readFileSync(file, 'utf8')});
				ctx.out(`user/${name} key added`);
				return 0;
			}
			case 'remove-key': {
				if (!file) throw new CliError('error: kubedeck users remove-key NAME FILE');
				const {call} = await engineApi(ctx);
				await call('POST', `/${encodeURIComponent(needName())}/remove-key`, {key: fs.readFileSync(file, 'utf8')});
				ctx.out(`user/${name} key removed`);
				return 0;
			}
		}
		throw new CliError(`error: unknown users command ${JSON.stringify(verb)}: use add, list, remove, token, add-key or remove-key`);
	},
};
