// `kubedeck` on a terminal (or `kubedeck dashboard`): the Ink dashboard.
import {type Command, type CommandContext} from './context.js';
import type {KubeObject} from '../api/object.js';
import {CliError} from '../client/errors.js';
import type {ClusterClient} from '../client/types.js';

const writeVerbs = ['*', 'create', 'update', 'patch', 'delete'];

/** Whether RBAC lets the user change anything in the namespace (SelfSubjectRulesReview); yes when it cannot be asked. */
export async function mayChange(client: ClusterClient, namespace: string): Promise<boolean> {
	try {
		const review = await client.create({apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: {}, spec: {namespace}} as KubeObject);
		const rules = ((review.status as {resourceRules?: {verbs: string[]; resources?: string[]}[]} | undefined)?.resourceRules ?? []);
		// The reviews themselves are creates every user may make: they change nothing.
		return rules.some(r => r.verbs.some(v => writeVerbs.includes(v)) && !(r.resources ?? []).every(res => /reviews$/.test(res)));
	} catch {
		return true;
	}
}

export const dashboardCommand: Command = {
	name: 'dashboard',
	summary: 'Open the terminal dashboard (what `kubedeck` with no arguments does on a terminal)',
	usage: 'kubedeck dashboard [-n NAMESPACE] [--readonly] [--theme dark|light|high-contrast|no-color|FILE]',
	flags: {readonly: {type: 'boolean'}, theme: {type: 'string'}},
	async run(ctx: CommandContext) {
		// A bad --theme is refused before anything starts.
		const {loadTheme} = await import('../ui/theme.js');
		const theme = ctx.string('theme');
		if (theme) {
			try {
				loadTheme(theme);
			} catch (error) {
				throw new CliError(`error: --theme: ${(error as Error).message}`);
			}
		}
		const client = await ctx.client();
		// Ink draws only a final frame when it thinks it runs in CI (is-in-ci reads CI and
		// CONTINUOUS_INTEGRATION at import). The dashboard runs only on a terminal, so the terminal is
		// interactive whatever CI says. Removed rather than set to "false": chalk's colour detection
		// takes any CI variable, whatever its value, for a CI log without colours.
		if ((ctx.io.stdout as NodeJS.WriteStream).isTTY) {
			delete process.env.CI;
			delete process.env.CONTINUOUS_INTEGRATION;
		}
		// React's development build records a performance mark per render and never drops them
		// (unbounded memory, 10% of the CPU): the dashboard runs React's production build.
		process.env.NODE_ENV ??= 'production';
		// Loaded here so commands that never draw a screen do not load React and Ink.
		const {runDashboard} = await import('../ui/run.js');
		// A kubeconfig's context namespace is where its user works (a user bound in dev1 alone may list no others).
		const namespace = ctx.explicitNamespace ?? ctx.contextNamespace;
		// A user whose role there changes nothing (view) gets the read-only dashboard: no scale, edit or delete keys.
		const readonly = ctx.bool('readonly') || (ctx.flags.kubeconfig !== undefined && !(await mayChange(client, namespace ?? 'default')));
		await runDashboard(client, {namespace, readonly, theme});
		return 0;
	},
};
