// The user's dashboard preferences, kept with `conf` in its standard config
// location (~/.config/kubedeck-nodejs/config.json on Linux), or under
// KUBEDECK_CONFIG_DIR when set (tests, portable setups). Cluster state never
// lives here. Keys are per context where a user would want them so: the last
// namespace, favourite namespaces and the protection level.
import Conf from 'conf';

export type Protection = 'readonly' | 'confirm' | 'type-name';

interface Schema {
	theme?: string;
	lastNamespace: Record<string, string>;
	favourites: Record<string, string[]>;
	/** Command id -> keys, replacing the defaults (see `?` in the dashboard for the ids). */
	keys: Record<string, string[]>;
	protection: Record<string, Protection>;
	/** `:` aliases: a word -> what it stands for (`"dp": "deployments"`, `"web": "pods -l app=web"` is not taken: a kind, optionally a namespace). */
	aliases?: Record<string, string>;
}

export class Prefs {
	private readonly conf: Conf<Schema>;
	/** conf reads and parses its file on every get; the dashboard asks on every frame, so keep a copy. */
	private data: Schema;

	constructor(dir = process.env.KUBEDECK_CONFIG_DIR) {
		this.conf = new Conf<Schema>({projectName: 'kubedeck', cwd: dir, defaults: {lastNamespace: {}, favourites: {}, keys: {}, protection: {}}});
		this.data = this.conf.store;
	}

	private set<K extends keyof Schema>(key: K, value: Schema[K]): void {
		this.conf.set(key, value);
		this.data = {...this.data, [key]: value};
	}

	private get<K extends keyof Schema>(key: K): Schema[K] {
		return this.data[key];
	}

	/** The user's `:` aliases (from the preferences file). */
	aliases(): Record<string, string> {
		const aliases = this.get('aliases');
		return aliases && typeof aliases === 'object' ? Object.fromEntries(Object.entries(aliases).filter(([, v]) => typeof v === 'string')) : {};
	}

	get path(): string {
		return this.conf.path;
	}

	get theme(): string | undefined {
		return this.get('theme');
	}

	set theme(name: string | undefined) {
		if (name) this.set('theme', name);
	}

	lastNamespace(context: string): string | undefined {
		return this.get('lastNamespace')[context];
	}

	/** Remember the namespace, and put it first among the recent ones on the favourite keys. */
	useNamespace(context: string, namespace: string): void {
		this.set('lastNamespace', {...this.get('lastNamespace'), [context]: namespace});
		if (namespace === 'all' || namespace === 'default') return;
		const recent = [namespace, ...(this.get('favourites')[context] ?? []).filter(n => n !== namespace)].slice(0, 8);
		this.set('favourites', {...this.get('favourites'), [context]: recent});
	}

	/** Namespaces on keys 0-9: `all` and `default`, then the ones used most recently. */
	favourites(context: string): string[] {
		return [...new Set(['all', 'default', ...(this.get('favourites')[context] ?? [])])].slice(0, 10);
	}

	keyOverrides(): Record<string, string[]> {
		return this.get('keys');
	}

	protection(context: string): Protection {
		return this.get('protection')[context] ?? 'confirm';
	}
}
