package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsWriterTest {

    @TempDir
    Path dir;

    @Test
    void addRejectsByteLengthThatDoesNotMatchShape() {
        assertThatThrownBy(() -> SafeTensorsWriter.create()
                .add("w", TensorDType.F32, new long[] {2, 2}, RawFiles.floats(1, 2, 3)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs 16 bytes but the buffer has 12 remaining");
    }

    @Test
    void addRejectsDuplicateReservedAndNegativeShapes() {
        SafeTensorsWriter writer = SafeTensorsWriter.create().add("w", TensorDType.F32, new long[] {1}, RawFiles.floats(1));
        assertThatThrownBy(() -> writer.add("w", TensorDType.F32, new long[] {1}, RawFiles.floats(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already added");
        assertThatThrownBy(() -> writer.add("__metadata__", TensorDType.U8, new long[] {0}, ByteBuffer.allocate(0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        assertThatThrownBy(() -> writer.add("n", TensorDType.U8, new long[] {-1}, ByteBuffer.allocate(0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
    }

    @Test
    void addNeitherCopiesNorMovesTheCallersBufferPosition() throws Exception {
        ByteBuffer data = RawFiles.floats(0, 1, 2);
        data.position(4);
        SafeTensorsWriter writer = SafeTensorsWriter.create().add("w", TensorDType.F32, new long[] {2}, data);
        assertThat(data.position()).isEqualTo(4);
        Path file = dir.resolve("w.safetensors");
        writer.writeTo(file);
        writer.writeTo(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertThat(read.map("w").getFloat(0)).isEqualTo(1f);
            assertThat(read.map("w").getFloat(4)).isEqualTo(2f);
        }
        assertThat(data.position()).isEqualTo(4);
    }

    @Test
    void userFormatMetadataReplacesTheDefault() throws Exception {
        Path file = dir.resolve("np.safetensors");
        SafeTensorsWriter.create().metadata("format", "np").writeTo(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertThat(read.metadata()).containsExactly(java.util.Map.entry("format", "np"));
            assertThat(read.names()).isEmpty();
        }
    }

    @Test
    void writeReplacesAnExistingFileAndLeavesNoTemporaryFiles() throws Exception {
        Path file = dir.resolve("model.safetensors");
        SafeTensorsWriter.create().add("old", TensorDType.F32, new long[] {1}, RawFiles.floats(1)).writeTo(file);
        SafeTensorsWriter.create().add("new", TensorDType.F32, new long[] {1}, RawFiles.floats(2)).writeTo(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertThat(read.names()).containsExactly("new");
        }
        try (var listing = Files.list(dir)) {
            assertThat(listing).containsExactly(file);
        }
    }

    @Test
    void writeIntoMissingDirectoryFailsClearly() {
        Path file = dir.resolve("missing/model.safetensors");
        assertThatThrownBy(() -> SafeTensorsWriter.create().writeTo(file))
                .hasMessageContaining("parent directory").hasMessageContaining("does not exist");
    }
}
