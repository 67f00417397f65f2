// What an `image:` means on the process runtime, in order:
// 1. the built-in images (images/): kubedeck/agnhost, pause, and the shell
//    images (busybox, alpine...) whose default command is `sh`;
// 2. an image mapped to a host program in the engine's config;
// 3. otherwise, a container with `command` runs that command on the host;
// 4. otherwise the container cannot run here: ImageNotRunnable, with a
//    message that says how to fix it. Never a silent fake.
// Like a container engine, `command` replaces the image's entrypoint and
// `args` its default arguments.
import path from 'node:path';
import {fileURLToPath} from 'node:url';

/** kubedeck's images/ directory (an engine running as root copies it where pod uids can read it). */
export const builtinImagesDir = fileURLToPath(new URL('../../../../images/', import.meta.url));

interface ImageDefaults {
	entrypoint: string[];
	cmd: string[];
}

/** The image's repository without registry host, tag or digest: "registry.k8s.io/pause:3.9" -> "pause". */
export function imageBase(image: string): string {
	const noDigest = image.split('@')[0];
	const lastSlash = noDigest.lastIndexOf('/');
	const colon = noDigest.indexOf(':', lastSlash + 1);
	const repo = colon >= 0 ? noDigest.slice(0, colon) : noDigest;
	return repo.replace(/^(docker\.io\/)?(library\/)?/, '');
}

function builtin(image: string, imagesDir: string): ImageDefaults | undefined {
	const base = imageBase(image);
	const name = base.split('/').pop()!;
	if (name === 'pause') return {entrypoint: ['sleep', 'infinity'], cmd: []};
	if (name === 'agnhost') return {entrypoint: [process.execPath, path.join(imagesDir, 'agnhost.mjs')], cmd: []};
	if (['busybox', 'alpine', 'ubuntu', 'debian'].includes(base)) return {entrypoint: [], cmd: ['sh']};
	return undefined;
}

export type Resolution = {argv: string[]} | {notRunnable: string};

export function resolveImage(container: {image?: string; command?: string[]; args?: string[]}, mapped: Record<string, string[]>, imagesDir = builtinImagesDir): Resolution {
	const image = container.image ?? '';
	const defaults = builtin(image, imagesDir) ?? (mapped[image] ?? mapped[imageBase(image)] ? {entrypoint: mapped[image] ?? mapped[imageBase(image)], cmd: []} : undefined);
	if (defaults) {
		const entry = container.command ?? defaults.entrypoint;
		const args = container.args ?? (container.command ? [] : defaults.cmd);
		const argv = [...entry, ...args];
		if (argv.length === 0) return {notRunnable: `image "${image}" has no default command; give the container a command`};
		return {argv};
	}
	if (container.command?.length) return {argv: [...container.command, ...(container.args ?? [])]};
	return {
		notRunnable: `image "${image}" cannot run on the process runtime: give the container a command to run on the host, ` +
			'use a built-in image (kubedeck/agnhost, pause, busybox), or map the image to a host program under "images:" in the engine\'s config.yaml',
	};
}
