// Start the dashboard on a connected ClusterClient; resolves when the user quits.
import {render} from 'ink';
import type {ClusterClient} from '../client/types.js';
import {App} from './app.js';

/**
 * At most 60 frames a second: Ink's default 30 put a key's frame 45 ms after
 * the key on average (bench/dashboard.tsx); 60 keeps p99 under 50 ms at
 * 10,000 pods, and the limit only matters while things change. Ink 6.8's
 * incrementalRendering left stale lines behind when a view got shorter
 * (seen in tmux), so frames are drawn whole; the root box stays one row
 * short of the terminal, which is what keeps Ink from clearing the screen.
 */
export const inkOptions = {maxFps: 60} as const;

export async function runDashboard(client: ClusterClient, options: {namespace?: string; readonly?: boolean; theme?: string} = {}): Promise<void> {
	const instance = render(<App client={client} initialNamespace={options.namespace} readonly={options.readonly} theme={options.theme} />, inkOptions);
	await instance.waitUntilExit();
}
