// Volumes: ConfigMap, Secret and emptyDir volumes reach the container. With
// bubblewrap they are mounted at their mountPath in a private mount
// namespace (and nothing appears on the host); without it the pod still runs,
// gets each mount's directory in an env var, and a Warning that says what to
// install.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {memoryRoot} from '../../source/engine/layout.js';
import {describe, it} from 'node:test';
import {hasBubblewrap} from '../../source/engine/kubelet/kubelet.js';
import {eventually, removeHome, runCli, startEngine, tempHome} from '../helpers.js';

const manifest = (command: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hello-from-configmap}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: vol}
spec:
  containers:
  - name: main
    image: busybox
    command: [sh, -c, ${JSON.stringify(command)}]
    volumeMounts:
    - {name: config, mountPath: /etc/kubedeck-test-config}
    - {name: secret, mountPath: /var/run/kubedeck-test-secret, readOnly: true}
    - {name: scratch, mountPath: /kubedeck-test-data}
  volumes:
  - {name: config, configMap: {name: cfg}}
  - {name: secret, secret: {secretName: sec}}
  - {name: scratch, emptyDir: {}}
`;

async function runPod(env: NodeJS.ProcessEnv, command: string) {
	const home = tempHome();
	const engine = await startEngine(home, {env});
	const kd = (args: string[], input?: string) => runCli(args, {home, input});
	try {
		assert.equal((await kd(['apply', '-f', '-'], manifest(command))).code, 0);
		const logs = await eventually(async () => {
			const r = await kd(['logs', 'vol']);
			return r.stdout.includes('done') && r.stdout;
		}, 'the pod to report its volumes');
		const pod = JSON.parse((await kd(['get', 'pod', 'vol', '-o', 'json'])).stdout);
		const events = (await kd(['describe', 'pod', 'vol'])).stdout;
		const secretDir = fs.readdirSync(memoryRoot(home)).filter(d => d === pod.metadata.uid);
		assert.equal((await kd(['delete', 'pod', 'vol'])).code, 0);
		const secretGone = !fs.existsSync(path.join(memoryRoot(home), pod.metadata.uid));
		return {logs, events, secretDir, secretGone};
	} finally {
		await engine.stop();
		removeHome(home);
	}
}

describe('volumes', () => {
	it('mounts ConfigMap, Secret and emptyDir volumes at their mountPath with bubblewrap', {skip: !hasBubblewrap() && 'bubblewrap is not installed'}, async () => {
		const {logs, secretDir, secretGone} = await runPod({}, 'cat /etc/kubedeck-test-config/greeting; echo; cat /var/run/kubedeck-test-secret/password; echo; echo x > /kubedeck-test-data/f; ls /kubedeck-test-data; echo done; sleep 3600');
		assert.equal(logs, 'hello-from-configmap\ns3cret\nf\ndone\n');
		for (const p of ['/etc/kubedeck-test-config', '/run/kubedeck-test-secret', '/kubedeck-test-data']) assert.equal(fs.existsSync(p), false, `${p} must not appear on the host`);
		assert.equal(secretDir.length, 1, 'secret volumes live in memory-backed /dev/shm');
		assert.ok(secretGone, 'the in-memory secret files are removed with the pod');
	});

	it('runs without bubblewrap, passing mount directories in env vars and warning what to install', async () => {
		const {logs, events} = await runPod({KUBEDECK_NO_BWRAP: '1'}, 'cat $KUBEDECK_MOUNT_ETC_KUBEDECK_TEST_CONFIG/greeting; echo; cat $KUBEDECK_MOUNT_VAR_RUN_KUBEDECK_TEST_SECRET/password; echo; echo done; sleep 3600');
		assert.equal(logs, 'hello-from-configmap\ns3cret\ndone\n');
		assert.match(events, /Warning\s+VolumesNotMounted\s+.*Install the "bubblewrap" package/);
	});
});
