// Apply (kubectl apply -f's logic, shared by the CLI and the dashboard): create or update from manifests. Every document is
// checked first (locally, then by the server with a dry run where its
// namespace already exists); one bad document means nothing is written.
import {admissionErrors} from '../../api/admission.js';
import {fieldErrorMessage, formatStatus, StatusError} from '../../api/errors.js';
import {toStoredVersion} from '../../api/conversion.js';
import {clone, lastAppliedAnnotation, type KubeObject} from '../../api/object.js';
import {apiVersionOf, knownKind, refOf, resourceTypes, type ResourceType, typeForKind} from '../../api/resources.js';
import {threeWayMergePatch} from '../../api/threeway.js';
import {ConnectionError} from '../errors.js';
import type {ClusterClient} from '../types.js';
import {ApplyInterrupted, type ApplyStep, interruptedSummary} from './apply-interrupted.js';
import type {Manifest} from './manifests.js';

interface Planned {
	manifest: Manifest;
	type: ResourceType;
	object: KubeObject;
	namespace?: string;
}

function where(m: Manifest): string {
	return `"${m.source}" (document ${m.index})`;
}

/** Resolve types, fill namespaces and check each document without the server. */
export function planManifests(manifests: Manifest[], defaultNamespace: string, explicitNamespace?: string): {planned: Planned[]; errors: string[]} {
	const planned: Planned[] = [];
	const errors: string[] = [];
	for (const manifest of manifests) {
		let obj = clone(manifest.object);
		if (!obj.apiVersion || !obj.kind) {
			errors.push(`error: error validating ${where(manifest)}: ${!obj.apiVersion ? 'apiVersion' : 'kind'} not set`);
			continue;
		}
		// An older version the server also serves (autoscaling/v1): sent as the stored one, the same object.
		obj = toStoredVersion(obj, resourceTypes) ?? obj;
		const type = typeForKind(obj.apiVersion, obj.kind);
		if (!type) {
			const other = knownKind(obj.kind);
			errors.push(`error: resource mapping not found for name: "${obj.metadata?.name ?? ''}" namespace: "" from ${where(manifest)}: no matches for kind "${obj.kind}" in version "${obj.apiVersion}"${other ? ` (did you mean ${apiVersionOf(other)}?)` : ''}`);
			continue;
		}
		obj.metadata ??= {};
		if (type.namespaced) {
			if (explicitNamespace && obj.metadata.namespace && obj.metadata.namespace !== explicitNamespace) {
				errors.push(`error: the namespace from the provided object "${obj.metadata.namespace}" does not match the namespace "${explicitNamespace}". You must pass '--namespace=${obj.metadata.namespace}' to perform this operation.`);
				continue;
			}
			obj.metadata.namespace ||= defaultNamespace;
		}
		const checked = clone(obj);
		const problems = admissionErrors(type, checked);
		if (problems.length > 0) {
			const lines = problems.map(p => `${p.field}: ${fieldErrorMessage(p)}`);
			errors.push(`error: error validating ${where(manifest)}: The ${type.kind} "${obj.metadata.name ?? ''}" is invalid: ${lines.length === 1 ? lines[0] : `\n${lines.map(l => `* ${l}`).join('\n')}`}`);
			continue;
		}
		planned.push({manifest, type, object: obj, namespace: obj.metadata.namespace});
	}
	return {planned, errors};
}

/** The manifest as kubectl records it in the last-applied annotation. */
function withLastApplied(obj: KubeObject): KubeObject {
	const recorded = clone(obj);
	if (recorded.metadata.annotations) delete recorded.metadata.annotations[lastAppliedAnnotation];
	const out = clone(obj);
	out.metadata.annotations = {...out.metadata.annotations, [lastAppliedAnnotation]: `${JSON.stringify(recorded)}\n`};
	return out;
}

type Outcome = {verb: 'created' | 'configured' | 'unchanged'; object: KubeObject};

export async function applyOne(client: ClusterClient, plan: Planned, dryRun: boolean, warn: (m: string) => void): Promise<Outcome> {
	const desired = withLastApplied(plan.object);
	// Which request of kubectl's apply is under way, for its error if the connection fails.
	let step: ApplyStep = 'retrieving';
	let patch: Record<string, unknown> | undefined;
	try {
		let live: KubeObject;
		try {
			live = await client.get(plan.type, plan.namespace, plan.object.metadata.name!);
		} catch (error) {
			if (error instanceof StatusError && error.code === 404) {
				step = 'creating';
				return {verb: 'created', object: await client.create(desired, {dryRun})};
			}
			throw error;
		}
		const recorded = live.metadata.annotations?.[lastAppliedAnnotation];
		if (!recorded) {
			warn(`Warning: resource ${plan.type.plural}/${plan.object.metadata.name} is missing the ${lastAppliedAnnotation} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.`);
		}
		let original: Record<string, unknown> | undefined;
		try {
			original = recorded ? JSON.parse(recorded) : undefined;
		} catch {
			original = undefined;
		}
		patch = threeWayMergePatch(original, desired as unknown as Record<string, unknown>, live as unknown as Record<string, unknown>);
		if (Object.keys(patch).length === 0) return {verb: 'unchanged', object: live};
		step = 'patching';
		return {verb: 'configured', object: await client.patch(plan.type, plan.namespace, plan.object.metadata.name!, patch, 'merge', {dryRun})};
	} catch (error) {
		if (error instanceof ConnectionError) throw new ApplyInterrupted({...plan, name: plan.object.metadata.name!}, step, error, patch);
		throw error;
	}
}

/** Ask the server to check documents whose namespace exists already (immutable fields, conflicts). */
export async function serverCheck(client: ClusterClient, planned: Planned[]): Promise<string[]> {
	const errors: string[] = [];
	// A user who may not list namespaces (bound in dev1 alone) gets the server's own answer from the dry run instead.
	const namespaces = await client.list(knownKind('Namespace')!).then(l => new Set(l.items.map(n => n.metadata.name)), error => {
		if (error instanceof StatusError && error.code === 403) return undefined;
		throw error;
	});
	for (const plan of planned) {
		if (namespaces && plan.namespace && !namespaces.has(plan.namespace)) {
			const createdHere = planned.some(p => p.type.kind === 'Namespace' && p.object.metadata.name === plan.namespace);
			if (!createdHere) errors.push(`Error from server (NotFound): error when creating ${where(plan.manifest)}: namespaces "${plan.namespace}" not found`);
			continue;
		}
		try {
			await applyOne(client, plan, true, () => {});
		} catch (error) {
			if (!(error instanceof StatusError)) throw error;
			const text = formatStatus(error.status, {verb: 'applying', source: plan.manifest.source});
			errors.push(error.reason === 'Invalid' ? `error: error validating ${where(plan.manifest)}: ${text}` : text.replace(`"${plan.manifest.source}"`, where(plan.manifest)));
		}
	}
	return errors;
}

/**
 * Apply planned documents in order, as kubectl does: a document the server
 * refuses is reported and the rest go on; a lost connection stops here, with
 * kubectl's error for the document in flight and a line saying what was and
 * was not applied (nothing after it could reach the engine).
 */
export async function applyInOrder(client: ClusterClient, planned: Planned[], dryRun: boolean, warn: (m: string) => void, applied: (outcome: Outcome) => void): Promise<string[]> {
	const errors: string[] = [];
	let done = 0;
	for (const [position, plan] of planned.entries()) {
		try {
			applied(await applyOne(client, plan, dryRun, warn));
			done++;
		} catch (error) {
			if (error instanceof ApplyInterrupted) {
				errors.push(error.message, interruptedSummary(planned.map(p => p.manifest), position, done, error));
				break;
			}
			if (!(error instanceof StatusError)) throw error;
			errors.push(formatStatus(error.status, {verb: 'applying', source: plan.manifest.source}));
		}
	}
	return errors;
}

/**
 * Apply manifests as `kubedeck apply -f` does (every document checked first,
 * nothing written if one is bad); returns the lines apply prints.
 */
export async function applyManifests(client: ClusterClient, manifests: Manifest[], namespace: string): Promise<{lines: string[]; errors: string[]}> {
	const {planned, errors} = planManifests(manifests, namespace);
	try {
		if (errors.length === 0) errors.push(...await serverCheck(client, planned));
	} catch (error) {
		if (!(error instanceof ApplyInterrupted)) throw error;
		return {lines: [], errors: [error.message, nothingApplied(error)]};
	}
	if (errors.length > 0) return {lines: [], errors};
	const lines: string[] = [];
	errors.push(...await applyInOrder(client, planned, false, () => {}, outcome => lines.push(`${refOf(outcome.object)} ${outcome.verb}`)));
	return {lines, errors};
}

export function nothingApplied(error: ApplyInterrupted): string {
	return `error: nothing applied: the connection to ${error.connection.server} was lost while the documents were checked`;
}

