// Test PKI made with the openssl CLI: a CA, a server certificate (DNS SANs) and a client certificate with a SPIFFE
// URI SAN, written to a temporary directory (EC P-256 keys: fast to generate).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Paths of the same files. */
  paths: { caCert: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
  cleanup(): void;
}

function ssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestPki(opts: { serverNames?: string[]; clientUri?: string } = {}): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-pki-'));
  const names = opts.serverNames ?? ['localhost', 'api.example.com'];
  const uri = opts.clientUri ?? 'spiffe://cluster.local/ns/default/sa/client';
  ssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  ssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=test-ca', '-days', '2', '-out', 'ca.pem'], dir);
  const leaf = (name: string, cn: string, san: string): void => {
    ssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
    ssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
  };
  leaf('server', names[0] ?? 'localhost', names.map((n) => `DNS:${n}`).join(','));
  leaf('client', 'client', `URI:${uri}`);
  const p = (f: string): string => join(dir, f);
  const paths = { caCert: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
  const r = (f: string): string => readFileSync(f, 'utf8');
  return {
    dir,
    caCert: r(paths.caCert),
    serverCert: r(paths.serverCert),
    serverKey: r(paths.serverKey),
    clientCert: r(paths.clientCert),
    clientKey: r(paths.clientKey),
    paths,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
