import type { Session, WebContents } from 'electron';

/** Only web links go to the OS browser; file:, javascript:, custom schemes and the like never leave the app. */
export function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/** The renderer never navigates, never opens windows and never embeds webviews; web links open outside. */
export function hardenWebContents(contents: WebContents, openExternal: (url: string) => Promise<void>): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isWebUrl(url)) {
      openExternal(url).catch(() => undefined);
    }
    return { action: 'deny' };
  });
}

/** Camera, microphone, notifications-by-prompt, USB and every other permission are refused. */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
