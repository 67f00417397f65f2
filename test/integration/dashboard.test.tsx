// Dashboard flows rendered with ink-testing-library against a real engine.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import {render} from 'ink-testing-library';
import {EmbeddedClient} from '../../source/client/embedded.js';
import {socketPath} from '../../source/engine/home.js';
import {App} from '../../source/ui/app.js';
import {type EngineProcess, eventually, removeHome, startEngine, tempHome} from '../helpers.js';

const cm = (name: string) => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: 'default'}, data: {k: 'v'}});

describe('dashboard (ink-testing-library)', () => {
	let home: string;
	let engine: EngineProcess;
	let client: EmbeddedClient;
	before(async () => {
		home = tempHome();
		engine = await startEngine(home);
		client = new EmbeddedClient({socketPath: socketPath(home)}, 'test');
		for (const name of ['alpha', 'bravo', 'charlie']) await client.create(cm(name));
	});
	after(async () => {
		client.close();
		await engine.stop();
		removeHome(home);
	});

	it('keeps the selected row on the same object when the list changes, and filters', async () => {
		const app = render(<App client={client} />);
		try {
			const frame = () => app.lastFrame() ?? '';
			await eventually(() => frame().includes('view: pods'), 'the first frame');
			// No pods yet: the first screen offers the examples.
			await eventually(() => frame().includes('This namespace is empty. Press A to apply the examples/ folder'), 'the examples offer');
			app.stdin.write(':');
			await eventually(() => /^:/m.test(frame()), 'command mode');
			app.stdin.write('cm\r');
			await eventually(() => /^ {2}charlie/m.test(frame()), 'the configmaps');
			app.stdin.write('j');
			// The selected row is drawn inverse: find which name carries the escape code.
			const selectedName = () => frame().split('\n').find(l => l.startsWith('> '))?.split(/\s+/)[1];
			await eventually(() => selectedName() === 'bravo', 'bravo selected');
			await client.create(cm('aardvark'));
			await eventually(() => /^[> ] aardvark/m.test(frame()), 'the new configmap to appear');
			assert.equal(selectedName(), 'bravo', 'the selection did not move when a row was inserted above it');
			app.stdin.write('/');
			app.stdin.write('char\r');
			await eventually(() => !/alpha/.test(frame()) && /charlie/.test(frame()), 'the filter to apply');
			// Secrets: hidden in the YAML view until revealed with x.
			await client.create({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'creds', namespace: 'default'}, data: {password: Buffer.from('hunter2').toString('base64')}});
			app.stdin.write('\u001b');
			await eventually(() => !frame().includes('/char'), 'esc to clear the filter');
			app.stdin.write(':');
			await eventually(() => /^:/m.test(frame()), 'command mode');
			app.stdin.write('secrets\r');
			await eventually(() => /^> creds/m.test(frame()), 'the secret selected');
			app.stdin.write('y');
			await eventually(() => /password: "\*{8}"/.test(frame()), 'the masked value');
			assert.ok(!frame().includes('aHVudGVyMg==') && !frame().includes('hunter2'));
			app.stdin.write('x');
			await eventually(() => /password: hunter2/.test(frame()), 'the revealed value');
		} finally {
			app.unmount();
		}
	});
});
