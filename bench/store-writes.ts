// Store writes per second through the engine's API (HTTP over the unix
// socket, ConfigMap creates from 64 concurrent clients, synchronous=FULL with
// group commit) beside raw better-sqlite3 single-row inserts with the same
// durability setting, measured in the same run. Goal: API >= 0.5 of raw.
import path from 'node:path';
import Database from 'better-sqlite3';
import {typeByPlural} from '../source/api/resources.js';
import {removeHome, tempHome, withEngine} from '../test/helpers.js';
import {type Benchmark, row} from './harness.js';

function rawInserts(count: number): number {
	const dir = tempHome();
	try {
		const db = new Database(path.join(dir, 'raw.db'));
		db.pragma('journal_mode = WAL');
		db.pragma('synchronous = FULL');
		db.exec('CREATE TABLE objects (resource TEXT, namespace TEXT, name TEXT, uid TEXT, rv INTEGER, data BLOB, PRIMARY KEY (resource, namespace, name)) WITHOUT ROWID');
		const insert = db.prepare('INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?)');
		const body = JSON.stringify({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'x', namespace: 'default'}, data: {n: '0'}});
		const start = process.hrtime.bigint();
		for (let i = 0; i < count; i++) insert.run('configmaps', 'default', `cm-${i}`, `uid-${i}`, i, body);
		const seconds = Number(process.hrtime.bigint() - start) / 1e9;
		db.close();
		return count / seconds;
	} finally {
		removeHome(dir);
	}
}

async function apiWrites(count: number, concurrency: number): Promise<number> {
	return withEngine({}, async ({client}) => {
		let next = 0;
		const worker = async () => {
			while (next < count) {
				const i = next++;
				await client.create({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: `cm-${i}`, namespace: 'default'}, data: {n: String(i)}});
			}
		};
		const start = process.hrtime.bigint();
		await Promise.all(Array.from({length: concurrency}, worker));
		const seconds = Number(process.hrtime.bigint() - start) / 1e9;
		// Only ours: the namespace also holds its kube-root-ca.crt.
		const stored = (await client.list(typeByPlural('configmaps')!, {namespace: 'default'})).items.filter(cm => cm.metadata.name!.startsWith('cm-')).length;
		if (stored !== count) throw new Error(`expected ${count} stored objects, found ${stored}`);
		return count / seconds;
	});
}

export const storeWrites: Benchmark = {
	name: 'store-writes',
	description: 'durable (fsync) writes per second through the API vs raw better-sqlite3 single-row commits',
	async run({quick, log}) {
		const count = quick ? 1500 : 6000;
		const raw = rawInserts(count);
		log(`raw better-sqlite3, synchronous=FULL, one row per commit: ${raw.toFixed(0)} rows/s`);
		const api = await apiWrites(count, 64);
		log(`API (HTTP over unix socket, 64 concurrent clients, group commit): ${api.toFixed(0)} writes/s`);
		return [row('store writes through the API (synchronous=FULL)', api, 'writes/s', raw, 0.5)];
	},
};
