// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** DESIGN.md section 1: which room may import which. Each entry lists the patterns a room may NOT import. */
const NODE_BUILTINS = ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'worker_threads'];
const room = (files, group, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'release/', '.tsbuild/', 'test-results/', 'playwright-report/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['tests/**', '**/*.config.ts'],
    languageOptions: { parserOptions: { projectService: true } },
    rules: { '@typescript-eslint/switch-exhaustiveness-check': 'error' },
  },
  room(['app/shared/**'], ['**/core/**', '**/main/**', '**/preload/**', '**/renderer/**', '**/devhost/**', '**/cli/**', '**/relay/src/**', 'electron', ...NODE_BUILTINS], 'app/shared is pure: it imports only app/shared and relay/protocol.'),
  room(['relay/protocol/**'], ['**/app/**', '**/relay/src/**', 'electron', ...NODE_BUILTINS], 'relay/protocol is pure: it imports nothing outside itself.'),
  room(['app/core/**'], ['**/main/**', '**/preload/**', '**/renderer/**', '**/devhost/**', '**/cli/**', '**/relay/src/**', 'electron', 'react', 'react-dom'], 'app/core imports only app/shared, app/core and relay/protocol; Electron is reached through injected ports.'),
  room(['app/main/**'], ['**/preload/**', '**/renderer/**', '**/devhost/**', '**/cli/**', '**/relay/src/**'], 'app/main imports app/shared, app/core and relay/protocol.'),
  room(['app/preload/**'], ['**/core/**', '**/main/**', '**/renderer/**', '**/devhost/**', '**/cli/**', '**/relay/**', ...NODE_BUILTINS], 'app/preload imports only app/shared and electron.'),
  room(['app/renderer/**'], ['**/core/**', '**/main/**', '**/preload/**', '**/devhost/**', '**/cli/**', '**/relay/**', 'electron', ...NODE_BUILTINS], 'The renderer talks to the world only through window.parley.'),
  room(['app/devhost/**', 'app/cli/**'], ['**/main/**', '**/preload/**', '**/renderer/**', '**/relay/src/**', 'electron'], 'Hosts import app/shared, app/core and relay/protocol.'),
  room(['relay/src/**'], ['**/app/**', 'electron'], 'The relay imports only relay/protocol and relay/src.'),
  { files: ['app/renderer/**'], languageOptions: { globals: { ...globals.browser } } },
);
