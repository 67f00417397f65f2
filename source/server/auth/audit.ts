// The audit log, as kube-apiserver writes one with --audit-log-path at level
// Metadata: one audit.k8s.io/v1 Event per JSON line, for every request that
// changes something (create, update, patch, delete, deletecollection), with
// the user, the verb, the object and the response code. It lives in the state
// directory (audit.log, 0600) and is rotated at a size cap, keeping a few old
// files (audit.log.1 ...), as --audit-log-maxsize and --audit-log-maxbackup do.
// Lines are appended synchronously: an acknowledged write's line is on disk
// before the response ends.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import type {Attributes, UserInfo} from './attributes.js';

export const auditPath = (home: string) => path.join(home, 'audit.log');

export const mutatingVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface AuditEvent {
	kind: 'Event';
	apiVersion: 'audit.k8s.io/v1';
	level: 'Metadata';
	auditID: string;
	stage: 'ResponseComplete';
	requestURI: string;
	verb: string;
	user: {username: string; groups: string[]; uid?: string};
	impersonatedUser?: {username: string; groups: string[]};
	annotations?: Record<string, string>;
	sourceIPs: string[];
	userAgent?: string;
	objectRef?: {resource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string; subresource?: string};
	responseStatus: {metadata: object; code: number};
	requestReceivedTimestamp: string;
	stageTimestamp: string;
}

type Ref = {resource: string; apiGroup?: string; namespace?: string; name: string};
const refKey = (r: Ref) => JSON.stringify([r.resource, r.apiGroup ?? '', r.namespace ?? '', r.name]);
/** How many objects' last changes are kept in memory for "who changed this". */
const indexSize = 50_000;

export class AuditLog {
	private size: number;
	/** Each object's last successful change: read from the files once, on the first question, then kept up as lines are written. */
	private index?: Map<string, AuditEvent>;

	constructor(readonly file: string, private readonly maxBytes = 10 * 1024 * 1024, private readonly backups = 3) {
		try {
			this.size = fs.statSync(file).size;
		} catch {
			this.size = 0;
		}
	}

	/** An exec stream, recorded when it is accepted (101) or refused: it runs a command in a pod, so it is audited like a change. */
	recordUpgrade(req: http.IncomingMessage, attrs: Attributes, code: number): void {
		const now = new Date().toISOString();
		this.write({
			kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: crypto.randomUUID(), stage: 'ResponseComplete',
			requestURI: req.url ?? '/', verb: 'create', user: {username: attrs.user.name, groups: attrs.user.groups},
			sourceIPs: [req.socket?.remoteAddress ?? 'local'],
			objectRef: {resource: attrs.resource, namespace: attrs.namespace, name: attrs.name, apiGroup: attrs.apiGroup ?? '', subresource: attrs.subresource},
			responseStatus: {metadata: {}, code}, requestReceivedTimestamp: now, stageTimestamp: now,
		});
	}

	/** Records the request when its response has gone (or the connection closed first). */
	track(req: http.IncomingMessage, res: http.ServerResponse, attrs: Attributes, requestVersion?: string, impersonator?: UserInfo): void {
		if (!mutatingVerbs.has(attrs.verb) && !(attrs.resourceRequest && attrs.subresource === 'exec')) return;
		const received = new Date().toISOString();
		// Read now: once the connection is gone (a refused body closes it) the request has no socket.
		const sourceIPs = [req.socket?.remoteAddress ?? 'local'];
		const userAgent = req.headers['user-agent'];
		let done = false;
		const write = () => {
			if (done) return;
			done = true;
			this.write({
				kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: crypto.randomUUID(), stage: 'ResponseComplete',
				requestURI: req.url ?? '/', verb: attrs.verb,
				// The real caller is the user; whom they acted as is impersonatedUser, as kube-apiserver records it.
				...(impersonator
					? {user: {username: impersonator.name, groups: impersonator.groups}, impersonatedUser: {username: attrs.user.name, groups: attrs.user.groups}}
					: {user: {username: attrs.user.name, groups: attrs.user.groups, ...(attrs.user.uid ? {uid: attrs.user.uid} : {})}}),
				sourceIPs, ...(userAgent ? {userAgent} : {}),
				...(attrs.resourceRequest ? {objectRef: {
					resource: attrs.resource, ...(attrs.namespace ? {namespace: attrs.namespace} : {}), ...(attrs.name ? {name: attrs.name} : {}),
					apiGroup: attrs.apiGroup, ...(requestVersion ? {apiVersion: requestVersion} : {}), ...(attrs.subresource ? {subresource: attrs.subresource} : {}),
				}} : {}),
				responseStatus: {metadata: {}, code: res.statusCode},
				...(attrs.auditAnnotations ? {annotations: attrs.auditAnnotations} : {}),
				requestReceivedTimestamp: received, stageTimestamp: new Date().toISOString(),
			});
		};
		res.once('finish', write);
		res.once('close', write);
	}

	write(event: AuditEvent): void {
		const line = `${JSON.stringify(event)}\n`;
		if (this.index) this.remember(event);
		try {
			if (this.size + line.length > this.maxBytes && this.size > 0) this.rotate();
			fs.appendFileSync(this.file, line, {mode: 0o600});
			this.size += Buffer.byteLength(line);
		} catch (error) {
			// A full disk must not take the API down with it; the engine's log says what was lost.
			console.error(`kubedeck: could not write the audit log ${this.file}: ${(error as Error).message}`);
		}
	}

	private remember(e: AuditEvent): void {
		const o = e.objectRef;
		if (!this.index || !o?.name || !o.resource || e.responseStatus.code >= 400 || !mutatingVerbs.has(e.verb) || o.subresource === 'status') return;
		const key = refKey({resource: o.resource, apiGroup: o.apiGroup, namespace: o.namespace, name: o.name});
		this.index.delete(key);
		this.index.set(key, e);
		if (this.index.size > indexSize) this.index.delete(this.index.keys().next().value!);
	}

	/** The last successful change of one object (create, update, patch, delete), if the log still has it. */
	lastChange(ref: Ref): AuditEvent | undefined {
		if (!this.index) {
			this.index = new Map();
			for (const e of readAudit(this.file, this.backups)) this.remember(e);
		}
		return this.index.get(refKey(ref));
	}

	private rotate(): void {
		for (let i = this.backups - 1; i >= 1; i--) {
			try {
				fs.renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
			} catch {
				// Not there yet.
			}
		}
		fs.renameSync(this.file, `${this.file}.1`);
		fs.rmSync(`${this.file}.${this.backups + 1}`, {force: true});
		this.size = 0;
	}
}

/** The events of the log and its rotated files, oldest first. */
export function readAudit(file: string, backups = 3): AuditEvent[] {
	const files = [...Array.from({length: backups}, (_, i) => `${file}.${backups - i}`), file];
	const events: AuditEvent[] = [];
	for (const f of files) {
		let text: string;
		try {
			text = fs.readFileSync(f, 'utf8');
		} catch {
			continue;
		}
		for (const line of text.split('\n')) {
			if (!line) continue;
			try {
				events.push(JSON.parse(line) as AuditEvent);
			} catch {
				// A line cut by a crash mid-write: skipped.
			}
		}
	}
	return events;
}
