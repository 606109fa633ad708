// Certificates for apps (--cert, --mtls-cert) and TLS, made with the openssl command line:
// self-signed ones, and a small CA that issues client certificates (--mtls-subject-dn).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

const exec = promisify(execFile);

/**
 * Writes NAME.key (PKCS#8 PEM, unencrypted) and NAME.crt (self-signed X.509 PEM) into dir.
 * type: 'rsa' (2048 bits) or 'ec' (P-256); san: subjectAltName value (e.g. 'IP:127.0.0.1', for
 * a TLS server certificate); subj: the whole subject in openssl's "/O=Example/CN=x" form instead of
 * /CN=cn. Resolves {keyPath, certPath, keyPem, certPem}.
 */
export async function makeCert(dir, name, { type = 'rsa', cn = name, subj = `/CN=${cn}`, days = 2, san } = {}) {
  const keyPath = path.join(dir, `${name}.key`);
  const certPath = path.join(dir, `${name}.crt`);
  const newkey = type === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  const ext = san ? ['-addext', `subjectAltName=${san}`] : [];
  await exec('openssl', ['req', '-x509', ...newkey, '-nodes', '-subj', subj, '-days', String(days),
    ...ext, '-keyout', keyPath, '-out', certPath]);
  return { keyPath, certPath, keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8') };
}

/**
 * A self-signed certificate whose validity window is given explicitly (YYYYMMDDHHMMSSZ), e.g.
 * one that expired long ago. `openssl req` of OpenSSL 3.0 only takes -days, so this goes
 * through `openssl ca -selfsign`, which takes -startdate/-enddate. Same result shape as makeCert.
 */
export async function makeCertWithDates(dir, name, { startdate, enddate }) {
  const caDir = path.join(dir, `${name}-ca`);
  await mkdir(caDir, { recursive: true });
  await writeFile(path.join(caDir, 'index.txt'), '');
  await writeFile(path.join(caDir, 'serial'), '01\n');
  const config = path.join(caDir, 'ca.cnf');
  await writeFile(config, [
    '[ca]', 'default_ca = here', '[here]', `dir = ${caDir}`, `database = ${caDir}/index.txt`,
    `new_certs_dir = ${caDir}`, `serial = ${caDir}/serial`, 'default_md = sha256', 'policy = any',
    'unique_subject = no', '[any]', 'commonName = supplied', '',
  ].join('\n'));
  const keyPath = path.join(dir, `${name}.key`);
  const csrPath = path.join(dir, `${name}.csr`);
  const certPath = path.join(dir, `${name}.crt`);
  await exec('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`,
    '-keyout', keyPath, '-out', csrPath]);
  await exec('openssl', ['ca', '-selfsign', '-batch', '-notext', '-config', config, '-keyfile', keyPath,
    '-in', csrPath, '-out', certPath, '-startdate', startdate, '-enddate', enddate]);
  return { keyPath, certPath, keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8') };
}

/** A time in the YYYYMMDDHHMMSSZ form `openssl ca -startdate/-enddate` takes, from epoch ms. */
export function certTime(ms) {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The two app certificates outside their validity period that every use of an app certificate
 * must refuse: NAME-expired (valid for one day in 2020) and NAME-early (valid from tomorrow).
 * Resolves {expired, early}, each shaped like makeCert's result.
 */
export async function makeOutOfDateCerts(dir, name) {
  const day = 24 * 3600 * 1000;
  const [expired, early] = await Promise.all([
    makeCertWithDates(dir, `${name}-expired`, { startdate: '20200101000000Z', enddate: '20200102000000Z' }),
    makeCertWithDates(dir, `${name}-early`, { startdate: certTime(Date.now() + day), enddate: certTime(Date.now() + 2 * day) }),
  ]);
  return { expired, early };
}

/**
 * A CA for client certificates (--tls-client-ca): NAME.key and NAME.crt (self-signed, with
 * basicConstraints CA:TRUE) in dir, plus the files `openssl ca` keeps. Resolves {keyPath,
 * certPath, keyPem, certPem, dir, config} for issueCert.
 */
export async function makeCa(dir, name, { cn = `${name} CA`, days = 2 } = {}) {
  const caDir = path.join(dir, `${name}-db`);
  await mkdir(caDir, { recursive: true });
  await writeFile(path.join(caDir, 'index.txt'), '');
  await writeFile(path.join(caDir, 'serial'), '1000\n');
  const keyPath = path.join(dir, `${name}.key`);
  const certPath = path.join(dir, `${name}.crt`);
  // policy "any": every subject field is accepted; -preserveDN keeps the CSR's order.
  const config = path.join(caDir, 'ca.cnf');
  await writeFile(config, [
    '[ca]', 'default_ca = here', '[here]', `dir = ${caDir}`, `database = ${caDir}/index.txt`,
    `new_certs_dir = ${caDir}`, `serial = ${caDir}/serial`, `certificate = ${certPath}`,
    `private_key = ${keyPath}`, 'default_md = sha256', 'policy = any', 'unique_subject = no',
    'copy_extensions = none', 'x509_extensions = client_cert',
    '[any]', 'commonName = supplied',
    '[client_cert]', 'basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = clientAuth', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid',
    '',
  ].join('\n'));
  await exec('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', `/CN=${cn}`, '-days', String(days), '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', keyPath, '-out', certPath]);
  return { keyPath, certPath, keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8'), dir: caDir, config };
}

/**
 * A client certificate issued by `ca` (from makeCa) for subject `subj` in openssl's
 * "/O=Example/CN=client" form (root first). Validity: `days` from now, or an explicit window
 * {startdate, enddate} (YYYYMMDDHHMMSSZ), e.g. one that expired long ago. Writes NAME.key and
 * NAME.crt; same result shape as makeCert. One CA issues one certificate at a time: `openssl ca`
 * rewrites its serial and index files.
 */
export async function issueCert(dir, name, ca, { subj = `/CN=${name}`, type = 'rsa', days = 2, startdate, enddate } = {}) {
  const keyPath = path.join(dir, `${name}.key`);
  const csrPath = path.join(dir, `${name}.csr`);
  const certPath = path.join(dir, `${name}.crt`);
  const newkey = type === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  await exec('openssl', ['req', '-new', ...newkey, '-nodes', '-subj', subj, '-keyout', keyPath, '-out', csrPath]);
  const validity = startdate ? ['-startdate', startdate, '-enddate', enddate] : ['-days', String(days)];
  await exec('openssl', ['ca', '-batch', '-notext', '-preserveDN', '-config', ca.config, '-in', csrPath,
    '-out', certPath, ...validity]);
  return { keyPath, certPath, keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8') };
}
