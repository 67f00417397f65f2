// Themes: files of Ink colour names for semantic tokens (themes/ holds the
// built-in ones, JSON; a user's own file, JSON or YAML, is loaded by path and
// overrides only the tokens it names, over the dark theme or the one it
// names in `base`). In a built-in theme a missing colour means "no colour",
// which is all the no-color theme is; NO_COLOR picks it by itself.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import YAML from 'yaml';

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

const colourTokens = ['accent', 'text', 'muted', 'ok', 'warning', 'error', 'selection', 'yamlKey'] as const;

/** What is wrong with a theme file's content, naming the field; empty when nothing is. */
export function themeErrors(raw: unknown): string[] {
	if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return ['must be a mapping of tokens to colours'];
	const t = raw as Record<string, unknown>;
	const errors: string[] = [];
	const known = new Set<string>(['name', 'description', 'base', 'bold', 'status', 'logPrefixes', ...colourTokens]);
	for (const key of Object.keys(t)) if (!known.has(key)) errors.push(`${key}: unknown token (known: ${[...known].join(', ')})`);
	for (const key of colourTokens) if (t[key] !== undefined && typeof t[key] !== 'string') errors.push(`${key}: must be a colour name or #rrggbb`);
	if (t.status !== undefined && (typeof t.status !== 'object' || Object.values(t.status as object).some(v => typeof v !== 'string'))) errors.push('status: must map STATUS values to colours');
	if (t.logPrefixes !== undefined && (!Array.isArray(t.logPrefixes) || t.logPrefixes.some(v => typeof v !== 'string'))) errors.push('logPrefixes: must be a list of colours');
	if (t.bold !== undefined && typeof t.bold !== 'boolean') errors.push('bold: must be true or false');
	return errors;
}

/** A built-in theme by name, or a theme file by path; throws with a message that says what is wrong. */
export function loadTheme(nameOrPath: string): Theme {
	const builtin = !/[/\\]|\.(json|ya?ml)$/.test(nameOrPath);
	const file = builtin ? path.join(themesDir, `${nameOrPath}.json`) : path.resolve(nameOrPath);
	if (!fs.existsSync(file)) throw new Error(`theme "${nameOrPath}" not found: built-in themes are ${builtinThemes().join(', ')}, or give the path of a JSON or YAML theme file`);
	let raw: Partial<Theme> & {base?: string};
	try {
		raw = YAML.parse(fs.readFileSync(file, 'utf8'));
	} catch (error) {
		throw new Error(`theme ${file}: ${(error as Error).message.split('\n')[0]}`);
	}
	const errors = themeErrors(raw);
	if (errors.length) throw new Error(`theme ${file}: ${errors.join('; ')}`);
	if (builtin) return {...raw, name: raw.name ?? nameOrPath, status: raw.status ?? {}, logPrefixes: raw.logPrefixes ?? []};
	// A user's theme changes what it names and keeps the rest of its base.
	if (raw.base !== undefined && !builtinThemes().includes(raw.base)) throw new Error(`theme ${file}: base: Unsupported value: "${raw.base}": supported values: ${builtinThemes().join(', ')}`);
	const base = loadTheme(raw.base ?? 'dark');
	return {...base, ...raw, name: raw.name ?? path.basename(file).replace(/\.[^.]+$/, ''), status: {...base.status, ...raw.status}, logPrefixes: raw.logPrefixes ?? base.logPrefixes};
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
