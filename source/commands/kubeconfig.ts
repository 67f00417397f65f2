// `kubedeck kubeconfig`: a kubeconfig for the running engine's TCP listener
// and its bearer token, in kubectl's shape, so the real kubectl (or any
// client library) can be pointed at the engine:
//   kubedeck serve &  kubedeck kubeconfig > kd.yaml  &&  kubectl --kubeconfig kd.yaml get pods
import YAML from 'yaml';
import {lockOwner, stateHome} from '../engine/home.js';
import {readApiToken, readEndpoint} from '../server/api/auth.js';
import {readServingCert} from '../server/api/tls.js';
import {type Command, type CommandContext} from './context.js';
import {CliError} from '../client/errors.js';

export function kubeconfigFor(server: string, token: string, caPem: string, name = 'kubedeck'): string {
	return YAML.stringify({
		apiVersion: 'v1',
		kind: 'Config',
		clusters: [{name, cluster: {server, 'certificate-authority-data': Buffer.from(caPem).toString('base64')}}],
		contexts: [{name, context: {cluster: name, user: name}}],
		'current-context': name,
		users: [{name, user: {token}}],
		preferences: {},
	});
}

export const kubeconfigCommand: Command = {
	name: 'kubeconfig',
	summary: "Print a kubeconfig for the running engine's TCP port (for kubectl)",
	usage: 'kubedeck kubeconfig   (for the running engine\'s TCP port; the kubeconfig holds its token: keep it private)',
	flags: {},
	async run(ctx: CommandContext) {
		const home = stateHome(ctx.io.env);
		const endpoint = readEndpoint(home);
		if (lockOwner(home) === undefined) throw new CliError(`error: no kubedeck engine is running for ${home}; start one with "kubedeck serve"`);
		if (!endpoint) throw new CliError(`error: the kubedeck engine for ${home} has no TCP port: it is still starting, or it is older than this kubedeck; restart it with "kubedeck serve"`);
		const token = readApiToken(home);
		const ca = readServingCert(home);
		if (!token || !ca) throw new CliError(`error: no API token or certificate in ${home}; restart the engine with "kubedeck serve"`);
		ctx.io.stdout.write(kubeconfigFor(endpoint, token, ca));
		return 0;
	},
};
