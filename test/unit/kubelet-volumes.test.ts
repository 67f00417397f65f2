// The kubelet checks again what the API server admitted (defence in depth):
// items paths, subPaths and hostPaths a manifest supplies never reach
// outside their volume or into kubedeck's own directories, even if a
// manifest got past validation (an older state file, a bug).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, describe, it} from 'node:test';
import type {KubeObject} from '../../source/api/object.js';
import {ContainerConfigError} from '../../source/engine/kubelet/environment.js';
import {containerMounts, prepareVolumes, resolveSubPath} from '../../source/engine/kubelet/volumes.js';
import type {Store} from '../../source/store/store.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-vol-'));
after(() => fs.rmSync(root, {recursive: true, force: true}));

function context(volumes: unknown[], data: Record<string, string> = {key: 'value'}) {
	const dir = fs.mkdtempSync(path.join(root, 'pod-'));
	const paths = {dir, work: path.join(dir, 'work'), volumes: path.join(dir, 'volumes'), tmp: path.join(dir, 'tmp'), memory: path.join(dir, 'memory')};
	const store = {get: (kind: string) => ({data: kind === 'secrets' ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) : data})} as unknown as Store;
	const pod = {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'p', namespace: 'default', uid: 'u'}, spec: {containers: [], volumes}} as KubeObject;
	return {store, pod, paths, protectedPaths: [path.join(root, 'state')], storageRoot: path.join(root, 'state', 'pod-data', 'storage')};
}

const refused = (fn: () => unknown, message: RegExp) => assert.throws(fn, (error: unknown) => error instanceof ContainerConfigError && message.test((error as Error).message));

describe('kubelet volume paths', () => {
	it('refuses items paths that leave the volume, and writes nothing outside it', () => {
		for (const bad of ['../../../../x', '/etc/x', 'a/../../x']) {
			const ctx = context([{name: 's', secret: {secretName: 's', items: [{key: 'key', path: bad}]}}]);
			refused(() => prepareVolumes(ctx), /must be a relative path without '\.\.'/);
			assert.equal(fs.existsSync(path.join(ctx.paths.dir, '..', 'x')), false);
		}
		const ok = context([{name: 'c', configMap: {name: 'c', items: [{key: 'key', path: 'sub/dir/file'}]}}]);
		const volumes = prepareVolumes(ok);
		assert.equal(fs.readFileSync(path.join(volumes.get('c')!.dir, 'sub/dir/file'), 'utf8'), 'value');
		assert.equal(volumes.get('c')!.readOnly, true, 'configMap volumes are mounted read-only');
	});

	it('follows a subPath symlink only while it stays inside the volume, and creates a missing subPath', () => {
		const volume = fs.mkdtempSync(path.join(root, 'empty-'));
		fs.mkdirSync(path.join(volume, 'real'));
		fs.symlinkSync('/etc', path.join(volume, 'out'));
		fs.symlinkSync('real', path.join(volume, 'in'));
		fs.symlinkSync('../../..', path.join(volume, 'real', 'up'));
		refused(() => resolveSubPath(volume, 'out'), /leaves its volume \(through the symlink out\)/);
		refused(() => resolveSubPath(volume, 'real/up/etc'), /leaves its volume/);
		refused(() => resolveSubPath(volume, '../x'), /must be a relative path/);
		refused(() => resolveSubPath(volume, '/etc'), /must be a relative path/);
		assert.equal(resolveSubPath(volume, 'in'), path.join(fs.realpathSync(volume), 'real'));
		assert.equal(resolveSubPath(volume, 'new/deeper'), path.join(fs.realpathSync(volume), 'new', 'deeper'));
		assert.ok(fs.statSync(path.join(volume, 'new', 'deeper')).isDirectory());
	});

	it('expands subPathExpr with the container\'s env, and refuses what the expansion makes of it when it climbs out', () => {
		const volume = fs.mkdtempSync(path.join(root, 'expr-'));
		const volumes = new Map([['v', {dir: volume, readOnly: false}]]);
		const mount = (subPathExpr: string) => containerMounts({volumeMounts: [{name: 'v', mountPath: '/logs', subPathExpr}]}, volumes, {POD_NAME: 'web-1', UP: '../..'});
		assert.equal(mount('$(POD_NAME)/logs')[0].source, path.join(fs.realpathSync(volume), 'web-1', 'logs'));
		refused(() => mount('$(UP)/etc'), /must be a relative path without '\.\.'/);
	});

	it('refuses a hostPath that is, contains or lies inside one of kubedeck\'s directories', () => {
		const state = path.join(root, 'state');
		fs.mkdirSync(path.join(state, 'pods'), {recursive: true});
		fs.symlinkSync(state, path.join(root, 'link-to-state'));
		for (const bad of [state, root, path.join(state, 'pods'), path.join(root, 'link-to-state'), '/']) {
			refused(() => prepareVolumes(context([{name: 'h', hostPath: {path: bad}}])), /is not allowed: it reaches kubedeck's own directory/);
		}
		const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-host-'));
		try {
			assert.equal(prepareVolumes(context([{name: 'h', hostPath: {path: elsewhere}}])).get('h')!.dir, elsewhere);
		} finally {
			fs.rmSync(elsewhere, {recursive: true, force: true});
		}
	});
});
