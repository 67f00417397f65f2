// The SSH ops console (`kubedeck serve --ssh [ADDR:]PORT`): an SSH server
// (ssh2) beside the engine. Operators log in with a public key registered
// with `kubedeck users add NAME --ssh-key FILE` and nothing else; each
// session is their own dashboard on their own terminal, or one command (an
// exec request), or a port-forward (direct-tcpip), and acts as them through
// the API (identity.ts). Each concern is one small piece, as wish's
// middlewares are: the per-address limiter, authentication, the session
// kinds (session.ts), forwards (forward.ts), the audit lines.
import crypto from 'node:crypto';
import net from 'node:net';
import ssh2 from 'ssh2';
import type {AuditLog} from '../auth/audit.js';
import type {Users} from '../auth/users.js';
import type {ServiceAccountTokens} from '../auth/tokens.js';
import type {Registry} from '../registry.js';
import {ensureHostKey, fingerprintOf} from './host-key.js';
import {apiEndpoint, ConsoleCredentials, ensureConsoleIdentity, SessionClient} from './identity.js';
import {resolveForward} from './forward.js';
import {clampSize} from './terminal.js';
import {type Connection, runDashboardSession, runExecSession, type SessionContext} from './session.js';

export interface ConsoleOptions {
	home: string;
	listen: {host: string; port: number};
	/** The API's TLS port on loopback, which the console's clients use. */
	apiPort: number;
	registry: Registry;
	tokens: ServiceAccountTokens;
	users: Users;
	audit?: AuditLog;
	log(line: string): void;
}

/** `[ADDR:]PORT` (every address when ADDR is left out, as sshd listens); throws with what is wrong. */
export function parseListen(spec: string): {host: string; port: number} {
	const m = /^(?:(.*):)?(\d+)$/.exec(spec.trim());
	const port = m ? Number(m[2]) : NaN;
	if (!m || !(port >= 0 && port <= 65535)) throw new Error(`invalid SSH address ${JSON.stringify(spec)}: give [ADDR:]PORT, e.g. 2222 or 127.0.0.1:2222`);
	const host = (m[1] ?? '0.0.0.0').replace(/^\[(.*)\]$/, '$1');
	if (net.isIP(host) === 0) throw new Error(`invalid SSH address ${JSON.stringify(spec)}: ${JSON.stringify(host)} is not an IP address`);
	return {host, port};
}

/** Failed logins allowed per address in a window before its connections are refused for the rest of it (OpenSSH's PerSourcePenalties, simply). */
const failuresAllowed = 10;
const failureWindowMs = 60_000;
/** Failed attempts allowed in one connection (sshd's MaxAuthTries). */
const triesPerConnection = 6;
/** Time to log in (sshd's LoginGraceTime, shorter). */
const loginGraceMs = 30_000;
/** Connections not yet logged in, per address and in all. */
const unauthenticatedPerAddress = 10;
const unauthenticatedTotal = 100;
/** Session channels open at once per connection (sshd's MaxSessions), forwards per connection, connections per user. */
export const sessionsPerConnection = 10;
export const forwardsPerConnection = 32;
export const connectionsPerUser = 32;
/** Time for a forward's connection to its pod. */
const forwardConnectMs = 10_000;
/** How often open connections are checked against the users (a removed user or key ends them). */
const revokeCheckMs = 2_000;
/** A session's window-changes are applied at most this often. */
const windowChangeMs = 100;

/** Failed logins per source address, forgotten after the window. */
class FailureLimiter {
	private readonly byAddress = new Map<string, {count: number; since: number}>();

	blocked(address: string, now = Date.now()): boolean {
		const entry = this.byAddress.get(address);
		if (entry && now - entry.since > failureWindowMs) this.byAddress.delete(address);
		return (this.byAddress.get(address)?.count ?? 0) >= failuresAllowed;
	}

	/** Counts a failure; true when it is the one that blocks the address. */
	fail(address: string, now = Date.now()): boolean {
		this.blocked(address, now);
		const entry = this.byAddress.get(address) ?? {count: 0, since: now};
		entry.count++;
		this.byAddress.set(address, entry);
		if (this.byAddress.size > 10_000) this.byAddress.delete(this.byAddress.keys().next().value!);
		return entry.count === failuresAllowed;
	}
}

export class SshConsole {
	private readonly tcp: net.Server;
	private readonly ssh: ssh2.Server;
	private readonly limiter = new FailureLimiter();
	private readonly connections = new Set<Connection>();
	private readonly sockets = new Map<string, net.Socket>();
	private readonly unauthenticated = new Map<string, number>();
	private readonly credentials: ConsoleCredentials;
	readonly fingerprint: string;
	address: {host: string; port: number};

	private constructor(private readonly options: ConsoleOptions) {
		const key = ensureHostKey(options.home);
		this.fingerprint = key.fingerprint;
		this.address = options.listen;
		this.credentials = new ConsoleCredentials(options.registry, options.tokens);
		this.ssh = new ssh2.Server({hostKeys: [key.privateKey], ident: 'kubedeck'}, (client, info) => this.accept(client, info));
		this.ssh.on('error', (error: Error) => options.log(`ssh: ${(error as Error).message}`));
		this.tcp = net.createServer(socket => this.admit(socket));
		// Open connections of a removed user or key end within revokeCheckMs, not only when they next open a channel.
		this.revokeTimer = setInterval(() => {
			for (const conn of this.connections) this.endIfRevoked(conn);
		}, revokeCheckMs).unref();
	}

	private readonly revokeTimer: NodeJS.Timeout;

	static async start(options: ConsoleOptions): Promise<SshConsole> {
		await ensureConsoleIdentity(options.registry);
		const console = new SshConsole(options);
		await new Promise<void>((resolve, reject) => console.tcp.once('error', reject).listen(options.listen.port, options.listen.host, () => {
			console.tcp.off('error', reject);
			resolve();
		}));
		const bound = console.tcp.address() as net.AddressInfo;
		console.address = {host: options.listen.host, port: bound.port};
		return console;
	}

	/** A TCP connection: refused while its address is penalised or too many are still logging in, else handed to ssh2. */
	private admit(socket: net.Socket): void {
		const ip = socket.remoteAddress ?? '?';
		socket.on('error', () => {});
		const waiting = this.unauthenticated.get(ip) ?? 0;
		const total = [...this.unauthenticated.values()].reduce((a, b) => a + b, 0);
		if (this.limiter.blocked(ip) || waiting >= unauthenticatedPerAddress || total >= unauthenticatedTotal) {
			socket.destroy();
			return;
		}
		this.unauthenticated.set(ip, waiting + 1);
		const key = `${ip}:${socket.remotePort}`;
		this.sockets.set(key, socket);
		let counted = true;
		const loggedIn = () => {
			if (!counted) return;
			counted = false;
			const n = (this.unauthenticated.get(ip) ?? 1) - 1;
			if (n > 0) this.unauthenticated.set(ip, n);
			else this.unauthenticated.delete(ip);
		};
		socket.once('close', () => {
			loggedIn();
			this.sockets.delete(key);
		});
		socket.once('kubedeck:authenticated', loggedIn);
		const grace = setTimeout(() => socket.destroy(), loginGraceMs).unref();
		socket.once('kubedeck:authenticated', () => clearTimeout(grace));
		socket.once('close', () => clearTimeout(grace));
		this.ssh.injectSocket(socket);
	}

	private accept(client: ssh2.Connection, info: ssh2.ClientInfo): void {
		const socket = this.sockets.get(`${info.ip}:${info.port}`);
		if (!socket) return void client.end();
		const address = `${info.ip}:${info.port}`;
		const conn: Connection = {client, socket, address, cleanups: new Set()};
		this.connections.add(conn);
		let tries = 0;
		let unknownKeyCounted = false;
		const log = this.options.log;
		/** A refused attempt; `penalise` false when it does not count against the address (a further unknown key of the same connection). */
		const fail = (username: string, why: string, penalise = true) => {
			tries++;
			log(`ssh: refused ${JSON.stringify(username)} from ${address}: ${why}`);
			this.audit(conn, 'login', 'login-refused', {username: username.slice(0, 256), reason: why});
			if (penalise && this.limiter.fail(info.ip)) log(`ssh: ${failuresAllowed} failed logins from ${info.ip} within ${failureWindowMs / 1000} s: its connections are refused until the window passes`);
			if (tries >= triesPerConnection || this.limiter.blocked(info.ip)) client.end();
		};
		// Malformed traffic ends its own connection (ssh2 reports it here), never the server.
		client.on('error', error => log(`ssh: ${address}: ${(error as Error).message}`));
		client.on('authentication', ctx => {
			if (ctx.method === 'none') return ctx.reject(['publickey']);
			if (ctx.method !== 'publickey') {
				fail(ctx.username, `${ctx.method} authentication is not accepted (public keys only)`);
				return ctx.reject(['publickey']);
			}
			const record = this.options.users.get(ctx.username);
			const key = record?.sshKeys.map(line => ssh2.utils.parseKey(line)).map(k => (Array.isArray(k) ? k[0] : k))
				.find((k): k is ssh2.ParsedKey => !(k instanceof Error) && k.getPublicSSH().equals(ctx.key.data));
			if (!record || !key) {
				// The same answer whether the user or the key is unknown: which names exist is not told.
				// A client offers the keys it has in turn (an agent may hold several): one unknown key per connection counts against
				// the address, so a user with many keys is not locked out; bad signatures and other methods all count.
				fail(ctx.username, `unknown key ${fingerprintOf(ctx.key.data)}`, !unknownKeyCounted);
				unknownKeyCounted = true;
				return ctx.reject(['publickey']);
			}
			// Without a signature the client only asks whether this key would do: it signs next.
			if (!ctx.signature) return ctx.accept();
			if (key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) {
				fail(ctx.username, `a bad signature for ${fingerprintOf(ctx.key.data)}`);
				return ctx.reject(['publickey']);
			}
			if ([...this.connections].filter(c => c.user?.name === record.name && !c.closed).length >= connectionsPerUser) {
				log(`ssh: refused ${JSON.stringify(ctx.username)} from ${address}: ${connectionsPerUser} connections of this user are open`);
				ctx.reject(['publickey']);
				return void client.end();
			}
			conn.user = {name: record.name, groups: record.groups};
			conn.uid = record.uid;
			conn.key = Buffer.from(ctx.key.data);
			ctx.accept();
		});
		client.on('ready', () => {
			socket.emit('kubedeck:authenticated');
			log(`ssh: ${conn.user!.name} logged in from ${address}`);
			this.audit(conn, 'login', 'login', {key: fingerprintOf(conn.key!)});
			this.serve(conn);
		});
		client.on('close', () => {
			conn.closed = true;
			for (const cleanup of conn.cleanups) cleanup();
			conn.cleanups.clear();
			this.connections.delete(conn);
		});
	}

	/** Whether the user who logged in on `conn` is still there, the same record (uid), with the same key. */
	private stillAllowed(conn: Connection): boolean {
		const record = conn.user && this.options.users.get(conn.user.name);
		if (!record || record.uid !== conn.uid || !conn.key) return false;
		return record.sshKeys.some(line => {
			const parsed = ssh2.utils.parseKey(line);
			const k = Array.isArray(parsed) ? parsed[0] : parsed;
			return !(k instanceof Error) && k.getPublicSSH().equals(conn.key!);
		});
	}

	/** Ends `conn` if its user or key has been removed; true when it did. */
	private endIfRevoked(conn: Connection): boolean {
		if (conn.closed || !conn.user || this.stillAllowed(conn)) return false;
		this.options.log(`ssh: ${conn.user.name} from ${conn.address}: disconnected: the user or their key was removed`);
		conn.client.end();
		return true;
	}

	private context(conn: Connection): SessionContext {
		const user = conn.user!;
		return {
			conn, home: this.options.home, log: this.options.log, listenPort: this.address.port,
			client: () => new SessionClient(apiEndpoint(this.options.home, this.options.apiPort, this.credentials, user), `${user.name}@ssh (${this.address.host === '0.0.0.0' ? conn.socket.localAddress ?? 'console' : this.address.host}:${this.address.port})`),
			audit: (what, phase, extra) => this.audit(conn, what, phase, extra),
		};
	}

	private serve(conn: Connection): void {
		const {client} = conn;
		const ctx = this.context(conn);
		client.on('session', (accept, reject) => {
			if (this.endIfRevoked(conn)) return reject();
			if ((conn.sessions ?? 0) >= sessionsPerConnection) {
				this.options.log(`ssh: ${conn.user!.name} from ${conn.address}: session refused: ${sessionsPerConnection} are open on this connection`);
				return reject();
			}
			const session = accept();
			conn.sessions = (conn.sessions ?? 0) + 1;
			session.once('close', () => void (conn.sessions = (conn.sessions ?? 1) - 1));
			let pty: {columns: number; rows: number; term: string} | undefined;
			const env: Record<string, string> = {};
			let resize: ((columns: number, rows: number) => void) | undefined;
			session.on('pty', (ok, _no, info) => {
				pty = {...clampSize(info.cols, info.rows), term: info.term};
				ok?.();
			});
			// Each resize redraws the whole screen: a flood of window-changes is taken at most every windowChangeMs, the last size winning.
			let resizeTimer: NodeJS.Timeout | undefined;
			let lastResize = 0;
			const applyResize = () => {
				resizeTimer = undefined;
				lastResize = Date.now();
				if (pty) resize?.(pty.columns, pty.rows);
			};
			session.once('close', () => clearTimeout(resizeTimer));
			session.on('window-change', (ok, _no, info) => {
				if (pty) pty = {...pty, ...clampSize(info.cols, info.rows, pty)};
				if (!resizeTimer) {
					const wait = lastResize + windowChangeMs - Date.now();
					if (wait <= 0) applyResize();
					else resizeTimer = setTimeout(applyResize, wait).unref();
				}
				ok?.();
			});
			// LANG, NO_COLOR, COLORTERM and the like; kept small, as a client chooses what it sends.
			session.on('env', (ok, _no, info) => {
				if (Object.keys(env).length < 32 && info.key.length <= 64 && info.val.length <= 1024) env[info.key] = info.val;
				ok?.();
			});
			session.on('shell', ok => {
				const channel = ok();
				void runDashboardSession(ctx, channel, pty, env, r => (resize = r)).catch(error => this.options.log(`ssh: ${conn.address}: ${(error as Error).stack ?? error}`));
			});
			session.on('exec', (ok, _no, info) => {
				const channel = ok();
				void runExecSession(ctx, channel, info.command, pty, env, r => (resize = r)).catch(error => this.options.log(`ssh: ${conn.address}: ${(error as Error).stack ?? error}`));
			});
			session.on('subsystem', (_ok, no) => no?.());
			session.on('x11', (_ok, no) => no?.());
			session.on('auth-agent', (_ok, no) => no?.());
		});
		client.on('tcpip', (accept, reject, info) => (this.endIfRevoked(conn) ? reject() : void this.forward(conn, ctx, accept, reject, info)));
		// Remote forwards (-R) would listen on the server's machine: refused.
		client.on('request', (_accept, reject) => reject?.());
	}

	/**
	 * A direct-tcpip channel (ssh -L): resolved and checked as the user, then piped to the pod. The
	 * upstream socket is the connection's from the start (its cleanups destroy it), so a client that
	 * drops while the forward is resolved or connected leaves nothing open.
	 */
	private async forward(conn: Connection, ctx: SessionContext, accept: () => ssh2.ServerChannel | undefined, reject: () => void, info: ssh2.TcpipRequestInfo): Promise<void> {
		const where = `${info.destIP}:${info.destPort}`;
		const refuse = () => {
			try {
				reject();
			} catch {
				// The connection went meanwhile.
			}
		};
		if (conn.closed) return refuse();
		if ((conn.forwards ?? 0) >= forwardsPerConnection) {
			this.options.log(`ssh: ${conn.user!.name} from ${conn.address}: port-forward to ${where} refused: ${forwardsPerConnection} are open on this connection`);
			return refuse();
		}
		conn.forwards = (conn.forwards ?? 0) + 1;
		let upstream: net.Socket | undefined;
		let released = false;
		const abandon = () => upstream?.destroy();
		conn.cleanups.add(abandon);
		/** The forward is over (refused, failed, or its channel closed): it no longer counts. */
		const done = () => {
			if (released) return;
			released = true;
			conn.cleanups.delete(abandon);
			conn.forwards = (conn.forwards ?? 1) - 1;
		};
		const client = ctx.client();
		let target: {host: string; port: number; target: string};
		try {
			target = await resolveForward(client, info.destIP, info.destPort);
		} catch (error) {
			done();
			this.options.log(`ssh: ${conn.user!.name} from ${conn.address}: port-forward to ${where} refused: ${(error as Error).message}`);
			this.audit(conn, `direct-tcpip ${where}`, 'refused', {reason: (error as Error).message});
			return refuse();
		} finally {
			client.release();
		}
		if (conn.closed) {
			done();
			return refuse();
		}
		const socket = (upstream = net.connect(target.port, target.host));
		const timer = setTimeout(() => socket.destroy(new Error(`no connection to ${target.target} within ${forwardConnectMs / 1000} s`)), forwardConnectMs).unref();
		socket.once('error', () => {
			clearTimeout(timer);
			done();
			refuse();
		});
		socket.once('connect', () => {
			clearTimeout(timer);
			socket.removeAllListeners('error');
			const channel = conn.closed || conn.socket.destroyed ? undefined : accept();
			if (!channel) {
				socket.destroy();
				return done();
			}
			const started = new Date();
			this.audit(conn, `direct-tcpip ${where} -> ${target.target}`, 'start');
			const close = () => {
				socket.destroy();
				channel.destroy();
			};
			conn.cleanups.add(close);
			socket.on('error', close);
			channel.on('error', close);
			socket.pipe(channel).pipe(socket);
			channel.once('close', () => {
				close();
				conn.cleanups.delete(close);
				done();
				this.audit(conn, `direct-tcpip ${where} -> ${target.target}`, 'end', {}, started);
			});
		});
	}

	/** One audit line per login, refused login, session start and end: who, from where, what, when. */
	private audit(conn: Connection, what: string, phase: 'start' | 'end' | 'refused' | 'login' | 'login-refused', extra: Record<string, string> = {}, started?: Date): void {
		const now = new Date().toISOString();
		const user = conn.user ?? {name: '', groups: []};
		this.options.audit?.write({
			kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: crypto.randomUUID(), stage: 'ResponseComplete',
			requestURI: `ssh: ${what}`, verb: `session-${phase}`, user: {username: user.name, groups: user.groups}, sourceIPs: [conn.socket.remoteAddress ?? conn.address],
			annotations: {'kubedeck.io/ssh-address': conn.address, ...(started ? {'kubedeck.io/ssh-started': started.toISOString()} : {}), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`kubedeck.io/ssh-${k}`, v]))},
			responseStatus: {metadata: {}, code: phase === 'refused' || phase === 'login-refused' ? 403 : 200},
			requestReceivedTimestamp: started?.toISOString() ?? now, stageTimestamp: now,
		});
	}

	/** Stop listening and end every connection (their sessions release what they held). */
	async stop(): Promise<void> {
		clearInterval(this.revokeTimer);
		const closed = new Promise<void>(resolve => this.tcp.close(() => resolve()));
		for (const conn of this.connections) conn.client.end();
		for (const socket of this.sockets.values()) socket.destroy();
		await closed;
	}
}

