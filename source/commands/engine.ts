// The engine's own commands: serve (foreground or --detach), stop, version.
import {serverVersion} from '../server/api/discovery.js';
import {engineAnswers, startDetachedEngine} from '../client/connect.js';
import {Engine} from '../engine/engine.js';
import {lockIsHeld, lockOwner, lockPath, readLock, socketPath, stateHome} from '../engine/home.js';
import {verifyIdentity} from '../engine/identity.js';
import {type Command, type CommandContext} from './context.js';
import {CliError} from '../client/errors.js';

export const serveCommand: Command = {
	name: 'serve',
	summary: 'Run the embedded engine (in the foreground, or in the background with --detach)',
	usage: 'kubedeck serve [--detach] [--port PORT] [--ssh [ADDR:]PORT]   (the API is also served on https://127.0.0.1:PORT for kubectl and pods, with a bearer token: see kubedeck kubeconfig; without --port, the port of the last start, else a free one. --ssh serves the SSH console: ssh -p PORT USER@HOST)',
	flags: {detach: {type: 'boolean', short: 'd'}, port: {type: 'string'}, ssh: {type: 'string'}},
	async run(ctx: CommandContext) {
		const home = stateHome(ctx.io.env);
		const port = ctx.string('port') !== undefined ? Number(ctx.string('port')) : undefined;
		if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new CliError(`error: invalid port "${ctx.string('port')}"`);
		const ssh = ctx.string('ssh');
		if (ssh !== undefined) {
			const {parseListen} = await import('../server/ssh/console.js');
			try {
				parseListen(ssh);
			} catch (error) {
				throw new CliError(`error: --ssh: ${(error as Error).message}`);
			}
		}
		if (ctx.bool('detach')) {
			const owner = lockOwner(home);
			if (owner !== undefined) throw new CliError(`error: a kubedeck engine (pid ${owner}) is already running with state directory ${home}`);
			const pid = await startDetachedEngine(home, [...(port !== undefined ? ['--port', String(port)] : []), ...(ssh !== undefined ? ['--ssh', ssh] : [])]);
			ctx.out(`kubedeck engine started in the background (pid ${pid}, state ${home})`);
			return 0;
		}
		let engine: Engine;
		try {
			engine = await Engine.start({home, port, ssh});
		} catch (error) {
			throw new CliError(`error: ${(error as Error).message}`);
		}
		const console = engine.sshConsole;
		// Said before "serving", so whoever waits for that line has the console's address and key already.
		if (console) ctx.out(`SSH console on ${console.address.host}:${console.address.port} (host key ${console.fingerprint}; users log in with the keys of kubedeck users add NAME --ssh-key FILE)`);
		ctx.out(`kubedeck engine serving (pid ${process.pid}, state ${home}${engine.tcpPort !== undefined ? `, https://127.0.0.1:${engine.tcpPort}` : ''})`);
		// Kept (on, not once) until the engine has stopped: each SSH session's Ink holds a signal-exit handler, and
		// signal-exit re-raises a signal that nobody else listens to, which would end the process before the engine stopped.
		let stop!: () => void;
		const stopping = new Promise<void>(resolve => (stop = resolve));
		process.on('SIGTERM', stop);
		process.on('SIGINT', stop);
		await stopping;
		await engine.stop();
		process.off('SIGTERM', stop);
		process.off('SIGINT', stop);
		ctx.out('kubedeck engine stopped');
		return 0;
	},
};

export const stopCommand: Command = {
	name: 'stop',
	summary: 'Stop the background engine cleanly',
	usage: 'kubedeck stop',
	flags: {},
	async run(ctx: CommandContext) {
		const home = stateHome(ctx.io.env);
		const lock = readLock(home);
		if (!lock) {
			ctx.out(`no kubedeck engine is running for ${home}`);
			return 0;
		}
		// Signal only the process that wrote the lock: same pid and start time, and, when the socket
		// answers, the lock's token. A pid alone may have been recycled for someone else's process.
		if (!lockIsHeld(lock)) {
			ctx.out(`no kubedeck engine is running for ${home}: the lock ${lockPath(home)} was stale (pid ${lock.pid} is not the engine that wrote it); nothing was signalled`);
			return 0;
		}
		if (lock.token !== undefined && (await verifyIdentity(socketPath(home), lock)) === 'impostor') {
			throw new CliError(`error: the process answering on ${socketPath(home)} cannot prove it is the engine named in ${lockPath(home)} (pid ${lock.pid}); nothing was signalled`);
		}
		process.kill(lock.pid, 'SIGTERM');
		const deadline = Date.now() + 30_000;
		while (lockIsHeld(lock) && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
		if (lockIsHeld(lock)) throw new CliError(`error: the kubedeck engine (pid ${lock.pid}) did not stop within 30s`);
		ctx.out(`kubedeck engine stopped (pid ${lock.pid})`);
		return 0;
	},
};

export const versionCommand: Command = {
	name: 'version',
	summary: 'Print the client and server version information',
	usage: 'kubedeck version',
	flags: {},
	async run(ctx: CommandContext) {
		ctx.out(`Client Version: ${serverVersion.gitVersion}`);
		const home = stateHome(ctx.io.env);
		if (await engineAnswers(home)) {
			const version = await (await ctx.client()).version();
			ctx.out(`Server Version: ${version.gitVersion}`);
		} else {
			ctx.out('Server Version: (no engine running)');
		}
		return 0;
	},
};
