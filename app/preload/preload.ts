import { contextBridge, ipcRenderer } from 'electron';
import { createParleyBridge } from './bridge.js';

const { invoke, on } = createParleyBridge(ipcRenderer);

// Plain functions only: the page gets window.parley and nothing else from Electron.
contextBridge.exposeInMainWorld('parley', { invoke, on });
