package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class HalfTest {

    private static short bits(int value) {
        return (short) value;
    }

    @Test
    void f16KnownValuesConvertExactlyBothWays() {
        assertF16(0x3c00, 1.0f);
        assertF16(0xc100, -2.5f);
        assertF16(0x7bff, 65504f);
        assertF16(0x0001, 0x1p-24f);
        assertF16(0x03ff, 1023 * 0x1p-24f);
        assertF16(0x0400, 0x1p-14f);
        assertF16(0x3555, 0.333251953125f);
        assertF16(0x0000, 0.0f);
        assertF16(0x8000, -0.0f);
        assertF16(0x7c00, Float.POSITIVE_INFINITY);
        assertF16(0xfc00, Float.NEGATIVE_INFINITY);
    }

    private static void assertF16(int halfBits, float value) {
        assertThat(Half.f16ToFloat(bits(halfBits))).as("f16ToFloat(0x%04x)", halfBits).isEqualTo(value);
        assertThat(Half.floatToF16(value) & 0xffff).as("floatToF16(%s)", value).isEqualTo(halfBits);
    }

    @Test
    void f16NanIsPreservedInBothDirections() {
        assertThat(Half.f16ToFloat(bits(0x7e00))).isNaN();
        assertThat(Half.f16ToFloat(bits(0x7c01))).isNaN();
        short nan = Half.floatToF16(Float.NaN);
        assertThat(nan & 0x7c00).isEqualTo(0x7c00);
        assertThat(nan & 0x03ff).isNotZero();
        short negativeNanLowPayload = Half.floatToF16(Float.intBitsToFloat(0xff800001));
        assertThat(Half.f16ToFloat(negativeNanLowPayload)).isNaN();
        assertThat(negativeNanLowPayload & 0x8000).isEqualTo(0x8000);
    }

    @Test
    void f16RoundsToNearestWithTiesToEven() {
        // Between 1 and 1 + 2^-10 the midpoint 1 + 2^-11 ties to the even 1.0 ...
        assertThat(Half.floatToF16(1f + 0x1p-11f) & 0xffff).isEqualTo(0x3c00);
        // ... while the midpoint above the odd 1 + 2^-10 ties up to the even 1 + 2^-9.
        assertThat(Half.floatToF16(1f + 0x1p-10f + 0x1p-11f) & 0xffff).isEqualTo(0x3c02);
        // Just above the midpoint rounds up.
        assertThat(Half.floatToF16(1f + 0x1p-11f + 0x1p-20f) & 0xffff).isEqualTo(0x3c01);
        // 65520 is the midpoint between 65504 and 65536 (=infinity): ties to even, i.e. infinity.
        assertThat(Half.floatToF16(65519.99f) & 0xffff).isEqualTo(0x7bff);
        assertThat(Half.floatToF16(65520f) & 0xffff).isEqualTo(0x7c00);
        assertThat(Half.floatToF16(1e10f) & 0xffff).isEqualTo(0x7c00);
        assertThat(Half.floatToF16(-1e10f) & 0xffff).isEqualTo(0xfc00);
    }

    @Test
    void f16SubnormalsUnderflowAndRoundCorrectly() {
        // Half of the smallest subnormal ties to even zero; anything above rounds up to it.
        assertThat(Half.floatToF16(0x1p-25f) & 0xffff).isEqualTo(0x0000);
        assertThat(Half.floatToF16(0x1.000002p-25f) & 0xffff).isEqualTo(0x0001);
        assertThat(Half.floatToF16(-0x1p-26f) & 0xffff).isEqualTo(0x8000);
        // 1.5 * 2^-24 ties between 1 and 2 subnormal units: even is 2.
        assertThat(Half.floatToF16(1.5f * 0x1p-24f) & 0xffff).isEqualTo(0x0002);
        // 2.5 * 2^-24 ties between 2 and 3: even is 2.
        assertThat(Half.floatToF16(2.5f * 0x1p-24f) & 0xffff).isEqualTo(0x0002);
        // Largest subnormal plus a bit more than half a unit carries into the smallest normal.
        assertThat(Half.floatToF16(1023.75f * 0x1p-24f) & 0xffff).isEqualTo(0x0400);
        assertThat(Half.floatToF16(Float.MIN_VALUE) & 0xffff).isEqualTo(0x0000);
    }

    @Test
    void everyF16ValueSurvivesWideningAndNarrowing() {
        for (int h = 0; h <= 0xffff; h++) {
            float value = Half.f16ToFloat(bits(h));
            if (Float.isNaN(value)) {
                assertThat(Half.f16ToFloat(Half.floatToF16(value))).isNaN();
            } else {
                assertThat(Half.floatToF16(value) & 0xffff).as("0x%04x", h).isEqualTo(h);
            }
        }
    }

    @Test
    void bf16WideningIsExactForEveryBitPattern() {
        for (int b = 0; b <= 0xffff; b++) {
            float value = Half.bf16ToFloat(bits(b));
            assertThat(Float.floatToRawIntBits(value)).isEqualTo(b << 16);
            if (!Float.isNaN(value)) {
                assertThat(Half.floatToBf16(value) & 0xffff).isEqualTo(b);
            }
        }
    }

    @Test
    void bf16KnownValuesAndRoundingTies() {
        assertThat(Half.floatToBf16(1f) & 0xffff).isEqualTo(0x3f80);
        assertThat(Half.floatToBf16(-2.5f) & 0xffff).isEqualTo(0xc020);
        assertThat(Half.bf16ToFloat(bits(0x3f80))).isEqualTo(1f);
        assertThat(Half.bf16ToFloat(bits(0xc020))).isEqualTo(-2.5f);
        // 1 + 2^-8 is the midpoint between 1 (even) and 1 + 2^-7: ties to 1.
        assertThat(Half.floatToBf16(1f + 0x1p-8f) & 0xffff).isEqualTo(0x3f80);
        // 1 + 3 * 2^-8 is the midpoint between 1 + 2^-7 (odd) and 1 + 2^-6: ties to the even upper.
        assertThat(Half.floatToBf16(1f + 3 * 0x1p-8f) & 0xffff).isEqualTo(0x3f82);
        assertThat(Half.floatToBf16(1f + 0x1p-8f + 0x1p-20f) & 0xffff).isEqualTo(0x3f81);
        assertThat(Half.floatToBf16(Float.MAX_VALUE) & 0xffff).isEqualTo(0x7f80);
        assertThat(Half.floatToBf16(Float.NEGATIVE_INFINITY) & 0xffff).isEqualTo(0xff80);
        assertThat(Half.bf16ToFloat(Half.floatToBf16(Float.NaN))).isNaN();
        assertThat(Half.bf16ToFloat(Half.floatToBf16(Float.intBitsToFloat(0x7f800001)))).isNaN();
        assertThat(Half.floatToBf16(Float.intBitsToFloat(0xffc00000)) & 0x8000).isEqualTo(0x8000);
    }

    @Test
    void bulkConversionsMatchScalarOnesAndAdvancePositions() {
        int n = 10_000;
        ByteBuffer halves = ByteBuffer.allocateDirect(2 * n + 2).order(ByteOrder.BIG_ENDIAN);
        ByteBuffer bf16 = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        halves.put((byte) 0).put((byte) 0);
        for (int i = 0; i < n; i++) {
            short h = bits(i * 7);
            halves.put((byte) h).put((byte) (h >> 8));
            bf16.putShort(2 * i, bits(i * 5));
        }
        halves.flip().position(2);
        ByteBuffer out = ByteBuffer.allocate(4 * n);
        Half.f16ToF32(halves, out, n);
        assertThat(halves.remaining()).isZero();
        assertThat(out.remaining()).isZero();
        out.order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            float expected = Half.f16ToFloat(bits(i * 7));
            assertThat(Float.floatToRawIntBits(out.getFloat(4 * i))).isEqualTo(Float.floatToRawIntBits(expected));
        }
        ByteBuffer wide = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        Half.bf16ToF32(bf16, wide, n);
        for (int i = 0; i < n; i++) {
            assertThat(Float.floatToRawIntBits(wide.getFloat(4 * i))).isEqualTo((i * 5 & 0xffff) << 16);
        }
        wide.flip();
        ByteBuffer back = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        Half.f32ToBf16(wide, back, n);
        assertThat(back.position()).isEqualTo(2 * n);
        for (int i = 0; i < n; i++) {
            short original = bf16.getShort(2 * i);
            if (Float.isNaN(Half.bf16ToFloat(original))) {
                assertThat(Half.bf16ToFloat(back.getShort(2 * i))).isNaN();
            } else {
                assertThat(back.getShort(2 * i)).isEqualTo(original);
            }
        }
        ByteBuffer f16 = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
        Half.f32ToF16(RawFiles.floats(-2.5f), f16, 1);
        assertThat(f16.getShort(0) & 0xffff).isEqualTo(0xc100);
    }

    @Test
    void bulkConversionRejectsTooSmallBuffers() {
        assertThatThrownBy(() -> Half.bf16ToF32(ByteBuffer.allocate(4), ByteBuffer.allocate(4), 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dst has 4 remaining");
        assertThatThrownBy(() -> Half.f16ToF32(ByteBuffer.allocate(2), ByteBuffer.allocate(8), 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("src has 2 remaining");
        assertThatThrownBy(() -> Half.f16ToF32(ByteBuffer.allocate(2), ByteBuffer.allocate(8), -1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
