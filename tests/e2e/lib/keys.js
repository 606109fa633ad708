// Self-signed certificates for apps (--cert, --mtls-cert), made with the openssl command line.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const exec = promisify(execFile);

/**
 * Writes NAME.key (PKCS#8 PEM, unencrypted) and NAME.crt (self-signed X.509 PEM) into dir.
 * type: 'rsa' (2048 bits) or 'ec' (P-256). Resolves {keyPath, certPath, keyPem, certPem}.
 */
export async function makeCert(dir, name, { type = 'rsa', cn = name, days = 2 } = {}) {
  const keyPath = path.join(dir, `${name}.key`);
  const certPath = path.join(dir, `${name}.crt`);
  const newkey = type === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  await exec('openssl', ['req', '-x509', ...newkey, '-nodes', '-subj', `/CN=${cn}`, '-days', String(days),
    '-keyout', keyPath, '-out', certPath]);
  return { keyPath, certPath, keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8') };
}
