// The log pane's memory: a bounded window of lines (the newest `capacity`),
// a count of the lines that left it, and what the pane needs to draw a screen
// (filter, search, JSON rendering, timestamps, wrapping) computed only for
// the visible rows. Lines arrive with the server's RFC 3339 timestamps
// (always requested), so the timestamp toggle and reconnecting without
// duplicates both work from them.

export interface LogLine {
	/** Which stream it came from (a pod, or pod/container), for interleaved workload logs. */
	source: string;
	/** The server's timestamp, when the line had one. */
	ts?: string;
	text: string;
}

const timestamped = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (.*)$/s;

export class LogBuffer {
	private lines: LogLine[] = [];
	/** Lines that left the in-memory window (oldest first), to be read back from the engine on demand. */
	dropped = 0;
	/** Per stream, the start of a line whose end has not arrived yet. */
	private readonly partial = new Map<string, string>();
	constructor(readonly capacity = 10_000) {}

	get length(): number {
		return this.lines.length;
	}

	/** Append a chunk of a stream; a trailing partial line waits for the rest of it. */
	append(chunk: string, source = ''): void {
		const text = (this.partial.get(source) ?? '') + chunk;
		const parts = text.split('\n');
		const rest = parts.pop()!;
		if (rest) this.partial.set(source, rest);
		else this.partial.delete(source);
		this.place(parts.map(part => parseLine(part, source)));
		this.trim();
	}

	/**
	 * Add lines in time order: a workload's streams (one per pod) each arrive in order but
	 * interleave late (each pod's tail comes as one chunk), so a chunk older than the newest
	 * line is merged in by timestamp. Lines without one stay where they came.
	 */
	private place(incoming: LogLine[]): void {
		const first = incoming.find(l => l.ts);
		if (!first || this.lines.length === 0 || !(orderKey(first.ts!) < this.newestKey())) {
			this.lines.push(...incoming);
			return;
		}
		const key = orderKey(first.ts!);
		// Where the chunk starts: after the last line at or before its first timestamp.
		let at = this.lines.length;
		while (at > 0) {
			const ts = this.lines[at - 1].ts;
			if (ts && orderKey(ts) <= key) break;
			at--;
		}
		const tail = this.lines.splice(at);
		const merged: LogLine[] = [];
		let i = 0, j = 0;
		// Lines without a timestamp go with the line before them.
		let tailKey = '', inKey = '';
		while (i < tail.length || j < incoming.length) {
			if (i < tail.length && tail[i].ts) tailKey = orderKey(tail[i].ts!);
			if (j < incoming.length && incoming[j].ts) inKey = orderKey(incoming[j].ts!);
			const takeTail = j >= incoming.length || (i < tail.length && tailKey <= inKey);
			merged.push(takeTail ? tail[i++] : incoming[j++]);
		}
		this.lines.push(...merged);
	}

	private newestKey(): string {
		for (let i = this.lines.length - 1; i >= 0; i--) if (this.lines[i].ts) return orderKey(this.lines[i].ts!);
		return '';
	}

	/** Older lines read back from the engine's log files, placed before the window. */
	prepend(lines: string[], source = ''): void {
		this.lines.unshift(...lines.map(l => parseLine(l, source)));
		this.dropped = Math.max(0, this.dropped - lines.length);
	}

	/** Keep the window bounded (called on append; also when following resumes after a read-back). */
	trim(): void {
		const excess = this.lines.length - this.capacity;
		if (excess > 0) {
			// Cut in blocks so a busy stream does not pay a splice per line.
			const cut = Math.max(excess, Math.min(this.lines.length, Math.floor(this.capacity / 10)));
			this.lines.splice(0, cut);
			this.dropped += cut;
		}
	}

	at(index: number): LogLine | undefined {
		return this.lines[index];
	}

	lastTimestamp(source: string): string | undefined {
		for (let i = this.lines.length - 1; i >= 0; i--) if (this.lines[i].source === source && this.lines[i].ts) return this.lines[i].ts;
		return undefined;
	}

	/** Indexes of the lines a filter keeps (all of them without one). */
	indexes(filter?: RegExp): number[] {
		const out: number[] = [];
		for (let i = 0; i < this.lines.length; i++) if (!filter || filter.test(this.lines[i].text)) out.push(i);
		return out;
	}

	/** The lines as text, for saving to a file. */
	text(withTimestamps: boolean): string {
		return this.lines.map(l => `${l.source ? `[${l.source}] ` : ''}${withTimestamps && l.ts ? `${l.ts} ` : ''}${l.text}\n`).join('');
	}
}

/**
 * A timestamp as a key that sorts as the time does: RFC 3339 with the fraction
 * padded to nanoseconds (Go trims its trailing zeros), in UTC.
 */
export function orderKey(ts: string): string {
	const m = /^(.{19})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
	if (!m) return ts;
	const fraction = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
	if (m[3] === 'Z') return `${m[1]}.${fraction}`;
	const utc = new Date(`${m[1]}${m[3]}`).toISOString().slice(0, 19);
	return `${utc}.${fraction}`;
}

function parseLine(raw: string, source: string): LogLine {
	const m = timestamped.exec(raw);
	return m ? {source, ts: m[1], text: m[2]} : {source, text: raw};
}

/**
 * A JSON log line made readable: `LEVEL message key=value ...`; anything
 * that is not a JSON object comes back unchanged.
 */
export function renderJsonLine(text: string): {level?: string; text: string} {
	const trimmed = text.trim();
	if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return {text};
	let obj: Record<string, unknown>;
	try {
		obj = JSON.parse(trimmed);
	} catch {
		return {text};
	}
	const take = (...keys: string[]) => {
		for (const k of keys) {
			if (obj[k] !== undefined && typeof obj[k] !== 'object') {
				const v = String(obj[k]);
				delete obj[k];
				return v;
			}
		}
		return undefined;
	};
	const time = take('time', 'ts', 'timestamp', '@timestamp');
	const level = take('level', 'severity', 'lvl')?.toUpperCase();
	const message = take('msg', 'message');
	const fields = Object.entries(obj).map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`);
	return {level, text: [time, level?.padEnd(5), message, ...fields].filter(Boolean).join(' ')};
}

/** Split a line into rows of at most `width` characters (wrap on), or leave it one row (cut by the view). */
export function wrapRows(text: string, width: number, wrap: boolean): string[] {
	const w = Math.max(1, width);
	if (!wrap || text.length <= w) return [text];
	const rows: string[] = [];
	for (let i = 0; i < text.length; i += w) rows.push(text.slice(i, i + w));
	return rows;
}
