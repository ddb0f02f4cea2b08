package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    private void assertOnlyFileIs(Path file) throws IOException {
        try (var listing = Files.list(dir)) {
            assertThat(listing).as("no temporary files remain").containsExactly(file);
        }
    }

    @Test
    void bodyFailingHalfwayLeavesPreviousContentIntactAndNoTemporaryFile() throws Exception {
        Path file = dir.resolve("config.json");
        AtomicFiles.writeString(file, "{\"version\": 1}");
        assertThatThrownBy(() -> AtomicFiles.write(file, channel -> {
            channel.write(ByteBuffer.wrap("{\"version\": 2, \"half".getBytes(StandardCharsets.UTF_8)));
            throw new IOException("disk full (simulated)");
        })).isInstanceOf(IOException.class).hasMessage("disk full (simulated)");
        assertThat(Files.readString(file)).isEqualTo("{\"version\": 1}");
        assertOnlyFileIs(file);
    }

    @Test
    void uncheckedFailureInStreamBodyAlsoLeavesTargetAbsentWhenItDidNotExist() throws Exception {
        Path file = dir.resolve("new.bin");
        assertThatThrownBy(() -> AtomicFiles.writeStream(file, out -> {
            out.write(new byte[1000]);
            throw new UncheckedIOException(new IOException("boom"));
        })).isInstanceOf(UncheckedIOException.class);
        assertThat(file).doesNotExist();
        try (var listing = Files.list(dir)) {
            assertThat(listing).isEmpty();
        }
    }

    @Test
    void safetensorsWriterFailingHalfwayKeepsPreviousCheckpoint() throws Exception {
        Path file = dir.resolve("model.safetensors");
        SafeTensorsWriter.create().add("w", TensorDType.F32, new long[] {1}, RawFiles.floats(1)).writeTo(file);
        byte[] before = Files.readAllBytes(file);

        // Tensor "b" is backed by a mapping of a scratch file that is truncated before writing, so
        // copying its bytes fails after "a" and the header have already been written.
        Path source = Files.write(Files.createTempFile("source", ".bin"), new byte[1 << 16]);
        try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer vanishing = channel.map(FileChannel.MapMode.READ_ONLY, 0, 1 << 16);
            SafeTensorsWriter writer = SafeTensorsWriter.create()
                    .add("a", TensorDType.U8, new long[] {4}, ByteBuffer.wrap(new byte[] {1, 2, 3, 4}))
                    .add("b", TensorDType.U8, new long[] {1 << 16}, vanishing);
            channel.truncate(0);
            assertThatThrownBy(() -> writer.writeTo(file)).isInstanceOfAny(IOException.class, Error.class);
        } finally {
            Files.delete(source);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
        assertOnlyFileIs(file);
    }

    @Test
    void writeStringCreatesUtf8FileWithDefaultPermissions() throws Exception {
        Path file = dir.resolve("config.json");
        AtomicFiles.writeString(file, "{\"name\": \"Ωmega\"}");
        assertThat(Files.readString(file, StandardCharsets.UTF_8)).isEqualTo("{\"name\": \"Ωmega\"}");
        assertThat(Files.isReadable(file)).isTrue();
        assertOnlyFileIs(file);
    }
}
