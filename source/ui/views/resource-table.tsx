// The list of one kind: kubectl's columns from the shared renderers, the
// selected row highlighted, only the visible window rendered.
import {Box, Text} from 'ink';
import type {KubeObject} from '../../api/object.js';
import type {ResourceType} from '../../api/resources.js';
import {tableRows} from '../../commands/output.js';
import {podStatus} from '../../render/columns.js';

const statusColor: Record<string, string> = {Running: 'green', Completed: 'gray', Succeeded: 'gray', Pending: 'yellow', ContainerCreating: 'yellow', Terminating: 'magenta'};

function colorFor(obj: KubeObject): string | undefined {
	if (obj.kind !== 'Pod') return undefined;
	const status = podStatus(obj);
	return statusColor[status] ?? (/(Error|BackOff|OOMKilled|NotRunnable|Failed)/.test(status) ? 'red' : undefined);
}

export function ResourceTable({type, items, selected, height, allNamespaces}: {type: ResourceType; items: KubeObject[]; selected: number; height: number; allNamespaces: boolean}) {
	const rows = tableRows(type, items, {allNamespaces});
	const widths = rows[0].map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length)) + 2);
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('').trimEnd();
	const visible = Math.max(1, height);
	const top = Math.min(Math.max(0, selected - visible + 1), Math.max(0, items.length - visible));
	return (
		<Box flexDirection="column">
			<Text bold>{`  ${line(rows[0])}`}</Text>
			{items.length === 0 && <Text dimColor>No resources found.</Text>}
			{items.slice(top, top + visible).map((obj, i) => {
				const index = top + i;
				// A marker as well as inverse video, so the selection shows without colour (NO_COLOR).
				return <Text key={`${obj.metadata.namespace}/${obj.metadata.name}`} inverse={index === selected} color={colorFor(obj)}>{`${index === selected ? '>' : ' '} ${line(rows[index + 1])}`}</Text>;
			})}
		</Box>
	);
}
