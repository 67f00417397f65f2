// The split view's frame: the list on the left, a log pane (or a hint) on
// the right, the side that has the keys marked by its border and an arrow.
import {Box, Text} from 'ink';
import type {ReactNode} from 'react';
import type {LogPane} from '../keys/logs.js';
import type {Theme} from '../theme.js';
import {fit} from './fit.js';
import {LogView} from './log-view.js';

/** The left side's width for a terminal this wide. */
export const splitLeftWidth = (columns: number) => Math.floor(columns * 0.45);

export function SplitView({columns, height, theme, focus, pane, list}: {columns: number; height: number; theme: Theme; focus: 'list' | 'logs'; pane?: LogPane; list: ReactNode}) {
	const left = splitLeftWidth(columns);
	const right = columns - left - 2;
	return (
		<Box flexDirection="row">
			<Box width={left} flexDirection="column" borderStyle="single" borderColor={focus === 'list' ? theme.accent : theme.muted} borderTop={false} borderBottom={false} borderLeft={false}>{list}</Box>
			<Box flexGrow={1} flexDirection="column" paddingLeft={1}>
				{pane
					? <LogView title={`${focus === 'logs' ? '▶ ' : ''}${pane.title}`} session={pane.session} view={pane.view} height={height} width={right} theme={theme} />
					: <Text color={theme.muted}>{fit('Select a pod or a workload to see its logs here.', right)}</Text>}
			</Box>
		</Box>
	);
}
