// A scrollable block of text: describe, YAML and help.
import {Box, Text} from 'ink';
import type {Theme} from '../theme.js';

export function TextView({title, lines, offset, height, theme}: {title: string; lines: string[]; offset: number; height: number; theme: Theme}) {
	const top = Math.max(0, Math.min(offset, lines.length - height));
	return (
		<Box flexDirection="column">
			<Text bold color={theme.accent} wrap="truncate-end">{title}{lines.length > height ? `  (${top + 1}-${Math.min(lines.length, top + height)} of ${lines.length})` : ''}</Text>
			{lines.slice(top, top + height).map((l, i) => <Text key={top + i} wrap="truncate-end">{l || ' '}</Text>)}
		</Box>
	);
}
