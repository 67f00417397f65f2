// The engine-only endpoint for kubedeck's users, under /kubedeck/v1/users
// (a real cluster has no such API; kubectl never asks it). It is a
// non-resource path, so RBAC decides who may use it: cluster-admin holds
// nonResourceURLs "*", nobody else does unless an admin grants the path.
//   GET    /kubedeck/v1/users                  the users
//   POST   /kubedeck/v1/users                  {name, groups?, sshKeys?, token?}: add (a new token is returned once)
//   DELETE /kubedeck/v1/users/NAME             remove
//   POST   /kubedeck/v1/users/NAME/token       a new token (the old one stops working)
//   POST   /kubedeck/v1/users/NAME/certificate a client certificate and key, with the CA
//   POST   /kubedeck/v1/users/NAME/keys        {key}: add an SSH public key
//   POST   /kubedeck/v1/users/NAME/remove-key  {key}: remove one
import {badRequest, methodNotAllowed, pathNotFound} from '../../api/errors.js';
import type {ClusterCA} from './ca.js';
import type {Users} from './users.js';

export const usersApiPrefix = '/kubedeck/v1/users';

type Rec = Record<string, any>;

const strings = (v: unknown, what: string): string[] => {
	if (v === undefined) return [];
	if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw badRequest(`${what} must be a list of strings`);
	return v as string[];
};

export async function serveUsersApi(users: Users, ca: ClusterCA | undefined, method: string, path: string, body: () => Promise<Rec>): Promise<{code: number; body: unknown}> {
	const rest = path.slice(usersApiPrefix.length).split('/').filter(Boolean).map(decodeURIComponent);
	if (rest.length === 0) {
		if (method === 'GET') return {code: 200, body: {kind: 'UserList', items: users.list()}};
		if (method !== 'POST') throw methodNotAllowed(`${method} is not supported on ${usersApiPrefix}`);
		const b = await body();
		if (typeof b.name !== 'string') throw badRequest('name is required');
		const {user, token} = await users.add(b.name, {groups: strings(b.groups, 'groups'), sshKeys: strings(b.sshKeys, 'sshKeys'), token: b.token === true});
		return {code: 201, body: {user, ...(token ? {token} : {})}};
	}
	const [name, action] = rest;
	if (rest.length === 1) {
		if (method === 'GET') {
			const user = users.get(name);
			if (!user) throw pathNotFound();
			return {code: 200, body: user};
		}
		if (method !== 'DELETE') throw methodNotAllowed(`${method} is not supported on a user`);
		await users.remove(name);
		return {code: 200, body: {removed: name}};
	}
	if (rest.length !== 2 || method !== 'POST') throw pathNotFound();
	switch (action) {
		case 'token': return {code: 200, body: {token: await users.rotateToken(name)}};
		case 'keys': {
			const b = await body();
			if (typeof b.key !== 'string' || !/^(ssh-|ecdsa-|sk-)\S+ \S+/.test(b.key.trim())) throw badRequest('key must be an SSH public key line (ssh-ed25519 AAAA... comment)');
			return {code: 200, body: await users.addKey(name, b.key.trim())};
		}
		case 'remove-key': {
			const b = await body();
			if (typeof b.key !== 'string' || !/^(ssh-|ecdsa-|sk-)\S+ \S+/.test(b.key.trim())) throw badRequest('key must be an SSH public key line (ssh-ed25519 AAAA... comment)');
			return {code: 200, body: await users.removeKey(name, b.key.trim())};
		}
		case 'certificate': {
			const user = users.get(name);
			if (!user) throw badRequest(`no user ${JSON.stringify(name)}`);
			if (!ca) throw badRequest('this engine has no certificate authority');
			// system:authenticated is added by the API to every user; it is not written into the certificate.
			const pair = ca.clientCert(user.name, user.groups, user.uid);
			return {code: 200, body: {certificate: pair.cert, key: pair.key, ca: ca.certPem}};
		}
	}
	throw pathNotFound();
}
