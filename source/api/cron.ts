// CronJob schedules as kube-controller-manager reads them (robfig/cron's
// standard parser): five fields, or a descriptor (@yearly, @annually,
// @monthly, @weekly, @daily, @midnight, @hourly, @every DURATION), with an
// optional TZ= or CRON_TZ= prefix. The five-field patterns are croner's
// (a maintained, dependency-free cron library), in its 5-part mode, with
// day-of-month and day-of-week OR-ed as in Vixie cron; @every is ours,
// because croner has no constant-interval schedules.
import {Cron} from 'croner';

export interface Schedule {
	/** The first scheduled time strictly after `after` (ms), or undefined if there is none. */
	next(after: number): number | undefined;
}

/** A schedule's own time zone prefix (TZ=Zone or CRON_TZ=Zone), if it has one. */
export function scheduleZone(schedule: string): string | undefined {
	return /^(?:CRON_)?TZ=(\S+)\s/.exec(schedule.trim())?.[1];
}

/** Is this an IANA time zone name the runtime knows? */
export function knownTimeZone(zone: string): boolean {
	try {
		new Intl.DateTimeFormat('en-US', {timeZone: zone});
		return true;
	} catch {
		return false;
	}
}

const goDuration = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const unitMs: Record<string, number> = {ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000};

/** Parses a schedule; throws an Error whose message says what is wrong (the text after "Invalid value: ..."). */
export function parseSchedule(schedule: string, timeZone?: string): Schedule {
	let text = schedule.trim();
	const zone = scheduleZone(text) ?? timeZone;
	text = text.replace(/^(?:CRON_)?TZ=\S+\s+/, '');
	if (zone && !knownTimeZone(zone)) throw new Error(`provided bad location ${zone}: unknown time zone ${zone}`);
	if (text.startsWith('@every ')) {
		const duration = text.slice('@every '.length).trim();
		if (!goDuration.test(duration)) throw new Error(`failed to parse duration ${text}: time: invalid duration "${duration}"`);
		let ms = 0;
		for (const [, n, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * unitMs[unit];
		// As robfig/cron: at least a second, in whole seconds.
		const step = Math.max(1000, Math.floor(ms / 1000) * 1000);
		return {next: after => Math.floor(after / 1000) * 1000 + step};
	}
	if (text.startsWith('@')) {
		if (!['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'].includes(text)) throw new Error(`unrecognized descriptor: ${text}`);
		text = {'@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *'}[text]!;
	}
	const fields = text.split(/\s+/).filter(Boolean);
	if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
	let cron: Cron;
	try {
		cron = new Cron(fields.join(' '), {paused: true, mode: '5-part', ...(zone ? {timezone: zone} : {})});
	} catch (error) {
		throw new Error((error as Error).message.replace(/^CronPattern: /, ''));
	}
	return {next: after => cron.nextRun(new Date(after))?.getTime()};
}
