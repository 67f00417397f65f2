// The log pane: draws only the rows that fit, from the bottom when
// following, from `top` otherwise; search matches highlighted, the stream's
// state and the count of lines not in memory always on its title line.
import {Box, Text} from 'ink';
import type {ReactNode} from 'react';
import type {LogSession} from '../logs/log-session.js';
import {renderJsonLine, wrapRows} from '../logs/log-buffer.js';
import {looseRegex} from '../table-model.js';
import type {Theme} from '../theme.js';
import {fit, Line} from './fit.js';

export interface LogViewState {
	/** Index (into the shown lines) of the first row drawn when not following. */
	top: number;
	follow: boolean;
	wrap: boolean;
	timestamps: boolean;
	json: boolean;
	search?: string;
	/** Hide lines that do not match (less's `&`). */
	filter?: string;
	/** What the user is typing after `/` or `&`. */
	typing?: {purpose: 'search' | 'filter'; text: string};
}

export function initialLogView(): LogViewState {
	return {top: 0, follow: true, wrap: false, timestamps: false, json: false};
}

export function patternOf(text: string | undefined): RegExp | undefined {
	return text ? looseRegex(text) : undefined;
}

/** The buffer indexes the pane shows, and where the window starts. */
export function logWindow(session: LogSession, view: LogViewState, height: number): {indexes: number[]; top: number} {
	const indexes = session.buffer.indexes(patternOf(view.filter));
	const maxTop = Math.max(0, indexes.length - height);
	return {indexes, top: view.follow ? maxTop : Math.min(view.top, maxTop)};
}

function highlight(text: string, pattern: RegExp | undefined): ReactNode {
	if (!pattern) return text;
	const global = new RegExp(pattern.source, 'gi');
	const parts: ReactNode[] = [];
	let last = 0;
	for (const m of text.matchAll(global)) {
		if (!m[0]) break;
		parts.push(text.slice(last, m.index), <Text key={m.index} inverse>{m[0]}</Text>);
		last = m.index! + m[0].length;
	}
	parts.push(text.slice(last));
	return parts;
}

const levelColor = (theme: Theme, level: string | undefined) => (level === 'ERROR' || level === 'FATAL' ? theme.error : level === 'WARN' || level === 'WARNING' ? theme.warning : undefined);

export function LogView({title, session, view, height, width, theme}: {title: string; session: LogSession; view: LogViewState; height: number; width: number; theme: Theme}) {
	const bodyHeight = Math.max(1, height - 1);
	const {indexes, top} = logWindow(session, view, bodyHeight);
	const sources = [...new Set(session.targets.map(t => t.source))];
	const search = patternOf(view.search);
	const rows: ReactNode[] = [];
	const lineAt = (i: number) => {
		const line = session.buffer.at(indexes[i])!;
		const rendered = view.json ? renderJsonLine(line.text) : {text: line.text};
		const prefix = `${line.source ? `${line.source} ` : ''}${view.timestamps && line.ts ? `${line.ts} ` : ''}`;
		// Cut to the width here (see fit.tsx): a log line must never reach Ink wider than the pane.
		return {line, rendered, parts: wrapRows(prefix + rendered.text, width, view.wrap).map(part => fit(part, width))};
	};
	// Following with wrap on: lines take several rows, so the window starts as many lines up from
	// the newest as fill the pane (counting lines, the newest would fall below the screen).
	let first = top;
	if (view.follow && view.wrap) {
		let used = 0;
		first = indexes.length;
		while (first > 0) {
			const n = lineAt(first - 1).parts.length;
			if (used > 0 && used + n > bodyHeight) break;
			used += n;
			first--;
		}
	}
	// With a single line taller than the pane, its last rows are the ones shown.
	let skip = 0;
	if (view.follow && view.wrap && first === indexes.length - 1) skip = Math.max(0, lineAt(first).parts.length - bodyHeight);
	// Build rows from the window's lines; with wrap on a line may take several rows.
	for (let i = first; i < indexes.length && rows.length < bodyHeight; i++) {
		const {line, rendered, parts: all} = lineAt(i);
		const offset = i === first ? skip : 0;
		const parts = offset ? all.slice(offset) : all;
		parts.forEach((part, k) => {
			const j = k + offset;
			if (rows.length >= bodyHeight) return;
			const sourceColor = theme.logPrefixes.length ? theme.logPrefixes[sources.indexOf(line.source) % theme.logPrefixes.length] : undefined;
			const body = j === 0 && line.source ? <><Text color={sourceColor}>{part.slice(0, line.source.length)}</Text>{highlight(part.slice(line.source.length), search)}</> : highlight(part, search);
			rows.push(<Text key={`${indexes[i]}-${j}`} color={levelColor(theme, 'level' in rendered ? rendered.level : undefined)}>{body}</Text>);
		});
	}
	const state = session.displayState;
	const stateColor = state === 'streaming' ? theme.ok : state === 'error' ? theme.error : theme.warning;
	const flags = [view.follow ? 'following' : 'paused', view.wrap && 'wrap', view.timestamps && 'timestamps', view.json && 'json', view.filter && `&${view.filter}`, view.search && `/${view.search}`].filter(Boolean).join(' · ');
	const dropped = session.buffer.dropped;
	return (
		<Box flexDirection="column">
			<Line width={width} segments={[
				{text: title, bold: true, color: theme.accent}, '  ',
				{text: `● ${state}${session.error ? `: ${session.error}` : ''}`, color: stateColor}, '  ',
				{text: `${flags}  ${indexes.length} line${indexes.length === 1 ? '' : 's'}${dropped ? `, ${dropped} earlier not in memory (scroll up to read back)` : ''}`, color: theme.muted},
			]} />
			{rows.length === 0 ? <Text color={theme.muted}>{state === 'connecting' ? 'connecting…' : 'no log lines yet'}</Text> : rows}
			{view.typing && <Text>{fit(`${view.typing.purpose === 'search' ? '/' : '&'}${view.typing.text}`, width - 1)}<Text inverse> </Text></Text>}
		</Box>
	);
}
