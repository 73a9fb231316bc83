// prom-client's default metrics, one module each (its package has no exports map, so they resolve by path).
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';
  const register: (registry: Registry, config?: { prefix?: string; labels?: Record<string, string> }) => void;
  export default register;
}
