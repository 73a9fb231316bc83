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

/** The bytes before an entry's data; a writer that streams the data itself sends these first. */
export function entryHeader(name: string, length: number): Uint8Array {
  const nameBytes = encoder.encode(name);
  const out = new Uint8Array(2 + nameBytes.length + 8);
  const view = new DataView(out.buffer);
  view.setUint16(0, nameBytes.length);
  out.set(nameBytes, 2);
  view.setUint32(2 + nameBytes.length, Math.floor(length / 2 ** 32));
  view.setUint32(2 + nameBytes.length + 4, length >>> 0);
  return out;
}

export function packContainer(files: readonly ContainerFile[]): Uint8Array {
  const headers = files.map((file) => entryHeader(file.name, file.data.length));
  const total = files.reduce((n, file, i) => n + (headers[i]?.length ?? 0) + file.data.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  files.forEach((file, i) => {
    const header = headers[i] ?? new Uint8Array();
    out.set(header, at);
    out.set(file.data, at + header.length);
    at += header.length + file.data.length;
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
