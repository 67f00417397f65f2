// Who the console is to the API. It holds no operator's credential: it is a
// ServiceAccount of its own (kube-system/kubedeck-ssh-console) whose only
// right is to impersonate users and groups, and every request a session
// makes carries Impersonate-User (and the user's groups), so RBAC judges
// each one as that user's own, exactly as it judges their kubectl. Were a
// header ever missing, the request would run as an account that may do
// nothing else: never as the admin with a filter on top.
import fs from 'node:fs';
import {StatusError} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import {typeForKind} from '../../api/resources.js';
import {EmbeddedClient, type Endpoint} from '../../client/embedded.js';
import type {Credentials} from '../../client/exec-credential.js';
import type {ExecOptions, ExecSession, LogOptions, LogStream, Watch, WatchEvent, WatchOptions} from '../../client/types.js';
import type {ResourceType} from '../../api/resources.js';
import type {Registry} from '../registry.js';
import {caCertPath} from '../auth/ca.js';
import type {ServiceAccountTokens} from '../auth/tokens.js';

export const consoleAccount = {namespace: 'kube-system', name: 'kubedeck-ssh-console'};
const roleName = 'kubedeck:ssh-console';
const rbac = 'rbac.authorization.k8s.io';

/** The console's account, and a ClusterRole that lets it impersonate users and groups (nothing else), bound to it. */
export async function ensureConsoleIdentity(registry: Registry): Promise<void> {
	const objects: KubeObject[] = [
		{apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: consoleAccount.name, namespace: consoleAccount.namespace}},
		{apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: {name: roleName, labels: {'kubernetes.io/bootstrapping': 'kubedeck'}},
			rules: [{apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate']}]},
		{apiVersion: `${rbac}/v1`, kind: 'ClusterRoleBinding', metadata: {name: roleName},
			roleRef: {apiGroup: rbac, kind: 'ClusterRole', name: roleName},
			subjects: [{kind: 'ServiceAccount', name: consoleAccount.name, namespace: consoleAccount.namespace}]},
	];
	for (const obj of objects) {
		const type = typeForKind(obj.apiVersion, obj.kind)!;
		try {
			await registry.create(type, obj.metadata.namespace, obj);
		} catch (error) {
			if (!(error instanceof StatusError && error.reason === 'AlreadyExists')) throw error;
		}
	}
}

/** The console's bearer token: an hour's ServiceAccount token, issued again before it expires (or when refused). */
export class ConsoleCredentials implements Credentials {
	private current?: {token: string; expires: number};

	constructor(private readonly registry: Registry, private readonly tokens: ServiceAccountTokens) {}

	async headers(): Promise<Record<string, string>> {
		if (!this.current || this.current.expires - Date.now() < 5 * 60_000) {
			const sa = this.registry.store.get('serviceaccounts', consoleAccount.namespace, consoleAccount.name);
			if (!sa) throw new Error(`the console's ServiceAccount ${consoleAccount.namespace}/${consoleAccount.name} is gone: restart the engine to make it again`);
			const issued = this.tokens.issue(sa, {expirationSeconds: 3600});
			this.current = {token: issued.token, expires: Date.parse(issued.expirationTimestamp)};
		}
		return {Authorization: `Bearer ${this.current.token}`};
	}

	refused(): void {
		this.current = undefined;
	}
}

/** Where the console reaches the API: its TLS port on loopback, checked against the cluster CA. */
export function apiEndpoint(home: string, port: number, credentials: Credentials, user: {name: string; groups: string[]}): Endpoint {
	return {
		host: '127.0.0.1', port, tls: {ca: fs.readFileSync(caCertPath(home))}, credentials,
		// One Impersonate-Group header per group: a name is never split (see Access.impersonate).
		headers: {'Impersonate-User': user.name, ...(user.groups.length ? {'Impersonate-Group': user.groups} : {})},
	};
}

/**
 * A session's client: the API as its user, keeping every stream it opened (watches, log
 * streams, execs) so that a session that ends, however it ends, stops them all.
 */
export class SessionClient extends EmbeddedClient {
	private readonly open = new Set<{stop(): void}>();
	private released = false;

	private keep<T extends Watch | LogStream>(stream: T): T {
		if (this.released) {
			stream.stop();
			return stream;
		}
		this.open.add(stream);
		void stream.done.catch(() => {}).finally(() => this.open.delete(stream));
		return stream;
	}

	override watch(type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch {
		return this.keep(super.watch(type, options, onEvent));
	}

	override logs(namespace: string, pod: string, options: LogOptions, onText: (text: string) => void): LogStream {
		return this.keep(super.logs(namespace, pod, options, onText));
	}

	override async exec(namespace: string, pod: string, command: string[], options: ExecOptions): Promise<ExecSession> {
		const session = await super.exec(namespace, pod, command, options);
		const handle = {stop: () => session.close()};
		if (this.released) session.close();
		else this.open.add(handle);
		void session.exited.catch(() => {}).finally(() => this.open.delete(handle));
		return session;
	}

	/** How many streams are open (for tests and the console's own accounting). */
	get streams(): number {
		return this.open.size;
	}

	/** Stop everything this session opened and close its connections; later streams stop at once. */
	release(): void {
		this.released = true;
		for (const stream of this.open) stream.stop();
		this.open.clear();
		this.close();
	}
}
