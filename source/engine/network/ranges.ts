// Address ranges handed out host-wide. Every pod and Service address is on
// loopback (127.0.0.0/8 routes to lo without privileges), and loopback is
// one per host: two engines (tests run many side by side) must never hand
// out the same address. Each state directory claims one /16, 127.B.0.0,
// for as long as the directory exists: pods take 127.B.0.0/17, Services
// (ClusterIPs and LoadBalancer addresses) 127.B.128.0/17.
//
// The registry is a directory of claim files under the user's runtime
// directory (XDG_RUNTIME_DIR, else /tmp), one per block, each naming its
// state directory. A claim is an exclusive create (O_EXCL): the filesystem
// is the lock, so two engines starting at once cannot take one block, and
// nothing is held open. A claim whose state directory is gone is taken back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {AddressRange} from '../../server/allocators.js';

/** 127.1 was the fixed Service range of earlier versions (its Services keep their addresses); 127.0 is the host's. */
const firstBlock = 2;
const lastBlock = 254;

export interface AddressRanges {
	block: number;
	/** Pods: 127.B.0.0/17. */
	pod: AddressRange;
	/** Services: 127.B.128.0/17. */
	service: AddressRange;
}

export function rangesDir(env: NodeJS.ProcessEnv = process.env): string {
	return path.join(env.XDG_RUNTIME_DIR ?? os.tmpdir(), `kubedeck-ranges-${process.getuid?.() ?? 0}`);
}

export function rangesOf(block: number): AddressRanges {
	return {block, pod: {prefix: `127.${block}`, first: 0, size: 32768}, service: {prefix: `127.${block}`, first: 32768, size: 32768}};
}

const claimed = (dir: string, block: number) => path.join(dir, String(block));

function ownerOf(file: string): string | undefined {
	try {
		return fs.readFileSync(file, 'utf8').trim();
	} catch {
		return undefined;
	}
}

/**
 * The state directory's block: the one it claimed before, else a free one
 * (starting at a hash of its path, so a directory tends to get the same block).
 */
export function claimRanges(home: string, env: NodeJS.ProcessEnv = process.env): AddressRanges {
	const dir = rangesDir(env);
	fs.mkdirSync(dir, {recursive: true, mode: 0o700});
	const me = path.resolve(home);
	const count = lastBlock - firstBlock + 1;
	for (const entry of fs.readdirSync(dir)) {
		if (/^\d+$/.test(entry) && ownerOf(path.join(dir, entry)) === me) return rangesOf(Number(entry));
	}
	const start = [...me].reduce((h, c) => (h * 33 + c.charCodeAt(0)) >>> 0, 5381) % count;
	for (let i = 0; i < count; i++) {
		const block = firstBlock + ((start + i) % count);
		const file = claimed(dir, block);
		try {
			fs.writeFileSync(file, `${me}\n`, {flag: 'wx', mode: 0o600});
			return rangesOf(block);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		// Taken: by a state directory that is gone, it is free again (removed, then claimed exclusively like any other).
		const owner = ownerOf(file);
		if (owner && !fs.existsSync(owner)) {
			fs.rmSync(file, {force: true});
			try {
				fs.writeFileSync(file, `${me}\n`, {flag: 'wx', mode: 0o600});
				return rangesOf(block);
			} catch {}
		}
	}
	throw new Error(`no free address block in 127.${firstBlock}-${lastBlock}.0.0/16: ${count} state directories hold one each (see ${dir})`);
}

/** Give the block back (the state directory is being removed). */
export function releaseRanges(home: string, env: NodeJS.ProcessEnv = process.env): void {
	const dir = rangesDir(env);
	const me = path.resolve(home);
	for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
		if (ownerOf(path.join(dir, entry)) === me) fs.rmSync(path.join(dir, entry), {force: true});
	}
}

/** The state directories that hold a block now and still exist (an engine's tables and rules are named after them). */
export function liveClaimants(env: NodeJS.ProcessEnv = process.env): string[] {
	const dir = rangesDir(env);
	if (!fs.existsSync(dir)) return [];
	return fs.readdirSync(dir).map(entry => ownerOf(path.join(dir, entry))).filter((home): home is string => !!home && fs.existsSync(home));
}
