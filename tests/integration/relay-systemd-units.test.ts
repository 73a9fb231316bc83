import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../support/cleanups.js';
import { relayDocBlock } from '../support/relay-docs.js';

const cleanups = useCleanups();
/** systemd's own check of unit files, as `systemctl` would load them: unknown keys, bad specifiers, commands that are not there. */
async function verify(units: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  const dir = await cleanups.tempDir('parley-units-');
  const paths = await Promise.all(
    Object.entries(units).map(async ([name, text]) => {
      // Node where this machine has it; everything else as written.
      await writeFile(join(dir, name), text.replaceAll('/usr/bin/node ', `${process.execPath} `));
      return join(dir, name);
    }),
  );
  const result = spawnSync('systemd-analyze', ['verify', ...paths], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe("RELAY.md's systemd units", () => {
  it('the relay service passes systemd-analyze verify without a warning', async () => {
    const unit = relayDocBlock('`/etc/systemd/system/parley-relay.service`:');
    expect(unit).toContain('LimitNOFILE=65536');
    expect(await verify({ 'parley-relay.service': unit })).toEqual({ status: 0, stderr: '' });
  });

  it('the nightly backup service and its timer pass too (their %% and $$ escapes included)', async () => {
    const [service, timer] = relayDocBlock('`/etc/systemd/system/parley-relay-backup.service`').split('# parley-relay-backup.timer');
    expect(timer).toContain('OnCalendar=');
    expect(await verify({ 'parley-relay-backup.service': service ?? '', 'parley-relay-backup.timer': timer ?? '' })).toEqual({ status: 0, stderr: '' });
  });

  it('would name a mistake: an unknown key, an unescaped %, a calendar that is not one', async () => {
    const unit = relayDocBlock('`/etc/systemd/system/parley-relay.service`:');
    expect((await verify({ 'a.service': unit.replace('LimitNOFILE=', 'LimitNOFILES=') })).stderr).toContain("Unknown key 'LimitNOFILES'");
    const [service, timer] = relayDocBlock('`/etc/systemd/system/parley-relay-backup.service`').split('# parley-relay-backup.timer');
    expect((await verify({ 'b.service': (service ?? '').replace('%%F', '%F') })).status).not.toBe(0);
    expect((await verify({ 'c.service': service ?? '', 'c.timer': (timer ?? '').replace('03:30', '25:30') })).status).not.toBe(0);
  });
});
