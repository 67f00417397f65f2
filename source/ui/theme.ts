// Themes: JSON files of Ink colour names (themes/ holds the built-in ones; a
// user's own file is loaded by path). A missing colour means "no colour",
// which is all the no-color theme is; NO_COLOR picks it by itself.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export interface Theme {
	name: string;
	description?: string;
	accent?: string;
	text?: string;
	muted?: string;
	ok?: string;
	warning?: string;
	error?: string;
	selection?: string;
	yamlKey?: string;
	bold?: boolean;
	/** Colour per STATUS column value (Running, Pending...). */
	status: Record<string, string>;
	/** Colours for the source prefixes of interleaved workload logs. */
	logPrefixes: string[];
}

export const themesDir = fileURLToPath(new URL('../../../themes', import.meta.url));

export function builtinThemes(): string[] {
	const order = ['dark', 'light', 'high-contrast', 'no-color'];
	const found = fs.readdirSync(themesDir).filter(f => f.endsWith('.json')).map(f => f.slice(0, -5));
	return [...order.filter(n => found.includes(n)), ...found.filter(n => !order.includes(n)).sort()];
}

/** A built-in theme by name, or a theme file by path; throws with a message that says what is wrong. */
export function loadTheme(nameOrPath: string): Theme {
	const file = nameOrPath.includes('/') || nameOrPath.endsWith('.json') ? path.resolve(nameOrPath) : path.join(themesDir, `${nameOrPath}.json`);
	if (!fs.existsSync(file)) throw new Error(`theme "${nameOrPath}" not found: built-in themes are ${builtinThemes().join(', ')}, or give the path of a JSON theme file`);
	let raw: Partial<Theme>;
	try {
		raw = JSON.parse(fs.readFileSync(file, 'utf8'));
	} catch (error) {
		throw new Error(`theme ${file}: ${(error as Error).message}`);
	}
	if (!raw || typeof raw !== 'object') throw new Error(`theme ${file}: must be a JSON object`);
	return {...raw, name: raw.name ?? path.basename(file, '.json'), status: raw.status ?? {}, logPrefixes: raw.logPrefixes ?? []};
}

/** The theme to start with: the flag, else the saved preference, else no-color under NO_COLOR, else dark. */
export function initialTheme(flag: string | undefined, saved: string | undefined): Theme {
	if (flag) return loadTheme(flag);
	if (process.env.NO_COLOR) return loadTheme('no-color');
	if (saved) {
		try {
			return loadTheme(saved);
		} catch {
			// A saved theme file that has since gone: fall back rather than refuse to start.
		}
	}
	return loadTheme('dark');
}

/** Status colours: exact matches first, then the families (errors red, back-offs red). */
export function statusColor(theme: Theme, status: string): string | undefined {
	if (theme.status[status]) return theme.status[status];
	if (/(Error|BackOff|OOMKilled|NotRunnable|Failed|Evicted|Unknown)/.test(status)) return theme.error;
	return undefined;
}
