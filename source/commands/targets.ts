// Turning kubectl's ways of naming things into (type, name) targets:
// `pods`, `pods web db`, `pod/web deploy/api`, `pods,svc`, `all`.
import {resolveType, resourceTypes, type ResourceType} from '../api/resources.js';
import {CliError} from '../client/errors.js';

export interface Target {
	type: ResourceType;
	names: string[];
}

export function typeOrFail(name: string): ResourceType {
	const type = resolveType(name);
	if (!type) throw new CliError(`error: the server doesn't have a resource type "${name}"`);
	return type;
}

function expand(typeList: string): ResourceType[] {
	return typeList.split(',').filter(Boolean).flatMap(t => (t === 'all' ? resourceTypes.filter(r => r.categories?.includes('all')) : [typeOrFail(t)]));
}

export function parseTargets(args: string[]): Target[] {
	if (args.length === 0) return [];
	if (args.some(a => a.includes('/'))) {
		const byType = new Map<ResourceType, string[]>();
		for (const arg of args) {
			const slash = arg.indexOf('/');
			if (slash < 0) throw new CliError(`error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubedeck get resource/<resource_name>' instead of 'kubedeck get resource resource/<resource_name>'`);
			const type = typeOrFail(arg.slice(0, slash));
			byType.set(type, [...(byType.get(type) ?? []), arg.slice(slash + 1)]);
		}
		return [...byType].map(([type, names]) => ({type, names}));
	}
	const [typeList, ...names] = args;
	const types = expand(typeList);
	if (names.length > 0 && types.length > 1) throw new CliError('error: arguments in resource/name form must have a single resource and name');
	return types.map(type => ({type, names}));
}
