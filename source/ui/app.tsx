// The dashboard: one screen switch, one key dispatcher. Views only render;
// state lives in the reducer-like `mode`; data comes from ClusterClient feeds.
import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import {Box, type Key, Text, useApp, useInput, useStdout} from 'ink';
import {useEffect, useMemo, useRef, useState, useSyncExternalStore} from 'react';
import {formatStatus, StatusError} from '../api/errors.js';
import type {KubeObject} from '../api/object.js';
import {objectRef, resolveType, type ResourceType} from '../api/resources.js';
import type {ClusterClient, LogStream} from '../client/types.js';
import {describeObject} from '../commands/describe-printer.js';
import {eventsFor} from '../commands/describe.js';
import {toYaml} from '../commands/output.js';
import {podStatus} from '../render/columns.js';
import {isoTime} from '../engine/clock.js';
import {applyManifests} from '../commands/apply.js';
import {readManifests} from '../commands/manifests.js';
import {ResourceFeed} from './feed.js';
import {commandFor, keyCommands, keyName} from './keymap.js';
import {TextView} from './views/text-view.js';
import {ResourceTable} from './views/resource-table.js';

const examplesDir = fileURLToPath(new URL('../../../examples', import.meta.url));

type Mode =
	| {kind: 'list'}
	| {kind: 'input'; purpose: 'command' | 'filter' | 'scale'; text: string; target?: KubeObject}
	| {kind: 'confirm'; target: KubeObject; choice: 'cancel' | 'delete'}
	| {kind: 'text'; title: string; lines: string[]; offset: number; follow?: boolean; secret?: KubeObject}
	| {kind: 'help'};

/** A Secret with its values hidden, as the dashboard shows it until asked (k9s shows them; its users asked otherwise). */
export function maskSecret(secret: KubeObject): KubeObject {
	const hide = (data: unknown) => Object.fromEntries(Object.keys((data ?? {}) as object).map(k => [k, '********']));
	const annotations = {...secret.metadata.annotations};
	// The last-applied annotation holds the manifest, values included.
	if (annotations['kubectl.kubernetes.io/last-applied-configuration']) annotations['kubectl.kubernetes.io/last-applied-configuration'] = '********';
	return {...secret, metadata: {...secret.metadata, annotations}, data: hide(secret.data), ...(secret.stringData ? {stringData: hide(secret.stringData)} : {})};
}

export function App({client, initialNamespace = 'default'}: {client: ClusterClient; initialNamespace?: string}) {
	const {exit} = useApp();
	const {stdout} = useStdout();
	const rows = stdout.rows || 24;
	const [type, setType] = useState<ResourceType>(resolveType('pods')!);
	const [namespace, setNamespace] = useState<string | undefined>(initialNamespace);
	const feed = useMemo(() => new ResourceFeed(client, type, type.namespaced ? namespace : undefined), [client, type, namespace]);
	useEffect(() => () => feed.stop(), [feed]);
	const snapshot = useSyncExternalStore(feed.subscribe, feed.getSnapshot);
	// Pod counts by status for the header, whatever kind is on screen.
	const podFeed = useMemo(() => (type.kind === 'Pod' ? feed : new ResourceFeed(client, resolveType('pods')!, namespace)), [client, feed, type, namespace]);
	useEffect(() => () => {
		if (podFeed !== feed) podFeed.stop();
	}, [podFeed, feed]);
	const pods = useSyncExternalStore(podFeed.subscribe, podFeed.getSnapshot);
	const podCounts = useMemo(() => {
		const counts = new Map<string, number>();
		for (const pod of pods.items) counts.set(podStatus(pod), (counts.get(podStatus(pod)) ?? 0) + 1);
		return [...counts].map(([status, n]) => `${n} ${status}`).join(', ') || 'no pods';
	}, [pods]);
	// Ages move on even when nothing changes: redraw every second.
	const [, setTick] = useState(0);
	useEffect(() => {
		const timer = setInterval(() => setTick(t => t + 1), 1000);
		return () => clearInterval(timer);
	}, []);
	const [filter, setFilter] = useState('');
	const items = useMemo(() => snapshot.items.filter(o => !filter || o.metadata.name!.includes(filter)), [snapshot, filter]);
	const [selectedKey, setSelectedKey] = useState<string | undefined>();
	// Keep the selection on the same object when the list changes (no jumping rows).
	const selected = Math.max(0, Math.min(items.length - 1, selectedKey ? items.findIndex(o => `${o.metadata.namespace}/${o.metadata.name}` === selectedKey) : 0));
	const current = items[selected] as KubeObject | undefined;
	// Keys can arrive faster than React renders; the dispatcher reads and writes
	// the mode through a ref so no key sees a stale mode.
	const [mode, setModeState] = useState<Mode>({kind: 'list'});
	const modeRef = useRef<Mode>(mode);
	const setMode = (next: Mode | ((m: Mode) => Mode)) => {
		modeRef.current = typeof next === 'function' ? next(modeRef.current) : next;
		setModeState(modeRef.current);
	};
	const [status, setStatus] = useState('');
	const [logStream, setLogStream] = useState<LogStream | undefined>();
	const select = (index: number) => {
		const obj = items[Math.max(0, Math.min(items.length - 1, index))];
		if (obj) setSelectedKey(`${obj.metadata.namespace}/${obj.metadata.name}`);
	};
	const report = (promise: Promise<string>) => promise.then(setStatus, error => setStatus(error instanceof StatusError ? formatStatus(error.status) : `error: ${(error as Error).message}`));
	const closeText = () => {
		logStream?.stop();
		setLogStream(undefined);
		setMode({kind: 'list'});
	};

	const runCommand = (text: string) => {
		const [word, arg] = text.trim().split(/\s+/);
		if (word === 'q' || word === 'quit') return exit();
		if (word === 'ns' || word === 'namespace') {
			if (arg) {
				setNamespace(arg === 'all' ? undefined : arg);
				setStatus(`namespace ${arg}`);
				return;
			}
		}
		const next = resolveType(word ?? '');
		if (!next) return setStatus(`error: the server doesn't have a resource type "${word}"`);
		setType(next);
		setSelectedKey(undefined);
		if (arg) setNamespace(arg === 'all' ? undefined : arg);
	};

	const openLogs = (pod: KubeObject) => {
		const lines: string[] = [];
		const title = `Logs ${pod.metadata.namespace}/${pod.metadata.name} (following; esc to close)`;
		setMode({kind: 'text', title, lines: [], offset: 0, follow: true});
		const stream = client.logs(pod.metadata.namespace!, pod.metadata.name!, {follow: true, tailLines: 1000}, text => {
			lines.push(...text.replace(/\n$/, '').split('\n'));
			if (lines.length > 5000) lines.splice(0, lines.length - 5000);
			setMode(m => (m.kind === 'text' && m.follow ? {...m, lines: [...lines], offset: Math.max(0, lines.length - (rows - 4))} : m));
		});
		stream.done.catch(error => setStatus(error instanceof StatusError ? error.message : String(error)));
		setLogStream(stream);
	};

	useInput((input, key) => {
		// A fast typist (or tmux send-keys) can deliver "deploy\r" or "\x7f3\r" as one chunk: take it key by key.
		if (input.length > 1 && /[\r\n\x7f\b]/.test(input) && !key.ctrl && !key.meta) {
			for (const part of input.split(/([\r\n\x7f\b])/)) {
				if (part === '\r' || part === '\n') handleKey('', {return: true});
				else if (part === '\x7f' || part === '\b') handleKey('', {backspace: true});
				else if (part) handleKey(part, {});
			}
			return;
		}
		handleKey(input, key);
	});

	function handleKey(input: string, key: Partial<Key>): void {
		const name = keyName(input, key);
		const mode = modeRef.current;
		if (mode.kind === 'input') {
			if (name === 'escape') return setMode({kind: 'list'});
			if (name === 'return') {
				setMode({kind: 'list'});
				if (mode.purpose === 'command') runCommand(mode.text);
				else if (mode.purpose === 'filter') setFilter(mode.text);
				else if (mode.purpose === 'scale' && mode.target) {
					const replicas = Number(mode.text);
					if (!Number.isInteger(replicas) || replicas < 0) return setStatus('error: replicas must be a whole number >= 0');
					const target = mode.target;
					report(client.scale(type, target.metadata.namespace!, target.metadata.name!, replicas).then(() => `${objectRef(type, target.metadata.name!)} scaled to ${replicas}`));
				}
				return;
			}
			if (key.backspace || key.delete) return setMode({...mode, text: mode.text.slice(0, -1)});
			if (input && !key.ctrl && !key.meta) setMode({...mode, text: mode.text + input});
			return;
		}
		if (mode.kind === 'confirm') {
			if (name === 'left' || name === 'right' || name === 'tab') return setMode({...mode, choice: mode.choice === 'cancel' ? 'delete' : 'cancel'});
			if (name === 'escape' || (name === 'return' && mode.choice === 'cancel')) return setMode({kind: 'list'});
			if (name === 'return') {
				const target = mode.target;
				setMode({kind: 'list'});
				report(client.delete(type, target.metadata.namespace, target.metadata.name!).then(() => `${objectRef(type, target.metadata.name!)} deleted`));
			}
			return;
		}
		const command = commandFor(name);
		if (mode.kind === 'text' || mode.kind === 'help') {
			if (command === 'nav.back' || name === 'q') return closeText();
			if (mode.kind === 'text' && mode.secret && commandFor(name) === 'secret.reveal') {
				const decoded = {...mode.secret, data: Object.fromEntries(Object.entries((mode.secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))};
				return setMode({kind: 'text', title: `YAML ${objectRef(type, mode.secret.metadata.name!)} (values decoded)`, lines: toYaml(decoded).split('\n'), offset: 0});
			}
			if (mode.kind === 'text' && command === 'nav.down') return setMode({...mode, offset: mode.offset + 1, follow: false});
			if (mode.kind === 'text' && command === 'nav.up') return setMode({...mode, offset: Math.max(0, mode.offset - 1), follow: false});
			return;
		}
		switch (command) {
			case 'app.quit': return exit();
			case 'nav.up': return select(selected - 1);
			case 'nav.down': return select(selected + 1);
			case 'nav.back': return setFilter('');
			case 'mode.command': return setMode({kind: 'input', purpose: 'command', text: ''});
			case 'mode.filter': return setMode({kind: 'input', purpose: 'filter', text: filter});
			case 'app.help': return setMode({kind: 'help'});
		}
		if (input === 'A' && examplesOffered) {
			setStatus('applying examples/ ...');
			report(readManifests([examplesDir], {stdin: process.stdin}).then(m => applyManifests(client, m, namespace ?? 'default')).then(r => (r.errors.length ? `error: ${r.errors[0]}` : `applied examples/: ${r.lines.join(', ')}`)));
			return;
		}
		if (!current) return;
		switch (command) {
			case 'view.describe':
				void eventsFor(client, current).then(events => setMode({kind: 'text', title: `Describe ${objectRef(type, current.metadata.name!)}`, lines: describeObject(current, events).split('\n'), offset: 0}));
				return;
			case 'view.yaml':
				if (current.kind === 'Secret') return setMode({kind: 'text', title: `YAML ${objectRef(type, current.metadata.name!)} (values hidden; x reveals)`, lines: toYaml(maskSecret(current)).split('\n'), offset: 0, secret: current});
				return setMode({kind: 'text', title: `YAML ${objectRef(type, current.metadata.name!)}`, lines: toYaml(current).split('\n'), offset: 0});
			case 'view.logs':
				if (type.kind === 'Pod') openLogs(current);
				else setStatus('logs: select a pod');
				return;
			case 'object.scale':
				if (!type.subresources?.includes('scale')) return setStatus(`${type.kind} cannot be scaled`);
				return setMode({kind: 'input', purpose: 'scale', text: String((current.spec as {replicas?: number}).replicas ?? ''), target: current});
			case 'object.restart':
				if (type.kind !== 'Deployment') return setStatus('rollout restart: select a deployment');
				report(client.patch(type, current.metadata.namespace, current.metadata.name!, {spec: {template: {metadata: {annotations: {'kubectl.kubernetes.io/restartedAt': isoTime(Date.now())}}}}}, 'strategic').then(() => `${objectRef(type, current.metadata.name!)} restarted`));
				return;
			case 'object.delete':
				return setMode({kind: 'confirm', target: current, choice: 'cancel'});
		}
	}

	// A new user's empty cluster offers the examples, so something runs within a minute.
	const examplesOffered = snapshot.state === 'live' && type.kind === 'Pod' && snapshot.items.length === 0 && fs.existsSync(examplesDir);
	const bodyHeight = rows - 5;
	const footer = keyCommands.filter(c => !c.id.startsWith('nav.')).map(c => `<${c.keys[0]}> ${c.description}`).join('  ');
	return (
		<Box flexDirection="column">
			<Text>
				<Text bold color="cyan">kubedeck</Text> {client.description}  ns: <Text bold>{namespace ?? 'all'}</Text>  view: <Text bold>{type.plural}</Text>  {snapshot.state === 'live' ? <Text color="green">● live</Text> : <Text color="yellow">● {snapshot.state}</Text>}  {items.length} {type.plural}{filter ? `  /${filter}` : ''}  pods: {podCounts}
			</Text>
			{mode.kind === 'text' ? <TextView title={mode.title} lines={mode.lines} offset={mode.offset} height={bodyHeight} /> :
				mode.kind === 'help' ? <TextView title="Keys (esc to close)" lines={keyCommands.map(c => `${c.keys.join(', ').padEnd(16)}${c.description}${c.dangerous ? '  (asks first)' : ''}`)} offset={0} height={bodyHeight} /> :
					<ResourceTable type={type} items={items} selected={selected} height={bodyHeight} allNamespaces={!namespace} />}
			{mode.kind === 'list' && examplesOffered && <Text color="cyan">This namespace is empty. Press <Text bold>A</Text> to apply the examples/ folder (the manifests from the user's notes).</Text>}
			{mode.kind === 'confirm' && (
				<Box borderStyle="round" borderColor="red" paddingX={1}>
					<Text>Delete {objectRef(type, mode.target.metadata.name!)}?  <Text inverse={mode.choice === 'cancel'}> Cancel </Text>  <Text inverse={mode.choice === 'delete'} color="red"> Delete </Text></Text>
				</Box>
			)}
			{mode.kind === 'input' && <Text>{mode.purpose === 'command' ? ':' : mode.purpose === 'filter' ? '/' : 'replicas: '}{mode.text}<Text inverse> </Text></Text>}
			<Text color={status.startsWith('error') || status.startsWith('Error') || status.startsWith('The ') ? 'red' : 'gray'}>{status || ' '}</Text>
			<Text dimColor wrap="truncate-end">{footer}</Text>
		</Box>
	);
}
