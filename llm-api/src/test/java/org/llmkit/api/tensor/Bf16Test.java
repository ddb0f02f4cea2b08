package org.llmkit.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/** bfloat16 through {@link TorchOps}: exact rounding, raw bits, and matmul accuracy. */
class Bf16Test {

    private static TorchOps ops;

    @BeforeAll
    static void load() {
        ops = TorchOps.load();
    }

    @AfterAll
    static void close() {
        ops.close();
    }

    /** Java-side float32 to bfloat16 rounding: round to nearest, ties to even, on the raw bits. */
    static float roundToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int lsb = (bits >>> 16) & 1;
        return Float.intBitsToFloat((bits + 0x7fff + lsb) & 0xffff0000);
    }

    @Test
    void roundTripThroughBf16EqualsJavaRoundToNearestEven() {
        Random random = new Random(42);
        float[] values = new float[4096];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(9) - 4));
        }
        int[] edgeBits = {
            0x3f808000, // 1 + half an ulp, even below: rounds down
            0x3f818000, // half an ulp, odd below: rounds up
            0x3f808001, // just above half: rounds up
            0xbf818000, // negative tie, odd below
            0x00000001, // smallest subnormal
            0x007fffff, // largest subnormal
            0x7f7fffff, // largest float: rounds to infinity, as in torch
            0x00000000,
            0x80000000
        };
        for (int i = 0; i < edgeBits.length; i++) {
            values[i] = Float.intBitsToFloat(edgeBits[i]);
        }
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray x = manager.create(values);
            NDArray bf16 = ops.toBFloat16(x);
            float[] back = ops.toFloat32(bf16).toFloatArray();

            assertThat(bf16.getDataType()).isEqualTo(DataType.UNKNOWN);
            for (int i = 0; i < values.length; i++) {
                int expected = Float.floatToRawIntBits(roundToBf16(values[i]));
                assertThat(Float.floatToRawIntBits(back[i]))
                        .as("bits of bf16(%s) at %d", values[i], i)
                        .isEqualTo(expected);
            }
        }
    }

    @Test
    void bf16FromBitsGivesTheKnownFloatsWithoutCopying() {
        // little-endian bf16: 1.0 = 0x3f80, -2.0 = 0xc000, 3.140625 = 0x4049, 0.0, -inf = 0xff80,
        // 1/3 rounded = 0x3eab
        short[] patterns = {0x3f80, (short) 0xc000, 0x4049, 0, (short) 0xff80, 0x3eab};
        float[] expected = {1f, -2f, 3.140625f, 0f, Float.NEGATIVE_INFINITY, 0.333984375f};
        ByteBuffer bytes =
                ByteBuffer.allocateDirect(patterns.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short p : patterns) {
            bytes.putShort(p);
        }
        bytes.rewind();
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray raw = manager.create(bytes, new Shape(2, 6), DataType.UINT8); // [2, 2*3]
            NDArray fromBytes = ops.bf16FromBits(raw); // [2, 3]
            NDArray fromHalf =
                    ops.bf16FromBits(manager.create(bytes, new Shape(6), DataType.FLOAT16));

            assertThat(fromBytes.getShape()).isEqualTo(new Shape(2, 3));
            assertThat(ops.toFloat32(fromBytes).toFloatArray()).containsExactly(expected);
            assertThat(ops.toFloat32(fromHalf).toFloatArray()).containsExactly(expected);

            // slices (strided, or starting inside the storage) are copied, then reinterpreted
            assertThat(ops.toFloat32(ops.bf16FromBits(raw.get(":, 2:6"))).toFloatArray())
                    .containsExactly(-2f, 3.140625f, Float.NEGATIVE_INFINITY, 0.333984375f);
            NDArray secondRow = ops.bf16FromBits(raw.get("1:")); // [1, 3]
            assertThat(ops.toFloat32(secondRow).toFloatArray())
                    .containsExactly(0f, Float.NEGATIVE_INFINITY, 0.333984375f);

            raw.subi(raw); // zero the bytes in place: only the zero-copy view sees it
            assertThat(ops.toFloat32(fromBytes).toFloatArray()).containsOnly(0f);
            assertThat(ops.toFloat32(secondRow).toFloatArray())
                    .containsExactly(0f, Float.NEGATIVE_INFINITY, 0.333984375f);
        }
    }

    @Test
    void bf16FromBitsRejectsDtypesDjlCannotHoldAndOddByteCounts() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            assertThatThrownBy(() -> ops.bf16FromBits(manager.zeros(new Shape(4))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("found float32");
            assertThatThrownBy(
                            () -> ops.bf16FromBits(manager.zeros(new Shape(3), DataType.UINT8)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("even number of bytes");
        }
    }

    @Test
    void bf16MatmulAgreesWithFloat32WithinBf16Tolerance() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            manager.getEngine().setRandomSeed(3);
            NDArray x = manager.randomNormal(new Shape(4, 64));
            NDArray w = manager.randomNormal(new Shape(64, 32));
            NDArray exact = x.matMul(w); // [4, 32]
            // each product carries two input roundings (2^-8 each) and the sum one more
            NDArray bound = x.abs().matMul(w.abs()).mul(manager.full(new Shape(), 3f / 256));

            NDArray viaBf16 = ops.toFloat32(ops.toBFloat16(x).matMul(ops.toBFloat16(w)));
            NDArray error = viaBf16.sub(exact).abs();

            assertThat(error.lte(bound).all().getBoolean()).isTrue();
            assertThat(error.max().getFloat()).isPositive(); // it really ran in bf16
        }
    }

    @Test
    void djlLinearRunsOnBf16ArraysFromTorchOps() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            manager.getEngine().setRandomSeed(4);
            NDArray x = manager.randomNormal(new Shape(4, 64));
            NDArray w = manager.randomNormal(new Shape(32, 64)); // HF layout [out, in]
            NDArray b = manager.randomNormal(new Shape(32));
            NDArray exact = Linear.linear(x, w, b).singletonOrThrow();

            NDArray y =
                    Linear.linear(ops.toBFloat16(x), ops.toBFloat16(w), ops.toBFloat16(b))
                            .singletonOrThrow();
            NDArray bound =
                    x.abs().matMul(w.abs().transpose()).add(b.abs())
                            .mul(manager.full(new Shape(), 3f / 256));

            assertThat(y.getDataType()).isEqualTo(DataType.UNKNOWN);
            assertThat(y.getShape()).isEqualTo(new Shape(4, 32));
            assertThat(ops.toFloat32(y).sub(exact).abs().lte(bound).all().getBoolean()).isTrue();
        }
    }
}
