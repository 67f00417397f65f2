// Query parameters, parsed as kube-apiserver's parameter codec converts them
// into ListOptions, DeleteOptions and CreateOptions (apimachinery
// runtime/conversion.go): integers through strconv.ParseInt, booleans true
// unless "0" or "false", and every check made before a header is written, so
// a watch with a bad parameter gets its Status instead of an empty 200.
import {badRequest, field, type FieldError, GoValue, invalid, type StatusError} from '../../api/errors.js';
import type {ResourceType} from '../../api/resources.js';
import {type FieldRequirement, type LabelSelector, parseFieldSelector, parseLabelSelector, supportedFieldLabel} from '../../api/selectors.js';

/** strconv.ParseInt(s, 10, 64), with Go's error text. */
export function parseInt64(text: string): number {
	if (!/^[+-]?[0-9]+$/.test(text)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
	const n = BigInt(text);
	if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(text)}: value out of range`);
	return Number(n);
}

/** Convert_Slice_string_To_bool: only "0" and "false" (any case) are false; present and empty is true. */
export function parseBool(q: URLSearchParams, name: string): boolean {
	const value = q.get(name);
	return value !== null && value !== '0' && value.toLowerCase() !== 'false';
}

function int64Param(q: URLSearchParams, name: string): number | undefined {
	const value = q.get(name);
	return value === null ? undefined : parseInt64(value);
}

export interface ListParams {
	watch: boolean;
	resourceVersion?: string;
	/** The resourceVersion as a number, when one was given. */
	fromVersion?: number;
	timeoutSeconds?: number;
	limit?: number;
	sendInitialEvents: boolean;
	/** How a list's resourceVersion is read: at least as new (the default), or exactly that version. */
	resourceVersionMatch?: 'NotOlderThan' | 'Exact';
	/** A watch may be sent BOOKMARK events (the resourceVersion it has reached). */
	allowWatchBookmarks: boolean;
	labelSelector?: LabelSelector;
	fieldSelector?: FieldRequirement[];
}

/**
 * A resourceVersion must be a decimal uint64: the storage's
 * APIObjectVersioner.ParseResourceVersion, whose error the registry turns
 * into a 422 Invalid for the resource ("pods \"\" is invalid: resourceVersion: ...").
 */
function parseResourceVersion(type: ResourceType, text: string): number | undefined {
	if (text === '' || text === '0') return undefined;
	if (!/^[0-9]+$/.test(text) || BigInt(text) > 2n ** 64n - 1n) {
		const reason = /^[0-9]+$/.test(text) ? 'value out of range' : 'invalid syntax';
		throw invalid(type.plural, type.group, '', [field.invalid('resourceVersion', text, `strconv.ParseUint: parsing ${JSON.stringify(text)}: ${reason}`)]);
	}
	return Number(text);
}

/** Selectors, with each field label checked against what the kind supports (the field label conversion funcs). */
export function selectorParams(type: ResourceType, q: URLSearchParams): {labelSelector?: LabelSelector; fieldSelector?: FieldRequirement[]} {
	const labels = q.get('labelSelector');
	const fields = q.get('fieldSelector');
	const fieldSelector = fields ? parseFieldSelector(fields) : undefined;
	for (const requirement of fieldSelector ?? []) {
		const label = supportedFieldLabel(type, requirement.field);
		if (label === undefined) throw badRequest(`field label not supported: ${requirement.field}`);
		requirement.field = label;
	}
	return {labelSelector: labels ? parseLabelSelector(labels) : undefined, fieldSelector};
}

/** GET on a collection: list or watch. */
export function listParams(type: ResourceType, q: URLSearchParams): ListParams {
	const limit = int64Param(q, 'limit');
	const timeoutSeconds = int64Param(q, 'timeoutSeconds');
	const watch = parseBool(q, 'watch');
	const resourceVersion = q.get('resourceVersion') ?? undefined;
	const fromVersion = resourceVersion === undefined ? undefined : parseResourceVersion(type, resourceVersion);
	const sendInitialEvents = parseBool(q, 'sendInitialEvents');
	const match = q.get('resourceVersionMatch') ?? '';
	// metainternalversion's ValidateListOptions (and its watch half), in its words.
	const errors: FieldError[] = [];
	const given = q.has('sendInitialEvents');
	if (watch) {
		if (given && match !== 'NotOlderThan') errors.push(field.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
		if (match !== '') {
			if (!given) errors.push(field.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
			if (match !== 'NotOlderThan') errors.push(field.notSupported('resourceVersionMatch', match, ['NotOlderThan']));
			if (q.get('continue')) errors.push(field.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
		}
	} else {
		if (match !== '') {
			if (!resourceVersion) errors.push(field.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
			if (q.get('continue')) errors.push(field.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
			if (match !== 'Exact' && match !== 'NotOlderThan') errors.push(field.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
			if (match === 'Exact' && resourceVersion === '0') errors.push(field.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
		}
		if (given) errors.push(field.forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
	}
	if (errors.length) throw invalid('ListOptions', 'meta.k8s.io', '', errors);
	return {watch, resourceVersion, fromVersion, limit, timeoutSeconds, sendInitialEvents, resourceVersionMatch: match || undefined, allowWatchBookmarks: parseBool(q, 'allowWatchBookmarks'), ...selectorParams(type, q)} as ListParams;
}

const propagationPolicies = ['Foreground', 'Background', 'Orphan'];

/** ValidateDryRun: the only dry-run value is "All"; the options kind names the verb (CreateOptions, DeleteOptions...). */
export function dryRunParam(values: unknown, optionsKind: string): boolean {
	const list = Array.isArray(values) ? values : values === undefined || values === null ? [] : [values];
	if (list.some(v => v !== 'All')) {
		const shown = `[]string{${list.map(v => JSON.stringify(String(v))).join(', ')}}`;
		throw invalidOptions(optionsKind, [field.notSupported('dryRun', new GoValue(shown), ['All'])]);
	}
	return list.length > 0;
}

/** DeleteOptions from the query and the body; the body wins, as kube-apiserver decodes it over the query's. */
export function deleteParams(q: URLSearchParams, body: Record<string, unknown> | undefined): {gracePeriodSeconds?: number; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; preconditions?: {uid?: string; resourceVersion?: string}; dryRun: boolean} {
	const grace = int64Param(q, 'gracePeriodSeconds');
	const policy = (body?.propagationPolicy as string | undefined) ?? q.get('propagationPolicy') ?? undefined;
	if (policy !== undefined && policy !== null && !propagationPolicies.includes(policy)) {
		throw invalidOptions('DeleteOptions', [field.notSupported('propagationPolicy', policy, [...propagationPolicies, 'nil'])]);
	}
	const dryRun = dryRunParam(body?.dryRun ?? (q.getAll('dryRun').length ? q.getAll('dryRun') : undefined), 'DeleteOptions');
	return {
		gracePeriodSeconds: (body?.gracePeriodSeconds as number | undefined) ?? grace,
		propagationPolicy: policy as 'Background' | 'Foreground' | 'Orphan' | undefined,
		preconditions: body?.preconditions as {uid?: string; resourceVersion?: string} | undefined,
		dryRun,
	};
}

function invalidOptions(kind: string, errors: ReturnType<typeof field.invalid>[]): StatusError {
	return invalid(kind, 'meta.k8s.io', '', errors);
}
