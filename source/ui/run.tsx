// Start the dashboard on a connected ClusterClient; resolves when the user quits.
import {render} from 'ink';
import {useEffect, useState} from 'react';
import type {ClusterClient} from '../client/types.js';
import {App} from './app.js';
import type {Prefs} from './prefs.js';
import type {RemoteSession} from './remote.js';

/** The contexts `:ctx` lists, and how to connect to one. */
export interface ContextSwitcher {
	names: string[];
	current: string;
	/** The CLI flags that reach the current context (the shell runs `kubedeck exec` with them). */
	args: string[];
	connect(name: string): Promise<{client: ClusterClient; namespace?: string; args: string[]}>;
}

/** What App gets of the switcher: the names, the current one, and a switch that says how it went. */
export interface Contexts {
	names: string[];
	current: string;
	args: string[];
	switchTo(name: string): Promise<void>;
}

type Options = {namespace?: string; readonly?: boolean; theme?: string; contexts?: ContextSwitcher; prefs?: Prefs; remote?: RemoteSession};

/** The terminal an SSH session gives the dashboard instead of the process's own (server/ssh/terminal.ts). */
export interface DashboardStreams {
	stdin: NodeJS.ReadStream;
	stdout: NodeJS.WriteStream;
	stderr: NodeJS.WriteStream;
}

/**
 * The App on one cluster at a time: `:ctx NAME` connects to the other one, closes the old client
 * and starts a fresh App on the new one (its own feeds, view and history), as k9s does.
 */
function Root({first, options}: {first: ClusterClient; options: Options}) {
	const switcher = options.contexts;
	const [at, setAt] = useState({client: first, namespace: options.namespace, context: switcher?.current ?? '', args: switcher?.args ?? []});
	const contexts: Contexts | undefined = switcher && {
		names: switcher.names, current: at.context, args: at.args,
		async switchTo(name) {
			const next = await switcher.connect(name);
			setAt({client: next.client, namespace: next.namespace, context: name, args: next.args});
		},
	};
	// The old client is closed once the App that used it is gone (its feeds stop first).
	useEffect(() => () => at.client.close(), [at.client]);
	return <App key={`${at.context}\u0000${at.client.description}`} client={at.client} initialNamespace={at.namespace} readonly={options.readonly} theme={options.theme} contexts={contexts} prefs={options.prefs} remote={options.remote} />;
}

/**
 * At most 60 frames a second: Ink's default 30 put a key's frame 45 ms after
 * the key on average (bench/dashboard.tsx); 60 keeps p99 under 50 ms at
 * 10,000 pods, and the limit only matters while things change. Ink 6.8's
 * incrementalRendering left stale lines behind when a view got shorter
 * (seen in tmux), so frames are drawn whole; the root box stays one row
 * short of the terminal, which is what keeps Ink from clearing the screen.
 */
export const inkOptions = {maxFps: 60} as const;

export async function runDashboard(client: ClusterClient, options: Options = {}): Promise<void> {
	const instance = render(<Root first={client} options={options} />, inkOptions);
	await instance.waitUntilExit();
}

/**
 * One dashboard on a session's own terminal (one of many in the engine's process): Ink leaves
 * the process's console and signals alone (patchConsole off, ctrl-c ends only this dashboard).
 * Resolves when the user quits; `unmount` ends it from outside (the session dropped).
 */
export function renderDashboard(client: ClusterClient, options: Options, streams: DashboardStreams): {exited: Promise<unknown>; unmount(): void} {
	const instance = render(<Root first={client} options={options} />, {...inkOptions, ...streams, patchConsole: false, exitOnCtrlC: true});
	return {exited: instance.waitUntilExit(), unmount: () => instance.unmount()};
}
