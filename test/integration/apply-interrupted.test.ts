// apply -f interrupted by the engine's death: kubectl applies document by
// document, so a partial apply is acceptable, but it must say which documents
// were applied and which were not, in kubectl's words, and never print a raw
// Node error (`read ECONNRESET`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {describe, it} from 'node:test';
import {typeByPlural} from '../../source/api/resources.js';
import {EmbeddedClient} from '../../source/client/embedded.js';
import {socketPath} from '../../source/engine/home.js';
import {removeHome, runCli, startEngine, tempHome} from '../helpers.js';

const cmType = typeByPlural('configmaps')!;
const total = 200;

describe('apply interrupted by the engine\'s death', () => {
	it('says which documents were applied and which were not, and each applied one is there after a restart', async () => {
		const home = tempHome();
		const file = path.join(home, 'many.yaml');
		fs.writeFileSync(file, Array.from({length: total}, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  n: "${i}"\n`).join('---\n'));
		let engine = await startEngine(home);
		const sock = socketPath(home);
		const watcher = new EmbeddedClient({socketPath: sock}, 'test');
		try {
			// Kill the engine (-9) from a watch on the objects as they appear: the fifth create is the last it sees.
			let seen = 0;
			const watch = watcher.watch(cmType, {namespace: 'default'}, event => {
				if (event.type === 'ADDED' && event.object.metadata.name?.startsWith('cm-') && ++seen === 5) engine.child.kill('SIGKILL');
			});
			const r = await runCli(['apply', '-f', file], {home});
			watch.stop();
			await engine.kill9();
			assert.equal(r.code, 1);
			assert.doesNotMatch(r.stderr + r.stdout, /ECONN|ENOENT|EPIPE|socket hang up|at .*\.js:\d+/, 'no raw Node error and no stack');

			const applied = r.stdout.trimEnd().split('\n').map(line => line.match(/^configmap\/(cm-\d+) created$/)?.[1]);
			assert.ok(applied.every(Boolean), r.stdout);
			const k = applied.length;
			// The fifth create was committed (the watch saw it), though its answer may have been lost with the engine.
			assert.ok(k >= 4 && k < total - 10, `${k} applied before the kill took effect`);
			assert.deepEqual(applied, Array.from({length: k}, (_, i) => `cm-${i}`));

			// The document in flight: kubectl's error for the step that failed, naming the engine's socket.
			const lost = `Unable to connect to the server: the kubedeck engine on ${sock} closed the connection before answering (it stopped or was killed)`;
			const refused = `The connection to the kubedeck engine on ${sock} was refused - is it running? ("kubedeck serve" starts it)`;
			const conn = `(${escape(lost)}|${escape(refused)})`;
			const retrieving = `error when retrieving current configuration of:\nResource: "/v1, Resource=configmaps", GroupVersionKind: "/v1, Kind=ConfigMap"\nName: "cm-${k}", Namespace: "default"\nfrom server for: "${file}": `;
			const creating = `error when creating "${file}": `;
			const lines = r.stderr.split('\n');
			const inFlight = r.stderr.match(new RegExp(`^(${escape(retrieving)}|${escape(creating)})${conn}\n`));
			assert.ok(inFlight, r.stderr);
			const unsure = inFlight[1] === creating;
			const summary = lines[lines.length - 2];
			const rest = `"${file}" (documents ${k + (unsure ? 2 : 1)}-${total})`;
			assert.equal(summary, unsure
				? `error: the connection to the kubedeck engine on ${sock} was lost: ${k} of ${total} documents applied; "${file}" (document ${k + 1}) may have been applied before it was lost; not applied: ${rest}`
				: `error: the connection to the kubedeck engine on ${sock} was lost: ${k} of ${total} documents applied; not applied: ${rest}`);
			assert.equal(r.stderr, `${inFlight[0]}${summary}\n`, 'one error for the document in flight, then the summary');

			// What apply said is what the state holds.
			engine = await startEngine(home);
			const after = new EmbeddedClient({socketPath: sock}, 'test');
			const stored = new Set((await after.list(cmType, {namespace: 'default'})).items.map(o => o.metadata.name));
			after.close();
			for (const name of applied) assert.ok(stored.has(name), `${name} was reported applied`);
			for (let i = k + 1; i < total; i++) assert.ok(!stored.has(`cm-${i}`), `cm-${i} was reported not applied`);
			if (!unsure) assert.ok(!stored.has(`cm-${k}`));
		} finally {
			watcher.close();
			await engine.stop();
			removeHome(home);
		}
	});

	it('names the engine\'s socket when it is not running, not a raw connect error', async () => {
		const home = tempHome();
		try {
			const engine = await startEngine(home);
			// Its socket file stays behind after kill -9: connections are refused.
			await engine.kill9();
			const client = new EmbeddedClient({socketPath: socketPath(home)}, 'test');
			await assert.rejects(client.list(cmType), {message: `The connection to the kubedeck engine on ${socketPath(home)} was refused - is it running? ("kubedeck serve" starts it)`});
			fs.rmSync(socketPath(home));
			await assert.rejects(client.list(cmType), {message: `The connection to the kubedeck engine on ${socketPath(home)} was refused - is it running? ("kubedeck serve" starts it)`});
			client.close();
		} finally {
			removeHome(home);
		}
	});
});

function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
