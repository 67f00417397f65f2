// Dashboard flows rendered with ink-testing-library against a real engine:
// keys in through stdin, the screen read from the last frame, and the
// engine asked afterwards whether the keys did what the screen says.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import {after, before, describe, it} from 'node:test';
import {render} from 'ink-testing-library';
import type {KubeObject} from '../../source/api/object.js';
import {resolveType} from '../../source/api/resources.js';
import {EmbeddedClient} from '../../source/client/embedded.js';
import {socketPath} from '../../source/engine/home.js';
import {App, type AppProps} from '../../source/ui/app.js';
import {Prefs} from '../../source/ui/prefs.js';
import {type EngineProcess, eventually, removeHome, startEngine, tempHome} from '../helpers.js';

const cm = (name: string, labels: Record<string, string> = {}) => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: 'default', labels}, data: {k: 'v'}});
const deployment = (name: string, replicas: number, args: string[] = ['pause']): KubeObject => ({
	apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace: 'default'},
	spec: {replicas, selector: {matchLabels: {app: name}}, template: {metadata: {labels: {app: name}}, spec: {containers: [{name: 'c', image: 'kubedeck/agnhost', args}]}}},
});
const keys = {esc: '\u001b', enter: '\r', backspace: '\u007f', end: '\u001b[F', tab: '\t', ctrlS: '\u0013', ctrlF: '\u0006', ctrlR: '\u0012', ctrlD: '\u0004'};
const deployType = resolveType('deployments')!;

describe('dashboard (ink-testing-library)', () => {
	let home: string;
	let engine: EngineProcess;
	let client: EmbeddedClient;
	before(async () => {
		home = tempHome();
		engine = await startEngine(home);
		client = new EmbeddedClient({socketPath: socketPath(home)}, 'test');
		for (const name of ['alpha', 'bravo', 'charlie']) await client.create(cm(name, name === 'bravo' ? {tier: 'back'} : {}));
	});
	after(async () => {
		client.close();
		await engine.stop();
		removeHome(home);
	});

	/** The App on a fresh preferences directory (never the user's). */
	function open(props: Partial<AppProps> = {}, prefsJson?: object) {
		const dir = fs.mkdtempSync(path.join(home, 'prefs-'));
		if (prefsJson) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(prefsJson));
		const app = render(<App client={client} prefs={new Prefs(dir)} {...props} />);
		const frame = () => app.lastFrame() ?? '';
		// A timeout says what was on the screen.
		const until = (test: RegExp | (() => boolean), what: string, timeoutMs?: number) => eventually(() => (typeof test === 'function' ? test() : test.test(frame())), what, timeoutMs).catch(error => {
			throw new Error(`${(error as Error).message}; the screen was:\n${frame()}`);
		});
		const type = (text: string) => app.stdin.write(text);
		const command = async (text: string) => {
			type(':');
			await until(/^:/m, 'command mode');
			type(`${text}\r`);
		};
		/** Move down the list until `name` is selected. */
		const selectRow = async (name: string) => {
			for (let i = 0; i < 50 && selectedName(frame()) !== name; i++) {
				type('j');
				await new Promise(r => setTimeout(r, 50));
			}
			assert.equal(selectedName(frame()), name);
		};
		/** The deployments list, with `name` selected once it is listed. */
		const selectDeployment = async (name: string) => {
			await until(/view: pods/, 'the first frame');
			await command('deploy');
			await until(new RegExp(`view: deployments[^]*^[> ] ${name}\\s`, 'm'), 'the deployment');
			await selectRow(name);
		};
		return {app, frame, until, type, command, selectRow, selectDeployment};
	}
	const selectedName = (frame: string) => frame.split('\n').find(l => l.startsWith('> '))?.split(/\s+/)[1];

	it('keeps the selected row on the same object when the list changes, filters by regex and label, and moves between panes', async () => {
		const {app, frame, until, type, command} = open();
		try {
			await until(/view: pods/, 'the first frame');
			// No pods yet: the first screen offers the examples.
			await until(/This namespace is empty. Press A to apply the examples\/ folder/, 'the examples offer');
			await command('cm');
			await until(/^ {2}charlie/m, 'the configmaps');
			type('j');
			await until(() => selectedName(frame()) === 'bravo', 'bravo selected');
			await client.create(cm('aardvark'));
			await until(/^[> ] aardvark/m, 'the new configmap to appear');
			assert.equal(selectedName(frame()), 'bravo', 'the selection did not move when a row was inserted above it');
			type('/');
			type('^(char|alp)\r');
			await until(() => !/bravo/.test(frame()) && /charlie/.test(frame()) && /alpha/.test(frame()), 'the regex filter');
			type('/');
			type(`${keys.backspace.repeat(20)}-l tier=back\r`);
			await until(() => /bravo/.test(frame()) && !/charlie/.test(frame()), 'the label filter');
			type(keys.esc);
			await until(() => /charlie/.test(frame()) && /bravo/.test(frame()), 'esc clears the filter');
			// Panes: Config is where configmaps live; tab moves on to Namespaces, ] within a pane.
			assert.match(frame(), /\[configmaps\] secrets/);
			type(keys.tab);
			await until(/view: namespaces/, 'the Namespaces pane');
			await until(/^[> ] default\s+Active/m, 'the namespaces listed');
			await command('deploy');
			type(']');
			await until(/view: statefulsets/, '] to the next kind of the Workloads pane');
			// Sorting: > picks the next column, flagged in the header.
			await command('cm');
			type('N');
			await until(/NAME↑/, 'sorted by name');
			type('N');
			await until(() => /NAME↓/.test(frame()) && frame().indexOf('charlie') < frame().indexOf('alpha'), 'name descending');
		} finally {
			app.unmount();
		}
	});

	it('counts every key of a burst, and esc goes back through the views opened, with a breadcrumb and H', async () => {
		await client.create(deployment('trail', 1));
		await client.create(cm('delta'));
		const {app, frame, until, type, command} = open();
		const names = () => frame().split('\n').filter(l => /^[> ] \S/.test(l) && !/^ {2}NAME\s/.test(l)).map(l => l.slice(2).split(/\s+/)[0]);
		try {
			await until(/view: pods/, 'the first frame');
			await command('cm');
			await until(/^[> ] charlie/m, 'the configmaps');
			const listed = names();
			assert.equal(selectedName(frame()), listed[0]);
			// One write, three keys: every one counts.
			type('jjj');
			await until(() => selectedName(frame()) === listed[3], 'three rows down');
			type('kk');
			await until(() => selectedName(frame()) === listed[1], 'two rows up');
			await command('deploy');
			await until(/^pods@default › configmaps@default › deployments@default/m, 'the breadcrumb');
			await until(/^[> ] trail\s/m, 'the deployment');
			for (let i = 0; i < 50 && selectedName(frame()) !== 'trail'; i++) type('j');
			await until(() => selectedName(frame()) === 'trail', 'trail selected');
			type(keys.enter);
			await until(/view: pods[^]*\/-l app=trail/, 'the deployment\'s pods');
			// A filter typed here is cleared first, back to the one the view came with; then esc goes back.
			type('/');
			await until(/^\/-l app=trail/m, 'the filter prompt, prefilled');
			type('nothing-matches');
			await until(/\/nothing-matches/, 'the typed filter applied as it is typed, replacing the prefilled one');
			type(keys.enter);
			type(keys.esc);
			await until(/\/-l app=trail/, 'esc: the filter the view came with');
			type(keys.esc);
			await until(() => /view: deployments/.test(frame()) && selectedName(frame()) === 'trail', 'back on the deployments, trail still selected');
			type('H');
			await until(/Earlier views, newest first[^]*> configmaps@default[^]*  pods@default/, 'H lists the earlier views, newest first');
			type(keys.enter);
			await until(() => /view: configmaps/.test(frame()) && selectedName(frame()) === listed[1], 'H took us to the configmaps, selection kept');
			type(keys.esc);
			await until(/view: pods/, 'esc: back to the first view');
			type(keys.esc);
			await until(/no earlier view/, 'nothing further back, and it says so');
		} finally {
			app.unmount();
		}
	});

	it('edits prompts with readline keys and history; a prefilled value is replaced by what is typed', async () => {
		await client.create(deployment('viaprompt', 3));
		const {app, frame, until, type, command} = open();
		try {
			await until(/view: pods/, 'the first frame');
			await command('deploy');
			await until(/^[> ] viaprompt\s/m, 'the deployment');
			for (let i = 0; i < 50 && selectedName(frame()) !== 'viaprompt'; i++) type('j');
			await until(() => selectedName(frame()) === 'viaprompt', 'prompted selected');
			type('s');
			await until(/^replicas: 3/m, 'the prefilled prompt');
			type('5\r');
			await until(/deployment.apps\/viaprompt scaled to 5/, 'scaled to 5, not 35');
			// ctrl-w removes a word, ctrl-u the whole line; up recalls the last command.
			type(':');
			await until(/^:/m, 'the command prompt');
			type('svc default');
			type('\u0017');
			await until(/^:svc\s*$/m, 'ctrl-w took the last word');
			type('\u0015');
			await until(/^:\s*$/m, 'ctrl-u emptied the line');
			type('cm\r');
			await until(/view: configmaps/, 'the command ran');
			type(':');
			await until(/^:/m, 'the command prompt again');
			type('\u001b[A');
			await until(/^:cm/m, 'up recalled the last command');
			type('\u0001x\r');
			// An unknown command names the nearest ones instead of the server's "doesn't have a resource type".
			await until(/error: no command or resource type "xcm": did you mean :cm/, 'ctrl-a typed at the start');
		} finally {
			app.unmount();
		}
	});

	it('offers the examples on an empty namespace\'s first screen, and A runs them', async () => {
		await client.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'fresh'}});
		const {app, until, type} = open({initialNamespace: 'fresh'});
		try {
			await until(/ns: fresh[^]*This namespace is empty. Press A to apply the examples\/ folder/, 'the offer');
			type('A');
			await until(/applied examples\/: deployment.apps\/edu-msa-board created/, 'the examples applied');
			await eventually(async () => (await client.list(resolveType('pods')!, {namespace: 'fresh'})).items.filter(p => (p.status as {phase?: string}).phase === 'Running').length === 4, 'four pods Running (two board replicas, the pod, nginx)', 60_000);
			await until(/pods: 4 Running/, 'the header counting them');
		} finally {
			app.unmount();
		}
	});

	it('masks Secret values in the YAML view until x reveals them', async () => {
		await client.create({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'creds', namespace: 'default'}, data: {password: Buffer.from('hunter2').toString('base64')}});
		const {app, frame, until, type, command} = open();
		try {
			await until(/view: pods/, 'the first frame');
			await command('secrets');
			await until(/^> creds/m, 'the secret selected');
			type('y');
			await until(/password: "\*{8}"/, 'the masked value');
			assert.ok(!frame().includes('aHVudGVyMg==') && !frame().includes('hunter2'));
			assert.match(frame(), /<x> reveal or hide secret values/, 'the footer offers x here');
			type('x');
			await until(/password: hunter2/, 'the revealed value');
			type('x');
			await until(() => /password: "\*{8}"/.test(frame()) && !frame().includes('hunter2'), 'x hides them again');
			// A Deployment's describe has no secret to reveal: x is not offered there.
			type(keys.esc);
			await until(/^ {2}NAME/m, 'back to the list');
			await command('cm');
			await until(/view: configmaps[^]*^> /m, 'a configmap selected');
			type('y');
			await until(/^YAML configmap/m, 'a configmap\'s YAML');
			assert.doesNotMatch(frame(), /<x>/);
		} finally {
			app.unmount();
		}
	});

	it('scales a deployment with the prompt and with + and -', async () => {
		await client.create(deployment('scaled', 1));
		const {app, until, type, command} = open();
		try {
			await until(/view: pods/, 'the first frame');
			await command('deploy');
			await until(/view: deployments[^]*^> scaled\s+1\/1/m, 'the deployment');
			type('s');
			await until(/^replicas: 1/m, 'the scale prompt');
			type(`${keys.backspace}3\r`);
			await until(/deployment.apps\/scaled scaled to 3/, 'the status line');
			assert.equal(((await client.get(deployType, 'default', 'scaled')).spec as {replicas: number}).replicas, 3);
			await until(/^> scaled\s+\d\/3/m, 'the list showing 3 wanted');
			type('+');
			await until(/scaled to 4/, '+ scales up');
			assert.equal(((await client.get(deployType, 'default', 'scaled')).spec as {replicas: number}).replicas, 4);
			type('s');
			await until(/^replicas: 4/m, 'the prompt');
			type(`${keys.backspace}x\r`);
			await until(/spec.replicas: Invalid value/, 'a bad number refused');
			assert.equal(((await client.get(deployType, 'default', 'scaled')).spec as {replicas: number}).replicas, 4, 'nothing written');
		} finally {
			app.unmount();
		}
	});

	it('describes a Deployment live: its rollout bar, ReplicaSets and pods follow a scale', async () => {
		await client.create(deployment('described', 1));
		const {app, frame, until, type, selectDeployment} = open();
		try {
			await selectDeployment('described');
			type('d');
			await until(/Describe deployment.apps\/described \(live\)/, 'the live describe view');
			await until(/Rollout: \[█{20}\] 1\/1/, 'the rollout bar, full');
			assert.match(frame(), /described-\S+\s+1 \(current\)\s+1\s+1\s+kubedeck\/agnhost/, 'the ReplicaSet, its revision current');
			await client.scale(deployType, 'default', 'described', 3);
			// The view refreshes by itself while open: the new pods appear, and the bar fills again.
			await until(() => (frame().match(/^ *described-\S+-\S+\s+(Running|Pending|ContainerCreating)\s/gm) ?? []).length === 3, 'three pods in the view', 20_000);
			await until(/Rollout: \[█{20}\] 3\/3/, 'the rollout bar full at 3/3', 20_000);
			assert.match(frame(), /Name:\s+described/, 'kubectl describe below');
		} finally {
			app.unmount();
		}
	});

	it('edits inline: an invalid field is shown at its line with the buffer kept; a conflict offers reload', async () => {
		await client.create(deployment('edited', 1));
		const {app, frame, until, type, selectDeployment} = open();
		try {
			await selectDeployment('edited');
			type('e');
			await until(/Edit deployment.apps\/edited/, 'the editor');
			type(keys.ctrlF);
			type('replicas: ');
			type(keys.enter);
			await until(/line \d+, col 3/, 'the search to land on replicas');
			type(keys.end);
			type(`${keys.backspace}-1`);
			type(keys.ctrlS);
			await until(/└─ spec.replicas: Invalid value: -1: must be greater than or equal to 0/, 'the error under its line');
			assert.match(frame(), /✗\s*\d+ {3}replicas: -1/, 'the offending line marked, the edit still in the buffer');
			assert.equal(((await client.get(deployType, 'default', 'edited')).spec as {replicas: number}).replicas, 1, 'nothing written');
			// Fix it, but someone scales the deployment meanwhile: a conflict, then reload.
			type(`${keys.backspace}${keys.backspace}2`);
			await until(/replicas: 2/, 'the fix typed');
			await client.scale(deployType, 'default', 'edited', 5);
			type(keys.ctrlS);
			await until(/Conflict: the object changed on the server/, 'the conflict');
			assert.match(frame(), /spec.replicas: 1 → 5/, 'what changed on the server');
			type(keys.ctrlR);
			await until(() => /replicas: 5/.test(frame()) && !/Conflict/.test(frame()), 'the server\'s version reloaded');
			type(keys.esc);
			await until(/view: deployments/, 'closed without changes');
			assert.equal(((await client.get(deployType, 'default', 'edited')).spec as {replicas: number}).replicas, 5);
		} finally {
			app.unmount();
		}
	});

	it('creates from a template after a dry run', async () => {
		const {app, frame, until, type, command} = open();
		const cmType = resolveType('cm')!;
		try {
			await until(/view: pods/, 'the first frame');
			await command('cm');
			type('n');
			await until(/^new: ConfigMap/m, 'the template prompt, defaulting to the kind on screen');
			type(keys.enter);
			await until(/New ConfigMap/, 'the template in the editor');
			assert.match(frame(), /name: my-config\n.*namespace: default\n.*data:\n.*LOG_LEVEL: info/s, 'the template, in the namespace on screen');
			// A name the server refuses: the dry run stops it, nothing is created, the buffer stays.
			type(keys.ctrlF);
			type('my-config');
			type(keys.enter);
			type(keys.end);
			type('_BAD');
			type(keys.ctrlS);
			await until(/└─ metadata.name: Invalid value: "my-config_BAD"/, 'the dry run\'s error under the name');
			await assert.rejects(client.get(cmType, 'default', 'my-config_BAD'), /not found/);
			// Fix the name and change the value: what is created is what the editor holds.
			type(keys.backspace.repeat(4));
			type(keys.ctrlF);
			type('LOG_LEVEL: info');
			type(keys.enter);
			type(keys.end);
			type('rmational');
			await until(/LOG_LEVEL: informational/, 'the edit typed');
			type(keys.ctrlS);
			await until(/configmap\/my-config created/, 'created');
			assert.deepEqual((await client.get(cmType, 'default', 'my-config')).data, {LOG_LEVEL: 'informational'});
		} finally {
			app.unmount();
		}
	});

	it('duplicates a Deployment with a selector of its own, so the copy\'s pods do not mix with the original\'s', async () => {
		await client.create(deployment('dup', 1));
		const {app, frame, until, type, selectDeployment} = open();
		try {
			await selectDeployment('dup');
			type('D');
			await until(/Duplicate of deployment.apps\/dup/, 'the copy in the editor');
			assert.match(frame(), /The copy selects its own pods \(app=dup-copy\)/, 'the editor says why the selector changed');
			type(keys.ctrlS);
			await until(/deployment.apps\/dup-copy created/, 'created');
			const copy = await client.get(deployType, 'default', 'dup-copy');
			assert.deepEqual((copy.spec as {selector: unknown}).selector, {matchLabels: {app: 'dup-copy'}});
			const original = await client.get(deployType, 'default', 'dup');
			assert.deepEqual((original.spec as {selector: unknown}).selector, {matchLabels: {app: 'dup'}});
			// Each has its own pods: the original's one pod is not counted by the copy, nor the other way round.
			await eventually(async () => ((await client.get(deployType, 'default', 'dup-copy')).status as {readyReplicas?: number}).readyReplicas === 1, 'the copy\'s pod ready', 30_000);
			const pods = await client.list(resolveType('pods')!, {namespace: 'default', labelSelector: 'app=dup'});
			assert.equal(pods.items.length, 1, 'app=dup selects only the original\'s pod');
		} finally {
			app.unmount();
			for (const name of ['dup', 'dup-copy']) await client.delete(deployType, 'default', name);
		}
	});

	it('applies pasted manifests (several documents) after a dry run', async () => {
		const {app, until, type, command} = open();
		try {
			await until(/view: pods/, 'the first frame');
			await command('apply');
			await until(/Apply: paste or type manifests/, 'an empty editor');
			type('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pasted-one\ndata:\n  a: "1"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pasted-two\n');
			await until(/ 4 {3}name: pasted-one\n *5 data:\n *6 {3}a: "1"/, 'the paste in the buffer, indentation as pasted');
			type(keys.ctrlS);
			await until(/configmap\/pasted-one created, configmap\/pasted-two created/, 'both applied');
			assert.deepEqual((await client.get(resolveType('cm')!, 'default', 'pasted-one')).data, {a: '1'});
		} finally {
			app.unmount();
		}
	});

	it('keeps the newest log line on screen while following with wrap on', async () => {
		await client.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'wide', namespace: 'default'}, spec: {containers: [{name: 'c', image: 'kubedeck/agnhost', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); printf "%0150d wide %s\\n" 0 $i; sleep 0.05; done']}]}});
		const {app, frame, until, type, selectRow} = open();
		try {
			// The list may be longer than the screen by now: ask the engine, then move down to the pod.
			await eventually(async () => ((await client.get(resolveType('pods')!, 'default', 'wide')).status as {phase?: string}).phase === 'Running', 'the pod running');
			await selectRow('wide');
			type('l');
			await until(/Logs default\/wide\s+● streaming\s+following/, 'the log pane following');
			type('w');
			// One frame holds both: the title's count and the newest line drawn.
			const newestShown = () => {
				const f = frame();
				const count = Number(/(\d+) lines?/.exec(f)?.[1]);
				const last = Number([...f.matchAll(/wide (\d+)$/gm)].at(-1)?.[1]);
				return count > 30 && /following · wrap/.test(f) && last === count;
			};
			await until(newestShown, 'the newest line on screen, wrapped');
			type(keys.esc);
		} finally {
			app.unmount();
		}
	});

	it('follows logs, pauses without losing lines, searches and filters', async () => {
		await client.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'chatty', namespace: 'default'}, spec: {containers: [{name: 'c', image: 'kubedeck/agnhost', args: ['logs-generator', '--rate=20']}]}});
		const {app, frame, until, type, selectRow} = open();
		try {
			await until(/view: pods/, 'the first frame');
			await until(/^[> ] chatty\s+1\/1\s+Running/m, 'the pod running');
			await selectRow('chatty');
			type('l');
			await until(/Logs default\/chatty\s+● streaming\s+following/, 'the log pane following');
			const lastLine = () => Number([...frame().matchAll(/chatty line (\d+)/g)].at(-1)?.[1] ?? 0);
			// Wait until the pane is full, so pausing has a screen to hold still.
			await until(() => lastLine() > 40, 'new lines while following');
			type(' ');
			await until(/paused/, 'paused');
			const frozen = lastLine();
			const count = () => Number(/(\d+) lines/.exec(frame())?.[1]);
			const countAtPause = count();
			await until(() => count() > countAtPause + 5, 'lines still arriving while paused');
			assert.equal(lastLine(), frozen, 'the screen stays where it was paused');
			type('G');
			await until(() => /following/.test(frame()) && lastLine() > frozen, 'G follows again');
			// Search: the match lands on the pane's second row and stops following; n goes to the next match, N back.
			const matchRow = () => Number([...frame().matchAll(/chatty line (\d+)/g)][1]?.[1]);
			type('/');
			type('line \\d*5$\r');
			await until(() => /paused · \/line \\d\*5\$/.test(frame()) && matchRow() % 10 === 5, 'the first match');
			const first = matchRow();
			type('n');
			await until(() => matchRow() === first + 10, 'the next match');
			type('N');
			await until(() => matchRow() === first, 'the previous match');
			type('G');
			await until(/following/, 'following again');
			type('&');
			type('line \\d*7$\r');
			await until(() => {
				const shown = [...frame().matchAll(/chatty line (\d+)/g)].map(m => m[1]);
				return shown.length > 0 && shown.every(n => n.endsWith('7'));
			}, 'only matching lines');
			assert.match(frame(), /&line \\d\*7\$/);
			// Esc clears the & filter first, then closes the pane.
			type(keys.esc);
			await until(() => !/&line/.test(frame()) && /Logs default\/chatty/.test(frame()), 'esc cleared the filter, the pane still open');
			type(keys.esc);
			await until(/^ {2}NAME\s+READY/m, 'back to the list');
		} finally {
			app.unmount();
		}
	});

	it('rolls a deployment back only after confirmation, and restarts it', async () => {
		await client.create(deployment('rolled', 1));
		await client.patch(deployType, 'default', 'rolled', {spec: {template: {spec: {containers: [{name: 'c', image: 'kubedeck/agnhost', args: ['pause', '--v2']}]}}}}, 'strategic');
		await eventually(async () => ((await client.get(deployType, 'default', 'rolled')).metadata.annotations?.['deployment.kubernetes.io/revision']) === '2', 'revision 2');
		const args = async () => ((await client.get(deployType, 'default', 'rolled')).spec as {template: {spec: {containers: {args: string[]}[]}}}).template.spec.containers[0].args;
		const {app, until, type, selectDeployment} = open();
		try {
			await selectDeployment('rolled');
			type('u');
			await until(/Roll back deployment.apps\/rolled in namespace default\?\s+Cancel\s+Roll back/, 'the confirmation');
			type(keys.enter);
			await until(() => !/Roll back deployment/.test(app.lastFrame() ?? ''), 'Enter on the default (Cancel) closes it');
			assert.deepEqual(await args(), ['pause', '--v2'], 'nothing rolled back');
			type('u');
			await until(/Roll back deployment.apps\/rolled/, 'the confirmation again');
			type('\t');
			type(keys.enter);
			await until(/deployment.apps\/rolled rolled back/, 'rolled back');
			assert.deepEqual(await args(), ['pause']);
			// r asks first too (every pod is replaced); Cancel is the default.
			type('r');
			await until(/Restart deployment.apps\/rolled in namespace default\?\s+Cancel\s+Restart/, 'the restart confirmation');
			type(keys.enter);
			await until(() => !/Restart deployment/.test(app.lastFrame() ?? ''), 'cancelled');
			assert.equal(((await client.get(deployType, 'default', 'rolled')).spec as {template: {metadata?: {annotations?: Record<string, string>}}}).template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], undefined, 'not restarted');
			type('r');
			await until(/Restart deployment.apps\/rolled/, 'the confirmation again');
			type('\t');
			type(keys.enter);
			await until(/deployment.apps\/rolled restarted/, 'restarted');
			await eventually(async () => !!((await client.get(deployType, 'default', 'rolled')).spec as {template: {metadata?: {annotations?: Record<string, string>}}}).template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], 'the restart annotation');
		} finally {
			app.unmount();
		}
	});

	it('runs a CronJob now with t, suspends and resumes it with S, and shows its next run; a StatefulSet shows its ordinals and claims', async () => {
		const cronType = resolveType('cronjobs')!;
		await client.create({
			apiVersion: 'batch/v1', kind: 'CronJob', metadata: {name: 'nightly', namespace: 'default'},
			spec: {schedule: '0 3 * * *', timeZone: 'Etc/UTC', jobTemplate: {spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'c', image: 'busybox', command: ['true']}]}}}}},
		});
		await client.create({
			apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name: 'ledger', namespace: 'default'},
			spec: {
				replicas: 2, serviceName: 'ledger', selector: {matchLabels: {app: 'ledger'}},
				template: {metadata: {labels: {app: 'ledger'}}, spec: {containers: [{name: 'c', image: 'kubedeck/agnhost', args: ['pause'], volumeMounts: [{name: 'data', mountPath: '/data'}]}]}},
				volumeClaimTemplates: [{metadata: {name: 'data'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Mi'}}}}],
			},
		});
		const {app, frame, until, type, command, selectRow} = open();
		try {
			await until(/view: pods/, 'the first frame');
			await command('cj');
			await until(/view: cronjobs[^]*^[> ] nightly\s/m, 'the cronjob');
			await selectRow('nightly');
			assert.match(frame(), /<t> run a CronJob now  <S> suspend or resume a CronJob/, 'the CronJob keys lead the footer here');
			type('t');
			await until(/job\.batch\/nightly-manual-\w+ created from cronjob\.batch\/nightly/, 'a Job made now');
			const jobs = (await client.list(resolveType('jobs')!, {namespace: 'default'})).items.filter(j => j.metadata.ownerReferences?.[0]?.name === 'nightly');
			assert.equal(jobs.length, 1);
			assert.equal(jobs[0].metadata.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual');
			type('S');
			await until(/cronjob\.batch\/nightly suspended/, 'suspended');
			await eventually(async () => ((await client.get(cronType, 'default', 'nightly')).spec as {suspend?: boolean}).suspend === true, 'spec.suspend true');
			type('d');
			await until(/Next run: suspended \(S resumes\)/, 'the live describe saying it is suspended');
			assert.match(frame(), /Schedule: 0 3 \* \* \*/);
			assert.match(frame(), /nightly-manual-\w+ \(manual\)/, 'its Jobs listed');
			type(keys.esc);
			await until(/view: cronjobs/, 'back to the list');
			type('S');
			await until(/cronjob\.batch\/nightly resumed/, 'resumed');
			type('d');
			await until(/Next run: \d{4}-\d\d-\d\dT03:00:00\.000Z \(in /, 'the next run, at 03:00');
			type(keys.esc);

			await command('sts');
			await until(/view: statefulsets[^]*^[> ] ledger\s/m, 'the statefulset');
			await selectRow('ledger');
			type('d');
			await until(/ORDINAL\s+POD\s+STATUS\s+NODE\s+REVISION\s+CLAIMS/, 'the ordinals table');
			await until(/^ *0\s+ledger-0\s+Running\s+\S+\s+ledger-\w+\s+data-ledger-0 \(Bound, 1Mi\)/m, 'ordinal 0 with its bound claim', 30_000);
			await until(/^ *1\s+ledger-1\s+Running\s+\S+\s+ledger-\w+\s+data-ledger-1 \(Bound, 1Mi\)/m, 'ordinal 1 with its bound claim', 30_000);
			assert.match(frame(), /Rollout: \[█{20}\] 2\/2 ready/);
			type(keys.esc);
			// The Storage pane: from a claim to the pod that uses it.
			await command('pvc');
			await until(/view: persistentvolumeclaims[^]*^[> ] data-ledger-1\s+Bound/m, 'the claims, bound');
			await selectRow('data-ledger-1');
			type(keys.enter);
			await until(/view: pods[^]*^> ledger-1\s/m, 'the pod using the claim');
			assert.doesNotMatch(frame(), /^[> ] ledger-0\s/m, 'only the pod using it');
		} finally {
			app.unmount();
			// The later tests read the pods list: these pods would push theirs off the screen.
			await client.delete(resolveType('statefulsets')!, 'default', 'ledger');
			await client.delete(cronType, 'default', 'nightly');
			await eventually(async () => (await client.list(resolveType('pods')!, {namespace: 'default'})).items.every(p => !/^(ledger|nightly)-/.test(p.metadata.name!)), 'their pods gone', 30_000);
		}
	});

	it('says why a rollback cannot happen, as kubectl does', async () => {
		await client.create(deployment('fresh-rollout', 1));
		const {app, frame, until, type, selectDeployment} = open();
		try {
			await selectDeployment('fresh-rollout');
			type('u');
			await until(/Roll back deployment.apps\/fresh-rollout/, 'the confirmation');
			type('\t');
			type(keys.enter);
			await until(/error: no rollout history found for deployment "fresh-rollout"/, 'the reason on the status line');
			assert.doesNotMatch(frame(), /error: error:/, 'said once');
		} finally {
			app.unmount();
		}
	});

	it('completes kinds and namespaces with a list to cycle through, and warns of a namespace that does not exist', async () => {
		for (const name of ['team-blue', 'team-green']) await client.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name}});
		const {app, frame, until, type, command} = open();
		try {
			await until(/ns: default/, 'the first frame');
			type(':');
			await until(/^:/m, 'the command prompt');
			type('ns team-');
			type(keys.tab);
			await until(/team-blue {2}team-green/, 'both candidates listed');
			assert.match(frame(), /^:ns team-\s*$/m, 'the common prefix filled in');
			type(keys.tab);
			await until(/^:ns team-blue\s*$/m, 'tab takes the first');
			type(keys.tab);
			await until(/^:ns team-green\s*$/m, 'tab again, the next');
			type(keys.enter);
			await until(/ns: team-green/, 'switched');
			type(':');
			await until(/^:/m, 'the command prompt');
			type('statef');
			type(keys.tab);
			await until(/^:statefulsets\s*$/m, 'one candidate: completed');
			type(keys.esc);
			await command('ns no-such-namespace');
			await until(/warning: namespace "no-such-namespace" does not exist \(not kept as a favourite\)/, 'the warning');
			// 2 is the favourite used last: team-green, not the namespace that does not exist.
			type('2');
			await until(/ns: team-green/, 'no-such-namespace was not made a favourite');
		} finally {
			app.unmount();
		}
	});

	it('marks rows and deletes the marked ones with one confirmation; kills with ctrl-k after asking; o, J and ctrl-w', async () => {
		await client.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'marks'}});
		const cmType = resolveType('configmaps')!;
		for (const name of ['mk-1', 'mk-2', 'mk-3', 'mk-4']) await client.create({...cm(name), metadata: {name, namespace: 'marks'}});
		await client.create({...deployment('owned', 1), metadata: {name: 'owned', namespace: 'marks'}});
		const {app, frame, until, type, command} = open({initialNamespace: 'marks'});
		const names = async () => (await client.list(cmType, {namespace: 'marks'})).items.map(o => o.metadata.name).filter(n => n!.startsWith('mk-')).sort();
		try {
			await until(/ns: marks/, 'the first frame');
			await command('cm');
			// The namespace's kube-root-ca.crt comes first; the rows to mark start below it.
			await until(/^> kube-root-ca\.crt[^]*^  mk-1/m, 'the configmaps');
			type('j');
			await until(/^> mk-1/m, 'on the first of ours');
			type(' ');
			await until(/^>\*mk-1/m, 'the first marked');
			type('jj');
			type('\u0000');
			await until(() => /^ \*mk-2/m.test(frame()) && /^>\*mk-3/m.test(frame()), 'ctrl-space marked the range');
			type(keys.ctrlD);
			await until(/Delete 3 configmaps \(mk-1, mk-2, mk-3\) in namespace marks\?\s+Cancel\s+Delete/, 'one confirmation naming them');
			type(keys.enter);
			await until(() => !/Delete 3/.test(frame()), 'cancelled');
			assert.deepEqual(await names(), ['mk-1', 'mk-2', 'mk-3', 'mk-4'], 'Cancel deleted nothing');
			type(keys.ctrlD);
			await until(/Delete 3 configmaps/, 'asked again');
			type(keys.tab);
			type(keys.enter);
			await until(/3 of 3 configmaps deleted/, 'the marked ones deleted');
			assert.deepEqual(await names(), ['mk-4']);
			// ctrl-\ clears marks (mk-4 is below kube-root-ca.crt).
			if (!/^> mk-4/m.test(frame())) type('j');
			await until(/^> mk-4/m, 'on mk-4');
			type(' ');
			await until(/^>\*mk-4/m, 'marked');
			type('\u001c');
			await until(/^> mk-4/m, 'marks cleared');
			// ctrl-k kills, after asking as delete does.
			await command('pods');
			await until(/^> owned-\S+\s+1\/1\s+Running/m, 'the pod running');
			const pod = /^> (owned-\S+)/m.exec(frame())![1];
			// J: the owner (the ReplicaSet), then its owner (the Deployment).
			type('J');
			await until(/view: replicasets[^]*^> owned-\S+/m, 'the ReplicaSet selected');
			type('J');
			await until(/view: deployments[^]*^> owned\s/m, 'the Deployment selected');
			type(keys.esc);
			type(keys.esc);
			await until(/view: pods/, 'back on the pods');
			// ctrl-w: kubectl's wide columns.
			type('\u0017');
			await until(/^ {2}NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/m, 'wide columns');
			type('o');
			await until(/view: nodes[^]*^> \S+\s+Ready/m, 'o: the pod\'s node, selected');
			type(keys.esc);
			await until(/view: pods[^]*^> owned-/m, 'back on the pod');
			type('\u000b');
			await until(new RegExp(`Kill \\(no grace period\\) pod/${pod} in namespace marks\\?\\s+Cancel`), 'kill asks');
			type(keys.tab);
			type(keys.enter);
			await until(new RegExp(`pod/${pod} killed`), 'killed');
			await eventually(async () => !(await client.list(resolveType('pods')!, {namespace: 'marks'})).items.some(p => p.metadata.name === pod), 'the pod gone');
		} finally {
			app.unmount();
		}
	});

	it('takes the user\'s aliases from the preferences, lists them with :aliases, and opens the port-forwards with :pf', async () => {
		const {app, frame, until, type, command} = open({}, {aliases: {dp: 'deployments', kk: 'kk'}});
		try {
			await until(/view: pods/, 'the first frame');
			await command('dp');
			await until(/view: deployments/, 'the alias');
			await command('kk');
			await until(/no command or resource type "kk"/, 'an alias that loops ends');
			await command('aliases');
			await until(/Aliases: what : takes[^]*dp\s+deployments\s+\(preferences\)/, 'the aliases view');
			assert.match(frame(), /deployments\s+deployment, deploy/);
			type(keys.esc);
			await until(/^ {2}NAME/m, 'back to the list');
			await command('pf');
			await until(/Port-forwards \(ctrl\+d stops/, 'the port-forwards view');
		} finally {
			app.unmount();
		}
	});

	it(':xray draws a Deployment\'s ReplicaSets, pods and containers, and a Service\'s endpoints and pods, as trees', async () => {
		await client.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'xr'}});
		await client.create({...deployment('xr', 2), metadata: {name: 'xr', namespace: 'xr'}});
		await client.create({apiVersion: 'v1', kind: 'Service', metadata: {name: 'xr-svc', namespace: 'xr'}, spec: {selector: {app: 'xr'}, ports: [{port: 80, targetPort: 8080}]}});
		await eventually(async () => (((await client.get(deployType, 'xr', 'xr')).status as {readyReplicas?: number}).readyReplicas ?? 0) === 2, 'two ready', 30_000);
		const {app, until, command} = open({initialNamespace: 'xr'});
		try {
			await until(/ns: xr/, 'the first frame');
			await until(/pods: 2 Running/, 'the pods watched');
			await command('xray deploy');
			await until(/Xray deployments in xr[^]*^Deployment xr 2\/2 ready\n└─ ReplicaSet xr-\S+ revision 1 2\/2 ready\n {3}├─ Pod xr-\S+ Running\n {3}│ {2}└─ container c \(kubedeck\/agnhost\) running\n {3}└─ Pod xr-\S+ Running/m, 'the deployment\'s tree');
			await command('xray svc');
			await until(/^Service xr-svc ClusterIP \S+ 80\/TCP\n└─ Endpoints xr-svc (\(none yet\)|\d+ address(es)?)\n {3}├─ Pod xr-/m, 'the service\'s tree');
			await command('pulses');
			await until(/Pulses of xr[^]*Pods in xr: 2\n {2}Running\s+█+ 2\n[^]*Nodes: 1[^]*CPU █*░* \d+m\/\d+m[^]*MEM █*░* \d+Mi\/\d+Mi[^]*Events per minute[^]*all\s+\S+\s+\d+ in all/, 'the pulses');
			await command('xray nothing');
			await until(/error: xray: give one of deployments/, 'an unknown kind named');
		} finally {
			app.unmount();
		}
	});

	it(':users lists the engine\'s users and the roles their bindings give', async () => {
		await client.engine('POST', '/kubedeck/v1/users', {name: 'dora', groups: ['ops']});
		await client.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'dora-ns'}});
		await client.create({apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: {name: 'dora', namespace: 'dora-ns'},
			roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view'}, subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dora'}]});
		const {app, until, command, type} = open();
		try {
			await until(/ns: default/, 'the first frame');
			await command('users');
			await until(/Users and their roles[^]*NAME\s+GROUPS\s+ROLES\s+TOKEN\s+SSH KEYS\s+AGE\n\s*dora\s+ops\s+view@dora-ns\s+no\s+0/, 'dora and her role');
			// describe says who last changed an object, from the audit log.
			await command('rolebindings dora-ns');
			await until(/^> dora/m, 'the binding listed');
			type('d');
			await until(/Describe rolebinding\.rbac\.authorization\.k8s\.io\/dora[^]*Last changed:\s+by system:admin \(create\) \d+s ago/, 'who made it');
		} finally {
			app.unmount();
		}
	});

	it('switches namespaces with :ns and remembers them on the number keys', async () => {
		await client.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'team-a'}});
		const {app, until, type, command} = open();
		try {
			await until(/ns: default/, 'the first frame');
			await command('ns team-a');
			await until(/ns: team-a/, 'the namespace switched');
			type('1');
			await until(/ns: default/, '1 is default');
			type('0');
			await until(/ns: all/, '0 is all namespaces');
			type('2');
			await until(/ns: team-a/, '2 is the namespace used last');
		} finally {
			app.unmount();
		}
	});

	it('takes key overrides from the preferences, and names an unknown command id', async () => {
		const {app, frame, until, type, command} = open({}, {keys: {'object.delete': ['ctrl+x'], 'no.such': ['z']}});
		try {
			await until(/preferences: unknown key command "no.such"/, 'the unknown id named on the status line');
			await command('cm');
			await until(/^> /m, 'a row selected');
			type(keys.ctrlD);
			await new Promise(r => setTimeout(r, 300));
			assert.doesNotMatch(frame(), /Delete configmap/, 'ctrl+d no longer deletes');
			type('\u0018');
			await until(/Delete configmap\/\S+ in namespace default\?\s+Cancel/, 'ctrl+x asks instead');
			type(keys.esc);
			await until(() => !/Delete configmap/.test(frame()), 'the dialog closed');
			type('?');
			await until(/Keys \(esc to close\)/, 'the help');
			const binding = /ctrl\+x\s+delete\s+\(asks first\)\s+\[object\.delete\]/;
			for (let i = 0; i < 80 && !binding.test(frame()); i++) {
				type('j');
				await new Promise(r => setTimeout(r, 30));
			}
			assert.match(frame(), binding, 'the help shows the new binding');
		} finally {
			app.unmount();
		}
	});

	it('hides mutating keys in read-only mode', async () => {
		const {app, frame, until, type, command} = open({readonly: true});
		try {
			await until(/\[read-only\]/, 'the read-only flag in the header');
			await command('cm');
			await until(/^> /m, 'a row selected');
			assert.doesNotMatch(frame(), /<e> edit|<ctrl\+d> delete/);
			type('e');
			await until(/read-only: edit is disabled/, 'the refusal');
			type(keys.ctrlD);
			await until(/read-only: delete is disabled/, 'no delete dialog');
			assert.doesNotMatch(frame(), /Delete configmap/);
		} finally {
			app.unmount();
		}
	});

	it('asks for the name under type-the-name protection, and restores a deletion with U', async () => {
		await client.create(cm('precious'));
		const {app, frame, until, type, command} = open({}, {protection: {test: 'type-name'}});
		try {
			await until(/view: pods/, 'the first frame');
			await command('cm');
			type('/');
			type('precious\r');
			await until(/^> precious/m, 'the configmap selected');
			type(keys.ctrlD);
			await until(/Type the name to confirm/, 'the name prompt');
			type(keys.enter);
			await until(/type "precious" to confirm/, 'Enter alone refused');
			assert.ok(await client.get(resolveType('cm')!, 'default', 'precious'));
			type('precious\r');
			await until(/configmap\/precious deleted \(U restores it/, 'deleted');
			await until(() => !/^> precious/m.test(frame()), 'gone from the list');
			type('U');
			await until(/configmap\/precious restored/, 'restored');
			await until(/^> precious/m, 'back in the list');
			assert.deepEqual((await client.get(resolveType('cm')!, 'default', 'precious')).data, {k: 'v'});
		} finally {
			app.unmount();
		}
	});

	it('forwards a local port to a pod, lists the forward and stops it', async () => {
		await client.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'served', namespace: 'default'}, spec: {containers: [{name: 'c', image: 'kubedeck/agnhost', args: ['netexec', '--http-port=8080'], ports: [{containerPort: 8080}]}]}});
		const {app, frame, until, type, selectRow} = open();
		const get = (port: number) => new Promise<string>((resolve, reject) => http.get({host: '127.0.0.1', port, path: '/'}, res => {
			let body = '';
			res.on('data', chunk => (body += chunk));
			res.on('end', () => resolve(body));
		}).on('error', reject));
		try {
			await until(/^[> ] served\s+1\/1\s+Running/m, 'the pod running');
			await selectRow('served');
			type('F');
			await until(/^port-forward \[LOCAL:\]PORT: 8080/m, 'the prompt with the declared port');
			// A number that is no port gets kubedeck's words, not Node's.
			type('808018081\r');
			await until(/error: port-forward: 808018081 is not a port: give a number from 1 to 65535/, 'the bad port refused');
			type('F');
			await until(/^port-forward \[LOCAL:\]PORT: 8080/m, 'the prompt again');
			// Local port 0: any free one (8080 may be taken on the machine running the tests).
			type('0:8080\r');
			const line = await until(/forwarding 127\.0\.0\.1:(\d+) -> pod\/served/, 'the forward started').then(() => /127\.0\.0\.1:(\d+) -> pod\/served/.exec(frame())!);
			const port = Number(line[1]);
			assert.match(await get(port), /served/, 'the pod answered through the forward');
			type('f');
			await until(new RegExp(`> 127\\.0\\.0\\.1:${port}\\s+-> pod/served\\s+127\\.\\d+\\.\\d+\\.\\d+:8080\\s+1 connection`), 'the forward listed with its connection');
			type(keys.ctrlD);
			await until(/No port-forwards/, 'stopped');
			await assert.rejects(get(port), /ECONNREFUSED/);
		} finally {
			app.unmount();
		}
	});

	it('splits the screen: the list on the left, the selected pod\'s logs on the right, keys on either side', async () => {
		const {app, frame, until, type, selectRow} = open();
		try {
			await until(/^[> ] chatty\s/m, 'the pods');
			type('|');
			await until(/split view: logs of the selected pod/, 'split view on');
			await selectRow('chatty');
			await until(/│ Logs default\/chatty\s+● streaming\s+following/, 'the selected pod\'s logs beside the list');
			type('\\');
			await until(/▶ Logs default\/chatty/, 'the keys moved to the log side');
			type(' ');
			await until(/▶ Logs default\/chatty.*paused/, 'the log side paused');
			type('\\');
			await until(() => !/▶ Logs/.test(frame()), 'the keys back on the list');
			type('j');
			await until(() => selectedName(frame()) !== 'chatty', 'the list moves; the log pane follows');
			await until(() => !/│ Logs default\/chatty/.test(frame()), 'the log pane following the selection');
		} finally {
			app.unmount();
		}
	});

	it('edits in $EDITOR and saves what it wrote', async () => {
		await client.create(deployment('external', 1));
		const previous = process.env.EDITOR;
		// An editor that changes replicas 1 to 2 (GNU sed; \x20 is a space, since $EDITOR is split on spaces).
		process.env.EDITOR = 'sed -i s/replicas:\\x201$/replicas:\\x202/';
		const {app, until, type, selectDeployment} = open();
		try {
			await selectDeployment('external');
			type('E');
			await until(/deployment.apps\/external edited/, 'saved');
			assert.equal(((await client.get(deployType, 'default', 'external')).spec as {replicas: number}).replicas, 2);
		} finally {
			process.env.EDITOR = previous;
			if (previous === undefined) delete process.env.EDITOR;
			app.unmount();
		}
	});
});
