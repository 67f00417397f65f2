// What surrounds the body of the screen: the header (where you are, counts,
// the dashboard's own memory), the pane bar, a confirmation dialog, the
// prompt, the status line and the footer. Views only: they render props.
import {Box, Text} from 'ink';
import {objectRef, type ResourceType} from '../../api/resources.js';
import type {KubeObject} from '../../api/object.js';
import {panes} from '../panes.js';
import type {Sort} from '../table-model.js';
import type {LineState} from '../keys/dialogs.js';
import type {Theme} from '../theme.js';
import {fit, Line} from './fit.js';

export function Header({width, theme, readonly, where, namespace, type, state, nodes, pods, memoryMb, pane, shown, total, filter, sort}: {
	width: number; theme: Theme; readonly: boolean; where: string; namespace: string | undefined; type: ResourceType; state: string;
	nodes: string; pods: string; memoryMb: number; pane: number; shown: number; total: number; filter: string; sort?: Sort;
}) {
	const kinds = panes[pane].kinds;
	return (
		<>
			<Line width={width} segments={[
				{text: 'kubedeck', bold: true, color: theme.accent}, readonly && {text: ' [read-only]', color: theme.warning},
				` ${where}  ns: `, {text: namespace ?? 'all', bold: true}, '  view: ', {text: type.plural, bold: true}, '  ',
				{text: `● ${state}`, color: state === 'live' ? theme.ok : theme.warning}, `  nodes: ${nodes}  pods: ${pods}  mem: ${memoryMb} MB`,
			]} />
			<Line width={width} segments={[
				...panes.map((p, i) => ({text: ` ${p.title} `, inverse: i === pane, color: i === pane ? theme.accent : theme.muted})),
				{text: `  ${kinds.length > 1 ? kinds.map(k => (k.plural === type.plural ? `[${k.plural}]` : k.plural)).join(' ') : ''}  ${shown}/${total}${filter ? `  /${filter}` : ''}${sort ? `  sort: ${sort.column}${sort.descending ? '↓' : '↑'}` : ''}`, color: theme.muted},
			]} />
		</>
	);
}

export type ConfirmVerb = 'delete' | 'kill' | 'rollback' | 'restart';
const confirmActions: Record<ConfirmVerb, string> = {delete: 'Delete', kill: 'Kill (no grace period)', rollback: 'Roll back', restart: 'Restart'};

/** A destructive action's question: Cancel first, or the object's name to type under type-the-name protection. */
export function ConfirmDialog({theme, verb, type, targets, choice, typeName, typed, width}: {theme: Theme; verb: ConfirmVerb; type: ResourceType; targets: KubeObject[]; choice: 'cancel' | 'ok'; typeName: boolean; typed: string; width: number}) {
	const action = confirmActions[verb];
	const [target] = targets;
	const namespaces = [...new Set(targets.map(t => t.metadata.namespace).filter(Boolean))];
	// Several marked objects: one question that names them all.
	const what = targets.length === 1 ? objectRef(type, target.metadata.name!) : fit(`${targets.length} ${type.plural} (${targets.map(t => t.metadata.name).join(', ')})`, Math.max(20, width - 40));
	return (
		<Box borderStyle="round" borderColor={theme.error} paddingX={1} flexDirection="column">
			<Text>{action} {what}{namespaces.length === 1 ? ` in namespace ${namespaces[0]}` : ''}?{typeName ? '' : <>  <Text inverse={choice === 'cancel'}> Cancel </Text>  <Text inverse={choice === 'ok'} color={theme.error}> {action} </Text></>}</Text>
			{typeName && <Text>Type {targets.length === 1 ? 'the name' : `${targets.length}`} to confirm: {typed}<Text inverse> </Text>  (esc cancels)</Text>}
		</Box>
	);
}

/** A prompt line: a prefilled value shown selected (typing replaces it), else the text with the cursor on its character. */
export function Prompt({width, label, line}: {width: number; label: string; line: LineState}) {
	const {text, cursor, selected} = line;
	if (selected) return <Text>{label}<Text inverse>{fit(text, Math.max(1, width - label.length - 1))}</Text></Text>;
	// Long text: keep the cursor on screen by showing the end that holds it.
	const room = Math.max(1, width - label.length - 1);
	const from = Math.max(0, cursor - room + 1);
	const shown = text.slice(from, from + room);
	const at = cursor - from;
	return <Text>{label}{shown.slice(0, at)}<Text inverse>{shown[at] ?? ' '}</Text>{shown.slice(at + 1)}</Text>;
}

export function StatusLine({width, theme, text, tone}: {width: number; theme: Theme; text: string; tone: 'info' | 'error' | 'busy'}) {
	return <Text color={tone === 'error' ? theme.error : tone === 'busy' ? theme.warning : theme.muted}>{fit(text, width) || ' '}</Text>;
}

/** The keys that work here; `pinned` (help, quit) always shows at the right end. */
export function Footer({width, theme, text, pinned = ''}: {width: number; theme: Theme; text: string; pinned?: string}) {
	if (!pinned) return <Text color={theme.muted}>{fit(text, width)}</Text>;
	const room = width - pinned.length - 2;
	const left = room > 0 ? fit(text, room) : '';
	return <Text color={theme.muted}>{left.padEnd(Math.max(0, room))}{room > 0 ? '  ' : ''}<Text bold>{fit(pinned, width)}</Text></Text>;
}
