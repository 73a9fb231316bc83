import type { Db } from './db.js';

/** Small preferences of the profile, inside the encrypted database. */
export class SettingsRepository {
  constructor(private readonly db: Db) {}

  getNumber(key: string, fallback: number): number {
    const row = this.db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(key);
    const value = row === undefined ? Number.NaN : Number(row.value);
    return Number.isFinite(value) ? value : fallback;
  }

  setNumber(key: string, value: number): void {
    this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, String(value));
  }
}
