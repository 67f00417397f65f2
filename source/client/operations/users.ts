// The engine's users and what they are granted, for `kubedeck users list`
// and the dashboard's `:users`: the records from the engine-only endpoint
// (which only cluster-admins may read: the capability check is RBAC's), and
// the RoleBindings and ClusterRoleBindings naming each user.
import type {KubeObject} from '../../api/object.js';
import {knownKind} from '../../api/resources.js';
import {age, alignColumns} from '../../render/format.js';
import type {UserRecord} from '../../server/auth/users.js';
import {EmbeddedClient} from '../embedded.js';
import {CliError} from '../errors.js';
import type {ClusterClient} from '../types.js';

export const usersPath = '/kubedeck/v1/users';

/** The engine-only endpoint; a kubeconfig cluster has no users of kubedeck's. */
export function engineUsers(client: ClusterClient): (method: string, path: string, body?: unknown) => Promise<any> {
	if (!(client instanceof EmbeddedClient)) throw new CliError('error: users are kept by the kubedeck engine; this needs the local engine, not a kubeconfig cluster');
	return (method, path, body) => client.engine(method, `${usersPath}${path}`, body);
}

/** The RoleBindings and ClusterRoleBindings naming a user as a subject. */
export async function bindingsOf(client: ClusterClient, user: string): Promise<KubeObject[]> {
	const [rbs, crbs] = await Promise.all([client.list(knownKind('RoleBinding')!), client.list(knownKind('ClusterRoleBinding')!)]);
	return [...rbs.items, ...crbs.items].filter(b => ((b.subjects ?? []) as {kind: string; name: string}[]).some(s => s.kind === 'User' && s.name === user));
}

/** The users as a table: name, groups, roles (role@namespace), token, SSH keys, age; undefined when there are none. */
export async function usersTable(client: ClusterClient, now = Date.now()): Promise<string | undefined> {
	const users = ((await engineUsers(client)('GET', '')) as {items: UserRecord[]}).items;
	if (users.length === 0) return undefined;
	const [rbs, crbs] = await Promise.all([client.list(knownKind('RoleBinding')!), client.list(knownKind('ClusterRoleBinding')!)]);
	const bindings = [...rbs.items, ...crbs.items];
	const rows = [['NAME', 'GROUPS', 'ROLES', 'TOKEN', 'SSH KEYS', 'AGE']];
	for (const u of users) {
		const grants = bindings.filter(b => ((b.subjects ?? []) as {kind: string; name: string}[]).some(s => s.kind === 'User' && s.name === u.name))
			.map(b => `${(b.roleRef as {name: string}).name}${b.metadata.namespace ? `@${b.metadata.namespace}` : ' (cluster)'}`);
		rows.push([u.name, u.groups.join(',') || '<none>', grants.join(',') || '<none>', u.hasToken ? 'yes' : 'no', String(u.sshKeys.length), age(u.created, now)]);
	}
	return alignColumns(rows);
}
