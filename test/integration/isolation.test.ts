// A pod tried as an attacker would: it must not read the engine's key, state
// file or socket, nor another pod's files or Secret files, by absolute path
// or through '..'; its processes (setsid or not) must not outlive it, the
// engine's stop or the engine's death; exec runs inside it. Each case runs
// with bubblewrap (a sandbox per container) and without it (as root: a uid
// per pod), since CI installs bubblewrap and users may not have it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {memoryRoot, podPaths} from '../../source/engine/layout.js';
import {hasBubblewrap} from '../../source/engine/kubelet/kubelet.js';
import {processRunning} from '../../source/engine/processes.js';
import {type EngineProcess, eventually, removeHome, runCli, startEngine, tempHome} from '../helpers.js';

const asRoot = process.getuid?.() === 0;
let marker = 7000 + (process.pid % 1000);

/** The pids of processes whose command line is exactly `sleep <seconds>` (a marker no other process has). */
function sleepers(seconds: string): number[] {
	const found: number[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8') === `sleep\0${seconds}\0`) found.push(Number(entry));
		} catch {}
	}
	return found;
}

/** A sleep that escapes its process group and session, as a daemon does, with a duration no one else uses. */
function escapee(): {seconds: string; script: string} {
	const seconds = `${marker++}.5`;
	return {seconds, script: `setsid sleep ${seconds} </dev/null >/dev/null 2>&1 & sleep 3600`};
}

const variants = [
	{name: 'with bubblewrap', env: {}, skip: !hasBubblewrap() && 'bubblewrap is not installed'},
	{name: 'without bubblewrap', env: {KUBEDECK_NO_BWRAP: '1'}, skip: !asRoot && 'without bubblewrap only a root engine can keep pods out (a uid per pod)'},
];

for (const variant of variants) {
	describe(`a hostile pod, ${variant.name}`, {skip: variant.skip}, () => {
		let home: string;
		let engine: EngineProcess;
		const kd = (args: string[], input?: string) => runCli(args, {home, input});
		const apply = async (yaml: string) => {
			const r = await kd(['apply', '-f', '-'], yaml);
			assert.equal(r.code, 0, r.stderr);
		};
		const pod = async (name: string) => JSON.parse((await kd(['get', 'pod', name, '-o', 'json'])).stdout);
		const logsOf = (name: string, until: string) => eventually(async () => {
			const r = await kd(['logs', name]);
			return r.stdout.includes(until) && r.stdout;
		}, `the logs of ${name}`, 20_000);
		const running = (name: string) => eventually(async () => (await pod(name)).status?.containerStatuses?.[0]?.state?.running, `${name} to run`, 20_000);

		before(async () => {
			home = tempHome();
			engine = await startEngine(home, {env: variant.env});
		});
		after(async () => {
			await engine.stop();
			removeHome(home);
		});

		it('cannot read the key, the state file, the socket, or another pod\'s files and Secret files', async () => {
			await apply(`apiVersion: v1
kind: Secret
metadata: {name: other-secret}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'echo private > mine; sleep 3600']
    volumeMounts: [{name: s, mountPath: /var/run/other-secret}]
  volumes: [{name: s, secret: {secretName: other-secret}}]
`);
			await running('other');
			const other = await pod('other');
			const otherPaths = podPaths(home, other.metadata.uid);
			const secretFile = path.join(otherPaths.memory, 'secrets', 's', 'password');
			await eventually(() => fs.existsSync(path.join(otherPaths.work, 'mine')), 'the other pod\'s file');
			assert.equal(fs.readFileSync(secretFile, 'utf8'), 'hunter2', 'the other pod\'s Secret file is where the attacker will look');
			const targets = [path.join(home, 'secrets.key'), path.join(home, 'state.db'), path.join(otherPaths.work, 'mine'), secretFile];
			const up = '../'.repeat(20);
			const script = [
				...targets.flatMap(f => [`cat '${f}' >/dev/null 2>&1 && echo 'READ ${f}'`, `cat '${up}${f.slice(1)}' >/dev/null 2>&1 && echo 'READ ../ ${f}'`]),
				`ls '${home}' >/dev/null 2>&1 && echo 'LISTED the state directory'`,
				`node -e "require('net').connect(process.argv[1]).on('connect', () => { console.log('SOCKET OPEN'); process.exit(); }).on('error', () => process.exit())" '${path.join(home, 'engine.sock')}'`,
				'echo done', 'sleep 3600',
			].join('\n');
			await apply(`apiVersion: v1
kind: Pod
metadata: {name: attacker}
spec:
  containers:
  - name: main
    image: busybox
    command: [sh, -c, ${JSON.stringify(script)}]
`);
			const logs = await logsOf('attacker', 'done');
			assert.equal(logs, 'done\n', `the pod reached what it must not:\n${logs}`);
			const events = (await kd(['describe', 'pod', 'attacker'])).stdout;
			if (variant.env.KUBEDECK_NO_BWRAP) assert.match(events, /Warning\s+NotIsolated\s+.*bubblewrap \(bwrap\) is not installed: this pod runs on the host's filesystem as uid \d+/);
			else assert.doesNotMatch(events, /NotIsolated/);
			assert.equal((await kd(['delete', 'pod', 'attacker', 'other', '--grace-period=0'])).code, 0);
			await eventually(() => !fs.existsSync(otherPaths.memory) && !fs.existsSync(otherPaths.dir), 'the deleted pods\' files to be removed (the Secret files in memory too)');
		});

		it('runs as its securityContext says, and as a uid of its own by default', async () => {
			await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {key: value}
---
apiVersion: v1
kind: Pod
metadata: {name: ctx}
spec:
  securityContext: {runAsUser: 4321, runAsGroup: 4322, fsGroup: 4323}
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"; grep NoNewPrivs /proc/self/status; touch \${KUBEDECK_MOUNT_SCRATCH:-/scratch}/x && echo scratch-writable; echo done; sleep 3600']
    securityContext: {allowPrivilegeEscalation: false}
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: default-user}
spec:
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'echo "uid=$(id -u)"; d=\${KUBEDECK_MOUNT_ETC_CFG:-/etc/cfg}; echo x > $d/key 2>/dev/null && echo configmap-writable; echo x > $d/new 2>/dev/null && echo configmap-dir-writable; echo done; sleep 3600']
    volumeMounts: [{name: cfg, mountPath: /etc/cfg}]
  volumes: [{name: cfg, configMap: {name: cfg}}]
---
apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 0}
  containers: [{name: main, image: busybox, command: [sleep, '3600']}]
`);
			const ctx = await logsOf('ctx', 'done');
			const [ids, nnp, scratch] = ctx.split('\n');
			assert.match(ids, /^uid=4321 gid=4322 groups=.*\b4323\b/);
			assert.match(nnp, /^NoNewPrivs:\s+1$/);
			assert.equal(scratch, 'scratch-writable');
			const plain = await logsOf('default-user', 'done');
			const uid = Number(plain.match(/^uid=(\d+)/)![1]);
			assert.ok(uid >= 1_000_000, `a pod without runAsUser runs as a uid of its own, not ${uid}`);
			assert.doesNotMatch(plain, /configmap-/, 'a ConfigMap volume is read-only to the pod');
			const refused = await eventually(async () => (await pod('nonroot')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' && pod('nonroot'), 'runAsNonRoot refused');
			assert.match(refused.status.containerStatuses[0].state.waiting.message, /^container has runAsNonRoot and image will run as root \(pod: "nonroot_default\(.*\)", container: main\)$/);
			await kd(['delete', 'pod', 'ctx', 'default-user', 'nonroot', '--grace-period=0']);
		});

		it('with readOnlyRootFilesystem writes only to its volumes', {skip: !!variant.env.KUBEDECK_NO_BWRAP && 'without a sandbox the host\'s filesystem is what it is'}, async () => {
			await apply(`apiVersion: v1
kind: Pod
metadata: {name: ro}
spec:
  containers:
  - name: main
    image: busybox
    securityContext: {readOnlyRootFilesystem: true}
    command: [sh, -c, 'touch /tmp/x 2>/dev/null && echo tmp-writable; touch ./x 2>/dev/null && echo cwd-writable; touch /data/x && echo data-writable; echo done; sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
`);
			assert.equal(await logsOf('ro', 'done'), 'data-writable\ndone\n');
			await kd(['delete', 'pod', 'ro', '--grace-period=0']);
		});

		it('cannot mount outside its volumes through a planted symlink, or kubedeck\'s directories through hostPath', async () => {
			await apply(`apiVersion: v1
kind: Pod
metadata: {name: planter}
spec:
  initContainers:
  - {name: plant, image: busybox, command: [sh, -c, 'ln -s /etc \${KUBEDECK_MOUNT_SHARED:-/shared}/escape'], volumeMounts: [{name: shared, mountPath: /shared}]}
  containers:
  - name: main
    image: busybox
    command: [sleep, '3600']
    volumeMounts: [{name: shared, mountPath: /escaped, subPath: escape}]
  volumes: [{name: shared, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: hostpath}
spec:
  containers: [{name: main, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: up, mountPath: /up}]}]
  volumes: [{name: up, hostPath: {path: ${JSON.stringify(path.dirname(home))}}}]
`);
			const planter = await eventually(async () => {
				const p = await pod('planter');
				return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' && p;
			}, 'the subPath through a symlink refused', 20_000);
			assert.equal(planter.status.containerStatuses[0].state.waiting.message, 'subPath "escape" leaves its volume (through the symlink escape)');
			await eventually(async () => /Warning\s+FailedMount\s+.*hostPath ".*" is not allowed: it reaches kubedeck's own directory/.test((await kd(['describe', 'pod', 'hostpath'])).stdout), 'the hostPath refused');
			await kd(['delete', 'pod', 'planter', 'hostpath', '--grace-period=0']);
		});

		it('leaves nothing running after delete, stop, or kill -9 of the engine and its shims', async () => {
			const launch = async (name: string) => {
				const e = escapee();
				await apply(`apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: busybox, command: [sh, -c, ${JSON.stringify(e.script)}]}]
`);
				await eventually(() => sleepers(e.seconds).length === 1, `${name}'s escapee to start`, 20_000);
				return e.seconds;
			};
			const deleted = await launch('escape-delete');
			assert.equal((await kd(['delete', 'pod', 'escape-delete'])).code, 0);
			assert.deepEqual(sleepers(deleted), [], 'a setsid child is gone once its pod is deleted');

			const stopped = await launch('escape-stop');
			await engine.stop();
			assert.deepEqual(sleepers(stopped), [], 'a setsid child is gone once the engine has stopped');
			engine = await startEngine(home, {env: variant.env});

			await running('escape-stop');
			const restarted = sleepers(stopped);
			assert.equal(restarted.length, 1, 'the pod runs again with the next engine');
			// kill -9 of the engine and every shim at once: nothing is left to clean up in an orderly way.
			const shims = fs.readdirSync('/proc').filter(p => /^\d+$/.test(p)).filter(p => {
				try {
					return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('kubelet/shim.js') && fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(engine.pid);
				} catch {
					return false;
				}
			}).map(Number);
			assert.ok(shims.length > 0);
			for (const pid of shims) process.kill(pid, 'SIGKILL');
			await engine.kill9();
			if (!variant.env.KUBEDECK_NO_BWRAP) await eventually(() => sleepers(stopped).length === 0, 'the sandbox to die with its shim (bwrap --die-with-parent, its PID namespace)');
			engine = await startEngine(home, {env: variant.env});
			assert.ok(restarted.every(pid => !processRunning(pid)), 'whatever survived the shims is gone before the next engine serves (its cgroups were swept)');
			await running('escape-stop');
			await kd(['delete', 'pod', 'escape-stop', '--grace-period=0']);
		});

		it('runs exec inside the pod, as its user, and ends the exec\'d process with the pod', async () => {
			const e = escapee();
			await apply(`apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: busybox, command: [sh, -c, 'echo inside > /tmp/only-here; sleep 3600']}]
`);
			await running('shell');
			const r = await kd(['exec', 'shell', '--', 'sh', '-c', `id -u; cat /tmp/only-here 2>/dev/null || echo no-tmp; cat '${path.join(home, 'secrets.key')}' >/dev/null 2>&1 && echo READ; exit 3`]);
			assert.equal(r.code, 3, r.stderr);
			assert.equal(r.stderr, 'command terminated with exit code 3\n');
			const [uid, tmp] = r.stdout.trim().split('\n');
			assert.ok(Number(uid) >= 1_000_000 || !asRoot, `exec runs as the pod's uid, not ${uid}`);
			if (!variant.env.KUBEDECK_NO_BWRAP) assert.equal(tmp, 'inside', 'exec sees the container\'s own /tmp');
			assert.doesNotMatch(r.stdout, /READ/);
			const piped = await kd(['exec', '-i', 'shell', '--', 'sh', '-c', 'read line; echo "got $line"'], 'hello\n');
			assert.equal(piped.stdout, 'got hello\n');
			// An exec'd process left running ends with the pod.
			const background = kd(['exec', 'shell', '--', 'sleep', e.seconds]);
			await eventually(() => sleepers(e.seconds).length === 1, 'the exec\'d process to run');
			await kd(['delete', 'pod', 'shell']);
			await eventually(() => sleepers(e.seconds).length === 0, 'the exec\'d process to end with its pod');
			await background;
		});
	});
}

describe('secret files in memory', {skip: !hasBubblewrap() && !asRoot && 'needs bubblewrap or root'}, () => {
	it('are removed at stop, and swept by the next engine when their state directory was removed', async () => {
		const home = tempHome();
		let engine = await startEngine(home);
		const kd = (args: string[], input?: string) => runCli(args, {home, input});
		try {
			assert.equal((await kd(['apply', '-f', '-'], `apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {k: v}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: main, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: s, mountPath: /s}]}]
  volumes: [{name: s, secret: {secretName: s}}]
`)).code, 0);
			const uid = await eventually(async () => {
				const p = JSON.parse((await kd(['get', 'pod', 'p', '-o', 'json'])).stdout);
				return p.status?.containerStatuses?.[0]?.state?.running && p.metadata.uid;
			}, 'the pod to run');
			const files = path.join(memoryRoot(home), uid);
			assert.ok(fs.existsSync(files));
			await engine.stop();
			assert.equal(fs.existsSync(files), false, 'the Secret files leave memory when the engine stops');
			engine = await startEngine(home);
			await eventually(() => fs.existsSync(files), 'the next engine to write them again');
			await engine.kill9();
			fs.rmSync(home, {recursive: true, force: true});
			assert.ok(fs.existsSync(files), 'killed, the engine left them');
			const other = tempHome();
			const next = await startEngine(other);
			await next.stop();
			removeHome(other);
			assert.equal(fs.existsSync(memoryRoot(home)), false, 'an engine of another state directory swept them at start');
		} finally {
			await engine.stop();
			removeHome(home);
		}
	});
});
