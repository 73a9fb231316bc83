import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** Where the relay reads its certificate chain and key, at start and at every reload. */
export interface TlsPaths {
  readonly certPath: string;
  readonly keyPath: string;
}

/** What an operator checks of the certificate served: public facts, never the key. */
export interface CertificateFacts {
  /** notAfter of the chain's first (leaf) certificate, in ms since the epoch. */
  readonly expiresAt: number;
  /** SHA-256 of the leaf certificate, colon-separated hex as openssl prints it. */
  readonly fingerprint256: string;
}

/** What a TLS server needs, read from the relay's cert and key paths. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly certificate: CertificateFacts;
}

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new RangeError(`${option} ${path} cannot be read (${reason})`);
  }
}

function certificateFacts(cert: Buffer): CertificateFacts {
  const leaf = new X509Certificate(cert);
  return { expiresAt: Date.parse(leaf.validTo), fingerprint256: leaf.fingerprint256 };
}

/**
 * The certificate chain and key, checked to be PEM that belong together before the relay listens: a wrong file is
 * a clear start-up error naming the option, not an OpenSSL code or a server that fails every handshake. Throws RangeError.
 */
export function loadTlsFiles(paths: TlsPaths): TlsFiles {
  const cert = readPem(paths.certPath, 'tlsCertPath');
  const key = readPem(paths.keyPath, 'tlsKeyPath');
  try {
    createSecureContext({ cert, key });
    return { cert, key, certificate: certificateFacts(cert) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RangeError(`tlsCertPath ${paths.certPath} and tlsKeyPath ${paths.keyPath} are not a PEM certificate chain and its private key (${reason})`);
  }
}
