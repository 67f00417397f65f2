// Secrets at rest: AES-256-GCM with a random key kept in the state directory
// (mode 0600), in the spirit of kube-apiserver's EncryptionConfiguration
// aesgcm provider. Stored values carry a prefix so a reader knows the format.
//
// The key is never made up in place of a lost one: a new key cannot open
// what the old one sealed, so a missing key is the state file's problem to
// report (state-file.ts), and only a first start creates one.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const prefix = Buffer.from('k8s:enc:aesgcm:v1:key1:');

export const keyFilePath = (dir: string) => path.join(dir, 'secrets.key');

export class SecretBox {
	private constructor(private readonly key: Buffer, readonly file: string) {}

	/** The key in `dir/secrets.key`, or undefined when there is none. */
	static load(dir: string): SecretBox | undefined {
		const file = keyFilePath(dir);
		let key: Buffer;
		try {
			key = fs.readFileSync(file);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
			throw error;
		}
		if (key.length !== 32) throw new Error(`${file}: expected a 32-byte key, found ${key.length} bytes`);
		return new SecretBox(key, file);
	}

	/** A new random key for `dir`, in memory until save(). */
	static generate(dir: string): SecretBox {
		return new SecretBox(crypto.randomBytes(32), keyFilePath(dir));
	}

	/** Write the key durably (0600): after a crash it is there whole or not at all. */
	save(): void {
		writeDurably(this.file, this.key);
	}

	/**
	 * What the state file records to know its key again: a SHA-256 of the
	 * key (a one-way digest of 256 random bits reveals nothing of them).
	 */
	get fingerprint(): string {
		return `sha256:${crypto.createHash('sha256').update(this.key).digest('hex')}`;
	}

	seal(plain: string): Buffer {
		const iv = crypto.randomBytes(12);
		const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
		const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
		return Buffer.concat([prefix, iv, cipher.getAuthTag(), body]);
	}

	open(sealed: Buffer): string {
		if (!sealed.subarray(0, prefix.length).equals(prefix)) throw new Error('stored secret is not in the expected encrypted format');
		const iv = sealed.subarray(prefix.length, prefix.length + 12);
		const tag = sealed.subarray(prefix.length + 12, prefix.length + 28);
		const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, iv);
		decipher.setAuthTag(tag);
		return Buffer.concat([decipher.update(sealed.subarray(prefix.length + 28)), decipher.final()]).toString('utf8');
	}
}

/** Write a file (0600) so that after a crash it is there whole or not at all: temp file, fsync, rename, fsync the directory. */
export function writeDurably(file: string, content: Buffer | string): void {
	const tmp = `${file}.tmp`;
	const fd = fs.openSync(tmp, 'w', 0o600);
	try {
		fs.writeFileSync(fd, content);
		fs.fsyncSync(fd);
	} finally {
		fs.closeSync(fd);
	}
	fs.renameSync(tmp, file);
	syncDirectory(path.dirname(file));
}

/** fsync a directory, so a rename or a new name in it survives a crash. */
export function syncDirectory(dir: string): void {
	const fd = fs.openSync(dir, 'r');
	try {
		fs.fsyncSync(fd);
	} finally {
		fs.closeSync(fd);
	}
}
