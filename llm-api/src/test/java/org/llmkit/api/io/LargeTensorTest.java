package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tensors of 2 GiB or more, using a sparse file so no real disk space is needed. */
class LargeTensorTest {

    private static final long TWO_GIB = 1L << 31;

    @TempDir
    Path dir;

    @Test
    void tensorOfTwoGibCannotBeMappedWholeButCanBeMappedInChunks() throws Exception {
        Path file = RawFiles.write(dir.resolve("big.safetensors"),
                "{\"big\": {\"dtype\": \"U8\", \"shape\": [" + TWO_GIB + "], \"data_offsets\": [0, " + TWO_GIB + "]}}",
                0);
        long dataStart = 8 + RawFiles.headerLength(file);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(dataStart + TWO_GIB);
            raf.seek(dataStart + TWO_GIB - 1);
            raf.write(0x5a);
        }
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertThat(read.info("big").byteLength()).isEqualTo(TWO_GIB);
            assertThatThrownBy(() -> read.map("big"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("2147483648 bytes")
                    .hasMessageContaining("map(name, byteOffset, byteLength)");
            ByteBuffer tail = read.map("big", TWO_GIB - 16, 16);
            assertThat(tail.remaining()).isEqualTo(16);
            assertThat(tail.get(15)).isEqualTo((byte) 0x5a);
            assertThat(tail.get(0)).isZero();
        }
    }
}
