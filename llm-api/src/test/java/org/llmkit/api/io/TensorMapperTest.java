package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fallback used when a file cannot be opened for writing, so no private mapping is possible. */
class TensorMapperTest {

    @TempDir
    Path dir;

    @Test
    void withoutPrivateMappingBytesAreCopiedIntoAWritableLittleEndianDirectBuffer() throws Exception {
        Path file = Files.write(dir.resolve("data.bin"), new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        try (TensorMapper mapper = new TensorMapper(file, FileChannel.open(file, StandardOpenOption.READ), false)) {
            ByteBuffer region = mapper.map(2, 6);
            assertThat(region.isDirect()).isTrue();
            assertThat(region.isReadOnly()).isFalse();
            assertThat(region.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
            assertThat(region.position()).isZero();
            assertThat(region.remaining()).isEqualTo(6);
            assertThat(region.getShort(0)).isEqualTo((short) 0x0302);
            region.put(0, (byte) 99);
        }
        assertThat(Files.readAllBytes(file)[2]).isEqualTo((byte) 2);
    }

    @Test
    void readOnlyFileStillYieldsWritableBuffersWithoutTouchingTheFile() throws Exception {
        Path file = dir.resolve("ro.safetensors");
        SafeTensorsWriter.create().add("w", TensorDType.F32, new long[] {2}, RawFiles.floats(1f, 2f)).writeTo(file);
        assumeFalse(!file.toFile().setWritable(false, false), "cannot make the file read-only here");
        byte[] before = Files.readAllBytes(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            ByteBuffer mapped = read.map("w");
            mapped.putFloat(0, 42f);
            assertThat(mapped.getFloat(4)).isEqualTo(2f);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }
}
