// The dashboard's state as data, and the vocabulary around it: what can
// happen (Msg: a key, or the result of an effect), what the reducer asks for
// (Effect: API calls, child programs, preferences, log streams), and what it
// reads from outside (Env: the rows on screen, the keymap, the terminal).
// The shape is bubbletea's: update(state, msg, env) -> {state, effects},
// with the effects run in one place (effects.ts) and the screen drawn from
// the state (app.tsx, views/). One dashboard per SSH session is then one
// state and one runner each.
import type {KubeObject} from '../api/object.js';
import type {ResourceType} from '../api/resources.js';
import type {Completion} from './completion.js';
import type {SaveResult} from './editor/save.js';
import type {KeyPress} from './hooks/use-key-queue.js';
import type {LineState} from './keys/dialogs.js';
import type {LogPane} from './keys/logs.js';
import type {KeyCommand} from './keymap.js';
import type {LogSession} from './logs/log-session.js';
import type {History, View} from './navigation.js';
import type {Forward} from '../client/operations/port-forward.js';
import type {Theme} from './theme.js';
import type {EditorState} from './views/editor-view.js';
import type {ConfirmVerb} from './views/chrome.js';
import type {XrayObjects} from './xray.js';

export type PromptPurpose = 'command' | 'filter' | 'scale' | 'new' | 'forward' | 'container';
export type Tone = 'info' | 'error' | 'busy';

/** Where up/down stands in a prompt's history: how many entries back, and the line typed before. */
export type Recall = {back?: number; draft?: string};

/** A question before a destructive action, over one object or the marked ones (the first is `target`). */
export type Confirm = {kind: 'confirm'; verb: ConfirmVerb; type: ResourceType; target: KubeObject; targets: KubeObject[]; choice: 'cancel' | 'ok'; typed: string};
export type InputMode = {kind: 'input'; purpose: PromptPurpose; target?: KubeObject; targets?: KubeObject[]; initial: string; completion?: Completion & {choice: number}} & LineState & Recall;
/** A text view's lines (or their colours): an array, or a source that makes only the ones asked for (:xray's 20,000 at 10,000 pods). */
export interface TextLines<T = string> {
	readonly length: number;
	slice(start: number, end: number): T[];
}
export type TextMode = {kind: 'text'; title: string; lines: TextLines; offset: number; secret?: KubeObject; revealed?: boolean; live?: KubeObject; yaml?: boolean; colors?: TextLines<string | undefined>};

/** What is on screen over (or instead of) the list. */
export type Mode =
	| {kind: 'list'}
	| InputMode
	| {kind: 'forwards'; selected: number}
	| {kind: 'history'; selected: number}
	| {kind: 'pulses'}
	| Confirm
	| TextMode
	| {kind: 'help'; offset: number}
	| ({kind: 'editor'} & EditorState)
	| ({kind: 'logs'} & LogPane);

/** Split view: the list on the left, the selected object's logs on the right, each with its own keys. */
export interface Split {
	pane?: LogPane;
	/** Which side the keys go to (\\ switches). */
	focus: 'list' | 'logs';
	/** The object the pane shows, so it follows the selection. */
	key?: string;
}

export interface DashState {
	/** The list view: kind, namespace, filter, sort, selection, scroll. */
	view: View;
	/** The views before this one. */
	history: History;
	mode: Mode;
	split?: Split;
	/** objectKeys of the marked rows; `lastMark` is the row a range starts from. */
	marks: ReadonlySet<string>;
	lastMark?: number;
	wide: boolean;
	theme: Theme;
	status: {text: string; tone: Tone};
	/** Each prompt's earlier entries (oldest first), for up and down. */
	promptHistory: Partial<Record<PromptPurpose, readonly string[]>>;
	/** The last object deleted from the dashboard, which U restores for a minute. */
	restore?: {type: ResourceType; object: KubeObject; at: number};
	/** Non-zero while :pulses is open (a new number restarts its polling). */
	pulses: number;
}

/** What the reducer reads from outside the state, as of the message. */
export interface Env {
	/** The rows of the list as shown (filtered, sorted), for `state.view`. */
	items: readonly KubeObject[];
	/** The pods of the view's namespace (workload logs, port-forward targets, xray). */
	pods(): readonly KubeObject[];
	/** Namespace names, for completion. */
	namespaces(): string[];
	forwards: readonly Forward[];
	/** The keys offered here: the keymap less what RBAC would refuse on the selected row. */
	commands: KeyCommand[];
	/** Why a key not offered here would be refused (RBAC, in kube-apiserver's words), if that is why. */
	refusal?(name: string, scope: 'list' | 'text'): string | undefined;
	/** Rows for the body (a table's header and rows, a text view's title and lines). */
	bodyHeight: number;
	readonly: boolean;
	/** The context's favourite namespaces (0-9), the user's : aliases, and the protection asked for. */
	favourites: string[];
	aliases: Record<string, string>;
	typeName: boolean;
	prefsPath: string;
	themes: string[];
	/** Paths for completing `:apply FILE` (read from the disk). */
	files(prefix: string): string[];
	/** The empty first screen offers the examples (A applies them). */
	examplesOffered: boolean;
	/** Whether the cluster can run a shell in a pod. */
	canExec: boolean;
	/** The contexts `:ctx` offers (kubedeck's own engine and the kubeconfig's), and the current one. */
	contexts: string[];
	context?: string;
	now: number;
}

/** What the reducer asks to be done; effects.ts does it and reports back with Msgs. */
export type Effect =
	| {kind: 'exit'}
	/** Remember the namespace (a favourite only if it exists; a warning if it does not). */
	| {kind: 'useNamespace'; namespace: string | undefined}
	| {kind: 'theme'; name: string}
	| {kind: 'apply'; path?: string; examples?: boolean; namespace: string}
	| {kind: 'scale'; target: KubeObject; replicas: number}
	/** k9s's t and the suspend toggle on a CronJob. */
	| {kind: 'cronjob'; action: 'trigger' | 'suspend' | 'resume'; target: KubeObject}
	/** delete, kill, restart or rollback, over one object or the marked ones. */
	| {kind: 'act'; verb: ConfirmVerb; type: ResourceType; targets: KubeObject[]}
	| {kind: 'restore'; type: ResourceType; object: KubeObject}
	/** Open a view of the object as the server has it now (the list keeps only what its columns need). */
	| {kind: 'open'; view: 'describe' | 'yaml' | 'edit' | 'duplicate' | 'editExternal'; type: ResourceType; target: KubeObject}
	| {kind: 'logs'; target: KubeObject; previous: boolean; container?: string; where: 'screen' | 'split'}
	| {kind: 'logsReadBack'; session: LogSession; rows: number}
	| {kind: 'logsSave'; pane: LogPane}
	| {kind: 'logsTrim'; session: LogSession}
	| {kind: 'logsStop'; session: LogSession}
	| {kind: 'shell'; pod: KubeObject; container: string}
	| {kind: 'forward'; target: KubeObject; label: string; remote: {host: string; port: number}; port: number; local: number; exact: boolean}
	| {kind: 'stopForward'; id: number}
	| {kind: 'save'; editor: EditorState; overwrite: boolean; namespace: string}
	| {kind: 'xray'; of: keyof XrayObjects; namespace: string | undefined; ownPods: boolean}
	| {kind: 'users'}
	/** Connect to another context (`:ctx NAME`): a fresh dashboard on that cluster. */
	| {kind: 'context'; name: string};

/** What happens to the dashboard: a key, or an effect's result. */
export type Msg =
	| {kind: 'key'; input: string; key: KeyPress}
	| {kind: 'status'; text: string; tone?: Tone}
	/** An effect's view is ready (describe, YAML, xray, the editor). */
	| {kind: 'show'; mode: Mode}
	| {kind: 'logsOpened'; pane: LogPane; where: 'screen' | 'split'; key: string}
	| {kind: 'saved'; title: string; result: SaveResult}
	| {kind: 'deleted'; type: ResourceType; object: KubeObject; at: number}
	/** A live Deployment describe has new lines. */
	| {kind: 'live'; key: string; lines: string[]}
	| {kind: 'themeLoaded'; theme: Theme};

export interface Step {
	state: DashState;
	effects: Effect[];
}

/** The tone a line reads as: kubectl's error lines are errors. */
export const toneOf = (text: string): Tone => (/^(error|Error|The )/.test(text) ? 'error' : 'info');
