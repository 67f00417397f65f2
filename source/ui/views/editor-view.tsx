// The inline editor: the visible window of the buffer with line numbers, the
// cursor, YAML keys coloured, and each error drawn under the line it belongs
// to, so the buffer and the reason it was refused are on one screen.
import {Box, Text} from 'ink';
import type {EditBuffer} from '../editor/buffer.js';
import type {LineError} from '../editor/errors.js';
import type {Theme} from '../theme.js';

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

function YamlLine({text, theme}: {text: string; theme: Theme}) {
	const m = /^(\s*-?\s*)([^:#\s][^:#]*?)(:)(\s.*|)$/.exec(text);
	if (!m) return <Text>{text || ' '}</Text>;
	return <Text>{m[1]}<Text color={theme.yamlKey}>{m[2]}</Text>{m[3]}{m[4]}</Text>;
}

export function editorTop(state: EditorState, height: number): number {
	const {row} = state.buffer;
	if (row < state.top) return row;
	if (row >= state.top + height) return row - height + 1;
	return state.top;
}

export function EditorView({state, height, theme}: {state: EditorState; height: number; theme: Theme}) {
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
		if (i === buffer.row) {
			const col = buffer.col;
			rows.push(<Text key={i} wrap="truncate-end"><Text color={lineErrors.length ? theme.error : theme.muted}>{gutter}</Text>{line.slice(0, col)}<Text inverse>{line[col] ?? ' '}</Text>{line.slice(col + 1)}</Text>);
		} else {
			rows.push(<Text key={i} wrap="truncate-end"><Text color={lineErrors.length ? theme.error : theme.muted}>{gutter}</Text><YamlLine text={line} theme={theme} /></Text>);
		}
		for (const e of lineErrors) {
			if (rows.length < bodyHeight) rows.push(<Text key={`${i}-e-${rows.length}`} color={theme.error} wrap="truncate-end">{' '.repeat(numberWidth + 2)}└─ {e.message}</Text>);
		}
	}
	const modified = state.buffer.lines.join('\n') + '\n' !== state.original;
	return (
		<Box flexDirection="column">
			<Text bold color={theme.accent} wrap="truncate-end">{state.title}{modified ? ' [modified]' : ''}  <Text color={theme.muted}>line {buffer.row + 1}, col {buffer.col + 1}</Text></Text>
			{state.conflict && (
				<Box flexDirection="column">
					<Text color={theme.warning} bold>Conflict: the object changed on the server since you opened it. ctrl+r reloads theirs (your edits are lost), ctrl+o saves yours over it.</Text>
					{state.conflict.summary.map(s => <Text key={s} color={theme.warning} wrap="truncate-end">  {s}</Text>)}
				</Box>
			)}
			{errors.length > 0 && <Text color={theme.error} wrap="truncate-end">{errors.length === 1 ? errors[0].message : `${errors.length} errors, marked ✗ below`}</Text>}
			{rows}
			{state.typingSearch !== undefined && <Text>search: {state.typingSearch}<Text inverse> </Text></Text>}
			{state.confirmDiscard && <Text color={theme.warning}>Unsaved changes: esc again discards them, ctrl+s saves.</Text>}
		</Box>
	);
}
