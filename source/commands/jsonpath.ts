// kubectl's -o jsonpath templates: text with {expressions}, {range}/{end},
// {"literal"}. Each expression is evaluated with jsonpath-plus; kubectl's
// template dialect (the braces, range/end, `.a.b` without `$`) is parsed here
// because no library speaks it.
import {JSONPath} from 'jsonpath-plus';
import {CliError} from '../client/errors.js';

type Node = {text: string} | {expr: string} | {range: string; body: Node[]};

function tokenize(template: string): ({text: string} | {action: string})[] {
	const out: ({text: string} | {action: string})[] = [];
	let i = 0;
	while (i < template.length) {
		const open = template.indexOf('{', i);
		if (open < 0) {
			out.push({text: template.slice(i)});
			break;
		}
		if (open > i) out.push({text: template.slice(i, open)});
		let depth = 0, j = open, quote: string | undefined;
		for (; j < template.length; j++) {
			const ch = template[j];
			if (quote) {
				if (ch === '\\') j++;
				else if (ch === quote) quote = undefined;
				continue;
			}
			if (ch === '"' || ch === "'") quote = ch;
			else if (ch === '{') depth++;
			else if (ch === '}' && --depth === 0) break;
		}
		if (j >= template.length) throw new CliError(`error: error parsing jsonpath ${template}, unclosed action`);
		out.push({action: template.slice(open + 1, j).trim()});
		i = j + 1;
	}
	return out;
}

function parse(template: string): Node[] {
	const root: Node[] = [];
	const stack: Node[][] = [root];
	for (const token of tokenize(template)) {
		const top = stack[stack.length - 1];
		if ('text' in token) top.push({text: token.text});
		else if (token.action.startsWith('range ')) {
			const node = {range: token.action.slice(6).trim(), body: []};
			top.push(node);
			stack.push(node.body);
		} else if (token.action === 'end') {
			if (stack.length === 1) throw new CliError(`error: error parsing jsonpath ${template}, not in range, nothing to end`);
			stack.pop();
		} else if (/^".*"$/s.test(token.action)) {
			top.push({text: JSON.parse(token.action) as string});
		} else if (/^'.*'$/s.test(token.action)) {
			top.push({text: token.action.slice(1, -1)});
		} else {
			top.push({expr: token.action});
		}
	}
	return root;
}

function evaluate(expr: string, data: unknown): unknown[] {
	if (expr === '.' || expr === '@' || expr === '$') return [data];
	const path = expr.startsWith('$') ? expr : expr.startsWith('@') ? `$${expr.slice(1)}` : expr.startsWith('.') || expr.startsWith('[') ? `$${expr}` : `$.${expr}`;
	return JSONPath({path, json: data as object, wrap: true, eval: 'safe'}) as unknown[];
}

function show(value: unknown): string {
	if (typeof value === 'string') return value;
	if (value === null || value === undefined) return '';
	if (typeof value === 'object') return JSON.stringify(value);
	return String(value);
}

function render(nodes: Node[], data: unknown): string {
	let out = '';
	for (const node of nodes) {
		if ('text' in node) out += node.text;
		else if ('expr' in node) out += evaluate(node.expr, data).map(show).join(' ');
		else for (const item of evaluate(node.range, data)) out += render(node.body, item);
	}
	return out;
}

export function jsonpathTemplate(template: string, data: unknown): string {
	return render(parse(template), data);
}
