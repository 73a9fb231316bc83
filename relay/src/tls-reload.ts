import type { Log } from './log.js';
import { loadTlsFiles, type CertificateFacts, type TlsFiles, type TlsPaths } from './tls.js';

/** Why the relay looked at its certificate files again: an operator's SIGHUP (or a call), or the periodic check. */
export type TlsReloadTrigger = 'signal' | 'interval';

/** What a reload did: served new files, found them unchanged, or kept the old ones because the new are unusable. */
export type TlsReload =
  | { readonly ok: true; readonly changed: boolean; readonly certificate: CertificateFacts }
  | { readonly ok: false; readonly code: 'TLS_FILES_UNUSABLE' | 'TLS_NOT_CONFIGURED'; readonly message: string };

/**
 * Re-reads the certificate and key, so a renewed certificate is served without a restart: new TLS handshakes get it,
 * open connections keep theirs. Files that do not belong together (a renewal caught halfway) leave the old ones served.
 */
export class TlsReloader {
  #served: TlsFiles;

  constructor(
    private readonly paths: TlsPaths & { readonly reloadIntervalMs: number },
    served: TlsFiles,
    private readonly serve: (files: TlsFiles) => void,
    private readonly log: Log,
  ) {
    this.#served = served;
  }

  /** The certificate new handshakes get. */
  get certificate(): CertificateFacts {
    return this.#served.certificate;
  }

  /** Read the files again every reloadIntervalMs (0: never); returns what stops it. */
  startRechecks(): () => void {
    if (this.paths.reloadIntervalMs === 0) return () => undefined;
    const timer = setInterval(() => this.reload('interval'), this.paths.reloadIntervalMs);
    return () => clearInterval(timer);
  }

  /** Never throws: whatever goes wrong leaves the served certificate as it was, and is logged and returned. */
  reload(trigger: TlsReloadTrigger): TlsReload {
    let files: TlsFiles;
    let changed: boolean;
    try {
      files = loadTlsFiles(this.paths);
      changed = !files.cert.equals(this.#served.cert) || !files.key.equals(this.#served.key);
      if (changed) this.serve(files);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log('tls_reload_failed', { trigger, detail: message });
      return { ok: false, code: 'TLS_FILES_UNUSABLE', message };
    }
    if (changed) this.#served = files;
    // The hourly look at unchanged files is not news; an operator's signal always gets an answer.
    if (changed || trigger === 'signal') {
      this.log('tls_reloaded', {
        trigger,
        changed,
        expiresAt: new Date(files.certificate.expiresAt).toISOString(),
        fingerprint256: files.certificate.fingerprint256,
      });
    }
    return { ok: true, changed, certificate: files.certificate };
  }
}
