// The inline editor's text: lines, a cursor, undo and search. Immutable
// values (every edit returns a new buffer), so React state holds it directly
// and undo is a list of earlier buffers. Written here rather than taken from
// a library: the Ink text inputs edit one line, and a YAML manifest needs
// many lines with a cursor that moves between them.

export interface EditBuffer {
	readonly lines: readonly string[];
	readonly row: number;
	readonly col: number;
	/** Earlier states, newest last (bounded). */
	readonly undo: readonly EditBuffer[];
	/** What the last edit was, so a run of typed characters undoes as one step. */
	readonly lastEdit?: 'insert' | 'delete' | 'other';
}

const undoLimit = 200;

export function fromText(text: string): EditBuffer {
	return {lines: text.replace(/\n$/, '').split('\n'), row: 0, col: 0, undo: []};
}

export function toText(buffer: EditBuffer): string {
	return `${buffer.lines.join('\n')}\n`;
}

function clampCol(lines: readonly string[], row: number, col: number): number {
	return Math.max(0, Math.min(col, lines[row]?.length ?? 0));
}

export function moveTo(buffer: EditBuffer, row: number, col: number): EditBuffer {
	const r = Math.max(0, Math.min(buffer.lines.length - 1, row));
	return {...buffer, row: r, col: clampCol(buffer.lines, r, col), lastEdit: 'other'};
}

export type Motion = 'up' | 'down' | 'left' | 'right' | 'home' | 'end' | 'pageup' | 'pagedown' | 'top' | 'bottom';

export function move(buffer: EditBuffer, motion: Motion, page = 10): EditBuffer {
	const {row, col, lines} = buffer;
	switch (motion) {
		case 'up': return moveTo(buffer, row - 1, col);
		case 'down': return moveTo(buffer, row + 1, col);
		case 'left': return col > 0 ? moveTo(buffer, row, col - 1) : row > 0 ? moveTo(buffer, row - 1, lines[row - 1].length) : buffer;
		case 'right': return col < lines[row].length ? moveTo(buffer, row, col + 1) : row < lines.length - 1 ? moveTo(buffer, row + 1, 0) : buffer;
		case 'home': return moveTo(buffer, row, 0);
		case 'end': return moveTo(buffer, row, lines[row].length);
		case 'pageup': return moveTo(buffer, row - page, col);
		case 'pagedown': return moveTo(buffer, row + page, col);
		case 'top': return moveTo(buffer, 0, 0);
		case 'bottom': return moveTo(buffer, lines.length - 1, 0);
	}
}

function edit(buffer: EditBuffer, kind: 'insert' | 'delete' | 'other', lines: string[], row: number, col: number): EditBuffer {
	// Consecutive inserts (or deletes) on one line are one undo step, as in most editors.
	const merge = buffer.lastEdit === kind && kind !== 'other' && buffer.row === row;
	const undo = merge ? buffer.undo : [...buffer.undo.slice(-(undoLimit - 1)), buffer];
	return {lines, row, col, undo, lastEdit: kind};
}

export function insert(buffer: EditBuffer, text: string): EditBuffer {
	if (text.includes('\n')) return paste(buffer, text);
	const {lines, row, col} = buffer;
	const line = lines[row];
	const next = [...lines];
	next[row] = line.slice(0, col) + text + line.slice(col);
	return edit(buffer, 'insert', next, row, col + text.length);
}

/** Text as it was pasted: its lines go in as they are (no indentation added), as one undo step. */
export function paste(buffer: EditBuffer, text: string): EditBuffer {
	const {lines, row, col} = buffer;
	const pasted = text.replace(/\r\n?/g, '\n').split('\n');
	const before = lines[row].slice(0, col), after = lines[row].slice(col);
	const middle = pasted.map((line, i) => (i === 0 ? before + line : line));
	const last = middle.length - 1;
	const cursorCol = middle[last].length;
	middle[last] += after;
	return edit(buffer, 'other', [...lines.slice(0, row), ...middle, ...lines.slice(row + 1)], row + last, cursorCol);
}

/** Split the line at the cursor; the new line keeps the indentation of the old (YAML is all indentation). */
export function newline(buffer: EditBuffer): EditBuffer {
	const {lines, row, col} = buffer;
	const line = lines[row];
	const indent = /^\s*/.exec(line)![0].slice(0, col);
	const next = [...lines.slice(0, row), line.slice(0, col), indent + line.slice(col), ...lines.slice(row + 1)];
	return edit(buffer, 'other', next, row + 1, indent.length);
}

export function backspace(buffer: EditBuffer): EditBuffer {
	const {lines, row, col} = buffer;
	if (col > 0) {
		const next = [...lines];
		next[row] = lines[row].slice(0, col - 1) + lines[row].slice(col);
		return edit(buffer, 'delete', next, row, col - 1);
	}
	if (row === 0) return buffer;
	const prev = lines[row - 1];
	const next = [...lines.slice(0, row - 1), prev + lines[row], ...lines.slice(row + 1)];
	return edit(buffer, 'other', next, row - 1, prev.length);
}

export function deleteForward(buffer: EditBuffer): EditBuffer {
	const {lines, row, col} = buffer;
	if (col < lines[row].length) {
		const next = [...lines];
		next[row] = lines[row].slice(0, col) + lines[row].slice(col + 1);
		return edit(buffer, 'delete', next, row, col);
	}
	if (row === lines.length - 1) return buffer;
	const next = [...lines.slice(0, row), lines[row] + lines[row + 1], ...lines.slice(row + 2)];
	return edit(buffer, 'other', next, row, col);
}

/** Delete the whole line (ctrl+k). */
export function deleteLine(buffer: EditBuffer): EditBuffer {
	const {lines, row} = buffer;
	const next = lines.length === 1 ? [''] : [...lines.slice(0, row), ...lines.slice(row + 1)];
	const r = Math.min(row, next.length - 1);
	return edit(buffer, 'other', next, r, clampCol(next, r, buffer.col));
}

export function undo(buffer: EditBuffer): EditBuffer {
	const previous = buffer.undo[buffer.undo.length - 1];
	return previous ? {...previous, lastEdit: 'other'} : buffer;
}

/** Move to the next occurrence of `term` after the cursor (wrapping); undefined when there is none. */
export function search(buffer: EditBuffer, term: string, backwards = false): EditBuffer | undefined {
	if (!term) return undefined;
	const needle = term.toLowerCase();
	const n = buffer.lines.length;
	for (let step = 0; step <= n; step++) {
		const r = backwards ? (buffer.row - step + n) % n : (buffer.row + step) % n;
		const line = buffer.lines[r].toLowerCase();
		let at: number;
		if (backwards) at = line.lastIndexOf(needle, step === 0 ? buffer.col - 1 : line.length);
		else at = line.indexOf(needle, step === 0 ? buffer.col + 1 : 0);
		if (step === 0 && backwards && buffer.col === 0) at = -1;
		if (at >= 0) return moveTo(buffer, r, at);
	}
	return undefined;
}

export function isModified(buffer: EditBuffer, original: string): boolean {
	return toText(buffer) !== original;
}
