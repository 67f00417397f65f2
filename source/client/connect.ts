// Finding the embedded engine, and starting it in the background when none
// runs, the way `docker` finds `dockerd`.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import {fileURLToPath} from 'node:url';
import {lockOwner, logPath, socketPath} from '../engine/home.js';
import {EmbeddedClient} from './embedded.js';

const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));

/** Does an engine answer on this state directory's socket? */
export function engineAnswers(home: string, timeoutMs = 2000): Promise<boolean> {
	return new Promise(resolve => {
		const req = http.get({socketPath: socketPath(home), path: '/version', timeout: timeoutMs}, res => {
			res.resume();
			resolve(res.statusCode === 200);
		});
		req.on('error', () => resolve(false));
		req.on('timeout', () => {
			req.destroy();
			resolve(false);
		});
	});
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await check()) return true;
		await new Promise(r => setTimeout(r, 50));
	}
	return false;
}

/**
 * Start `kubedeck serve` detached from this process, its output going to the
 * state directory's engine.log. Resolves with its pid once its socket answers.
 */
export async function startDetachedEngine(home: string, extraArgs: string[] = []): Promise<number> {
	fs.mkdirSync(home, {recursive: true, mode: 0o700});
	const log = fs.openSync(logPath(home), 'a', 0o600);
	const child = spawn(process.execPath, [cliPath, 'serve', ...extraArgs], {
		detached: true,
		stdio: ['ignore', log, log],
		env: {...process.env, KUBEDECK_HOME: home},
	});
	fs.closeSync(log);
	child.unref();
	const exited = new Promise<boolean>(resolve => child.once('exit', () => resolve(true)));
	let gone = false;
	void exited.then(() => (gone = true));
	await waitFor(async () => (await engineAnswers(home, 500)) || gone, 20_000);
	// If our child lost the race for the lock to another starter, that engine serves us as well.
	if (!(await engineAnswers(home, 1000))) {
		const lines = fs.readFileSync(logPath(home), 'utf8').trim().split('\n');
		// A refusal (`serve` prints one "error: ..." line: a held lock, a state file it will not start) says it all.
		const last = lines[lines.length - 1] ?? '';
		if (gone && last.startsWith('error: ')) throw new Error(`the kubedeck engine did not start: ${last.slice('error: '.length)} (see ${logPath(home)})`);
		throw new Error(`the kubedeck engine did not start (see ${logPath(home)}):\n${lines.slice(-5).join('\n')}`);
	}
	return lockOwner(home) ?? child.pid!;
}

export interface ConnectOptions {
	home: string;
	/** Start an engine in the background when none answers (default true). */
	autostart?: boolean;
	/** Where to say that an engine was started (stderr, for commands). */
	notice?: (message: string) => void;
}

export async function connectEmbedded({home, autostart = true, notice}: ConnectOptions): Promise<EmbeddedClient> {
	if (!(await engineAnswers(home))) {
		const owner = lockOwner(home);
		if (owner !== undefined) {
			// Starting up, or busy: give it a moment before concluding anything.
			if (!(await waitFor(() => engineAnswers(home, 500), 10_000))) {
				throw new Error(`the kubedeck engine (pid ${owner}) holds ${home} but does not answer on ${socketPath(home)}`);
			}
		} else if (!autostart) {
			throw new Error(`no kubedeck engine is running for ${home}; start one with "kubedeck serve"`);
		} else {
			const pid = await startDetachedEngine(home);
			notice?.(`Started the kubedeck engine in the background (pid ${pid}, state ${home}). Stop it with "kubedeck stop".`);
		}
	}
	return new EmbeddedClient({socketPath: socketPath(home)}, `embedded (${home})`);
}
