// The dashboard's reducer without a terminal: keys in, the next state and
// the effects out, over fixture rows.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import type {KeyPress} from '../../source/ui/hooks/use-key-queue.js';
import {keyCommandsWith} from '../../source/ui/keymap.js';
import type {DashState, Effect, Env, Msg} from '../../source/ui/state.js';
import {parseFilter, visibleObjects} from '../../source/ui/table-model.js';
import * as B from '../../source/ui/editor/buffer.js';
import {loadTheme} from '../../source/ui/theme.js';
import {initialState, selectedIndex, update} from '../../source/ui/update.js';

const pod = (name: string, labels: Record<string, string> = {app: 'web'}, ns = 'default'): KubeObject => ({
	apiVersion: 'v1', kind: 'Pod', metadata: {name, namespace: ns, labels, uid: name, creationTimestamp: '2026-01-01T00:00:00Z'},
	spec: {nodeName: 'node-1', containers: [{name: 'c', image: 'x', ports: [{containerPort: 8080}]}]}, status: {phase: 'Running', podIP: '10.0.0.1'},
});
const deployment = (name: string): KubeObject => ({
	apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace: 'default', uid: name},
	spec: {replicas: 3, selector: {matchLabels: {app: name}}, template: {metadata: {labels: {app: name}}, spec: {containers: [{name: 'c', image: 'x'}]}}},
});

/** A dashboard over fixed lists per kind: each message goes through the reducer with the rows its view shows. */
class Dash {
	state: DashState;
	effects: Effect[] = [];
	constructor(private readonly lists: Record<string, KubeObject[]>, private readonly options: {readonly?: boolean; typeName?: boolean} = {}) {
		this.state = initialState({namespace: 'default', theme: loadTheme('dark'), warnings: []});
	}

	env(): Env {
		const parsed = parseFilter(this.state.view.filter);
		const all = this.lists[this.state.view.type.plural] ?? [];
		return {
			items: visibleObjects(this.state.view.type, all, 'error' in parsed ? {kind: 'none'} : parsed, this.state.view.sort, Date.now()),
			pods: () => this.lists.pods ?? [], namespaces: () => ['default', 'dev1'], forwards: [],
			commands: keyCommandsWith({}, !!this.options.readonly).commands, bodyHeight: 20, readonly: !!this.options.readonly, typeName: !!this.options.typeName,
			favourites: ['all', 'default'], aliases: {dp: 'deployments'}, prefsPath: '/prefs.json', themes: ['default', 'dark'], files: () => [],
			examplesOffered: false, canExec: true, now: Date.now(), contexts: ['embedded', 'alice@kubedeck'], context: 'embedded',
		};
	}

	send(msg: Msg): Effect[] {
		const step = update(this.state, msg, this.env());
		this.state = step.state;
		this.effects.push(...step.effects);
		return step.effects;
	}

	/** Keys as the key queue hands them over: one per character, `\r` return, `\x1b` esc, `^x` ctrl. */
	keys(...names: string[]): Effect[] {
		const out: Effect[] = [];
		for (const name of names) {
			const key: KeyPress = name === '\r' ? {return: true} : name === '\x1b' ? {escape: true} : name === '\t' ? {tab: true} : name.startsWith('^') ? {ctrl: true} : {};
			const input = name.startsWith('^') ? name.slice(1) : name === '\r' || name === '\x1b' ? '' : name;
			out.push(...this.send({kind: 'key', input, key}));
		}
		return out;
	}

	type(text: string): Effect[] {
		return this.keys(...[...text]);
	}

	get selectedName(): string | undefined {
		const items = this.env().items;
		return items[selectedIndex(this.state.view, items)]?.metadata.name;
	}
}

const pods = Array.from({length: 30}, (_, i) => pod(`web-${String(i).padStart(2, '0')}`));

describe('dashboard reducer', () => {
	it('moves the selection by every key of a burst, and scrolls with it', () => {
		const d = new Dash({pods});
		d.type('jjj');
		assert.equal(d.selectedName, 'web-03');
		d.type('j'.repeat(20));
		assert.equal(d.selectedName, 'web-23');
		assert.ok(d.state.view.top > 0, 'the window follows the selection');
		d.keys('G');
		assert.equal(d.selectedName, 'web-29');
		d.keys('g');
		assert.equal(d.selectedName, 'web-00');
		assert.deepEqual(d.effects, []);
	});

	it('enter on a Deployment opens its pods filtered; esc clears a typed filter first, then goes back', () => {
		const d = new Dash({deployments: [deployment('api'), deployment('web')], pods});
		d.type(':deploy');
		d.keys('\r');
		assert.equal(d.state.view.type.kind, 'Deployment');
		d.keys('j', '\r');
		assert.equal(d.state.view.type.kind, 'Pod');
		assert.equal(d.state.view.filter, '-l app=web');
		assert.equal(d.state.history.length, 2);
		d.type('/web-1');
		assert.equal(d.state.view.filter, 'web-1', 'the filter applies as it is typed');
		d.keys('\r', '\x1b');
		assert.equal(d.state.view.filter, '-l app=web', 'esc puts back the filter the view came with');
		assert.equal(d.state.view.type.kind, 'Pod');
		d.keys('\x1b');
		assert.equal(d.state.view.type.kind, 'Deployment');
		assert.equal(d.selectedName, 'web', 'the selection comes back with the view');
	});

	it('asks before deleting the marked rows, and asks for the action once for all of them', () => {
		const d = new Dash({pods});
		d.keys(' ', 'j', ' ', 'j', ' ');
		assert.equal(d.state.marks.size, 3);
		d.keys('^d');
		assert.equal(d.state.mode.kind, 'confirm');
		assert.deepEqual(d.effects, [], 'nothing is deleted before the answer');
		d.keys('\r');
		assert.equal(d.state.mode.kind, 'list', 'Cancel is the default');
		assert.deepEqual(d.effects, []);
		d.keys('^d', 'l', '\r');
		assert.equal(d.effects.length, 1);
		const act = d.effects[0] as Extract<Effect, {kind: 'act'}>;
		assert.equal(act.kind, 'act');
		assert.equal(act.verb, 'delete');
		assert.deepEqual(act.targets.map(t => t.metadata.name), ['web-00', 'web-01', 'web-02']);
		assert.equal(d.state.marks.size, 0, 'the marks go with the action');
	});

	it('under type-the-name protection confirms only once the name is typed', () => {
		const d = new Dash({pods}, {typeName: true});
		d.keys('^d', '\r');
		assert.equal(d.state.mode.kind, 'confirm');
		assert.match(d.state.status.text, /type "web-00"/);
		d.type('web-00');
		d.keys('\r');
		assert.deepEqual(d.effects.map(e => e.kind), ['act']);
	});

	it('a prefilled replicas value is replaced by what is typed, and bad input is refused in kubedeck\'s words', () => {
		const d = new Dash({deployments: [deployment('web')], pods});
		d.type(':dp');
		d.keys('\r', 's');
		assert.equal(d.state.mode.kind === 'input' && d.state.mode.text, '3');
		d.type('5');
		d.keys('\r');
		assert.deepEqual(d.effects.map(e => e.kind === 'scale' && e.replicas), [5]);
		d.keys('s', '^u');
		d.type('-1');
		d.keys('\r');
		assert.equal(d.effects.length, 1);
		assert.match(d.state.status.text, /^error: spec\.replicas: Invalid value/);
	});

	it('describe, yaml, edit and logs ask for the object as the server has it', () => {
		const d = new Dash({pods});
		assert.deepEqual(d.keys('d').map(e => e.kind === 'open' && e.view), ['describe']);
		assert.deepEqual(d.keys('y').map(e => e.kind === 'open' && e.view), ['yaml']);
		assert.deepEqual(d.keys('e').map(e => e.kind === 'open' && e.view), ['edit']);
		assert.deepEqual(d.keys('l').map(e => e.kind), ['logs']);
		// The result of an effect opens its view.
		d.send({kind: 'show', mode: {kind: 'text', title: 'Describe pod/web-00', lines: ['Name: web-00'], offset: 0}});
		assert.equal(d.state.mode.kind, 'text');
		d.keys('\x1b');
		assert.equal(d.state.mode.kind, 'list');
	});

	it('a late result does not replace a prompt the user opened meanwhile', () => {
		const d = new Dash({pods});
		d.keys('d', ':');
		d.send({kind: 'show', mode: {kind: 'text', title: 'Describe pod/web-00', lines: [], offset: 0}});
		assert.equal(d.state.mode.kind, 'input');
	});

	it(':ns to a namespace asks the runner to check and remember it; : commands and aliases', () => {
		const d = new Dash({pods});
		d.type(':ns dev1');
		assert.deepEqual(d.keys('\r'), [{kind: 'useNamespace', namespace: 'dev1'}]);
		assert.equal(d.state.view.namespace, 'dev1');
		d.type(':dp');
		d.keys('\r');
		assert.equal(d.state.view.type.kind, 'Deployment', 'a user alias');
		d.type(':ctxx');
		d.keys('\r');
		assert.match(d.state.status.text, /no command or resource type "ctxx"/);
		d.type(':q');
		assert.deepEqual(d.keys('\r'), [{kind: 'exit'}]);
	});

	it(':ctx lists the contexts, completes them, and asks the runner to switch to a known one', () => {
		const d = new Dash({pods});
		d.type(':ctx');
		d.keys('\r');
		assert.ok(d.state.mode.kind === 'text');
		assert.deepEqual(d.state.mode.lines, ['* embedded  (kubedeck\'s own engine)', '  alice@kubedeck']);
		d.keys('\x1b');
		d.type(':ctx al');
		d.keys('\t');
		const prompt = d.state.mode as {kind: string; text?: string};
		assert.deepEqual([prompt.kind, prompt.text], ['input', 'ctx alice@kubedeck']);
		assert.deepEqual(d.keys('\r'), [{kind: 'context', name: 'alice@kubedeck'}]);
		d.type(':ctx alise@kubedeck');
		assert.deepEqual(d.keys('\r'), []);
		assert.match(d.state.status.text, /^error: no context "alise@kubedeck": did you mean alice@kubedeck\?/);
	});

	it('Tab lists candidates and cycles through them', () => {
		const d = new Dash({pods});
		d.type(':ns ');
		d.keys('\t');
		const mode = d.state.mode;
		assert.ok(mode.kind === 'input' && mode.completion);
		assert.deepEqual(mode.completion.candidates, ['all', 'default', 'dev1']);
		d.keys('\t');
		assert.equal(d.state.mode.kind === 'input' && d.state.mode.text, 'ns all');
		d.keys('\t', '\t');
		assert.equal(d.state.mode.kind === 'input' && d.state.mode.text, 'ns dev1');
		d.keys('\t');
		assert.equal(d.state.mode.kind === 'input' && d.state.mode.text, 'ns all', 'round again');
	});

	it('up in a prompt recalls what was entered before', () => {
		const d = new Dash({pods});
		d.type('/web-2');
		d.keys('\r', '/', '^u');
		d.send({kind: 'key', input: '', key: {upArrow: true}});
		assert.equal(d.state.mode.kind === 'input' && d.state.mode.text, 'web-2');
	});

	it('read-only: mutating keys say so and ask for nothing', () => {
		const d = new Dash({pods}, {readonly: true});
		d.keys('^d', 'e', 's');
		assert.equal(d.state.mode.kind, 'list');
		assert.deepEqual(d.effects, []);
		assert.match(d.state.status.text, /^read-only: /);
	});

	it('a save result lands on the editor it came from', () => {
		const d = new Dash({pods});
		d.send({kind: 'show', mode: {kind: 'editor', title: 'Edit pod/web-00', buffer: B.fromText('a: 1\n'), original: 'a: 1\n', purpose: 'update', errors: [], top: 0}});
		d.send({kind: 'saved', title: 'Edit pod/web-00', result: {kind: 'errors', errors: [{line: 0, message: 'bad'}]} as never});
		assert.equal(d.state.mode.kind, 'editor');
		assert.match(d.state.status.text, /not saved; the buffer is kept \(1 error\)/);
		d.send({kind: 'saved', title: 'Edit pod/web-00', result: {kind: 'saved', message: 'pod/web-00 edited'}});
		assert.equal(d.state.mode.kind, 'list');
		assert.equal(d.state.status.text, 'pod/web-00 edited');
	});

	it('o goes to the pod\'s node and J to its owner', () => {
		const owned = {...pod('web-x'), metadata: {...pod('web-x').metadata, ownerReferences: [{apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs', controller: true}]}};
		const d = new Dash({pods: [owned], nodes: [{apiVersion: 'v1', kind: 'Node', metadata: {name: 'node-1'}}], replicasets: []});
		d.keys('o');
		assert.equal(d.state.view.type.kind, 'Node');
		assert.equal(d.state.view.selected, '/node-1');
		d.keys('\x1b', 'J');
		assert.equal(d.state.view.type.kind, 'ReplicaSet');
		assert.equal(d.state.view.selected, 'default/web-abc');
	});
});
