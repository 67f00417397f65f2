// `kubedeck` on a terminal (or `kubedeck dashboard`): the Ink dashboard.
import type {Command, CommandContext} from './context.js';

export const dashboardCommand: Command = {
	name: 'dashboard',
	summary: 'Open the terminal dashboard (what `kubedeck` with no arguments does on a terminal)',
	usage: 'kubedeck dashboard [-n NAMESPACE]',
	flags: {},
	async run(ctx: CommandContext) {
		const client = await ctx.client();
		// Loaded here so commands that never draw a screen do not load React and Ink.
		const {runDashboard} = await import('../ui/run.js');
		await runDashboard(client, ctx.namespace);
		return 0;
	},
};
