// `kubedeck` on a terminal (or `kubedeck dashboard`): the Ink dashboard.
import fs from 'node:fs';
import path from 'node:path';
import {connectEmbedded} from '../client/connect.js';
import {EmbeddedClient} from '../client/embedded.js';
import {CliError} from '../client/errors.js';
import {defaultKubeconfig, kubeconfigContexts, kubeconfigTarget} from '../client/kubeconfig.js';
import {stateHome} from '../engine/home.js';
import type {ContextSwitcher} from '../ui/run.js';
import {type Command, type CommandContext} from './context.js';

/** The name `:ctx` gives kubedeck's own engine beside a kubeconfig's contexts. */
export const embeddedContext = 'embedded';

/**
 * What `:ctx` switches between: kubedeck's own engine and the contexts of the kubeconfig in use
 * (--kubeconfig, else $KUBECONFIG or ~/.kube/config when there is one), as k9s lists them.
 */
async function contextSwitcher(ctx: CommandContext): Promise<ContextSwitcher> {
	const env = ctx.io.env;
	const given = typeof ctx.flags.kubeconfig === 'string' ? ctx.flags.kubeconfig : undefined;
	const fallback = defaultKubeconfig(env);
	const file = given ?? (fs.existsSync(fallback.split(path.delimiter)[0]) ? fallback : undefined);
	const listed = file ? await kubeconfigContexts(file).catch(() => undefined) : undefined;
	const current = given ? (typeof ctx.flags.context === 'string' ? ctx.flags.context : listed?.current ?? '') : embeddedContext;
	return {
		names: [embeddedContext, ...(listed?.names ?? [])],
		current,
		// The flags this dashboard was started with, for the programs it runs (the shell).
		args: given ? ['--kubeconfig', given, ...(['context', 'user', 'as'] as const).flatMap(f => (typeof ctx.flags[f] === 'string' ? [`--${f}`, String(ctx.flags[f])] : []))] : [],
		async connect(name) {
			if (name === embeddedContext) return {client: await connectEmbedded({home: stateHome(env), notice: () => {}}), args: []};
			if (!file) throw new CliError(`error: no kubeconfig names a context "${name}"`);
			const target = await kubeconfigTarget(file, {context: name});
			return {client: new EmbeddedClient(target.endpoint, target.description), namespace: target.namespace, args: ['--kubeconfig', file, '--context', name]};
		},
	};
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
		// The keys RBAC would refuse are hidden by the dashboard itself (ui/permissions.ts), per namespace.
		await runDashboard(client, {namespace, readonly: ctx.bool('readonly'), theme, contexts: await contextSwitcher(ctx)});
		return 0;
	},
};
