import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {labelErrors, namespaceLevel, violations} from '../../source/api/pod-security.js';
import type {KubeObject} from '../../source/api/object.js';

const container = (securityContext: object = {}, extra: object = {}) => ({name: 'main', image: 'busybox', securityContext, ...extra});
const hardened = {allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}, runAsNonRoot: true, seccompProfile: {type: 'RuntimeDefault'}};

describe('Pod Security Standards', () => {
	it('lets anything through privileged, and a plain pod through baseline', () => {
		const wild = {hostNetwork: true, containers: [container({privileged: true})], volumes: [{name: 'h', hostPath: {path: '/'}}]};
		assert.deepEqual(violations(wild, 'privileged'), []);
		assert.deepEqual(violations({containers: [container()]}, 'baseline'), []);
	});
	it('names what baseline forbids, as the policy checks word it', () => {
		const spec = {
			hostNetwork: true, hostPID: true,
			containers: [container({privileged: true, capabilities: {add: ['NET_ADMIN', 'CHOWN']}}, {ports: [{containerPort: 80, hostPort: 8080}]})],
			volumes: [{name: 'h', hostPath: {path: '/etc'}}],
			securityContext: {sysctls: [{name: 'kernel.msgmax', value: '1'}, {name: 'net.ipv4.tcp_syncookies', value: '1'}]},
		};
		assert.deepEqual(violations(spec, 'baseline'), [
			'host namespaces (hostNetwork=true, hostPID=true)',
			'privileged (container "main" must not set securityContext.privileged=true)',
			'non-default capabilities (container "main" must not include "NET_ADMIN" in securityContext.capabilities.add)',
			'hostPath volume ("h")',
			'hostPort (container "main" uses hostPort 8080)',
			'forbidden sysctls (kernel.msgmax)',
		]);
	});
	it('asks restricted pods to drop everything, run as non-root with a seccomp profile, and use only plain volumes', () => {
		assert.deepEqual(violations({containers: [container(hardened)], volumes: [{name: 'c', configMap: {name: 'x'}}]}, 'restricted'), []);
		assert.deepEqual(violations({containers: [container()], volumes: [{name: 'n', nfs: {server: 'x', path: '/'}}]}, 'restricted'), [
			'restricted volume types (volume "n" uses restricted volume type "nfs")',
			'allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false)',
			'unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"])',
			'runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true)',
			'seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
		]);
		assert.deepEqual(violations({securityContext: {runAsUser: 0}, containers: [container(hardened)]}, 'restricted'), ['runAsUser=0 (pod must not set runAsUser=0)']);
	});
	it('fails closed on an enforce label that names no level, and open on warn and audit, as Pod Security admission does', () => {
		const ns = {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'x', labels: {'pod-security.kubernetes.io/enforce': 'baseine', 'pod-security.kubernetes.io/warn': 'strict', 'pod-security.kubernetes.io/audit': 'baseline'}}} as KubeObject;
		assert.equal(namespaceLevel(ns, 'enforce'), 'restricted');
		assert.equal(namespaceLevel(ns, 'warn'), undefined);
		assert.equal(namespaceLevel(ns, 'audit'), 'baseline');
		assert.equal(namespaceLevel({...ns, metadata: {name: 'y'}}, 'enforce'), undefined, 'no label: no level');
		assert.deepEqual(labelErrors(ns.metadata.labels).map(e => e.field), ['metadata.labels[pod-security.kubernetes.io/enforce]', 'metadata.labels[pod-security.kubernetes.io/warn]']);
		assert.deepEqual(labelErrors({'pod-security.kubernetes.io/enforce-version': 'v1.30', 'pod-security.kubernetes.io/warn-version': '1.30'}).map(e => e.field), ['metadata.labels[pod-security.kubernetes.io/warn-version]']);
	});
});
