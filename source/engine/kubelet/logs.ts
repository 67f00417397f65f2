// Container logs in the CRI file format the kubelet uses
// (`<RFC3339Nano> <stream> F <text>` per line), one file per container
// instance (restart count), rotated by size. Reading supports what
// `kubectl logs` asks for: tail, since, timestamps, previous, follow.
import fs from 'node:fs';
import path from 'node:path';

export const maxLogFileBytes = 10 * 1024 * 1024;

/**
 * Where one container instance's log lives: <pod dir>/<container>.<restart>.log.
 * (The kubelet nests logs/<container>/<n>.log; one flat directory per pod
 * saves four directory creations per pod start, which showed in the
 * pod-start benchmark.)
 */
export function logFile(podDir: string, container: string, restartCount: number): string {
	return path.join(podDir, `${container}.${restartCount}.log`);
}

function nanoTime(ms: number): string {
	// RFC3339Nano; JS clocks give milliseconds, so the last six digits are zero.
	return new Date(ms).toISOString().replace('Z', '000000Z');
}

/** Appends timestamped lines from a process's stdout and stderr to its log file. */
export class LogWriter {
	private fd: number;
	private size: number;
	private partial: Record<'stdout' | 'stderr', string> = {stdout: '', stderr: ''};

	constructor(readonly file: string, private readonly now: () => number = Date.now, options: {dirExists?: boolean} = {}) {
		if (!options.dirExists) fs.mkdirSync(path.dirname(file), {recursive: true});
		this.fd = fs.openSync(file, 'a', 0o600);
		this.size = fs.fstatSync(this.fd).size;
	}

	write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
		const text = this.partial[stream] + chunk.toString();
		const lines = text.split('\n');
		this.partial[stream] = lines.pop()!;
		if (lines.length === 0) return;
		const stamp = nanoTime(this.now());
		this.append(lines.map(line => `${stamp} ${stream} F ${line}\n`).join(''));
	}

	private append(text: string): void {
		if (this.size + text.length > maxLogFileBytes && this.size > 0) {
			fs.closeSync(this.fd);
			fs.renameSync(this.file, `${this.file}.1`);
			this.fd = fs.openSync(this.file, 'a', 0o600);
			this.size = 0;
		}
		fs.writeSync(this.fd, text);
		this.size += Buffer.byteLength(text);
	}

	/** Write any unterminated last line and close. */
	close(): void {
		for (const stream of ['stdout', 'stderr'] as const) {
			if (this.partial[stream]) this.append(`${nanoTime(this.now())} ${stream} F ${this.partial[stream]}\n`);
			this.partial[stream] = '';
		}
		fs.closeSync(this.fd);
	}
}

export interface LogQuery {
	tailLines?: number;
	sinceMs?: number;
	timestamps?: boolean;
	limitBytes?: number;
}

/** Turn stored lines into what the user sees: the text, optionally prefixed with its time. */
export function formatLogLine(stored: string, timestamps: boolean): string {
	const first = stored.indexOf(' ');
	const second = stored.indexOf(' ', first + 1);
	const third = stored.indexOf(' ', second + 1);
	if (first < 0 || second < 0 || third < 0) return `${stored}\n`;
	const text = stored.slice(third + 1);
	return timestamps ? `${stored.slice(0, first)} ${text}\n` : `${text}\n`;
}

function lineTime(stored: string): number {
	return Date.parse(stored.slice(0, stored.indexOf(' ')).replace(/(\.\d{3})\d*Z$/, '$1Z'));
}

/** The lines of one instance's log (rotated part first), filtered per the query. */
export function readLog(file: string, query: LogQuery): {text: string; bytesRead: number} {
	const parts = [`${file}.1`, file].filter(f => fs.existsSync(f));
	const content = parts.map(f => fs.readFileSync(f, 'utf8')).join('');
	const bytesRead = fs.existsSync(file) ? fs.statSync(file).size : 0;
	let lines = content.split('\n').filter(l => l !== '');
	if (query.sinceMs !== undefined) lines = lines.filter(l => lineTime(l) >= query.sinceMs!);
	if (query.tailLines !== undefined && query.tailLines >= 0) lines = lines.slice(Math.max(0, lines.length - query.tailLines));
	let text = lines.map(l => formatLogLine(l, !!query.timestamps)).join('');
	if (query.limitBytes !== undefined) text = text.slice(0, query.limitBytes);
	return {text, bytesRead};
}

/** New complete lines appended to `file` since byte `offset`. */
export function readFrom(file: string, offset: number): {lines: string[]; offset: number} {
	let size: number;
	try {
		size = fs.statSync(file).size;
	} catch {
		return {lines: [], offset};
	}
	if (size < offset) offset = 0; // rotated underneath us
	if (size === offset) return {lines: [], offset};
	const fd = fs.openSync(file, 'r');
	const buffer = Buffer.alloc(size - offset);
	fs.readSync(fd, buffer, 0, buffer.length, offset);
	fs.closeSync(fd);
	const text = buffer.toString('utf8');
	const end = text.lastIndexOf('\n');
	if (end < 0) return {lines: [], offset};
	return {lines: text.slice(0, end).split('\n'), offset: offset + Buffer.byteLength(text.slice(0, end + 1))};
}

type Rec = Record<string, any>;

export interface PodLogRequest {
	container?: string;
	follow?: boolean;
	previous?: boolean;
	query: LogQuery;
}

export class LogRequestError extends Error {}

/** The pod's log directory, as the kubelet lays it out (/var/log/pods/<ns>_<name>_<uid>). */
export function podDirectory(home: string, pod: {metadata: {namespace?: string; name?: string; uid?: string}}): string {
	return path.join(home, 'pods', `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
}

/**
 * The log file a `kubectl logs` request means: the named (or only) container,
 * its current instance or, with previous, the one before.
 */
export function resolveLogFile(home: string, pod: {metadata: Rec; spec?: unknown; status?: unknown}, request: PodLogRequest): {file: string; container: string; running: boolean} {
	const spec = (pod.spec ?? {}) as Rec;
	const names: string[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].map((c: Rec) => c.name);
	let container = request.container;
	if (!container) {
		if ((spec.containers ?? []).length !== 1 && !pod.metadata.annotations?.['kubectl.kubernetes.io/default-container']) {
			throw new LogRequestError(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${(spec.containers ?? []).map((c: Rec) => c.name).join(' ')}]`);
		}
		container = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? spec.containers[0].name;
	}
	if (!names.includes(container!)) throw new LogRequestError(`container ${container} is not valid for pod ${pod.metadata.name}`);
	const status = (pod.status ?? {}) as Rec;
	const cs = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? []), ...(status.ephemeralContainerStatuses ?? [])].find((s: Rec) => s.name === container);
	const restarts = cs?.restartCount ?? 0;
	if (request.previous) {
		if (restarts === 0) throw new LogRequestError(`previous terminated container "${container}" in pod "${pod.metadata.name}" not found`);
		return {file: logFile(podDirectory(home, pod as never), container!, restarts - 1), container: container!, running: false};
	}
	const file = logFile(podDirectory(home, pod as never), container!, restarts);
	if (!cs || (cs.state?.waiting && !fs.existsSync(file))) {
		throw new LogRequestError(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${cs?.state?.waiting?.reason ?? 'ContainerCreating'}`);
	}
	return {file, container: container!, running: !!cs.state?.running};
}
