// Where the dashboard's effects run: the reducer (update.ts) asks, this does
// it (API calls, child programs, port-forwards, log streams, preferences)
// and reports back with messages. Long actions show as busy on the status
// line until their result replaces it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {formatStatus, StatusError} from '../api/errors.js';
import {type KubeObject, withoutManagedFields} from '../api/object.js';
import {refOf, resolveType, typeForKind} from '../api/resources.js';
import {EmbeddedClient} from '../client/embedded.js';
import {CliError} from '../client/errors.js';
import {applyManifests} from '../client/operations/apply.js';
import {describeText} from '../client/operations/describe.js';
import {readManifests} from '../client/operations/manifests.js';
import {rolloutRestart, rolloutUndo} from '../client/operations/rollout.js';
import {usersTable} from '../client/operations/users.js';
import type {ClusterClient} from '../client/types.js';
import {age} from '../render/format.js';
import {toYaml} from '../render/yaml.js';
import * as B from './editor/buffer.js';
import {saveBuffer} from './editor/save.js';
import {duplicateOf, withoutServerFields} from './editor/templates.js';
import {followRollout, liveDetails} from './details.js';
import {jobFromCronJob} from '../api/workloads.js';
import type {LogPane} from './keys/logs.js';
import {logPaneFor, maskSecret} from './objects.js';
import type {PortForwards} from '../client/operations/port-forward.js';
import type {Prefs} from './prefs.js';
import {remoteEffect, type RemoteSession} from './remote.js';
import type {Effect, Msg, Tone} from './state.js';
import {restoreWindowMs} from './update.js';
import {objectKey} from './table-model.js';
import {loadTheme, statusColor, type Theme} from './theme.js';
import {xrayOutline, type XrayObjects} from './xray.js';
import type {EditorState} from './views/editor-view.js';

export interface EffectDeps {
	client: ClusterClient;
	prefs: Prefs;
	forwards: PortForwards;
	dispatch(msg: Msg): void;
	exit(): void;
	/** Give the terminal to a program ($EDITOR, a shell) until it exits; its exit status. */
	runOutside(argv: string[]): number | null;
	/** The pods of the view's namespace, as the dashboard watches them. */
	pods(): readonly KubeObject[];
	theme(): Theme;
	examplesDir: string;
	/** The CLI, for the shell (kubedeck exec -it), and the flags that reach this cluster as this user. */
	cliPath: string;
	connectionArgs: string[];
	/** `:ctx NAME`: connect there (rejects with why it cannot). */
	switchContext?(name: string): Promise<void>;
	/** Served over SSH: what would act on the server's machine is done the SSH way (remote.ts). */
	remote?: RemoteSession;
}

// A CliError already reads as kubectl's line ("error: ..."): it is shown as it is.
export const errorText = (error: unknown) => (error instanceof StatusError ? formatStatus(error.status) : error instanceof CliError ? error.message : `error: ${(error as Error).message}`);

const typeOf = (obj: KubeObject) => typeForKind(obj.apiVersion, obj.kind)!;

export function runEffect(effect: Effect, deps: EffectDeps): void {
	const {client, dispatch} = deps;
	if (deps.remote && remoteEffect(effect, deps.remote, dispatch, errorText)) return;
	const status = (text: string, tone?: Tone) => dispatch({kind: 'status', text, tone});
	/** Show the result of a long action on the status line; a Deployment's rollout progress stays there until done. */
	const report = (promise: Promise<string>, rollout?: KubeObject) => {
		promise.then(text => {
			status(text);
			if (rollout?.kind === 'Deployment') {
				void followRollout(client, rollout.metadata.namespace!, rollout.metadata.name!, (line, done) => status(`${text} · ${line}`, done ? 'info' : 'busy')).catch(() => {});
			}
		}, error => status(errorText(error), 'error'));
	};
	switch (effect.kind) {
		case 'exit': return deps.exit();
		case 'useNamespace': {
			const ns = effect.namespace;
			if (ns === undefined || ns === 'default') return deps.prefs.useNamespace(client.description, ns ?? 'all');
			// Only a namespace that exists becomes a favourite; one that does not gets a warning.
			client.get(resolveType('namespaces')!, undefined, ns).then(() => deps.prefs.useNamespace(client.description, ns), error => {
				if (error instanceof StatusError && error.code === 404) status(`warning: namespace "${ns}" does not exist (not kept as a favourite): nothing will be listed until it is created`, 'error');
			});
			return;
		}
		case 'theme':
			try {
				const theme = loadTheme(effect.name);
				deps.prefs.theme = effect.name;
				dispatch({kind: 'themeLoaded', theme});
				return status(`theme ${theme.name}`);
			} catch (error) {
				return status(`error: ${(error as Error).message}`, 'error');
			}
		case 'apply': {
			const source = effect.examples ? deps.examplesDir : path.resolve(effect.path!.replace(/^~(?=$|\/)/, os.homedir()));
			return report(readManifests([source], {stdin: process.stdin}).then(m => applyManifests(client, m, effect.namespace)).then(r => {
				if (effect.examples) return r.errors.length ? `error: ${r.errors[0]}` : `applied examples/: ${r.lines.join(', ')}`;
				return r.errors.length ? `error: ${r.errors.join('; ')}` : r.lines.join(', ');
			}));
		}
		case 'scale': {
			const t = typeOf(effect.target);
			const {namespace, name} = effect.target.metadata;
			return report(client.scale(t, namespace!, name!, effect.replicas).then(() => `${refOf(effect.target)} scaled to ${effect.replicas}`), effect.target);
		}
		case 'cronjob': {
			const {namespace, name} = effect.target.metadata;
			const cronType = resolveType('cronjobs')!;
			if (effect.action !== 'trigger') {
				const suspend = effect.action === 'suspend';
				return report(client.patch(cronType, namespace!, name!, {spec: {suspend}}, 'merge').then(() => `${refOf(effect.target)} ${suspend ? 'suspended' : 'resumed'}`));
			}
			// Named as k9s names them: the CronJob's name, "manual" and a short random suffix (within a Job name's 63).
			const jobName = `${name!.slice(0, 45)}-manual-${Math.random().toString(36).slice(2, 7)}`;
			return report(client.get(cronType, namespace!, name!).then(cron => client.create(jobFromCronJob(cron, jobName) as KubeObject)).then(() => `job.batch/${jobName} created from ${refOf(effect.target)}`));
		}
		case 'act': return act(effect, deps, report);
		case 'restore': return report(client.create(withoutServerFields(effect.object)).then(() => `${refOf(effect.object)} restored`));
		case 'open': return void open(effect, deps).catch(error => status(errorText(error), 'error'));
		case 'logs': {
			const pane = logPaneFor(client, effect.target, deps.pods(), effect.previous, effect.container);
			if ('error' in pane) return status(pane.error, 'error');
			return dispatch({kind: 'logsOpened', pane, where: effect.where, key: objectKey(effect.target)});
		}
		case 'logsReadBack':
			effect.session.readBack(effect.rows).then(n => {
				if (!n) status('start of the log: nothing older in the log files');
			}, error => status(`error: ${(error as Error).message}`, 'error'));
			return;
		case 'logsTrim': return effect.session.buffer.trim();
		case 'logsStop': return effect.session.stop();
		case 'logsSave': return saveLogs(effect.pane, status);
		case 'shell': {
			const {pod, container} = effect;
			const code = deps.runOutside([process.execPath, deps.cliPath, ...deps.connectionArgs, 'exec', '-it', '-n', pod.metadata.namespace!, pod.metadata.name!, '-c', container, '--', 'sh']);
			return status(`shell in ${pod.metadata.name} exited${code ? ` with ${code}` : ''}`);
		}
		case 'forward': {
			const {label, remote} = effect;
			const started = deps.forwards.start(label, remote, effect.local).catch(error => (effect.exact ? Promise.reject(error) : deps.forwards.start(label, remote, 0)));
			return report(started.then(f => `forwarding 127.0.0.1:${f.local} -> ${label} (${remote.host}:${remote.port}); f lists port-forwards`));
		}
		case 'stopForward':
			deps.forwards.stop(effect.id);
			return;
		case 'save': return save(effect.editor, effect.overwrite, effect.namespace, deps);
		case 'xray': return xray(effect, deps, report);
		case 'users':
			// The engine's users and their bindings; an engine-only endpoint that RBAC gives to cluster-admins alone.
			return report(usersTable(client).then(table => {
				const lines = table?.split('\n') ?? ['No users. Add one with: kubedeck users add NAME --namespace NS --role edit'];
				dispatch({kind: 'show', mode: {kind: 'text', title: 'Users and their roles (kubedeck users; esc closes)', offset: 0, lines}});
				return `${Math.max(0, lines.length - 1)} users`;
			}));
		case 'context':
			// A fresh dashboard replaces this one on success; a failure stays here, on the status line.
			if (!deps.switchContext) return status('error: this dashboard cannot switch contexts', 'error');
			deps.switchContext(effect.name).catch(error => status(errorText(error), 'error'));
			return;
	}
}

function save(editor: EditorState, overwrite: boolean, namespace: string, deps: EffectDeps): void {
	saveBuffer(deps.client, B.toText(editor.buffer), editor.original, editor.purpose, {overwrite, namespace})
		.then(result => deps.dispatch({kind: 'saved', title: editor.title, result}), error => deps.dispatch({kind: 'status', text: errorText(error), tone: 'error'}));
}

/** delete, kill, restart, rollback: one object, or each of the marked ones with one line saying how it went. */
function act(effect: Extract<Effect, {kind: 'act'}>, deps: EffectDeps, report: (p: Promise<string>, rollout?: KubeObject) => void): void {
	const {client} = deps;
	const {verb, type: t, targets} = effect;
	const [target] = targets;
	const ref = refOf(target);
	const doing = {rollback: 'rolling back', restart: 'restarting', kill: 'killing', delete: 'deleting'}[verb];
	deps.dispatch({kind: 'status', text: `${doing} ${targets.length === 1 ? ref : `${targets.length} ${t.plural}`}…`, tone: 'busy'});
	if (verb === 'rollback') return report(rolloutUndo(client, t, target.metadata.namespace!, target.metadata.name!), target);
	if (verb === 'restart' && targets.length === 1) return report(rolloutRestart(client, t, target.metadata.namespace!, target.metadata.name!), target);
	const killing = verb === 'kill';
	const remove = (o: KubeObject) => client.delete(t, o.metadata.namespace, o.metadata.name!, killing ? {gracePeriodSeconds: 0} : undefined);
	if (targets.length === 1) {
		// The list keeps only what its columns need: U restores the object as the server had it.
		return report(client.get(t, target.metadata.namespace, target.metadata.name!).then(async whole => {
			await remove(whole);
			deps.dispatch({kind: 'deleted', type: t, object: whole, at: Date.now()});
			return `${ref} ${killing ? 'killed' : 'deleted'} (U restores it for ${restoreWindowMs / 1000} s)`;
		}));
	}
	const done = verb === 'restart' ? 'restarted' : killing ? 'killed' : 'deleted';
	const run = (o: KubeObject) => (verb === 'restart' ? rolloutRestart(client, t, o.metadata.namespace!, o.metadata.name!) : remove(o));
	report(Promise.allSettled(targets.map(run)).then(results => {
		const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${targets[i].metadata.name}: ${errorText(r.reason)}`] : []));
		const line = `${targets.length - failed.length} of ${targets.length} ${t.plural} ${done}`;
		if (failed.length) throw new CliError(`error: ${line}; ${failed.join('; ')}`);
		return line;
	}));
}

/** Describe, YAML and the editors read the object as the server has it now. */
async function open(effect: Extract<Effect, {kind: 'open'}>, deps: EffectDeps): Promise<void> {
	const {client, dispatch} = deps;
	const {type} = effect;
	// managedFields are kubectl's to show only when asked (--show-managed-fields); nobody reads them here.
	const obj = withoutManagedFields(await client.get(type, effect.target.metadata.namespace, effect.target.metadata.name!));
	const ref = refOf(obj);
	switch (effect.view) {
		case 'describe': {
			const [text, changed] = await Promise.all([describeText(client, obj), lastChangedLine(client, obj)]);
			return dispatch({kind: 'show', mode: {kind: 'text', title: `Describe ${ref}`, lines: [...(changed ? [changed] : []), ...text.split('\n')], offset: 0}});
		}
		case 'yaml':
			if (obj.kind === 'Secret') return dispatch({kind: 'show', mode: {kind: 'text', title: `YAML ${ref} (values hidden; x reveals)`, lines: toYaml(maskSecret(obj)).split('\n'), offset: 0, secret: obj, yaml: true}});
			return dispatch({kind: 'show', mode: {kind: 'text', title: `YAML ${ref}`, lines: toYaml(obj).split('\n'), offset: 0, yaml: true}});
		case 'edit': return dispatch({kind: 'show', mode: editorMode(`Edit ${ref} (ctrl+s saves, esc closes)`, toYaml(obj), 'update')});
		case 'duplicate': return dispatch({kind: 'show', mode: editorMode(`Duplicate of ${ref} (ctrl+s creates after a dry run)`, duplicateOf(obj), 'create')});
		case 'editExternal': return editExternally(obj, ref, deps);
	}
}

/**
 * "Last changed by alice (patch) 3m ago", from the engine's audit log through its engine-only endpoint;
 * nothing on a kubeconfig cluster, for a caller RBAC does not let read it, or when the log has no change.
 */
async function lastChangedLine(client: ClusterClient, obj: KubeObject): Promise<string | undefined> {
	if (!(client instanceof EmbeddedClient)) return undefined;
	const type = typeForKind(obj.apiVersion, obj.kind);
	if (!type) return undefined;
	const q = new URLSearchParams({resource: type.plural, group: type.group, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name!});
	try {
		const last = (await client.engine('GET', `/kubedeck/v1/audit/last?${q}`)) as {user?: string; verb?: string; time?: string};
		return last.user ? `Last changed:   by ${last.user} (${last.verb}) ${age(last.time, Date.now())} ago` : undefined;
	} catch {
		return undefined;
	}
}

const editorMode = (title: string, text: string, purpose: EditorState['purpose']) => ({kind: 'editor' as const, title, buffer: B.fromText(text), original: purpose === 'create' ? '' : text, purpose, errors: [], top: 0});

function editExternally(obj: KubeObject, ref: string, deps: EffectDeps): void {
	const editor = process.env.KUBE_EDITOR || process.env.EDITOR || 'vi';
	const file = path.join(os.tmpdir(), `kubedeck-edit-${process.pid}-${obj.metadata.name}.yaml`);
	const original = toYaml(obj);
	fs.writeFileSync(file, original, {mode: 0o600});
	try {
		const code = deps.runOutside([...editor.split(/\s+/).filter(Boolean), file]);
		if (code !== 0) return deps.dispatch({kind: 'status', text: `error: ${editor} exited with ${code}; nothing saved`, tone: 'error'});
		// Saved the same way as the inline editor; a refusal opens the inline editor on the text, errors shown.
		const state = {...editorMode(`Edit ${ref} (from $EDITOR; ctrl+s saves, esc closes)`, fs.readFileSync(file, 'utf8'), 'update'), original};
		deps.dispatch({kind: 'show', mode: state});
		deps.dispatch({kind: 'status', text: 'saving…', tone: 'busy'});
		save(state, false, obj.metadata.namespace ?? 'default', deps);
	} finally {
		fs.rmSync(file, {force: true});
	}
}

function saveLogs(pane: LogPane, status: (text: string, tone?: Tone) => void): void {
	const dir = process.env.KUBEDECK_DUMP_DIR ?? path.join(os.homedir(), 'kubedeck-logs');
	const file = path.join(dir, `${pane.targets[0].namespace}_${pane.targets.length === 1 ? pane.targets[0].pod : 'workload'}_${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
	try {
		fs.mkdirSync(dir, {recursive: true});
		fs.writeFileSync(file, pane.session.buffer.text(true));
		status(`saved ${pane.session.buffer.length} lines to ${file}`);
	} catch (error) {
		status(`error: ${(error as Error).message}`, 'error');
	}
}

/** `:xray KIND`: the kind's objects as trees of what they own, read once from the cluster. */
function xray(effect: Extract<Effect, {kind: 'xray'}>, deps: EffectDeps, report: (p: Promise<string>) => void): void {
	const {client} = deps;
	const {of, namespace: ns} = effect;
	const wanted = ({deployments: ['deployments', 'replicasets', 'pvcs'], replicasets: ['replicasets', 'pvcs'], statefulsets: ['statefulsets', 'pvcs'], daemonsets: ['daemonsets'], jobs: ['jobs'], services: ['services', 'endpoints'], pods: [], endpoints: [], pvcs: []} as Record<keyof XrayObjects, (keyof XrayObjects)[]>)[of];
	const plural = (k: keyof XrayObjects) => (k === 'pvcs' ? 'persistentvolumeclaims' : k);
	const started = Date.now();
	// The pods come from the dashboard's own watch when it is on this namespace (10,000 pods are not listed again).
	const pods = effect.ownPods ? Promise.resolve([...deps.pods()]) : client.list(resolveType('pods')!, {namespace: ns}).then(l => l.items);
	report(Promise.all([pods, ...wanted.map(k => client.list(resolveType(plural(k))!, {namespace: ns}).then(l => [k, l.items] as const))]).then(([podList, ...lists]) => {
		const objects: XrayObjects = {pods: podList as KubeObject[], ...Object.fromEntries(lists as [string, KubeObject[]][])};
		const outline = xrayOutline(of, objects);
		const theme = deps.theme();
		const tint = (status: string) => (status === 'Ready' || status === 'Running' || status === 'Completed' ? theme.ok : status === 'NotReady' || status === 'Pending' ? theme.warning : status ? statusColor(theme, status) : undefined);
		const lazily = <T,>(of: (i: number) => T) => ({length: outline.length, slice: (start: number, end: number) => Array.from({length: Math.max(0, Math.min(end, outline.length) - Math.max(0, start))}, (_, i) => of(Math.max(0, start) + i))});
		deps.dispatch({kind: 'show', mode: {
			kind: 'text', title: `Xray ${of} in ${ns ?? 'all namespaces'} (as of ${new Date().toLocaleTimeString()}; :xray again refreshes; esc closes)`, offset: 0,
			lines: outline.length ? lazily(i => outline.at(i).text) : [`No ${of} in ${ns ?? 'any namespace'}.`],
			colors: lazily(i => tint(outline.at(i).status)),
		}});
		return `xray ${of}: ${outline.roots} ${of} in ${Date.now() - started} ms`;
	}));
}

/** While a live describe is open (details.ts's liveKinds), its lines are read again every second. */
export function followLive(target: KubeObject, deps: Pick<EffectDeps, 'client' | 'dispatch' | 'pods'>): () => void {
	const {client} = deps;
	const key = objectKey(target);
	const type = typeOf(target);
	// The HPA's sparklines: its readings while this view is open.
	const history = new Map<string, number[]>();
	let stopped = false;
	const refresh = async () => {
		try {
			const obj = await client.get(type, target.metadata.namespace, target.metadata.name!);
			const [details, text] = await Promise.all([liveDetails(client, obj, deps.pods(), history), describeText(client, obj)]);
			if (!stopped) deps.dispatch({kind: 'live', key, lines: [...details, ...text.split('\n')]});
		} catch {}
	};
	const timer = setInterval(() => void refresh(), 1000);
	void refresh();
	return () => {
		stopped = true;
		clearInterval(timer);
	};
}
