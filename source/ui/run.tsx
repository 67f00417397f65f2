// Start the dashboard on a connected ClusterClient; resolves when the user quits.
import {render} from 'ink';
import type {ClusterClient} from '../client/types.js';
import {App} from './app.js';

export async function runDashboard(client: ClusterClient, options: {namespace?: string; readonly?: boolean; theme?: string} = {}): Promise<void> {
	const instance = render(<App client={client} initialNamespace={options.namespace} readonly={options.readonly} theme={options.theme} />);
	await instance.waitUntilExit();
}
