// The inline editor: the visible window of the buffer with line numbers, the
// cursor, YAML keys coloured, and each error drawn under the line it belongs
// to, so the buffer and the reason it was refused are on one screen.
import {Box, Text} from 'ink';
import {type EditBuffer, isModified} from '../editor/buffer.js';
import type {LineError} from '../editor/errors.js';
import type {Theme} from '../theme.js';
import {fit, Line} from './fit.js';

export interface EditorState {
	title: string;
	buffer: EditBuffer;
	/** The text as opened (or last saved), to know whether there are changes. */
	original: string;
	/** create: a new object (templates, duplicates); update: an existing one. */
	purpose: 'create' | 'update';
	errors: LineError[];
	/** After a 409: what changed on the server, and the keys that resolve it. */
	conflict?: {summary: string[]; latest: string};
	search?: string;
	typingSearch?: string;
	/** First buffer line drawn. */
	top: number;
	/** esc pressed once with unsaved changes: a second esc discards them. */
	confirmDiscard?: boolean;
}

/** A YAML line with its key coloured (the YAML view and the editor). */
export function yamlSegments(text: string, theme: Theme) {
	const m = /^(\s*-?\s*)([^:#\s][^:#]*?)(:)(\s.*|)$/.exec(text);
	if (!m) return [text || ' '];
	return [m[1], {text: m[2], color: theme.yamlKey}, m[3] + m[4]];
}

export function editorTop(state: EditorState, height: number): number {
	const {row} = state.buffer;
	if (row < state.top) return row;
	if (row >= state.top + height) return row - height + 1;
	return state.top;
}

export function EditorView({state, height, width, theme}: {state: EditorState; height: number; width: number; theme: Theme}) {
	const {buffer, errors} = state;
	const banner = state.conflict ? state.conflict.summary.length + 1 : 0;
	const bodyHeight = Math.max(3, height - 2 - banner - (errors.length ? 1 : 0));
	const top = editorTop(state, bodyHeight);
	const numberWidth = String(buffer.lines.length).length;
	const rows = [];
	for (let i = top; i < buffer.lines.length && rows.length < bodyHeight; i++) {
		const line = buffer.lines[i];
		const lineErrors = errors.filter(e => e.line === i);
		const gutter = `${lineErrors.length ? '✗' : ' '}${String(i + 1).padStart(numberWidth)} `;
		const gutterSegment = {text: gutter, color: lineErrors.length ? theme.error : theme.muted};
		if (i === buffer.row) {
			// The cursor's line scrolls sideways so the cursor stays on screen.
			const col = buffer.col;
			const room = Math.max(1, width - gutter.length - 1);
			const from = Math.max(0, col - room + 1);
			rows.push(<Line key={i} width={width} segments={[gutterSegment, line.slice(from, col), {text: line[col] ?? ' ', inverse: true}, line.slice(col + 1)]} />);
		} else {
			rows.push(<Line key={i} width={width} segments={[gutterSegment, ...yamlSegments(line, theme)]} />);
		}
		for (const e of lineErrors) {
			if (rows.length < bodyHeight) rows.push(<Text key={`${i}-e-${rows.length}`} color={theme.error}>{fit(`${' '.repeat(numberWidth + 2)}└─ ${e.message}`, width)}</Text>);
		}
	}
	const modified = isModified(state.buffer, state.original);
	return (
		<Box flexDirection="column">
			<Line width={width} segments={[{text: `${state.title}${modified ? ' [modified]' : ''}`, bold: true, color: theme.accent}, '  ', {text: `line ${buffer.row + 1}, col ${buffer.col + 1}`, color: theme.muted}]} />
			{state.conflict && (
				<Box flexDirection="column">
					<Text color={theme.warning} bold>Conflict: the object changed on the server since you opened it. ctrl+r reloads theirs (your edits are lost), ctrl+o saves yours over it.</Text>
					{state.conflict.summary.map(s => <Text key={s} color={theme.warning}>{fit(`  ${s}`, width)}</Text>)}
				</Box>
			)}
			{errors.length > 0 && <Text color={theme.error}>{fit(errors.length === 1 ? errors[0].message : `${errors.length} errors, marked ✗ below`, width)}</Text>}
			{rows}
			{state.typingSearch !== undefined && <Text>search: {state.typingSearch}<Text inverse> </Text></Text>}
			{state.confirmDiscard && <Text color={theme.warning}>Unsaved changes: esc again discards them, ctrl+s saves.</Text>}
		</Box>
	);
}
