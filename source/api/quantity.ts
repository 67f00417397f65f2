// resource.Quantity: "100m", "0.5", "128Mi", "1G", "2e3". We only need the
// numeric value (cores for cpu, bytes for memory and storage), so this parses
// the canonical suffixes of k8s.io/apimachinery/pkg/api/resource and nothing
// more; no maintained npm library does exactly this.

const binary: Record<string, number> = {Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60};
const decimal: Record<string, number> = {n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18};

const pattern = /^([+-]?[0-9.]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/;

/** The value of a quantity, or undefined when the text is not one. */
export function parseQuantity(text: string | number): number | undefined {
	if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
	const m = pattern.exec(text.trim());
	if (!m || m[1] === '.' || (m[1].match(/\./g)?.length ?? 0) > 1) return undefined;
	const base = Number(m[1]);
	if (!Number.isFinite(base)) return undefined;
	if (m[3] !== undefined) return base * 10 ** Number(m[3]);
	const suffix = m[2] ?? '';
	return base * (binary[suffix] ?? decimal[suffix]);
}

export const quantityFormatMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** Bytes as kubectl top and describe show them: 128Mi, 1Gi. */
export function formatBytes(bytes: number): string {
	for (const [suffix, size] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
		if (bytes >= size) return `${Math.round(bytes / size)}${suffix}`;
	}
	return String(Math.round(bytes));
}
