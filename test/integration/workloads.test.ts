// Workloads with real processes: the scheduler, the kubelet's process
// runtime, restarts, probes, rolling updates, rollbacks, garbage collection,
// logs, and no process left behind.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {after, before, describe, it} from 'node:test';
import {processRunning} from '../../source/engine/processes.js';
import {cliPath, type EngineProcess, eventually, removeHome, runCli, startEngine, tempHome} from '../helpers.js';

type Rec = Record<string, any>;

describe('workloads on the process runtime', () => {
	let home: string;
	let engine: EngineProcess;
	const kd = (args: string[], input?: string) => runCli(args, {home, input});
	const json = async (args: string[]) => {
		const r = await kd([...args, '-o', 'json']);
		assert.equal(r.code, 0, r.stderr);
		return JSON.parse(r.stdout) as Rec;
	};
	const pods = async (ns: string, selector?: string) => (await json(['get', 'pods', '-n', ns, ...(selector ? ['-l', selector] : [])])).items as Rec[];
	const running = (list: Rec[]) => list.filter(p => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
	const ready = (p: Rec) => (p.status.conditions ?? []).some((c: Rec) => c.type === 'Ready' && c.status === 'True');
	const apply = async (yaml: string) => {
		const r = await kd(['apply', '-f', '-'], yaml);
		assert.equal(r.code, 0, r.stderr);
	};

	before(async () => {
		home = tempHome();
		engine = await startEngine(home);
		for (const ns of ['scale', 'crash', 'roll', 'misc']) assert.equal((await kd(['create', 'namespace', ns])).code, 0);
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});

	it('runs a Deployment and scales it up and down', async () => {
		assert.equal((await kd(['create', 'deployment', 'web', '-n', 'scale', '--image=kubedeck/agnhost', '--replicas=2'])).code, 0);
		await eventually(async () => running(await pods('scale')).length === 2, '2 running pods');
		assert.equal((await kd(['scale', 'deploy/web', '-n', 'scale', '--replicas=5'])).stdout.trim(), 'deployment.apps/web scaled');
		await eventually(async () => running(await pods('scale')).length === 5, '5 running pods');
		const list = await pods('scale');
		assert.equal(new Set(list.map(p => p.status.podIP)).size, 5, 'every pod has its own IP');
		assert.ok(list.every(p => /^127\.\d+\.\d+\.\d+$/.test(p.status.podIP)));
		// The built-in HTTP image answers with its pod name on the pod's own address.
		const answer = await fetch(`http://${list[0].status.podIP}:8080/`).then(r => r.text());
		assert.equal(answer, list[0].metadata.name);
		assert.equal((await kd(['scale', 'deploy/web', '-n', 'scale', '--replicas=1'])).code, 0);
		await eventually(async () => (await pods('scale')).length === 1, 'scale down to 1 pod');
		await eventually(async () => (await json(['get', 'deploy', 'web', '-n', 'scale'])).status.availableReplicas === 1, 'deployment status to show 1 available');
	});

	it('restarts a container whose process is killed, counting the restart', async () => {
		await apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: sleeper, namespace: crash}\nspec:\n  containers:\n  - {name: main, image: busybox, command: [sleep, "3600"]}\n`);
		const pod = await eventually(async () => {
			const p = await json(['get', 'pod', 'sleeper', '-n', 'crash']);
			return p.status.containerStatuses?.[0]?.state?.running && p;
		}, 'the sleeper to run');
		const pid = Number(pod.status.containerStatuses[0].containerID.replace('process://', ''));
		process.kill(pid, 'SIGKILL');
		const after = await eventually(async () => {
			const p = await json(['get', 'pod', 'sleeper', '-n', 'crash']);
			const cs = p.status.containerStatuses[0];
			return cs.restartCount === 1 && cs.state.running && cs;
		}, 'the container to be restarted');
		assert.equal(after.lastState.terminated.exitCode, 137);
		assert.equal(after.lastState.terminated.reason, 'Error');
		assert.notEqual(Number(after.containerID.replace('process://', '')), pid);
	});

	it('runs a command in a container\'s environment with exec', async () => {
		const r = await kd(['exec', 'sleeper', '-n', 'crash', '--', 'sh', '-c', 'echo $POD_NAME $POD_NAMESPACE; exit 4']);
		assert.equal(r.stdout, 'sleeper crash\n');
		assert.equal(r.code, 4);
		assert.equal(r.stderr.trim(), 'command terminated with exit code 4');
	});

	it('backs off a crashing container with CrashLoopBackOff', async () => {
		await apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: crasher, namespace: crash}\nspec:\n  containers:\n  - {name: main, image: busybox, command: [sh, -c, "echo dying; exit 3"]}\n`);
		const cs = await eventually(async () => {
			const s = (await json(['get', 'pod', 'crasher', '-n', 'crash'])).status.containerStatuses?.[0];
			return s?.state?.waiting?.reason === 'CrashLoopBackOff' && s;
		}, 'CrashLoopBackOff');
		assert.equal(cs.restartCount, 1);
		assert.equal(cs.lastState.terminated.exitCode, 3);
		assert.match(cs.state.waiting.message, /^back-off 10s restarting failed container=main pod=crasher_crash/);
		assert.match((await kd(['get', 'pod', 'crasher', '-n', 'crash'])).stdout, /crasher\s+0\/1\s+CrashLoopBackOff\s+1 \(\S+ ago\)/);
		assert.equal((await kd(['logs', 'crasher', '-n', 'crash', '-p'])).stdout, 'dying\n');
	});

	it('restarts a container that fails its liveness probe', async () => {
		await apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: unhealthy, namespace: crash}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: busybox\n    command: [sleep, "3600"]\n    livenessProbe:\n      exec: {command: [sh, -c, "exit 1"]}\n      periodSeconds: 1\n      failureThreshold: 2\n`);
		await eventually(async () => (await json(['get', 'pod', 'unhealthy', '-n', 'crash'])).status.containerStatuses?.[0]?.restartCount >= 1, 'a liveness restart', 20_000);
		const described = await kd(['describe', 'pod', 'unhealthy', '-n', 'crash']);
		assert.match(described.stdout, /Warning\s+Unhealthy\s+.*Liveness probe failed: command "sh -c exit 1" exited with 1/);
		assert.match(described.stdout, /Normal\s+Killing\s+.*Container main failed liveness probe, will be restarted/);
	});

	it('keeps a pod with an image it cannot run waiting with ImageNotRunnable', async () => {
		await apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: nginx, namespace: misc}\nspec:\n  containers:\n  - {name: nginx, image: "nginx:1.27"}\n`);
		const waiting = await eventually(async () => (await json(['get', 'pod', 'nginx', '-n', 'misc'])).status.containerStatuses?.[0]?.state?.waiting, 'a waiting container');
		assert.equal(waiting.reason, 'ImageNotRunnable');
		assert.match(waiting.message, /give the container a command/);
		assert.match((await kd(['get', 'pod', 'nginx', '-n', 'misc'])).stdout, /nginx\s+0\/1\s+ImageNotRunnable/);
	});

	it('leaves a pod that fits nowhere Pending with a FailedScheduling event', async () => {
		await apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: huge, namespace: misc}\nspec:\n  containers:\n  - {name: main, image: pause, resources: {requests: {cpu: "100000"}}}\n`);
		const cond = await eventually(async () => ((await json(['get', 'pod', 'huge', '-n', 'misc'])).status.conditions ?? []).find((c: Rec) => c.type === 'PodScheduled' && c.status === 'False'), 'the Unschedulable condition');
		assert.equal(cond.reason, 'Unschedulable');
		assert.equal(cond.message, '0/1 nodes are available: 1 Insufficient cpu.');
		await eventually(async () => /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/1 nodes are available: 1 Insufficient cpu\./.test((await kd(['describe', 'pod', 'huge', '-n', 'misc'])).stdout), 'the FailedScheduling event');
	});

	it('follows logs as they are written', async () => {
		await apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: chatty, namespace: misc}\nspec:\n  containers:\n  - {name: main, image: kubedeck/agnhost, args: [logs-generator, --rate=20]}\n`);
		await eventually(async () => (await json(['get', 'pod', 'chatty', '-n', 'misc'])).status.phase === 'Running', 'chatty to run');
		const follower = spawn(process.execPath, [cliPath, 'logs', '-f', 'chatty', '-n', 'misc'], {env: {...process.env, KUBEDECK_HOME: home}});
		let out = '';
		follower.stdout.on('data', d => (out += d));
		try {
			await eventually(() => /chatty line 3\n/.test(out), 'three lines');
			const seen = out.split('\n').length;
			await eventually(() => out.split('\n').length >= seen + 5, 'more lines arriving while following');
		} finally {
			follower.kill();
		}
		const tail = await kd(['logs', 'chatty', '-n', 'misc', '--tail=2', '--timestamps']);
		assert.match(tail.stdout, /^\d{4}-\d\d-\d\dT\S+Z chatty line \d+\n\S+ chatty line \d+\n$/);
	});

	it('rolls out a new template keeping replicas - maxUnavailable ready pods, and rolls back with undo', async () => {
		// v2's first readiness check waits 2 s, so the rollout outlasts the CLI's start on a busy machine and status has something to wait for.
		const deployment = (message: string, readyAfter = 0) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: roll}
spec:
  replicas: 4
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: api
        image: busybox
        command: [sh, -c, "echo ${message}; touch ready; sleep 3600"]
        readinessProbe:
          exec: {command: [sh, -c, "sleep 0.3; test -f ready"]}
          periodSeconds: 1
          initialDelaySeconds: ${readyAfter}
`;
		await apply(deployment('v1'));
		assert.equal((await kd(['rollout', 'status', 'deploy/api', '-n', 'roll', '--timeout=60s'])).code, 0);
		await apply(deployment('v2', 2));
		let minReady = Infinity;
		let sampling = true;
		const sampler = (async () => {
			while (sampling) {
				const list = (await pods('roll')).filter(p => !p.metadata.deletionTimestamp);
				minReady = Math.min(minReady, list.filter(ready).length);
			}
		})();
		const status = await kd(['rollout', 'status', 'deploy/api', '-n', 'roll', '--timeout=90s']);
		sampling = false;
		await sampler;
		assert.equal(status.code, 0, status.stderr);
		assert.match(status.stdout, /Waiting for deployment "api" rollout to finish: .*\n[\s\S]*deployment "api" successfully rolled out\n$/);
		assert.ok(minReady >= 3, `ready pods fell to ${minReady} during the rollout (replicas 4, maxUnavailable 1)`);
		const logs = await kd(['logs', 'deploy/api', '-n', 'roll']);
		assert.equal(logs.stdout, 'v2\n');
		const history = await kd(['rollout', 'history', 'deploy/api', '-n', 'roll']);
		assert.match(history.stdout, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);

		assert.equal((await kd(['rollout', 'undo', 'deploy/api', '-n', 'roll'])).stdout.trim(), 'deployment.apps/api rolled back');
		assert.equal((await kd(['rollout', 'status', 'deploy/api', '-n', 'roll', '--timeout=90s'])).code, 0);
		const d = await json(['get', 'deploy', 'api', '-n', 'roll']);
		assert.match(d.spec.template.spec.containers[0].command[2], /^echo v1;/);
		assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '3');
		await eventually(async () => (await kd(['logs', 'deploy/api', '-n', 'roll'])).stdout === 'v1\n', 'pods of the old template again');
	});

	it('deletes the ReplicaSets and pods of a deleted Deployment (garbage collection)', async () => {
		assert.equal((await kd(['delete', 'deploy', 'api', '-n', 'roll'])).code, 0);
		await eventually(async () => (await pods('roll')).length === 0 && (await json(['get', 'rs', '-n', 'roll'])).items.length === 0, 'the dependents to be collected');
	});

	it('leaves no container process behind after `kubedeck stop`', async () => {
		const pids: number[] = (await json(["get", "pods", "-A"])).items.flatMap((p: Rec) => (p.status.containerStatuses ?? []).map((c: Rec) => Number(String(c.containerID).replace('process://', '')))).filter((pid: number) => pid > 0);
		// A container restarting at this moment may have just changed pid; the others are running.
		const live = pids.filter(processRunning);
		assert.ok(live.length >= 3, `expected running containers, found ${live.length}`);
		assert.equal((await kd(['stop'])).code, 0);
		await eventually(() => live.every(pid => !processRunning(pid)), 'every container process to be gone', 20_000);
		engine = await startEngine(home);
	});
});
