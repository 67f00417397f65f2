// A session channel's terminal, as Ink and the CLI's exec need one. The
// server side of an SSH channel has no tty and no line discipline, so what a
// pty's driver would do is done here: "\n" becomes "\r\n" on the way out;
// the window size comes from the pty request and each window-change (with
// the 'resize' event Ink listens to); stdin says it is a TTY and takes raw
// mode as given (the client's own terminal is raw already). Colours are
// downgraded per session: chalk's level is process-wide, so the dashboard
// draws at full depth and each session rewrites the SGR sequences to what
// its terminal shows (256, 16, none). Output is bounded: see OutputGate.
import type net from 'node:net';
import {PassThrough, Writable} from 'node:stream';
import type {ServerChannel} from 'ssh2';

/** What a terminal shows: 3 = 24-bit, 2 = 256 colours, 1 = the 16 ANSI colours, 0 = none. */
export type ColorDepth = 0 | 1 | 2 | 3;

/** The depth a session's terminal has, from its TERM and env (COLORTERM, NO_COLOR), as supports-color reads them. */
export function colorDepthOf(term: string | undefined, env: Record<string, string>): ColorDepth {
	if (env.NO_COLOR) return 0;
	const t = (term ?? '').toLowerCase();
	if (!t || t === 'dumb') return 0;
	if (/^(truecolor|24bit)$/i.test(env.COLORTERM ?? '') || /direct|truecolor|24bit/.test(t)) return 3;
	if (/256/.test(t)) return 2;
	return 1;
}

// From ansi-styles (MIT): the nearest colour of the smaller palettes.
function rgbToAnsi256(r: number, g: number, b: number): number {
	if (r === g && g === b) {
		if (r < 8) return 16;
		if (r > 248) return 231;
		return Math.round(((r - 8) / 247) * 24) + 232;
	}
	return 16 + 36 * Math.round((r / 255) * 5) + 6 * Math.round((g / 255) * 5) + Math.round((b / 255) * 5);
}

/** The foreground SGR code (30-37, 90-97) nearest a 256-colour index. */
function ansi256ToAnsi(code: number): number {
	if (code < 8) return 30 + code;
	if (code < 16) return 90 + (code - 8);
	let red: number, green: number, blue: number;
	if (code >= 232) {
		red = ((code - 232) * 10 + 8) / 255;
		green = red;
		blue = red;
	} else {
		const c = code - 16;
		const remainder = c % 36;
		red = Math.floor(c / 36) / 5;
		green = Math.floor(remainder / 6) / 5;
		blue = (remainder % 6) / 5;
	}
	const value = Math.max(red, green, blue) * 2;
	if (value === 0) return 30;
	const result = 30 + ((Math.round(blue) << 2) | (Math.round(green) << 1) | Math.round(red));
	return value === 2 ? result + 60 : result;
}

/** One SGR parameter list at a lower depth: extended colours mapped down, colours dropped at depth 0. */
function downgradeParams(params: number[], depth: ColorDepth): number[] {
	const out: number[] = [];
	for (let i = 0; i < params.length; i++) {
		const p = params[i];
		if ((p === 38 || p === 48) && (params[i + 1] === 2 || params[i + 1] === 5)) {
			const background = p === 48;
			const index = params[i + 1] === 2 ? rgbToAnsi256(params[i + 2] ?? 0, params[i + 3] ?? 0, params[i + 4] ?? 0) : params[i + 2] ?? 0;
			i += params[i + 1] === 2 ? 4 : 2;
			if (depth === 2) out.push(p, 5, index);
			else if (depth === 1) out.push(ansi256ToAnsi(index) + (background ? 10 : 0));
			continue;
		}
		const colour = (p >= 30 && p <= 39) || (p >= 40 && p <= 49) || (p >= 90 && p <= 97) || (p >= 100 && p <= 107);
		if (depth === 0 && colour) continue;
		out.push(p);
	}
	return out;
}

const sgr = /\u001B\[([\d;]*)m/g;

/** Rewrites the colours of `text` for a terminal of `depth` (3: unchanged). */
export function downgradeColors(text: string, depth: ColorDepth): string {
	if (depth === 3 || !text.includes('\u001B[')) return text;
	return text.replace(sgr, (whole, list: string) => {
		if (list === '') return whole;
		const params = list.split(';').map(n => (n === '' ? 0 : Number(n)));
		const kept = downgradeParams(params, depth);
		if (kept.length === params.length && kept.every((p, i) => p === params[i])) return whole;
		return kept.length ? `\u001B[${kept.join(';')}m` : '';
	});
}

/** Bytes a session may have waiting for a slow client before the dashboard's frames are coalesced. */
export const softLimit = 256 * 1024;
/** Bytes waiting with no progress for `stallSeconds`, or this many for two seconds: the client is not reading, and is disconnected. */
export const hardLimit = 16 * 1024 * 1024;
export const stallSeconds = 15;

/** The largest terminal a session may say it has (a frame is drawn for the whole of it: 100000x100000 ran the engine out of memory). */
export const maxColumns = 1000;
export const maxRows = 500;

/** A terminal size from a client (pty request, window-change): whole numbers within 1..maxColumns and 1..maxRows, `fallback` for 0 or nonsense. */
export function clampSize(columns: number, rows: number, fallback = {columns: 80, rows: 24}): {columns: number; rows: number} {
	const clamp = (n: number, max: number, otherwise: number) => (Number.isFinite(n) && n >= 1 ? Math.min(Math.floor(n), max) : otherwise);
	return {columns: clamp(columns, maxColumns, fallback.columns), rows: clamp(rows, maxRows, fallback.rows)};
}

/**
 * Writes to a channel with the engine's memory bounded. What waits is the
 * channel's buffer (the client's SSH window is full) plus the socket's (TCP
 * is full). A dashboard frame written while more than softLimit waits is
 * held instead, the newest replacing the one before (each frame repaints the
 * whole screen), and written on drain. Output waiting that does not move for
 * stallSeconds (hardLimit of it: two seconds) ends the connection; one large
 * write to a client that reads it (get -o yaml of 10,000 pods) does not.
 */
export class OutputGate {
	private held?: string | Buffer;
	private stalled = 0;
	private lastWaiting = 0;
	private readonly timer: NodeJS.Timeout;

	constructor(private readonly channel: ServerChannel, private readonly socket: net.Socket, private readonly onStall: (why: string) => void) {
		this.timer = setInterval(() => this.tick(), 1000).unref();
		const flush = () => this.flush();
		channel.on('drain', flush);
		socket.on('drain', flush);
		channel.once('close', () => {
			clearInterval(this.timer);
			socket.off('drain', flush);
		});
	}

	/** Streams whose own buffers hold output for this channel (a command's stdout and stderr), counted as waiting. */
	private readonly sources = new Set<{writableLength: number}>();

	track(source: {writableLength: number}): void {
		this.sources.add(source);
	}

	waiting(): number {
		let n = this.channel.writableLength + (this.channel.stderr?.writableLength ?? 0) + this.socket.writableLength;
		for (const source of this.sources) n += source.writableLength;
		return n;
	}

	/** Writes to the channel (or its stderr); false when its buffer is full and the writer should wait for whenDrained. */
	write(data: string | Buffer, frame = false, stderr = false): boolean {
		if (this.channel.destroyed || !this.channel.writable) return true;
		if (frame && (this.held !== undefined || this.waiting() > softLimit)) {
			this.held = data;
			return true;
		}
		return (stderr ? this.channel.stderr : this.channel).write(data);
	}

	/** Calls `then` once the channel (or its stderr) has drained, or has closed and will take nothing more. */
	whenDrained(then: () => void, stderr = false): void {
		const target = stderr ? this.channel.stderr : this.channel;
		const done = () => {
			target.off('drain', done);
			this.channel.off('close', done);
			then();
		};
		if (this.channel.destroyed) return then();
		target.on('drain', done);
		this.channel.on('close', done);
	}

	private flush(): void {
		if (this.held === undefined || this.waiting() > softLimit) return;
		const data = this.held;
		this.held = undefined;
		this.write(data);
	}

	/** Once a second: is the client reading what waits for it? */
	tick(): void {
		const waiting = this.waiting();
		if (waiting > softLimit && waiting >= this.lastWaiting) this.stalled++;
		else this.stalled = 0;
		this.lastWaiting = waiting;
		if (this.stalled >= stallSeconds || (waiting > hardLimit && this.stalled >= 2)) {
			this.stop();
			this.onStall(`the client read nothing of ${waiting} bytes for ${this.stalled} s`);
		}
	}

	stop(): void {
		clearInterval(this.timer);
	}
}

/** Ink's stdout: a TTY of the session's size, writing frames through the gate. */
export class TerminalOutput extends Writable {
	readonly isTTY = true;
	columns: number;
	rows: number;
	/** While a program (the pod shell) owns the screen, the dashboard's frames go nowhere. */
	muted = false;

	constructor(private readonly gate: OutputGate, size: {columns: number; rows: number}, private readonly depth: ColorDepth) {
		super({decodeStrings: false});
		({columns: this.columns, rows: this.rows} = clampSize(size.columns, size.rows));
	}

	override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
		if (!this.muted) {
			const text = downgradeColors(typeof chunk === 'string' ? chunk : chunk.toString('utf8'), this.depth);
			this.gate.write(text.replace(/\r?\n/g, '\r\n'), true);
		}
		callback();
	}

	getColorDepth(): number {
		return [1, 4, 8, 24][this.depth];
	}

	hasColors(count = 16): boolean {
		return 2 ** this.getColorDepth() >= count;
	}
}

/** Ink's stdin: the channel's keys, said to be a TTY, with raw mode as the client's terminal has it already. */
export class TerminalInput extends PassThrough {
	readonly isTTY = true;
	isRaw = true;

	setRawMode(mode: boolean): this {
		this.isRaw = mode;
		return this;
	}

	ref(): this {
		return this;
	}

	unref(): this {
		return this;
	}
}

/** Keys a program on the terminal may have waiting (unsent to the pod) before the channel is paused. */
export const inputLimit = 64 * 1024;

/**
 * A session's terminal: the streams, its size, and a way for a program to take it over for a while.
 * Keys are taken with backpressure: while stdin (or the program) holds more than it has read,
 * the channel is paused, so ssh2 stops opening the client's window and the client waits.
 */
export class Terminal {
	readonly stdout: TerminalOutput;
	readonly stdin = new TerminalInput();
	/** Where keys go while a program owns the terminal, and how much of them it has not sent on yet. */
	private takenBy?: {keys(data: Buffer): void; pending(): number};
	private paused = false;
	private poll?: NodeJS.Timeout;

	constructor(private readonly channel: ServerChannel, private readonly gate: OutputGate, size: {columns: number; rows: number}, depth: ColorDepth) {
		this.stdout = new TerminalOutput(gate, size, depth);
		channel.on('data', (data: Buffer) => this.input(data));
		channel.once('end', () => this.stdin.end());
		channel.once('close', () => clearInterval(this.poll));
	}

	private input(data: Buffer): void {
		const program = this.takenBy;
		if (program) {
			program.keys(data);
			if (program.pending() > inputLimit) this.pauseUntil(() => this.takenBy !== program || program.pending() <= inputLimit);
		} else if (!this.stdin.write(data)) {
			this.pauseUntil(() => this.stdin.writableLength === 0);
		}
	}

	/** Pause the channel until `ready`, checked every 20 ms (a pod's WebSocket has no drain event of its own). */
	private pauseUntil(ready: () => boolean): void {
		if (this.paused) return;
		this.paused = true;
		this.channel.pause();
		this.poll = setInterval(() => this.resumeIf(ready), 20).unref();
	}

	private resumeIf(ready: () => boolean): void {
		if (!this.paused || !ready()) return;
		this.paused = false;
		clearInterval(this.poll);
		this.channel.resume();
	}

	resize(wantColumns: number, wantRows: number): void {
		const {columns, rows} = clampSize(wantColumns, wantRows, this.stdout);
		if (columns === this.stdout.columns && rows === this.stdout.rows) return;
		this.stdout.columns = columns;
		this.stdout.rows = rows;
		this.stdout.emit('resize');
	}

	/**
	 * Give the terminal to a program until `release`: its keys go to `onKeys`, its output is written
	 * as it is (a pod's pty translates its own newlines), and the dashboard's frames are dropped.
	 */
	takeOver(onKeys: (data: Buffer) => void, pending: () => number = () => 0): {write(data: Buffer | string): void; release(): void} {
		this.takenBy = {keys: onKeys, pending};
		this.stdout.muted = true;
		return {
			write: data => this.gate.write(data),
			release: () => {
				this.takenBy = undefined;
				this.stdout.muted = false;
			},
		};
	}
}
