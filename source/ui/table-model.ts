// What a list shows: the feed's objects, filtered and sorted, as rows of
// cells. Pure, so it is tested without a terminal and stays cheap at 10,000
// pods: each object's cells are computed once per version (objects from a
// feed are never mutated, so the object itself is the cache key), and only
// the visible window is rendered afresh (its ages move on).
import type {KubeObject} from '../api/object.js';
import type {ResourceType} from '../api/resources.js';
import {type LabelSelector, matchesLabels, parseLabelSelector} from '../api/selectors.js';
import {rendererFor} from '../render/columns.js';

/** The list filter, as typed after `/`: text or a regex over the row, `-l` a label selector, `!` inverts. */
export type Filter =
	| {kind: 'none'}
	| {kind: 'row'; pattern: RegExp; invert: boolean; text: string}
	| {kind: 'labels'; selector: LabelSelector; text: string};

export function parseFilter(text: string): Filter | {error: string} {
	const trimmed = text.trim();
	if (!trimmed) return {kind: 'none'};
	if (trimmed.startsWith('-l')) {
		try {
			return {kind: 'labels', selector: parseLabelSelector(trimmed.slice(2).trim()), text: trimmed};
		} catch (error) {
			return {error: `filter: ${(error as Error).message}`};
		}
	}
	const invert = trimmed.startsWith('!');
	const body = invert ? trimmed.slice(1) : trimmed;
	return {kind: 'row', pattern: looseRegex(body), invert, text: trimmed};
}

/** Typed text as a case-insensitive regex, as k9s reads filters; text that is not a valid regex is matched literally. */
export function looseRegex(text: string): RegExp {
	try {
		return new RegExp(text, 'i');
	} catch {
		return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
	}
}

export interface Sort {
	/** A column name as the renderer spells it ("Name", "Age", "Status"...). */
	column: string;
	descending: boolean;
}

const cellCache = new WeakMap<KubeObject, string[]>();
const collator = new Intl.Collator(undefined, {numeric: true});

/** The object's cells (kubectl's columns, wide included), computed once per object version. */
export function cellsOf(obj: KubeObject, now: number): string[] {
	let cells = cellCache.get(obj);
	if (!cells) cellCache.set(obj, cells = rendererFor(obj.kind).row(obj, now));
	return cells;
}

/** The columns a list shows (kubectl's without -o wide), with their index in the renderer's row. */
/** The columns a list shows: kubectl's, with its -o wide ones when `wide`. */
export function listColumns(type: ResourceType, wide = false): {name: string; index: number}[] {
	return rendererFor(type.kind).columns.map((c, index) => ({name: c.name, priority: c.priority, index})).filter(c => c.priority === 0 || wide);
}

function matches(filter: Filter, obj: KubeObject, now: number): boolean {
	if (filter.kind === 'none') return true;
	if (filter.kind === 'labels') return matchesLabels(filter.selector, obj.metadata.labels);
	const hit = filter.pattern.test(`${cellsOf(obj, now).join(' ')} ${obj.metadata.namespace ?? ''}`);
	return hit !== filter.invert;
}

function compareBy(type: ResourceType, sort: Sort, now: number): (a: KubeObject, b: KubeObject) => number {
	const index = rendererFor(type.kind).columns.findIndex(c => c.name === sort.column);
	const sign = sort.descending ? -1 : 1;
	if (sort.column === 'Age' || index < 0) {
		// Age sorts by creation time (newest first when ascending, as ages grow), not by its text.
		return (a, b) => sign * ((b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '')) || byName(a, b);
	}
	return (a, b) => sign * collator.compare(cellsOf(a, now)[index] ?? '', cellsOf(b, now)[index] ?? '') || byName(a, b);
}

function byName(a: KubeObject, b: KubeObject): number {
	const an = objectKey(a), bn = objectKey(b);
	return an < bn ? -1 : an > bn ? 1 : 0;
}

/** When an event was last seen (core/v1 lastTimestamp, events.k8s.io's series and eventTime, else its creation). */
const lastSeen = (e: KubeObject): string => {
	const r = e as Record<string, any>;
	return r.series?.lastObservedTime ?? r.lastTimestamp ?? r.eventTime ?? r.firstTimestamp ?? e.metadata.creationTimestamp ?? '';
};

/**
 * The objects the list shows, in order. The feed's order (namespace, name) is kept unless a sort
 * is chosen; events come newest first (their names say nothing of time).
 */
export function visibleObjects(type: ResourceType, items: KubeObject[], filter: Filter, sort: Sort | undefined, now: number): KubeObject[] {
	const kept = filter.kind === 'none' ? items : items.filter(o => matches(filter, o, now));
	if (!sort && type.kind === 'Event') return [...kept].sort((a, b) => lastSeen(b).localeCompare(lastSeen(a)) || byName(a, b));
	if (!sort || (sort.column === 'Name' && !sort.descending)) return kept;
	return [...kept].sort(compareBy(type, sort, now));
}

/** The window of rows to draw so that `selected` is visible, moving as little as possible from `top`. */
export function scrollWindow(selected: number, top: number, height: number, total: number): number {
	const h = Math.max(1, height);
	let next = Math.min(top, Math.max(0, total - h));
	if (selected < next) next = selected;
	if (selected >= next + h) next = selected - h + 1;
	return Math.max(0, next);
}

export function objectKey(obj: KubeObject): string {
	return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/**
 * How useful a column is when the terminal is too narrow for all of them: the
 * least useful go first. Name always stays; what tells the state (status,
 * readiness) and age stay longest, as in kubectl's narrow columns; the rest
 * go right to left.
 */
const keepOrder: Record<string, number> = {Name: 1000, Namespace: 900, Status: 800, Ready: 700, Age: 600, Phase: 590, Type: 500, Restarts: 400, Available: 350, 'Up-to-date': 340, Data: 330, CPU: 300, MEM: 290};

/** "verylongname-abcde" in `width` characters, cut in the middle where names differ least. */
export function shortenMiddle(text: string, width: number): string {
	if (text.length <= width) return text;
	if (width < 3) return text.slice(0, width);
	const tail = Math.floor((width - 1) / 2);
	return `${text.slice(0, width - 1 - tail)}…${text.slice(text.length - tail)}`;
}

export interface FittedTable {
	/** Indexes of the columns kept, in order. */
	kept: number[];
	widths: number[];
	header: string[];
	rows: string[][];
}

/**
 * Fit a table to `width` columns (the row marker's two included) instead of cutting its
 * right end: sparklines give way to their figures, long names are shortened in the middle
 * (to 20, 12, then 8), and the least useful columns are dropped.
 */
export function fitTable(names: string[], header: string[], rows: string[][], width: number): FittedTable {
	const gap = 2;
	let cells = rows;
	let kept = names.map((_, i) => i);
	const nameAt = names.indexOf('Name');
	const natural = (i: number, nameWidth = Infinity) => Math.max(header[i].length, ...cells.map(r => (i === nameAt ? Math.min(nameWidth, r[i].length) : r[i].length)));
	const total = (nameWidth?: number) => 2 + kept.reduce((sum, i, at) => sum + natural(i, nameWidth) + (at === kept.length - 1 ? 0 : gap), 0);
	// The sparklines ("▂▄█ 12m") go first, their figures stay.
	if (total() > width) cells = cells.map(r => r.map((c, i) => (['CPU', 'MEM'].includes(names[i]) ? c.slice(c.lastIndexOf(' ') + 1) : c)));
	let nameWidth = Infinity;
	if (total() > width) nameWidth = Math.max(20, natural(nameAt) - (total() - width));
	const byUse = kept.filter(i => i !== nameAt).sort((a, b) => (keepOrder[names[a]] ?? 100 - a) - (keepOrder[names[b]] ?? 100 - b));
	const dropWhile = (useful: (i: number) => boolean) => {
		while (total(nameWidth) > width && byUse.length > 0 && useful(byUse[0])) {
			const drop = byUse.shift()!;
			kept = kept.filter(i => i !== drop);
		}
	};
	const shrinkName = (least: number) => {
		if (total(nameWidth) > width && nameAt >= 0) nameWidth = Math.max(least, natural(nameAt, nameWidth) - (total(nameWidth) - width));
	};
	// The columns below age go first; then names get shorter still before status, readiness and age go.
	dropWhile(i => (keepOrder[names[i]] ?? 0) < keepOrder.Age);
	shrinkName(12);
	dropWhile(() => true);
	shrinkName(8);
	const widths = kept.map(i => natural(i, nameWidth));
	const shorten = (c: string, i: number) => (i === nameAt ? shortenMiddle(c, nameWidth) : c);
	return {kept, widths, header: kept.map(i => header[i]), rows: cells.map(r => kept.map(i => shorten(r[i], i)))};
}
