/* MD5 (RFC 1321) in plain JavaScript, fed in chunks so a large video never has to fit in
 * memory: the browser reads the file slice by slice (md5Blob) and only 64 bytes of state
 * plus one partial block are kept between slices.
 *
 * MD5 is not used here for security: hash lists of known images (NCMEC, Take It Down) are
 * keyed by it, so a platform can block an exact copy of the child's file.
 *
 * Runs as a classic browser script (window.SafeguardMD5) and under Node (require()).
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.SafeguardMD5 = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // Per-round shift amounts and the sine-derived constants of RFC 1321.
  const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  const K = new Int32Array(64);
  for (let i = 0; i < 64; i++) {
    K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;
  }
  const DEFAULT_CHUNK = 4 * 1024 * 1024;

  class MD5 {
    constructor() {
      this.state = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
      this.buffer = new Uint8Array(64);
      this.buffered = 0;
      this.length = 0; // bytes seen; a double counts exactly up to 2**53
      this.words = new Int32Array(16);
      this.finished = false;
    }

    /** Add bytes (Uint8Array, ArrayBuffer or any array of 0..255); returns this. */
    update(data) {
      if (this.finished) throw new Error("MD5 already finished; start a new one");
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      let offset = 0;
      this.length += bytes.length;
      if (this.buffered > 0) {
        const take = Math.min(64 - this.buffered, bytes.length);
        for (let i = 0; i < take; i++) this.buffer[this.buffered + i] = bytes[i];
        this.buffered += take;
        offset = take;
        if (this.buffered < 64) return this;
        this.block(this.buffer, 0);
        this.buffered = 0;
      }
      for (; offset + 64 <= bytes.length; offset += 64) this.block(bytes, offset);
      for (let i = offset; i < bytes.length; i++) this.buffer[this.buffered++] = bytes[i];
      return this;
    }

    /** The 32-digit lowercase hex digest; the object cannot be updated afterwards. */
    hex() {
      if (this.finished) throw new Error("MD5 already finished; start a new one");
      const bitsLow = (this.length * 8) >>> 0;
      const bitsHigh = Math.floor((this.length * 8) / 4294967296) >>> 0;
      const pad = new Uint8Array(this.buffered < 56 ? 64 - this.buffered : 128 - this.buffered);
      pad[0] = 0x80;
      for (let i = 0; i < 4; i++) {
        pad[pad.length - 8 + i] = (bitsLow >>> (8 * i)) & 0xff;
        pad[pad.length - 4 + i] = (bitsHigh >>> (8 * i)) & 0xff;
      }
      const length = this.length;
      this.update(pad);
      this.length = length;
      this.finished = true;
      let out = "";
      for (let w = 0; w < 4; w++) {
        for (let i = 0; i < 4; i++) {
          out += ((this.state[w] >>> (8 * i)) & 0xff).toString(16).padStart(2, "0");
        }
      }
      return out;
    }

    block(bytes, offset) {
      const x = this.words;
      for (let i = 0; i < 16; i++) {
        const o = offset + 4 * i;
        x[i] = bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24);
      }
      let a = this.state[0];
      let b = this.state[1];
      let c = this.state[2];
      let d = this.state[3];
      for (let i = 0; i < 64; i++) {
        let f;
        let g;
        if (i < 16) {
          f = (b & c) | (~b & d);
          g = i;
        } else if (i < 32) {
          f = (d & b) | (~d & c);
          g = (5 * i + 1) & 15;
        } else if (i < 48) {
          f = b ^ c ^ d;
          g = (3 * i + 5) & 15;
        } else {
          f = c ^ (b | ~d);
          g = (7 * i) & 15;
        }
        const s = S[(i >> 4) * 4 + (i & 3)];
        const sum = (a + f + K[i] + x[g]) | 0;
        a = d;
        d = c;
        c = b;
        b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
      }
      this.state[0] = (this.state[0] + a) | 0;
      this.state[1] = (this.state[1] + b) | 0;
      this.state[2] = (this.state[2] + c) | 0;
      this.state[3] = (this.state[3] + d) | 0;
    }
  }

  /** MD5 hex of bytes held in memory. */
  function md5Bytes(data) {
    return new MD5().update(data).hex();
  }

  /** MD5 hex of a Blob/File, read slice by slice; onProgress(doneBytes, totalBytes). */
  async function md5Blob(blob, onProgress, chunkSize) {
    const size = chunkSize || DEFAULT_CHUNK;
    const md5 = new MD5();
    for (let start = 0; start < blob.size; start += size) {
      const slice = blob.slice(start, Math.min(start + size, blob.size));
      md5.update(new Uint8Array(await slice.arrayBuffer()));
      if (onProgress) onProgress(Math.min(start + size, blob.size), blob.size);
    }
    return md5.hex();
  }

  return { MD5: MD5, md5Bytes: md5Bytes, md5Blob: md5Blob };
});
