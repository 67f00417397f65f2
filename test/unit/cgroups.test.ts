// Control groups, on this host's real cgroupfs (root only): a container's
// whole tree is killed at once, setsid children included, through cgroup.kill
// (v2) and through the v1 freezer; a memory limit is the kernel's OOM killer.
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {after, describe, it} from 'node:test';
import {Cgroups, cgroupPids, createSet, killCgroup, killSet, oomKilled, procsFiles, removeSet} from '../../source/engine/kubelet/cgroups.js';
import {eventually} from '../helpers.js';

const id = `test${crypto.randomBytes(4).toString('hex')}`;
const cgroups = process.getuid?.() === 0 ? Cgroups.detect(id) : undefined;

/** Start `script` inside the cgroup (a shell writes its own pid first, as exec does), detached. */
function startIn(files: string[], script: string): number {
	const child = spawn('/bin/sh', ['-c', `for f in ${files.join(' ')}; do echo $$ > $f; done; ${script}`], {detached: true, stdio: 'ignore'});
	child.unref();
	return child.pid!;
}

describe('cgroups', {skip: !cgroups && 'no writable cgroupfs here (not root, or none mounted)'}, () => {
	after(() => Cgroups.removeState(id));

	it('kills a container\'s whole tree at once, setsid children too, and removes its cgroups', async () => {
		const set = cgroups!.container('pod-a', 'main');
		await createSet(set);
		startIn(procsFiles(set), 'setsid sleep 300 & sleep 300 & wait');
		const pids = await eventually(() => cgroupPids(set).length >= 3 && cgroupPids(set), 'the tree to start');
		killSet(set);
		await eventually(() => pids.every(pid => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')), 'every process to die');
		removeSet(set);
		assert.equal(fs.existsSync(set.containment), false);
	});

	it('kills through the v1 freezer where there is no cgroup.kill', {skip: !fs.existsSync('/sys/fs/cgroup/freezer') && 'no v1 freezer here'}, async () => {
		const dir = path.join('/sys/fs/cgroup/freezer', `kubedeck-${id}`, 'frozen');
		fs.mkdirSync(dir, {recursive: true});
		startIn([path.join(dir, 'cgroup.procs')], 'setsid sleep 300 & while :; do sleep 0.01 & wait; done');
		await eventually(() => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').length >= 2, 'the forking tree to start');
		killCgroup(dir, 1);
		await eventually(() => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() === '', 'the freezer cgroup to empty');
		assert.equal(fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim(), 'THAWED', 'thawed again after the kill');
		fs.rmdirSync(dir);
	});

	it('limits memory with the kernel, which reports the OOM kill', {skip: !cgroups?.container('probe', 'm', 1).memory && 'no memory controller here'}, async () => {
		const set = cgroups!.container('pod-b', 'hog', 32 * 1024 * 1024);
		await createSet(set);
		const hog = spawnSync('/bin/sh', ['-c', `for f in ${procsFiles(set).join(' ')}; do echo $$ > $f; done; exec ${process.execPath} -e "const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))"`], {stdio: 'ignore', timeout: 30_000});
		assert.equal(hog.signal, 'SIGKILL', 'the kernel killed it');
		assert.equal(oomKilled(set), true);
		removeSet(set);
	});
});
