// Reading manifests for -f: files, directories (their .yaml/.yml/.json
// files, -R for subdirectories) and "-" for stdin; YAML or JSON; many
// documents per file separated by `---`; `kind: List` expanded.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {isObject, type KubeObject} from '../../api/object.js';
import {CliError} from '../errors.js';

export interface Manifest {
	/** The file it came from ("STDIN" for -). */
	source: string;
	/** 1-based position of the document in its file. */
	index: number;
	object: KubeObject;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
	return Buffer.concat(chunks).toString('utf8');
}

function filesIn(dir: string, recursive: boolean): string[] {
	const out: string[] = [];
	for (const entry of fs.readdirSync(dir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) {
			if (recursive) out.push(...filesIn(full, recursive));
		} else if (/\.(ya?ml|json)$/.test(entry.name)) {
			out.push(full);
		}
	}
	return out;
}

export function parseManifests(text: string, source: string): Manifest[] {
	const out: Manifest[] = [];
	const docs = YAML.parseAllDocuments(text);
	let index = 0;
	for (const doc of docs) {
		index++;
		if (doc.errors.length > 0) {
			throw new CliError(`error: error parsing ${source}: document ${index}: ${doc.errors[0].message.split('\n')[0]}`);
		}
		const value = doc.toJS();
		if (value === null || value === undefined) continue;
		if (!isObject(value)) throw new CliError(`error: error parsing ${source}: document ${index}: a manifest must be a mapping, found ${Array.isArray(value) ? 'a list' : typeof value}`);
		if (value.kind === 'List' || (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items))) {
			for (const item of (value.items as unknown[]) ?? []) {
				if (isObject(item)) out.push({source, index, object: item as KubeObject});
			}
			continue;
		}
		out.push({source, index, object: value as KubeObject});
	}
	return out;
}

export async function readManifests(sources: string[], options: {recursive?: boolean; stdin: NodeJS.ReadableStream}): Promise<Manifest[]> {
	if (sources.length === 0) throw new CliError('error: must specify one of -f and -k');
	const out: Manifest[] = [];
	for (const source of sources) {
		if (source === '-') {
			out.push(...parseManifests(await readStdin(options.stdin), 'STDIN'));
			continue;
		}
		let stat: fs.Stats;
		try {
			stat = fs.statSync(source);
		} catch {
			throw new CliError(`error: the path "${source}" does not exist`);
		}
		const files = stat.isDirectory() ? filesIn(source, !!options.recursive) : [source];
		for (const file of files) out.push(...parseManifests(fs.readFileSync(file, 'utf8'), file));
	}
	if (out.length === 0) throw new CliError(`error: no objects passed to apply`);
	return out;
}
