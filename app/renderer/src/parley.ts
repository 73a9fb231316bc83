import type { ParleyApi } from '../../shared/index.js';
import { createBridgeApi, type BridgeApi } from './bridge.js';
import { takeBridgeToken } from './bridgeToken.js';

declare global {
  interface Window {
    /** Injected by the Electron preload; absent when the devhost serves the UI to a browser. */
    parley?: ParleyApi;
  }
}

let api: ParleyApi | undefined;

function bridgeUrl(token: string): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/bridge?token=${encodeURIComponent(token)}`;
}

/** The host's window.parley if one was injected, else the devhost bridge. */
export function getParley(): ParleyApi {
  if (api) return api;
  api = window.parley ?? createBridgeApi(bridgeUrl(takeBridgeToken() ?? ''));
  return api;
}

/** True when no usable bridge token exists (the page was opened without the printed address). */
export function isMissingBridgeToken(): boolean {
  return window.parley === undefined && takeBridgeToken() === null;
}

export function isBridgeApi(value: ParleyApi): value is BridgeApi {
  return 'onReconnect' in value && typeof value.onReconnect === 'function';
}
