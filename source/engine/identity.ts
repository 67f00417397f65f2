// The engine proves who it is over its unix socket: GET /kubedeck/identity
// with a nonce answers with an HMAC of that nonce under the token the engine
// wrote into engine.lock. Before `kubedeck stop` signals a pid, it checks that
// the process answering on the socket knows the lock's token; a process that
// merely has the right pid (or even the right start time) cannot.
//
// kubedeck-private, on the unix socket only (the TCP API never serves it),
// and the token itself never crosses the socket: only proofs of it do.
import crypto from 'node:crypto';
import http from 'node:http';
import type {EngineLock} from './home.js';

export const identityPath = '/kubedeck/identity';

interface IdentityAnswer {
	pid: number;
	proof: string;
}

function prove(token: string, nonce: string): string {
	return crypto.createHmac('sha256', token).update(nonce).digest('hex');
}

/** The engine's side: answer an identity request, or return false for any other request. */
export function serveIdentity(token: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
	const url = new URL(req.url ?? '/', 'http://localhost');
	if (url.pathname !== identityPath) return false;
	const nonce = url.searchParams.get('nonce') ?? '';
	const body: IdentityAnswer = {pid: process.pid, proof: prove(token, nonce)};
	res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify(body));
	return true;
}

export type Identity = 'proven' | 'impostor' | 'silent';

/**
 * Ask whoever answers on `socket` to prove it holds `lock`: 'proven', or
 * 'impostor' (it answers, but not with the lock's pid and token), or
 * 'silent' (nothing answers, or not in time: starting, or hung).
 */
export function verifyIdentity(socket: string, lock: EngineLock, timeoutMs = 2000): Promise<Identity> {
	const nonce = crypto.randomBytes(16).toString('hex');
	return new Promise(resolve => {
		const req = http.get({socketPath: socket, path: `${identityPath}?nonce=${nonce}`, timeout: timeoutMs}, res => {
			const chunks: Buffer[] = [];
			res.on('data', c => chunks.push(c));
			res.on('end', () => {
				let answer: Partial<IdentityAnswer> = {};
				try {
					answer = JSON.parse(Buffer.concat(chunks).toString('utf8'));
				} catch {}
				const expected = lock.token ? prove(lock.token, nonce) : undefined;
				resolve(res.statusCode === 200 && answer.pid === lock.pid && expected !== undefined && answer.proof === expected ? 'proven' : 'impostor');
			});
			res.on('error', () => resolve('silent'));
		});
		req.on('error', () => resolve('silent'));
		req.on('timeout', () => {
			req.destroy();
			resolve('silent');
		});
	});
}
