// Small formatting rules kubectl's printers follow, shared by every renderer.

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration: "7s", "3m20s", "5h", "12d". */
export function humanDuration(ms: number): string {
	const seconds = Math.floor(ms / 1000);
	if (seconds < -1) return '<invalid>';
	if (seconds < 0) return '0s';
	if (seconds < 120) return `${seconds}s`;
	const minutes = Math.floor(seconds / 60);
	if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
	if (minutes < 180) return `${minutes}m`;
	const hours = Math.floor(minutes / 60);
	if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
	if (hours < 48) return `${hours}h`;
	if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
	if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
	if (hours < 24 * 365 * 8) {
		const days = Math.floor(hours / 24) % 365;
		return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
	}
	return `${Math.floor(hours / 24 / 365)}y`;
}

/** AGE of a timestamp, or "<unknown>" as kubectl prints for a missing one. */
export function age(timestamp: string | undefined, now: number): string {
	if (!timestamp) return '<unknown>';
	const t = Date.parse(timestamp);
	return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

/** Align rows into columns the way Go's tabwriter does for kubectl (min width 6, padding 3). */
export function alignColumns(rows: string[][]): string {
	const widths: number[] = [];
	for (const row of rows) {
		row.forEach((cell, i) => {
			if (i === row.length - 1) return;
			widths[i] = Math.max(widths[i] ?? 0, Math.max(6, cell.length + 3));
		});
	}
	return rows.map(row => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('')).join('\n');
}

export function joinOrNone(values: (string | undefined)[], none = '<none>'): string {
	const present = values.filter((v): v is string => !!v);
	return present.length ? present.join(',') : none;
}

/** CPU in millicores, as `kubectl top` prints it: 0.25 -> "250m". */
export function formatCores(cores: number): string {
	return `${Math.round(cores * 1000)}m`;
}

/** Memory in MiB, as `kubectl top` prints it. */
export function formatMebibytes(bytes: number): string {
	return `${Math.round(bytes / 2 ** 20)}Mi`;
}
