// Connection failures, in kubectl's words. Node's own (`read ECONNRESET`,
// `connect ENOENT /x/engine.sock`) name neither the engine nor what to do;
// kubectl's StandardErrorMessage turns a refused connection into "The
// connection to the server HOST was refused - did you specify the right
// host or port?" and any other transport failure into "Unable to connect to
// the server: ...", printed without an "error: " prefix.
import type {Endpoint} from './embedded.js';

export class ConnectionError extends Error {
	/**
	 * @param mayHaveArrived the request may have reached the server before the
	 * connection failed (a reset, not a refusal): a write may have happened.
	 * @param server what was connected to ("the kubedeck engine on /x/engine.sock").
	 */
	constructor(message: string, readonly mayHaveArrived: boolean, readonly server: string) {
		super(message);
	}
}

/** What a connection error from `endpoint` means, as a ConnectionError (anything else is returned as it is). */
export function connectionError(error: unknown, endpoint: Endpoint): unknown {
	const code = (error as NodeJS.ErrnoException).code;
	const server = endpoint.socketPath ? `the kubedeck engine on ${endpoint.socketPath}` : `the server ${endpoint.host ?? 'localhost'}:${endpoint.port ?? 80}`;
	switch (code) {
		case 'ECONNREFUSED':
		case 'ENOENT':
			// A unix socket nobody listens on refuses; one that is gone is ENOENT: both mean no engine there.
			return new ConnectionError(endpoint.socketPath
				? `The connection to ${server} was refused - is it running? ("kubedeck serve" starts it)`
				: `The connection to ${server} was refused - did you specify the right host or port?`, false, server);
		case 'EACCES':
			return new ConnectionError(`Unable to connect to the server: permission denied opening ${server} (it belongs to another user)`, false, server);
		case 'ECONNRESET': // also Node's "socket hang up": closed without a response
		case 'EPIPE':
		case 'ECONNABORTED':
			return new ConnectionError(`Unable to connect to the server: ${server} closed the connection before answering (it stopped or was killed)`, true, server);
		default:
			if (code && /^E[A-Z]+$/.test(code)) return new ConnectionError(`Unable to connect to the server: ${server} could not be reached (${code})`, true, server);
			return error;
	}
}

/** An error that already reads as kubectl's line ("error: ..."), printed as it is, with its exit code. */
export class CliError extends Error {
	constructor(message: string, readonly exitCode = 1) {
		super(message);
	}
}
