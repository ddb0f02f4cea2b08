package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsRoundTripTest {

    @TempDir
    Path dir;

    @Test
    void writtenTensorsOfEveryCommonDtypeReadBackWithSameNamesShapesAndBytes() throws Exception {
        Path file = dir.resolve("model.safetensors");
        ByteBuffer f32 = RawFiles.floats(1f, -2.5f, 3.25f, 0f, 1e-3f, 65504f);
        ByteBuffer f16 = RawFiles.shorts(Half.floatToF16(1f), Half.floatToF16(-2.5f), Half.floatToF16(0.5f));
        ByteBuffer bf16 = RawFiles.shorts(Half.floatToBf16(1f), Half.floatToBf16(-2.5f));
        ByteBuffer i64 = RawFiles.longs(Long.MIN_VALUE, -1, 0, Long.MAX_VALUE);
        SafeTensorsWriter.create()
                .metadata("source", "unit-test")
                .add("w.f32", TensorDType.F32, new long[] {2, 3}, f32)
                .add("w.f16", TensorDType.F16, new long[] {3}, f16)
                .add("w.bf16", TensorDType.BF16, new long[] {1, 2}, bf16)
                .add("ids.i64", TensorDType.I64, new long[] {4}, i64)
                .writeTo(file);

        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertThat(read.names()).containsExactly("w.f32", "w.f16", "w.bf16", "ids.i64");
            assertThat(read.metadata()).containsEntry("format", "pt").containsEntry("source", "unit-test");
            assertThat(read.info("w.f32").shape()).containsExactly(2, 3);
            assertThat(read.info("w.f32").dtype()).isEqualTo(TensorDType.F32);
            assertThat(read.info("w.f16").dtype()).isEqualTo(TensorDType.F16);
            assertThat(read.info("w.bf16").shape()).containsExactly(1, 2);
            assertThat(read.info("ids.i64").elementCount()).isEqualTo(4);
            assertThat(read.map("w.f32")).isEqualTo(f32);
            assertThat(read.map("w.f16")).isEqualTo(f16);
            assertThat(read.map("w.bf16")).isEqualTo(bf16);
            assertThat(read.map("ids.i64")).isEqualTo(i64);
            assertThat(read.map("ids.i64").getLong(0)).isEqualTo(Long.MIN_VALUE);
            assertThat(read.map("w.f32").getFloat(4)).isEqualTo(-2.5f);
            assertThat(Half.f16ToFloat(read.map("w.f16").getShort(4))).isEqualTo(0.5f);
            assertThat(Half.bf16ToFloat(read.map("w.bf16").getShort(2))).isEqualTo(-2.5f);
        }
    }

    @Test
    void headerIsSpacePaddedSoDataStartsEightByteAligned() throws Exception {
        Path file = dir.resolve("aligned.safetensors");
        for (int nameLength = 1; nameLength <= 9; nameLength++) {
            String name = "x".repeat(nameLength);
            SafeTensorsWriter.create().add(name, TensorDType.U8, new long[] {1}, ByteBuffer.wrap(new byte[] {7}))
                    .writeTo(file);
            long headerLength = RawFiles.headerLength(file);
            assertThat((8 + headerLength) % 8).as("data start for name length %d", nameLength).isZero();
            String text = RawFiles.headerText(file);
            assertThat(text.stripTrailing()).startsWith("{").endsWith("}");
            assertThat(text.substring(text.stripTrailing().length())).matches(" {0,7}");
            try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
                assertThat(read.info(name).begin()).isEqualTo(8 + headerLength);
                assertThat(read.map(name).get(0)).isEqualTo((byte) 7);
            }
        }
    }

    @Test
    void headerAlwaysCarriesFormatPtMetadataAndTensorsInInsertionOrder() throws Exception {
        Path file = dir.resolve("order.safetensors");
        SafeTensorsWriter.create()
                .add("z", TensorDType.F32, new long[] {1}, RawFiles.floats(1f))
                .add("a", TensorDType.F32, new long[] {1}, RawFiles.floats(2f))
                .writeTo(file);
        String header = RawFiles.headerText(file).strip();
        assertThat(header).startsWith("{\"__metadata__\":{\"format\":\"pt\"}");
        assertThat(header.indexOf("\"z\"")).isLessThan(header.indexOf("\"a\""));
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertThat(read.names()).containsExactly("z", "a");
            assertThat(read.info("z").end()).isEqualTo(read.info("a").begin());
        }
    }

    @Test
    void scalarsAndEmptyTensorsRoundTrip() throws Exception {
        Path file = dir.resolve("edge.safetensors");
        SafeTensorsWriter.create()
                .add("scalar", TensorDType.F64, new long[0], ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                        .putDouble(0, Math.PI))
                .add("empty", TensorDType.I32, new long[] {0, 5}, ByteBuffer.allocate(0))
                .add("flags", TensorDType.BOOL, new long[] {2}, ByteBuffer.wrap(new byte[] {1, 0}))
                .writeTo(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertThat(read.info("scalar").rank()).isZero();
            assertThat(read.info("scalar").elementCount()).isEqualTo(1);
            assertThat(read.map("scalar").getDouble(0)).isEqualTo(Math.PI);
            assertThat(read.map("empty").remaining()).isZero();
            assertThat(read.map("flags").get(0)).isEqualTo((byte) 1);
        }
    }

    @Test
    void mappedBuffersAreLittleEndianWritableAndWritesNeverReachTheFile() throws Exception {
        Path file = dir.resolve("cow.safetensors");
        SafeTensorsWriter.create().add("w", TensorDType.F32, new long[] {2}, RawFiles.floats(1f, 2f)).writeTo(file);
        byte[] before = Files.readAllBytes(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            ByteBuffer mapped = read.map("w");
            assertThat(mapped.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
            assertThat(mapped.isReadOnly()).isFalse();
            mapped.putFloat(0, 42f);
            assertThat(mapped.getFloat(0)).isEqualTo(42f);
            assertThat(read.map("w").getFloat(0)).isEqualTo(1f);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    @Test
    void regionMappingReadsChunksOfATensor() throws Exception {
        Path file = dir.resolve("chunks.safetensors");
        float[] values = new float[12];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f;
        }
        SafeTensorsWriter.create().add("w", TensorDType.F32, new long[] {3, 4}, RawFiles.floats(values)).writeTo(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            ByteBuffer row1 = read.map("w", 4L * 4, 4 * 4);
            assertThat(row1.remaining()).isEqualTo(16);
            assertThat(row1.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
            float[] got = new float[4];
            row1.asFloatBuffer().get(got);
            assertThat(got).containsExactly(Arrays.copyOfRange(values, 4, 8));
            assertThat(read.map("w", 48, 0).remaining()).isZero();
            assertThatThrownBy(() -> read.map("w", 40, 16))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("48 bytes");
            assertThatThrownBy(() -> read.map("w", -1, 4)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void missingTensorErrorNamesFileAndSuggestsCloseNames() throws Exception {
        Path file = dir.resolve("names.safetensors");
        SafeTensorsWriter writer = SafeTensorsWriter.create();
        for (int layer = 0; layer < 8; layer++) {
            writer.add("model.layers." + layer + ".mlp.up_proj.weight", TensorDType.F32, new long[] {1},
                    RawFiles.floats(layer));
        }
        writer.add("lm_head.weight", TensorDType.F32, new long[] {1}, RawFiles.floats(9f)).writeTo(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertThatThrownBy(() -> read.info("model.layers.3.mlp.up_proj.weights"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("\"model.layers.3.mlp.up_proj.weights\"")
                    .hasMessageContaining("[model.layers.3.mlp.up_proj.weight, ")
                    .hasMessageNotContaining("lm_head.weight");
        }
    }

    @Test
    void mapAfterCloseFailsClearly() throws Exception {
        Path file = dir.resolve("closed.safetensors");
        SafeTensorsWriter.create().add("w", TensorDType.F32, new long[] {1}, RawFiles.floats(1f)).writeTo(file);
        SafeTensorsFile read = SafeTensorsFile.open(file);
        ByteBuffer before = read.map("w");
        read.close();
        assertThat(before.getFloat(0)).isEqualTo(1f);
        assertThatThrownBy(() -> read.map("w")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
}
