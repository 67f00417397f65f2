// The dashboard: one screen switch and one key dispatcher. Views only render;
// what is on screen lives in `mode` (held in a ref as well, so keys typed
// faster than React renders never see a stale mode); lists come from feeds
// (list + watch); editing, logs and list shaping are the pure models beside
// this file. Every action reports its result on the status line.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {Box, useApp, useStdin, useStdout} from 'ink';
import {useEffect, useMemo, useRef, useState, useSyncExternalStore} from 'react';
import {formatStatus, StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {objectRef, resolveType, resourceTypes, type ResourceType, typeForKind} from '../api/resources.js';
import type {ClusterClient} from '../client/types.js';
import {podStatus} from '../render/columns.js';
import {formatCores, formatMebibytes} from '../render/format.js';
import * as B from './editor/buffer.js';
import {saveBuffer} from './editor/save.js';
import {duplicateOf, templateFor, templateKinds, withoutServerFields} from './editor/templates.js';
import {deploymentDetails, followRollout} from './details.js';
import {type FeedSnapshot, ResourceFeed} from './feed.js';
import {type KeyPress, useKeyQueue} from './hooks/use-key-queue.js';
import {confirmKey, editPrompt, lineOf, type LineState, recall, scrollOffset} from './keys/dialogs.js';
import {editorKey} from './keys/editor.js';
import {type LogKeysContext, logsKey, type LogPane} from './keys/logs.js';
import {MetricsHistory, sparkline} from './metrics-history.js';
import {commandIn, defaultKeyCommands, deleteKeyHint, helpLines, keyCommandsWith, keyName, type Scope} from './keymap.js';
import {logPaneFor, maskSecret, podSelectorOf} from './objects.js';
import {type Completion, commonPrefix, completionsFor, nearest, pathCandidates, withWord} from './completion.js';
import {back, breadcrumb, type History, historyLines, jump, pushView, type View} from './navigation.js';
import {paneOf, panes} from './panes.js';
import {forwardTarget, PortForwards} from './port-forward.js';
import {Prefs} from './prefs.js';
import {type Filter, listColumns, objectKey, parseFilter, scrollWindow, type Sort, visibleObjects} from './table-model.js';
import {builtinThemes, initialTheme, loadTheme, statusColor, type Theme} from './theme.js';
import {xrayKinds, xrayLines, type XrayObjects} from './xray.js';
import {Pulses, pulsesLines} from './pulses.js';
import {EditorView, type EditorState} from './views/editor-view.js';
import {LogView} from './views/log-view.js';
import {type ExtraColumns, ResourceTable} from './views/resource-table.js';
import {ConfirmDialog, type ConfirmVerb, Footer, Header, Prompt, StatusLine} from './views/chrome.js';
import {SplitView, splitLeftWidth} from './views/split-view.js';
import {Line} from './views/fit.js';
import {TextView} from './views/text-view.js';
import {applyManifests} from '../client/operations/apply.js';
import {CliError} from '../client/errors.js';
import {describeObject} from '../render/describe.js';
import {eventsFor} from '../client/operations/events.js';
import {readManifests} from '../client/operations/manifests.js';
import {toYaml} from '../render/yaml.js';
import {rolloutRestart, rolloutUndo} from '../client/operations/rollout.js';

const examplesDir = fileURLToPath(new URL('../../../examples', import.meta.url));
/** Checked once: the offer is asked about on every frame. */
const haveExamples = fs.existsSync(examplesDir);
const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));
/** How long a deleted object can be restored with U. */
const restoreWindowMs = 60_000;

type Rec = Record<string, any>;
type PromptPurpose = 'command' | 'filter' | 'scale' | 'new' | 'forward' | 'container';
/** Where up/down stands in a prompt's history: how many entries back, and the line typed before. */
type Recall = {back?: number; draft?: string};
/** A prompt's mode; a prefilled value starts selected, so what is typed replaces it. */
const promptMode = (purpose: PromptPurpose, text = '', target?: KubeObject, targets?: KubeObject[]): Mode => ({kind: 'input', purpose, target, targets, initial: text, ...lineOf(text, true)});

/** A question before a destructive action, over one object or the marked ones (the first is `target`). */
type Confirm = {kind: 'confirm'; verb: ConfirmVerb; type: ResourceType; target: KubeObject; targets: KubeObject[]; choice: 'cancel' | 'ok'; typed: string};
type Mode =
	| {kind: 'list'}
	| ({kind: 'input'; purpose: PromptPurpose; target?: KubeObject; targets?: KubeObject[]; initial: string; completion?: Completion & {choice: number}} & LineState & Recall)
	| {kind: 'forwards'; selected: number}
	| {kind: 'history'; selected: number}
	| {kind: 'pulses'}
	| Confirm
	| {kind: 'text'; title: string; lines: string[]; offset: number; secret?: KubeObject; revealed?: boolean; live?: KubeObject; yaml?: boolean; colors?: (string | undefined)[]}
	| {kind: 'help'; offset: number}
	| ({kind: 'editor'} & EditorState)
	| ({kind: 'logs'} & LogPane);

/** Split view: the list on the left, the selected object's logs on the right, each with its own keys. */
interface Split {
	pane?: LogPane;
	/** Which side the keys go to (\\ switches). */
	focus: 'list' | 'logs';
	/** The object the pane shows, so it follows the selection. */
	key?: string;
}

export interface AppProps {
	client: ClusterClient;
	initialNamespace?: string;
	prefs?: Prefs;
	/** --readonly: every mutating key is gone. */
	readonly?: boolean;
	/** --theme: a built-in name or a file. */
	theme?: string;
}

export function App({client, initialNamespace, prefs: givenPrefs, readonly: readonlyFlag, theme: themeFlag}: AppProps) {
	const {exit} = useApp();
	const {stdout} = useStdout();
	const {setRawMode, isRawModeSupported} = useStdin();
	const rows = stdout.rows || 24;
	const columns = stdout.columns || 80;
	const prefs = useMemo(() => givenPrefs ?? new Prefs(), [givenPrefs]);
	const context = client.description;
	const readonly = !!readonlyFlag || prefs.protection(context) === 'readonly';
	const {commands, warnings} = useMemo(() => keyCommandsWith(prefs.keyOverrides(), readonly), [prefs, readonly]);
	const [theme, setTheme] = useState<Theme>(() => initialTheme(themeFlag, prefs.theme));

	const [type, setType] = useState<ResourceType>(resolveType('pods')!);
	const [namespace, setNamespaceState] = useState<string | undefined>(() => {
		const ns = initialNamespace ?? prefs.lastNamespace(context) ?? 'default';
		return ns === 'all' ? undefined : ns;
	});
	const setNamespace = (ns: string | undefined) => {
		setNamespaceState(ns);
		if (ns === undefined || ns === 'default') return prefs.useNamespace(context, ns ?? 'all');
		// Only a namespace that exists becomes a favourite; one that does not gets a warning.
		client.get(resolveType('namespaces')!, undefined, ns).then(() => prefs.useNamespace(context, ns), error => {
			if (error instanceof StatusError && error.code === 404) setStatus(`warning: namespace "${ns}" does not exist (not kept as a favourite): nothing will be listed until it is created`, 'error');
		});
	};
	const feed = useMemo(() => new ResourceFeed(client, type, type.namespaced ? namespace : undefined, tallyFor(type.kind)), [client, type, namespace]);
	useEffect(() => () => feed.stop(), [feed]);
	const snapshot = useSyncExternalStore(feed.subscribe, feed.getSnapshot);
	// Pod counts by status and the node count for the header, whatever kind is on screen.
	const podFeed = useMemo(() => (type.kind === 'Pod' ? feed : new ResourceFeed(client, resolveType('pods')!, namespace, podStatus)), [client, feed, type, namespace]);
	useEffect(() => () => {
		if (podFeed !== feed) podFeed.stop();
	}, [podFeed, feed]);
	const nodeFeed = useMemo(() => (type.kind === 'Node' ? feed : new ResourceFeed(client, resolveType('nodes')!, undefined, nodeReadiness)), [client, feed, type]);
	useEffect(() => () => {
		if (nodeFeed !== feed) nodeFeed.stop();
	}, [nodeFeed, feed]);
	// The header subscribes to summaries, not to the lists: a heartbeat of 100 nodes (10 events a
	// second) or a pod's status change elsewhere redraws nothing unless a count changes.
	const podCounts = useSyncExternalStore(podFeed.subscribe, () => podSummary(podFeed.getSnapshot()));
	const nodeCounts = useSyncExternalStore(nodeFeed.subscribe, () => nodeSummary(nodeFeed.getSnapshot()));
	// Namespace names for completion (the Namespaces view's own feed when it is on screen).
	const namespaceFeed = useMemo(() => (type.kind === 'Namespace' ? feed : new ResourceFeed(client, resolveType('namespaces')!, undefined)), [client, feed, type]);
	useEffect(() => () => {
		if (namespaceFeed !== feed) namespaceFeed.stop();
	}, [namespaceFeed, feed]);
	/** The pods of the namespace as of now (for keys that need them: workload logs, port-forwards). */
	const podsNow = () => podFeed.getSnapshot().items;
	// CPU and memory sparklines while pods are on screen.
	const metrics = useMemo(() => (type.kind === 'Pod' ? new MetricsHistory(client, namespace) : undefined), [client, type, namespace]);
	useEffect(() => {
		metrics?.start();
		return () => metrics?.stop();
	}, [metrics]);
	useSyncExternalStore(metrics?.subscribe ?? noSubscribe, metrics?.getVersion ?? zero);
	// :pulses polls node metrics and events only while it is open.
	const [pulsesKey, setPulsesKey] = useState(0);
	const pulses = useMemo(() => (pulsesKey ? new Pulses(client, namespace) : undefined), [client, namespace, pulsesKey]);
	useEffect(() => {
		pulses?.start();
		return () => pulses?.stop();
	}, [pulses]);
	useSyncExternalStore(pulses?.subscribe ?? noSubscribe, pulses?.getVersion ?? zero);
	const usageColumns: ExtraColumns | undefined = metrics && {
		names: ['CPU', 'MEM'],
		cells(obj) {
			const usage = metrics.get(obj.metadata.namespace!, obj.metadata.name!);
			if (!usage?.cpu.length) return [metrics.error ? 'n/a' : '-', metrics.error ? 'n/a' : '-'];
			return [`${sparkline(usage.cpu)} ${formatCores(usage.cpu.at(-1)!)}`, `${sparkline(usage.memory)} ${formatMebibytes(usage.memory.at(-1)!)}`];
		},
	};
	// Ages move on and memory changes even when nothing else does: redraw every second,
	// with the dashboard's memory sampled then (not on every frame).
	const [, setTick] = useState(0);
	const [memoryMb, setMemoryMb] = useState(() => Math.round(process.memoryUsage.rss() / 2 ** 20));
	useEffect(() => {
		const timer = setInterval(() => {
			setMemoryMb(Math.round(process.memoryUsage.rss() / 2 ** 20));
			setTick(t => t + 1);
		}, 1000);
		return () => clearInterval(timer);
	}, []);

	const [filterText, setFilterText] = useState('');
	const [sort, setSort] = useState<Sort | undefined>();
	const filter: Filter = useMemo(() => {
		const parsed = parseFilter(filterText);
		return 'error' in parsed ? {kind: 'none'} : parsed;
	}, [filterText]);
	const items = useMemo(() => visibleObjects(type, snapshot.items, filter, sort, Date.now()), [type, snapshot, filter, sort]);
	const [selectedKey, setSelectedKey] = useState<string | undefined>();
	// Keep the selection on the same object when the list changes (no jumping rows).
	const found = useMemo(() => {
		if (!selectedKey) return 0;
		const slash = selectedKey.indexOf('/');
		const ns = selectedKey.slice(0, slash), name = selectedKey.slice(slash + 1);
		return items.findIndex(o => o.metadata.name === name && (o.metadata.namespace ?? '') === ns);
	}, [items, selectedKey]);
	const selected = Math.max(0, Math.min(items.length - 1, found < 0 ? 0 : found));
	const current = items[selected] as KubeObject | undefined;
	// Marked rows (space, ctrl-space for a range, ctrl-\ clears): delete, kill, scale and restart act on them.
	const [marks, setMarks] = useState<ReadonlySet<string>>(() => new Set());
	const lastMarkRef = useRef<number | undefined>(undefined);
	const marked = () => items.filter(o => marks.has(objectKey(o)));
	/** What an action acts on: the marked rows, else the selected one. */
	const actionTargets = (): KubeObject[] => (marks.size ? marked() : current ? [current] : []);
	const [wide, setWide] = useState(false);
	const [mode, setModeState] = useState<Mode>({kind: 'list'});
	const modeRef = useRef<Mode>(mode);
	const setMode = (next: Mode | ((m: Mode) => Mode)) => {
		modeRef.current = typeof next === 'function' ? next(modeRef.current) : next;
		setModeState(modeRef.current);
	};
	// A new user's empty cluster offers the examples, so something runs within a minute.
	const examplesOffered = !readonly && mode.kind === 'list' && snapshot.state === 'live' && type.kind === 'Pod' && snapshot.items.length === 0 && !filterText && haveExamples;
	// Rows for the body: the terminal less the header (2), status and footer (2), Ink's spare row,
	// and whatever sits under the body now (a dialog, a prompt, the examples offer).
	const below = mode.kind === 'confirm' ? (prefs.protection(context) === 'type-name' ? 4 : 3) : mode.kind === 'input' ? (mode.completion ? 2 : 1) : 0;
	// Navigation history: the views before this one, and the filter this one was opened with.
	const [history, setHistoryState] = useState<History>([]);
	const historyRef = useRef<History>(history);
	const setHistory = (next: History) => {
		historyRef.current = next;
		setHistoryState(next);
	};
	// The breadcrumb takes a row over lists once there is a trail to show (the other views have titles).
	const showTrail = history.length > 0 && ['list', 'input', 'confirm', 'history'].includes(mode.kind);
	const bodyHeight = Math.max(3, rows - 6 - below - (examplesOffered ? 1 : 0) - (showTrail ? 1 : 0));
	const topRef = useRef(0);
	topRef.current = scrollWindow(selected, topRef.current, bodyHeight - 1, items.length);

	const [status, setStatusState] = useState<{text: string; tone: 'info' | 'error' | 'busy'}>({text: warnings.join(' · '), tone: warnings.length ? 'error' : 'info'});
	const setStatus = (text: string, tone: 'info' | 'error' | 'busy' = /^(error|Error|The )/.test(text) ? 'error' : 'info') => setStatusState({text, tone});
	/** Each prompt's earlier entries (oldest first), for up and down; kept while the dashboard runs. */
	const promptHistory = useRef<Partial<Record<PromptPurpose, string[]>>>({});
	const restoreRef = useRef<{type: ResourceType; object: KubeObject; at: number} | undefined>(undefined);
	const forwards = useMemo(() => new PortForwards(), []);
	useEffect(() => () => forwards.stopAll(), [forwards]);
	const [split, setSplitState] = useState<Split | undefined>();
	const splitRef = useRef<Split | undefined>(split);
	const setSplit = (next: Split | undefined | ((s: Split | undefined) => Split | undefined)) => {
		splitRef.current = typeof next === 'function' ? next(splitRef.current) : next;
		setSplitState(splitRef.current);
	};
	// Re-render when a log session has news (it throttles itself); stop a session once nothing shows it.
	const logSession = mode.kind === 'logs' ? mode.session : undefined;
	const splitSession = split?.pane?.session;
	const [, setLogVersion] = useState(0);
	useEffect(() => logSession?.subscribe(() => setLogVersion(v => v + 1)), [logSession]);
	useEffect(() => () => logSession?.stop(), [logSession]);
	useEffect(() => splitSession?.subscribe(() => setLogVersion(v => v + 1)), [splitSession]);
	useEffect(() => () => splitSession?.stop(), [splitSession]);

	const select = (index: number) => {
		const obj = items[Math.max(0, Math.min(items.length - 1, index))];
		if (obj) setSelectedKey(objectKey(obj));
	};
	// A CliError already reads as kubectl's line ("error: ..."): it is shown as it is.
	const errorText = (error: unknown) => (error instanceof StatusError ? formatStatus(error.status) : error instanceof CliError ? error.message : `error: ${(error as Error).message}`);
	/** Run an action, showing it as busy until its result replaces it on the status line. */
	const report = (what: string, promise: Promise<string>, rollout?: KubeObject) => {
		setStatus(`${what}…`, 'busy');
		promise.then(text => {
			setStatus(text);
			// A Deployment's rollout is a long action: its progress stays on the status line until done.
			if (rollout?.kind === 'Deployment') {
				void followRollout(client, rollout.metadata.namespace!, rollout.metadata.name!, (line, done) => setStatus(`${text} · ${line}`, done ? 'info' : 'busy')).catch(() => {});
			}
		}, error => setStatus(errorText(error), 'error'));
	};
	// A Deployment's details refresh while they are open.
	const liveKey = mode.kind === 'text' && mode.live ? objectKey(mode.live) : undefined;
	useEffect(() => {
		const m = modeRef.current;
		if (!liveKey || m.kind !== 'text' || !m.live) return;
		const target = m.live;
		let stopped = false;
		const refresh = async () => {
			try {
				const d = await client.get(resolveType('deployments')!, target.metadata.namespace, target.metadata.name!);
				const [details, events] = await Promise.all([deploymentDetails(client, d, podsNow()), eventsFor(client, d)]);
				if (!stopped) setMode(cur => (cur.kind === 'text' && cur.live && objectKey(cur.live) === liveKey ? {...cur, lines: [...details, ...describeObject(d, events).split('\n')]} : cur));
			} catch {}
		};
		const timer = setInterval(() => void refresh(), 1000);
		void refresh();
		return () => {
			stopped = true;
			clearInterval(timer);
		};
	}, [liveKey, client]);
	const entryFilterRef = useRef('');
	const viewNow = (): View => ({type, namespace, filter: filterText, entryFilter: entryFilterRef.current, sort, selected: selectedKey, top: topRef.current});
	const showView = (view: View) => {
		setType(view.type);
		if (view.namespace !== namespace) setNamespace(view.namespace);
		setFilterText(view.filter);
		entryFilterRef.current = view.entryFilter;
		setSort(view.sort);
		setSelectedKey(view.selected);
		topRef.current = view.top;
		setMarks(new Set());
		lastMarkRef.current = undefined;
	};
	/** Open another view (a kind, a namespace, or both), keeping this one in the history. */
	const navigate = (to: {type?: ResourceType; namespace?: string | null; filter?: string; selected?: string}) => {
		const nextType = to.type ?? type;
		const nextNamespace = to.namespace === undefined ? namespace : to.namespace ?? undefined;
		if (nextType === type && nextNamespace === namespace && (to.filter ?? '') === filterText) {
			if (to.selected) setSelectedKey(to.selected);
			return;
		}
		setHistory(pushView(historyRef.current, viewNow()));
		showView({type: nextType, namespace: nextNamespace, filter: to.filter ?? '', entryFilter: to.filter ?? '', top: 0, selected: to.selected});
	};
	const switchType = (next: ResourceType, filterWith = '') => navigate({type: next, filter: filterWith});
	const goBack = () => {
		const step = back(historyRef.current, viewNow());
		if (!step) return setStatus('no earlier view (H lists the history)');
		setHistory(step.history);
		showView(step.view);
	};

	/** Step aside for a program that needs the terminal ($EDITOR, a shell), and come back when it exits. */
	const runOutside = (argv: string[]): number | null => {
		if (isRawModeSupported) setRawMode(false);
		stdout.write('\u001B[2J\u001B[H');
		// The program owns the terminal now: ctrl-c (or ctrl-\\) typed there is for it and its children,
		// and must not end the dashboard, which shares the terminal's foreground process group.
		const ignore = () => {};
		const signals = ['SIGINT', 'SIGQUIT'] as const;
		for (const signal of signals) process.on(signal, ignore);
		let result: ReturnType<typeof spawnSync>;
		try {
			result = spawnSync(argv[0], argv.slice(1), {stdio: 'inherit', env: process.env});
		} finally {
			for (const signal of signals) process.off(signal, ignore);
		}
		if (isRawModeSupported) setRawMode(true);
		stdout.write('\u001B[2J\u001B[H');
		setTick(t => t + 1);
		if (result.error) setStatus(`error: ${argv[0]}: ${result.error.message}`, 'error');
		return result.status;
	};

	const openEditor = (title: string, text: string, purpose: EditorState['purpose'], errors: EditorState['errors'] = []) => {
		setMode({kind: 'editor', title, buffer: B.fromText(text), original: purpose === 'create' ? '' : text, purpose, errors, top: 0});
	};

	const save = (state: EditorState, overwrite = false) => {
		const text = B.toText(state.buffer);
		setStatus('saving…', 'busy');
		saveBuffer(client, text, state.original, state.purpose, {overwrite, namespace: namespace ?? 'default'}).then(result => {
			const stillHere = (m: Mode) => m.kind === 'editor' && m.title === state.title;
			switch (result.kind) {
				case 'saved':
				case 'unchanged':
					if (stillHere(modeRef.current)) setMode({kind: 'list'});
					return setStatus(result.message);
				case 'errors':
					setMode(m => (stillHere(m) ? {...(m as EditorState & {kind: 'editor'}), errors: result.errors, conflict: undefined} : m));
					return setStatus(`error: not saved; the buffer is kept (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})`, 'error');
				case 'conflict':
					setMode(m => (stillHere(m) ? {...(m as EditorState & {kind: 'editor'}), errors: [], conflict: {summary: result.summary, latest: result.latest}} : m));
					return setStatus('error: conflict: the object changed on the server', 'error');
			}
		}, error => setStatus(errorText(error), 'error'));
	};

	const openLogs = (obj: KubeObject, previous = false, container?: string, where: 'screen' | 'split' = 'screen') => {
		const pane = logPaneFor(client, obj, podsNow(), previous, container);
		if ('error' in pane) return setStatus(pane.error, 'error');
		if (where === 'split') return setSplit(s => ({focus: 'logs', ...s, pane, key: objectKey(obj)}));
		setMode({kind: 'logs', ...pane});
	};

	// Split view: the log pane follows the selection (a moment after it settles).
	const selectedForSplit = split && current && (current.kind === 'Pod' || podSelectorOf(current)) ? objectKey(current) : undefined;
	useEffect(() => {
		if (!selectedForSplit || splitRef.current?.key === selectedForSplit || !current) return;
		const timer = setTimeout(() => {
			const pane = logPaneFor(client, current, podsNow());
			if ('error' in pane) return;
			setSplit(s => (s ? {...s, pane, key: selectedForSplit} : s));
		}, 300);
		return () => clearTimeout(timer);
	}, [selectedForSplit]);

	const runCommand = (text: string, depth = 0): void => {
		const [first = '', ...words] = text.trim().split(/\s+/);
		// A user alias stands for its words (`"dp": "deployments"`); an alias may not loop.
		const alias = prefs.aliases()[first];
		if (alias && depth < 5) return runCommand([alias, ...words].join(' '), depth + 1);
		const [word = '', ...rest] = [first, ...words];
		const arg = rest.join(' ');
		if (word === 'q' || word === 'quit') return exit();
		if (word === 'pf' || word === 'portforwards') return setMode({kind: 'forwards', selected: 0});
		if (word === 'xray') return openXray(arg || 'deployments');
		if (word === 'pulses' || word === 'pulse') {
			setPulsesKey(k => k + 1);
			return setMode({kind: 'pulses'});
		}
		if (word === 'aliases' || word === 'alias') {
			const user = Object.entries(prefs.aliases()).map(([a, v]) => `  ${a.padEnd(16)}${v}  (preferences)`);
			const kinds = [...new Map(resourceTypes.map(t => [t.plural, t])).values()].map(t => `  ${t.plural.padEnd(28)}${[t.singular, ...t.shortNames].join(', ')}`);
			return setMode({kind: 'text', title: 'Aliases: what : takes (esc closes)', lines: [...(user.length ? ['Yours:', ...user, ''] : []), 'Kinds:', ...kinds, '', 'Commands:', '  ns NAME, apply [FILE], theme NAME, pf, aliases, quit', '', `Add your own in ${prefs.path}: "aliases": {"dp": "deployments"}`], offset: 0});
		}
		if (word === 'ns' || word === 'namespace') {
			if (!arg) return switchType(resolveType('namespaces')!);
			navigate({namespace: arg === 'all' ? null : arg});
			return setStatus(`namespace ${arg}`);
		}
		if (word === 'apply') {
			if (readonly) return setStatus('read-only: apply is disabled', 'error');
			if (!arg) return openEditor('Apply: paste or type manifests (several separated by ---); ctrl+s applies after a dry run', '', 'create');
			return report(`applying ${arg}`, readManifests([path.resolve(arg.replace(/^~(?=$|\/)/, os.homedir()))], {stdin: process.stdin})
				.then(m => applyManifests(client, m, namespace ?? 'default'))
				.then(r => (r.errors.length ? `error: ${r.errors.join('; ')}` : r.lines.join(', '))));
		}
		if (word === 'theme') {
			try {
				const next = loadTheme(arg);
				setTheme(next);
				prefs.theme = arg;
				return setStatus(`theme ${next.name}`);
			} catch (error) {
				return setStatus(`error: ${(error as Error).message}`, 'error');
			}
		}
		const next = resolveType(word);
		if (!next) {
			const near = nearest(word, [...commandWords, ...kindWords]);
			return setStatus(`error: no command or resource type "${word}"${near.length ? `: did you mean ${near.map(w => `:${w}`).join(', ')}?` : ''} (? lists the keys)`, 'error');
		}
		navigate({type: next, namespace: arg ? (arg === 'all' ? null : arg) : undefined});
	};

	/** What `:` knows: its own commands (and the user's aliases), every kind by plural and short name. */
	const commandWords = [...builtinCommandWords, ...Object.keys(prefs.aliases())];
	/** Tab in `:`: fill in what all candidates share; list them; Tab again cycles through them. */
	const complete = (mode: Extract<Mode, {kind: 'input'}>): Mode => {
		const c = mode.completion;
		if (c && c.candidates.length > 1) {
			const choice = (c.choice + 1) % c.candidates.length;
			const text = withWord(mode.text, c.start, c.candidates[choice]);
			return {...mode, ...lineOf(text), completion: {...c, choice}};
		}
		const found = completionsFor(mode.text, {
			kinds: kindNames, commands: commandWords, themes: builtinThemes(),
			namespaces: namespaceFeed.getSnapshot().items.map(n => n.metadata.name!), files: pathCandidates,
		});
		if (found.candidates.length === 0) {
			setStatus(`no completions for "${mode.text.slice(found.start)}"`);
			return mode;
		}
		const text = withWord(mode.text, found.start, found.candidates.length === 1 ? found.candidates[0] : commonPrefix(found.candidates));
		return {...mode, ...lineOf(text), completion: found.candidates.length > 1 ? {...found, choice: -1} : undefined};
	};

	useKeyQueue(handleKey, {
		acceptsPaste: () => modeRef.current.kind === 'editor' && modeRef.current.typingSearch === undefined,
		onError: error => setStatus(`error: ${error.message}`, 'error'),
	});

	function logKeys(where: 'screen' | 'split'): LogKeysContext {
		return {
			commands, height: bodyHeight - 1, setStatus,
			findPod: (ns, name) => podsNow().find(p => p.metadata.name === name && p.metadata.namespace === ns),
			reopen: (pod, previous, container) => openLogs(pod, previous, container, where),
		};
	}

	function handleKey(input: string, key: KeyPress): void {
		const name = keyName(input, key);
		const mode = modeRef.current;
		switch (mode.kind) {
			case 'input': return inputKey(mode, input, key, name);
			case 'confirm': return onConfirmKey(mode, input, key, name);
			case 'editor': return editorKey({commands, height: bodyHeight - 2, setStatus, save, update: next => setMode(next ? {kind: 'editor', ...next} : {kind: 'list'})}, mode, input, key, name);
			case 'logs': return logsKey(logKeys('screen'), mode, pane => setMode(pane ? {kind: 'logs', ...pane} : {kind: 'list'}), input, key, name);
			case 'text':
			case 'help': return textKey(mode, name);
			case 'list': {
				const sp = splitRef.current;
				if (sp && name === '\\') return setSplit({...sp, focus: sp.focus === 'list' && sp.pane ? 'logs' : 'list'});
				if (sp?.focus === 'logs' && sp.pane && commandIn(commands, 'list', name) !== 'view.split') {
					return logsKey(logKeys('split'), sp.pane, pane => setSplit(cur => (cur ? (pane ? {...cur, pane} : {...cur, focus: 'list'}) : cur)), input, key, name);
				}
				return listKey(input, name);
			}
			case 'forwards': return forwardsKey(mode, name);
			case 'history': return historyKey(mode, name);
			case 'pulses': {
				if (commandIn(commands, 'list', name) === 'mode.command') return setMode(promptMode('command'));
				if (commandIn(commands, 'text', name) === 'nav.back' || name === 'q') {
					setPulsesKey(0);
					return setMode({kind: 'list'});
				}
				return;
			}
		}
	}

	function forwardsKey(mode: Extract<Mode, {kind: 'forwards'}>, name: string): void {
		const list = forwards.list();
		const command = commandIn(commands, 'list', name);
		if (command === 'nav.back' || name === 'q') return setMode({kind: 'list'});
		if (command === 'nav.down') return setMode({...mode, selected: Math.min(list.length - 1, mode.selected + 1)});
		if (command === 'nav.up') return setMode({...mode, selected: Math.max(0, mode.selected - 1)});
		if (name === 'ctrl+d' && list[mode.selected]) {
			const stopped = forwards.stop(list[mode.selected].id)!;
			setStatus(`stopped forwarding 127.0.0.1:${stopped.local} -> ${stopped.target}`);
			return setMode({...mode, selected: Math.max(0, Math.min(mode.selected, forwards.list().length - 1))});
		}
	}

	function historyKey(mode: Extract<Mode, {kind: 'history'}>, name: string): void {
		const count = historyRef.current.length;
		const command = commandIn(commands, 'list', name);
		if (command === 'nav.back' || name === 'q' || name === 'H') return setMode({kind: 'list'});
		if (command === 'nav.down') return setMode({...mode, selected: Math.min(count - 1, mode.selected + 1)});
		if (command === 'nav.up') return setMode({...mode, selected: Math.max(0, mode.selected - 1)});
		if (name === 'return') {
			setMode({kind: 'list'});
			const step = jump(historyRef.current, mode.selected);
			if (!step) return;
			setHistory(step.history);
			showView(step.view);
		}
	}

	function startForward(target: KubeObject, text: string): void {
		const m = /^(?:(\d+):)?(\d+)$/.exec(text.trim());
		if (!m) return setStatus('error: port-forward: give PORT or LOCAL:PORT', 'error');
		// Local port 0 asks for any free port, as kubectl's :PORT does.
		const badPort = [m[1], m[2]].find((p, i) => p !== undefined && !(Number(p) >= (i === 0 ? 0 : 1) && Number(p) <= 65535));
		if (badPort !== undefined) return setStatus(`error: port-forward: ${badPort} is not a port: give a number from 1 to 65535`, 'error');
		const remote = forwardTarget(target, podsNow(), Number(m[2]));
		if ('error' in remote) return setStatus(`error: ${remote.error}`, 'error');
		const label = objectRef(typeForKind(target.apiVersion, target.kind)!, target.metadata.name!);
		const local = m[1] ? Number(m[1]) : Number(m[2]);
		// The same local port as the remote one when it is free (kubectl's habit), else any free port.
		const started = forwards.start(label, remote, local).catch(error => (m[1] ? Promise.reject(error) : forwards.start(label, remote, 0)));
		report(`forwarding ${label}`, started.then(f => `forwarding 127.0.0.1:${f.local} -> ${label} (${remote.host}:${remote.port}); f lists port-forwards`));
	}

	function inputKey(mode: Extract<Mode, {kind: 'input'}>, input: string, key: KeyPress, name: string): void {
		if (name === 'escape') {
			// The filter applies as it is typed; esc puts back the one in effect before.
			if (mode.purpose === 'filter') setFilterText(mode.initial);
			return setMode({kind: 'list'});
		}
		if (name === 'tab' && mode.purpose === 'command') return setMode(complete(mode));
		if (name === 'up' || name === 'down') {
			// Readline's history: up goes to older entries, down back towards the line being typed.
			const entries = promptHistory.current[mode.purpose] ?? [];
			const back = recall(entries, mode.back ?? 0, name === 'up' ? 'older' : 'newer');
			if (back === undefined) return;
			const draft = mode.back ? mode.draft ?? '' : mode.text;
			const text = back === 0 ? draft : entries[entries.length - back];
			return setMode({...mode, ...lineOf(text), back, draft});
		}
		if (name === 'return') {
			setMode({kind: 'list'});
			const entries = (promptHistory.current[mode.purpose] ??= []);
			if (mode.text.trim() && entries.at(-1) !== mode.text) entries.push(mode.text);
			if (entries.length > 100) entries.shift();
			if (mode.purpose === 'command') return runCommand(mode.text);
			if (mode.purpose === 'filter') {
				const parsed = parseFilter(mode.text);
				if ('error' in parsed) return setStatus(`error: ${parsed.error}`, 'error');
				return setFilterText(mode.text);
			}
			if (mode.purpose === 'new') {
				const kind = templateKinds.find(k => k.toLowerCase() === mode.text.trim().toLowerCase()) ?? templateKinds.find(k => k.toLowerCase().startsWith(mode.text.trim().toLowerCase()));
				if (!kind) return setStatus(`error: no template for "${mode.text}": ${templateKinds.join(', ')}`, 'error');
				return openEditor(`New ${kind} (ctrl+s creates after a dry run; esc cancels)`, templateFor(kind, namespace ?? 'default')!, 'create');
			}
			if (mode.purpose === 'forward' && mode.target) return startForward(mode.target, mode.text);
			if (mode.purpose === 'container' && mode.target) return shellInto(mode.target, mode.text.trim());
			if (mode.purpose === 'scale' && mode.target) {
				const replicas = Number(mode.text);
				if (!/^\d+$/.test(mode.text.trim()) || !Number.isInteger(replicas) || replicas > 2 ** 31 - 1) return setStatus('error: spec.replicas: Invalid value: must be a whole number from 0 to 2147483647', 'error');
				for (const target of mode.targets ?? [mode.target]) scaleTo(target, replicas);
				return;
			}
			return;
		}
		const line = editPrompt(mode, input, key);
		if (!line) return;
		setMode({...mode, ...line, selected: line.selected, completion: undefined});
		if (mode.purpose === 'filter' && line.text !== mode.text && !('error' in parseFilter(line.text))) setFilterText(line.text);
	}

	function onConfirmKey(mode: Confirm, input: string, key: KeyPress, name: string): void {
		// Under type-the-name protection, several marked objects are confirmed by typing how many.
		const expected = mode.targets.length === 1 ? mode.target.metadata.name! : String(mode.targets.length);
		const outcome = confirmKey(mode, name, input, key, {typeName: prefs.protection(context) === 'type-name', name: expected});
		switch (outcome?.kind) {
			case 'cancel': return setMode({kind: 'list'});
			case 'confirm': return confirmed(mode);
			case 'error': return setStatus(outcome.message, 'error');
			case 'next': return setMode(outcome.state);
		}
	}

	function confirmed(mode: Confirm): void {
		setMode({kind: 'list'});
		const {type: t, target, targets} = mode;
		const ref = objectRef(t, target.metadata.name!);
		if (mode.verb === 'rollback') return report(`rolling back ${ref}`, rolloutUndo(client, t, target.metadata.namespace!, target.metadata.name!), target);
		if (targets.length === 1) {
			if (mode.verb === 'restart') return report(`restarting ${ref}`, rolloutRestart(client, t, target.metadata.namespace!, target.metadata.name!), target);
			const killing = mode.verb === 'kill';
			return report(`${killing ? 'killing' : 'deleting'} ${ref}`, client.delete(t, target.metadata.namespace, target.metadata.name!, killing ? {gracePeriodSeconds: 0} : undefined).then(() => {
				restoreRef.current = {type: t, object: target, at: Date.now()};
				return `${ref} ${killing ? 'killed' : 'deleted'} (U restores it for ${restoreWindowMs / 1000} s)`;
			}));
		}
		// The marked set: each one acted on, one line saying how it went; the marks go with it.
		setMarks(new Set());
		const verb = mode.verb === 'restart' ? 'restarted' : mode.verb === 'kill' ? 'killed' : 'deleted';
		const act = (o: KubeObject) => (mode.verb === 'restart'
			? rolloutRestart(client, t, o.metadata.namespace!, o.metadata.name!)
			: client.delete(t, o.metadata.namespace, o.metadata.name!, mode.verb === 'kill' ? {gracePeriodSeconds: 0} : undefined));
		report(`${mode.verb === 'restart' ? 'restarting' : mode.verb === 'kill' ? 'killing' : 'deleting'} ${targets.length} ${t.plural}`, Promise.allSettled(targets.map(act)).then(results => {
			const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${targets[i].metadata.name}: ${errorText(r.reason)}`] : []));
			const done = `${targets.length - failed.length} of ${targets.length} ${t.plural} ${verb}`;
			if (failed.length) throw new CliError(`error: ${done}; ${failed.join('; ')}`);
			return done;
		}));
	}

	function textKey(mode: Extract<Mode, {kind: 'text' | 'help'}>, name: string): void {
		const command = commandIn(commands, 'text', name);
		if (command === 'nav.back' || name === 'q') return setMode({kind: 'list'});
		// `:` works over a text view too (`:xray svc` from `:xray deploy`), as in k9s.
		if (commandIn(commands, 'list', name) === 'mode.command') return setMode(promptMode('command'));
		if (mode.kind === 'text' && mode.secret && command === 'secret.reveal') {
			// x again hides them.
			const ref = objectRef(type, mode.secret.metadata.name!);
			if (mode.revealed) return setMode({...mode, title: `YAML ${ref} (values hidden; x reveals)`, lines: toYaml(maskSecret(mode.secret)).split('\n'), revealed: false});
			const decoded = {...mode.secret, data: Object.fromEntries(Object.entries((mode.secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))};
			return setMode({...mode, title: `YAML ${ref} (values decoded; x hides them)`, lines: toYaml(decoded).split('\n'), revealed: true});
		}
		const total = mode.kind === 'text' ? mode.lines.length : helpLines(commands, {favourites: prefs.favourites(context), prefsPath: prefs.path, readonly}).length;
		const offset = scrollOffset(command, mode.offset, total, bodyHeight - 2);
		if (offset !== undefined) setMode({...mode, offset});
	}

	function listKey(input: string, name: string): void {
		if (/^[0-9]$/.test(name)) {
			const ns = prefs.favourites(context)[Number(name)];
			if (!ns) return;
			navigate({namespace: ns === 'all' ? null : ns});
			return setStatus(`namespace ${ns}`);
		}
		// On the empty first screen, A applies the examples (elsewhere it sorts by age).
		if (input === 'A' && examplesOffered) return applyExamples();
		const command = commandIn(commands, 'list', name);
		if (!command) {
			const blocked = readonly && commandIn(defaultKeyCommands, 'list', name);
			if (blocked) setStatus(`read-only: ${defaultKeyCommands.find(c => c.id === blocked)!.description} is disabled`, 'error');
			return;
		}
		const page = bodyHeight - 2;
		const pane = paneOf(type);
		const shownColumns = ['Name', ...listColumns(type, wide).map(c => c.name).filter(n => n !== 'Name')];
		switch (command) {
			case 'app.quit': return exit();
			case 'nav.up': return select(selected - 1);
			case 'nav.down': return select(selected + 1);
			case 'nav.pageUp': return select(selected - page);
			case 'nav.pageDown': return select(selected + page);
			case 'nav.top': return select(0);
			case 'nav.bottom': return select(items.length - 1);
			case 'nav.back': return goBack();
			case 'view.history': return setMode({kind: 'history', selected: 0});
			case 'pane.next': return switchType(panes[(pane + 1) % panes.length].kinds[0]);
			case 'pane.previous': return switchType(panes[(pane + panes.length - 1) % panes.length].kinds[0]);
			case 'kind.next':
			case 'kind.previous': {
				const kinds = panes[pane].kinds;
				const at = kinds.findIndex(k => k.plural === type.plural);
				return switchType(kinds[(at + (command === 'kind.next' ? 1 : kinds.length - 1)) % kinds.length]);
			}
			case 'mode.command': return setMode(promptMode('command'));
			case 'mode.filter': return setMode(promptMode('filter', filterText));
			case 'app.help': return setMode({kind: 'help', offset: 0});
			case 'sort.name': return setSort(s => ({column: 'Name', descending: s?.column === 'Name' ? !s.descending : false}));
			case 'sort.age': return setSort(s => ({column: 'Age', descending: s?.column === 'Age' ? !s.descending : false}));
			case 'sort.invert': return setSort(s => ({column: s?.column ?? 'Name', descending: !s?.descending}));
			case 'sort.next':
			case 'sort.previous': {
				const at = Math.max(0, shownColumns.indexOf(sort?.column ?? 'Name'));
				const next = shownColumns[(at + (command === 'sort.next' ? 1 : shownColumns.length - 1)) % shownColumns.length];
				return setSort({column: next, descending: false});
			}
			case 'theme.cycle': {
				const names = builtinThemes();
				const next = names[(names.indexOf(theme.name) + 1) % names.length];
				setTheme(loadTheme(next));
				prefs.theme = next;
				return setStatus(`theme ${next}`);
			}
			case 'view.portForwards': return setMode({kind: 'forwards', selected: 0});
			case 'view.wide':
				setWide(w => !w);
				return setStatus(wide ? 'columns: kubectl\'s' : 'columns: wide (kubectl -o wide); ctrl-w again for the usual ones');
			case 'mark.clear':
				setMarks(new Set());
				lastMarkRef.current = undefined;
				return setStatus('marks cleared');
			case 'view.split':
				if (splitRef.current) {
					setSplit(undefined);
					return setStatus('split view closed');
				}
				setSplit({focus: 'list'});
				return setStatus('split view: logs of the selected pod or workload on the right; \\ moves the keys between the sides, | closes it');
			case 'object.new':
				setStatus(`templates: ${templateKinds.join(', ')}`);
				return setMode(promptMode('new', templateKinds.includes(type.kind) ? type.kind : 'Deployment'));
			case 'object.restore': {
				const last = restoreRef.current;
				if (!last || Date.now() - last.at > restoreWindowMs) return setStatus('nothing to restore: U works for a minute after a delete from the dashboard', 'error');
				restoreRef.current = undefined;
				const ref = objectRef(last.type, last.object.metadata.name!);
				return report(`restoring ${ref}`, client.create(withoutServerFields(last.object)).then(() => `${ref} restored`));
			}
		}
		if (!current) return;
		const ref = objectRef(type, current.metadata.name!);
		const targets = actionTargets();
		switch (command) {
			case 'mark.toggle': {
				const next = new Set(marks);
				if (!next.delete(objectKey(current))) next.add(objectKey(current));
				lastMarkRef.current = selected;
				setMarks(next);
				return setStatus(next.size ? `${next.size} marked: delete, kill, scale and restart act on them (ctrl-\\ clears)` : 'no marks');
			}
			case 'mark.range': {
				const from = lastMarkRef.current ?? selected;
				const next = new Set(marks);
				for (let i = Math.min(from, selected); i <= Math.max(from, selected); i++) next.add(objectKey(items[i]));
				setMarks(next);
				return setStatus(`${next.size} marked`);
			}
			case 'view.node': {
				const node = current.kind === 'Pod' ? (current.spec as Rec).nodeName : undefined;
				if (!node) return setStatus(current.kind === 'Pod' ? `pod ${current.metadata.name} is not scheduled to a node yet` : 'o: select a pod to see its node', 'error');
				return navigate({type: resolveType('nodes')!, selected: `/${node}`});
			}
			case 'view.owner': {
				const owners: Rec[] = current.metadata.ownerReferences ?? [];
				const owner = owners.find(o => o.controller) ?? owners[0];
				const ownerType = owner && typeForKind(owner.apiVersion, owner.kind);
				if (!owner) return setStatus(`${ref} has no owner`, 'error');
				if (!ownerType) return setStatus(`error: the owner ${owner.kind}/${owner.name} is of a kind the dashboard does not list`, 'error');
				return navigate({type: ownerType, selected: `${ownerType.namespaced ? current.metadata.namespace : ''}/${owner.name}`});
			}
			case 'nav.enter':
				if (type.kind === 'Namespace') {
					return navigate({type: resolveType('pods')!, namespace: current.metadata.name!});
				}
				if (podSelectorOf(current)) return switchType(resolveType('pods')!, `-l ${podSelectorOf(current)}`);
				return;
			case 'view.describe':
				if (current.kind === 'Deployment') return setMode({kind: 'text', title: `Describe ${ref} (live)`, lines: ['loading…'], offset: 0, live: current});
				void eventsFor(client, current).then(events => setMode({kind: 'text', title: `Describe ${ref}`, lines: describeObject(current, events).split('\n'), offset: 0}));
				return;
			case 'view.yaml':
				if (current.kind === 'Secret') return setMode({kind: 'text', title: `YAML ${ref} (values hidden; x reveals)`, lines: toYaml(maskSecret(current)).split('\n'), offset: 0, secret: current, yaml: true});
				return setMode({kind: 'text', title: `YAML ${ref}`, lines: toYaml(current).split('\n'), offset: 0, yaml: true});
			case 'view.logs':
			case 'view.previousLogs':
				return openLogs(current, command === 'view.previousLogs');
			case 'object.edit':
				return openEditor(`Edit ${ref} (ctrl+s saves, esc closes)`, toYaml(current), 'update');
			case 'object.editExternal': return editExternally(current, ref);
			case 'object.portForward': {
				if (readonly) return setStatus('read-only: port-forward is disabled', 'error');
				const remote = forwardTarget(current, podsNow());
				if ('error' in remote && !/declares no containerPort/.test(remote.error)) return setStatus(`error: ${remote.error}`, 'error');
				return setMode(promptMode('forward', 'error' in remote ? '' : String(remote.port), current));
			}
			case 'object.duplicate':
				return openEditor(`Duplicate of ${ref} (ctrl+s creates after a dry run)`, duplicateOf(current), 'create');
			case 'object.scale':
				if (type.kind === 'Pod') return shellInto(current);
				if (!type.subresources?.includes('scale')) return setStatus(`${type.kind} cannot be scaled`, 'error');
				return setMode(promptMode('scale', String((current.spec as Rec).replicas ?? ''), current, marks.size ? targets : undefined));
			case 'object.scaleUp':
			case 'object.scaleDown':
				if (!type.subresources?.includes('scale')) return setStatus(`${type.kind} cannot be scaled`, 'error');
				return scaleTo(current, Math.max(0, Number((current.spec as Rec).replicas ?? 0) + (command === 'object.scaleUp' ? 1 : -1)));
			case 'object.restart':
				if (!['Deployment', 'StatefulSet', 'DaemonSet'].includes(type.kind)) return setStatus('rollout restart: select a deployment, statefulset or daemonset', 'error');
				// Every pod is replaced: it asks first, as k9s does.
				return setMode({kind: 'confirm', verb: 'restart', type, target: targets[0], targets, choice: 'cancel', typed: ''});
			case 'object.undoRollout':
				if (type.kind !== 'Deployment') return setStatus('rollout undo: select a deployment', 'error');
				return setMode({kind: 'confirm', verb: 'rollback', type, target: current, targets: [current], choice: 'cancel', typed: ''});
			case 'object.delete': {
				const hint = deleteKeyHint(name);
				if (hint) setStatus(hint);
				return setMode({kind: 'confirm', verb: 'delete', type, target: targets[0], targets, choice: 'cancel', typed: ''});
			}
			case 'object.kill':
				// k9s kills without asking; here it asks as delete does, and names what it will kill.
				return setMode({kind: 'confirm', verb: 'kill', type, target: targets[0], targets, choice: 'cancel', typed: ''});
		}
	}

	function scaleTo(target: KubeObject, replicas: number): void {
		const t = typeForKind(target.apiVersion, target.kind) ?? type;
		report(`scaling ${objectRef(t, target.metadata.name!)}`, client.scale(t, target.metadata.namespace!, target.metadata.name!, replicas).then(() => `${objectRef(t, target.metadata.name!)} scaled to ${replicas}`), target);
	}

	function editExternally(obj: KubeObject, ref: string): void {
		const editor = process.env.KUBE_EDITOR || process.env.EDITOR || 'vi';
		const file = path.join(os.tmpdir(), `kubedeck-edit-${process.pid}-${obj.metadata.name}.yaml`);
		const original = toYaml(obj);
		fs.writeFileSync(file, original, {mode: 0o600});
		try {
			const code = runOutside([...editor.split(/\s+/).filter(Boolean), file]);
			if (code !== 0) return setStatus(`error: ${editor} exited with ${code}; nothing saved`, 'error');
			const text = fs.readFileSync(file, 'utf8');
			// Saved the same way as the inline editor; a refusal opens the inline editor on the text, errors shown.
			const state: EditorState = {title: `Edit ${ref} (from $EDITOR; ctrl+s saves, esc closes)`, buffer: B.fromText(text), original, purpose: 'update', errors: [], top: 0};
			setMode({kind: 'editor', ...state});
			save(state);
		} finally {
			fs.rmSync(file, {force: true});
		}
	}

	function shellInto(pod: KubeObject, chosen?: string): void {
		if (readonly) return setStatus('read-only: shell is disabled', 'error');
		if (!client.exec) return setStatus(`error: shell is not supported against ${client.description} yet`, 'error');
		const containers: string[] = ((pod.spec as Rec).containers ?? []).map((c: Rec) => c.name);
		// Several containers: ask which, the first offered.
		if (!chosen && containers.length > 1) return setMode(promptMode('container', containers[0], pod));
		const container = chosen ?? containers[0];
		if (!containers.includes(container)) return setStatus(`error: container ${container} is not valid for pod ${pod.metadata.name}: choose one of ${containers.join(', ')}`, 'error');
		const code = runOutside([process.execPath, cliPath, 'exec', '-it', '-n', pod.metadata.namespace!, pod.metadata.name!, '-c', container, '--', 'sh']);
		setStatus(`shell in ${pod.metadata.name} exited${code ? ` with ${code}` : ''}`);
	}

	/** `:xray KIND`: the kind's objects as trees of what they own, read once from the cluster. */
	function openXray(word: string): void {
		const [kindWord, nsWord] = word.split(/\s+/);
		const kind = xrayKinds[kindWord];
		if (!kind) return setStatus(`error: xray: give one of ${[...new Set(Object.values(xrayKinds))].join(', ')}`, 'error');
		const ns = nsWord ? (nsWord === 'all' ? undefined : nsWord) : namespace;
		const wanted: (keyof XrayObjects)[] = {deployments: ['deployments', 'replicasets', 'pvcs'], replicasets: ['replicasets', 'pvcs'], statefulsets: ['statefulsets', 'pvcs'], daemonsets: ['daemonsets'], jobs: ['jobs'], services: ['services', 'endpoints'], pods: [], endpoints: [], pvcs: []}[kind] as (keyof XrayObjects)[];
		const plural = (k: keyof XrayObjects) => (k === 'pvcs' ? 'persistentvolumeclaims' : k);
		const started = Date.now();
		// The pods come from the dashboard's own watch when it is on this namespace (10,000 pods are not listed again).
		const pods = ns === namespace ? Promise.resolve(podsNow()) : client.list(resolveType('pods')!, {namespace: ns}).then(l => l.items);
		report(`xray ${kind}`, Promise.all([pods, ...wanted.map(k => client.list(resolveType(plural(k))!, {namespace: ns}).then(l => [k, l.items] as const))]).then(([podList, ...lists]) => {
			const objects: XrayObjects = {pods: podList as KubeObject[], ...Object.fromEntries(lists as [string, KubeObject[]][])};
			const lines = xrayLines(kind, objects);
			setMode({
				kind: 'text', title: `Xray ${kind} in ${ns ?? 'all namespaces'} (as of ${new Date().toLocaleTimeString()}; :xray again refreshes; esc closes)`, offset: 0,
				lines: lines.length ? lines.map(l => l.text) : [`No ${kind} in ${ns ?? 'any namespace'}.`],
				colors: lines.map(l => (l.status === 'Ready' || l.status === 'Running' || l.status === 'Completed' ? theme.ok : l.status === 'NotReady' || l.status === 'Pending' ? theme.warning : l.status ? statusColor(theme, l.status) : undefined)),
			});
			return `xray ${kind}: ${lines.filter(l => l.text && !/^[│├└ ]/.test(l.text)).length} ${kind} in ${Date.now() - started} ms`;
		}));
	}

	function applyExamples(): void {
		report('applying examples/', readManifests([examplesDir], {stdin: process.stdin}).then(m => applyManifests(client, m, namespace ?? 'default')).then(r => (r.errors.length ? `error: ${r.errors[0]}` : `applied examples/: ${r.lines.join(', ')}`)));
	}

	function body() {
		const height = bodyHeight - 1;
		switch (mode.kind) {
			case 'text': return <TextView title={mode.title} lines={mode.lines} offset={mode.offset} height={height} width={columns} theme={theme} yaml={mode.yaml} colors={mode.colors} />;
			case 'help': return <TextView title="Keys (esc to close)" lines={helpLines(commands, {favourites: prefs.favourites(context), prefsPath: prefs.path, readonly})} offset={mode.offset} height={height} width={columns} theme={theme} />;
			case 'forwards': {
				const lines = forwards.list().map((f, i) => `${i === mode.selected ? '>' : ' '} 127.0.0.1:${String(f.local).padEnd(6)} -> ${f.target}  ${f.remote.host}:${f.remote.port}  ${f.connections} connection${f.connections === 1 ? '' : 's'}`);
				return <TextView title="Port-forwards (ctrl+d stops the selected one; esc back)" lines={lines.length ? lines : ['No port-forwards. F on a pod or a service starts one.']} offset={0} height={height} width={columns} theme={theme} />;
			}
			case 'pulses': {
				const lines = pulses ? pulsesLines({namespace, podTally: podFeed.getSnapshot().tally, nodes: nodeFeed.getSnapshot().items, pulses, now: Date.now()}) : [];
				const tones = {ok: theme.ok, warning: theme.warning, error: theme.error, accent: theme.accent};
				return <TextView title={`Pulses of ${namespace ?? 'all namespaces'} (every 5 s; esc closes)`} lines={lines.map(l => l.text)} colors={lines.map(l => (l.tone ? tones[l.tone] : undefined))} offset={0} height={height} width={columns} theme={theme} />;
			}
			case 'history': {
				const lines = historyLines(history).map((label, i) => `${i === mode.selected ? '>' : ' '} ${label}`);
				return <TextView title="Earlier views, newest first (enter goes there; esc back)" lines={lines.length ? lines : ['No earlier views yet: enter, :kind and tab open views; esc goes back one.']} offset={Math.max(0, mode.selected - height + 2)} height={height} width={columns} theme={theme} />;
			}
			case 'editor': return <EditorView state={mode} height={bodyHeight} width={columns} theme={theme} />;
			case 'logs': return <LogView title={mode.title} session={mode.session} view={mode.view} height={bodyHeight} width={columns} theme={theme} />;
			default: {
				const table = <ResourceTable type={type} items={items} top={topRef.current} selected={selected} height={height} width={split ? splitLeftWidth(columns) - 1 : columns} allNamespaces={!namespace} sort={sort} theme={theme} extra={usageColumns} wide={wide} marked={marks} />;
				return split ? <SplitView columns={columns} height={bodyHeight} theme={theme} focus={split.focus} pane={split.pane} list={table} /> : table;
			}
		}
	}

	const scope: Scope = mode.kind === 'logs' || (mode.kind === 'list' && split?.focus === 'logs' && split.pane) ? 'logs' : mode.kind === 'editor' ? 'editor' : mode.kind === 'text' || mode.kind === 'help' ? 'text' : 'list';
	// Help and quit are pinned to the footer's right end: the rest gives way on a narrow terminal.
	const pinnedIds = scope === 'list' ? ['app.help', 'app.quit'] : [];
	const hint = (c: (typeof commands)[number]) => `<${c.keys[0]}> ${c.description.replace(/ \(.*\)$/, '')}`;
	// Only the keys that apply here: x reveals only on a Secret's YAML.
	const applies = (c: (typeof commands)[number]) => c.id !== 'secret.reveal' || (mode.kind === 'text' && !!mode.secret);
	const footer = commands.filter(c => c.scopes.includes(scope) && !c.quiet && !pinnedIds.includes(c.id) && applies(c)).map(hint).join('  ');
	const pinned = commands.filter(c => pinnedIds.includes(c.id)).map(hint).join('  ');
	return (
		// One row short of the terminal: at full height Ink clears the screen on every frame (flicker).
		<Box flexDirection="column" height={rows - 1}>
			<Header width={columns} theme={theme} readonly={readonly} where={client.description} namespace={namespace} type={type} state={snapshot.state}
				nodes={nodeCounts} pods={podCounts} memoryMb={memoryMb} pane={paneOf(type)} shown={items.length} total={snapshot.items.length} filter={filterText} sort={sort} />
			{showTrail && <Line width={columns} color={theme.muted} segments={[breadcrumb(history, viewNow(), columns - 24), '  (esc back, H history)']} />}
			{/* No overflow="hidden": Ink would cut every line again with its slow ANSI slicer; the views fit their lines and rows already. */}
			<Box flexDirection="column" flexGrow={1} flexShrink={1}>
				{body()}
			</Box>
			{examplesOffered && <Line width={columns} color={theme.accent} segments={['This namespace is empty. Press ', {text: 'A', bold: true}, ' to apply the examples/ folder (the manifests from the user\'s notes).']} />}
			{mode.kind === 'confirm' && <ConfirmDialog theme={theme} width={columns} verb={mode.verb} type={mode.type} targets={mode.targets} choice={mode.choice} typeName={prefs.protection(context) === 'type-name'} typed={mode.typed} />}
			{mode.kind === 'input' && mode.completion && <Line width={columns} color={theme.muted} segments={mode.completion.candidates.flatMap((c, i) => [i ? '  ' : '', {text: c, inverse: i === mode.completion!.choice, color: i === mode.completion!.choice ? theme.accent : undefined}])} />}
			{mode.kind === 'input' && <Prompt width={columns} label={promptLabels[mode.purpose]} line={mode} />}
			<StatusLine width={columns} theme={theme} text={status.text} tone={status.tone} />
			<Footer width={columns} theme={theme} text={footer} pinned={pinned} />
		</Box>
	);
}

const promptLabels: Record<PromptPurpose, string> = {
	command: ':', filter: '/', new: 'new: ', forward: 'port-forward [LOCAL:]PORT: ', container: 'shell in container: ', scale: 'replicas: ',
};

const builtinCommandWords = ['ns', 'apply', 'theme', 'pf', 'xray', 'pulses', 'aliases', 'quit'];
/** Every kind by its names, plural first (computed once: `:` asks on each Tab and unknown word). */
const kindNames = [...panes.flatMap(p => p.kinds), ...resourceTypes].map(t => [t.plural, ...t.shortNames]);
const kindWords = kindNames.flat();

const noSubscribe = () => () => {};
const zero = () => 0;

/** What the header counts: pods by STATUS, nodes by readiness (kept by the feeds per event). */
const nodeReadiness = (node: KubeObject) => (((node.status as Rec)?.conditions ?? []).some((c: Rec) => c.type === 'Ready' && c.status === 'True') ? 'Ready' : 'NotReady');
const tallyFor = (kind: string) => (kind === 'Pod' ? podStatus : kind === 'Node' ? nodeReadiness : undefined);

/** "3 Running, 1 Pending" */
const podSummary = (snapshot: FeedSnapshot) => [...snapshot.tally].map(([status, n]) => `${n} ${status}`).join(', ') || 'no pods';

/** Ready nodes of all: "2/3" */
const nodeSummary = (snapshot: FeedSnapshot) => `${snapshot.tally.get('Ready') ?? 0}/${snapshot.items.length}`;


