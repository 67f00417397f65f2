// The dashboard: the state (state.ts) changed only by the reducer
// (update.ts), effects run in one place (effects.ts), and the screen drawn
// from the state and the feeds (list + watch) of what is on it. This file
// wires them: it keeps the feeds and pollers the state asks for, hands each
// key to the reducer with what it reads (Env), and switches the screen.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import {Box, useApp, useStdin, useStdout} from 'ink';
import {useEffect, useMemo, useRef, useState, useSyncExternalStore} from 'react';
import type {KubeObject} from '../api/object.js';
import {resolveType} from '../api/resources.js';
import {EmbeddedClient} from '../client/embedded.js';
import type {ClusterClient} from '../client/types.js';
import {podStatus} from '../render/columns.js';
import {formatCores, formatMebibytes} from '../render/format.js';
import {pathCandidates} from './completion.js';
import {type EffectDeps, followLive, runEffect} from './effects.js';
import {type FeedSnapshot, ResourceFeed} from './feed.js';
import {useKeyQueue} from './hooks/use-key-queue.js';
import {commandIn, type KeyCommand, keyCommandsWith, type Scope} from './keymap.js';
import {MetricsHistory, sparkline} from './metrics-history.js';
import {breadcrumb, historyLines, type View} from './navigation.js';
import {podSelectorOf} from './objects.js';
import {paneOf} from './panes.js';
import {PortForwards} from '../client/operations/port-forward.js';
import {Permissions, refusalText} from './permissions.js';
import {Prefs} from './prefs.js';
import {Pulses, pulsesLines} from './pulses.js';
import {reachOf} from './reach.js';
import {slimObject} from './slim.js';
import type {RemoteSession} from './remote.js';
import type {Contexts} from './run.js';
import type {DashState, Env, Msg, PromptPurpose} from './state.js';
import {objectKey, parseFilter, scrollWindow, visibleObjects} from './table-model.js';
import {builtinThemes, initialTheme} from './theme.js';
import {helpFor, initialState, selectedIndex, update} from './update.js';
import {ConfirmDialog, Footer, Header, Prompt, StatusLine} from './views/chrome.js';
import {EditorView} from './views/editor-view.js';
import {Line} from './views/fit.js';
import {LogView} from './views/log-view.js';
import {type ExtraColumns, ResourceTable} from './views/resource-table.js';
import {SplitView, splitLeftWidth} from './views/split-view.js';
import {TextView} from './views/text-view.js';

const slimFeed = {project: slimObject};
const examplesDir = fileURLToPath(new URL('../../../examples', import.meta.url));
/** Checked once: the offer is asked about on every frame. */
const haveExamples = fs.existsSync(examplesDir);
const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));

export interface AppProps {
	client: ClusterClient;
	initialNamespace?: string;
	prefs?: Prefs;
	/** --readonly: every mutating key is gone. */
	readonly?: boolean;
	/** The contexts `:ctx` switches between (run.tsx). */
	contexts?: Contexts;
	/** --theme: a built-in name or a file. */
	theme?: string;
	/** Served over SSH (server/ssh): the session's shell and port-forwards, and nothing of the server's files. */
	remote?: RemoteSession;
}

/** A feed for `type` unless the view's own feed is of that type already (then it is shared). */
function useFeed(client: ClusterClient, own: ResourceFeed, kind: string, plural: string, namespace: string | undefined, tally?: (obj: KubeObject) => string): ResourceFeed {
	const feed = useMemo(() => (own.type.kind === kind && own.namespace === namespace ? own : new ResourceFeed(client, resolveType(plural)!, namespace, tally, slimFeed)), [client, own, kind, plural, namespace, tally]);
	useEffect(() => () => {
		if (feed !== own) feed.stop();
	}, [feed, own]);
	return feed;
}

export function App({client, initialNamespace, prefs: givenPrefs, readonly: readonlyFlag, theme: themeFlag, contexts, remote}: AppProps) {
	const {exit} = useApp();
	const {stdout} = useStdout();
	const {setRawMode, isRawModeSupported} = useStdin();
	const rows = stdout.rows || 24;
	const columns = stdout.columns || 80;
	const prefs = useMemo(() => givenPrefs ?? new Prefs(), [givenPrefs]);
	const context = client.description;
	const readonlyAsked = !!readonlyFlag || prefs.protection(context) === 'readonly';
	const typeName = prefs.protection(context) === 'type-name';
	const {commands, warnings} = useMemo(() => keyCommandsWith(prefs.keyOverrides(), readonlyAsked), [prefs, readonlyAsked]);

	// The state lives in a ref as well as in React: keys typed faster than React renders each see the state the one before left.
	const stateRef = useRef<DashState | undefined>(undefined);
	stateRef.current ??= initialState({
		namespace: (() => {
			const ns = initialNamespace ?? prefs.lastNamespace(context) ?? 'default';
			return ns === 'all' ? undefined : ns;
		})(),
		theme: initialTheme(themeFlag, prefs.theme), warnings,
	});
	const [state, setState] = useState<DashState>(stateRef.current);
	const {view, mode, theme, split} = state;
	const {type, namespace} = view;
	// RBAC's answer for each namespace the user looks at: keys it would refuse are not offered.
	const permissions = useMemo(() => new Permissions(client), [client]);
	useSyncExternalStore(permissions.subscribe, permissions.getVersion);

	// The lists keep what their views read (slim.ts); describe, YAML and the editors GET the whole object.
	const feed = useMemo(() => new ResourceFeed(client, type, type.namespaced ? namespace : undefined, tallyFor(type.kind), slimFeed), [client, type, namespace]);
	useEffect(() => () => feed.stop(), [feed]);
	const snapshot = useSyncExternalStore(feed.subscribe, feed.getSnapshot);
	// Pod counts by status and the node count for the header, whatever kind is on screen; namespace names for completion.
	const podFeed = useFeed(client, feed, 'Pod', 'pods', namespace, podStatus);
	const nodeFeed = useFeed(client, feed, 'Node', 'nodes', undefined, nodeReadiness);
	const namespaceFeed = useFeed(client, feed, 'Namespace', 'namespaces', undefined);
	const ownNamespaces = useRef<string[]>([]);
	useEffect(() => {
		if (!(client instanceof EmbeddedClient)) return;
		client.engine('GET', '/kubedeck/v1/namespaces').then(r => (ownNamespaces.current = (r as {namespaces: string[]}).namespaces), () => {});
	}, [client]);
	// The header subscribes to summaries, not to the lists: a heartbeat of 100 nodes (10 events a
	// second) or a pod's status change elsewhere redraws nothing unless a count changes.
	const podCounts = useSyncExternalStore(podFeed.subscribe, () => podSummary(podFeed.getSnapshot()));
	const nodeCounts = useSyncExternalStore(nodeFeed.subscribe, () => nodeSummary(nodeFeed.getSnapshot()));
	const podsNow = () => podFeed.getSnapshot().items;

	// CPU and memory sparklines while pods are on screen; :pulses polls node metrics and events only while it is open.
	const metrics = useMemo(() => (type.kind === 'Pod' ? new MetricsHistory(client, namespace) : undefined), [client, type, namespace]);
	const pulses = useMemo(() => (state.pulses ? new Pulses(client, namespace) : undefined), [client, namespace, state.pulses]);
	usePoller(metrics);
	usePoller(pulses);
	const usageColumns: ExtraColumns | undefined = metrics && {
		names: ['CPU', 'MEM'],
		cells(obj) {
			const usage = metrics.get(obj.metadata.namespace!, obj.metadata.name!);
			if (!usage?.cpu.length) return [metrics.error ? 'n/a' : '-', metrics.error ? 'n/a' : '-'];
			return [`${sparkline(usage.cpu)} ${formatCores(usage.cpu.at(-1)!)}`, `${sparkline(usage.memory)} ${formatMebibytes(usage.memory.at(-1)!)}`];
		},
	};
	// Services and Ingresses: where to curl them from this host.
	const reachColumns: ExtraColumns | undefined = type.kind === 'Service' || type.kind === 'Ingress' ? {names: ['Reach'], cells: obj => [reachOf(obj, {privileged: process.getuid?.() === 0})]} : undefined;
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

	// The rows as shown, for the state's view (kept while neither the list nor the view's filter and sort change).
	const rowsCache = useRef<{view: View; snapshot: FeedSnapshot; rows: KubeObject[]} | undefined>(undefined);
	const rowsOf = (s: DashState): KubeObject[] => {
		if (feed.type !== s.view.type) return [];
		const snap = feed.getSnapshot();
		const c = rowsCache.current;
		if (c && c.snapshot === snap && c.view.type === s.view.type && c.view.filter === s.view.filter && c.view.sort === s.view.sort) return c.rows;
		const parsed = parseFilter(s.view.filter);
		const rows = visibleObjects(s.view.type, snap.items, 'error' in parsed ? {kind: 'none'} : parsed, s.view.sort, Date.now());
		rowsCache.current = {view: s.view, snapshot: snap, rows};
		return rows;
	};
	/** The namespace whose rules apply to the selected row (its own in the all-namespaces view). */
	const selectedRow = (s: DashState): KubeObject | undefined => {
		const rows = rowsOf(s);
		return rows[Math.max(0, selectedIndex(s.view, rows))];
	};
	const rulesNamespace = (s: DashState) => s.view.namespace ?? (s.view.type.namespaced ? selectedRow(s)?.metadata.namespace : undefined) ?? 'default';
	const readonlyIn = (s: DashState) => readonlyAsked || permissions.changesNothing(rulesNamespace(s));
	/** The keys this view offers: what the user asked for less what RBAC would refuse on the selected row. */
	const commandsIn = (s: DashState) => {
		const ns = rulesNamespace(s);
		const row = selectedRow(s);
		return commands.filter(c => !permissions.refused(c.id, s.view.type, ns, row));
	};
	/** Why a key that is not offered here would be refused, in kube-apiserver's words. */
	const refusalIn = (s: DashState) => (name: string, scope: Scope) => {
		const id = commandIn(commands, scope, name);
		const ns = rulesNamespace(s);
		const need = id && permissions.refused(id, s.view.type, ns, selectedRow(s));
		return need ? refusalText(need, ns, s.view.type) : undefined;
	};
	const examplesOfferedIn = (s: DashState) => !readonlyIn(s) && s.mode.kind === 'list' && s.view.type.kind === 'Pod' && feed.type === s.view.type
		&& feed.getSnapshot().state === 'live' && feed.getSnapshot().items.length === 0 && !s.view.filter && haveExamples;
	// Rows for the body: the terminal less the header (2), status and footer (2), Ink's spare row,
	// and whatever sits under the body now (a dialog, a prompt, the examples offer, the breadcrumb).
	const layoutOf = (s: DashState) => {
		const below = s.mode.kind === 'confirm' ? (typeName ? 4 : 3) : s.mode.kind === 'input' ? (s.mode.completion ? 2 : 1) : 0;
		const showTrail = s.history.length > 0 && ['list', 'input', 'confirm', 'history'].includes(s.mode.kind);
		const examplesOffered = examplesOfferedIn(s);
		return {showTrail, examplesOffered, bodyHeight: Math.max(3, rows - 6 - below - (examplesOffered ? 1 : 0) - (showTrail ? 1 : 0))};
	};
	const forwards = useMemo(() => new PortForwards(), []);
	useEffect(() => () => forwards.stopAll(), [forwards]);
	const themes = useMemo(() => builtinThemes(), []);
	const envOf = (s: DashState): Env => {
		const layout = layoutOf(s);
		return {
			items: rowsOf(s), pods: podsNow,
			// A user who may not list namespaces completes the ones they are bound in (the engine says which).
			namespaces: () => (namespaceFeed.getSnapshot().state === 'forbidden' ? ownNamespaces.current : namespaceFeed.getSnapshot().items.map(n => n.metadata.name!)),
			forwards: forwards.list(), commands: commandsIn(s), refusal: refusalIn(s), bodyHeight: layout.bodyHeight, readonly: readonlyIn(s), typeName,
			favourites: prefs.favourites(context), aliases: prefs.aliases(), prefsPath: prefs.path, themes, files: remote ? noFiles : pathCandidates,
			examplesOffered: layout.examplesOffered, canExec: !!client.exec, now: Date.now(),
			contexts: contexts?.names ?? [], context: contexts?.current,
		};
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
		if (result.error) dispatch({kind: 'status', text: `error: ${argv[0]}: ${result.error.message}`, tone: 'error'});
		return result.status;
	};

	const deps: EffectDeps = {
		client, prefs, forwards, dispatch, exit, runOutside, pods: podsNow, theme: () => stateRef.current!.theme, examplesDir, cliPath,
		connectionArgs: contexts?.args ?? [], switchContext: contexts?.switchTo, remote,
	};
	function dispatch(msg: Msg): void {
		const step = update(stateRef.current!, msg, envOf(stateRef.current!));
		stateRef.current = step.state;
		setState(step.state);
		for (const effect of step.effects) runEffect(effect, deps);
	}

	useKeyQueue((input, key) => dispatch({kind: 'key', input, key}), {
		acceptsPaste: () => stateRef.current!.mode.kind === 'editor' && (stateRef.current!.mode as {typingSearch?: string}).typingSearch === undefined,
		onError: error => dispatch({kind: 'status', text: `error: ${error.message}`, tone: 'error'}),
	});

	// Re-render when a log session has news (it throttles itself); stop a session once nothing shows it.
	const logSession = mode.kind === 'logs' ? mode.session : undefined;
	const splitSession = split?.pane?.session;
	const [, setLogVersion] = useState(0);
	const redraw = () => setLogVersion(v => v + 1);
	useEffect(() => logSession?.subscribe(redraw), [logSession]);
	useEffect(() => () => logSession?.stop(), [logSession]);
	useEffect(() => splitSession?.subscribe(redraw), [splitSession]);
	useEffect(() => () => splitSession?.stop(), [splitSession]);
	// A Deployment's describe refreshes while it is open.
	const live = mode.kind === 'text' ? mode.live : undefined;
	const liveKey = live && objectKey(live);
	useEffect(() => (live ? followLive(live, {client, dispatch, pods: podsNow}) : undefined), [liveKey, client]);

	const items = rowsOf(state);
	const {showTrail, examplesOffered, bodyHeight} = layoutOf(state);
	const selected = Math.min(items.length - 1, selectedIndex(view, items));
	const current = items[selected] as KubeObject | undefined;
	const top = scrollWindow(Math.max(0, selected), view.top, bodyHeight - 1, items.length);
	const marks = state.marks;

	// Split view: the log pane follows the selection (a moment after it settles).
	const selectedForSplit = split && current && (current.kind === 'Pod' || podSelectorOf(current)) ? objectKey(current) : undefined;
	useEffect(() => {
		if (!selectedForSplit || stateRef.current!.split?.key === selectedForSplit || !current) return;
		const timer = setTimeout(() => runEffect({kind: 'logs', target: current, previous: false, where: 'split'}, deps), 300);
		return () => clearTimeout(timer);
	}, [selectedForSplit]);

	function body() {
		const height = bodyHeight - 1;
		switch (mode.kind) {
			case 'text': return <TextView title={mode.title} lines={mode.lines} offset={mode.offset} height={height} width={columns} theme={theme} yaml={mode.yaml} colors={mode.colors} />;
			case 'help': return <TextView title="Keys (esc to close)" lines={helpFor(envOf(state))} offset={mode.offset} height={height} width={columns} theme={theme} />;
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
				const lines = historyLines(state.history).map((label, i) => `${i === mode.selected ? '>' : ' '} ${label}`);
				return <TextView title="Earlier views, newest first (enter goes there; esc back)" lines={lines.length ? lines : ['No earlier views yet: enter, :kind and tab open views; esc goes back one.']} offset={Math.max(0, mode.selected - height + 2)} height={height} width={columns} theme={theme} />;
			}
			case 'editor': return <EditorView state={mode} height={bodyHeight} width={columns} theme={theme} />;
			case 'logs': return <LogView title={mode.title} session={mode.session} view={mode.view} height={bodyHeight} width={columns} theme={theme} />;
			default: {
				if (snapshot.state === 'forbidden') {
					return (
						<Box flexDirection="column">
							<Line width={columns} color={theme.error} segments={[snapshot.error ?? 'forbidden']} />
							{type.kind === 'Namespace' && ownNamespaces.current.length > 0 && <Line width={columns} segments={[`Namespaces you are bound in: ${ownNamespaces.current.join(', ')} (:ns NAME opens one)`]} />}
						</Box>
					);
				}
				const table = <ResourceTable type={type} items={items} top={top} selected={Math.max(0, selected)} height={height} width={split ? splitLeftWidth(columns) - 1 : columns} allNamespaces={!namespace} sort={view.sort} theme={theme} extra={usageColumns ?? reachColumns} wide={state.wide} marked={marks} />;
				return split ? <SplitView columns={columns} height={bodyHeight} theme={theme} focus={split.focus} pane={split.pane} list={table} /> : table;
			}
		}
	}

	const scope: Scope = mode.kind === 'logs' || (mode.kind === 'list' && split?.focus === 'logs' && split.pane) ? 'logs' : mode.kind === 'editor' ? 'editor' : mode.kind === 'text' || mode.kind === 'help' ? 'text' : 'list';
	// Help and quit are pinned to the footer's right end: the rest gives way on a narrow terminal.
	const pinnedIds = scope === 'list' ? ['app.help', 'app.quit'] : [];
	const offered = commandsIn(state);
	const hint = (c: KeyCommand) => `<${c.keys[0]}> ${c.description.replace(/ \(.*\)$/, '')}`;
	// Only the keys that apply here: x reveals only on a Secret's YAML.
	const applies = (c: KeyCommand) => c.id !== 'secret.reveal' || (mode.kind === 'text' && !!mode.secret);
	// A kind's own keys (t and S on CronJobs) lead the footer where they work, and stay out of it elsewhere.
	const ownKeys = scope === 'list' && mode.kind === 'list' && type.kind === 'CronJob' ? offered.filter(c => c.id.startsWith('cronjob.')) : [];
	const footer = [...ownKeys, ...offered.filter(c => c.scopes.includes(scope) && !c.quiet && !pinnedIds.includes(c.id) && applies(c))].map(hint).join('  ');
	const pinned = offered.filter(c => pinnedIds.includes(c.id)).map(hint).join('  ');
	return (
		// One row short of the terminal: at full height Ink clears the screen on every frame (flicker).
		<Box flexDirection="column" height={rows - 1}>
			<Header width={columns} theme={theme} readonly={readonlyIn(state)} where={client.description} namespace={namespace} type={type} state={snapshot.state}
				nodes={nodeCounts} pods={podCounts} memoryMb={memoryMb} pane={paneOf(type)} shown={items.length} total={snapshot.items.length} filter={view.filter} sort={view.sort} />
			{showTrail && <Line width={columns} color={theme.muted} segments={[breadcrumb(state.history, {...view, top}, columns - 24), '  (esc back, H history)']} />}
			{/* No overflow="hidden": Ink would cut every line again with its slow ANSI slicer; the views fit their lines and rows already. */}
			<Box flexDirection="column" flexGrow={1} flexShrink={1}>
				{body()}
			</Box>
			{examplesOffered && <Line width={columns} color={theme.accent} segments={['This namespace is empty. Press ', {text: 'A', bold: true}, ' to apply the examples/ folder (the manifests from the user\'s notes).']} />}
			{mode.kind === 'confirm' && <ConfirmDialog theme={theme} width={columns} verb={mode.verb} type={mode.type} targets={mode.targets} choice={mode.choice} typeName={typeName} typed={mode.typed} />}
			{mode.kind === 'input' && mode.completion && <Line width={columns} color={theme.muted} segments={mode.completion.candidates.flatMap((c, i) => [i ? '  ' : '', {text: c, inverse: i === mode.completion!.choice, color: i === mode.completion!.choice ? theme.accent : undefined}])} />}
			{mode.kind === 'input' && <Prompt width={columns} label={promptLabels[mode.purpose]} line={mode} />}
			<StatusLine width={columns} theme={theme} text={state.status.text} tone={state.status.tone} />
			<Footer width={columns} theme={theme} text={footer} pinned={pinned} />
		</Box>
	);
}

/** Start a poller while it exists, stop it when it goes, and redraw after each poll. */
function usePoller(poller: MetricsHistory | Pulses | undefined): void {
	useEffect(() => {
		poller?.start();
		return () => poller?.stop();
	}, [poller]);
	useSyncExternalStore(poller?.subscribe ?? noSubscribe, poller?.getVersion ?? zero);
}

const promptLabels: Record<PromptPurpose, string> = {
	command: ':', filter: '/', new: 'new: ', forward: 'port-forward [LOCAL:]PORT: ', container: 'shell in container: ', scale: 'replicas: ',
};

const noSubscribe = () => () => {};
/** Over SSH, :apply completes no paths: the server's files are not the user's. */
const noFiles = () => [];
const zero = () => 0;

/** What the header counts: pods by STATUS, nodes by readiness (kept by the feeds per event). */
const nodeReadiness = (node: KubeObject) => (((node.status as Record<string, any>)?.conditions ?? []).some((c: Record<string, any>) => c.type === 'Ready' && c.status === 'True') ? 'Ready' : 'NotReady');
const tallyFor = (kind: string) => (kind === 'Pod' ? podStatus : kind === 'Node' ? nodeReadiness : undefined);

/** "3 Running, 1 Pending" */
const podSummary = (snapshot: FeedSnapshot) => [...snapshot.tally].map(([status, n]) => `${n} ${status}`).join(', ') || 'no pods';

/** Ready nodes of all: "2/3" */
const nodeSummary = (snapshot: FeedSnapshot) => `${snapshot.tally.get('Ready') ?? 0}/${snapshot.items.length}`;
