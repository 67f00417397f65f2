// `kubedeck audit`: the engine's audit log (server/auth/audit.ts), read from
// the state directory as its owner, one line per change: when, who, what,
// and the response code. -f follows it as it grows.
import fs from 'node:fs';
import {stateHome} from '../engine/home.js';
import {alignColumns} from '../render/format.js';
import {type AuditEvent, auditPath, readAudit} from '../server/auth/audit.js';
import {type Command} from './context.js';

const header = ['TIME', 'USER', 'VERB', 'RESOURCE', 'NAMESPACE', 'NAME', 'CODE'];

function row(e: AuditEvent): string[] {
	const ref = e.objectRef;
	const resource = ref ? `${ref.resource ?? ''}${ref.subresource ? `/${ref.subresource}` : ''}${ref.apiGroup ? `.${ref.apiGroup}` : ''}` : e.requestURI;
	return [e.requestReceivedTimestamp.replace(/\.\d+Z$/, 'Z'), e.user.username, e.verb, resource, ref?.namespace ?? '', ref?.name ?? '', String(e.responseStatus.code)];
}

export const auditCommand: Command = {
	name: 'audit',
	summary: 'Print the audit log: who changed what, and the answer',
	usage: 'kubedeck audit [--user USER] [-f] [-o json]',
	flags: {user: {type: 'string'}, follow: {type: 'boolean', short: 'f'}, output: {type: 'string', short: 'o'}},
	async run(ctx) {
		const file = auditPath(stateHome(ctx.io.env));
		const user = ctx.string('user');
		const json = ctx.string('output') === 'json';
		const wanted = (e: AuditEvent) => !user || e.user.username === user;
		const print = (events: AuditEvent[], withHeader: boolean) => {
			const shown = events.filter(wanted);
			if (json) for (const e of shown) ctx.out(JSON.stringify(e));
			else if (shown.length || withHeader) ctx.out(alignColumns([...(withHeader ? [header] : []), ...shown.map(row)]));
		};
		print(readAudit(file), true);
		if (!ctx.bool('follow')) return 0;
		// Follow: read what was appended since; a rotation starts the new file from its beginning.
		let offset = fs.existsSync(file) ? fs.statSync(file).size : 0;
		await new Promise<void>(() => {
			setInterval(() => {
				let size: number;
				try {
					size = fs.statSync(file).size;
				} catch {
					return;
				}
				if (size < offset) offset = 0;
				if (size === offset) return;
				const fd = fs.openSync(file, 'r');
				const buf = Buffer.alloc(size - offset);
				fs.readSync(fd, buf, 0, buf.length, offset);
				fs.closeSync(fd);
				const text = buf.toString('utf8');
				const end = text.lastIndexOf('\n') + 1;
				offset += Buffer.byteLength(text.slice(0, end));
				print(text.slice(0, end).split('\n').filter(Boolean).map(l => JSON.parse(l) as AuditEvent), false);
			}, 500);
		});
		return 0;
	},
};
