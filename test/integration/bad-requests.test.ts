// Bad requests at the HTTP layer, against one real engine process: each gets
// the Status kube-apiserver gives (code, reason, message naming the field),
// generated mutations of valid objects all get a 4xx, and the engine still
// answers and still creates a valid pod afterwards.
import assert from 'node:assert/strict';
import http from 'node:http';
import {after, before, describe, it} from 'node:test';
import {socketPath} from '../../source/engine/home.js';
import {type EngineProcess, removeHome, startEngine, tempHome} from '../helpers.js';

interface Answer {
	code: number;
	body: any;
	text: string;
}

let home: string;
let engine: EngineProcess;

function request(method: string, path: string, body?: string | Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const req = http.request({socketPath: socketPath(home), method, path, headers: {...(body !== undefined ? {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body)} : {}), ...headers}}, res => {
			const chunks: Buffer[] = [];
			res.on('data', c => chunks.push(c));
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				let parsed: unknown;
				try {
					parsed = JSON.parse(text);
				} catch {
					parsed = undefined;
				}
				resolve({code: res.statusCode ?? 0, body: parsed, text});
			});
		});
		req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
		req.on('error', reject);
		req.end(body);
	});
}

const json = (value: unknown) => JSON.stringify(value);
const pods = '/api/v1/namespaces/default/pods';
const deployments = '/apis/apps/v1/namespaces/default/deployments';

function pod(name: string, extra: Record<string, unknown> = {}): Record<string, any> {
	return {apiVersion: 'v1', kind: 'Pod', metadata: {name}, spec: {containers: [{name: 'c', image: 'kubedeck/pause'}], ...extra}};
}

function deployment(name: string): Record<string, any> {
	return {
		apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name},
		spec: {replicas: 0, selector: {matchLabels: {app: name}}, template: {metadata: {labels: {app: name}}, spec: {containers: [{name: 'c', image: 'kubedeck/pause'}]}}},
	};
}

function assertStatus(answer: Answer, code: number, reason: string, message?: string | RegExp): void {
	assert.equal(answer.code, code, answer.text.slice(0, 500));
	assert.equal(answer.body?.kind, 'Status', answer.text.slice(0, 500));
	assert.equal(answer.body.reason, reason, answer.text.slice(0, 500));
	if (typeof message === 'string') assert.equal(answer.body.message, message);
	else if (message) assert.match(answer.body.message, message);
}

describe('bad requests get kube-apiserver\'s Status', () => {
	before(async () => {
		home = tempHome();
		engine = await startEngine(home);
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});

	describe('paths that would leave the volume', () => {
		it('refuses items[].path with .. or an absolute path, in pods and pod templates', async () => {
			const withItems = (path: string) => pod('items', {volumes: [{name: 'v', configMap: {name: 'cm', items: [{key: 'k', path}]}}]});
			assertStatus(await request('POST', pods, json(withItems('../../../../tmp/x'))), 422, 'Invalid',
				'Pod "items" is invalid: spec.volumes[0].configMap.items[0].path: Invalid value: "../../../../tmp/x": must not contain \'..\'');
			assertStatus(await request('POST', pods, json(withItems('/etc/passwd'))), 422, 'Invalid', /spec\.volumes\[0\]\.configMap\.items\[0\]\.path: Invalid value: "\/etc\/passwd": must be a relative path/);
			assertStatus(await request('POST', pods, json(withItems('..data'))), 422, 'Invalid', /items\[0\]\.path: Invalid value: "\.\.data": must not start with '\.\.'/);
			const secret = pod('s', {volumes: [{name: 'v', secret: {secretName: 's', items: [{key: 'k', path: 'a/../../x'}]}}]});
			assertStatus(await request('POST', pods, json(secret)), 422, 'Invalid', /spec\.volumes\[0\]\.secret\.items\[0\]\.path: Invalid value: "a\/\.\.\/\.\.\/x": must not contain '\.\.'/);
			const projected = pod('p', {volumes: [{name: 'v', projected: {sources: [{configMap: {name: 'cm', items: [{key: 'k', path: '../x'}]}}, {downwardAPI: {items: [{path: '../y', fieldRef: {fieldPath: 'metadata.name'}}]}}]}}]});
			assertStatus(await request('POST', pods, json(projected)), 422, 'Invalid', /spec\.volumes\[0\]\.projected\.sources\[0\]\.configMap\.items\[0\]\.path: Invalid value: "\.\.\/x".*spec\.volumes\[0\]\.projected\.sources\[1\]\.downwardAPI\.path: Invalid value: "\.\.\/y"/);
			const downward = pod('d', {volumes: [{name: 'v', downwardAPI: {items: [{path: '../z', fieldRef: {fieldPath: 'metadata.name'}}]}}]});
			assertStatus(await request('POST', pods, json(downward)), 422, 'Invalid', /spec\.volumes\[0\]\.downwardAPI\.path: Invalid value: "\.\.\/z": must not contain '\.\.'/);
			const d = deployment('tpl');
			d.spec.template.spec.volumes = [{name: 'v', configMap: {name: 'cm', items: [{key: 'k', path: '../x'}]}}];
			assertStatus(await request('POST', deployments, json(d)), 422, 'Invalid', /spec\.template\.spec\.volumes\[0\]\.configMap\.items\[0\]\.path: Invalid value: "\.\.\/x": must not contain '\.\.'/);
		});

		it('refuses subPath and subPathExpr that climb out, named as kube-apiserver names them', async () => {
			const mount = (m: Record<string, string>) => pod('sub', {volumes: [{name: 'v', emptyDir: {}}], containers: [{name: 'c', image: 'kubedeck/pause', volumeMounts: [{name: 'v', mountPath: '/data', ...m}]}]});
			assertStatus(await request('POST', pods, json(mount({subPath: '../../../../etc'}))), 422, 'Invalid',
				'Pod "sub" is invalid: spec.containers[0].volumeMounts.subPath: Invalid value: "../../../../etc": must not contain \'..\'');
			assertStatus(await request('POST', pods, json(mount({subPath: '/etc'}))), 422, 'Invalid', /volumeMounts\.subPath: Invalid value: "\/etc": must be a relative path/);
			assertStatus(await request('POST', pods, json(mount({subPathExpr: '$(POD)/../..'}))), 422, 'Invalid', /volumeMounts\.subPathExpr: Invalid value: "\$\(POD\)\/\.\.\/\.\.": must not contain '\.\.'/);
			assertStatus(await request('POST', pods, json(mount({subPath: 'a', subPathExpr: 'b'}))), 422, 'Invalid', /volumeMounts\[0\]\.subPathExpr: Invalid value: "b": subPathExpr and subPath are mutually exclusive/);
			assert.equal((await request('POST', pods, json(mount({subPath: 'a/b..c'})))).code, 201);
		});
	});

	describe('fields of the wrong JSON type, as the Go decoder words it', () => {
		it('answers 400 BadRequest naming the Go struct field and type', async () => {
			const d = deployment('typed');
			d.spec.replicas = '3';
			assertStatus(await request('POST', deployments, json(d)), 400, 'BadRequest',
				'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
			assertStatus(await request('POST', deployments, json(d).replace('"3"', '1e12')), 400, 'BadRequest',
				'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 1e12 into Go struct field DeploymentSpec.spec.replicas of type int32');
			assertStatus(await request('POST', deployments, json(d).replace('"3"', '3.0')), 400, 'BadRequest', /cannot unmarshal number 3\.0 into Go struct field DeploymentSpec\.spec\.replicas of type int32/);
			assertStatus(await request('POST', pods, json({...pod('x'), spec: 'x'})), 400, 'BadRequest',
				'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec');
			assertStatus(await request('POST', pods, json(pod('x', {containers: [{name: 'c', image: 5}]}))), 400, 'BadRequest',
				'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string');
			assertStatus(await request('POST', pods, json(pod('x', {containers: {}}))), 400, 'BadRequest', /cannot unmarshal object into Go struct field PodSpec\.spec\.containers of type \[\]v1\.Container$/);
			assertStatus(await request('POST', pods, json(pod('x', {restartPolicy: 1}))), 400, 'BadRequest', /cannot unmarshal number into Go struct field PodSpec\.spec\.restartPolicy of type v1\.RestartPolicy$/);
			assertStatus(await request('POST', pods, json({...pod('x'), metadata: {name: 'x', labels: {a: 1}}})), 400, 'BadRequest', /cannot unmarshal number into Go struct field ObjectMeta\.metadata\.labels of type string$/);
			assertStatus(await request('POST', pods, json(pod('x', {containers: [{name: 'c', image: 'i', resources: {limits: {cpu: 'lots'}}}]}))), 400, 'BadRequest',
				'Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'');
			const svc = {apiVersion: 'v1', kind: 'Service', metadata: {name: 's'}, spec: {ports: [{port: 80, targetPort: true}]}};
			assertStatus(await request('POST', '/api/v1/namespaces/default/services', json(svc)), 400, 'BadRequest', /cannot unmarshal bool into Go struct field ServicePort\.spec\.ports\.targetPort of type int32$/);
			const secret = {apiVersion: 'v1', kind: 'Secret', metadata: {name: 's'}, data: {k: 'abc'}};
			assertStatus(await request('POST', '/api/v1/namespaces/default/secrets', json(secret)), 400, 'BadRequest', 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0');
			assertStatus(await request('POST', pods, json({...pod('x'), metadata: {name: 'x', creationTimestamp: 'yesterday'}})), 400, 'BadRequest',
				/parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"$/);
		});

		it('type-checks PUT bodies and patched objects the same way', async () => {
			assert.equal((await request('POST', deployments, json(deployment('patched')))).code, 201);
			const merge = await request('PATCH', `${deployments}/patched`, json({spec: {replicas: '3'}}), {'Content-Type': 'application/merge-patch+json'});
			assertStatus(merge, 422, 'Invalid', /^ "" is invalid: patch: Invalid value: ".*": json: cannot unmarshal string into Go struct field DeploymentSpec\.spec\.replicas of type int32$/s);
			const smp = await request('PATCH', `${deployments}/patched`, json({spec: {template: {spec: {containers: [{name: 'c', image: 5}]}}}}), {'Content-Type': 'application/strategic-merge-patch+json'});
			assertStatus(smp, 422, 'Invalid', /Container\.spec\.template\.spec\.containers\.image of type string$/);
			const jsonPatch = await request('PATCH', `${deployments}/patched`, json([{op: 'replace', path: '/spec/replicas', value: 1e12}]), {'Content-Type': 'application/json-patch+json'});
			assertStatus(jsonPatch, 422, 'Invalid', /cannot unmarshal number 1000000000000 into Go struct field DeploymentSpec\.spec\.replicas of type int32$/);
			const scale = await request('PATCH', `${deployments}/patched/scale`, json({spec: {replicas: 'x'}}), {'Content-Type': 'application/merge-patch+json'});
			assertStatus(scale, 422, 'Invalid', /ScaleSpec\.spec\.replicas of type int32$/);
			const current = (await request('GET', `${deployments}/patched`)).body;
			assertStatus(await request('PUT', `${deployments}/patched`, json({...current, spec: {...current.spec, paused: 'yes'}})), 400, 'BadRequest', /cannot unmarshal string into Go struct field DeploymentSpec\.spec\.paused of type bool$/);
		});
	});

	describe('bodies that could hurt the engine', () => {
		it('refuses JSON and YAML nested too deep before anything recurses', async () => {
			const deep = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
			assertStatus(await request('POST', pods, deep), 400, 'BadRequest', /^the object provided is unrecognized \(must be of type Pod\): couldn't get version\/kind; json parse error: exceeded max depth of 512 \(\{"apiVersion":"v1","kind":"Pod \.\.\.\)$/);
			const flow = `apiVersion: v1\nkind: Pod\nmetadata: {name: deep}\nspec: ${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}\n`;
			assertStatus(await request('POST', pods, flow, {'Content-Type': 'application/yaml'}), 400, 'BadRequest', /exceeded max depth/);
			const block = `apiVersion: v1\nkind: Pod\nspec: ${'- '.repeat(100_000)}x\n`;
			assertStatus(await request('POST', pods, block, {'Content-Type': 'application/yaml'}), 400, 'BadRequest', /exceeded max depth/);
			const patch = await request('PATCH', `${pods}/nope`, `${'['.repeat(100_000)}${']'.repeat(100_000)}`, {'Content-Type': 'application/merge-patch+json'});
			assertStatus(patch, 400, 'BadRequest', 'exceeded max depth of 512');
		});

		it('gives Go\'s syntax errors for broken JSON', async () => {
			assertStatus(await request('POST', pods, '{"kind": "Pod",}'), 400, 'BadRequest', /json parse error: invalid character '}' looking for beginning of object key string/);
			assertStatus(await request('POST', pods, '{"kind": 5}'), 400, 'BadRequest', /json parse error: json: cannot unmarshal number into Go struct field \.kind of type string/);
			assertStatus(await request('POST', pods, '{"kind"'), 400, 'BadRequest', /json parse error: unexpected end of JSON input/);
		});

		it('refuses bodies over 3 MiB with 413, from Content-Length or while reading chunks', async () => {
			const declared = await new Promise<Answer>((resolve, reject) => {
				const req = http.request({socketPath: socketPath(home), method: 'POST', path: pods, headers: {'Content-Type': 'application/json', 'Content-Length': 300 * 1024 * 1024}}, res => {
					let text = '';
					res.on('data', c => (text += c));
					res.on('end', () => resolve({code: res.statusCode ?? 0, body: JSON.parse(text), text}));
				});
				req.on('error', reject);
				req.write('{"apiVersion":"v1",');
			});
			assertStatus(declared, 413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
			const chunked = await new Promise<Answer>((resolve, reject) => {
				const req = http.request({socketPath: socketPath(home), method: 'POST', path: pods, headers: {'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked'}}, res => {
					let text = '';
					res.on('data', c => (text += c));
					res.on('end', () => resolve({code: res.statusCode ?? 0, body: JSON.parse(text), text}));
				});
				req.on('error', () => {});
				const chunk = Buffer.alloc(1024 * 1024, 0x20);
				let sent = 0;
				const pump = () => {
					while (sent < 8 && req.write(chunk)) sent++;
					if (sent < 8) req.once('drain', () => {
						sent++;
						pump();
					});
				};
				pump();
				setTimeout(() => reject(new Error('no answer to a chunked 8 MiB body')), 10_000).unref();
			});
			assertStatus(chunked, 413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
			assert.equal((await request('GET', '/version')).code, 200);
		});

		it('takes only the media types kube-apiserver takes for each verb', async () => {
			const objectTypes = 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf';
			assertStatus(await request('POST', pods, json(pod('plain')), {'Content-Type': 'text/plain'}), 415, 'UnsupportedMediaType', objectTypes);
			assertStatus(await request('POST', pods, json(pod('plain')), {'Content-Type': 'application/x-www-form-urlencoded'}), 415, 'UnsupportedMediaType', objectTypes);
			assertStatus(await request('POST', pods, json(pod('plain')), {'Content-Type': ''}), 415, 'UnsupportedMediaType', objectTypes);
			assertStatus(await request('GET', `${pods}/plain`), 404, 'NotFound');
			assertStatus(await request('PATCH', `${pods}/plain`, json({}), {'Content-Type': 'application/json'}), 415, 'UnsupportedMediaType',
				'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml');
			// Protobuf is taken (kubectl's generators send it); what is not a protobuf message, or a broken one, is a 400.
			const pb = {'Content-Type': 'application/vnd.kubernetes.protobuf'};
			assertStatus(await request('POST', pods, 'x', pb), 400, 'BadRequest', /provided data does not appear to be a protobuf message, expected prefix \[107 56 115 0\]/);
			assertStatus(await request('POST', pods, Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff, 0xff]), pb), 400, 'BadRequest');
			// runtime.Unknown{typeMeta{apiVersion "v1", kind "Nope"}}
			const unknownKind = Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0a, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x04, 0x4e, 0x6f, 0x70, 0x65]);
			assertStatus(await request('POST', pods, unknownKind, pb), 400, 'BadRequest', /no kind "Nope" is registered for version "v1"/);
			const yaml = 'apiVersion: v1\nkind: Pod\nmetadata: {name: from-yaml}\nspec:\n  containers: [{name: c, image: kubedeck/pause}]\n';
			assert.equal((await request('POST', pods, yaml, {'Content-Type': 'application/yaml; charset=utf-8'})).code, 201);
		});
	});

	describe('URLs and query parameters', () => {
		it('answers a malformed escape with 400', async () => {
			assertStatus(await request('GET', '/api/v1/namespaces/default/pods/%zz'), 400, 'BadRequest', 'invalid URL escape "%zz"');
			assertStatus(await request('GET', '/api/v1/namespaces/default/pods?labelSelector=%'), 400, 'BadRequest', 'invalid URL escape "%"');
			assertStatus(await request('GET', '/api/v1/namespaces/default/pods/%C3%28'), 400, 'BadRequest');
		});

		it('checks every parameter before a watch writes its headers', async () => {
			assertStatus(await request('GET', `${pods}?watch=true&resourceVersion=abc`), 422, 'Invalid',
				'pods "" is invalid: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax');
			assertStatus(await request('GET', `${pods}?watch=1&timeoutSeconds=soon`), 400, 'BadRequest', 'strconv.ParseInt: parsing "soon": invalid syntax');
			assertStatus(await request('GET', `${pods}?watch=true&fieldSelector=spec.foo%3Dx`), 400, 'BadRequest', 'field label not supported: spec.foo');
		});

		it('checks resourceVersionMatch and sendInitialEvents as ValidateListOptions does, and answers a list at a version it cannot serve', async () => {
			assertStatus(await request('GET', `${pods}?resourceVersionMatch=Exact`), 422, 'Invalid',
				'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
			assertStatus(await request('GET', `${pods}?resourceVersion=0&resourceVersionMatch=Exact`), 422, 'Invalid', /resourceVersionMatch "exact" is forbidden for resourceVersion "0"/);
			assertStatus(await request('GET', `${pods}?resourceVersion=1&resourceVersionMatch=Newest`), 422, 'Invalid', /resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""/);
			assertStatus(await request('GET', `${pods}?sendInitialEvents=true`), 422, 'Invalid', /sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list/);
			assertStatus(await request('GET', `${pods}?watch=true&sendInitialEvents=true`), 422, 'Invalid', /sendInitialEvents requires setting resourceVersionMatch to NotOlderThan/);
			assertStatus(await request('GET', `${pods}?watch=true&resourceVersionMatch=NotOlderThan`), 422, 'Invalid', /resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided/);
			const current = Number((await request('GET', pods)).body.metadata.resourceVersion);
			assert.equal((await request('GET', `${pods}?resourceVersion=${current}&resourceVersionMatch=Exact`)).code, 200);
			assert.equal((await request('GET', `${pods}?resourceVersion=1&resourceVersionMatch=NotOlderThan`)).code, 200);
			assertStatus(await request('GET', `${pods}?resourceVersion=1&resourceVersionMatch=Exact`), 410, 'Expired', `too old resource version: 1 (${current})`);
			const ahead = await request('GET', `${pods}?resourceVersion=${current + 1000}`);
			assertStatus(ahead, 504, 'Timeout', `Timeout: Too large resource version: ${current + 1000}, current: ${current}`);
			assert.equal(ahead.body.details.retryAfterSeconds, 1);
		});

		it('sends a watch that allows bookmarks the version it reached, through changes to other kinds, and the initial events\' end', async () => {
			const before = Number((await request('GET', pods)).body.metadata.resourceVersion);
			const watching = request('GET', `/api/v1/namespaces/default/secrets?watch=true&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion=${before}`);
			const made = await request('POST', '/api/v1/namespaces/default/configmaps', json({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'bookmarked'}}));
			const lines = (await watching).text.trim().split('\n').map(l => JSON.parse(l));
			const last = lines.at(-1);
			assert.equal(last.type, 'BOOKMARK', (await watching).text);
			assert.equal(last.object.kind, 'Secret');
			assert.ok(Number(last.object.metadata.resourceVersion) >= Number(made.body.metadata.resourceVersion), 'past the ConfigMap written meanwhile');
			const list = await request('GET', `/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1`);
			const events = list.text.trim().split('\n').map(l => JSON.parse(l));
			const end = events.findIndex(e => e.type === 'BOOKMARK' && e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true');
			assert.ok(end > 0 && events.slice(0, end).every(e => e.type === 'ADDED') && events.slice(0, end).some(e => e.object.metadata.name === 'bookmarked'), list.text);
		});

		it('keeps none of the status a client sends with a new pod (a forged podIP would steer port-forwards and Endpoints)', async () => {
			const made = await request('POST', pods, json({...pod('forged', {nodeName: 'nowhere'}), status: {phase: 'Running', podIP: '127.0.0.1', podIPs: [{ip: '127.0.0.1'}]}}));
			assert.equal(made.code, 201, made.text);
			assert.deepEqual(made.body.status, {phase: 'Pending', qosClass: 'BestEffort'});
			assert.equal((await request('DELETE', `${pods}/forged?gracePeriodSeconds=0`)).code, 200);
		});

		it('parses limit, gracePeriodSeconds, propagationPolicy and dryRun as kube-apiserver does', async () => {
			assertStatus(await request('GET', `${pods}?limit=abc`), 400, 'BadRequest', 'strconv.ParseInt: parsing "abc": invalid syntax');
			assertStatus(await request('GET', `${pods}?limit=99999999999999999999`), 400, 'BadRequest', 'strconv.ParseInt: parsing "99999999999999999999": value out of range');
			assertStatus(await request('DELETE', `${pods}/x?gracePeriodSeconds=abc`), 400, 'BadRequest', 'strconv.ParseInt: parsing "abc": invalid syntax');
			assertStatus(await request('DELETE', `${pods}/x?propagationPolicy=Sideways`), 422, 'Invalid',
				'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"');
			assertStatus(await request('POST', `${pods}?dryRun=yes`, json(pod('dry'))), 422, 'Invalid',
				'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"yes"}: supported values: "All"');
			assertStatus(await request('DELETE', `${pods}/x`, json({gracePeriodSeconds: 'soon'})), 400, 'BadRequest', 'json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64');
		});

		it('supports the field labels each kind supports, and no others', async () => {
			assertStatus(await request('GET', `${pods}?fieldSelector=spec.foo%3Dx`), 400, 'BadRequest', 'field label not supported: spec.foo');
			assert.equal((await request('GET', `${pods}?fieldSelector=status.phase!%3DRunning,spec.nodeName%3Dn`)).code, 200);
			assert.equal((await request('GET', '/api/v1/namespaces/default/secrets?fieldSelector=type%3DOpaque')).code, 200);
			assertStatus(await request('GET', '/api/v1/namespaces/default/configmaps?fieldSelector=data.x%3Dy'), 400, 'BadRequest', 'field label not supported: data.x');
			assertStatus(await request('GET', '/api/v1/nodes?fieldSelector=metadata.namespace%3Dx'), 400, 'BadRequest', 'field label not supported: metadata.namespace');
		});
	});

	describe('what does not match, and limits', () => {
		it('says which kind does not match the URL', async () => {
			const svc = {apiVersion: 'v1', kind: 'Service', metadata: {name: 's'}, spec: {ports: [{port: 80}]}};
			assertStatus(await request('POST', pods, json(svc)), 400, 'BadRequest', 'Service in version "v1" cannot be handled as a Pod: converting (v1.Service) to (core.Pod): unknown conversion');
			assertStatus(await request('POST', pods, json({...pod('x'), kind: 'Pdo'})), 400, 'BadRequest',
				'Pdo in version "v1" cannot be handled as a Pod: no kind "Pdo" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"');
			const noKind = pod('defaulted');
			delete noKind.kind;
			delete noKind.apiVersion;
			assert.equal((await request('POST', pods, json(noKind))).code, 201, 'a missing kind is the URL\'s');
		});

		it('names metadata.name when a name is too long', async () => {
			const answer = await request('POST', pods, json(pod('a'.repeat(300))));
			assertStatus(answer, 422, 'Invalid', /^Pod "a{300}" is invalid: metadata\.name: Invalid value: "a{300}": must be no more than 253 characters$/);
			assert.deepEqual(answer.body.details.causes.map((c: {field: string}) => c.field), ['metadata.name']);
			const generated = await request('POST', pods, json({...pod(''), metadata: {generateName: 'g'.repeat(300)}}));
			assertStatus(generated, 422, 'Invalid', /metadata\.generateName: Invalid value: "g{300}": must be no more than 253 characters$/);
			// A ConfigMap over 1 MiB names its data (it said "invalid: : Too long").
			const big = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'big'}, data: {a: 'x'.repeat(1024 * 1024), b: 'y'}};
			assertStatus(await request('POST', '/api/v1/namespaces/default/configmaps', json(big)), 422, 'Invalid', 'ConfigMap "big" is invalid: data: Too long: must have at most 1048576 bytes');
		});

		it('applies the annotation and object size limits', async () => {
			const annotated = {...pod('annotated'), metadata: {name: 'annotated', annotations: {big: 'x'.repeat(300 * 1024)}}};
			assertStatus(await request('POST', pods, json(annotated)), 422, 'Invalid', 'Pod "annotated" is invalid: metadata.annotations: Too long: must have at most 262144 bytes');
			const env = Array.from({length: 20_000}, (_, i) => ({name: `VARIABLE_${i}`, value: 'v'.repeat(80)}));
			const huge = pod('huge', {containers: [{name: 'c', image: 'kubedeck/pause', env}]});
			assertStatus(await request('POST', pods, json(huge)), 413, 'RequestEntityTooLarge', /limit is 1572864/);
			assertStatus(await request('GET', `${pods}/huge`), 404, 'NotFound');
		});
	});

	describe('generated mutations of valid objects', () => {
		it('answers every one with a 4xx Status, then still serves', async () => {
			const seeds: [string, Record<string, any>][] = [
				[pods, pod('m')],
				[deployments, deployment('m')],
				['/api/v1/namespaces/default/services', {apiVersion: 'v1', kind: 'Service', metadata: {name: 'm', labels: {app: 'm'}}, spec: {selector: {app: 'm'}, ports: [{name: 'http', port: 80, targetPort: 8080, protocol: 'TCP'}]}}],
				['/api/v1/namespaces/default/configmaps', {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'm', annotations: {a: 'b'}}, data: {key: 'value'}}],
			];
			const random = mulberry32(20260909);
			const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
			const replacements: (() => unknown)[] = [
				() => 'x', () => 42, () => -1, () => 1e12, () => 3.5, () => true, () => null, () => ({}), () => [], () => [1, 'a'],
				() => 'é'.repeat(1000), () => '\u0000\ud83d\ude00\u202e', () => 'x'.repeat(70_000), () => 9007199254740993, () => ({nested: {deeper: [{x: 1}]}}),
				() => JSON.parse(`${'['.repeat(600)}${']'.repeat(600)}`),
			];
			let count = 0;
			for (const [collection, seed] of seeds) {
				const paths = leafPaths(seed);
				for (let n = 0; n < 80; n++) {
					const mutated = structuredClone(seed);
					const path = pick(paths);
					setAt(mutated, path, pick(replacements)());
					mutated.metadata = typeof mutated.metadata === 'object' && mutated.metadata !== null && !Array.isArray(mutated.metadata) ? mutated.metadata : {};
					const name = `m-${count++}`;
					if (path[0] !== 'metadata' || path[1] !== 'name') (mutated.metadata as Record<string, unknown>).name = name;
					const answer = await request('POST', collection, json(mutated));
					assert.ok(answer.code < 500, `${path.join('.')} → ${answer.code}: ${answer.text.slice(0, 300)}`);
					if (answer.code >= 400) assert.equal(answer.body?.kind, 'Status', answer.text.slice(0, 300));
				}
			}
			assert.ok(count >= 300);
			assert.equal((await request('GET', '/version')).code, 200);
			assert.equal((await request('POST', pods, json(pod('still-serving')))).code, 201);
		});
	});
});

/** A small seeded PRNG, so a failing mutation reproduces. */
function mulberry32(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Every path in an object, containers included (so a whole spec or list gets replaced too). */
function leafPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
	const out: (string | number)[][] = prefix.length ? [prefix] : [];
	if (Array.isArray(value)) value.forEach((v, i) => out.push(...leafPaths(v, [...prefix, i])));
	else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) out.push(...leafPaths(v, [...prefix, k]));
	return out;
}

function setAt(target: any, path: (string | number)[], value: unknown): void {
	let cur = target;
	for (const key of path.slice(0, -1)) cur = cur[key];
	cur[path[path.length - 1]] = value;
}

describe('chunked lists (limit and continue)', () => {
	before(async () => {
		home = tempHome();
		engine = await startEngine(home);
		await request('POST', '/api/v1/namespaces', json({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'paged'}}));
		// Secrets: a namespace starts with none (its ConfigMaps include kube-root-ca.crt).
		for (const name of ['a', 'b', 'c', 'd', 'e']) await request('POST', '/api/v1/namespaces/paged/secrets', json({apiVersion: 'v1', kind: 'Secret', metadata: {name}}));
	});
	after(async () => {
		await engine.stop();
		removeHome(home);
	});

	it('pages a list, each page naming where the next starts, at the first page\'s resourceVersion', async () => {
		const path = '/api/v1/namespaces/paged/secrets';
		const first = await request('GET', `${path}?limit=2`);
		assert.equal(first.code, 200);
		assert.deepEqual(first.body.items.map((i: any) => i.metadata.name), ['a', 'b']);
		assert.equal(first.body.metadata.remainingItemCount, 3);
		assert.ok(first.body.metadata.continue);
		await request('POST', `${path}`, json({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'f'}}));
		const second = await request('GET', `${path}?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`);
		assert.deepEqual(second.body.items.map((i: any) => i.metadata.name), ['c', 'd']);
		assert.equal(second.body.metadata.resourceVersion, first.body.metadata.resourceVersion, 'a continued page carries the first page\'s resourceVersion');
		const third = await request('GET', `${path}?limit=2&continue=${encodeURIComponent(second.body.metadata.continue)}`);
		assert.deepEqual(third.body.items.map((i: any) => i.metadata.name), ['e', 'f']);
		assert.equal(third.body.metadata.continue, undefined, 'the last page has no continue');
		// Tables page the same way (kubectl get asks for Tables 500 at a time).
		const table = await request('GET', `${path}?limit=4`, undefined, {Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io'});
		assert.equal(table.body.rows.length, 4);
		assert.ok(table.body.metadata.continue);
		// A selector: no remainingItemCount, as kube-apiserver leaves it out.
		const selected = await request('GET', `${path}?limit=1&fieldSelector=metadata.name!=a`);
		assert.deepEqual(selected.body.items.map((i: any) => i.metadata.name), ['b']);
		assert.equal(selected.body.metadata.remainingItemCount, undefined);
		assertStatus(await request('GET', `${path}?limit=2&continue=not-a-token`), 400, 'BadRequest', /^continue key is not valid/);
	});
});
