// The cluster's certificate authority, as kubeadm lays one out: a CA made with
// the state directory (ca.crt, ca.key 0600), a serving certificate for the API
// signed by it, and client certificates it issues to users (CN = user, O =
// groups), which the API's TLS listener verifies. node-forge builds and signs
// the X.509 structures (a well-kept library: no hand-written ASN.1); the RSA
// keys come from node:crypto, which is much faster than forge's.
//
// The serving certificate names 127.0.0.1, localhost, the host's name, the
// `kubernetes` Service's ClusterIP and kubernetes.default.svc(.cluster.local),
// plus any `api.extraSANs` in the engine's config; it is issued again at start
// when the names change or it is within 30 days of expiry, and the engine
// checks daily while it runs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';

export const caCertPath = (home: string) => path.join(home, 'ca.crt');
const caKeyPath = (home: string) => path.join(home, 'ca.key');
const servingCertPath = (home: string) => path.join(home, 'api-tls.crt');
const servingKeyPath = (home: string) => path.join(home, 'api-tls.key');

const day = 24 * 3600 * 1000;
/** A serving certificate is made again when it has fewer days than this left. */
export const renewBefore = 30 * day;

export const userUnitPrefix = 'kubedeck-user:';

export interface KeyPair {
	cert: string;
	key: string;
}

function newKey(): {keyPem: string; publicKey: forge.pki.PublicKey} {
	const {privateKey, publicKey} = crypto.generateKeyPairSync('rsa', {modulusLength: 2048});
	return {
		keyPem: privateKey.export({type: 'pkcs1', format: 'pem'}).toString(),
		publicKey: forge.pki.publicKeyFromPem(publicKey.export({type: 'spki', format: 'pem'}).toString()),
	};
}

/**
 * A random serial, as hex forge writes as a DER INTEGER unchanged: its first digit 1-7, so the number is
 * positive and its first byte not zero (a leading 00 byte is DER's "illegal padding", which OpenSSL refuses
 * when it loads the certificate: one start in a few hundred failed so).
 */
export function serial(): string {
	const hex = crypto.randomBytes(16).toString('hex');
	return `${1 + (parseInt(hex[0], 16) % 7)}${hex.slice(1)}`;
}

interface CertSpec {
	subject: forge.pki.CertificateField[];
	lifetimeMs: number;
	ca?: boolean;
	serverAuth?: boolean;
	clientAuth?: boolean;
	names?: {ips?: string[]; dns?: string[]};
}

function build(spec: CertSpec, publicKey: forge.pki.PublicKey, issuer: {subject: forge.pki.CertificateField[]; keyPem: string}, now: number): string {
	const cert = forge.pki.createCertificate();
	cert.publicKey = publicKey;
	cert.serialNumber = serial();
	cert.validity.notBefore = new Date(now - 5 * 60_000);
	cert.validity.notAfter = new Date(now + spec.lifetimeMs);
	cert.setSubject(spec.subject);
	cert.setIssuer(issuer.subject);
	const extensions: object[] = [
		{name: 'basicConstraints', cA: !!spec.ca, critical: true},
		{name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: !spec.ca, keyCertSign: !!spec.ca, cRLSign: !!spec.ca},
	];
	if (spec.serverAuth || spec.clientAuth) extensions.push({name: 'extKeyUsage', serverAuth: !!spec.serverAuth, clientAuth: !!spec.clientAuth});
	if (spec.names) {
		extensions.push({name: 'subjectAltName', altNames: [...(spec.names.ips ?? []).map(ip => ({type: 7, ip})), ...(spec.names.dns ?? []).map(value => ({type: 2, value}))]});
	}
	if (spec.ca) extensions.push({name: 'subjectKeyIdentifier'});
	cert.setExtensions(extensions);
	cert.sign(forge.pki.privateKeyFromPem(issuer.keyPem), forge.md.sha256.create());
	return forge.pki.certificateToPem(cert);
}

/** A self-signed certificate and its key (PEM), for the given names; `ca` lets it sign (tests and the Ingress's fallback use it). */
export function selfSignedCert(commonName: string, names: {ips?: string[]; dns?: string[]}, ca = false): KeyPair {
	const {keyPem, publicKey} = newKey();
	const subject = [{name: 'commonName', value: commonName}];
	const cert = build({subject, lifetimeMs: 10 * 365 * day, ca, serverAuth: true, names}, publicKey, {subject, keyPem}, Date.now());
	return {cert, key: keyPem};
}

function readPair(certFile: string, keyFile: string): KeyPair | undefined {
	try {
		return {cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8')};
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}

/** Key first, then certificate, each written whole (a rename), so a crash never leaves a certificate without its key. */
function writePair(certFile: string, keyFile: string, pair: KeyPair): void {
	for (const [file, text] of [[keyFile, pair.key], [certFile, pair.cert]] as const) {
		const tmp = `${file}.tmp`;
		fs.writeFileSync(tmp, text, {mode: 0o600});
		fs.renameSync(tmp, file);
	}
}

export class ClusterCA {
	private constructor(readonly home: string, private readonly pair: KeyPair, private readonly forgeCert: forge.pki.Certificate) {}

	/** The state directory's CA: read, or made (ten years) the first time. */
	static ensure(home: string): ClusterCA {
		let pair = readPair(caCertPath(home), caKeyPath(home));
		if (!pair) {
			const {keyPem, publicKey} = newKey();
			const subject = [{name: 'commonName', value: 'kubedeck-ca'}];
			pair = {cert: build({subject, lifetimeMs: 10 * 365 * day, ca: true}, publicKey, {subject, keyPem}, Date.now()), key: keyPem};
			writePair(caCertPath(home), caKeyPath(home), pair);
		}
		return new ClusterCA(home, pair, forge.pki.certificateFromPem(pair.cert));
	}

	get certPem(): string {
		return this.pair.cert;
	}

	private issue(spec: CertSpec, now = Date.now()): KeyPair {
		const {keyPem, publicKey} = newKey();
		return {cert: build(spec, publicKey, {subject: this.forgeCert.subject.attributes, keyPem: this.pair.key}, now), key: keyPem};
	}

	/** The names the serving certificate must carry. */
	static servingNames(serviceIp: string | undefined, extra: string[] = []): {ips: string[]; dns: string[]} {
		const ips = ['127.0.0.1', ...(serviceIp ? [serviceIp] : [])];
		const dns = ['localhost', os.hostname(), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
		for (const name of extra) (/^[\d.]+$|:/.test(name) ? ips : dns).push(name);
		return {ips: [...new Set(ips)], dns: [...new Set(dns)]};
	}

	/**
	 * The API's serving certificate: the one on disk while it is this CA's, names
	 * what it must, and has more than 30 days left; otherwise a new one (one year).
	 */
	servingCert(names: {ips: string[]; dns: string[]}, now = Date.now()): KeyPair & {renewed: boolean} {
		const current = readPair(servingCertPath(this.home), servingKeyPath(this.home));
		if (current && this.stillGood(current.cert, names, now)) return {...current, renewed: false};
		const pair = this.issue({subject: [{name: 'commonName', value: 'kube-apiserver'}], lifetimeMs: 365 * day, serverAuth: true, names}, now);
		writePair(servingCertPath(this.home), servingKeyPath(this.home), pair);
		return {...pair, renewed: true};
	}

	private stillGood(pem: string, names: {ips: string[]; dns: string[]}, now: number): boolean {
		let cert: forge.pki.Certificate;
		try {
			cert = forge.pki.certificateFromPem(pem);
		} catch {
			return false;
		}
		if (!this.verifies(cert) || cert.validity.notAfter.getTime() - now < renewBefore) return false;
		const alt = cert.getExtension('subjectAltName') as {altNames?: {type: number; ip?: string; value?: string}[]} | undefined;
		const have = new Set((alt?.altNames ?? []).map(n => (n.type === 7 ? n.ip : n.value)));
		return [...names.ips, ...names.dns].every(n => have.has(n));
	}

	private verifies(cert: forge.pki.Certificate): boolean {
		try {
			return this.forgeCert.verify(cert);
		} catch {
			return false;
		}
	}

	/**
	 * A client certificate for a user (CN) and their groups (O), as kubeadm issues them; one year. The OU
	 * names the user record it was issued for (Kubernetes reads no OU), so a user removed and added again
	 * does not inherit the old one's certificates.
	 */
	clientCert(user: string, groups: string[], recordUid?: string, now = Date.now()): KeyPair {
		const subject: forge.pki.CertificateField[] = [
			...groups.map(g => ({name: 'organizationName', value: g})),
			...(recordUid ? [{name: 'organizationalUnitName', value: `${userUnitPrefix}${recordUid}`}] : []),
			{name: 'commonName', value: user},
		];
		return this.issue({subject, lifetimeMs: 365 * day, clientAuth: true}, now);
	}
}
