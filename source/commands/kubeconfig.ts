// `kubedeck kubeconfig`: a kubeconfig for the running engine's TCP listener,
// in kubectl's shape, so the real kubectl (or any client library) can be
// pointed at the engine:
//   kubedeck serve &  kubedeck kubeconfig > kd.yaml  &&  kubectl --kubeconfig kd.yaml get pods
// Without --user it is the local admin's (the engine's token, system:masters).
// With --user NAME it issues that user a fresh client certificate signed by
// the cluster CA (CN = NAME, O = their groups), as kubeadm's kubeconfigs
// carry, or with --token rotates their token and uses that. --merge writes
// the cluster, user and context into ~/.kube/config (or the first file of
// $KUBECONFIG), replacing entries of the same names only.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {lockOwner, stateHome} from '../engine/home.js';
import {readApiToken, readEndpoint} from '../server/api/auth.js';
import {caCertPath} from '../server/auth/ca.js';
import {type Command, type CommandContext} from './context.js';
import {CliError} from '../client/errors.js';
import {defaultKubeconfig} from '../client/kubeconfig.js';
import {bindingsOf} from '../client/operations/users.js';
import {engineApi} from './users.js';

type Rec = Record<string, any>;

interface Credentials {
	token?: string;
	'client-certificate-data'?: string;
	'client-key-data'?: string;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

function kubeconfigEntries(server: string, caPem: string, user: string, credentials: Credentials, namespace?: string) {
	const cluster = 'kubedeck';
	const context = user === 'kubedeck' ? 'kubedeck' : `${user}@kubedeck`;
	return {
		cluster: {name: cluster, cluster: {server, 'certificate-authority-data': b64(caPem)}},
		user: {name: user, user: credentials},
		context: {name: context, context: {cluster, user, ...(namespace ? {namespace} : {})}},
	};
}

/** A kubeconfig of one cluster, user and context. */
function kubeconfigOf(e: ReturnType<typeof kubeconfigEntries>): string {
	return YAML.stringify({apiVersion: 'v1', kind: 'Config', clusters: [e.cluster], contexts: [e.context], 'current-context': e.context.name, users: [e.user], preferences: {}});
}

/** Entries merged by name into a kubeconfig file: others are kept as they are. */
function mergeInto(file: string, e: ReturnType<typeof kubeconfigEntries>): void {
	let config: Rec = {apiVersion: 'v1', kind: 'Config', clusters: [], contexts: [], users: [], preferences: {}};
	if (fs.existsSync(file)) {
		try {
			config = YAML.parse(fs.readFileSync(file, 'utf8')) ?? config;
		} catch (error) {
			throw new CliError(`error: ${file} is not a kubeconfig that can be read: ${(error as Error).message}`);
		}
	}
	const put = (key: 'clusters' | 'contexts' | 'users', entry: {name: string}) => {
		const list: {name: string}[] = Array.isArray(config[key]) ? config[key] : [];
		config[key] = [...list.filter(x => x?.name !== entry.name), entry];
	};
	put('clusters', e.cluster);
	put('users', e.user);
	put('contexts', e.context);
	config['current-context'] ||= e.context.name;
	fs.mkdirSync(path.dirname(file), {recursive: true});
	const tmp = `${file}.kubedeck-tmp`;
	fs.writeFileSync(tmp, YAML.stringify(config), {mode: 0o600});
	fs.renameSync(tmp, file);
}

export const kubeconfigCommand: Command = {
	name: 'kubeconfig',
	summary: "Print a kubeconfig for the running engine's TCP port (for kubectl), the admin's or a user's",
	usage: 'kubedeck kubeconfig [--user NAME [--token]] [-n NAMESPACE] [--merge]   (the kubeconfig holds a credential: keep it private)',
	flags: {user: {type: 'string'}, token: {type: 'boolean'}, merge: {type: 'boolean'}},
	async run(ctx: CommandContext) {
		const home = stateHome(ctx.io.env);
		const endpoint = readEndpoint(home);
		if (lockOwner(home) === undefined) throw new CliError(`error: no kubedeck engine is running for ${home}; start one with "kubedeck serve"`);
		if (!endpoint) throw new CliError(`error: the kubedeck engine for ${home} has no TCP port: it is still starting, or it is older than this kubedeck; restart it with "kubedeck serve"`);
		let ca: string;
		try {
			ca = fs.readFileSync(caCertPath(home), 'utf8');
		} catch {
			throw new CliError(`error: no cluster CA in ${home}; restart the engine with "kubedeck serve"`);
		}
		const user = ctx.string('user');
		let entries: ReturnType<typeof kubeconfigEntries>;
		if (!user) {
			const token = readApiToken(home);
			if (!token) throw new CliError(`error: no API token in ${home}; restart the engine with "kubedeck serve"`);
			entries = kubeconfigEntries(endpoint, ca, 'kubedeck', {token}, ctx.explicitNamespace);
		} else {
			const {client, call} = await engineApi(ctx);
			const credentials: Credentials = ctx.bool('token')
				? {token: ((await call('POST', `/${encodeURIComponent(user)}/token`)) as {token: string}).token}
				: await call('POST', `/${encodeURIComponent(user)}/certificate`).then((c: {certificate: string; key: string}) => ({'client-certificate-data': b64(c.certificate), 'client-key-data': b64(c.key)}));
			// The context's namespace: -n, else the one namespace the user is bound in.
			const namespaces = [...new Set((await bindingsOf(client, user)).map(b => b.metadata.namespace).filter(Boolean))];
			entries = kubeconfigEntries(endpoint, ca, user, credentials, ctx.explicitNamespace ?? (namespaces.length === 1 ? namespaces[0] : undefined));
		}
		if (ctx.bool('merge')) {
			const file = defaultKubeconfig(ctx.io.env).split(path.delimiter)[0];
			mergeInto(file, entries);
			ctx.out(`Context "${entries.context.name}" merged into ${file}; use it with: kubectl config use-context ${entries.context.name}`);
			return 0;
		}
		ctx.io.stdout.write(kubeconfigOf(entries));
		return 0;
	},
};
