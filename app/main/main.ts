import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, powerMonitor, protocol, safeStorage, session, shell, type WebContents } from 'electron';
import type { Core } from '../core/index.js';
import { openCoreInWorker } from '../core/worker/open-core-in-worker.js';
import { withBackupDialogs } from './backup-dialogs.js';
import { forwardEvents, mainFrameOf, registerIpcHandlers } from './ipc.js';
import { safeStorageKeychain } from './keychain.js';
import { lockOnSystemEvents } from './power-lock.js';
import { APP_INDEX_URL, APP_SCHEME_PRIVILEGES, serveRenderer } from './protocol.js';
import { denyAllPermissions, hardenWebContents } from './security.js';
import { mainWindowOptions } from './window.js';

// This file is bundled to dist/main/main.cjs, so __dirname is dist/main.
const RENDERER_DIR = join(__dirname, '..', 'renderer');
const PRELOAD_PATH = join(__dirname, '..', 'preload', 'preload.cjs');
const CORE_WORKER_PATH = join(__dirname, 'core-worker.cjs');

let core: Core | null = null;
let mainWindow: BrowserWindow | null = null;
let closingCore = false;

function currentContents(): WebContents | null {
  return mainWindow === null || mainWindow.isDestroyed() ? null : mainWindow.webContents;
}

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow(mainWindowOptions(PRELOAD_PATH));
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  window.loadURL(APP_INDEX_URL).catch(() => undefined);
  return window;
}

function focusMainWindow(): void {
  if (mainWindow === null) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

async function start(): Promise<void> {
  // The core, and with it every key and the database, lives in this process only, in a worker thread
  // so SQL and key derivation never hold up IPC or window handling; the keychain stays on this thread.
  core = await openCoreInWorker({
    profileDir: join(app.getPath('userData'), 'profile'),
    defaultRelayUrl: process.env.PARLEY_RELAY_URL,
    keychain: safeStorageKeychain(safeStorage),
    workerEntry: CORE_WORKER_PATH,
    onExit: () => fatal(new Error('The messaging engine stopped unexpectedly; your messages are safe on disk.')),
  });
  const opened = core;
  lockOnSystemEvents(powerMonitor, () => void opened.lock('system').catch(() => undefined));
  denyAllPermissions(session.defaultSession);
  serveRenderer(protocol, RENDERER_DIR);
  const api = withBackupDialogs(core, { dialog, window: () => mainWindow, defaultFolder: app.getPath('documents') });
  registerIpcHandlers(ipcMain, api, mainFrameOf(currentContents));
  forwardEvents(core, currentContents);
  mainWindow = createMainWindow();
}

function fatal(error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  dialog.showErrorBox('Parley could not start', detail);
  app.exit(1);
}

// Both must happen before 'ready': the scheme's privileges and the sandbox for every renderer.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  // Two processes on one encrypted profile would fight over the database.
  app.quit();
} else {
  app.on('second-instance', focusMainWindow);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, (url) => shell.openExternal(url)));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (mainWindow === null && core !== null) mainWindow = createMainWindow();
  });
  app.on('will-quit', (event) => {
    if (core === null || closingCore) return;
    // Hold the quit until the core has flushed and closed the database.
    event.preventDefault();
    closingCore = true;
    const closing = core;
    closing
      .close()
      .catch(() => undefined)
      .finally(() => {
        core = null;
        app.quit();
      });
  });
  app.whenReady().then(start).catch(fatal);
}
