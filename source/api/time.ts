// Kubernetes timestamps: RFC 3339 to the second. With the API types, as the
// store, the engine, the CLI and the dashboard all write them.

let lastSecond = NaN;
let lastIso = '';

/** RFC 3339 to the second, as Kubernetes timestamps are; memoised per second (it is called per pod status write). */
export function isoTime(ms: number): string {
	const second = Math.floor(ms / 1000);
	if (second === lastSecond) return lastIso;
	lastSecond = second;
	return lastIso = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
