/**
 * The plaintext inside a backup: a flat list of named files, each as
 * u16 name length | name (UTF-8) | u32 high | u32 low data length | data. Big-endian.
 */
export interface ContainerFile {
  name: string;
  data: Uint8Array;
}

export class ContainerError extends Error {
  override readonly name = 'ContainerError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function packContainer(files: readonly ContainerFile[]): Uint8Array {
  const names = files.map((file) => encoder.encode(file.name));
  const total = files.reduce((n, file, i) => n + 2 + (names[i]?.length ?? 0) + 8 + file.data.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  files.forEach((file, i) => {
    const name = names[i] ?? new Uint8Array();
    view.setUint16(at, name.length);
    out.set(name, at + 2);
    at += 2 + name.length;
    view.setUint32(at, Math.floor(file.data.length / 2 ** 32));
    view.setUint32(at + 4, file.data.length >>> 0);
    out.set(file.data, at + 8);
    at += 8 + file.data.length;
  });
  return out;
}

export function unpackContainer(bytes: Uint8Array): ContainerFile[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const files: ContainerFile[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new ContainerError('truncated name length');
    const nameLength = view.getUint16(at);
    if (at + 2 + nameLength + 8 > bytes.length) throw new ContainerError('truncated entry');
    const name = decoder.decode(bytes.subarray(at + 2, at + 2 + nameLength));
    at += 2 + nameLength;
    const length = view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4);
    at += 8;
    if (at + length > bytes.length) throw new ContainerError('truncated data');
    files.push({ name, data: bytes.subarray(at, at + length) });
    at += length;
  }
  return files;
}
