// Every line the dashboard draws is cut to the terminal's width here, before
// Ink sees it. Ink cuts a too-wide line itself, but it caches each cut line
// in a map that is never emptied (ink/build/wrap-text.js): ages, memory
// figures and log lines change every frame, so a dashboard left running
// would grow without bound (k9s users report 30 GB, #1188). Cutting here
// also spares Ink's slow ANSI-aware cutting on every frame.
import {Text} from 'ink';
import stringWidth from 'string-width';

/** `text` cut to `width` terminal columns, with … where it was cut (wide characters count as two). */
export function fit(text: string, width: number): string {
	if (width <= 0) return '';
	// Most lines are narrow characters only: their width is their length.
	if (text.length <= width && !/[^\u0000-\u10ff]/.test(text)) return text;
	if (stringWidth(text) <= width) return text;
	let out = '';
	let used = 0;
	for (const ch of text) {
		const w = stringWidth(ch);
		if (used + w > width - 1) break;
		out += ch;
		used += w;
	}
	return `${out}…`;
}

export interface Segment {
	text: string;
	color?: string;
	bold?: boolean;
	inverse?: boolean;
	dim?: boolean;
}

/** One line of styled segments, cut as a whole to `width`. */
export function Line({segments, width, color, bold, inverse}: {segments: (Segment | string | false | undefined)[]; width: number} & Omit<Segment, 'text'>) {
	let left = width;
	const parts = [];
	for (const [i, raw] of segments.entries()) {
		if (!raw || left <= 0) continue;
		const seg = typeof raw === 'string' ? {text: raw} : raw;
		const text = fit(seg.text, left);
		left -= stringWidth(text);
		parts.push(seg.color || seg.bold || seg.inverse || seg.dim ? <Text key={i} color={seg.color} bold={seg.bold} inverse={seg.inverse} dimColor={seg.dim}>{text}</Text> : text);
	}
	return <Text color={color} bold={bold} inverse={inverse}>{parts.length ? parts : ' '}</Text>;
}
