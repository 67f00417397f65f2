// Chunked lists, as kube-apiserver serves them: `limit` cuts a list into
// pages, each but the last with `metadata.continue` (a token naming where
// the next page starts and the list's resourceVersion) and
// `remainingItemCount` (when no selector filters the list). A continued page
// carries the first page's resourceVersion, so a client that watches from it
// sees every change made meanwhile (this store keeps no old versions to list
// from: the pages after the first reflect the state when they are asked
// for, and the watch replays what changed since). kubectl asks for 500 at a
// time; the dashboard's feeds page too, so a long list is never parsed whole.
import {badRequest} from '../../api/errors.js';
import type {KubeObject} from '../../api/object.js';
import {firstAtOrAfter} from '../../store/store.js';

interface Token {
	v: string;
	rv: number;
	start: string;
}

export interface Page<T> {
	items: T[];
	resourceVersion: string;
	continue?: string;
	remainingItemCount?: number;
}

function decode(token: string): Token {
	let parsed: Token;
	try {
		parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
	} catch {
		throw badRequest('continue key is not valid: illegal base64 data');
	}
	if (parsed?.v !== 'meta.k8s.io/v1' || typeof parsed.start !== 'string' || !Number.isInteger(parsed.rv)) throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
	return parsed;
}

/** One page of `entries` (sorted by namespace, then name) for `limit` and `continue`. */
export function page<T>(entries: T[], objectOf: (entry: T) => KubeObject, options: {limit?: number; continue?: string; resourceVersion: string; filtered: boolean}): Page<T> {
	let items = entries;
	let resourceVersion = options.resourceVersion;
	if (options.continue) {
		const token = decode(options.continue);
		// The token names the last entry shown, with a NUL after its name (no name holds one): the page starts at the
		// first entry at or after that, found by binary search, the entries being in list order.
		const start = token.start.endsWith('\u0000') ? token.start : `${token.start}\u0000`;
		const slash = start.indexOf('/');
		items = entries.slice(firstAtOrAfter(entries, start.slice(0, slash), start.slice(slash + 1), objectOf));
		resourceVersion = String(token.rv);
	}
	const limit = options.limit ?? 0;
	if (limit <= 0 || items.length <= limit) return {items, resourceVersion};
	const shown = items.slice(0, limit);
	const last = objectOf(shown[shown.length - 1]).metadata;
	const token: Token = {v: 'meta.k8s.io/v1', rv: Number(resourceVersion), start: `${last.namespace ?? ''}/${last.name}\u0000`};
	return {items: shown, resourceVersion, continue: Buffer.from(JSON.stringify(token)).toString('base64'), ...(options.filtered ? {} : {remainingItemCount: items.length - limit})};
}
