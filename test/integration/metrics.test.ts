// Metrics measured from the OS (metrics.k8s.io, `top`) and memory limits.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {describe, it} from 'node:test';
import {engineForSuite, eventually} from '../helpers.js';

describe('container metrics and memory limits', () => {
	const {kd} = engineForSuite(async kd => {
		const r = await kd(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: burner}
spec:
  containers:
  - {name: main, image: kubedeck/agnhost, args: [burn-cpu, --millicores=400]}
---
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "a=x; while true; do a=$a$a$a$a; done"]
    resources: {limits: {memory: 64Mi}}
`);
		assert.equal(r.code, 0, r.stderr);
	});

	it('reports CPU and memory of running containers through top pods and top nodes', async () => {
		const line = await eventually(async () => {
			const r = await kd(['top', 'pods', '--no-headers']);
			const m = r.stdout.match(/^burner\s+(\d+)m\s+(\d+)Mi$/m);
			return m && Number(m[1]) >= 100 && m;
		}, 'burner to show CPU use', 30_000);
		assert.ok(Number(line[2]) > 0, 'memory is measured');
		const nodes = await kd(['top', 'nodes']);
		assert.match(nodes.stdout, /^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)\n\S+\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\n$/);
	});

	it('kills a container over its memory limit with reason OOMKilled', async () => {
		const terminated = await eventually(async () => {
			const r = await kd(['get', 'pod', 'hog', '-o', 'json']);
			return JSON.parse(r.stdout).status.containerStatuses?.[0]?.state?.terminated;
		}, 'the hog to be killed', 30_000);
		assert.equal(terminated.reason, 'OOMKilled');
		assert.equal(terminated.exitCode, 137);
		assert.match((await kd(['get', 'pod', 'hog'])).stdout, /hog\s+0\/1\s+OOMKilled/);
		// Where the engine has a memory cgroup (root, a memory controller), the kernel's OOM killer did it,
		// not the kubelet's 5 s sampler (whose kill is the OOMKilling event).
		const memoryCgroup = process.getuid?.() === 0 && (fs.existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') || (fs.existsSync('/sys/fs/cgroup/cgroup.controllers') && /\bmemory\b/.test(fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8'))));
		if (memoryCgroup) assert.doesNotMatch((await kd(['describe', 'pod', 'hog'])).stdout, /OOMKilling/);
	});
});
