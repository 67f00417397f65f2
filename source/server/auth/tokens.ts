// ServiceAccount tokens, as the TokenRequest API issues them: JWTs signed
// with the engine's key (sa.key, RS256), naming the ServiceAccount and,
// when bound, the pod, with an audience and an expiry. A token is good while
// its signature, times and audience check out and the ServiceAccount (and
// the pod it is bound to) still exists with the same uid, as kube-apiserver's
// service account authenticator checks it.
//
// Written on node:crypto rather than with jose (which is installed, under
// client-node): jose verifies through WebCrypto and is async only, and the
// authenticator runs synchronously on every request; an RS256 JWT is three
// base64url parts and one signature, and verified tokens are cached.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {badRequest, conflict, field, invalid} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import {type ResourceType, typeByPlural} from '../../api/resources.js';
import {tokenLifeErrors} from '../../api/validation/pod.js';
import type {Store} from '../../store/store.js';
import type {Registry} from '../registry.js';
import {authenticatedUser, groups, type UserInfo} from './attributes.js';

export const apiAudience = 'https://kubernetes.default.svc.cluster.local';
const issuer = apiAudience;

/**
 * The life kube-api-access volumes ask for. A token asked for with exactly this life is issued for a
 * year, as kube-apiserver's --service-account-extend-token-expiration (on by default) does, so a
 * client that never reads the file again keeps working; the kubelet still writes a fresh one at
 * 80% of the hour (kubelet/volumes.ts).
 */
export const mountedTokenSeconds = 3607;
const extendedSeconds = 365 * 24 * 3600;

interface Claims {
	aud: string[];
	exp: number;
	iat: number;
	nbf: number;
	iss: string;
	sub: string;
	jti: string;
	'kubernetes.io': {
		namespace: string;
		serviceaccount: {name: string; uid: string};
		pod?: {name: string; uid: string};
	};
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function ensureKey(home: string): crypto.KeyObject {
	const file = path.join(home, 'sa.key');
	try {
		return crypto.createPrivateKey(fs.readFileSync(file, 'utf8'));
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}
	const {privateKey} = crypto.generateKeyPairSync('rsa', {modulusLength: 2048});
	const tmp = `${file}.tmp`;
	fs.writeFileSync(tmp, privateKey.export({type: 'pkcs1', format: 'pem'}), {mode: 0o600});
	fs.renameSync(tmp, file);
	return privateKey;
}

export interface TokenOptions {
	audiences?: string[];
	expirationSeconds?: number;
	pod?: KubeObject;
	/** Now, in ms (the engine's clock). */
	now?: number;
}

export class ServiceAccountTokens {
	private readonly key: crypto.KeyObject;
	private readonly publicKey: crypto.KeyObject;
	private readonly keyId: string;
	private readonly verified = new Map<string, {claims: Claims; user: UserInfo}>();

	constructor(home: string, private readonly store: Store, private readonly now: () => number = Date.now) {
		this.key = ensureKey(home);
		this.publicKey = crypto.createPublicKey(this.key);
		this.keyId = crypto.createHash('sha256').update(this.publicKey.export({type: 'spki', format: 'der'})).digest('base64url');
	}

	/** A token for a ServiceAccount (and the pod it is bound to); returns it and when it expires. */
	issue(sa: KubeObject, options: TokenOptions = {}): {token: string; expirationTimestamp: string} {
		const now = Math.floor((options.now ?? this.now()) / 1000);
		const exp = now + (options.expirationSeconds ?? 3600);
		const claims: Claims = {
			aud: options.audiences?.length ? options.audiences : [apiAudience], exp, iat: now, nbf: now, iss: issuer,
			sub: `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`, jti: crypto.randomUUID(),
			'kubernetes.io': {
				namespace: sa.metadata.namespace!, serviceaccount: {name: sa.metadata.name!, uid: sa.metadata.uid!},
				...(options.pod ? {pod: {name: options.pod.metadata.name!, uid: options.pod.metadata.uid!}} : {}),
			},
		};
		const head = `${b64url(JSON.stringify({alg: 'RS256', kid: this.keyId}))}.${b64url(JSON.stringify(claims))}`;
		const signature = crypto.sign('sha256', Buffer.from(head), this.key).toString('base64url');
		return {token: `${head}.${signature}`, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z')};
	}

	/** The token a kubelet mounts into a pod: bound to it, for the API's audience unless named, for the life asked (extended as above). */
	forPod(pod: KubeObject, audience?: string, expirationSeconds = 3600): string | undefined {
		const name = (pod.spec as {serviceAccountName?: string} | undefined)?.serviceAccountName || 'default';
		const sa = this.store.get('serviceaccounts', pod.metadata.namespace!, name);
		if (!sa) return undefined;
		return this.issue(sa, {pod, expirationSeconds: expirationSeconds === mountedTokenSeconds ? extendedSeconds : expirationSeconds, ...(audience ? {audiences: [audience]} : {})}).token;
	}

	/** The user a ServiceAccount token names, if it is one of ours and still good. */
	authenticate(token: string, audience = apiAudience): UserInfo | undefined {
		const cached = this.verified.get(token);
		const claims = cached?.claims ?? this.verify(token);
		if (!claims) return undefined;
		const now = Math.floor(this.now() / 1000);
		if (claims.exp <= now || claims.nbf > now + 60 || !claims.aud.includes(audience)) return undefined;
		const k = claims['kubernetes.io'];
		// Every request of an in-cluster client comes here: the cached objects are read, not copied.
		const sa = this.store.peek('serviceaccounts', k.namespace, k.serviceaccount.name);
		if (!sa || sa.metadata.uid !== k.serviceaccount.uid) return undefined;
		if (k.pod) {
			const pod = this.store.peek('pods', k.namespace, k.pod.name);
			// A terminating pod keeps its token a minute past its deletion time, so a preStop hook can still call the API.
			const deleted = pod?.metadata.deletionTimestamp ? Date.parse(pod.metadata.deletionTimestamp) : undefined;
			if (!pod || pod.metadata.uid !== k.pod.uid || (deleted !== undefined && this.now() > deleted + 60_000)) return undefined;
		}
		if (cached) return cached.user;
		const user = authenticatedUser(claims.sub, [groups.serviceAccounts, `${groups.serviceAccounts}:${k.namespace}`], {
			uid: k.serviceaccount.uid,
			...(k.pod ? {extra: {'authentication.kubernetes.io/pod-name': [k.pod.name], 'authentication.kubernetes.io/pod-uid': [k.pod.uid]}} : {}),
		});
		if (this.verified.size > 10_000) this.verified.clear();
		this.verified.set(token, {claims, user});
		return user;
	}

	private verify(token: string): Claims | undefined {
		const parts = token.split('.');
		if (parts.length !== 3) return undefined;
		try {
			const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
			if (header.alg !== 'RS256' || header.kid !== this.keyId) return undefined;
			if (!crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], 'base64url'))) return undefined;
			const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Claims;
			return claims.iss === issuer && typeof claims.exp === 'number' && Array.isArray(claims.aud) && claims['kubernetes.io']?.serviceaccount ? claims : undefined;
		} catch {
			return undefined;
		}
	}
}

export const tokenRequestType: ResourceType = {kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', plural: 'token', singular: 'token', shortNames: [], namespaced: true};

/** TokenRequest (kubectl create token): a token for the ServiceAccount, optionally bound to a pod, as the API validates it. */
export function tokenRequest(registry: Registry, tokens: ServiceAccountTokens, sa: KubeObject, request: KubeObject): KubeObject {
	const spec = (request.spec ?? {}) as {audiences?: string[]; expirationSeconds?: number; boundObjectRef?: {kind?: string; apiVersion?: string; name?: string; uid?: string}};
	const expirationSeconds = spec.expirationSeconds ?? 3600;
	const errors = tokenLifeErrors('spec.expirationSeconds', expirationSeconds);
	let pod: KubeObject | undefined;
	const ref = spec.boundObjectRef;
	if (ref) {
		if (ref.kind !== 'Pod') errors.push(field.notSupported('spec.boundObjectRef.kind', ref.kind ?? '', ['Pod']));
		else {
			pod = registry.get(typeByPlural('pods')!, sa.metadata.namespace!, ref.name ?? '');
			if (ref.uid && ref.uid !== pod.metadata.uid) throw conflict(typeByPlural('pods')!, ref.name ?? '', `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
			const podSA = (pod.spec as {serviceAccountName?: string}).serviceAccountName || 'default';
			if (podSA !== sa.metadata.name) throw badRequest(`cannot bind token for serviceaccount "${sa.metadata.name}" to pod running with different serviceaccount name.`);
		}
	}
	if (errors.length) throw invalid('TokenRequest', 'authentication.k8s.io', sa.metadata.name!, errors);
	const issued = tokens.issue(sa, {audiences: spec.audiences, expirationSeconds, pod});
	return {
		kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
		metadata: {name: sa.metadata.name, namespace: sa.metadata.namespace, creationTimestamp: null},
		spec: {audiences: spec.audiences?.length ? spec.audiences : [apiAudience], expirationSeconds, boundObjectRef: ref ?? null},
		status: issued,
	} as unknown as KubeObject;
}
