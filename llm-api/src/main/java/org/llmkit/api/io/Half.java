package org.llmkit.api.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * Conversions between {@code float} and the two 16-bit float formats of safetensors files.
 *
 * <ul>
 *   <li><b>F16</b> (IEEE 754 binary16): 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits;
 *       largest finite value 65504, smallest subnormal 2<sup>-24</sup>.</li>
 *   <li><b>BF16</b> (bfloat16): the upper 16 bits of a binary32, i.e. 1 sign bit, 8 exponent
 *       bits (bias 127), 7 fraction bits; same range as {@code float}.</li>
 * </ul>
 *
 * <p>Widening ({@code ...ToFloat}) is exact. Narrowing ({@code floatTo...}) rounds to nearest,
 * ties to even, as IEEE 754 and PyTorch do; values too large become infinity, values too small
 * become (signed) zero or a subnormal, and NaN stays NaN with its sign. Values are passed as
 * {@code short} bit patterns.
 */
public final class Half {

    private static final int CHUNK = 4096;

    private Half() {
    }

    /**
     * Widens a bfloat16 bit pattern to {@code float}; exact.
     *
     * @param bits the bfloat16 bits
     * @return the same value as a {@code float}
     */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * Narrows a {@code float} to bfloat16, rounding to nearest with ties to even.
     *
     * @param value the value
     * @return the bfloat16 bits; NaN gives a quiet NaN with the same sign
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /**
     * Widens an IEEE binary16 bit pattern to {@code float}; exact, including subnormals,
     * infinities and NaN payloads.
     *
     * @param bits the binary16 bits
     * @return the same value as a {@code float}
     */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int fraction = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (fraction << 13));
        }
        if (exponent == 0) {
            float magnitude = fraction * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + (127 - 15)) << 23) | (fraction << 13));
    }

    /**
     * Narrows a {@code float} to IEEE binary16, rounding to nearest with ties to even.
     *
     * @param value the value
     * @return the binary16 bits: magnitudes that round above 65504 give infinity, those below
     *     2<sup>-25</sup> give signed zero, NaN gives a quiet NaN with the same sign
     */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xff;
        int fraction = bits & 0x7fffff;
        if (exponent == 0xff) {
            return (short) (fraction == 0 ? sign | 0x7c00 : sign | 0x7e00 | (fraction >>> 13));
        }
        int halfExponent = exponent - 127 + 15;
        if (halfExponent >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (halfExponent <= 0) {
            if (halfExponent < -10) {
                return (short) sign;
            }
            // Subnormal result: value = significand * 2^(halfExponent - 38) = h * 2^-24.
            int significand = fraction | 0x800000;
            int shift = 14 - halfExponent;
            return (short) (sign | roundShift(significand, shift));
        }
        // Normal result; a carry out of the fraction correctly bumps the exponent (up to infinity).
        int h = (halfExponent << 10) | (fraction >>> 13);
        int remainder = fraction & 0x1fff;
        if (remainder > 0x1000 || (remainder == 0x1000 && (h & 1) != 0)) {
            h++;
        }
        return (short) (sign | h);
    }

    /** Returns {@code value >>> shift} rounded to nearest, ties to even. */
    private static int roundShift(int value, int shift) {
        int result = value >>> shift;
        int remainder = value & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (remainder > halfway || (remainder == halfway && (result & 1) != 0)) {
            result++;
        }
        return result;
    }

    /**
     * Widens {@code count} bfloat16 values to {@code float}: reads {@code 2 * count} bytes from
     * {@code src} and writes {@code 4 * count} bytes to {@code dst}, both little-endian whatever
     * the buffers' own {@link ByteBuffer#order() order}, starting at their positions, and advances
     * both positions past the bytes used.
     *
     * @param src bfloat16 values, little-endian
     * @param dst receives the floats, little-endian
     * @param count number of values
     * @throws IllegalArgumentException if {@code count} is negative or a buffer has too few bytes
     *     remaining
     */
    public static void bf16ToF32(ByteBuffer src, ByteBuffer dst, long count) {
        widen(src, dst, count, true);
    }

    /**
     * Widens {@code count} IEEE binary16 values to {@code float}; buffers, byte order and
     * positions as in {@link #bf16ToF32(ByteBuffer, ByteBuffer, long)}.
     *
     * @param src binary16 values, little-endian
     * @param dst receives the floats, little-endian
     * @param count number of values
     * @throws IllegalArgumentException if {@code count} is negative or a buffer has too few bytes
     *     remaining
     */
    public static void f16ToF32(ByteBuffer src, ByteBuffer dst, long count) {
        widen(src, dst, count, false);
    }

    /**
     * Narrows {@code count} floats to bfloat16 (round to nearest even): reads {@code 4 * count}
     * bytes from {@code src}, writes {@code 2 * count} bytes to {@code dst}, both little-endian,
     * and advances both positions.
     *
     * @param src floats, little-endian
     * @param dst receives bfloat16 values, little-endian
     * @param count number of values
     * @throws IllegalArgumentException if {@code count} is negative or a buffer has too few bytes
     *     remaining
     */
    public static void f32ToBf16(ByteBuffer src, ByteBuffer dst, long count) {
        narrow(src, dst, count, true);
    }

    /**
     * Narrows {@code count} floats to IEEE binary16 (round to nearest even); buffers, byte order
     * and positions as in {@link #f32ToBf16(ByteBuffer, ByteBuffer, long)}.
     *
     * @param src floats, little-endian
     * @param dst receives binary16 values, little-endian
     * @param count number of values
     * @throws IllegalArgumentException if {@code count} is negative or a buffer has too few bytes
     *     remaining
     */
    public static void f32ToF16(ByteBuffer src, ByteBuffer dst, long count) {
        narrow(src, dst, count, false);
    }

    private static void widen(ByteBuffer src, ByteBuffer dst, long count, boolean bf16) {
        int n = checkCount(src, dst, count, 2, 4);
        ShortBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        FloatBuffer out = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        short[] halves = new short[Math.min(n, CHUNK)];
        float[] floats = new float[halves.length];
        for (int done = 0; done < n; ) {
            int step = Math.min(halves.length, n - done);
            in.get(halves, 0, step);
            for (int i = 0; i < step; i++) {
                floats[i] = bf16 ? bf16ToFloat(halves[i]) : f16ToFloat(halves[i]);
            }
            out.put(floats, 0, step);
            done += step;
        }
        src.position(src.position() + 2 * n);
        dst.position(dst.position() + 4 * n);
    }

    private static void narrow(ByteBuffer src, ByteBuffer dst, long count, boolean bf16) {
        int n = checkCount(src, dst, count, 4, 2);
        FloatBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        ShortBuffer out = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        float[] floats = new float[Math.min(n, CHUNK)];
        short[] halves = new short[floats.length];
        for (int done = 0; done < n; ) {
            int step = Math.min(floats.length, n - done);
            in.get(floats, 0, step);
            for (int i = 0; i < step; i++) {
                halves[i] = bf16 ? floatToBf16(floats[i]) : floatToF16(floats[i]);
            }
            out.put(halves, 0, step);
            done += step;
        }
        src.position(src.position() + 4 * n);
        dst.position(dst.position() + 2 * n);
    }

    private static int checkCount(ByteBuffer src, ByteBuffer dst, long count, int srcSize, int dstSize) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, found " + count);
        }
        if (count * srcSize > src.remaining()) {
            throw new IllegalArgumentException(count + " values need " + count * srcSize
                    + " source bytes but src has " + src.remaining() + " remaining");
        }
        if (count * dstSize > dst.remaining()) {
            throw new IllegalArgumentException(count + " values need " + count * dstSize
                    + " destination bytes but dst has " + dst.remaining() + " remaining");
        }
        return (int) count;
    }
}
