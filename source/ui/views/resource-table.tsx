// The list of one kind: kubectl's columns from the shared renderers, the
// selected row marked, the sort column flagged in the header. Only the
// visible window is rendered (with fresh ages); column widths come from it.
import {Box, Text} from 'ink';
import type {KubeObject} from '../../api/object.js';
import type {ResourceType} from '../../api/resources.js';
import {podStatus, rendererFor} from '../../render/columns.js';
import {fitTable, listColumns, objectKey, type Sort} from '../table-model.js';
import {statusColor, type Theme} from '../theme.js';
import {fit} from './fit.js';

function colorFor(theme: Theme, obj: KubeObject, cells: string[], statusIndex: number): string | undefined {
	if (obj.kind === 'Pod') return statusColor(theme, podStatus(obj));
	if (obj.metadata.deletionTimestamp) return theme.status.Terminating;
	return statusIndex >= 0 ? statusColor(theme, cells[statusIndex]) : undefined;
}

/** Extra columns after kubectl's (the pods list's CPU and MEM sparklines). */
export interface ExtraColumns {
	names: string[];
	cells(obj: KubeObject): string[];
}

export function ResourceTable({type, items, top, selected, height, width, allNamespaces, sort, theme, extra, wide = false, marked}: {
	type: ResourceType; items: KubeObject[]; top: number; selected: number; height: number; width: number; allNamespaces: boolean; sort?: Sort; theme: Theme; extra?: ExtraColumns;
	wide?: boolean; marked?: ReadonlySet<string>;
}) {
	const renderer = rendererFor(type.kind);
	const shown = listColumns(type, wide);
	const now = Date.now();
	const window = items.slice(top, top + Math.max(1, height));
	const withNs = allNamespaces && type.namespaced;
	const names = [...(withNs ? ['Namespace'] : []), ...shown.map(c => c.name), ...(extra?.names ?? [])];
	const fullHeader = names.map(n => `${n.toUpperCase()}${sort?.column === n ? (sort.descending ? '↓' : '↑') : ''}`);
	const statusIndex = renderer.columns.findIndex(c => c.name === 'Status');
	const full = window.map(obj => {
		const all = renderer.row(obj, now);
		return {obj, all, cells: [...(withNs ? [obj.metadata.namespace ?? ''] : []), ...shown.map(c => all[c.index] ?? ''), ...(extra?.cells(obj) ?? [])]};
	});
	// Too narrow for every column: fit by priority rather than cutting the right end.
	const fitted = fitTable(names, fullHeader, full.map(r => r.cells), width);
	const header = fitted.header;
	const rows = full.map((r, i) => ({...r, cells: fitted.rows[i]}));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(fitted.widths[i] + 2)).join('').trimEnd();
	return (
		<Box flexDirection="column">
			<Text bold color={theme.text}>{fit(`  ${line(header)}`, width)}</Text>
			{items.length === 0 && <Text color={theme.muted}>No resources found.</Text>}
			{rows.map(({obj, all, cells}, i) => {
				const isSelected = top + i === selected;
				const isMarked = marked?.has(objectKey(obj));
				// A marker as well as inverse video, so the selection shows without colour (NO_COLOR); * for a marked row.
				return <Text key={objectKey(obj)} inverse={isSelected} bold={theme.bold || isMarked} color={isMarked ? theme.accent : colorFor(theme, obj, all, statusIndex)}>{fit(`${isSelected ? '>' : ' '}${isMarked ? '*' : ' '}${line(cells)}`, width)}</Text>;
			})}
		</Box>
	);
}
