// A scrollable block of text: describe, YAML (keys coloured) and help.
import {Box, Text} from 'ink';
import type {TextLines} from '../state.js';
import type {Theme} from '../theme.js';
import {yamlSegments} from './editor-view.js';
import {fit, Line} from './fit.js';

export function TextView({title, lines, offset, height, width, theme, yaml, colors}: {title: string; lines: TextLines; offset: number; height: number; width: number; theme: Theme; yaml?: boolean; colors?: TextLines<string | undefined>}) {
	const top = Math.max(0, Math.min(offset, lines.length - height));
	const tints = colors?.slice(top, top + height);
	return (
		<Box flexDirection="column">
			<Text bold color={theme.accent}>{fit(`${title}${lines.length > height ? `  (${top + 1}-${Math.min(lines.length, top + height)} of ${lines.length})` : ''}`, width)}</Text>
			{lines.slice(top, top + height).map((l, i) => (yaml ? <Line key={top + i} width={width} segments={yamlSegments(l, theme)} /> : <Text key={top + i} color={tints?.[i]}>{fit(l, width) || ' '}</Text>))}
		</Box>
	);
}
