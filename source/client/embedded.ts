// ClusterClient over the embedded engine's API: plain Kubernetes REST over the
// engine's unix socket (or any http base URL), Status bodies turned back into
// StatusErrors.
import http from 'node:http';
import https from 'node:https';
import {badRequest, isStatus, StatusError} from '../api/errors.js';
import type {KubeList, KubeObject} from '../api/object.js';
import {patchTypes} from '../api/patch.js';
import {openExec} from './exec-stream.js';
import {resourcePath, type ResourceType, typeForKind} from '../api/resources.js';
import {connectionError} from './errors.js';
import type {Credentials} from './exec-credential.js';
import type {ClusterClient, DeleteOptions, ExecOptions, ExecSession, ListOptions, LogOptions, LogStream, PatchType, Watch, WatchEvent, WatchOptions, WriteOptions} from './types.js';

export interface Endpoint {
	socketPath?: string;
	host?: string;
	port?: number;
	/** A TLS server (a kubeconfig's cluster): its CA, and the client certificate when the user has one. */
	tls?: {ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean; servername?: string};
	/** Sent on every request: Authorization for a token, Impersonate-User for --as; a list is one header line per value. */
	headers?: Record<string, string | string[]>;
	/** Headers worked out per request, over `headers`: an exec plugin's token, refreshed when it expires or is refused. */
	credentials?: Credentials;
}

/** The connection options of an endpoint, for http(s).request. */
function connection(e: Endpoint) {
	const {tls, headers: _headers, credentials: _credentials, ...address} = e;
	return {...address, ...(tls ?? {})};
}

export class EmbeddedClient implements ClusterClient {
	private readonly agent: http.Agent;
	private readonly transport: typeof http | typeof https;

	constructor(private readonly endpoint: Endpoint, readonly description: string) {
		this.transport = endpoint.tls ? https : http;
		this.agent = endpoint.tls ? new https.Agent({keepAlive: true, ...endpoint.tls}) : new http.Agent({keepAlive: true});
	}


	/** What every request sends: the endpoint's headers, and its credentials' of the moment. */
	private async headers(): Promise<Record<string, string | string[]>> {
		const {headers, credentials} = this.endpoint;
		return credentials ? {...headers, ...(await credentials.headers())} : headers ?? {};
	}

	private async request(method: string, path: string, body?: unknown, contentType = 'application/json', retried = false): Promise<unknown> {
		try {
			return await this.send(method, path, body, contentType, await this.headers(), retried);
		} catch (error) {
			// A token the server refused (revoked, or expired early): the plugin runs again, and the request goes once more.
			const {credentials} = this.endpoint;
			if (!retried && credentials && error instanceof StatusError && error.code === 401) {
				credentials.refused();
				return this.send(method, path, body, contentType, await this.headers(), true);
			}
			throw error;
		}
	}

	private send(method: string, path: string, body: unknown, contentType: string, headers: Record<string, string | string[]>, retried: boolean): Promise<unknown> {
		const payload = body === undefined ? undefined : JSON.stringify(body);
		return new Promise((resolve, reject) => {
			const req = this.transport.request({
				...connection(this.endpoint), agent: this.agent, method, path,
				headers: {Accept: 'application/json', ...headers, ...(payload !== undefined ? {'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload)} : {})},
			}, res => {
				const chunks: Buffer[] = [];
				res.on('data', chunk => chunks.push(chunk));
				res.on('end', () => {
					const text = Buffer.concat(chunks).toString('utf8');
					let parsed: unknown;
					try {
						parsed = text ? JSON.parse(text) : undefined;
					} catch {
						parsed = text;
					}
					if ((res.statusCode ?? 500) >= 400) {
						reject(isStatus(parsed) ? new StatusError(parsed) : new StatusError({
							kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: res.statusCode ?? 500, reason: 'InternalError',
							message: `an error on the server ("${String(text).trim()}") has prevented the request from succeeding`,
						}));
					} else {
						resolve(parsed);
					}
				});
				res.on('error', error => reject(connectionError(error, this.endpoint)));
			});
			req.on('error', error => {
				// A kept-alive connection the server closed while idle fails the next request on it with a reset
				// before the server sees it; Node's docs advise retrying such a request when it is idempotent.
				if (!retried && method === 'GET' && req.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
					resolve(this.send(method, path, body, contentType, headers, true));
					return;
				}
				reject(connectionError(error, this.endpoint));
			});
			req.end(payload);
		});
	}

	/** A request to one of the engine-only endpoints (users); JSON in and out. */
	engine(method: string, path: string, body?: unknown): Promise<unknown> {
		return this.request(method, path, body);
	}

	version() {
		return this.request('GET', '/version') as Promise<{gitVersion: string; major: string; minor: string}>;
	}

	list(type: ResourceType, options: ListOptions = {}): Promise<KubeList> {
		return this.request('GET', resourcePath(type, options.namespace) + query(options)) as Promise<KubeList>;
	}

	get(type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject> {
		return this.request('GET', resourcePath(type, namespace, name)) as Promise<KubeObject>;
	}

	create(obj: KubeObject, options: WriteOptions & {namespace?: string} = {}): Promise<KubeObject> {
		const type = typeOf(obj);
		return this.request('POST', resourcePath(type, obj.metadata?.namespace ?? options.namespace) + dry(options), obj) as Promise<KubeObject>;
	}

	replace(obj: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
		const type = typeOf(obj);
		return this.request('PUT', resourcePath(type, obj.metadata.namespace, obj.metadata.name) + dry(options), obj) as Promise<KubeObject>;
	}

	patch(type: ResourceType, namespace: string | undefined, name: string, patch: unknown, patchType: PatchType, options: WriteOptions = {}): Promise<KubeObject> {
		return this.request('PATCH', resourcePath(type, namespace, name) + dry(options), patch, patchTypes[patchType]) as Promise<KubeObject>;
	}

	delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject> {
		const body = {kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options.propagationPolicy ?? 'Background', gracePeriodSeconds: options.gracePeriodSeconds, ...(options.dryRun ? {dryRun: ['All']} : {})};
		return this.request('DELETE', resourcePath(type, namespace, name), body) as Promise<KubeObject>;
	}

	async metrics(resource: 'pods' | 'nodes', namespace?: string): Promise<KubeObject[]> {
		const path = resource === 'nodes' || !namespace ? `/apis/metrics.k8s.io/v1beta1/${resource}` : `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`;
		return ((await this.request('GET', path)) as KubeList).items;
	}

	exec(namespace: string, pod: string, command: string[], options: ExecOptions): Promise<ExecSession> {
		const params = new URLSearchParams();
		if (options.container) params.set('container', options.container);
		for (const arg of command) params.append('command', arg);
		params.set('stdin', String(options.stdin));
		params.set('stdout', 'true');
		params.set('stderr', String(!options.tty));
		params.set('tty', String(options.tty));
		const path = `${resourcePath(typeForKind('v1', 'Pod')!, namespace, pod, 'exec')}?${params}`;
		const {socketPath, host = '127.0.0.1', port, tls} = this.endpoint;
		const url = socketPath ? `ws+unix://${socketPath}:${path}` : `${tls ? 'wss' : 'ws'}://${host}:${port}${path}`;
		return this.headers().then(headers => openExec(url, options, headers, tls));
	}

	scale(type: ResourceType, namespace: string, name: string, replicas: number): Promise<KubeObject> {
		return this.request('PATCH', resourcePath(type, namespace, name, 'scale'), {spec: {replicas}}, patchTypes.merge) as Promise<KubeObject>;
	}

	logs(namespace: string, pod: string, options: LogOptions, onText: (text: string) => void): LogStream {
		const params = new URLSearchParams();
		for (const [key, value] of Object.entries(options)) if (value !== undefined && value !== false) params.set(key, String(value));
		let buffer = '';
		return this.stream(`${resourcePath(typeForKind('v1', 'Pod')!, namespace, pod, 'log')}?${params}`, chunk => {
			// Hand over whole lines only, so a caller never sees half a line.
			buffer += chunk;
			const end = buffer.lastIndexOf('\n');
			if (end < 0) return;
			onText(buffer.slice(0, end + 1));
			buffer = buffer.slice(end + 1);
		}, () => {
			if (buffer) onText(buffer);
		});
	}

	watch(type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch {
		const params = new URLSearchParams({watch: 'true'});
		if (options.resourceVersion) params.set('resourceVersion', options.resourceVersion);
		if (options.labelSelector) params.set('labelSelector', options.labelSelector);
		if (options.fieldSelector) params.set('fieldSelector', options.fieldSelector);
		let buffer = '';
		return this.stream(`${resourcePath(type, options.namespace)}?${params}`, chunk => {
			buffer += chunk;
			let newline: number;
			while ((newline = buffer.indexOf('\n')) >= 0) {
				const line = buffer.slice(0, newline);
				buffer = buffer.slice(newline + 1);
				if (line.trim()) onEvent(JSON.parse(line) as WatchEvent);
			}
		});
	}

	/** A long-lived GET whose body arrives in chunks (watch, logs -f). */
	private stream(path: string, onChunk: (text: string) => void, onEnd?: () => void): Watch {
		let req: http.ClientRequest | undefined;
		let stopped = false;
		const done = this.headers().then(headers => new Promise<void>((resolve, reject) => {
			if (stopped) return resolve();
			req = this.transport.request({...connection(this.endpoint), method: 'GET', path, headers: {Accept: 'application/json', ...headers}}, res => {
				if ((res.statusCode ?? 500) >= 400) {
					const chunks: Buffer[] = [];
					res.on('data', c => chunks.push(c));
					res.on('end', () => {
						const text = Buffer.concat(chunks).toString('utf8');
						if (res.statusCode === 401) this.endpoint.credentials?.refused();
						try {
							reject(new StatusError(JSON.parse(text)));
						} catch {
							reject(new Error(text));
						}
					});
					return;
				}
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => onChunk(chunk));
				const finish = () => {
					onEnd?.();
					onEnd = undefined;
					resolve();
				};
				res.on('end', finish);
				res.on('close', finish);
				res.on('error', finish);
			});
			req.on('error', error => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(connectionError(error, this.endpoint))));
			req.end();
		}));
		return {stop: () => {
			stopped = true;
			req?.destroy();
		}, done};
	}

	close(): void {
		this.agent.destroy();
	}
}

function typeOf(obj: KubeObject): ResourceType {
	const type = typeForKind(obj.apiVersion, obj.kind);
	if (!type) throw badRequest(`no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`);
	return type;
}

function query(options: ListOptions): string {
	const params = new URLSearchParams();
	if (options.labelSelector) params.set('labelSelector', options.labelSelector);
	if (options.fieldSelector) params.set('fieldSelector', options.fieldSelector);
	if (options.limit) params.set('limit', String(options.limit));
	if (options.continue) params.set('continue', options.continue);
	const text = params.toString();
	return text ? `?${text}` : '';
}

function dry(options: WriteOptions): string {
	return options.dryRun ? '?dryRun=All' : '';
}
