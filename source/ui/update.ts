// The dashboard's reducer: a message (a key, or what an effect found) and the
// state in, the next state and the effects to run out. Nothing here touches
// the cluster, the terminal or the disk; every mode's keys are a case below
// (the prompt, editor and log keys are the pure models in keys/), so a new
// view is a Mode, a case here and a view file, unit-tested without a terminal.
import type {KubeObject} from '../api/object.js';
import {objectRef, refOf, resolveType, resourceTypes, type ResourceType, typeForKind} from '../api/resources.js';
import {toYaml} from '../render/yaml.js';
import {commonPrefix, completionsFor, nearest, withWord} from './completion.js';
import {templateFor, templateKinds} from './editor/templates.js';
import * as B from './editor/buffer.js';
import type {KeyPress} from './hooks/use-key-queue.js';
import {confirmKey, editPrompt, lineOf, recall, scrollOffset} from './keys/dialogs.js';
import {editorKey} from './keys/editor.js';
import {type LogKeysContext, logsKey} from './keys/logs.js';
import {commandIn, defaultKeyCommands, deleteKeyHint, helpLines, keyName} from './keymap.js';
import {liveKinds} from './details.js';
import {back, jump, pushView, type View} from './navigation.js';
import {maskSecret, podSelectorOf} from './objects.js';
import {paneOf, panes} from './panes.js';
import {forwardTarget} from '../client/operations/port-forward.js';
import type {Confirm, DashState, Effect, Env, InputMode, Mode, Msg, PromptPurpose, Step, TextMode, Tone} from './state.js';
import {toneOf} from './state.js';
import {listColumns, objectKey, parseFilter, scrollWindow} from './table-model.js';
import type {Theme} from './theme.js';
import type {EditorState} from './views/editor-view.js';
import {xrayKinds} from './xray.js';

type Rec = Record<string, any>;

/** How long a deleted object can be restored with U. */
export const restoreWindowMs = 60_000;
/** How many entries each prompt's history keeps. */
const promptHistoryLimit = 100;

export const builtinCommandWords = ['ns', 'ctx', 'apply', 'theme', 'pf', 'xray', 'pulses', 'aliases', 'users', 'quit'];
/** Every kind by its names, plural first (computed once: `:` asks on each Tab and unknown word). */
const kindNames = [...panes.flatMap(p => p.kinds), ...resourceTypes].map(t => [t.plural, ...t.shortNames]);
const kindWords = kindNames.flat();

export function initialState(options: {namespace: string | undefined; theme: Theme; warnings: string[]}): DashState {
	return {
		view: {type: resolveType('pods')!, namespace: options.namespace, filter: '', entryFilter: '', top: 0},
		history: [], mode: {kind: 'list'}, marks: new Set(), wide: false, theme: options.theme, pulses: 0, promptHistory: {},
		status: {text: options.warnings.join(' · '), tone: options.warnings.length ? 'error' : 'info'},
	};
}

/** A prompt's mode; a prefilled value starts selected, so what is typed replaces it. */
export const promptMode = (purpose: PromptPurpose, text = '', target?: KubeObject, targets?: KubeObject[]): InputMode => ({kind: 'input', purpose, target, targets, initial: text, ...lineOf(text, true)});

/** Where the selection is in `items` (the first row when the selected object is not there). */
export function selectedIndex(view: View, items: readonly KubeObject[]): number {
	if (!view.selected) return 0;
	const slash = view.selected.indexOf('/');
	const ns = view.selected.slice(0, slash), name = view.selected.slice(slash + 1);
	const found = items.findIndex(o => o.metadata.name === name && (o.metadata.namespace ?? '') === ns);
	return Math.max(0, found);
}

export function update(state: DashState, msg: Msg, env: Env): Step {
	const step = new Reducer(state, env);
	step.on(msg);
	return {state: step.state, effects: step.effects};
}

/** One message's worth of changes: the state as it becomes, and the effects asked for. */
class Reducer {
	readonly effects: Effect[] = [];

	constructor(public state: DashState, private readonly env: Env) {}

	private set(changes: Partial<DashState>): void {
		this.state = {...this.state, ...changes};
	}

	private setMode(mode: Mode): void {
		this.set({mode});
	}

	private status(text: string, tone: Tone = toneOf(text)): void {
		this.set({status: {text, tone}});
	}

	private do(effect: Effect): void {
		this.effects.push(effect);
	}

	private get items(): readonly KubeObject[] {
		return this.env.items;
	}

	private get selected(): number {
		return Math.min(this.items.length - 1, selectedIndex(this.state.view, this.items));
	}

	private get current(): KubeObject | undefined {
		return this.items[this.selected];
	}

	on(msg: Msg): void {
		switch (msg.kind) {
			case 'key': return this.key(msg.input, msg.key);
			case 'status': return this.status(msg.text, msg.tone);
			case 'show': {
				// A result that arrives after the user moved into a prompt, a question or the editor waits for nobody.
				const busy = ['input', 'confirm', 'editor'].includes(this.state.mode.kind) && msg.mode.kind !== 'editor';
				if (!busy) this.setMode(msg.mode);
				return;
			}
			case 'logsOpened':
				if (msg.where === 'screen') return this.setMode({kind: 'logs', ...msg.pane});
				// The split view closed before its pane was ready: nothing shows the stream.
				if (!this.state.split) return this.do({kind: 'logsStop', session: msg.pane.session});
				return this.set({split: {...this.state.split, pane: msg.pane, key: msg.key}});
			case 'saved': return this.saved(msg.title, msg.result);
			case 'deleted': return this.set({restore: {type: msg.type, object: msg.object, at: msg.at}});
			case 'live': {
				const m = this.state.mode;
				if (m.kind === 'text' && m.live && objectKey(m.live) === msg.key) this.setMode({...m, lines: msg.lines});
				return;
			}
			case 'themeLoaded': return this.set({theme: msg.theme});
		}
	}

	private saved(title: string, result: Extract<Msg, {kind: 'saved'}>['result']): void {
		const m = this.state.mode;
		const here = m.kind === 'editor' && m.title === title;
		switch (result.kind) {
			case 'saved':
			case 'unchanged':
				if (here) this.setMode({kind: 'list'});
				return this.status(result.message);
			case 'errors':
				if (here) this.setMode({...m, errors: result.errors, conflict: undefined});
				return this.status(`error: not saved; the buffer is kept (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})`, 'error');
			case 'conflict':
				if (here) this.setMode({...m, errors: [], conflict: {summary: result.summary, latest: result.latest}});
				return this.status('error: conflict: the object changed on the server', 'error');
		}
	}

	// Navigation: every view opened is a step in the history.

	private select(index: number): void {
		const obj = this.items[Math.max(0, Math.min(this.items.length - 1, index))];
		if (!obj) return;
		const at = this.items.indexOf(obj);
		const view = this.state.view;
		this.set({view: {...view, selected: objectKey(obj), top: scrollWindow(at, view.top, this.env.bodyHeight - 1, this.items.length)}});
	}

	private showView(view: View): void {
		if (view.namespace !== this.state.view.namespace) this.do({kind: 'useNamespace', namespace: view.namespace});
		this.set({view, marks: new Set(), lastMark: undefined});
	}

	/** Open another view (a kind, a namespace, or both), keeping this one in the history. */
	private navigate(to: {type?: ResourceType; namespace?: string | null; filter?: string; selected?: string}): void {
		const now = this.state.view;
		const type = to.type ?? now.type;
		const namespace = to.namespace === undefined ? now.namespace : to.namespace ?? undefined;
		if (type === now.type && namespace === now.namespace && (to.filter ?? '') === now.filter) {
			if (to.selected) this.set({view: {...now, selected: to.selected}});
			return;
		}
		this.set({history: pushView(this.state.history, now)});
		this.showView({type, namespace, filter: to.filter ?? '', entryFilter: to.filter ?? '', top: 0, selected: to.selected});
	}

	private switchType(type: ResourceType, filter = ''): void {
		this.navigate({type, filter});
	}

	private goBack(): void {
		const step = back(this.state.history, this.state.view);
		if (!step) return this.status('no earlier view (H lists the history)');
		this.set({history: step.history});
		this.showView(step.view);
	}

	// Keys, by mode.

	private key(input: string, key: KeyPress): void {
		const name = keyName(input, key);
		const mode = this.state.mode;
		switch (mode.kind) {
			case 'input': return this.inputKey(mode, input, key, name);
			case 'confirm': return this.confirmKey(mode, input, key, name);
			case 'editor':
				return editorKey({
					commands: this.env.commands, height: this.env.bodyHeight - 2, setStatus: (t, tone) => this.status(t, tone),
					save: (editor, overwrite = false) => this.save(editor, overwrite),
					update: next => this.setMode(next ? {kind: 'editor', ...next} : {kind: 'list'}),
				}, mode, input, key, name);
			case 'logs': return logsKey(this.logKeys('screen'), mode, pane => this.setMode(pane ? {kind: 'logs', ...pane} : {kind: 'list'}), input, key, name);
			case 'text':
			case 'help': return this.textKey(mode, name);
			case 'list': {
				const split = this.state.split;
				if (split && name === '\\') return this.set({split: {...split, focus: split.focus === 'list' && split.pane ? 'logs' : 'list'}});
				if (split?.focus === 'logs' && split.pane && commandIn(this.env.commands, 'list', name) !== 'view.split') {
					return logsKey(this.logKeys('split'), split.pane, pane => {
						const now = this.state.split;
						if (now) this.set({split: pane ? {...now, pane} : {...now, focus: 'list'}});
					}, input, key, name);
				}
				return this.listKey(input, name);
			}
			case 'forwards': return this.forwardsKey(mode, name);
			case 'history': return this.historyKey(mode, name);
			case 'pulses': {
				if (commandIn(this.env.commands, 'list', name) === 'mode.command') return this.setMode(promptMode('command'));
				if (commandIn(this.env.commands, 'text', name) === 'nav.back' || name === 'q') return this.set({pulses: 0, mode: {kind: 'list'}});
				return;
			}
		}
	}

	private logKeys(where: 'screen' | 'split'): LogKeysContext {
		return {
			commands: this.env.commands, height: this.env.bodyHeight - 1, setStatus: (t, tone) => this.status(t, tone),
			findPod: (ns, name) => this.env.pods().find(p => p.metadata.name === name && p.metadata.namespace === ns),
			reopen: (pod, previous, container) => this.do({kind: 'logs', target: pod, previous, container, where}),
			readBack: (session, rows) => this.do({kind: 'logsReadBack', session, rows}),
			trim: session => this.do({kind: 'logsTrim', session}),
			stop: session => this.do({kind: 'logsStop', session}),
			saveToFile: pane => this.do({kind: 'logsSave', pane}),
		};
	}

	private save(editor: EditorState, overwrite: boolean): void {
		this.status('saving…', 'busy');
		this.do({kind: 'save', editor, overwrite, namespace: this.state.view.namespace ?? 'default'});
	}

	private openEditor(title: string, text: string, purpose: EditorState['purpose']): void {
		this.setMode({kind: 'editor', title, buffer: B.fromText(text), original: purpose === 'create' ? '' : text, purpose, errors: [], top: 0});
	}

	private forwardsKey(mode: Extract<Mode, {kind: 'forwards'}>, name: string): void {
		const list = this.env.forwards;
		const command = commandIn(this.env.commands, 'list', name);
		if (command === 'nav.back' || name === 'q') return this.setMode({kind: 'list'});
		if (command === 'nav.down') return this.setMode({...mode, selected: Math.min(list.length - 1, mode.selected + 1)});
		if (command === 'nav.up') return this.setMode({...mode, selected: Math.max(0, mode.selected - 1)});
		if (name === 'ctrl+d' && list[mode.selected]) {
			const stopped = list[mode.selected];
			this.do({kind: 'stopForward', id: stopped.id});
			this.status(`stopped forwarding 127.0.0.1:${stopped.local} -> ${stopped.target}`);
			return this.setMode({...mode, selected: Math.max(0, Math.min(mode.selected, list.length - 2))});
		}
	}

	private historyKey(mode: Extract<Mode, {kind: 'history'}>, name: string): void {
		const count = this.state.history.length;
		const command = commandIn(this.env.commands, 'list', name);
		if (command === 'nav.back' || name === 'q' || name === 'H') return this.setMode({kind: 'list'});
		if (command === 'nav.down') return this.setMode({...mode, selected: Math.min(count - 1, mode.selected + 1)});
		if (command === 'nav.up') return this.setMode({...mode, selected: Math.max(0, mode.selected - 1)});
		if (name === 'return') {
			this.setMode({kind: 'list'});
			const step = jump(this.state.history, mode.selected);
			if (!step) return;
			this.set({history: step.history});
			this.showView(step.view);
		}
	}

	private inputKey(mode: InputMode, input: string, key: KeyPress, name: string): void {
		if (name === 'escape') {
			// The filter applies as it is typed; esc puts back the one in effect before.
			if (mode.purpose === 'filter') this.set({view: {...this.state.view, filter: mode.initial}});
			return this.setMode({kind: 'list'});
		}
		if (name === 'tab' && mode.purpose === 'command') return this.setMode(this.complete(mode));
		if (name === 'up' || name === 'down') {
			// Readline's history: up goes to older entries, down back towards the line being typed.
			const entries = this.state.promptHistory[mode.purpose] ?? [];
			const back = recall(entries, mode.back ?? 0, name === 'up' ? 'older' : 'newer');
			if (back === undefined) return;
			const draft = mode.back ? mode.draft ?? '' : mode.text;
			const text = back === 0 ? draft : entries[entries.length - back];
			return this.setMode({...mode, ...lineOf(text), back, draft});
		}
		if (name === 'return') return this.submit(mode);
		const line = editPrompt(mode, input, key);
		if (!line) return;
		this.setMode({...mode, ...line, selected: line.selected, completion: undefined});
		if (mode.purpose === 'filter' && line.text !== mode.text && !('error' in parseFilter(line.text))) this.set({view: {...this.state.view, filter: line.text}});
	}

	private submit(mode: InputMode): void {
		this.setMode({kind: 'list'});
		const entries = this.state.promptHistory[mode.purpose] ?? [];
		if (mode.text.trim() && entries.at(-1) !== mode.text) this.set({promptHistory: {...this.state.promptHistory, [mode.purpose]: [...entries, mode.text].slice(-promptHistoryLimit)}});
		switch (mode.purpose) {
			case 'command': return this.runCommand(mode.text);
			case 'filter': {
				const parsed = parseFilter(mode.text);
				if ('error' in parsed) return this.status(`error: ${parsed.error}`, 'error');
				return this.set({view: {...this.state.view, filter: mode.text}});
			}
			case 'new': {
				const typed = mode.text.trim().toLowerCase();
				const kind = templateKinds.find(k => k.toLowerCase() === typed) ?? templateKinds.find(k => k.toLowerCase().startsWith(typed));
				if (!kind) return this.status(`error: no template for "${mode.text}": ${templateKinds.join(', ')}`, 'error');
				return this.openEditor(`New ${kind} (ctrl+s creates after a dry run; esc cancels)`, templateFor(kind, this.state.view.namespace ?? 'default')!, 'create');
			}
			case 'forward': return mode.target && this.startForward(mode.target, mode.text);
			case 'container': return mode.target && this.shellInto(mode.target, mode.text.trim());
			case 'scale': {
				if (!mode.target) return;
				const replicas = Number(mode.text);
				if (!/^\d+$/.test(mode.text.trim()) || !Number.isInteger(replicas) || replicas > 2 ** 31 - 1) return this.status('error: spec.replicas: Invalid value: must be a whole number from 0 to 2147483647', 'error');
				for (const target of mode.targets ?? [mode.target]) this.scaleTo(target, replicas);
			}
		}
	}

	/** Tab in `:`: fill in what all candidates share; list them; Tab again cycles through them. */
	private complete(mode: InputMode): Mode {
		const c = mode.completion;
		if (c && c.candidates.length > 1) {
			const choice = (c.choice + 1) % c.candidates.length;
			return {...mode, ...lineOf(withWord(mode.text, c.start, c.candidates[choice])), completion: {...c, choice}};
		}
		const found = completionsFor(mode.text, {kinds: kindNames, commands: this.commandWords(), themes: this.env.themes, namespaces: this.env.namespaces(), files: this.env.files, contexts: this.env.contexts});
		if (found.candidates.length === 0) {
			this.status(`no completions for "${mode.text.slice(found.start)}"`);
			return mode;
		}
		const text = withWord(mode.text, found.start, found.candidates.length === 1 ? found.candidates[0] : commonPrefix(found.candidates));
		return {...mode, ...lineOf(text), completion: found.candidates.length > 1 ? {...found, choice: -1} : undefined};
	}

	/** What `:` knows: its own commands and the user's aliases. */
	private commandWords(): string[] {
		return [...builtinCommandWords, ...Object.keys(this.env.aliases)];
	}

	private runCommand(text: string, depth = 0): void {
		const [first = '', ...words] = text.trim().split(/\s+/);
		// A user alias stands for its words (`"dp": "deployments"`); an alias may not loop.
		const alias = this.env.aliases[first];
		if (alias && depth < 5) return this.runCommand([alias, ...words].join(' '), depth + 1);
		const arg = words.join(' ');
		const namespace = this.state.view.namespace;
		switch (first) {
			case 'q':
			case 'quit': return this.do({kind: 'exit'});
			case 'pf':
			case 'portforwards': return this.setMode({kind: 'forwards', selected: 0});
			case 'xray': return this.openXray(arg || 'deployments');
			case 'pulse':
			case 'pulses': return this.set({pulses: this.state.pulses + 1, mode: {kind: 'pulses'}});
			case 'alias':
			case 'aliases': return this.setMode(this.aliasesView());
			case 'ns':
			case 'namespace':
				if (!arg) return this.switchType(resolveType('namespaces')!);
				this.navigate({namespace: arg === 'all' ? null : arg});
				return this.status(`namespace ${arg}`);
			case 'apply':
				if (this.env.readonly) return this.status('read-only: apply is disabled', 'error');
				if (!arg) return this.openEditor('Apply: paste or type manifests (several separated by ---); ctrl+s applies after a dry run', '', 'create');
				this.status(`applying ${arg}…`, 'busy');
				return this.do({kind: 'apply', path: arg, namespace: namespace ?? 'default'});
			case 'theme': return this.do({kind: 'theme', name: arg});
			case 'users':
				this.status('users…', 'busy');
				return this.do({kind: 'users'});
			case 'ctx':
			case 'context':
			case 'contexts': return this.switchContext(arg);
		}
		const type = resolveType(first);
		if (!type) {
			const near = nearest(first, [...this.commandWords(), ...kindWords]);
			return this.status(`error: no command or resource type "${first}"${near.length ? `: did you mean ${near.map(w => `:${w}`).join(', ')}?` : ''} (? lists the keys)`, 'error');
		}
		this.navigate({type, namespace: arg ? (arg === 'all' ? null : arg) : undefined});
	}

	/** `:ctx` lists the contexts; `:ctx NAME` switches to one (k9s's habit). */
	private switchContext(name: string): void {
		const {contexts, context} = this.env;
		if (!name) {
			const lines = contexts.map(c => `${c === context ? '*' : ' '} ${c}${c === 'embedded' ? '  (kubedeck\'s own engine)' : ''}`);
			return this.setMode({kind: 'text', title: 'Contexts (:ctx NAME switches; esc closes)', offset: 0, lines: lines.length ? lines : ['No contexts: start the dashboard with --kubeconfig FILE, or keep one in ~/.kube/config.']});
		}
		if (name === context) return this.status(`already on context ${name}`);
		if (!contexts.includes(name)) {
			const near = nearest(name, contexts);
			return this.status(`error: no context "${name}"${near.length ? `: did you mean ${near.join(', ')}?` : ` (:ctx lists them)`}`, 'error');
		}
		this.status(`connecting to ${name}…`, 'busy');
		return this.do({kind: 'context', name});
	}

	private aliasesView(): TextMode {
		const user = Object.entries(this.env.aliases).map(([a, v]) => `  ${a.padEnd(16)}${v}  (preferences)`);
		const kinds = [...new Map(resourceTypes.map(t => [t.plural, t])).values()].map(t => `  ${t.plural.padEnd(28)}${[t.singular, ...t.shortNames].join(', ')}`);
		return {
			kind: 'text', title: 'Aliases: what : takes (esc closes)', offset: 0,
			lines: [...(user.length ? ['Yours:', ...user, ''] : []), 'Kinds:', ...kinds, '', 'Commands:', '  ns NAME, ctx [NAME], apply [FILE], theme NAME, pf, xray KIND [NS], pulses, aliases, users, quit', '', `Add your own in ${this.env.prefsPath}: "aliases": {"dp": "deployments"}`],
		};
	}

	/** `:xray KIND [NS]`: the kind's objects as trees of what they own. */
	private openXray(words: string): void {
		const [kindWord, nsWord] = words.split(/\s+/);
		const of = xrayKinds[kindWord];
		if (!of) return this.status(`error: xray: give one of ${[...new Set(Object.values(xrayKinds))].join(', ')}`, 'error');
		const namespace = nsWord ? (nsWord === 'all' ? undefined : nsWord) : this.state.view.namespace;
		this.status(`xray ${of}…`, 'busy');
		this.do({kind: 'xray', of, namespace, ownPods: namespace === this.state.view.namespace});
	}

	private confirmKey(mode: Confirm, input: string, key: KeyPress, name: string): void {
		// Under type-the-name protection, several marked objects are confirmed by typing how many.
		const expected = mode.targets.length === 1 ? mode.target.metadata.name! : String(mode.targets.length);
		const outcome = confirmKey(mode, name, input, key, {typeName: this.env.typeName, name: expected});
		switch (outcome?.kind) {
			case 'cancel': return this.setMode({kind: 'list'});
			case 'confirm': {
				this.setMode({kind: 'list'});
				// The marked set goes with the action.
				if (mode.targets.length > 1) this.set({marks: new Set(), lastMark: undefined});
				return this.do({kind: 'act', verb: mode.verb, type: mode.type, targets: mode.targets});
			}
			case 'error': return this.status(outcome.message, 'error');
			case 'next': return this.setMode(outcome.state);
		}
	}

	private textKey(mode: Extract<Mode, {kind: 'text' | 'help'}>, name: string): void {
		const {commands} = this.env;
		const command = commandIn(commands, 'text', name);
		if (command === 'nav.back' || name === 'q') return this.setMode({kind: 'list'});
		// `:` works over a text view too (`:xray svc` from `:xray deploy`), as in k9s.
		if (commandIn(commands, 'list', name) === 'mode.command') return this.setMode(promptMode('command'));
		if (mode.kind === 'text' && mode.secret && command === 'secret.reveal') {
			// x again hides them.
			const ref = refOf(mode.secret);
			if (mode.revealed) return this.setMode({...mode, title: `YAML ${ref} (values hidden; x reveals)`, lines: toYaml(maskSecret(mode.secret)).split('\n'), revealed: false});
			const decoded = {...mode.secret, data: Object.fromEntries(Object.entries((mode.secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))};
			return this.setMode({...mode, title: `YAML ${ref} (values decoded; x hides them)`, lines: toYaml(decoded).split('\n'), revealed: true});
		}
		const total = mode.kind === 'text' ? mode.lines.length : helpFor(this.env).length;
		const offset = scrollOffset(command, mode.offset, total, this.env.bodyHeight - 2);
		if (offset !== undefined) this.setMode({...mode, offset});
	}

	private startForward(target: KubeObject, text: string): void {
		const m = /^(?:(\d+):)?(\d+)$/.exec(text.trim());
		if (!m) return this.status('error: port-forward: give PORT or LOCAL:PORT', 'error');
		// Local port 0 asks for any free port, as kubectl's :PORT does.
		const badPort = [m[1], m[2]].find((p, i) => p !== undefined && !(Number(p) >= (i === 0 ? 0 : 1) && Number(p) <= 65535));
		if (badPort !== undefined) return this.status(`error: port-forward: ${badPort} is not a port: give a number from 1 to 65535`, 'error');
		const remote = forwardTarget(target, [...this.env.pods()], Number(m[2]));
		if ('error' in remote) return this.status(`error: ${remote.error}`, 'error');
		const label = refOf(target);
		this.status(`forwarding ${label}…`, 'busy');
		// The same local port as the remote one when it is free (kubectl's habit), else any free port.
		this.do({kind: 'forward', target, label, remote, port: Number(m[2]), local: m[1] ? Number(m[1]) : Number(m[2]), exact: m[1] !== undefined});
	}

	private shellInto(pod: KubeObject, chosen?: string): void {
		if (this.env.readonly) return this.status('read-only: shell is disabled', 'error');
		if (!this.env.canExec) return this.status('error: shell is not supported against this cluster yet', 'error');
		const containers: string[] = ((pod.spec as Rec).containers ?? []).map((c: Rec) => c.name);
		// Several containers: ask which, the first offered.
		if (!chosen && containers.length > 1) return this.setMode(promptMode('container', containers[0], pod));
		const container = chosen ?? containers[0];
		if (!containers.includes(container)) return this.status(`error: container ${container} is not valid for pod ${pod.metadata.name}: choose one of ${containers.join(', ')}`, 'error');
		this.do({kind: 'shell', pod, container});
	}

	private scaleTo(target: KubeObject, replicas: number): void {
		this.status(`scaling ${refOf(target)}…`, 'busy');
		this.do({kind: 'scale', target, replicas});
	}

	private listKey(input: string, name: string): void {
		const {env} = this;
		const view = this.state.view;
		const type = view.type;
		if (/^[0-9]$/.test(name)) {
			const ns = env.favourites[Number(name)];
			if (!ns) return;
			this.navigate({namespace: ns === 'all' ? null : ns});
			return this.status(`namespace ${ns}`);
		}
		// On the empty first screen, A applies the examples (elsewhere it sorts by age).
		if (input === 'A' && env.examplesOffered) {
			this.status('applying examples/…', 'busy');
			return this.do({kind: 'apply', examples: true, namespace: view.namespace ?? 'default'});
		}
		const command = commandIn(env.commands, 'list', name);
		if (!command) {
			const refusal = env.refusal?.(name, 'list');
			if (refusal) return this.status(refusal, 'error');
			const blocked = env.readonly && commandIn(defaultKeyCommands, 'list', name);
			if (blocked) this.status(`read-only: ${defaultKeyCommands.find(c => c.id === blocked)!.description} is disabled`, 'error');
			return;
		}
		const page = env.bodyHeight - 2;
		const selected = this.selected;
		const pane = paneOf(type);
		const sort = view.sort;
		const setSort = (next: View['sort']) => this.set({view: {...this.state.view, sort: next}});
		switch (command) {
			case 'app.quit': return this.do({kind: 'exit'});
			case 'nav.up': return this.select(selected - 1);
			case 'nav.down': return this.select(selected + 1);
			case 'nav.pageUp': return this.select(selected - page);
			case 'nav.pageDown': return this.select(selected + page);
			case 'nav.top': return this.select(0);
			case 'nav.bottom': return this.select(this.items.length - 1);
			case 'nav.back': return this.goBack();
			case 'view.history': return this.setMode({kind: 'history', selected: 0});
			case 'pane.next': return this.switchType(panes[(pane + 1) % panes.length].kinds[0]);
			case 'pane.previous': return this.switchType(panes[(pane + panes.length - 1) % panes.length].kinds[0]);
			case 'kind.next':
			case 'kind.previous': {
				const kinds = panes[pane].kinds;
				const at = kinds.findIndex(k => k.plural === type.plural);
				return this.switchType(kinds[(at + (command === 'kind.next' ? 1 : kinds.length - 1)) % kinds.length]);
			}
			case 'mode.command': return this.setMode(promptMode('command'));
			case 'mode.filter': return this.setMode(promptMode('filter', view.filter));
			case 'app.help': return this.setMode({kind: 'help', offset: 0});
			case 'sort.name': return setSort({column: 'Name', descending: sort?.column === 'Name' ? !sort.descending : false});
			case 'sort.age': return setSort({column: 'Age', descending: sort?.column === 'Age' ? !sort.descending : false});
			case 'sort.invert': return setSort({column: sort?.column ?? 'Name', descending: !sort?.descending});
			case 'sort.next':
			case 'sort.previous': {
				const shown = ['Name', ...listColumns(type, this.state.wide).map(c => c.name).filter(n => n !== 'Name')];
				const at = Math.max(0, shown.indexOf(sort?.column ?? 'Name'));
				return setSort({column: shown[(at + (command === 'sort.next' ? 1 : shown.length - 1)) % shown.length], descending: false});
			}
			case 'theme.cycle': {
				const names = env.themes;
				return this.do({kind: 'theme', name: names[(names.indexOf(this.state.theme.name) + 1) % names.length]});
			}
			case 'view.portForwards': return this.setMode({kind: 'forwards', selected: 0});
			case 'view.wide':
				this.status(this.state.wide ? 'columns: kubectl\'s' : 'columns: wide (kubectl -o wide); ctrl-w again for the usual ones');
				return this.set({wide: !this.state.wide});
			case 'mark.clear':
				this.set({marks: new Set(), lastMark: undefined});
				return this.status('marks cleared');
			case 'view.split':
				if (this.state.split) {
					this.set({split: undefined});
					return this.status('split view closed');
				}
				this.set({split: {focus: 'list'}});
				return this.status('split view: logs of the selected pod or workload on the right; \\ moves the keys between the sides, | closes it');
			case 'object.new':
				this.status(`templates: ${templateKinds.join(', ')}`);
				return this.setMode(promptMode('new', templateKinds.includes(type.kind) ? type.kind : 'Deployment'));
			case 'object.restore': {
				const last = this.state.restore;
				if (!last || env.now - last.at > restoreWindowMs) return this.status('nothing to restore: U works for a minute after a delete from the dashboard', 'error');
				this.set({restore: undefined});
				this.status(`restoring ${objectRef(last.type, last.object.metadata.name!)}…`, 'busy');
				return this.do({kind: 'restore', type: last.type, object: last.object});
			}
		}
		const current = this.current;
		if (!current) return;
		this.objectKey(command, name, current, selected);
	}

	/** A key that acts on the selected object (or the marked ones). */
	private objectKey(command: string, name: string, current: KubeObject, selected: number): void {
		const type = this.state.view.type;
		const marks = this.state.marks;
		const ref = objectRef(type, current.metadata.name!);
		const targets = marks.size ? this.items.filter(o => marks.has(objectKey(o))) : [current];
		const ask = (verb: Confirm['verb'], on: KubeObject[]) => this.setMode({kind: 'confirm', verb, type, target: on[0], targets: on, choice: 'cancel', typed: ''});
		switch (command) {
			case 'mark.toggle': {
				const next = new Set(marks);
				if (!next.delete(objectKey(current))) next.add(objectKey(current));
				this.set({marks: next, lastMark: selected});
				return this.status(next.size ? `${next.size} marked: delete, kill, scale and restart act on them (ctrl-\\ clears)` : 'no marks');
			}
			case 'mark.range': {
				const from = this.state.lastMark ?? selected;
				const next = new Set(marks);
				for (let i = Math.min(from, selected); i <= Math.max(from, selected); i++) next.add(objectKey(this.items[i]));
				this.set({marks: next});
				return this.status(`${next.size} marked`);
			}
			case 'view.node': {
				const node = current.kind === 'Pod' ? (current.spec as Rec).nodeName : undefined;
				if (!node) return this.status(current.kind === 'Pod' ? `pod ${current.metadata.name} is not scheduled to a node yet` : 'o: select a pod to see its node', 'error');
				return this.navigate({type: resolveType('nodes')!, selected: `/${node}`});
			}
			case 'view.owner': {
				const owners: Rec[] = current.metadata.ownerReferences ?? [];
				const owner = owners.find(o => o.controller) ?? owners[0];
				const ownerType = owner && typeForKind(owner.apiVersion, owner.kind);
				if (!owner) return this.status(`${ref} has no owner`, 'error');
				if (!ownerType) return this.status(`error: the owner ${owner.kind}/${owner.name} is of a kind the dashboard does not list`, 'error');
				return this.navigate({type: ownerType, selected: `${ownerType.namespaced ? current.metadata.namespace : ''}/${owner.name}`});
			}
			case 'nav.enter':
				if (type.kind === 'Namespace') return this.navigate({type: resolveType('pods')!, namespace: current.metadata.name!});
				if (podSelectorOf(current)) return this.switchType(resolveType('pods')!, `-l ${podSelectorOf(current)}`);
				if (type.kind === 'PersistentVolumeClaim') {
					// The pods whose volumes name the claim, by name (a claim selects no labels; a row's text starts with its name).
					const users = this.env.pods().filter(p => p.metadata.namespace === current.metadata.namespace && ((p.spec as Rec)?.volumes ?? []).some((v: Rec) => v.persistentVolumeClaim?.claimName === current.metadata.name));
					if (users.length === 0) return this.status(`no pod uses ${ref}`);
					return this.switchType(resolveType('pods')!, `^(${users.map(p => p.metadata.name!.replace(/[.]/g, '\\.')).join('|')}) `);
				}
				if (type.kind === 'PersistentVolume') {
					const claim = (current.spec as Rec)?.claimRef;
					if (!claim) return this.status(`${ref} is not bound to a claim`);
					return this.navigate({type: resolveType('persistentvolumeclaims')!, namespace: claim.namespace, filter: `^${claim.name} `});
				}
				return;
			case 'view.describe':
				// Workloads' and autoscalers' describes are live: their lines come from effects.ts's refresh while open.
				if (liveKinds.includes(current.kind)) return this.setMode({kind: 'text', title: `Describe ${ref} (live)`, lines: ['loading…'], offset: 0, live: current});
				return this.do({kind: 'open', view: 'describe', type, target: current});
			case 'view.yaml': return this.do({kind: 'open', view: 'yaml', type, target: current});
			case 'view.logs':
			case 'view.previousLogs': return this.do({kind: 'logs', target: current, previous: command === 'view.previousLogs', where: 'screen'});
			case 'object.edit': return this.do({kind: 'open', view: 'edit', type, target: current});
			case 'object.editExternal': return this.do({kind: 'open', view: 'editExternal', type, target: current});
			case 'object.portForward': {
				if (this.env.readonly) return this.status('read-only: port-forward is disabled', 'error');
				const remote = forwardTarget(current, [...this.env.pods()]);
				if ('error' in remote && !/declares no containerPort/.test(remote.error)) return this.status(`error: ${remote.error}`, 'error');
				return this.setMode(promptMode('forward', 'error' in remote ? '' : String(remote.port), current));
			}
			case 'object.duplicate': return this.do({kind: 'open', view: 'duplicate', type, target: current});
			case 'object.scale':
				if (type.kind === 'Pod') return this.shellInto(current);
				if (!type.subresources?.includes('scale')) return this.status(`${type.kind} cannot be scaled`, 'error');
				return this.setMode(promptMode('scale', String((current.spec as Rec).replicas ?? ''), current, marks.size ? targets : undefined));
			case 'object.scaleUp':
			case 'object.scaleDown':
				if (!type.subresources?.includes('scale')) return this.status(`${type.kind} cannot be scaled`, 'error');
				return this.scaleTo(current, Math.max(0, Number((current.spec as Rec).replicas ?? 0) + (command === 'object.scaleUp' ? 1 : -1)));
			case 'object.restart':
				if (!['Deployment', 'StatefulSet', 'DaemonSet'].includes(type.kind)) return this.status('rollout restart: select a deployment, statefulset or daemonset', 'error');
				// Every pod is replaced: it asks first, as k9s does.
				return ask('restart', targets);
			case 'cronjob.trigger':
				if (type.kind !== 'CronJob') return this.status('t runs a CronJob now: select a cronjob', 'error');
				return this.do({kind: 'cronjob', action: 'trigger', target: current});
			case 'cronjob.suspend':
				if (type.kind !== 'CronJob') return this.status('S suspends or resumes a CronJob: select a cronjob', 'error');
				return this.do({kind: 'cronjob', action: (current.spec as Rec)?.suspend ? 'resume' : 'suspend', target: current});
			case 'object.undoRollout':
				if (!['Deployment', 'StatefulSet', 'DaemonSet'].includes(type.kind)) return this.status('rollout undo: select a deployment, statefulset or daemonset', 'error');
				return ask('rollback', [current]);
			case 'object.delete': {
				const hint = deleteKeyHint(name);
				if (hint) this.status(hint);
				return ask('delete', targets);
			}
			// k9s kills without asking; here it asks as delete does, and names what it will kill.
			case 'object.kill': return ask('kill', targets);
		}
	}
}

/** The help screen's lines (drawn by the App, scrolled by the reducer). */
export function helpFor(env: Env): string[] {
	return helpLines(env.commands, {favourites: env.favourites, prefsPath: env.prefsPath, readonly: env.readonly});
}

