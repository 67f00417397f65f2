// The inline editor's keys: moving, typing, undo, search, save, and the
// answers to a conflict (reload theirs, overwrite with mine).
import * as B from '../editor/buffer.js';
import type {KeyPress} from '../hooks/use-key-queue.js';
import {editLine} from './dialogs.js';
import {commandIn, type KeyCommand} from '../keymap.js';
import {type EditorState, editorTop} from '../views/editor-view.js';

export interface EditorKeysContext {
	commands: KeyCommand[];
	/** Rows of text on screen. */
	height: number;
	setStatus(text: string, tone?: 'info' | 'error'): void;
	save(state: EditorState, overwrite?: boolean): void;
	/** Replace the editor's state; undefined closes the editor. */
	update(state: EditorState | undefined): void;
}

export function editorKey(ctx: EditorKeysContext, mode: EditorState, input: string, key: KeyPress, name: string): void {
	const {setStatus, save} = ctx;
	const setMode = (next: EditorState | undefined) => ctx.update(next);
	const update = (next: Partial<EditorState>) => setMode({...mode, ...next, confirmDiscard: false});
	if (mode.typingSearch !== undefined) {
		if (name === 'escape') return update({typingSearch: undefined});
		if (name === 'return') {
			const found = B.search(mode.buffer, mode.typingSearch);
			if (!found) setStatus(`not found: ${mode.typingSearch}`, 'error');
			return update({typingSearch: undefined, search: mode.typingSearch, buffer: found ?? mode.buffer});
		}
		const typingSearch = editLine(mode.typingSearch, input, key);
		if (typingSearch !== undefined) update({typingSearch});
		return;
	}
	const command = commandIn(ctx.commands, 'editor', name);
	const height = ctx.height;
	switch (command) {
		case 'nav.back':
			if (B.isModified(mode.buffer, mode.original || '\n') && mode.purpose === 'update' && !mode.confirmDiscard) return setMode({...mode, confirmDiscard: true});
			if (mode.purpose === 'create' && !mode.confirmDiscard && mode.buffer.undo.length > 0) return setMode({...mode, confirmDiscard: true});
			setMode(undefined);
			return setStatus(mode.purpose === 'create' ? 'nothing created' : 'Edit cancelled, no changes made.');
		case 'editor.save': return save(mode);
		case 'editor.overwrite': return mode.conflict ? save(mode, true) : undefined;
		case 'editor.reload':
			if (!mode.conflict) return;
			setStatus('reloaded the server\'s version');
			return update({buffer: B.fromText(mode.conflict.latest), original: mode.conflict.latest, conflict: undefined, errors: []});
		case 'editor.undo': return update({buffer: B.undo(mode.buffer)});
		case 'editor.search': return update({typingSearch: ''});
		case 'editor.searchNext': {
			const found = mode.search ? B.search(mode.buffer, mode.search) : undefined;
			return update({buffer: found ?? mode.buffer});
		}
		case 'editor.deleteLine': return update({buffer: B.deleteLine(mode.buffer)});
	}
	const motions: Record<string, B.Motion> = {up: 'up', down: 'down', left: 'left', right: 'right', home: 'home', end: 'end', pageup: 'pageup', pagedown: 'pagedown', 'ctrl+a': 'home', 'ctrl+e': 'end'};
	let buffer = mode.buffer;
	if (motions[name]) buffer = B.move(buffer, motions[name], height);
	else if (name === 'return') buffer = B.newline(buffer);
	else if (key.backspace || key.delete) buffer = B.backspace(buffer);
	else if (name === 'ctrl+d') buffer = B.deleteForward(buffer);
	else if (name === 'tab') buffer = B.insert(buffer, '  ');
	else if (key.paste) buffer = B.paste(buffer, input);
	else if (input && !key.ctrl && !key.meta) buffer = B.insert(buffer, input);
	else return;
	update({buffer, top: editorTop({...mode, buffer}, height)});
}
