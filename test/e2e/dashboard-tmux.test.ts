// The dashboard as a person uses it: the built binary in tmux against a real
// engine; keys with send-keys, the screen with capture-pane.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {after, before, describe, it} from 'node:test';
import {cliPath, type EngineProcess, eventually, removeHome, runCli, startEngine, tempHome, tmuxServer} from '../helpers.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

describe('the dashboard in tmux', {skip: !hasTmux && 'tmux is not installed'}, () => {
	let home: string;
	let engine: EngineProcess;
	const session = `kd-${process.pid}`;
	const server = tmuxServer(`kd-${process.pid}`);
	const {tmux} = server;
	const screen = () => server.screen(session);
	const keys = (...k: string[]) => tmux('send-keys', '-t', session, ...k);
	// On a timeout, the screen as it was is part of the failure.
	const until = (pattern: RegExp, what: string) => server.until(session, pattern, what);

	before(async () => {
		home = tempHome();
		engine = await startEngine(home);
		const r = await runCli(['create', 'deployment', 'web', '--image=kubedeck/agnhost', '--replicas=1'], {home});
		assert.equal(r.code, 0, r.stderr);
		server.open(session, `CI=true KUBEDECK_HOME=${home} KUBEDECK_CONFIG_DIR=${home}/conf ${process.execPath} ${cliPath}`);
	});
	after(async () => {
		server.close();
		await engine.stop();
		removeHome(home);
	});

	it('opens on the pods of the default namespace, in colour', async () => {
		await until(/kubedeck embedded .* ns: default {2}view: pods {2}● live/, 'the first screen');
		await until(/^[> ] web-\S+\s+1\/1\s+Running/m, 'the web pod Running');
		// The selected row in inverse video, the header bold (escape sequences as tmux keeps them).
		const styled = tmux('capture-pane', '-p', '-e', '-t', session);
		const before = (text: string) => styled.slice(0, styled.indexOf(text)).split('\n').pop()!;
		const sgr = (attribute: number) => new RegExp(`\u001B\\[(?:\\d*;)*${attribute}(?:;\\d*)*m(?:\u001B\\[[\\d;]*m)*$`);
		assert.match(before('> web-'), sgr(7), 'the selected row is drawn in inverse video');
		assert.match(before('  NAME'), sgr(1), 'the header is bold');
	});

	it('scales a deployment to 3 from the keyboard and shows 3 pods Running', async () => {
		keys(':');
		await until(/^:/m, 'command mode');
		// Tab completes the kind (sent in one chunk with the letters, as a fast typist's keys arrive).
		keys('dep', 'Tab');
		await until(/^:deployments/m, 'completion');
		keys('Enter');
		await until(/view: deployments/, 'the deployments view');
		keys('s');
		await until(/^replicas: 1/m, 'the scale prompt');
		keys('BSpace', '3', 'Enter');
		await until(/deployment\.apps\/web scaled to 3/, 'the status line');
		keys(':');
		await until(/^:/m, 'command mode');
		keys('pods', 'Enter');
		await until(/view: pods/, 'the pods view');
		await eventually(() => screen().split('\n').filter(l => /^[> ] web-\S+\s+1\/1\s+Running/.test(l)).length === 3, '3 web pods Running', 20_000);
		// A burst of keys in one write (key repeat, a slow link): every one counts.
		const rows = () => screen().split('\n').filter(l => /^[> ] web-/.test(l));
		keys('jj');
		await eventually(() => rows()[2]?.startsWith('> '), 'two rows down from one write of jj', 15_000).catch(error => {
			throw new Error(`${(error as Error).message}; the screen:\n${screen()}`);
		});
		keys('g');
		await until(/^> web-/m, 'back to the top');
		// A narrow terminal: columns fit by priority (names shortened, sparklines gone), help and quit stay.
		tmux('resize-window', '-t', session, '-x', '60', '-y', '20');
		await until(/^ {2}NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/m, 'kubectl\'s columns at 60 columns');
		await until(/<\?> help {2}<q> quit\s*$/m, 'help and quit in the footer');
		assert.ok(screen().split('\n').every(l => l.length <= 60), screen());
		tmux('resize-window', '-t', session, '-x', '120', '-y', '32');
		await until(/^ {2}NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+CPU\s+MEM/m, 'every column again at 120');
	});

	it('opens a pod\'s logs, opens a shell in it, confirms before deleting (defaulting to Cancel) and quits', async () => {
		keys('l');
		await until(/Logs default\/web-/, 'the logs view');
		await until(/netexec: serving on http:\/\/127\./, 'the pod\'s log line');
		keys('Escape');
		await until(/^ {2}NAME\s+READY/m, 'back to the list');
		// s on a pod: the dashboard steps aside for a shell in the container, and comes back after exit.
		keys('s');
		await eventually(() => !/view: pods/.test(screen()), 'the dashboard stepped aside', 15_000);
		// As a person would: type once the shell's prompt is there (the shell runs in the pod, behind the engine).
		await until(/^\$ ?$/m, 'the shell\'s prompt');
		keys('echo "in $POD_NAME"', 'Enter');
		await until(/^in web-\S+$/m, 'the shell running in the pod\'s environment');
		// ctrl-c is for the shell's child, not the dashboard.
		keys('sleep 60', 'Enter');
		keys('C-c');
		keys('echo "still $POD_NAME"', 'Enter');
		await until(/^still web-\S+$/m, 'the shell alive after ctrl-c ended its child');
		keys('exit', 'Enter');
		await until(/shell in web-\S+ exited/, 'back in the dashboard');
		keys('C-d');
		await until(/Delete pod\/web-\S+ in namespace default\?\s+Cancel\s+Delete/, 'the delete confirmation');
		keys('Enter');
		await until(/^(?!.*Delete pod\/)/s, 'the dialog closed');
		const pods = (await runCli(['get', 'pods', '--no-headers'], {home})).stdout.trim().split('\n');
		assert.equal(pods.length, 3, 'Enter on the default choice (Cancel) deleted nothing');
		keys('q');
		await eventually(() => {
			try {
				tmux('has-session', '-t', session);
				return /\$ ?$|exited/m.test(screen()) ? true : false;
			} catch {
				return true;
			}
		}, 'the dashboard to exit');
	});
});
