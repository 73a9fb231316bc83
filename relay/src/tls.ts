import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** What a TLS server needs, read from the relay's cert and key paths. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new RangeError(`${option} ${path} cannot be read (${reason})`);
  }
}

/**
 * The certificate chain and key, checked to be PEM that belong together before the relay listens: a wrong file is
 * a clear start-up error naming the option, not an OpenSSL code or a server that fails every handshake. Throws RangeError.
 */
export function loadTlsFiles(paths: { readonly certPath: string; readonly keyPath: string }): TlsFiles {
  const files = { cert: readPem(paths.certPath, 'tlsCertPath'), key: readPem(paths.keyPath, 'tlsKeyPath') };
  try {
    createSecureContext(files);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RangeError(`tlsCertPath ${paths.certPath} and tlsKeyPath ${paths.keyPath} are not a PEM certificate chain and its private key (${reason})`);
  }
  return files;
}
