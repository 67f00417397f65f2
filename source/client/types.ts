// ClusterClient: the one interface between the cluster and everything above
// it (CLI commands, the dashboard). Two implementations: the embedded
// engine's HTTP API, and later a real cluster through @kubernetes/client-node.
// Method names follow the informer vocabulary (list, then watch from the
// list's resourceVersion; a 410 means relist).
import type {KubeList, KubeObject} from '../api/object.js';
import type {ResourceType} from '../api/resources.js';

export interface ListOptions {
	/** Omit (or "") for all namespaces of a namespaced type. */
	namespace?: string;
	labelSelector?: string;
	fieldSelector?: string;
	/** A page of at most this many (the server says where the next starts in metadata.continue). */
	limit?: number;
	continue?: string;
}

export interface WatchOptions extends ListOptions {
	resourceVersion?: string;
}

export interface WatchEvent {
	type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR' | 'BOOKMARK';
	object: KubeObject;
}

export interface Watch {
	stop(): void;
	/** Resolves when the stream ends (closed by either side). */
	done: Promise<void>;
}

export type PatchType = 'merge' | 'json' | 'strategic';

export interface WriteOptions {
	dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
	gracePeriodSeconds?: number;
	propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

export interface LogOptions {
	container?: string;
	follow?: boolean;
	previous?: boolean;
	tailLines?: number;
	sinceSeconds?: number;
	/** RFC 3339: lines at or after this time. */
	sinceTime?: string;
	timestamps?: boolean;
	limitBytes?: number;
}

export interface LogStream {
	stop(): void;
	/** Resolves when the server ends the stream; rejects with a StatusError. */
	done: Promise<void>;
}

export interface ExecOptions {
	container?: string;
	stdin: boolean;
	/** A terminal in the container (stderr then arrives on stdout). */
	tty: boolean;
	onStdout(data: Buffer): void;
	onStderr(data: Buffer): void;
}

/** A command running in a container, streamed from the engine (pods/exec). */
export interface ExecSession {
	write(data: Buffer | string): void;
	/** Bytes written to stdin and not sent yet (a caller with more to write waits while this is large). */
	pending?(): number;
	closeStdin(): void;
	resize(cols: number, rows: number): void;
	close(): void;
	/** The command's exit code; rejects when the stream breaks first. */
	exited: Promise<number>;
}

export interface ClusterClient {
	/** A human name for where this client points: "embedded (~/.local/state/kubedeck)" or a context. */
	readonly description: string;
	version(): Promise<{gitVersion: string; major: string; minor: string}>;
	list(type: ResourceType, options?: ListOptions): Promise<KubeList>;
	get(type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject>;
	create(obj: KubeObject, options?: WriteOptions & {namespace?: string}): Promise<KubeObject>;
	replace(obj: KubeObject, options?: WriteOptions): Promise<KubeObject>;
	patch(type: ResourceType, namespace: string | undefined, name: string, patch: unknown, patchType: PatchType, options?: WriteOptions): Promise<KubeObject>;
	delete(type: ResourceType, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<KubeObject>;
	watch(type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch;
	/** A container's log; text arrives in chunks as the server sends it. */
	logs(namespace: string, pod: string, options: LogOptions, onText: (text: string) => void): LogStream;
	/** metrics.k8s.io PodMetrics or NodeMetrics (namespace omitted: all). */
	metrics(resource: 'pods' | 'nodes', namespace?: string): Promise<KubeObject[]>;
	/**
	 * Run a command in a container (pods/exec); resolves once the stream is
	 * open. A capability callers check before use.
	 */
	exec?(namespace: string, pod: string, command: string[], options: ExecOptions): Promise<ExecSession>;
	/** Scale subresource: the capability the dashboard checks before offering `s`. */
	scale(type: ResourceType, namespace: string, name: string, replicas: number): Promise<KubeObject>;
	close(): void;
}
