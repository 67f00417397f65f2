// Navigation history, as k9s keeps it: every view the user opens (a kind in
// a namespace, with its filter, sort and selection) is a step; Esc goes back
// one step, H lists the latest steps to jump to, and the breadcrumb shows the
// trail. Pure data and functions: the App holds one History and renders it.
import type {ResourceType} from '../api/resources.js';
import type {Sort} from './table-model.js';

export interface View {
	type: ResourceType;
	/** undefined: all namespaces. */
	namespace: string | undefined;
	/** The filter in effect. */
	filter: string;
	/** The filter the view was opened with (Enter on a Deployment opens its pods with `-l app=web`). */
	entryFilter: string;
	sort?: Sort;
	/** objectKey of the selected row. */
	selected?: string;
	/** First row on screen. */
	top: number;
}

/** Earlier views, oldest first; the current view is not in it. */
export type History = readonly View[];

/** How many earlier views are kept (H shows them all). */
export const historyLimit = 20;

export function pushView(history: History, view: View): History {
	const next = [...history, view];
	return next.length > historyLimit ? next.slice(next.length - historyLimit) : next;
}

/**
 * What Esc does on a list: a filter typed in this view is cleared first (back to the one the
 * view came with); then the previous view comes back. undefined: nothing to go back to.
 */
export function back(history: History, current: View): {history: History; view: View} | undefined {
	if (current.filter !== current.entryFilter) return {history, view: {...current, filter: current.entryFilter}};
	if (history.length === 0) return undefined;
	return {history: history.slice(0, -1), view: history[history.length - 1]};
}

/** Jump to the view `index` of H's list (newest first): the views after it are dropped, as going back that far would. */
export function jump(history: History, index: number): {history: History; view: View} | undefined {
	const at = history.length - 1 - index;
	if (at < 0 || at >= history.length) return undefined;
	return {history: history.slice(0, at), view: history[at]};
}

/** "pods@default -l app=web": one view in words. */
export function viewLabel(view: View): string {
	const where = view.type.namespaced ? `@${view.namespace ?? 'all'}` : '';
	return `${view.type.plural}${where}${view.filter ? ` /${view.filter}` : ''}`;
}

/** The trail, oldest first, ending with the current view: "namespaces › deployments@dev › pods@dev /-l app=web". */
export function breadcrumb(history: History, current: View, width = Infinity): string {
	const labels = [...history, current].map(viewLabel);
	// Too long: the oldest steps give way first; the current view always shows.
	for (let from = 0; from < labels.length; from++) {
		const text = `${from > 0 ? '… › ' : ''}${labels.slice(from).join(' › ')}`;
		if (text.length <= width || from === labels.length - 1) return text;
	}
	return '';
}

/** H's list: newest first. */
export function historyLines(history: History): string[] {
	return [...history].reverse().map(viewLabel);
}
