// The client side of pods/exec over a WebSocket (remotecommand.ts): opens
// the stream, turns a refused upgrade back into its Status, and hands out
// stdin, resize and the exit code.
import {WebSocket} from 'ws';
import {badRequest, isStatus, StatusError} from '../api/errors.js';
import {channel, execProtocols, exitCodeOf, frame} from '../api/remotecommand.js';
import type {ExecOptions, ExecSession} from './types.js';

/** Open an exec stream at `url` (ws:, wss: or ws+unix:). Resolves once the server has accepted it. */
export function openExec(url: string, options: ExecOptions, headers: Record<string, string | string[]> = {}, tls: {ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean} = {}): Promise<ExecSession> {
	return new Promise((resolve, reject) => {
		// ws hands the headers to http.request, which sends a list as one header line per value (its types say string only).
		const ws = new WebSocket(url, execProtocols, {headers: headers as Record<string, string>, ...tls});
		let v5 = false;
		let finished = false;
		let exitCode: number | undefined;
		let resolveExit!: (code: number) => void;
		let rejectExit!: (error: Error) => void;
		const exited = new Promise<number>((res, rej) => {
			resolveExit = res;
			rejectExit = rej;
		});
		// A refused upgrade comes back as an HTTP response carrying a Status.
		ws.on('unexpected-response', (_req, res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				let status: unknown;
				try {
					status = JSON.parse(text);
				} catch {}
				reject(isStatus(status) ? new StatusError(status) : badRequest(`exec refused (${res.statusCode}): ${text.trim()}`));
			});
		});
		ws.on('error', error => {
			if (!finished) reject(error);
			rejectExit(error);
		});
		ws.on('open', () => {
			v5 = ws.protocol === 'v5.channel.k8s.io';
			resolve({
				write: data => {
					if (ws.readyState === ws.OPEN) ws.send(frame(channel.stdin, typeof data === 'string' ? Buffer.from(data) : data));
				},
				pending: () => ws.bufferedAmount,
				closeStdin: () => {
					// v4 has no way to close stdin alone; the process sees EOF when the stream ends.
					if (v5 && ws.readyState === ws.OPEN) ws.send(Buffer.from([channel.close, channel.stdin]));
				},
				resize: (cols, rows) => {
					if (ws.readyState === ws.OPEN) ws.send(frame(channel.resize, JSON.stringify({Width: cols, Height: rows})));
				},
				close: () => ws.close(),
				exited,
			});
		});
		ws.on('message', (data: Buffer) => {
			if (data.length === 0) return;
			const body = data.subarray(1);
			if (data[0] === channel.stdout && body.length) options.onStdout(body);
			else if (data[0] === channel.stderr && body.length) options.onStderr(body);
			else if (data[0] === channel.error) {
				try {
					const status = JSON.parse(body.toString('utf8'));
					exitCode = exitCodeOf(status);
					if (exitCode === undefined) rejectExit(new StatusError({kind: 'Status', apiVersion: 'v1', code: 500, ...status}));
				} catch {}
			}
		});
		ws.on('close', () => {
			finished = true;
			if (exitCode !== undefined) resolveExit(exitCode);
			else rejectExit(new Error('the exec stream ended before the command exited'));
		});
	});
}
