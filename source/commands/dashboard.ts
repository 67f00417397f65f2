// `kubedeck` on a terminal (or `kubedeck dashboard`): the Ink dashboard.
import {type Command, type CommandContext} from './context.js';
import {CliError} from '../client/errors.js';

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
		await runDashboard(client, {namespace, readonly: ctx.bool('readonly'), theme});
		return 0;
	},
};
