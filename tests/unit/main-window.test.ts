import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Session, WebContents } from 'electron';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTENT_SECURITY_POLICY, handleAppRequest, resolveAppPath, serveRenderer } from '../../app/main/protocol.js';
import { denyAllPermissions, hardenWebContents, isWebUrl } from '../../app/main/security.js';
import { mainWindowOptions } from '../../app/main/window.js';

// The Electron binary is not available in tests; these modules must not need it at runtime.
vi.mock('electron', () => ({}));

describe('mainWindowOptions', () => {
  const options = mainWindowOptions('/app/dist/preload/preload.cjs');
  const prefs = options.webPreferences;

  it('isolates and sandboxes the renderer with no Node access', () => {
    expect(prefs?.preload).toBe('/app/dist/preload/preload.cjs');
    expect(prefs?.contextIsolation).toBe(true);
    expect(prefs?.sandbox).toBe(true);
    expect(prefs?.nodeIntegration).toBe(false);
    expect(prefs?.nodeIntegrationInWorker).toBe(false);
    expect(prefs?.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and embedding off', () => {
    expect(prefs?.webSecurity).toBe(true);
    expect(prefs?.allowRunningInsecureContent).toBe(false);
    expect(prefs?.webviewTag).toBe(false);
    expect(prefs?.spellcheck).toBe(false);
  });

  it('stays hidden until ready-to-show and has a usable minimum size', () => {
    expect(options.show).toBe(false);
    expect(options.title).toBe('Parley');
    expect(options.minWidth).toBeLessThanOrEqual(options.width ?? 0);
    expect(options.minHeight).toBeLessThanOrEqual(options.height ?? 0);
    expect(options.backgroundColor).toMatch(/^#[0-9a-f]{6}$/i);
  });
});

describe('app:// protocol', () => {
  let root: string;
  let outside: string;

  beforeAll(async () => {
    outside = await mkdtemp(join(tmpdir(), 'parley-protocol-'));
    root = join(outside, 'renderer');
    await mkdir(join(root, 'assets'), { recursive: true });
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Parley</title>');
    await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(outside, 'secret.txt'), 'canary-outside-root');
  });

  afterAll(async () => {
    await rm(outside, { recursive: true, force: true });
  });

  const get = (url: string): Promise<Response> => handleAppRequest(root, new Request(url));

  it('serves files with their content type and the strict CSP', async () => {
    const page = await get('app://parley/index.html');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await page.text()).toContain('<title>Parley</title>');

    const script = await get('app://parley/assets/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('sends exactly the CSP directives Parley relies on', () => {
    const directives = CONTENT_SECURITY_POLICY.split(';').map((part) => part.trim());
    expect(directives).toEqual([
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ]);
  });

  it('puts the CSP on error responses too', async () => {
    const missing = await get('app://parley/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('refuses paths that leave the renderer folder', async () => {
    for (const url of [
      'app://parley/..%2fsecret.txt',
      'app://parley/%2e%2e%2fsecret.txt',
      'app://parley/assets/..%2f..%2fsecret.txt',
      'app://parley/..%5csecret.txt',
      'app://parley/index.html%00.js',
      'app://parley/%E0%A4%A',
    ]) {
      const response = await get(url);
      expect(response.status, url).toBeGreaterThanOrEqual(400);
      expect(await response.text(), url).not.toContain('canary-outside-root');
    }
    expect(resolveAppPath(root, '/..%2fsecret.txt')).toBeNull();
    expect(resolveAppPath(root, '/assets/app.js')).toBe(join(root, 'assets', 'app.js'));
  });

  it('answers only its own host and only reads', async () => {
    expect((await get('app://elsewhere/index.html')).status).toBe(404);
    const post = await handleAppRequest(root, new Request('app://parley/index.html', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
  });

  it('registers its handler on the app scheme', async () => {
    const handlers = new Map<string, (request: Request) => Response | Promise<Response>>();
    serveRenderer({ handle: (scheme, handler) => void handlers.set(scheme, handler) }, root);
    const handler = handlers.get('app');
    expect(handler).toBeDefined();
    const response = await handler?.(new Request('app://parley/'));
    expect(response?.status).toBe(200);
  });
});

/** A stand-in for WebContents: an emitter plus the window-open hook. */
function fakeWebContents(): { contents: WebContents; emitter: EventEmitter; openHandler: () => ((details: { url: string }) => unknown) | undefined } {
  const emitter = new EventEmitter();
  let handler: ((details: { url: string }) => unknown) | undefined;
  const contents = Object.assign(emitter, {
    setWindowOpenHandler: (next: (details: { url: string }) => unknown) => {
      handler = next;
    },
  });
  return { contents: contents as unknown as WebContents, emitter, openHandler: () => handler };
}

function preventable(): { event: { preventDefault: () => void }; prevented: () => boolean } {
  let prevented = false;
  return { event: { preventDefault: () => void (prevented = true) }, prevented: () => prevented };
}

describe('web contents hardening', () => {
  it('denies every navigation, redirect and webview', () => {
    const { contents, emitter } = fakeWebContents();
    hardenWebContents(contents, async () => undefined);
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      const { event, prevented } = preventable();
      emitter.emit(name, event, 'https://example.org/');
      expect(prevented(), name).toBe(true);
    }
  });

  it('denies new windows and opens only web links outside', () => {
    const { contents, openHandler } = fakeWebContents();
    const opened: string[] = [];
    hardenWebContents(contents, async (url) => void opened.push(url));
    const handler = openHandler();
    expect(handler).toBeDefined();
    for (const url of ['https://example.org/a', 'http://example.org/b', 'file:///etc/passwd', 'javascript:alert(1)', 'app://parley/x', 'smb://host/share']) {
      expect(handler?.({ url })).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual(['https://example.org/a', 'http://example.org/b']);
    expect(isWebUrl('not a url')).toBe(false);
  });

  it('refuses every permission request and check', () => {
    let request: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
    let check: (() => boolean) | undefined;
    let device: (() => boolean) | undefined;
    const session = {
      setPermissionRequestHandler: (next: typeof request) => void (request = next),
      setPermissionCheckHandler: (next: typeof check) => void (check = next),
      setDevicePermissionHandler: (next: typeof device) => void (device = next),
    };
    denyAllPermissions(session as unknown as Session);
    const answers: boolean[] = [];
    for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal']) {
      request?.({}, permission, (granted) => answers.push(granted));
    }
    expect(answers).toEqual([false, false, false, false, false]);
    expect(check?.()).toBe(false);
    expect(device?.()).toBe(false);
  });
});
