// The engine's admin token and where its TCP listener is. The token is made
// once, kept in the state directory (0600) and printed by `kubedeck
// kubeconfig`; it names the local admin (system:masters) on the TCP listener,
// as the unix socket's 0600 mode does there (server/auth/ holds the rest of
// authentication). The port is written beside it so the CLI can find the
// listener. A request that a browser made (it carries Origin) is refused on
// either, so a web page cannot drive the engine through a user's browser.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import {StatusError} from '../../api/errors.js';

export const tokenPath = (home: string) => path.join(home, 'api-token');
export const endpointPath = (home: string) => path.join(home, 'api-endpoint');

/** The engine's API token: read, or created (32 random bytes, hex) the first time. */
export function ensureApiToken(home: string): string {
	const file = tokenPath(home);
	try {
		const token = fs.readFileSync(file, 'utf8').trim();
		if (token) return token;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}
	const token = crypto.randomBytes(32).toString('hex');
	fs.writeFileSync(file, `${token}\n`, {mode: 0o600});
	fs.chmodSync(file, 0o600);
	return token;
}

export function readApiToken(home: string): string | undefined {
	try {
		return fs.readFileSync(tokenPath(home), 'utf8').trim() || undefined;
	} catch {
		return undefined;
	}
}

/** Where the running engine's TCP listener is: written at listen, removed at stop. */
export function writeEndpoint(home: string, port: number): void {
	fs.writeFileSync(endpointPath(home), `https://127.0.0.1:${port}\n`, {mode: 0o600});
}

export function readEndpoint(home: string): string | undefined {
	try {
		return fs.readFileSync(endpointPath(home), 'utf8').trim() || undefined;
	} catch {
		return undefined;
	}
}

/** The TCP port of the last start, kept so that a kubeconfig written then still works after a restart. */
export function lastApiPort(home: string): number | undefined {
	try {
		const port = Number(fs.readFileSync(path.join(home, 'api-port'), 'utf8').trim());
		return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
	} catch {
		return undefined;
	}
}

export function saveApiPort(home: string, port: number): void {
	fs.writeFileSync(path.join(home, 'api-port'), `${port}\n`, {mode: 0o600});
}

export function removeEndpoint(home: string): void {
	fs.rmSync(endpointPath(home), {force: true});
}

/** Browsers send Origin on cross-site requests (and on every POST); kubectl and client libraries never do. */
export function refuseBrowser(req: http.IncomingMessage): void {
	if (req.headers.origin !== undefined) {
		throw new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 403, reason: 'Forbidden',
			message: 'requests from a web browser (with an Origin header) are not accepted by the kubedeck API'});
	}
}
