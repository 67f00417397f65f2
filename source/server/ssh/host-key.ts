// The console's SSH host key: made on the first start with --ssh (ed25519,
// as ssh-keygen makes one by default), kept in the state directory (0600)
// so clients' known_hosts stay valid across restarts, and named by the
// fingerprint OpenSSH prints (`SHA256:...`, ssh-keygen -lf).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';

export const hostKeyPath = (home: string) => path.join(home, 'ssh_host_ed25519_key');

/** OpenSSH's fingerprint of a public key blob: SHA-256, base64 without padding. */
export function fingerprintOf(publicBlob: Buffer): string {
	return `SHA256:${crypto.createHash('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')}`;
}

function parse(text: string, file: string): ssh2.ParsedKey {
	const key = ssh2.utils.parseKey(text);
	if (key instanceof Error) throw new Error(`${file}: not an SSH private key: ${key.message}`);
	return Array.isArray(key) ? key[0] : key;
}

export interface HostKey {
	/** The private key, in OpenSSH's format, for ssh2's hostKeys. */
	privateKey: string;
	/** `ssh-ed25519 AAAA...`, for a known_hosts line. */
	publicLine: string;
	fingerprint: string;
}

function describe(privateKey: string, file: string): HostKey {
	const key = parse(privateKey, file);
	const blob = key.getPublicSSH();
	return {privateKey, publicLine: `${key.type} ${blob.toString('base64')}`, fingerprint: fingerprintOf(blob)};
}

/** The host key of this state directory, if one was made. */
export function readHostKey(home: string): HostKey | undefined {
	const file = hostKeyPath(home);
	let text: string;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
	return describe(text, file);
}

/**
 * Writes `data` to `file` whole or not at all: a new file of a random name opened exclusively
 * ('wx': never an existing file or a symlink someone planted) with `mode` from the start,
 * synced, then renamed over `file`.
 */
function writeAtomically(file: string, data: string, mode: number): void {
	const tmp = `${file}.${crypto.randomBytes(6).toString('hex')}.tmp`;
	const fd = fs.openSync(tmp, 'wx', mode);
	try {
		fs.writeSync(fd, data);
		fs.fchmodSync(fd, mode);
		fs.fsyncSync(fd);
	} catch (error) {
		fs.closeSync(fd);
		fs.rmSync(tmp, {force: true});
		throw error;
	}
	fs.closeSync(fd);
	fs.renameSync(tmp, file);
}

/** The host key, made (and written 0600, through a rename so a crash never leaves half a key) when there is none. */
export function ensureHostKey(home: string): HostKey {
	const existing = readHostKey(home);
	if (existing) {
		// Tightened if someone loosened it: sshd refuses a readable host key, and so should we.
		fs.chmodSync(hostKeyPath(home), 0o600);
		return existing;
	}
	const pair = ssh2.utils.generateKeyPairSync('ed25519', {comment: 'kubedeck ssh console'});
	const file = hostKeyPath(home);
	writeAtomically(file, pair.private, 0o600);
	writeAtomically(`${file}.pub`, `${pair.public}\n`, 0o644);
	return describe(pair.private, file);
}
