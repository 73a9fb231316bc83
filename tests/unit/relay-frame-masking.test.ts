import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// ws looks for bufferutil beside itself and, without it, unmasks every client frame a byte at a time in JavaScript.
const requireFromWs = createRequire(createRequire(import.meta.url).resolve('ws'));

interface MaskingModule {
  mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, mask: Buffer): void;
}

function xorMask(data: Uint8Array, mask: Uint8Array): Buffer {
  return Buffer.from(data.map((byte, i) => byte ^ (mask[i & 3] ?? 0)));
}

describe('frame masking', () => {
  const native = requireFromWs('bufferutil') as MaskingModule;
  const fallback = requireFromWs('bufferutil/fallback') as MaskingModule;

  it("is ws's native addon in this install, not the JavaScript fallback", () => {
    expect(native.unmask).not.toBe(fallback.unmask);
    expect(native.unmask.toString()).toContain('[native code]');
  });

  it('unmasks and masks what RFC 6455 says, at every length and alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_100 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(8), (data, mask, offset) => {
        const expected = xorMask(data, mask);
        const unmasked = Buffer.from(data);
        native.unmask(unmasked, Buffer.from(mask));
        expect(unmasked.equals(expected)).toBe(true);
        const output = Buffer.alloc(offset + data.length);
        native.mask(Buffer.from(data), Buffer.from(mask), output, offset, data.length);
        expect(output.subarray(offset).equals(expected)).toBe(true);
      }),
    );
  });
});
