// `kubedeck` on a terminal (or `kubedeck dashboard`): the Ink dashboard.
import type {Command, CommandContext} from './context.js';

export const dashboardCommand: Command = {
	name: 'dashboard',
	summary: 'Open the terminal dashboard (what `kubedeck` with no arguments does on a terminal)',
	usage: 'kubedeck dashboard [-n NAMESPACE]',
	flags: {},
	async run(ctx: CommandContext) {
		const client = await ctx.client();
		// Ink draws only a final frame when it thinks it runs in CI (is-in-ci reads CI and CI_* at
		// import). The dashboard runs only on a terminal, so the terminal is interactive whatever CI says.
		if ((ctx.io.stdout as NodeJS.WriteStream).isTTY) process.env.CI = 'false';
		// Loaded here so commands that never draw a screen do not load React and Ink.
		const {runDashboard} = await import('../ui/run.js');
		await runDashboard(client, ctx.namespace);
		return 0;
	},
};
