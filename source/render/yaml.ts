// Objects as kubectl prints them with -o yaml and -o json: shared by the CLI
// and the dashboard's YAML view and editor.
import YAML from 'yaml';
import {sortKeys} from '../api/object.js';

// kubectl's -o json/yaml come from unstructured maps, so keys are sorted.
export function toYaml(value: unknown): string {
	return YAML.stringify(sortKeys(value), {lineWidth: 0, indentSeq: false});
}

export function toJson(value: unknown): string {
	return `${JSON.stringify(sortKeys(value), null, 4)}\n`;
}
