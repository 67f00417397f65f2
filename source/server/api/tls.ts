// The TCP listener's TLS certificate. client-go (so kubectl) sends a bearer
// token only over TLS (tools/clientcmd sets it for TLS connections alone), so
// the token check needs TLS: a self-signed certificate for 127.0.0.1 and
// localhost, made once with node-forge (RSA key from node:crypto) and kept in
// the state directory (key 0600), and given to clients as the kubeconfig's
// certificate-authority-data. Issue 13 replaces it with the cluster CA.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export const certPath = (home: string) => path.join(home, 'api-tls.crt');
export const keyPath = (home: string) => path.join(home, 'api-tls.key');

export function ensureServingCert(home: string): {cert: string; key: string} {
	try {
		return {cert: fs.readFileSync(certPath(home), 'utf8'), key: fs.readFileSync(keyPath(home), 'utf8')};
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}
	const {cert: certPem, key: keyPem} = selfSignedCert('kubedeck', {ips: ['127.0.0.1'], dns: ['localhost']}, true);
	fs.writeFileSync(keyPath(home), keyPem, {mode: 0o600});
	fs.writeFileSync(certPath(home), certPem, {mode: 0o600});
	return {cert: certPem, key: keyPem};
}

export function readServingCert(home: string): string | undefined {
	try {
		return fs.readFileSync(certPath(home), 'utf8');
	} catch {
		return undefined;
	}
}

/** A self-signed certificate and its key (PEM), for the given names; `ca` lets it sign (the API's doubles as its CA). */
export function selfSignedCert(commonName: string, names: {ips?: string[]; dns?: string[]}, ca = false): {cert: string; key: string} {
	const {privateKey, publicKey} = crypto.generateKeyPairSync('rsa', {modulusLength: 2048});
	const keyPem = privateKey.export({type: 'pkcs1', format: 'pem'}).toString();
	const cert = forge.pki.createCertificate();
	cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({type: 'spki', format: 'pem'}).toString());
	cert.serialNumber = crypto.randomBytes(8).toString('hex').replace(/^[89a-f]/, '1');
	cert.validity.notBefore = new Date(Date.now() - 60_000);
	cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
	const subject = [{name: 'commonName', value: commonName}];
	cert.setSubject(subject);
	cert.setIssuer(subject);
	cert.setExtensions([
		{name: 'basicConstraints', cA: ca},
		{name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: ca},
		{name: 'extKeyUsage', serverAuth: true},
		{name: 'subjectAltName', altNames: [...(names.ips ?? []).map(ip => ({type: 7, ip})), ...(names.dns ?? []).map(value => ({type: 2, value}))]},
	]);
	cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
	return {cert: forge.pki.certificateToPem(cert), key: keyPem};
}
