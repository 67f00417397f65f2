// The keys of the small modes, as pure functions of the key and the mode:
// a one-line prompt, a confirmation (Cancel first; or type the name), and
// scrolling a text view. The App applies what they return.
import type {KeyPress} from '../hooks/use-key-queue.js';

/** A prompt's text after a key: backspace deletes, printable input is typed; undefined when the key is no edit. */
export function editLine(text: string, input: string, key: KeyPress): string | undefined {
	if (key.backspace || key.delete) return text.slice(0, -1);
	if (input && !key.ctrl && !key.meta) return text + input;
	return undefined;
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
