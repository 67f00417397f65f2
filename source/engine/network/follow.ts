// What the network parts share: follow some resources in the store and
// recompute everything once per turn of the event loop after a change (a
// scale-up's burst of endpoint writes is one sync, not hundreds).
import type {Store} from '../../store/store.js';

export interface Following {
	stop(): void;
}

/** Watch `resources` from now on and call `sync` once per burst of changes, until stopped. */
export function followStore(store: Store, resources: string[], sync: () => void): Following {
	let scheduled = false, stopped = false;
	const rv = Number(store.resourceVersion);
	const unwatch = resources.map(resource => store.watch(resource, undefined, rv, () => {
		if (scheduled || stopped) return;
		scheduled = true;
		setImmediate(() => {
			scheduled = false;
			if (!stopped) sync();
		});
	}));
	return {
		stop() {
			stopped = true;
			for (const u of unwatch) u();
		},
	};
}
