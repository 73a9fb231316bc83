import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../relay/protocol/close-codes.js';
import { WIRE_ERROR_CODES } from '../../relay/protocol/errors.js';
import { HTTP_ERROR_CODES } from '../../relay/protocol/http-errors.js';
import { CLIENT_FRAMES, FRAME_SCHEMA, SERVER_FRAMES, type FieldKind, type FrameName } from '../../relay/protocol/schema.js';

// docs/PROTOCOL.md says a client can be written from it alone: its table of frames must say what the schema says.

interface DocumentedFrame {
  readonly type: number;
  readonly direction: string;
  /** Each field as `name kind`, in wire order. */
  readonly fields: readonly string[];
}

const PROTOCOL_MD = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');

/** The fields cell split at its top-level commas, each without what it says in parentheses. */
function fieldsOf(cell: string): string[] {
  if (cell === '(none)') return [];
  const fields: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of cell) {
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === ',' && depth === 0) {
      fields.push(current);
      current = '';
      continue;
    }
    if (depth === 0 && char !== ')') current += char;
  }
  fields.push(current);
  return fields.map((field) => field.trim().replace(/\s+/g, ' '));
}

/** The table under "## Frames", by frame name; "the fields of REGISTER, then ..." spelled out. */
function documentedFrames(): Map<string, DocumentedFrame> {
  const section = PROTOCOL_MD.slice(PROTOCOL_MD.indexOf('\n## Frames\n'));
  const frames = new Map<string, DocumentedFrame>();
  for (const [, type, name, direction, cell] of section.matchAll(/^\| (0x[0-9a-f]{2}) \| ([A-Z_]+) +\| ([a-z]+ -> [a-z]+) \| (.*) \|$/gm)) {
    if (type === undefined || name === undefined || direction === undefined || cell === undefined) continue;
    frames.set(name, { type: Number(type), direction, fields: fieldsOf(cell) });
  }
  const register = frames.get('REGISTER')?.fields ?? [];
  for (const [name, frame] of frames) {
    const extended = /^the fields of REGISTER, then (.+)$/.exec(frame.fields.join(', '));
    if (extended?.[1] !== undefined) frames.set(name, { ...frame, fields: [...register, extended[1]] });
  }
  return frames;
}

/** The text of a `## ` section, up to the next one. */
function section(heading: string): string {
  const start = PROTOCOL_MD.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`PROTOCOL.md has no section ${heading}`);
  const end = PROTOCOL_MD.indexOf('\n## ', start + 1);
  return PROTOCOL_MD.slice(start, end < 0 ? undefined : end);
}

function kindName(kind: FieldKind): string {
  return typeof kind === 'string' ? kind : `fixed:${kind.fixed}`;
}

describe('docs/PROTOCOL.md', () => {
  const documented = documentedFrames();

  it('lists every frame of the schema with its type code and direction, and no other', () => {
    const names = Object.keys(FRAME_SCHEMA) as FrameName[];
    expect([...documented.keys()].sort()).toEqual([...names].sort());
    for (const name of names) {
      const sentBy = [(CLIENT_FRAMES as readonly string[]).includes(name) && 'client -> server', (SERVER_FRAMES as readonly string[]).includes(name) && 'server -> client'].filter(Boolean);
      expect(sentBy, `${name} is sent by one side`).toHaveLength(1);
      const direction = sentBy[0];
      expect(documented.get(name), name).toMatchObject({ type: FRAME_SCHEMA[name].type, direction });
    }
  });

  it("gives each frame's fields in wire order, each with its encoding", () => {
    for (const [name, { fields }] of Object.entries(FRAME_SCHEMA)) {
      const expected = Object.entries(fields as Record<string, FieldKind>).map(([field, kind]) => `${field} ${kindName(kind)}`);
      expect(documented.get(name)?.fields, name).toEqual(expected);
    }
  });

  it('names every error code an ERROR frame may carry, and every one the HTTP API may answer, and no other', () => {
    const [wire = '', http = ''] = section('Error codes').split('\n### HTTP\n');
    const codesIn = (text: string): string[] => [...new Set([...text.matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1] ?? ''))].sort();
    expect(codesIn(wire)).toEqual([...WIRE_ERROR_CODES].sort());
    expect(codesIn(http)).toEqual([...HTTP_ERROR_CODES].sort());
  });

  it('gives the meaning of every close code the relay sends (and 1009, which ws sends for it)', () => {
    const documentedCodes = [...section('Close codes').matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1]));
    // 1009: ws closes a socket whose frame is over maxPayload (maxFrameBytes) before the relay sees it.
    expect(documentedCodes.sort()).toEqual([...Object.values(CloseCode), 1009].sort());
  });

  it('reads the table as meant: nested parentheses, no fields, and a frame built on REGISTER', () => {
    expect(fieldsOf('prekeys bytes (n x: keyId u32, lastResort u8 (0/1), publicKey fixed:1184)')).toEqual(['prekeys bytes']);
    expect(fieldsOf('(none)')).toEqual([]);
    expect(fieldsOf('to string, ttlMs u32 (0: none)')).toEqual(['to string', 'ttlMs u32']);
    expect(documented.get('REGISTER_LOCKED')?.fields.at(-1)).toBe('code string');
  });
});
