// The in-memory terminal and keyboard the dashboard benchmarks draw the real
// App into (bench/dashboard.tsx, and bench/ssh.tsx for its local dashboard):
// a TTY as far as Ink knows, keeping the newest frame.
import {EventEmitter} from 'node:events';
import {stripVTControlCharacters} from 'node:util';

/** A terminal that keeps only the newest frame (as text, and as written) and calls back on each write. */
export class Screen extends EventEmitter {
	readonly isTTY = true;
	readonly columns = 120;
	readonly rows = 40;
	frame = '';
	raw = '';
	onWrite?: (frame: string) => void;
	write = (data: string) => {
		// Ink brackets each frame with synchronized-output escapes, written apart: those are not frames.
		if (!data.includes('\n')) return true;
		this.raw = data;
		this.frame = stripVTControlCharacters(data);
		this.onWrite?.(this.frame);
		return true;
	};
}

export class Keyboard extends EventEmitter {
	readonly isTTY = true;
	private pending: string | null = null;
	type(data: string): void {
		this.pending = data;
		this.emit('readable');
	}
	read = () => {
		const data = this.pending;
		this.pending = null;
		return data;
	};
	setEncoding() {}
	setRawMode() {}
	resume() {}
	pause() {}
	ref() {}
	unref() {}
}

