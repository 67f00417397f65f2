// Ink keeps module-level caches keyed by every distinct text it measures or
// cuts; unbounded, they made a dashboard that streams logs grow by about
// 0.5 MB a second. patches/ink+6.8.0.patch (applied by patch-package on
// install) bounds them; this checks the installed Ink is the patched one.
// The patch also keeps Ink's per-frame output caches across frames (so an
// unchanged line is not tokenized again); frames must come out exactly as
// before, and those caches must stay bounded too.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import {repoRoot} from '../helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function heapGrowth(fill: (text: string, i: number) => void): Promise<number> {
	gc();
	const before = process.memoryUsage().heapUsed;
	// 25,000 distinct 2 KB texts: 50 MB if every one is kept.
	for (let i = 0; i < 25_000; i++) fill(`${i} ${'x'.repeat(2_000)}`, i);
	gc();
	return (process.memoryUsage().heapUsed - before) / 1024 / 1024;
}

interface InkOutput {
	write(x: number, y: number, text: string, options: {transformers: unknown[]}): void;
	get(): {output: string};
}
type OutputClass = new (options: {width: number; height: number}) => InkOutput;

describe('Ink\'s text caches', () => {
	it('compose each frame the same whatever earlier frames cached', async () => {
		const {default: Output} = await import(`${repoRoot}/node_modules/ink/build/output.js`) as {default: OutputClass};
		const red = (s: string) => `\u001B[31m${s}\u001B[39m`;
		const bold = (s: string) => `\u001B[1m${s}\u001B[22m`;
		const frame = (rows: [number, number, string][]) => {
			const output = new Output({width: 20, height: 3});
			for (const [x, y, text] of rows) output.write(x, y, text, {transformers: []});
			return output.get().output;
		};
		assert.equal(frame([[0, 0, `a ${red('b')}`], [0, 1, 'plain']]), `a \u001B[31mb\u001B[39m\nplain\n`);
		// The same first row again, a changed second row, and a row written in two pieces.
		assert.equal(frame([[0, 0, `a ${red('b')}`], [0, 1, bold('plain')], [0, 2, 'x'], [4, 2, red('y')]]), `a \u001B[31mb\u001B[39m\n\u001B[1mplain\u001B[22m\nx   \u001B[31my\u001B[39m`);
		// A piece drawn over the cached row changes it.
		assert.equal(frame([[0, 0, `a ${red('b')}`], [2, 0, 'c'], [0, 1, 'plain']]), `a c\nplain\n`);
		assert.equal(frame([[0, 0, `a ${red('b')}`], [0, 1, 'plain']]), `a \u001B[31mb\u001B[39m\nplain\n`);
	});

	it('keep the output caches bounded across frames', async () => {
		const {default: Output} = await import(`${repoRoot}/node_modules/ink/build/output.js`) as {default: OutputClass};
		// 25,000 frames of a distinct 200-column line each: some 500 MB of styled chars if every one is kept.
		const grown = await heapGrowth((text, i) => {
			const output = new Output({width: 200, height: 1});
			output.write(0, 0, `\u001B[32m${i}\u001B[39m ${text.slice(0, 190)}`, {transformers: []});
			output.get();
		});
		// The cache holds up to 200,000 styled chars; shared cells make that a few MB of references
		// (a fresh object per char was some 330 bytes each, 60 MB full).
		assert.ok(grown < 10, `Ink's output caches kept ${grown.toFixed(1)} MB`);
	});

	it('stay bounded however many distinct lines are drawn', async () => {
		const {default: measureText} = await import(`${repoRoot}/node_modules/ink/build/measure-text.js`) as {default: (text: string) => unknown};
		const {default: wrapText} = await import(`${repoRoot}/node_modules/ink/build/wrap-text.js`) as {default: (text: string, width: number, wrap: string) => string};
		const measured = await heapGrowth(text => measureText(text));
		assert.ok(measured < 35, `measureText kept ${measured.toFixed(1)} MB`);
		const wrapped = await heapGrowth(text => wrapText(text, 80, 'truncate-end'));
		assert.ok(wrapped < 35, `wrapText kept ${wrapped.toFixed(1)} MB`);
	});
});
