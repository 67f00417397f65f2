// Ink keeps module-level caches keyed by every distinct text it measures or
// cuts; unbounded, they made a dashboard that streams logs grow by about
// 0.5 MB a second. patches/ink+6.8.0.patch (applied by patch-package on
// install) bounds them; this checks the installed Ink is the patched one.
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

describe('Ink\'s text caches', () => {
	it('stay bounded however many distinct lines are drawn', async () => {
		const {default: measureText} = await import(`${repoRoot}/node_modules/ink/build/measure-text.js`) as {default: (text: string) => unknown};
		const {default: wrapText} = await import(`${repoRoot}/node_modules/ink/build/wrap-text.js`) as {default: (text: string, width: number, wrap: string) => string};
		const measured = await heapGrowth(text => measureText(text));
		assert.ok(measured < 35, `measureText kept ${measured.toFixed(1)} MB`);
		const wrapped = await heapGrowth(text => wrapText(text, 80, 'truncate-end'));
		assert.ok(wrapped < 35, `wrapText kept ${wrapped.toFixed(1)} MB`);
	});
});
