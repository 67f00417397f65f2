import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {formatLabelSelector, fromLabelSelector, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector} from '../../source/api/selectors.js';
import {parseQuantity} from '../../source/api/quantity.js';

describe('label selectors', () => {
	const labels = {app: 'web', tier: 'front'};
	const cases: [string, boolean][] = [
		['app=web', true], ['app==web', true], ['app!=web', false], ['app', true], ['!app', false], ['missing', false], ['!missing', true],
		['app in (web,db)', true], ['app notin (web,db)', false], ['tier in (back)', false], ['app=web,tier=front', true], ['app=web,tier=back', false],
		['', true],
	];
	for (const [text, expected] of cases) {
		it(`"${text}" ${expected ? 'matches' : 'does not match'}`, () => assert.equal(matchesLabels(parseLabelSelector(text), labels), expected));
	}

	it('rejects a malformed requirement', () => {
		assert.throws(() => parseLabelSelector('app=(x'), /unable to parse requirement|invalid label key/);
	});

	it('converts metav1.LabelSelector and back to text', () => {
		const sel = fromLabelSelector({matchLabels: {app: 'web'}, matchExpressions: [{key: 'tier', operator: 'In', values: ['a', 'b']}, {key: 'x', operator: 'DoesNotExist'}]});
		assert.equal(formatLabelSelector(sel), 'app=web,tier in (a,b),!x');
	});
});

describe('field selectors', () => {
	const event = {apiVersion: 'v1', kind: 'Event', metadata: {name: 'e', namespace: 'default'}, involvedObject: {name: 'web', uid: 'u1', kind: 'Pod'}};
	it('matches dotted paths in any order with = and !=', () => {
		assert.ok(matchesFields(parseFieldSelector('involvedObject.uid=u1,involvedObject.name=web'), event));
		assert.ok(!matchesFields(parseFieldSelector('involvedObject.name!=web'), event));
		assert.ok(matchesFields(parseFieldSelector('metadata.name==e'), event));
	});
});

describe('quantities', () => {
	it('parses cpu and memory forms', () => {
		assert.equal(parseQuantity('100m'), 0.1);
		assert.equal(parseQuantity('2'), 2);
		assert.equal(parseQuantity('128Mi'), 128 * 2 ** 20);
		assert.equal(parseQuantity('1G'), 1e9);
		assert.equal(parseQuantity('1e3'), 1000);
		assert.equal(parseQuantity('abc'), undefined);
		assert.equal(parseQuantity('1.2.3'), undefined);
	});
});
