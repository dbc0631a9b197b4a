/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) for the event log's record frames: table-driven,
 * eight bytes per step ("slicing by 8") so that checking frames keeps up with replay.
 */

const TABLES: Int32Array = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let s = 1; s < 8; s++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[s * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * The CRC-32 of `bytes[start, end)`, as an unsigned 32-bit integer.
 *
 * @example
 * crc32(Buffer.from('123456789')); // 0xcbf43926
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLES;
  let c = -1;
  let i = start;
  const last8 = end - 8;
  while (i <= last8) {
    const a = c ^ ((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24));
    c = (t[1792 + (a & 0xff)] as number) ^ (t[1536 + ((a >>> 8) & 0xff)] as number)
      ^ (t[1280 + ((a >>> 16) & 0xff)] as number) ^ (t[1024 + (a >>> 24)] as number)
      ^ (t[768 + (bytes[i + 4] as number)] as number) ^ (t[512 + (bytes[i + 5] as number)] as number)
      ^ (t[256 + (bytes[i + 6] as number)] as number) ^ (t[bytes[i + 7] as number] as number);
    i += 8;
  }
  while (i < end) c = (t[(c ^ (bytes[i++] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
