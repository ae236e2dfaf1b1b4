/* PDQ perceptual hash in plain JavaScript, bit-identical to safeguard/media/pdq.py (and so to
 * facebook/ThreatExchange's pdqhash) on the same RGBA pixels.
 *
 * Why every Math.fround: the reference works in float32. JavaScript numbers are float64, so each
 * float32 operation is computed in float64 and rounded back with Math.fround. For +, -, * and /
 * of two float32 values that double rounding is exact (53 >= 2*24 + 2 bits), so the result is
 * the float32 result. Sums run in the same order as the Python kernel: reordering a float sum
 * changes low bits, and a low bit near the median flips a hash bit.
 *
 * Runs as a classic browser script (window.SafeguardPDQ) and under Node (require()).
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.SafeguardPDQ = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const fround = Math.fround;
  const MIN_HASHABLE_SIDE = 5; // below this the reference returns an all-zero hash, quality 0
  const ZERO_HASH = "0".repeat(64);

  // The reference's 16x64 DCT-II rows 1..16: a float32 scale times a float64 cosine, rounded
  // to float32 (tests/media compares this table with Python's entry by entry).
  function dctMatrix() {
    const scale = fround(Math.sqrt(2.0 / 64.0));
    const d = new Float32Array(16 * 64);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 64; j++) {
        d[i * 64 + j] = scale * Math.cos((Math.PI / 2.0 / 64.0) * (i + 1) * (2 * j + 1));
      }
    }
    return d;
  }
  const DCT = dctMatrix();

  // pdqhash's binding computes luma in float64 and then casts to float32.
  function lumaFromRGBA(rgba, width, height) {
    checkSize(width, height);
    if (rgba.length !== width * height * 4) {
      throw new RangeError("expected " + width * height * 4 + " RGBA bytes, got " + rgba.length);
    }
    const luma = new Float32Array(width * height);
    for (let p = 0, q = 0; p < luma.length; p++, q += 4) {
      luma[p] = rgba[q] * 0.299 + rgba[q + 1] * 0.587 + rgba[q + 2] * 0.114;
    }
    return luma;
  }

  function checkSize(width, height) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new RangeError("image size must be positive integers, got " + width + "x" + height);
    }
  }

  // One box-filter pass along each row (the reference's box1DFloat, stride 1).
  function boxAlongRows(src, dst, width, height, window) {
    const half = (window + 2) >> 1;
    for (let i = 0; i < height; i++) {
      const row = i * width;
      let total = 0;
      let count = 0;
      let right = row;
      let left = row;
      let out = row;
      for (let k = 0; k < half - 1; k++) {
        total = fround(total + src[right++]);
        count++;
      }
      for (let k = 0; k < window - half + 1; k++) {
        total = fround(total + src[right++]);
        count++;
        dst[out++] = total / count;
      }
      for (let k = 0; k < width - window; k++) {
        total = fround(total + src[right++]);
        total = fround(total - src[left++]);
        dst[out++] = total / count;
      }
      for (let k = 0; k < half - 1; k++) {
        total = fround(total - src[left++]);
        count--;
        dst[out++] = total / count;
      }
    }
  }

  // The same pass down each column; a column's own sum order is the reference's.
  function boxAlongCols(src, dst, width, height, window) {
    const half = (window + 2) >> 1;
    for (let j = 0; j < width; j++) {
      let total = 0;
      let count = 0;
      let right = j;
      let left = j;
      let out = j;
      for (let k = 0; k < half - 1; k++) {
        total = fround(total + src[right]);
        right += width;
        count++;
      }
      for (let k = 0; k < window - half + 1; k++) {
        total = fround(total + src[right]);
        right += width;
        count++;
        dst[out] = total / count;
        out += width;
      }
      for (let k = 0; k < height - window; k++) {
        total = fround(total + src[right]);
        total = fround(total - src[left]);
        right += width;
        left += width;
        dst[out] = total / count;
        out += width;
      }
      for (let k = 0; k < half - 1; k++) {
        total = fround(total - src[left]);
        left += width;
        count--;
        dst[out] = total / count;
        out += width;
      }
    }
  }

  // Tent filter (two box passes each way) and decimation to 64x64; luma is overwritten.
  function downsample64(luma, width, height) {
    const a = new Float32Array(64 * 64);
    if (width === 64 && height === 64) {
      a.set(luma); // the reference skips filtering for 64x64 input (video frames)
      return a;
    }
    const alongRows = Math.floor((width + 127) / 128);
    const alongCols = Math.floor((height + 127) / 128);
    const scratch = new Float32Array(luma.length);
    for (let pass = 0; pass < 2; pass++) {
      boxAlongRows(luma, scratch, width, height, alongRows);
      boxAlongCols(scratch, luma, width, height, alongCols);
    }
    for (let oi = 0; oi < 64; oi++) {
      const ii = Math.trunc(((oi + 0.5) * height) / 64);
      for (let oj = 0; oj < 64; oj++) {
        const jj = Math.trunc(((oj + 0.5) * width) / 64);
        a[oi * 64 + oj] = luma[ii * width + jj];
      }
    }
    return a;
  }

  function dct64To16(a) {
    const t = new Float32Array(16 * 64);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 64; j++) {
        let s = 0;
        for (let k = 0; k < 64; k++) {
          s = fround(s + fround(DCT[i * 64 + k] * a[k * 64 + j]));
        }
        t[i * 64 + j] = s;
      }
    }
    const b = new Float32Array(16 * 16);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 16; j++) {
        let s = 0;
        for (let k = 0; k < 64; k++) {
          s = fround(s + fround(t[i * 64 + k] * DCT[j * 64 + k]));
        }
        b[i * 16 + j] = s;
      }
    }
    return b;
  }

  // 0..100: how much gradient the 64x64 picture has (flat pictures make unreliable hashes).
  function quality(a) {
    let sum = 0;
    for (let i = 0; i < 63; i++) {
      for (let j = 0; j < 64; j++) {
        const d = fround(a[i * 64 + j] - a[(i + 1) * 64 + j]);
        sum += Math.abs(Math.trunc(fround(fround(d * 100) / 255)));
      }
    }
    for (let i = 0; i < 64; i++) {
      for (let j = 0; j < 63; j++) {
        const d = fround(a[i * 64 + j] - a[i * 64 + j + 1]);
        sum += Math.abs(Math.trunc(fround(fround(d * 100) / 255)));
      }
    }
    return Math.min(Math.floor(sum / 90), 100);
  }

  // Bit k (= 16*row + col) is set when that coefficient is above the lower median; the hex
  // is the 256-bit number, most significant nibble first, as field hash lists print it.
  function bitsToHex(dct16) {
    const median = Float32Array.from(dct16).sort()[127];
    let hex = "";
    for (let nibble = 63; nibble >= 0; nibble--) {
      let v = 0;
      for (let bit = 3; bit >= 0; bit--) {
        v = (v << 1) | (dct16[nibble * 4 + bit] > median ? 1 : 0);
      }
      hex += v.toString(16);
    }
    return hex;
  }

  /** PDQ of a luminance plane (Float32Array, row-major, 0..255). The array is overwritten. */
  function hashLuma(luma, width, height) {
    checkSize(width, height);
    if (luma.length !== width * height) {
      throw new RangeError("expected " + width * height + " luma values, got " + luma.length);
    }
    if (Math.min(width, height) < MIN_HASHABLE_SIDE) {
      return { hex: ZERO_HASH, quality: 0 };
    }
    const a = downsample64(luma, width, height);
    return { hex: bitsToHex(dct64To16(a)), quality: quality(a) };
  }

  /** PDQ of RGBA pixels (ImageData.data or any byte array, alpha ignored as the Python side
   * does): {hex: 64 hex digits, quality: 0..100}. */
  function hashRGBA(rgba, width, height) {
    const luma = lumaFromRGBA(rgba, width, height);
    return hashLuma(luma, width, height);
  }

  return {
    MIN_HASHABLE_SIDE: MIN_HASHABLE_SIDE,
    dctMatrix: dctMatrix,
    lumaFromRGBA: lumaFromRGBA,
    hashLuma: hashLuma,
    hashRGBA: hashRGBA,
  };
});
