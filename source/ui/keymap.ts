// Keys are commands, not letters: each command has an id, default keys, a
// description (which the footer and `?` help are made from) and a dangerous
// flag (destructive commands always confirm). k9s habits where one exists.

export interface KeyCommand {
	id: string;
	keys: string[];
	description: string;
	dangerous?: boolean;
}

export const keyCommands: KeyCommand[] = [
	{id: 'nav.up', keys: ['up', 'k'], description: 'up'},
	{id: 'nav.down', keys: ['down', 'j'], description: 'down'},
	{id: 'nav.back', keys: ['escape'], description: 'back'},
	{id: 'mode.command', keys: [':'], description: 'command (:pods :deploy :svc :ns NAME)'},
	{id: 'mode.filter', keys: ['/'], description: 'filter'},
	{id: 'view.describe', keys: ['d'], description: 'describe'},
	{id: 'view.yaml', keys: ['y'], description: 'yaml'},
	{id: 'view.logs', keys: ['l'], description: 'logs'},
	{id: 'secret.reveal', keys: ['x'], description: 'reveal secret values (in the YAML view)'},
	{id: 'object.scale', keys: ['s'], description: 'scale'},
	{id: 'object.restart', keys: ['r'], description: 'rollout restart'},
	{id: 'object.delete', keys: ['ctrl+d'], description: 'delete', dangerous: true},
	{id: 'app.help', keys: ['?'], description: 'help'},
	{id: 'app.quit', keys: ['q', 'ctrl+c'], description: 'quit'},
];

/** The name of a key press as the keymap spells it. */
export function keyName(input: string, key: {upArrow?: boolean; downArrow?: boolean; escape?: boolean; ctrl?: boolean; return?: boolean; tab?: boolean; leftArrow?: boolean; rightArrow?: boolean}): string {
	if (key.upArrow) return 'up';
	if (key.downArrow) return 'down';
	if (key.leftArrow) return 'left';
	if (key.rightArrow) return 'right';
	if (key.escape) return 'escape';
	if (key.return) return 'return';
	if (key.tab) return 'tab';
	if (key.ctrl) return `ctrl+${input}`;
	return input;
}

export function commandFor(name: string): string | undefined {
	return keyCommands.find(c => c.keys.includes(name))?.id;
}
