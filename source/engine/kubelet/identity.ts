// Who a container runs as: securityContext (runAsUser, runAsGroup,
// runAsNonRoot, fsGroup, supplementalGroups, allowPrivilegeEscalation,
// readOnlyRootFilesystem), container-level fields over pod-level ones, as
// the kubelet merges them.
//
// The default differs from a container runtime's, on purpose. An image's
// default user is often root, and inside a container that is harmless; here
// a pod is a host process, and root on the host reads kubedeck's key and
// state file whatever else is done. So when the engine runs as root, a pod
// that names no runAsUser runs as a uid of its own (and a group of its own),
// allocated from the pod's IP (unique among this engine's pods, and stable
// for the pod's life): pods cannot read each other's files or signal each
// other's processes, and the state directory (0700) stays out of reach even
// without bubblewrap. `runAsUser: 0` is honoured (as root without
// capabilities), with a Warning when nothing else isolates the pod. An engine
// that is not root can only run pods as its own user; under bubblewrap the
// asked-for uid is what the pod sees inside its user namespace.
import type {KubeObject} from '../../api/object.js';
import {ContainerConfigError} from './environment.js';

type Rec = Record<string, any>;

/** The first uid/gid of the per-pod range (above the usual human and system ranges, below 2^31). */
export const podIdBase = 1_000_000;

export interface ContainerIdentity {
	uid: number;
	gid: number;
	/** Supplementary groups: the pod's own group, fsGroup, supplementalGroups. */
	groups: number[];
	/** The pod's own group, which owns its directories. */
	podGroup: number;
	/** The uid belongs to this pod alone (so everything running as it is the pod's). */
	exclusive: boolean;
	/** Real host credentials (the engine is root) or only presented in a user namespace. */
	real: boolean;
	noNewPrivs: boolean;
	readOnlyRootFilesystem: boolean;
}

/** The pod's own id, from its IP 127.B.X.Y: B picks a 65,536-id block, X.Y the id in it. */
export function podId(podIP: string): number {
	const [, b, x, y] = podIP.split('.').map(Number);
	return podIdBase + ((b - 2) & 0xff) * 65536 + x * 256 + y;
}

const engineUid = process.getuid?.() ?? 0;
const engineGid = process.getgid?.() ?? 0;

/** The pod-level uid (for its working directory): the pod's runAsUser or its own id. */
export function podUser(pod: KubeObject, podIP: string): {uid: number; gid: number} {
	const sc = ((pod.spec as Rec).securityContext ?? {}) as Rec;
	if (engineUid !== 0) return {uid: engineUid, gid: engineGid};
	const own = podId(podIP);
	const uid = sc.runAsUser ?? own;
	return {uid, gid: sc.runAsGroup ?? (sc.runAsUser !== undefined ? uid : own)};
}

export function containerIdentity(pod: KubeObject, container: Rec, podIP: string): ContainerIdentity {
	const podSc = ((pod.spec as Rec).securityContext ?? {}) as Rec;
	const sc = (container.securityContext ?? {}) as Rec;
	const runAsUser: number | undefined = sc.runAsUser ?? podSc.runAsUser;
	const runAsGroup: number | undefined = sc.runAsGroup ?? podSc.runAsGroup;
	const runAsNonRoot: boolean | undefined = sc.runAsNonRoot ?? podSc.runAsNonRoot;
	const own = podId(podIP);
	const real = engineUid === 0;
	const uid = real ? runAsUser ?? own : runAsUser ?? engineUid;
	const gid = real ? runAsGroup ?? (runAsUser !== undefined ? uid : own) : runAsGroup ?? engineGid;
	if (runAsNonRoot && uid === 0) {
		throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${container.name})`);
	}
	const groups = [...new Set([gid, own, ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []), ...((podSc.supplementalGroups ?? []) as number[])])];
	return {
		uid, gid, groups, podGroup: own, exclusive: real && uid === own, real,
		noNewPrivs: sc.allowPrivilegeEscalation === false,
		readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
	};
}

/** The argv prefix that drops to the identity (as root), with setpriv(1) from util-linux. */
export function dropPrivileges(identity: ContainerIdentity, options: {pdeathsig?: boolean} = {}): string[] {
	if (!identity.real) return [];
	return [
		'setpriv', `--reuid=${identity.uid}`, `--regid=${identity.gid}`, `--groups=${identity.groups.join(',')}`,
		// No capabilities, even for runAsUser 0: root in a pod is root without privileges.
		'--inh-caps=-all', '--bounding-set=-all',
		...(identity.noNewPrivs ? ['--no-new-privs'] : []),
		...(options.pdeathsig ? ['--pdeathsig=KILL'] : []),
		'--',
	];
}
