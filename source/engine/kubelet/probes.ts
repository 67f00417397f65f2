// One probe attempt (exec, httpGet, tcpSocket), as the kubelet's prober runs
// it: success, or failure with the reason the Unhealthy event shows.
import {spawn} from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

type Rec = Record<string, any>;

export interface ProbeTarget {
	podIP: string;
	/** How to run a command inside the container (its sandbox, identity and cgroup). */
	exec(command: string[]): {argv: string[]; env: Record<string, string>; cwd: string};
	/** Named container ports, for `port: http`. */
	ports: Record<string, number>;
}

export type ProbeResult = {ok: true} | {ok: false; message: string};

function resolvePort(port: unknown, target: ProbeTarget): number {
	return typeof port === 'number' ? port : target.ports[String(port)] ?? Number(port);
}

export function runProbe(probe: Rec, target: ProbeTarget): Promise<ProbeResult> {
	const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
	if (probe.exec) {
		return new Promise(resolve => {
			let spec: ReturnType<ProbeTarget['exec']>;
			try {
				spec = target.exec(probe.exec.command as string[]);
			} catch (error) {
				resolve({ok: false, message: (error as Error).message});
				return;
			}
			const child = spawn(spec.argv[0], spec.argv.slice(1), {cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true});
			let output = '';
			child.stdout.on('data', d => (output += d));
			child.stderr.on('data', d => (output += d));
			const timer = setTimeout(() => {
				try {
					process.kill(-child.pid!, 'SIGKILL');
				} catch {}
				resolve({ok: false, message: `command timed out after ${probe.timeoutSeconds ?? 1}s`});
			}, timeoutMs);
			child.on('error', error => {
				clearTimeout(timer);
				resolve({ok: false, message: error.message});
			});
			child.on('close', code => {
				clearTimeout(timer);
				resolve(code === 0 ? {ok: true} : {ok: false, message: `command ${JSON.stringify(probe.exec.command.join(' '))} exited with ${code}: ${output.trim()}`});
			});
		});
	}
	if (probe.httpGet) {
		const port = resolvePort(probe.httpGet.port, target);
		const host = probe.httpGet.host ?? target.podIP;
		return new Promise(resolve => {
			const req = http.get({host, port, path: probe.httpGet.path ?? '/', timeout: timeoutMs, headers: Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h: Rec) => [h.name, h.value]))}, res => {
				res.resume();
				const code = res.statusCode ?? 0;
				resolve(code >= 200 && code < 400 ? {ok: true} : {ok: false, message: `HTTP probe failed with statuscode: ${code}`});
			});
			req.on('timeout', () => {
				req.destroy();
				resolve({ok: false, message: `Get "http://${host}:${port}${probe.httpGet.path ?? '/'}": context deadline exceeded`});
			});
			req.on('error', error => resolve({ok: false, message: `Get "http://${host}:${port}${probe.httpGet.path ?? '/'}": ${error.message}`}));
		});
	}
	if (probe.tcpSocket) {
		const port = resolvePort(probe.tcpSocket.port, target);
		const host = probe.tcpSocket.host ?? target.podIP;
		return new Promise(resolve => {
			const socket = net.connect({host, port, timeout: timeoutMs});
			socket.once('connect', () => {
				socket.destroy();
				resolve({ok: true});
			});
			socket.once('timeout', () => {
				socket.destroy();
				resolve({ok: false, message: `dial tcp ${host}:${port}: i/o timeout`});
			});
			socket.once('error', error => resolve({ok: false, message: `dial tcp ${host}:${port}: ${error.message}`}));
		});
	}
	return Promise.resolve({ok: false, message: 'probe has no handler'});
}
