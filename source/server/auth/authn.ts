// Who a request comes from, as kube-apiserver's authenticator chain decides
// it: a client certificate the cluster CA signed (CN = user, O = groups), or
// a bearer token (the engine's admin token, a user's static token, or a
// ServiceAccount token). A credential that is presented and wrong is a 401,
// never a fall back to anonymous; a request with none is anonymous, which
// only the public paths accept (kube-apiserver's default RBAC leaves /healthz,
// /livez, /readyz and /version to system:unauthenticated; kubedeck refuses
// anonymous requests everywhere else with 401, before authorization).
import crypto from 'node:crypto';
import type http from 'node:http';
import type {PeerCertificate, TLSSocket} from 'node:tls';
import {StatusError} from '../../api/errors.js';
import {anonymous, authenticatedUser, localAdmin, type UserInfo} from './attributes.js';
import {userUnitPrefix} from './ca.js';
import type {Users} from './users.js';

export const unauthorized = () => new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401});

/** The paths kube-apiserver's default RBAC (system:public-info-viewer) leaves open. */
export const publicPaths = new Set(['/healthz', '/livez', '/readyz', '/version']);

export interface AuthenticatorOptions {
	/** The engine's own token (the local admin's, printed by `kubedeck kubeconfig`). */
	adminToken: string;
	users: Users;
	/** ServiceAccount tokens (JWTs the engine signed); undefined when not one. */
	serviceAccount?: (token: string) => UserInfo | undefined;
}

function sameSecret(given: string, expected: string): boolean {
	const a = Buffer.from(given), b = Buffer.from(expected);
	// timingSafeEqual needs equal lengths; compare against the secret itself when they differ, so the time does not say why.
	return crypto.timingSafeEqual(a.length === b.length ? a : b, b) && a.length === b.length;
}

/** The subject's CN and Os, as node prints a peer certificate (a repeated field is an array). */
function certificateUser(cert: PeerCertificate): UserInfo | undefined {
	if (!cert.subject) return undefined;
	const cn = cert.subject.CN as string | string[] | undefined;
	const o = cert.subject.O as string | string[] | undefined;
	const name = Array.isArray(cn) ? cn[0] : cn;
	if (!name) return undefined;
	return authenticatedUser(name, o === undefined ? [] : Array.isArray(o) ? o : [o]);
}

export class Authenticator {
	constructor(private readonly options: AuthenticatorOptions) {}

	/** The request's user; anonymous when it carries no credential; a 401 when it carries a wrong one. */
	authenticate(req: http.IncomingMessage): UserInfo {
		const header = req.headers.authorization;
		if (header !== undefined) {
			const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
			if (!m) throw unauthorized();
			return this.byToken(m[1]) ?? (() => { throw unauthorized(); })();
		}
		const socket = req.socket as TLSSocket;
		if (socket.encrypted && socket.getPeerCertificate) {
			const cert = socket.getPeerCertificate();
			if (cert && Object.keys(cert).length > 0) {
				// A certificate another CA signed, or one out of its validity: not a user.
				if (!socket.authorized) throw unauthorized();
				// A user removed from the engine loses their certificates too (kubedeck's choice: Kubernetes cannot revoke them).
				// A certificate names the user record it was issued for (its OU): an earlier user of the same name's does not work.
				const user = certificateUser(cert);
				const record = user && this.options.users.get(user.name);
				const ou = cert.subject?.OU as string | string[] | undefined;
				if (!user || !record || ![ou ?? []].flat().includes(`${userUnitPrefix}${record.uid}`)) throw unauthorized();
				return user;
			}
		}
		return anonymous;
	}

	byToken(token: string): UserInfo | undefined {
		if (sameSecret(token, this.options.adminToken)) return localAdmin;
		const user = this.options.users.byToken(token);
		if (user) return authenticatedUser(user.name, user.groups);
		return this.options.serviceAccount?.(token);
	}
}
