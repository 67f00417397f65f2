// The log pane's keys (less habits: space, /, n, N, &, g, G; k9s's w, t, c,
// p), for a pane shown full screen or beside the list in the split view.
import type {KubeObject} from '../../api/object.js';
import type {KeyPress} from '../hooks/use-key-queue.js';
import {editLine} from './dialogs.js';
import {commandIn, type KeyCommand} from '../keymap.js';
import type {LogSession, LogTarget} from '../logs/log-session.js';
import {looseRegex} from '../table-model.js';
import {logWindow, type LogViewState} from '../views/log-view.js';

/** A log pane's stream and how it is viewed: full screen (mode logs) or beside the list (split view). */
export interface LogPane {
	title: string;
	session: LogSession;
	view: LogViewState;
	targets: LogTarget[];
	previous: boolean;
	containers: string[];
}

export interface LogKeysContext {
	commands: KeyCommand[];
	/** Rows of log lines on screen. */
	height: number;
	setStatus(text: string, tone?: 'info' | 'error'): void;
	findPod(namespace: string, name: string): KubeObject | undefined;
	/** Open the same pane again on another container or instance (the old session is stopped first). */
	reopen(pod: KubeObject, previous: boolean, container: string | undefined): void;
	/** The session's work, done by the caller's effects: older lines read back, the buffer trimmed, the stream stopped. */
	readBack(session: LogSession, rows: number): void;
	trim(session: LogSession): void;
	stop(session: LogSession): void;
	/** Write the pane's lines to a file under KUBEDECK_DUMP_DIR. */
	saveToFile(pane: LogPane): void;
}

/** Keys for a log pane, full screen or in the split view; `update` replaces the pane (undefined closes it). */
export function logsKey(ctx: LogKeysContext, mode: LogPane, update: (pane: LogPane | undefined) => void, input: string, key: KeyPress, name: string): void {
	const {commands, height, setStatus} = ctx;
	const view = mode.view;
	const setView = (next: Partial<LogViewState>) => update({...mode, view: {...view, ...next}});
	if (view.typing) {
		if (name === 'escape') return setView({typing: undefined});
		if (name === 'return') return setView({typing: undefined, [view.typing.purpose]: view.typing.text || undefined, ...(view.typing.purpose === 'search' ? jumpToMatch(ctx, mode, view.typing.text, 1) : {})});
		const text = editLine(view.typing.text, input, key);
		if (text !== undefined) setView({typing: {...view.typing, text}});
		return;
	}
	const command = commandIn(commands, 'logs', name);
	const {indexes, top} = logWindow(mode.session, view, height);
	const scrollTo = (next: number) => {
		const clamped = Math.max(0, Math.min(next, Math.max(0, indexes.length - height)));
		// Scrolled to the very top with lines not in memory: read them back from the engine.
		if (next < 0 && !view.filter) ctx.readBack(mode.session, height);
		setView({top: clamped, follow: clamped >= indexes.length - height && view.follow});
	};
	switch (command) {
		// Esc clears an & filter first (as it clears a list's filter), then closes the pane.
		case 'nav.back': return view.filter ? setView({filter: undefined}) : update(undefined);
		case 'nav.up': return scrollTo(top - 1);
		case 'nav.down': return scrollTo(top + 1);
		case 'nav.pageUp': return scrollTo(top - height);
		case 'nav.pageDown': return scrollTo(top + height);
		case 'nav.top': return scrollTo(-1);
		case 'nav.bottom': return setView({follow: true});
		case 'logs.follow':
			if (!view.follow) ctx.trim(mode.session);
			return setView({follow: !view.follow, top});
		case 'logs.wrap': return setView({wrap: !view.wrap});
		case 'logs.timestamps': return setView({timestamps: !view.timestamps});
		case 'logs.json': return setView({json: !view.json});
		case 'logs.search': return setView({typing: {purpose: 'search', text: view.search ?? ''}});
		case 'logs.filter': return setView({typing: {purpose: 'filter', text: view.filter ?? ''}});
		case 'logs.next': return setView(jumpToMatch(ctx, mode, view.search, 1));
		case 'logs.previousMatch': return setView(jumpToMatch(ctx, mode, view.search, -1));
		case 'logs.previous':
		case 'logs.container': {
			if (mode.targets.length !== 1) return setStatus('logs: one pod at a time for that', 'error');
			const t = mode.targets[0];
			const pod = ctx.findPod(t.namespace, t.pod);
			if (!pod) return setStatus('logs: the pod is gone', 'error');
			ctx.stop(mode.session);
			if (command === 'logs.previous') return ctx.reopen(pod, !mode.previous, t.container);
			return ctx.reopen(pod, mode.previous, mode.containers[(mode.containers.indexOf(t.container ?? '') + 1) % mode.containers.length]);
		}
		case 'logs.save': return ctx.saveToFile(mode);
	}
}

/**
 * The view scrolled to the next (or previous) line matching the search. A
 * match is shown on the pane's second row (one line of context above it), so
 * the search goes on from that row.
 */
function jumpToMatch(ctx: LogKeysContext, mode: LogPane, search: string | undefined, direction: 1 | -1): Partial<LogViewState> {
	if (!search) return {};
	const {indexes, top} = logWindow(mode.session, mode.view, ctx.height);
	const regex = looseRegex(search);
	const current = Math.min(top + 1, indexes.length - 1);
	for (let step = 1; step <= indexes.length; step++) {
		const i = (current + direction * step + indexes.length * 2) % indexes.length;
		if (regex.test(mode.session.buffer.at(indexes[i])!.text)) return {top: Math.max(0, i - 1), follow: false};
	}
	ctx.setStatus(`not found: ${search}`, 'error');
	return {};
}
