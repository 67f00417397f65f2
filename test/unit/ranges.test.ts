// Host-wide address blocks: one /16 per state directory, never shared.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {describe, it} from 'node:test';
import {claimRanges, rangesDir, releaseRanges} from '../../source/engine/network/ranges.js';
import {addressAt, inRange} from '../../source/server/allocators.js';

describe('address ranges', () => {
	const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-ranges-'));
	const env = {XDG_RUNTIME_DIR: runtime};
	const home = (name: string) => {
		const dir = path.join(runtime, name);
		fs.mkdirSync(dir, {recursive: true});
		return dir;
	};

	it('gives each state directory its own block, the same one each time', () => {
		const a = home('a'), b = home('b');
		const ra = claimRanges(a, env), rb = claimRanges(b, env);
		assert.notEqual(ra.block, rb.block);
		assert.equal(claimRanges(a, env).block, ra.block, 'a restart keeps the block');
		assert.ok(inRange(ra.pod, addressAt(ra.pod, 5)));
		assert.ok(!inRange(ra.service, addressAt(ra.pod, 5)), 'pods and services do not share addresses');
		assert.ok(!inRange(rb.pod, addressAt(ra.pod, 5)));
		assert.equal(addressAt(ra.service, 1), `127.${ra.block}.128.1`);
	});

	it('never hands out a block another directory holds, and takes back the block of a directory that is gone', () => {
		const taken = new Set<number>();
		const homes = Array.from({length: 20}, (_, i) => home(`many-${i}`));
		for (const h of homes) taken.add(claimRanges(h, env).block);
		assert.equal(taken.size, 20);
		const gone = homes[3];
		const block = claimRanges(gone, env).block;
		fs.rmSync(gone, {recursive: true});
		// A directory whose hash lands on the stale block gets it; any new one never gets a live block.
		const fresh = home('fresh');
		const got = claimRanges(fresh, env).block;
		assert.ok(got === block || !taken.has(got), `block ${got} was free or stale`);
		assert.equal(fs.readFileSync(path.join(rangesDir(env), String(got)), 'utf8').trim(), fresh);
		releaseRanges(fresh, env);
		assert.ok(!fs.existsSync(path.join(rangesDir(env), String(got))), 'released');
	});

	it('skips every block a live state directory holds, and says so when none is free', () => {
		const h = home('racer');
		// Pretend every block but the last was claimed by a live directory just now.
		const dir = rangesDir(env);
		const live = home('live');
		for (let b = 2; b < 254; b++) fs.writeFileSync(path.join(dir, String(b)), `${live}\n`);
		fs.rmSync(path.join(dir, '254'), {force: true});
		assert.equal(claimRanges(h, env).block, 254);
		assert.throws(() => claimRanges(home('one-too-many'), env), /no free address block/);
		fs.rmSync(runtime, {recursive: true, force: true});
	});
});
