// A kubeconfig user's exec credential plugin (client.authentication.k8s.io),
// kept as kubectl keeps its credential: run once, reused until its
// expirationTimestamp (for the life of the process when it names none), run
// again once that passes or when the server refuses the token with a 401.
//
// Why not client-node's ExecAuth, which reads the same plugins: it runs the
// plugin again on every request when the credential names no expiry (a
// process per request for the dashboard), and a credential the server
// refused cannot be dropped from its cache. Reading the kubeconfig stays
// client-node's; only running the plugin is here.
import {spawn} from 'node:child_process';
import {CliError} from './errors.js';

/** The kubeconfig's `users[].user.exec`. */
export interface ExecConfig {
	command: string;
	args?: string[];
	env?: {name: string; value: string}[] | null;
	apiVersion?: string;
	interactiveMode?: string;
}

interface Credential {
	headers: Record<string, string>;
	/** ms since the epoch; Infinity when the credential names no expiry. */
	expires: number;
}

/** Headers worked out per request: the plugin's token while it is good. */
export interface Credentials {
	headers(): Promise<Record<string, string>>;
	/** The server answered 401 with these headers: the next request runs the plugin again. */
	refused(): void;
}

export class ExecCredentials implements Credentials {
	private current?: Promise<Credential>;

	constructor(private readonly exec: ExecConfig, private readonly now: () => number = Date.now) {}

	async headers(): Promise<Record<string, string>> {
		let fresh = false;
		if (!this.current) {
			this.current = this.run();
			fresh = true;
		}
		const pending = this.current;
		const credential = await pending.catch(error => {
			if (this.current === pending) this.current = undefined;
			throw error;
		});
		// A credential just fetched is used even if it is already stale, so a plugin with a clock off cannot loop us.
		if (fresh || credential.expires > this.now()) return credential.headers;
		if (this.current === pending) this.current = undefined;
		return this.headers();
	}

	refused(): void {
		this.current = undefined;
	}

	private run(): Promise<Credential> {
		const {command, args = [], env} = this.exec;
		const apiVersion = this.exec.apiVersion ?? 'client.authentication.k8s.io/v1';
		const info = JSON.stringify({apiVersion, kind: 'ExecCredential', spec: {interactive: false}});
		return new Promise((resolve, reject) => {
			const child = spawn(command, args, {
				env: {...process.env, ...Object.fromEntries((env ?? []).map(e => [e.name, e.value])), KUBERNETES_EXEC_INFO: info},
				stdio: ['ignore', 'pipe', 'pipe'],
			});
			let stdout = '', stderr = '';
			child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
			child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
			child.on('error', error => reject(new CliError(`error: the exec credential plugin ${command} could not run: ${error.message}`)));
			child.on('close', code => {
				if (code !== 0) return reject(new CliError(`error: the exec credential plugin ${command} exited with ${code}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
				let status: {token?: string; expirationTimestamp?: string} | undefined;
				try {
					status = (JSON.parse(stdout) as {status?: typeof status}).status;
				} catch {
					return reject(new CliError(`error: the exec credential plugin ${command} printed no ExecCredential`));
				}
				if (!status?.token) return reject(new CliError(`error: the exec credential plugin ${command} gave no token (client certificates from plugins are not supported)`));
				const expires = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Infinity;
				resolve({headers: {Authorization: `Bearer ${status.token}`}, expires: Number.isNaN(expires) ? Infinity : expires});
			});
		});
	}
}
