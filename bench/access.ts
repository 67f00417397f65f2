// The cost of authentication and RBAC. (1) ConfigMap creates per second over
// TLS by a user with a token and a RoleBinding, beside the same creates by
// the local admin over the unix socket, in one engine and one run (goal: at
// least 0.7). (2) RBAC decisions per second with 1,000 RoleBindings in 100
// namespaces, in process, for 200 users; its goal is absolute (100,000/s),
// so the baseline column holds that figure.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {typeByPlural} from '../source/api/resources.js';
import {readEndpoint} from '../source/server/api/auth.js';
import {type Attributes} from '../source/server/auth/attributes.js';
import {defaultClusterRoles} from '../source/server/auth/policy.js';
import {Authorizer} from '../source/server/auth/rbac.js';
import {Store} from '../source/store/store.js';
import {removeHome, tempHome, withEngine} from '../test/helpers.js';
import {type Benchmark, row} from './harness.js';

type Post = (path: string, body: object) => Promise<void>;

async function writes(post: Post, namespace: string, prefix: string, count: number, concurrency: number): Promise<number> {
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const i = next++;
			await post(`/api/v1/namespaces/${namespace}/configmaps`, {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: `${prefix}${i}`, namespace}, data: {n: String(i)}});
		}
	};
	const start = process.hrtime.bigint();
	await Promise.all(Array.from({length: concurrency}, worker));
	return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function tlsVersusSocket(count: number, log: (line: string) => void): Promise<{tls: number; socket: number}> {
	return withEngine({}, async ({home, client}) => {
		const {token} = (await client.engine('POST', '/kubedeck/v1/users', {name: 'bench', token: true})) as {token: string};
		for (const ns of ['by-admin', 'by-user']) await client.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns}});
		await client.create({apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: {name: 'bench', namespace: 'by-user'},
			roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit'}, subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bench'}]});
		const url = new URL(readEndpoint(home)!);
		const agent = new https.Agent({keepAlive: true, ca: fs.readFileSync(path.join(home, 'ca.crt'))});
		const tlsPost: Post = (p, body) => new Promise((resolve, reject) => {
			const text = JSON.stringify(body);
			const req = https.request({host: url.hostname, port: url.port, path: p, method: 'POST', agent,
				headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)}}, res => {
				res.resume();
				res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
			});
			req.on('error', reject);
			req.end(text);
		});
		const socketPost: Post = async (_p, body) => {
			await client.create(body as never);
		};
		// Interleaved halves, so a slow moment of the machine falls on both.
		let tls = 0, socket = 0;
		for (let round = 0; round < 2; round++) {
			socket += await writes(socketPost, 'by-admin', `r${round}-`, count / 2, 64);
			tls += await writes(tlsPost, 'by-user', `r${round}-`, count / 2, 64);
		}
		agent.destroy();
		const stored = (await client.list(typeByPlural('configmaps')!, {namespace: 'by-user'})).items.filter(c => c.metadata.name!.startsWith('r')).length;
		if (stored !== count) throw new Error(`expected ${count} ConfigMaps written by the user, found ${stored}`);
		log(`local admin over the unix socket: ${(socket / 2).toFixed(0)} writes/s; user token over TLS with RBAC: ${(tls / 2).toFixed(0)} writes/s`);
		return {tls: tls / 2, socket: socket / 2};
	});
}

async function decisions(count: number, log: (line: string) => void): Promise<number> {
	const home = tempHome();
	const store = new Store(home);
	try {
		const types = ['clusterroles', 'rolebindings'].map(p => typeByPlural(p)!);
		await store.write(tx => {
			for (const role of defaultClusterRoles()) tx.create(types[0], {...role, metadata: {...role.metadata, uid: role.metadata.name}});
			for (let i = 0; i < 1000; i++) {
				tx.create(types[1], {
					apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: {name: `b-${i}`, namespace: `ns-${i % 100}`, uid: `b-${i}`},
					roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ['view', 'edit', 'admin'][i % 3]},
					subjects: [{kind: 'User', name: `user-${i % 200}`}, {kind: 'Group', name: `team-${i % 20}`}],
				} as never);
			}
			return undefined as never;
		});
		const authorizer = new Authorizer(store);
		const verbs = ['get', 'list', 'create', 'delete', 'patch'];
		const resources = [['', 'pods'], ['apps', 'deployments'], ['', 'secrets'], ['batch', 'jobs'], ['rbac.authorization.k8s.io', 'rolebindings']];
		const asks: Attributes[] = Array.from({length: 4096}, (_, i) => {
			const [apiGroup, resource] = resources[i % resources.length];
			return {user: {name: `user-${i % 200}`, groups: [`team-${i % 20}`, 'system:authenticated']}, verb: verbs[(i >> 3) % verbs.length], resourceRequest: true, apiGroup, resource, namespace: `ns-${(i * 7) % 100}`, name: `obj-${i}`};
		});
		let allowed = 0;
		for (const a of asks) if (authorizer.authorize(a)) allowed++;
		const start = process.hrtime.bigint();
		for (let i = 0; i < count; i++) if (authorizer.authorize(asks[i & 4095])) allowed++;
		const perSecond = count / (Number(process.hrtime.bigint() - start) / 1e9);
		log(`${perSecond.toFixed(0)} decisions/s with 1,000 RoleBindings (${((allowed / (count + asks.length)) * 100).toFixed(0)}% allowed)`);
		authorizer.stop();
		return perSecond;
	} finally {
		await store.close();
		removeHome(home);
	}
}

export const access: Benchmark = {
	name: 'access',
	description: 'API writes over TLS with a user token and RBAC vs the local admin on the unix socket; RBAC decisions per second',
	async run({quick, log}) {
		const {tls, socket} = await tlsVersusSocket(quick ? 2000 : 8000, log);
		const perSecond = await decisions(quick ? 200_000 : 1_000_000, log);
		return [
			row('writes over TLS by a user with RBAC, vs the admin on the socket', tls, 'writes/s', socket, 0.7),
			row('RBAC decisions with 1,000 RoleBindings (baseline: the 100,000/s goal)', perSecond, 'decisions/s', 100_000, 1),
		];
	},
};
