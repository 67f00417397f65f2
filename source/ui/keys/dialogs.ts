// The keys of the small modes, as pure functions of the key and the mode:
// a one-line prompt, a confirmation (Cancel first; or type the name), and
// scrolling a text view. The App applies what they return.
import type {KeyPress} from '../hooks/use-key-queue.js';

/**
 * A one-line prompt as readline edits it: the text, the cursor (0..text.length), and whether
 * the text is a prefilled default shown selected (the first typed character replaces it).
 */
export interface LineState {
	text: string;
	cursor: number;
	selected?: boolean;
}

export const lineOf = (text: string, selected = false): LineState => ({text, cursor: text.length, selected: selected && text.length > 0});

const wordLeft = (text: string, at: number) => {
	let i = at;
	while (i > 0 && !/[\w.-]/.test(text[i - 1])) i--;
	while (i > 0 && /[\w.-]/.test(text[i - 1])) i--;
	return i;
};
const wordRight = (text: string, at: number) => {
	let i = at;
	while (i < text.length && !/[\w.-]/.test(text[i])) i++;
	while (i < text.length && /[\w.-]/.test(text[i])) i++;
	return i;
};

/**
 * A prompt after a key, with readline's keys: ctrl-a/e (home/end) and ctrl-b/f (left/right)
 * move, alt-b/f move by words, ctrl-u/k kill to the start/end, ctrl-w the word before the
 * cursor, backspace the character before it. Typed text goes in at the cursor, or replaces a
 * selected default; a move keeps the default and unselects it. undefined: the key is no edit
 * (return, esc, tab and up/down are the caller's).
 */
export function editPrompt(state: LineState, input: string, key: KeyPress): LineState | undefined {
	const {text, cursor} = state;
	const at = (next: string, position: number): LineState => ({text: next, cursor: Math.max(0, Math.min(next.length, position))});
	if (key.backspace || key.delete) return state.selected ? at('', 0) : at(text.slice(0, Math.max(0, cursor - 1)) + text.slice(cursor), cursor - 1);
	if (key.leftArrow) return at(text, state.selected ? 0 : cursor - 1);
	if (key.rightArrow) return at(text, cursor + 1);
	if (key.home) return at(text, 0);
	if (key.end) return at(text, text.length);
	if (key.ctrl) {
		switch (input) {
			case 'a': return at(text, 0);
			case 'e': return at(text, text.length);
			case 'b': return at(text, cursor - 1);
			case 'f': return at(text, cursor + 1);
			case 'u': return at(text.slice(cursor), 0);
			case 'k': return at(text.slice(0, cursor), cursor);
			case 'w': {
				const from = wordLeft(text, cursor);
				return at(text.slice(0, from) + text.slice(cursor), from);
			}
			default: return undefined;
		}
	}
	if (key.meta) {
		if (input === 'b') return at(text, wordLeft(text, cursor));
		if (input === 'f') return at(text, wordRight(text, cursor));
		return undefined;
	}
	if (!input || key.return || key.tab || key.escape || key.upArrow || key.downArrow) return undefined;
	if (state.selected) return at(input, input.length);
	return at(text.slice(0, cursor) + input + text.slice(cursor), cursor + input.length);
}

/** A prompt's text after a key, the cursor at the end (search prompts); undefined when the key is no edit. */
export function editLine(text: string, input: string, key: KeyPress): string | undefined {
	return editPrompt(lineOf(text), input, key)?.text;
}

/**
 * Up and down through a prompt's history (oldest first): index is how far back the shown entry
 * is (0: the line being typed, kept in `draft`). undefined when there is nothing further.
 */
export function recall(history: readonly string[], index: number, direction: 'older' | 'newer'): number | undefined {
	const next = index + (direction === 'older' ? 1 : -1);
	return next < 0 || next > history.length ? undefined : next;
}

export interface ConfirmState {
	choice: 'cancel' | 'ok';
	/** What has been typed of the name, under type-the-name protection. */
	typed: string;
}

export type ConfirmOutcome<T> = {kind: 'cancel'} | {kind: 'confirm'} | {kind: 'error'; message: string} | {kind: 'next'; state: T} | undefined;

/**
 * A confirmation's answer to a key. Esc cancels. Normally Enter takes the
 * highlighted choice (Cancel until moved with arrows, tab, h or l); under
 * type-the-name protection Enter confirms only once `name` is typed exactly.
 */
export function confirmKey<T extends ConfirmState>(state: T, name: string, input: string, key: KeyPress, protection: {typeName: boolean; name: string}): ConfirmOutcome<T> {
	if (name === 'escape') return {kind: 'cancel'};
	if (protection.typeName) {
		if (name === 'return') return state.typed === protection.name ? {kind: 'confirm'} : {kind: 'error', message: `error: type "${protection.name}" to confirm, or esc to cancel`};
		const typed = editLine(state.typed, input, key);
		return typed === undefined ? undefined : {kind: 'next', state: {...state, typed}};
	}
	if (['left', 'right', 'tab', 'h', 'l'].includes(name)) return {kind: 'next', state: {...state, choice: state.choice === 'cancel' ? 'ok' : 'cancel'}};
	if (name === 'return') return state.choice === 'ok' ? {kind: 'confirm'} : {kind: 'cancel'};
	return undefined;
}

/** A text view's first line after a navigation command, kept within the text; undefined for other commands. */
export function scrollOffset(command: string | undefined, offset: number, total: number, page: number): number | undefined {
	const next = (() => {
		switch (command) {
			case 'nav.down': return offset + 1;
			case 'nav.up': return offset - 1;
			case 'nav.pageDown': return offset + page;
			case 'nav.pageUp': return offset - page;
			case 'nav.top': return 0;
			case 'nav.bottom': return total;
			default: return undefined;
		}
	})();
	return next === undefined ? undefined : Math.max(0, Math.min(next, Math.max(0, total - page)));
}
