// The dashboard's pure parts: list filter and sort, the log window, the
// editor's buffer, and placing server errors on the buffer's lines.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {StatusError} from '../../source/api/errors.js';
import type {KubeObject} from '../../source/api/object.js';
import {resolveType} from '../../source/api/resources.js';
import * as B from '../../source/ui/editor/buffer.js';
import {errorLines, lineOfField, parseBuffer} from '../../source/ui/editor/errors.js';
import {LogBuffer, orderKey, renderJsonLine, wrapRows} from '../../source/ui/logs/log-buffer.js';
import type {KeyPress} from '../../source/ui/hooks/use-key-queue.js';
import {confirmKey, editPrompt, type LineState, lineOf, recall, scrollOffset} from '../../source/ui/keys/dialogs.js';
import {back, breadcrumb, historyLimit, historyLines, jump, pushView, type View} from '../../source/ui/navigation.js';
import {commonPrefix, completionsFor, nearest, pathCandidates} from '../../source/ui/completion.js';
import {rolloutLine} from '../../source/ui/details.js';
import {fitTable, looseRegex, parseFilter, scrollWindow, shortenMiddle, visibleObjects} from '../../source/ui/table-model.js';
import {initialTheme, loadTheme} from '../../source/ui/theme.js';
import {fit} from '../../source/ui/views/fit.js';
import {reachOf} from '../../source/ui/reach.js';
import {grants, needsOf} from '../../source/ui/permissions.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const pod = (name: string, phase: string, labels: Record<string, string>, created: string): KubeObject => ({
	apiVersion: 'v1', kind: 'Pod', metadata: {name, namespace: 'default', labels, creationTimestamp: created},
	spec: {containers: [{name: 'c', image: 'x'}]}, status: {phase},
});

describe('list filter and sort', () => {
	const podType = resolveType('pods')!;
	const items = [
		pod('api-1', 'Running', {app: 'api'}, '2026-01-01T00:00:03Z'),
		pod('web-1', 'Pending', {app: 'web', tier: 'front'}, '2026-01-01T00:00:01Z'),
		pod('web-2', 'Running', {app: 'web'}, '2026-01-01T00:00:02Z'),
	];
	const names = (f: string, sort?: {column: string; descending: boolean}) => {
		const filter = parseFilter(f);
		assert.ok(!('error' in filter));
		return visibleObjects(podType, items, filter, sort, Date.parse('2026-01-01T01:00:00Z')).map(o => o.metadata.name);
	};

	it('matches text and regexes over the row, inverts with !, and selects labels with -l', () => {
		assert.deepEqual(names('web'), ['web-1', 'web-2']);
		assert.deepEqual(names('pending'), ['web-1'], 'the STATUS column is part of the row, case-insensitively');
		assert.deepEqual(names('^(api|web-2)'), ['api-1', 'web-2']);
		assert.deepEqual(names('!running'), ['web-1']);
		assert.deepEqual(names('-l app=web,tier'), ['web-1']);
		assert.deepEqual(names('-l app in (api)'), ['api-1']);
		assert.deepEqual(names('web-[', undefined), [], 'an invalid regex is matched literally');
		assert.ok(looseRegex('web-[').test('pod web-[1]') && !looseRegex('web-[').test('web-1'), 'literally: the bracket is a character');
		assert.ok(looseRegex('(a+').test('x (A+ y') && !looseRegex('(a+').test('aaa'), 'literally, and still case-insensitive');
		assert.ok('error' in parseFilter('-l app in'), 'a bad selector is an error, not a silent match-all');
	});

	it('sorts by a column, by age from creation time, and keeps name order for ties', () => {
		assert.deepEqual(names('', {column: 'Status', descending: false}), ['web-1', 'api-1', 'web-2']);
		assert.deepEqual(names('', {column: 'Age', descending: false}), ['api-1', 'web-2', 'web-1'], 'youngest first');
		assert.deepEqual(names('', {column: 'Name', descending: true}), ['web-2', 'web-1', 'api-1']);
	});

	it('lists events newest first by when they were last seen', () => {
		const event = (name: string, last: string): KubeObject => ({apiVersion: 'v1', kind: 'Event', metadata: {name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z'}, lastTimestamp: last} as KubeObject);
		const events = [event('a.1', '2026-01-01T00:00:05Z'), event('b.1', '2026-01-01T00:00:09Z'), event('c.1', '2026-01-01T00:00:01Z')];
		assert.deepEqual(visibleObjects(resolveType('events')!, events, {kind: 'none'}, undefined, Date.now()).map(e => e.metadata.name), ['b.1', 'a.1', 'c.1']);
	});

	it('scrolls only as far as needed to keep the selection visible', () => {
		assert.equal(scrollWindow(0, 0, 10, 100), 0);
		assert.equal(scrollWindow(12, 0, 10, 100), 3);
		assert.equal(scrollWindow(5, 3, 10, 100), 3, 'a selection inside the window does not scroll');
		assert.equal(scrollWindow(2, 3, 10, 100), 2);
		assert.equal(scrollWindow(0, 50, 10, 5), 0, 'a shrunken list pulls the window back');
	});
});

describe('log window', () => {
	it('joins partial lines per stream, parses timestamps and keeps a bounded window with a dropped count', () => {
		const log = new LogBuffer(100);
		log.append('2026-11-25T10:00:00.000000001Z first\n2026-11-25T10:00:01Z sec', 'a');
		log.append('other\n', 'b');
		log.append('ond\n', 'a');
		assert.deepEqual([log.at(0), log.at(1), log.at(2)], [
			{source: 'a', ts: '2026-11-25T10:00:00.000000001Z', text: 'first'},
			{source: 'b', text: 'other'},
			{source: 'a', ts: '2026-11-25T10:00:01Z', text: 'second'},
		]);
		assert.equal(log.lastTimestamp('a'), '2026-11-25T10:00:01Z');
		for (let i = 0; i < 1000; i++) log.append(`line ${i}\n`, 'a');
		assert.ok(log.length <= 100 && log.length >= 90, `window bounded, got ${log.length}`);
		assert.equal(log.dropped + log.length, 1003, 'every line is either in the window or counted as dropped');
		assert.equal(log.at(log.length - 1)!.text, 'line 999');
		log.prepend(['older 1', 'older 2'], 'a');
		assert.equal(log.at(0)!.text, 'older 1');
		assert.equal(log.dropped + log.length, 1003);
		assert.deepEqual(log.indexes(/line 99[89]/).map(i => log.at(i)!.text), ['line 998', 'line 999']);
	});

	it('merges a workload\'s streams by time, whatever order their chunks arrive in', () => {
		const log = new LogBuffer(100);
		// Each pod's tail arrives as one chunk: pod a's first, then pod b's older and newer lines.
		log.append('2026-11-25T10:00:01Z a1\n2026-11-25T10:00:03.5Z a2\n2026-11-25T10:00:05Z a3\n', 'a');
		log.append('2026-11-25T10:00:00.9Z b0\n2026-11-25T10:00:03.25Z b1\nno timestamp\n2026-11-25T10:00:06Z b2\n', 'b');
		log.append('2026-11-25T10:00:07Z a4\n', 'a');
		const texts = log.indexes().map(i => log.at(i)!.text);
		assert.deepEqual(texts, ['b0', 'a1', 'b1', 'no timestamp', 'a2', 'a3', 'b2', 'a4']);
		// Go trims trailing zeros of the fraction; the order is the time's, not the text's.
		assert.ok(orderKey('2026-11-25T10:00:01Z') < orderKey('2026-11-25T10:00:01.1Z'));
		assert.ok(orderKey('2026-11-25T10:00:01.5Z') > orderKey('2026-11-25T10:00:01.25Z'));
		assert.equal(orderKey('2026-11-25T12:00:00+02:00'), orderKey('2026-11-25T10:00:00Z'));
	});

	it('renders JSON lines readably and leaves other lines alone', () => {
		assert.deepEqual(renderJsonLine('{"level":"warn","msg":"disk low","free":"3%","path":"/var data"}'), {level: 'WARN', text: 'WARN  disk low free=3% path="/var data"'});
		assert.deepEqual(renderJsonLine('plain {text}'), {text: 'plain {text}'});
		assert.deepEqual(renderJsonLine('{not json}'), {text: '{not json}'});
		assert.deepEqual(wrapRows('abcdefg', 3, true), ['abc', 'def', 'g']);
		assert.deepEqual(wrapRows('abcdefg', 3, false), ['abcdefg']);
	});
});

describe('editor buffer', () => {
	it('edits, keeps indentation on newline, undoes typed runs as one step, and searches', () => {
		let b = B.fromText('spec:\n  replicas: 1\n');
		b = B.move(B.move(b, 'down'), 'end');
		b = B.backspace(b);
		b = B.insert(B.insert(b, '3'), '0');
		assert.equal(B.toText(b), 'spec:\n  replicas: 30\n');
		b = B.newline(b);
		assert.deepEqual([b.row, b.col], [2, 2], 'the new line is indented like the one above');
		b = B.insert(b, 'paused: true');
		assert.equal(B.toText(b), 'spec:\n  replicas: 30\n  paused: true\n');
		b = B.undo(b);
		b = B.undo(b);
		assert.equal(B.toText(b), 'spec:\n  replicas: 30\n', 'typing then newline undo in two steps');
		b = B.undo(B.undo(b));
		assert.equal(B.toText(b), 'spec:\n  replicas: 1\n');
		const found = B.search(B.move(b, 'top'), 'REPLICAS');
		assert.deepEqual([found?.row, found?.col], [1, 2], 'search is case-insensitive');
		assert.equal(B.search(b, 'nothing-like-this'), undefined);
		assert.equal(B.toText(B.deleteLine(B.moveTo(b, 1, 0))), 'spec:\n');
	});

	it('pastes lines as they are, indentation kept, as one undo step', () => {
		let b = B.move(B.fromText('a:\n  b: 1\n'), 'bottom');
		b = B.move(b, 'end');
		b = B.paste(b, '\n  c:\n    d: 2\r\n  e: 3');
		assert.equal(B.toText(b), 'a:\n  b: 1\n  c:\n    d: 2\n  e: 3\n');
		assert.deepEqual([b.row, b.col], [4, 6]);
		assert.equal(B.toText(B.undo(b)), 'a:\n  b: 1\n');
	});
});

describe('editor errors', () => {
	const text = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: -1\n  template:\n    spec:\n      containers:\n      - name: c\n        image: ""\n';

	it('places a field path on its line, or on its nearest parent when the field is absent', () => {
		assert.equal(lineOfField(text, 'spec.replicas'), 5);
		assert.equal(lineOfField(text, 'spec.template.spec.containers[0].image'), 10);
		assert.equal(lineOfField(text, 'spec.selector'), 4, 'missing: its parent spec');
		assert.equal(lineOfField(text, 'metadata.labels[app]'), 2);
	});

	it('reports YAML syntax errors with their line and server causes at their fields', () => {
		const bad = parseBuffer('kind: Pod\nmetadata:\n  name: [x\n');
		assert.ok('errors' in bad && bad.errors[0].line >= 2, JSON.stringify(bad));
		const error = new StatusError({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Invalid', code: 422, message: 'invalid',
			details: {name: 'web', kind: 'Deployment', causes: [{reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0'}]}});
		assert.deepEqual(errorLines(text, error), [{line: 5, message: 'spec.replicas: Invalid value: -1: must be greater than or equal to 0'}]);
	});
});

describe('themes and line fitting', () => {
	it('loads the built-in themes, lets a user theme override only what it names, and names a bad field', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-theme-'));
		try {
			assert.equal(loadTheme('dark').status.Running, 'green');
			assert.equal(loadTheme('no-color').accent, undefined);
			fs.writeFileSync(path.join(dir, 'mine.yaml'), 'accent: magenta\nstatus:\n  Pending: blue\n');
			const mine = loadTheme(path.join(dir, 'mine.yaml'));
			assert.deepEqual([mine.name, mine.accent, mine.status.Pending, mine.status.Running, mine.error], ['mine', 'magenta', 'blue', 'green', 'red']);
			fs.writeFileSync(path.join(dir, 'bad.json'), '{"accent": 3, "colour": "red"}');
			assert.throws(() => loadTheme(path.join(dir, 'bad.json')), /colour: unknown token.*accent: must be a colour name/);
			assert.throws(() => loadTheme('solarized'), /theme "solarized" not found: built-in themes are dark, light, high-contrast, no-color/);
			const saved = process.env.NO_COLOR;
			process.env.NO_COLOR = '1';
			try {
				assert.equal(initialTheme(undefined, 'light').name, 'no-color', 'NO_COLOR wins over a saved theme');
				assert.equal(initialTheme('light', undefined).name, 'light', 'the flag wins over NO_COLOR');
			} finally {
				if (saved === undefined) delete process.env.NO_COLOR;
				else process.env.NO_COLOR = saved;
			}
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});

	it('cuts lines to a width in terminal columns, wide characters counting two', () => {
		assert.equal(fit('short', 10), 'short');
		assert.equal(fit('a longer line', 8), 'a longe…');
		assert.equal(fit('쿠버네티스 노트', 7), '쿠버네…', 'Korean characters take two columns each');
		assert.equal(fit('▁▂▃ 12m', 7), '▁▂▃ 12m');
	});
});

describe('dialog keys', () => {
	const none: KeyPress = {};
	const dialog = {choice: 'cancel' as const, typed: ''};
	const plain = {typeName: false, name: 'web'};

	it('cancels on Enter until the choice is moved to the action; esc always cancels', () => {
		assert.deepEqual(confirmKey(dialog, 'return', '\r', none, plain), {kind: 'cancel'}, 'Cancel is the default');
		const moved = confirmKey(dialog, 'tab', '\t', none, plain);
		assert.deepEqual(moved, {kind: 'next', state: {choice: 'ok', typed: ''}});
		assert.deepEqual(confirmKey({choice: 'ok', typed: ''}, 'return', '\r', none, plain), {kind: 'confirm'});
		assert.deepEqual(confirmKey({choice: 'ok', typed: ''}, 'escape', '', none, plain), {kind: 'cancel'});
		assert.equal(confirmKey(dialog, 'y', 'y', none, plain), undefined, 'no key but Enter on the action confirms');
	});

	it('under type-the-name protection, confirms only when the name is typed exactly', () => {
		const guarded = {typeName: true, name: 'web'};
		assert.deepEqual(confirmKey(dialog, 'return', '\r', none, guarded), {kind: 'error', message: 'error: type "web" to confirm, or esc to cancel'});
		let state = dialog as {choice: 'cancel' | 'ok'; typed: string};
		for (const c of 'wex') state = (confirmKey(state, c, c, none, guarded) as {state: typeof state}).state;
		state = (confirmKey(state, 'backspace', '', {backspace: true}, guarded) as {state: typeof state}).state;
		assert.equal(state.typed, 'we');
		assert.equal(confirmKey(state, 'return', '\r', none, guarded)?.kind, 'error');
		state = (confirmKey(state, 'b', 'b', none, guarded) as {state: typeof state}).state;
		assert.deepEqual(confirmKey(state, 'return', '\r', none, guarded), {kind: 'confirm'});
		assert.equal(confirmKey(state, 'ctrl+d', 'd', {ctrl: true}, guarded), undefined, 'a control key is not typed');
	});

	it('scrolls a text view within its text', () => {
		assert.equal(scrollOffset('nav.down', 0, 100, 20), 1);
		assert.equal(scrollOffset('nav.pageDown', 70, 100, 20), 80, 'the last page stays full');
		assert.equal(scrollOffset('nav.bottom', 0, 100, 20), 80);
		assert.equal(scrollOffset('nav.up', 0, 100, 20), 0);
		assert.equal(scrollOffset('nav.down', 0, 5, 20), 0, 'a text shorter than the page does not scroll');
		assert.equal(scrollOffset('object.delete', 3, 100, 20), undefined);
	});
});

describe('prompt line (readline keys)', () => {
	const press = (state: LineState, ...keys: [string, KeyPress?][]) => keys.reduce((s, [input, key]) => editPrompt(s, input, key ?? {}) ?? s, state);
	const ctrl = (c: string): [string, KeyPress] => [c, {ctrl: true}];
	const alt = (c: string): [string, KeyPress] => [c, {meta: true}];
	it('replaces a prefilled value with the first typed character, and keeps it when the cursor moves first', () => {
		assert.equal(press(lineOf('3', true), ['5']).text, '5');
		assert.equal(press(lineOf('8080', true), ['9'], ['0']).text, '90');
		assert.equal(press(lineOf('3', true), ['', {backspace: true}]).text, '');
		assert.equal(press(lineOf('3', true), ctrl('e'), ['5']).text, '35');
		assert.equal(lineOf('', true).selected, false, 'nothing to select');
	});
	it('moves and kills as readline does', () => {
		const line = lineOf('get pods web-1');
		assert.deepEqual(press(line, ctrl('w')), {text: 'get pods ', cursor: 9});
		assert.deepEqual(press(line, ctrl('u')), {text: '', cursor: 0});
		assert.deepEqual(press(line, ctrl('a'), ctrl('k')), {text: '', cursor: 0});
		assert.deepEqual(press(line, ctrl('a'), ctrl('f'), ctrl('f'), ctrl('f'), ctrl('k')), {text: 'get', cursor: 3});
		assert.deepEqual(press(line, alt('b'), alt('b'), ctrl('k')), {text: 'get ', cursor: 4});
		assert.deepEqual(press(line, ctrl('a'), alt('f'), ['s']), {text: 'gets pods web-1', cursor: 4});
		assert.deepEqual(press(line, ctrl('b'), ctrl('b'), ['', {backspace: true}]), {text: 'get pods we-1', cursor: 11});
		assert.deepEqual(press(line, ['', {leftArrow: true}], ctrl('e'), ['x']), {text: 'get pods web-1x', cursor: 15});
		assert.equal(editPrompt(line, '', {return: true}), undefined, 'return is the caller\'s');
		assert.equal(editPrompt(line, '', {upArrow: true}), undefined, 'up is the caller\'s');
	});
	it('walks a history up to the oldest entry and back down to the line being typed', () => {
		const entries = ['a', 'b'];
		assert.equal(recall(entries, 0, 'older'), 1);
		assert.equal(recall(entries, 1, 'older'), 2);
		assert.equal(recall(entries, 2, 'older'), undefined);
		assert.equal(recall(entries, 1, 'newer'), 0);
		assert.equal(recall(entries, 0, 'newer'), undefined);
	});
});

describe('navigation history', () => {
	const view = (plural: string, namespace: string | undefined = 'default', filter = '', entryFilter = filter): View => ({type: resolveType(plural)!, namespace, filter, entryFilter, top: 0});
	it('clears a filter typed in a view before going back, and keeps the filter a view was opened with', () => {
		const history = pushView([], view('deployments'));
		const pods = view('pods', 'default', '-l app=web');
		assert.equal(back(history, pods)!.view.type.plural, 'deployments');
		const typed = back(history, {...pods, filter: 'web-1'})!;
		assert.equal(typed.view.filter, '-l app=web');
		assert.equal(typed.history.length, 1, 'still one view back');
		assert.equal(back([], view('pods')), undefined);
	});
	it('keeps the latest views, jumps to one of them and shows the trail, oldest steps dropped first', () => {
		let history: View[] = [];
		for (let i = 0; i < historyLimit + 5; i++) history = [...pushView(history, view(i % 2 ? 'pods' : 'configmaps', `ns${i}`))];
		assert.equal(history.length, historyLimit);
		assert.equal(historyLines(history)[0], `configmaps@ns${historyLimit + 4}`);
		const step = jump(history, 2)!;
		assert.equal(step.view.namespace, `ns${historyLimit + 2}`);
		assert.equal(step.history.length, historyLimit - 3);
		assert.equal(breadcrumb([view('namespaces', undefined)], view('pods', 'dev')), 'namespaces › pods@dev');
		const crumb = breadcrumb(history, view('pods', 'here'), 40);
		assert.ok(crumb.startsWith('… › ') && crumb.endsWith('pods@here') && crumb.length <= 40, crumb);
	});
});

describe('fitting a table to the terminal', () => {
	const names = ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'CPU', 'MEM'];
	const header = names.map(n => n.toUpperCase());
	const rows = [['edu-msa-board-7c9d8f6b5-x2x4q', '1/1', 'Running', '0', '5m', '▁▂▃▄▅▆▇█ 12m', '▁▂▃▄▅▆▇█ 44Mi']];
	const widthOf = (t: ReturnType<typeof fitTable>) => 2 + t.widths.reduce((a, b) => a + b, 0) + 2 * (t.widths.length - 1);
	it('keeps every column whole when there is room', () => {
		const t = fitTable(names, header, rows, 160);
		assert.deepEqual(t.header, header);
		assert.deepEqual(t.rows, rows);
	});
	it('gives up sparklines, then shortens names in the middle, then drops the least useful columns, never cutting a header', () => {
		const at90 = fitTable(names, header, rows, 90);
		assert.deepEqual(at90.header, header, 'every column at 90');
		assert.equal(at90.rows[0][6], '44Mi');
		const at60 = fitTable(names, header, rows, 60);
		assert.ok(at60.header.includes('RESTARTS') && at60.header.includes('AGE'), at60.header.join(' '));
		assert.ok(widthOf(at60) <= 60);
		const at40 = fitTable(names, header, rows, 40);
		assert.deepEqual(at40.header, ['NAME', 'READY', 'STATUS', 'AGE']);
		assert.ok(widthOf(at40) <= 40, String(widthOf(at40)));
		assert.match(at40.rows[0][0], /^edu-msa-.*….*x2x4q$/);
		assert.equal(shortenMiddle('abcdefghij', 5), 'ab…ij');
	});
});

describe('rollout line', () => {
	const d = (replicas: number, generation: number, status: Record<string, number>): KubeObject => ({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web', namespace: 'default', generation}, spec: {replicas}, status: {observedGeneration: generation, ...status}});
	it('counts against the replicas wanted now, and shows nothing done while the status is older than the spec', () => {
		const scaledDown = rolloutLine(d(500, 3, {replicas: 500, updatedReplicas: 1500, availableReplicas: 1500}));
		assert.match(scaledDown.text, /^\[█{20}\] 500\/500 /);
		const stale = rolloutLine({...d(500, 4, {replicas: 1500, updatedReplicas: 1500, availableReplicas: 1500}), status: {observedGeneration: 3, replicas: 1500, updatedReplicas: 1500, availableReplicas: 1500}});
		assert.match(stale.text, /^\[░{20}\] 0\/500 {2}Waiting for deployment spec update/);
		assert.equal(stale.done, false);
	});
});

describe(': completion', () => {
	const sources = {
		kinds: [['deployments', 'deploy'], ['daemonsets', 'ds'], ['configmaps', 'cm'], ['pods', 'po']], commands: ['ns', 'apply', 'theme', 'quit'],
		namespaces: ['default', 'team-blue', 'team-green'], themes: ['dark', 'light'], files: (prefix: string) => [`${prefix}x.yaml`],
	};
	it('offers one name per kind, commands, then namespaces, themes and files by the command', () => {
		assert.deepEqual(completionsFor('dep', sources).candidates, ['deployments']);
		assert.deepEqual(completionsFor('d', sources).candidates, ['deployments', 'daemonsets']);
		assert.deepEqual(completionsFor('ds', sources).candidates, ['ds']);
		assert.deepEqual(completionsFor('ns team-', sources), {start: 3, candidates: ['team-blue', 'team-green']});
		assert.deepEqual(completionsFor('pods t', sources).candidates, ['team-blue', 'team-green']);
		assert.deepEqual(completionsFor('theme l', sources).candidates, ['light']);
		assert.deepEqual(completionsFor('apply ./', sources).candidates, ['./x.yaml']);
		assert.equal(commonPrefix(['team-blue', 'team-green']), 'team-');
	});
	it('completes file paths from the disk, directories with a slash', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-complete-'));
		try {
			fs.mkdirSync(path.join(dir, 'manifests'));
			fs.writeFileSync(path.join(dir, 'main.yaml'), '');
			assert.deepEqual(pathCandidates('ma', dir), ['main.yaml', 'manifests/']);
			fs.writeFileSync(path.join(dir, 'manifests', 'web.yaml'), '');
			assert.deepEqual(pathCandidates('manifests/', dir), ['manifests/web.yaml']);
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});
	it('names the nearest words for an unknown command', () => {
		assert.deepEqual(nearest('deploymnets', ['deployments', 'daemonsets', 'pods']).slice(0, 1), ['deployments']);
		assert.deepEqual(nearest('zzzzzz', ['deployments', 'pods']), []);
	});
});

describe('where a Service or an Ingress is reached from the host', () => {
	const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({apiVersion: 'v1', kind: 'Service', metadata: {name: 's'}, spec, status});
	it('lists the nodePort, the load-balancer address and the ClusterIP; low ports only as root', () => {
		assert.equal(reachOf(svc({type: 'NodePort', clusterIP: '127.9.128.5', ports: [{port: 28082, nodePort: 30201}]}), {privileged: false}), 'localhost:30201 127.9.128.5:28082');
		assert.equal(reachOf(svc({clusterIP: '127.9.128.5', ports: [{port: 80}]}), {privileged: false}), 'port-forward (F)');
		assert.equal(reachOf(svc({clusterIP: '127.9.128.5', ports: [{port: 80}]}), {privileged: true}), '127.9.128.5:80');
		assert.equal(reachOf(svc({type: 'LoadBalancer', clusterIP: '127.9.128.5', ports: [{port: 8080, nodePort: 31000}]}, {loadBalancer: {ingress: [{ip: '127.9.255.254'}]}}), {privileged: false}), 'localhost:31000 127.9.255.254:8080 127.9.128.5:8080');
		assert.equal(reachOf(svc({clusterIP: 'None', ports: [{port: 80}]}), {privileged: true}), 'headless: by pod');
	});
	it('gives an Ingress\'s URLs with its listener ports', () => {
		const ing: KubeObject = {apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: {name: 'i'}, spec: {tls: [{hosts: ['shop.example']}], rules: [{host: 'shop.example', http: {paths: [{path: '/'}]}}, {host: 'blog.example', http: {paths: [{path: '/b'}]}}]}, status: {loadBalancer: {ingress: [{ip: '127.0.0.1', ports: [{port: 8080}, {port: 8443}]}]}}};
		assert.equal(reachOf(ing, {privileged: false}), 'https://shop.example:8443/ http://blog.example:8080/b');
	});
});

describe('the keys RBAC allows', () => {
	const deployments = resolveType('deployments')!;
	const pods = resolveType('pods')!;
	it('matches rules as RBAC does: "*" is every resource and subresource, "*/scale" every scale', () => {
		const scale = {verb: 'patch', group: 'apps', resource: 'deployments/scale'};
		assert.equal(grants([{verbs: ['*'], apiGroups: ['*'], resources: ['*']}], scale), true);
		assert.equal(grants([{verbs: ['patch'], apiGroups: ['apps'], resources: ['*/scale']}], scale), true);
		assert.equal(grants([{verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments']}], scale), false, 'the object is not its subresource');
		assert.equal(grants([{verbs: ['patch'], apiGroups: [''], resources: ['deployments/scale']}], scale), false, 'another group');
		assert.equal(grants([{verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments/scale']}], scale), false, 'another verb');
	});
	it('takes resourceNames: only the named objects', () => {
		const rules = [{verbs: ['delete'], apiGroups: [''], resources: ['pods'], resourceNames: ['web-1']}];
		const need = {verb: 'delete', group: '', resource: 'pods'};
		assert.equal(grants(rules, need, 'web-1'), true);
		assert.equal(grants(rules, need, 'web-2'), false);
		assert.equal(grants(rules, need), false);
	});
	it('knows what each changing key needs, per kind', () => {
		assert.deepEqual(needsOf('object.scale', deployments), [{verb: 'patch', group: 'apps', resource: 'deployments/scale'}]);
		assert.deepEqual(needsOf('object.scale', pods), [{verb: 'create', group: '', resource: 'pods/exec'}], 's on a pod is its shell');
		assert.deepEqual(needsOf('object.delete', pods), [{verb: 'delete', group: '', resource: 'pods'}]);
		assert.deepEqual(needsOf('cronjob.trigger', resolveType('cronjobs')!), [{verb: 'create', group: 'batch', resource: 'jobs'}]);
		assert.deepEqual(needsOf('nav.down', pods), []);
	});
});
