// Keys are commands, not letters: each command has an id, default keys, a
// scope (where it works), a description (the footer and `?` help are made
// from these) and flags: `mutating` commands disappear in read-only mode,
// `dangerous` ones always confirm. k9s habits where one exists. A user's
// preferences can give any command other keys (by id).

export type Scope = 'list' | 'logs' | 'editor' | 'text';

export interface KeyCommand {
	id: string;
	keys: string[];
	scopes: Scope[];
	description: string;
	mutating?: boolean;
	dangerous?: boolean;
	/** Left out of the one-line footer (still in `?` help). */
	quiet?: boolean;
}

const L: Scope[] = ['list'];
const views: Scope[] = ['list', 'logs', 'text'];

export const defaultKeyCommands: KeyCommand[] = [
	{id: 'nav.up', keys: ['up', 'k'], scopes: views, description: 'up', quiet: true},
	{id: 'nav.down', keys: ['down', 'j'], scopes: views, description: 'down', quiet: true},
	{id: 'nav.pageUp', keys: ['pageup', 'ctrl+u'], scopes: views, description: 'page up', quiet: true},
	{id: 'nav.pageDown', keys: ['pagedown', 'ctrl+f'], scopes: views, description: 'page down', quiet: true},
	{id: 'nav.top', keys: ['g', 'home'], scopes: views, description: 'top', quiet: true},
	{id: 'nav.bottom', keys: ['G', 'end'], scopes: views, description: 'bottom', quiet: true},
	{id: 'nav.back', keys: ['escape'], scopes: ['list', 'logs', 'text', 'editor'], description: 'back / close'},
	{id: 'view.history', keys: ['H'], scopes: L, description: 'history: the views opened before this one', quiet: true},
	{id: 'nav.enter', keys: ['return'], scopes: L, description: 'open: a namespace\'s pods, a workload\'s pods', quiet: true},
	{id: 'pane.next', keys: ['tab'], scopes: L, description: 'next pane'},
	{id: 'pane.previous', keys: ['shift+tab'], scopes: L, description: 'previous pane', quiet: true},
	{id: 'kind.previous', keys: ['['], scopes: L, description: 'previous kind in the pane', quiet: true},
	{id: 'kind.next', keys: [']'], scopes: L, description: 'next kind in the pane', quiet: true},
	{id: 'mode.command', keys: [':'], scopes: L, description: 'command (:pods :deploy :svc :ns NAME :apply FILE)'},
	{id: 'mode.filter', keys: ['/'], scopes: L, description: 'filter (regex, !inverse, -l selector)'},
	{id: 'view.describe', keys: ['d'], scopes: L, description: 'describe'},
	{id: 'view.yaml', keys: ['y'], scopes: L, description: 'yaml'},
	{id: 'view.logs', keys: ['l'], scopes: L, description: 'logs'},
	{id: 'view.previousLogs', keys: ['p'], scopes: L, description: 'logs of the previous instance', quiet: true},
	{id: 'secret.reveal', keys: ['x'], scopes: ['text'], description: 'reveal or hide secret values (in the YAML view)'},
	{id: 'object.edit', keys: ['e'], scopes: L, description: 'edit', mutating: true},
	{id: 'object.editExternal', keys: ['E'], scopes: L, description: 'edit in $EDITOR', mutating: true, quiet: true},
	{id: 'object.new', keys: ['n'], scopes: L, description: 'new from a template', mutating: true},
	{id: 'object.duplicate', keys: ['D'], scopes: L, description: 'duplicate', mutating: true, quiet: true},
	{id: 'object.scale', keys: ['s'], scopes: L, description: 'scale (on a pod: shell)', mutating: true},
	{id: 'object.scaleUp', keys: ['+'], scopes: L, description: 'scale up by one', mutating: true, quiet: true},
	{id: 'object.scaleDown', keys: ['-'], scopes: L, description: 'scale down by one', mutating: true, quiet: true},
	{id: 'object.restart', keys: ['r'], scopes: L, description: 'rollout restart', mutating: true, dangerous: true},
	{id: 'cronjob.trigger', keys: ['t'], scopes: L, description: 'run a CronJob now (a Job from its template)', mutating: true, quiet: true},
	{id: 'cronjob.suspend', keys: ['S'], scopes: L, description: 'suspend or resume a CronJob', mutating: true, quiet: true},
	{id: 'object.undoRollout', keys: ['u'], scopes: L, description: 'rollout undo (asks first)', mutating: true, dangerous: true, quiet: true},
	{id: 'object.delete', keys: ['ctrl+d'], scopes: L, description: 'delete', mutating: true, dangerous: true},
	{id: 'object.kill', keys: ['ctrl+k'], scopes: L, description: 'kill: delete at once, no grace period', mutating: true, dangerous: true, quiet: true},
	{id: 'mark.toggle', keys: ['space'], scopes: L, description: 'mark the row (delete, kill, scale and restart then act on the marked rows)', quiet: true},
	{id: 'mark.range', keys: ['ctrl+space'], scopes: L, description: 'mark the rows from the last mark to here', quiet: true},
	{id: 'mark.clear', keys: ['ctrl+\\'], scopes: L, description: 'clear the marks', quiet: true},
	{id: 'view.node', keys: ['o'], scopes: L, description: 'the node of a pod', quiet: true},
	{id: 'view.owner', keys: ['J'], scopes: L, description: 'jump to the owner (ReplicaSet, Deployment, Job...)', quiet: true},
	{id: 'view.wide', keys: ['ctrl+w'], scopes: L, description: 'wide columns (kubectl -o wide)', quiet: true},
	{id: 'object.restore', keys: ['U'], scopes: L, description: 'restore what was just deleted (embedded engine, 60 s)', mutating: true, quiet: true},
	{id: 'object.portForward', keys: ['F'], scopes: L, description: 'port-forward a pod or service', quiet: true},
	{id: 'view.portForwards', keys: ['f'], scopes: L, description: 'port-forwards (ctrl+d there stops one)', quiet: true},
	{id: 'sort.name', keys: ['N'], scopes: L, description: 'sort by name', quiet: true},
	{id: 'sort.age', keys: ['A'], scopes: L, description: 'sort by age', quiet: true},
	{id: 'sort.previous', keys: ['<'], scopes: L, description: 'sort by the column to the left', quiet: true},
	{id: 'sort.next', keys: ['>'], scopes: L, description: 'sort by the column to the right', quiet: true},
	{id: 'sort.invert', keys: ['I'], scopes: L, description: 'invert the sort', quiet: true},
	{id: 'view.split', keys: ['|'], scopes: L, description: 'split view: the list beside the selected object\'s logs (\\ moves the keys across)', quiet: true},
	{id: 'theme.cycle', keys: ['T'], scopes: L, description: 'next theme', quiet: true},
	{id: 'logs.follow', keys: ['space', 's'], scopes: ['logs'], description: 'follow / pause'},
	{id: 'logs.wrap', keys: ['w'], scopes: ['logs'], description: 'wrap'},
	{id: 'logs.timestamps', keys: ['t'], scopes: ['logs'], description: 'timestamps'},
	{id: 'logs.search', keys: ['/'], scopes: ['logs'], description: 'search'},
	{id: 'logs.next', keys: ['n'], scopes: ['logs'], description: 'next match', quiet: true},
	{id: 'logs.previousMatch', keys: ['N'], scopes: ['logs'], description: 'previous match', quiet: true},
	{id: 'logs.filter', keys: ['&'], scopes: ['logs'], description: 'show only matching lines'},
	{id: 'logs.json', keys: ['J'], scopes: ['logs'], description: 'JSON lines readable'},
	{id: 'logs.container', keys: ['c'], scopes: ['logs'], description: 'next container'},
	{id: 'logs.previous', keys: ['p'], scopes: ['logs'], description: 'previous instance'},
	{id: 'logs.save', keys: ['ctrl+s'], scopes: ['logs'], description: 'save to a file'},
	{id: 'editor.save', keys: ['ctrl+s'], scopes: ['editor'], description: 'save (validates; dry run first for new objects)'},
	{id: 'editor.undo', keys: ['ctrl+z', 'ctrl+_'], scopes: ['editor'], description: 'undo'},
	{id: 'editor.search', keys: ['ctrl+f'], scopes: ['editor'], description: 'search'},
	{id: 'editor.searchNext', keys: ['ctrl+n'], scopes: ['editor'], description: 'next match', quiet: true},
	{id: 'editor.deleteLine', keys: ['ctrl+k'], scopes: ['editor'], description: 'delete line', quiet: true},
	{id: 'editor.reload', keys: ['ctrl+r'], scopes: ['editor'], description: 'reload from the server (after a conflict)', quiet: true},
	{id: 'editor.overwrite', keys: ['ctrl+o'], scopes: ['editor'], description: 'overwrite the server\'s version (after a conflict)', quiet: true},
	{id: 'app.help', keys: ['?'], scopes: L, description: 'help'},
	{id: 'app.quit', keys: ['q', 'ctrl+c'], scopes: L, description: 'quit'},
];

/** The commands with the user's key overrides applied; unknown ids are reported, not ignored silently. */
export function keyCommandsWith(overrides: Record<string, string[]>, readonly = false): {commands: KeyCommand[]; warnings: string[]} {
	const warnings: string[] = [];
	const known = new Set(defaultKeyCommands.map(c => c.id));
	for (const id of Object.keys(overrides)) if (!known.has(id)) warnings.push(`preferences: unknown key command "${id}"`);
	const commands = defaultKeyCommands
		.filter(c => !(readonly && c.mutating))
		.map(c => (Array.isArray(overrides[c.id]) && overrides[c.id].length ? {...c, keys: overrides[c.id].map(String)} : c));
	// tmux's prefix is ctrl+b; vim users reach for ctrl+d to scroll. Say so where it matters.
	if (process.env.TMUX) {
		for (const c of commands) if (c.keys.includes('ctrl+b')) warnings.push(`${c.keys.join('/')} (${c.description}): ctrl+b is tmux's prefix key, so inside tmux it reaches kubedeck only when pressed twice`);
	}
	return {commands, warnings};
}

/**
 * Said when ctrl+d opens a delete inside tmux, where people scroll with vim's keys and vim's
 * half-page-down is delete here (it asks first). Only then: a hint shown for good takes a row.
 */
export function deleteKeyHint(name: string): string | undefined {
	return process.env.TMUX && name === 'ctrl+d' ? 'ctrl+d deletes here (it always asks, Cancel first), not vim\'s half-page down: page with ctrl+f/ctrl+u or pgdn/pgup' : undefined;
}

/** The name of a key press as the keymap spells it. */
export function keyName(input: string, key: {upArrow?: boolean; downArrow?: boolean; escape?: boolean; ctrl?: boolean; shift?: boolean; return?: boolean; tab?: boolean; leftArrow?: boolean; rightArrow?: boolean; pageUp?: boolean; pageDown?: boolean; home?: boolean; end?: boolean}): string {
	if (key.upArrow) return 'up';
	if (key.downArrow) return 'down';
	if (key.leftArrow) return 'left';
	if (key.rightArrow) return 'right';
	if (key.pageUp) return 'pageup';
	if (key.pageDown) return 'pagedown';
	if (key.home) return 'home';
	if (key.end) return 'end';
	if (key.escape) return 'escape';
	if (key.return) return 'return';
	if (key.tab) return key.shift ? 'shift+tab' : 'tab';
	// ctrl-space comes as NUL, which Ink reads as ctrl+`; ctrl-\ as its control character.
	if (key.ctrl && input === '`') return 'ctrl+space';
	if (input === '\x1c') return 'ctrl+\\';
	if (key.ctrl) return `ctrl+${input}`;
	if (input === ' ') return 'space';
	return input;
}

export function commandIn(commands: KeyCommand[], scope: Scope, name: string): string | undefined {
	return commands.find(c => c.scopes.includes(scope) && c.keys.includes(name))?.id;
}

/** `?`: every binding by where it works, with command ids (for key overrides in preferences). */
export function helpLines(commands: KeyCommand[], about: {favourites: string[]; prefsPath: string; readonly: boolean}): string[] {
	const scopes: [Scope, string][] = [['list', 'Lists'], ['logs', 'Logs'], ['editor', 'Editor'], ['text', 'Describe / YAML']];
	const out: string[] = [];
	for (const [scope, title] of scopes) {
		out.push(`${title}:`);
		for (const c of commands.filter(c => c.scopes.includes(scope))) out.push(`  ${c.keys.join(', ').padEnd(18)}${c.description}${c.dangerous && !c.description.includes('asks first') ? '  (asks first)' : ''}  [${c.id}]`);
		if (scope === 'list') out.push(`  ${'0-9'.padEnd(18)}favourite namespaces: ${about.favourites.map((n, i) => `${i}:${n}`).join(' ')}`);
	}
	out.push('', `Preferences: ${about.prefsPath} (theme, favourites, "keys": {"<command id>": ["key", ...]}, "protection": {"<context>": "readonly" | "confirm" | "type-name"})`);
	if (about.readonly) out.push('Read-only mode: the keys that change things are hidden.');
	return out;
}
