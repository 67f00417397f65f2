// The dashboard served over SSH (server/ssh) runs inside the engine, on the
// server's machine, for someone who is not that machine's user. What would
// act on that machine is done the SSH way or not at all: the pod shell runs
// on the session's own terminal, F shows the `ssh -L` line (SSH carries the
// connection, checked against the user's right to port-forward), and
// nothing reads or writes the server's files ($EDITOR, :apply FILE, saving
// logs, theme files) or switches to the server's kubeconfig contexts.
import type {KubeObject} from '../api/object.js';
import type {Effect, Msg, Tone} from './state.js';

export interface RemoteSession {
	/** How the user reached the console, for the lines they copy: user, host and port. */
	login: {user: string; host: string; port: number};
	/** A shell in the container on the session's terminal, until it exits; its exit code. */
	shell(pod: KubeObject, container: string): Promise<number>;
}

/** The `ssh -L` command that forwards `local` on the user's machine to a pod's or a Service's port. */
export function sshForwardLine(login: RemoteSession['login'], target: KubeObject, port: number, local: number): string {
	const {name, namespace} = target.metadata;
	const spec = `${local}:${name}.${namespace}.${target.kind === 'Service' ? 'svc' : 'pod'}:${port}`;
	return `ssh -N -L ${spec} -p ${login.port} ${login.user}@${login.host}`;
}

const notHere = (what: string) => `error: ${what} is not available over SSH: the dashboard runs on the server, which is not your machine`;

/** Does an effect the SSH way, or refuses it; false for the effects that are the same everywhere. */
export function remoteEffect(effect: Effect, remote: RemoteSession, dispatch: (msg: Msg) => void, errorText: (error: unknown) => string): boolean {
	const status = (text: string, tone?: Tone) => dispatch({kind: 'status', text, tone});
	switch (effect.kind) {
		case 'shell': {
			const {pod, container} = effect;
			remote.shell(pod, container).then(code => status(`shell in ${pod.metadata.name} exited${code ? ` with ${code}` : ''}`), error => status(errorText(error), 'error'));
			return true;
		}
		case 'forward': {
			const line = sshForwardLine(remote.login, effect.target, effect.port, effect.local);
			dispatch({kind: 'show', mode: {kind: 'text', title: `Port-forward ${effect.label} over SSH (esc closes)`, offset: 0, lines: [
				'Run this on your own machine (SSH carries the connection; the console checks your right to port-forward):', '', `  ${line}`, '',
				`then connect to 127.0.0.1:${effect.local} there. It stays up while that ssh runs.`,
			]}});
			status(line);
			return true;
		}
		case 'apply':
			if (effect.examples) return false;
			status(notHere(':apply FILE (the server\'s files)') + '; :apply alone takes what you paste', 'error');
			return true;
		case 'theme':
			if (!/[/\\]|\.(json|ya?ml)$/.test(effect.name)) return false;
			status(notHere('a theme file (the server\'s files)') + ': built-in themes work', 'error');
			return true;
		case 'logsSave':
			status(notHere('saving logs (to the server\'s disk)'), 'error');
			return true;
		case 'open':
			if (effect.view !== 'editExternal') return false;
			status(notHere('$EDITOR (the server\'s programs)') + ': e edits inline', 'error');
			return true;
		case 'context':
			status(notHere(':ctx (the server\'s kubeconfig)'), 'error');
			return true;
		default:
			return false;
	}
}
