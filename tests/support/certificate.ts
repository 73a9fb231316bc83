import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface Certificate {
  readonly certPath: string;
  readonly keyPath: string;
}

/**
 * A throwaway self-signed P-256 certificate and its key, made by Debian's openssl, as NAME.crt and NAME.key in `dir`.
 * `subjectAltName` names who it is for (`IP:127.0.0.1`, `DNS:chat.example.org`); none leaves it out.
 */
export function selfSignedCertificate(dir: string, name: string, options: { days?: number; subjectAltName?: string } = {}): Certificate {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const altName = options.subjectAltName === undefined ? [] : ['-addext', `subjectAltName=${options.subjectAltName}`];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', String(options.days ?? 1), '-subj', `/CN=${name}`, ...altName], { stdio: 'ignore' });
  return { certPath, keyPath };
}
