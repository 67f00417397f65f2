// `kubedeck ssh fingerprint`: the SSH console's host key fingerprint, read
// from the state directory, for an operator to compare with what ssh shows
// on the first connection; `ssh known-hosts HOST[:PORT]` prints the line to
// put in known_hosts instead of trusting the first connection.
import {CliError} from '../client/errors.js';
import {stateHome} from '../engine/home.js';
import {hostKeyPath, readHostKey} from '../server/ssh/host-key.js';
import {type Command, type CommandContext} from './context.js';

export const sshCommand: Command = {
	name: 'ssh',
	summary: 'The SSH console\'s host key: its fingerprint, or a known_hosts line',
	usage: 'kubedeck ssh fingerprint | known-hosts HOST[:PORT]   (the console starts with kubedeck serve --ssh [ADDR:]PORT)',
	flags: {},
	async run(ctx: CommandContext) {
		const [action, where] = ctx.positionals;
		const home = stateHome(ctx.io.env);
		const key = readHostKey(home);
		if (action !== 'fingerprint' && action !== 'known-hosts') throw new CliError(`error: ${action ? `unknown ssh action "${action}"` : 'an action is required'}: fingerprint or known-hosts HOST[:PORT]`);
		if (!key) throw new CliError(`error: no SSH host key in ${home} yet (${hostKeyPath(home)}): it is made on the first "kubedeck serve --ssh PORT"`);
		if (action === 'fingerprint') {
			ctx.out(`256 ${key.fingerprint} kubedeck ssh console (ED25519)`);
			return 0;
		}
		if (!where) throw new CliError('error: known-hosts needs the HOST[:PORT] clients connect to');
		const m = /^(.*?)(?::(\d+))?$/.exec(where)!;
		// known_hosts writes a host on a port other than 22 as [host]:port.
		ctx.out(`${m[2] && m[2] !== '22' ? `[${m[1]}]:${m[2]}` : m[1]} ${key.publicLine}`);
		return 0;
	},
};
