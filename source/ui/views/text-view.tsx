// A scrollable block of text: describe, YAML and logs.
import {Box, Text} from 'ink';

export function TextView({title, lines, offset, height}: {title: string; lines: string[]; offset: number; height: number}) {
	const top = Math.max(0, Math.min(offset, lines.length - height));
	return (
		<Box flexDirection="column">
			<Text bold color="cyan">{title}</Text>
			{lines.slice(top, top + height).map((l, i) => <Text key={top + i} wrap="truncate-end">{l || ' '}</Text>)}
		</Box>
	);
}
