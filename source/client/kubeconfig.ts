// A cluster named by a kubeconfig, for `kubedeck --kubeconfig FILE`: the
// context (--context, else the current one), its cluster's server and CA,
// and its user's credentials (--user picks another user entry, as kubectl's
// flag does): a token, a token file, a client certificate, or an exec
// plugin. @kubernetes/client-node reads the file and the credentials (it
// knows every kind a kubeconfig can hold); the requests are ours, so the CLI
// and the dashboard talk to that cluster exactly as to the engine.
import os from 'node:os';
import path from 'node:path';
import type {KubeConfig} from '@kubernetes/client-node';
import {CliError} from './errors.js';
import {type ExecConfig, ExecCredentials} from './exec-credential.js';
import type {Endpoint} from './embedded.js';

export interface KubeconfigTarget {
	endpoint: Endpoint;
	/** The context's namespace, when it names one. */
	namespace?: string;
	/** "alice@kubedeck (https://127.0.0.1:6443)", for messages. */
	description: string;
}

export async function kubeconfigTarget(file: string, options: {context?: string; user?: string; as?: string} = {}): Promise<KubeconfigTarget> {
	const kc = await loadKubeconfig(file);
	const contextName = options.context ?? kc.getCurrentContext();
	const context = kc.getContextObject(contextName);
	if (!context) throw new CliError(`error: context "${contextName}" does not exist in ${file}`);
	if (options.user) {
		if (!kc.getUser(options.user)) throw new CliError(`error: auth info "${options.user}" does not exist in ${file}`);
		// A context of our own for the chosen user, so the library applies that user's credentials.
		kc.addContext({...context, name: `${contextName}/kubedeck-user-${options.user}`, user: options.user});
		kc.setCurrentContext(`${contextName}/kubedeck-user-${options.user}`);
	} else {
		kc.setCurrentContext(contextName);
	}
	const cluster = kc.getCurrentCluster();
	if (!cluster?.server) throw new CliError(`error: the kubeconfig ${file} names no server for context "${contextName}"`);
	const url = new URL(cluster.server);
	// An exec plugin's token is fetched per request and refreshed as kubectl refreshes it (exec-credential.ts says why
	// not client-node's); client-node applies the rest of the user (client certificates) from a copy without the plugin.
	const user = kc.getCurrentUser();
	const exec = user?.exec as ExecConfig | undefined;
	if (user && exec) {
		const current = kc.getContextObject(kc.getCurrentContext())!;
		kc.addUser({...user, name: `${user.name}/kubedeck-without-exec`, exec: undefined});
		kc.addContext({...current, name: `${current.name}/kubedeck-without-exec`, user: `${user.name}/kubedeck-without-exec`});
		kc.setCurrentContext(`${current.name}/kubedeck-without-exec`);
	}
	const opts: Record<string, any> = {headers: {}};
	await kc.applyToHTTPSOptions(opts);
	const headers: Record<string, string> = {...opts.headers};
	if (options.as) headers['Impersonate-User'] = options.as;
	const tls = url.protocol === 'https:'
		? {ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: !cluster.skipTLSVerify, ...(cluster.tlsServerName ? {servername: cluster.tlsServerName} : {})}
		: undefined;
	return {
		endpoint: {host: url.hostname, port: Number(url.port || (tls ? 443 : 80)), ...(tls ? {tls} : {}), headers, ...(exec ? {credentials: new ExecCredentials(exec)} : {})},
		namespace: context.namespace,
		description: `${user?.name ?? 'anonymous'}@${cluster.name} (${cluster.server})`,
	};
}

/** Add what a later kubeconfig file names and the earlier ones do not (kubectl's merge: first wins). */
function mergeFirstWins(into: KubeConfig, from: KubeConfig): void {
	const has = (list: {name: string}[], name: string) => list.some(e => e.name === name);
	for (const cluster of from.clusters) if (!has(into.clusters, cluster.name)) into.addCluster(cluster);
	for (const user of from.users) if (!has(into.users, user.name)) into.addUser(user);
	for (const context of from.contexts) if (!has(into.contexts, context.name)) into.addContext(context);
	if (!into.getCurrentContext() && from.getCurrentContext()) into.setCurrentContext(from.getCurrentContext());
}

/**
 * A kubeconfig, or a list of them (as $KUBECONFIG holds them) merged as kubectl merges it: the
 * first file to set a name (and the current context) wins.
 */
async function loadKubeconfig(file: string): Promise<KubeConfig> {
	const {KubeConfig} = await import('@kubernetes/client-node');
	const kc = new KubeConfig();
	for (const [i, one] of file.split(path.delimiter).filter(Boolean).entries()) {
		const next = i === 0 ? kc : new KubeConfig();
		try {
			next.loadFromFile(one);
		} catch (error) {
			throw new CliError(`error: cannot read the kubeconfig ${one}: ${(error as Error).message}`);
		}
		if (next !== kc) mergeFirstWins(kc, next);
	}
	return kc;
}

/** Where kubectl looks without --kubeconfig: $KUBECONFIG (a list), else ~/.kube/config. */
export function defaultKubeconfig(env: NodeJS.ProcessEnv): string {
	return env.KUBECONFIG || path.join(env.HOME ?? os.homedir(), '.kube', 'config');
}

/** The contexts a kubeconfig (or a list of them) names, and its current one. */
export async function kubeconfigContexts(file: string): Promise<{names: string[]; current: string}> {
	const kc = await loadKubeconfig(file);
	return {names: kc.contexts.map(c => c.name), current: kc.getCurrentContext()};
}
