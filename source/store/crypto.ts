// Secrets at rest: AES-256-GCM with a random key kept in the state directory
// (mode 0600), in the spirit of kube-apiserver's EncryptionConfiguration
// aesgcm provider. Stored values carry a prefix so a reader knows the format.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const prefix = Buffer.from('k8s:enc:aesgcm:v1:key1:');

export class SecretBox {
	private constructor(private readonly key: Buffer) {}

	/** Load the key from `dir/secrets.key`, creating it (0600) on first use. */
	static open(dir: string): SecretBox {
		const file = path.join(dir, 'secrets.key');
		let key: Buffer;
		try {
			key = fs.readFileSync(file);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
			key = crypto.randomBytes(32);
			// 'wx' fails if another process created it first; then read theirs.
			try {
				fs.writeFileSync(file, key, {mode: 0o600, flag: 'wx'});
			} catch (e) {
				if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
				key = fs.readFileSync(file);
			}
		}
		if (key.length !== 32) throw new Error(`${file}: expected a 32-byte key, found ${key.length} bytes`);
		return new SecretBox(key);
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
