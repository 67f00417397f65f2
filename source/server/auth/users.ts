// kubedeck's users: a name, groups, a static token (stored as its SHA-256:
// tokens are 32 random bytes, so a fast hash is enough, and a stolen state
// file holds no usable token) and SSH public keys for the console. They live
// in the state file as engine-only objects (plural `users`, group kubedeck.io), never
// served as a Kubernetes resource: a Kubernetes cluster keeps its users
// outside the API too (static token files, client certificates). Their rights
// are ordinary RoleBindings naming them.
import crypto from 'node:crypto';
import {badRequest, notFound} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import type {ResourceType} from '../../api/resources.js';
import type {Store} from '../../store/store.js';

/** The store's type for user records: engine-only, not in resources.ts, so no API path reaches it. */
export const userType: ResourceType = {kind: 'User', group: 'kubedeck.io', version: 'v1', plural: 'users', singular: 'user', shortNames: [], namespaced: false};

export interface UserRecord {
	name: string;
	/** Changes when a user of the same name is added again; their certificates carry it. */
	uid: string;
	groups: string[];
	sshKeys: string[];
	hasToken: boolean;
	created?: string;
}

interface UserSpec {
	groups?: string[];
	tokenHash?: string;
	sshKeys?: string[];
}

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/** A new user token: recognisable in a leak scan, 256 random bits. */
export const newToken = () => `kd_${crypto.randomBytes(32).toString('base64url')}`;

/** Names kube-apiserver would take as a user name: no empty, no system: prefix (that space is Kubernetes' own). */
export function checkUserName(name: string): void {
	if (!/^[a-z0-9]([-a-z0-9._@]*[a-z0-9])?$/.test(name) || name.length > 253) {
		throw badRequest(`invalid user name ${JSON.stringify(name)}: lower-case letters, digits, '-', '.', '_' and '@', starting and ending with a letter or digit`);
	}
	if (name.startsWith('system:')) throw badRequest('user names starting with "system:" are reserved');
}

function toRecord(obj: KubeObject): UserRecord {
	const spec = (obj.spec ?? {}) as UserSpec;
	return {name: obj.metadata.name!, uid: obj.metadata.uid ?? '', groups: spec.groups ?? [], sshKeys: spec.sshKeys ?? [], hasToken: !!spec.tokenHash, created: obj.metadata.creationTimestamp};
}

export class Users {
	private byHash?: Map<string, UserRecord>;
	private readonly unwatch: () => void;

	constructor(private readonly store: Store) {
		this.unwatch = store.watch(userType.plural, undefined, Number(store.resourceVersion), () => (this.byHash = undefined));
	}

	stop(): void {
		this.unwatch();
	}

	list(): UserRecord[] {
		return this.store.list(userType.plural).items.map(toRecord).sort((a, b) => a.name.localeCompare(b.name));
	}

	get(name: string): UserRecord | undefined {
		// Read on every request a client certificate makes: the cached object, not a copy.
		const obj = this.store.peek(userType.plural, '', name);
		return obj && toRecord(obj);
	}

	/** The user a bearer token names, if any. */
	byToken(token: string): UserRecord | undefined {
		if (!this.byHash) {
			this.byHash = new Map();
			for (const obj of this.store.list(userType.plural).items) {
				const hash = (obj.spec as UserSpec | undefined)?.tokenHash;
				if (hash) this.byHash.set(hash, toRecord(obj));
			}
		}
		return this.byHash.get(hashToken(token));
	}

	/** Adds a user; with `token`, gives them one and returns it (shown once, stored hashed). */
	async add(name: string, options: {groups?: string[]; sshKeys?: string[]; token?: boolean}): Promise<{user: UserRecord; token?: string}> {
		checkUserName(name);
		for (const g of options.groups ?? []) checkGroupName(g);
		const token = options.token ? newToken() : undefined;
		const obj = await this.store.write(tx => tx.create(userType, {
			apiVersion: 'kubedeck.io/v1', kind: 'User', metadata: {name, uid: crypto.randomUUID()},
			spec: {groups: options.groups ?? [], sshKeys: options.sshKeys ?? [], ...(token ? {tokenHash: hashToken(token)} : {})},
		} as KubeObject));
		return {user: toRecord(obj), token};
	}

	/** A new token for a user; the old one stops working at once. */
	async rotateToken(name: string): Promise<string> {
		const token = newToken();
		await this.change(name, spec => ({...spec, tokenHash: hashToken(token)}));
		return token;
	}

	async addKey(name: string, key: string): Promise<UserRecord> {
		return this.change(name, spec => ({...spec, sshKeys: [...new Set([...(spec.sshKeys ?? []), key])]}));
	}

	private async change(name: string, edit: (spec: UserSpec) => UserSpec): Promise<UserRecord> {
		const obj = await this.store.write(tx => {
			const current = tx.get(userType.plural, '', name);
			if (!current) throw notFound(userType, name);
			return tx.update(userType, {...current, spec: edit((current.spec ?? {}) as UserSpec)});
		});
		return toRecord(obj);
	}

	async remove(name: string): Promise<void> {
		await this.store.write(tx => {
			if (!tx.get(userType.plural, '', name)) throw notFound(userType, name);
			return tx.delete(userType, '', name).object;
		});
	}

	/** Removes an SSH key (matched on its type and data, whatever its comment); the console ends connections made with it. */
	async removeKey(name: string, key: string): Promise<UserRecord> {
		const data = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');
		const current = this.get(name);
		if (current && !current.sshKeys.some(k => data(k) === data(key))) throw badRequest(`user ${JSON.stringify(name)} has no such SSH key`);
		return this.change(name, spec => ({...spec, sshKeys: (spec.sshKeys ?? []).filter(k => data(k) !== data(key))}));
	}
}

/**
 * A group a user may be put in: not one of the system's (system:masters is cluster-admin, and the
 * others are the authenticator's to give), nothing a header or a list would split or trim (a comma,
 * white space at either end), nothing empty.
 */
export function checkGroupName(group: string): void {
	if (group === 'system:masters') throw badRequest('a user cannot be put in system:masters: bind them to cluster-admin instead');
	if (group.startsWith('system:')) throw badRequest(`invalid group ${JSON.stringify(group)}: system: groups are given by the authenticator, not to users`);
	if (!group || group.includes(',') || group !== group.trim() || /[\x00-\x1f\x7f]/.test(group)) {
		throw badRequest(`invalid group ${JSON.stringify(group)}: a group name may not be empty, contain a comma or a control character, or begin or end with white space`);
	}
}
