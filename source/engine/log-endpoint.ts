// GET /api/v1/namespaces/NS/pods/NAME/log: container logs as text/plain, with
// kubectl's parameters (container, follow, previous, tailLines, sinceSeconds,
// sinceTime, timestamps, limitBytes). A follow streams new lines until the
// container instance stops or the client goes away.
import type http from 'node:http';
import {badRequest} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import type {Store} from '../store/store.js';
import type {Clock} from './clock.js';
import {formatLogLine, LogRequestError, readFrom, readLog, resolveLogFile} from './kubelet/logs.js';

type Rec = Record<string, any>;

export function logHandler(home: string, store: Store, clock: Clock) {
	return (pod: KubeObject, q: URLSearchParams, res: http.ServerResponse): void => {
		const num = (name: string) => (q.get(name) !== null ? Number(q.get(name)) : undefined);
		const sinceSeconds = num('sinceSeconds');
		const sinceTime = q.get('sinceTime') ? Date.parse(q.get('sinceTime')!) : undefined;
		const timestamps = q.get('timestamps') === 'true';
		let target;
		try {
			target = resolveLogFile(home, pod, {container: q.get('container') ?? undefined, previous: q.get('previous') === 'true', query: {}});
		} catch (error) {
			if (error instanceof LogRequestError) throw badRequest(error.message);
			throw error;
		}
		const {text, bytesRead} = readLog(target.file, {
			tailLines: num('tailLines'), timestamps, limitBytes: num('limitBytes'),
			sinceMs: sinceSeconds !== undefined ? clock.now() - sinceSeconds * 1000 : sinceTime,
		});
		res.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked'});
		res.write(text);
		if (q.get('follow') !== 'true' || !target.running) {
			res.end();
			return;
		}
		// Follow: poll the file for new lines; stop when this instance is no longer running.
		let offset = bytesRead;
		const instance = (p: KubeObject | undefined) => ((p?.status as Rec)?.containerStatuses ?? []).find((s: Rec) => s.name === target.container);
		const startRestarts = instance(pod)?.restartCount ?? 0;
		let closed = false;
		res.on('close', () => (closed = true));
		const tick = () => {
			if (closed) return;
			const next = readFrom(target.file, offset);
			offset = next.offset;
			if (next.lines.length) res.write(next.lines.map(l => formatLogLine(l, timestamps)).join(''));
			const current = store.peek('pods', pod.metadata.namespace!, pod.metadata.name!);
			const cs = instance(current);
			if (!current || current.metadata.uid !== pod.metadata.uid || !cs?.state?.running || cs.restartCount !== startRestarts) {
				const rest = readFrom(target.file, offset);
				if (rest.lines.length) res.write(rest.lines.map(l => formatLogLine(l, timestamps)).join(''));
				res.end();
				return;
			}
			setTimeout(tick, 100);
		};
		setTimeout(tick, 100);
	};
}

