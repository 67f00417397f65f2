// Tab completion for the `:` prompt, as a shell completes: the word under the
// cursor against what fits there (kinds and commands first; then namespaces,
// themes or file paths, by the command), the common prefix filled in, and the
// candidates listed for Tab to cycle through. Pure functions: the App supplies
// the words (the namespaces it watches, the files on disk).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CompletionSources {
	/** Resource kinds, each as its names: plural first, then its short names. */
	kinds: readonly (readonly string[])[];
	/** The prompt's own commands (ns, apply, theme, quit...). */
	commands: readonly string[];
	namespaces: readonly string[];
	themes: readonly string[];
	/** Paths that start with a prefix (`apply FILE`). */
	files(prefix: string): string[];
	/** Context names (`ctx NAME`). */
	contexts?: readonly string[];
}

export interface Completion {
	/** Where the word being completed starts in the text. */
	start: number;
	candidates: string[];
}

/** What the last word of `text` may become. */
export function completionsFor(text: string, sources: CompletionSources): Completion {
	const start = text.lastIndexOf(' ') + 1;
	const word = text.slice(start);
	const words = text.slice(0, start).trim().split(/\s+/).filter(Boolean);
	const starting = (list: readonly string[]) => [...new Set(list.filter(w => w.startsWith(word)))];
	// One candidate per kind: its plural, or the short name that fits when the plural does not.
	const kinds = sources.kinds.map(names => names.find(n => n.startsWith(word))).filter((n): n is string => !!n);
	if (words.length === 0) return {start, candidates: starting([...sources.commands, ...kinds])};
	if (words.length > 1) return {start, candidates: []};
	const [first] = words;
	if (first === 'theme') return {start, candidates: starting(sources.themes)};
	if (first === 'ctx' || first === 'context') return {start, candidates: starting(sources.contexts ?? [])};
	if (first === 'apply') return {start, candidates: sources.files(word)};
	// `:ns NAME` and `:KIND NAMESPACE`.
	if (first === 'ns' || first === 'namespace' || sources.kinds.some(names => names.includes(first))) return {start, candidates: starting(['all', ...sources.namespaces])};
	return {start, candidates: []};
}

export function commonPrefix(words: readonly string[]): string {
	if (words.length === 0) return '';
	let prefix = words[0];
	for (const w of words) while (!w.startsWith(prefix)) prefix = prefix.slice(0, -1);
	return prefix;
}

/** The text with its word from `start` replaced. */
export function withWord(text: string, start: number, word: string): string {
	return text.slice(0, start) + word;
}

/** Files and directories (with a trailing /) whose path starts with `prefix`; ~ is the home directory. */
export function pathCandidates(prefix: string, cwd = process.cwd()): string[] {
	const expanded = prefix.replace(/^~(?=$|\/)/, os.homedir());
	const dir = expanded.endsWith('/') ? expanded : path.dirname(expanded);
	const base = expanded.endsWith('/') ? '' : path.basename(expanded);
	const shownDir = prefix.endsWith('/') ? prefix : prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
	try {
		return fs.readdirSync(path.resolve(cwd, dir || '.'), {withFileTypes: true})
			.filter(e => e.name.startsWith(base) && (base.startsWith('.') || !e.name.startsWith('.')))
			.map(e => `${shownDir}${e.name}${e.isDirectory() ? '/' : ''}`)
			.sort()
			.slice(0, 200);
	} catch {
		return [];
	}
}

/** Edit distance (Levenshtein), for "did you mean". */
function distance(a: string, b: string): number {
	let previous = Array.from({length: b.length + 1}, (_, i) => i);
	for (let i = 1; i <= a.length; i++) {
		const row = [i];
		for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
		previous = row;
	}
	return previous[b.length];
}

/** The words nearest to `word`: those it starts or is contained in first, then by edit distance (at most `limit`). */
export function nearest(word: string, words: readonly string[], limit = 5): string[] {
	const scored = [...new Set(words)].map(w => ({w, score: w.startsWith(word) || word.startsWith(w) ? 0 : w.includes(word) ? 1 : 1 + distance(word, w)}));
	return scored.filter(s => s.score <= Math.max(2, Math.ceil(word.length / 2))).sort((a, b) => a.score - b.score || a.w.length - b.w.length || a.w.localeCompare(b.w)).slice(0, limit).map(s => s.w);
}
