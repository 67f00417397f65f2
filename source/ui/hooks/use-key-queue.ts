// One key dispatcher for the whole dashboard, with a queue: each key is
// handled by the render that follows the one before it. A key that switches
// the kind (`:deploy<enter>`) changes what the next key (`s`) acts on, and
// tmux or a fast typist delivers both before React has drawn the first.
import {type Key, useInput} from 'ink';
import {useEffect, useRef, useState} from 'react';

/** A key as the dispatcher sees it: Ink's flags, plus `paste` for pasted text with line breaks. */
export type KeyPress = Partial<Key> & {paste?: boolean};

export function useKeyQueue(handle: (input: string, key: KeyPress) => void, options: {acceptsPaste: () => boolean; onError: (error: Error) => void}): void {
	const pending = useRef<[string, KeyPress][]>([]);
	const settling = useRef(false);
	const renders = useRef(0);
	renders.current++;
	const [, force] = useState(0);
	// The handler of the latest render: the one that sees the state the previous key left.
	const latest = useRef(handle);
	latest.current = handle;
	const drain = () => {
		while (pending.current.length > 0 && !settling.current) {
			const [input, key] = pending.current.shift()!;
			settling.current = true;
			const before = renders.current;
			try {
				latest.current(input, key);
			} catch (error) {
				options.onError(error as Error);
			}
			// A key that changed nothing renders nothing: then a render is forced, so the queue moves on.
			// (Forcing one always would cost a second frame per key, which Ink's frame limit delays.)
			setImmediate(() => {
				if (settling.current && renders.current === before) force(n => n + 1);
			});
		}
	};
	useEffect(() => {
		settling.current = false;
		drain();
	});
	useInput((input, key) => {
		if (input.length > 1 && /[\r\n]/.test(input) && !/[\x7f\b]/.test(input) && pending.current.length === 0 && options.acceptsPaste()) {
			// A paste into the editor: its lines go in as they are, indentation and all.
			pending.current.push([input, {paste: true}]);
		} else if (input.length > 1 && !key.ctrl && !key.meta && (/[\r\n\t\x7f\b]/.test(input) || !options.acceptsPaste())) {
			// "deploy\r", "dep\t", "\x7f3\r" or a burst of "jjj" (key repeat, tmux, a slow SSH link) can
			// come as one chunk: split it into keys, so every key of a burst counts. Only the editor takes
			// a chunk of plain text whole, as typed text.
			for (const part of input.split(/(\r\n|[\r\n\t\x7f\b])/)) {
				if (part === '\r' || part === '\n' || part === '\r\n') pending.current.push(['', {return: true}]);
				else if (part === '\t') pending.current.push(['', {tab: true}]);
				else if (part === '\x7f' || part === '\b') pending.current.push(['', {backspace: true}]);
				else if (part) {
					for (const ch of part) {
						const code = ch.charCodeAt(0);
						// ctrl-a..ctrl-z inside a chunk come as their control characters.
						if (code >= 1 && code <= 26) pending.current.push([String.fromCharCode(code + 96), {ctrl: true}]);
						else pending.current.push([ch, {}]);
					}
				}
			}
		} else if (key.meta && !key.ctrl && !key.escape && input.length === 1 && !/[bf]/.test(input)) {
			// Esc and the next key in one chunk ("\x1b:") read as alt+key. Only alt-b and alt-f mean
			// something here (words in a prompt), so the rest are what was typed: esc, then the key.
			pending.current.push(['', {escape: true, meta: true}], [input, {}]);
		} else pending.current.push([input, key]);
		drain();
	});
}
