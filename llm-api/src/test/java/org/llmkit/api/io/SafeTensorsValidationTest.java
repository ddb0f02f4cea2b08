package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every malformed-file case yields a SafeTensorsFormatException that names the file and the problem. */
class SafeTensorsValidationTest {

    @TempDir
    Path dir;

    private static AbstractThrowableAssert<?, ? extends Throwable> assertFormatError(Path file) {
        return assertThatThrownBy(() -> SafeTensorsFile.open(file).close())
                .isInstanceOf(SafeTensorsFormatException.class)
                .hasMessageStartingWith(file.toString() + ": ")
                .satisfies(e -> assertThat(((SafeTensorsFormatException) e).file()).isEqualTo(file));
    }

    private Path header(String json, int dataBytes) throws IOException {
        return RawFiles.write(dir.resolve("bad.safetensors"), json, dataBytes);
    }

    private Path copyOfFixture() throws IOException {
        assumeTrue(Files.isRegularFile(SafeTensorsFixtureTest.FILE), "fixture not present");
        Path copy = dir.resolve("copy.safetensors");
        Files.copy(SafeTensorsFixtureTest.FILE, copy);
        copy.toFile().setWritable(true);
        return copy;
    }

    @Test
    void fileShorterThanEightBytesIsRejected() throws Exception {
        Path file = Files.write(dir.resolve("tiny.safetensors"), new byte[] {1, 2, 3});
        assertFormatError(file).hasMessageContaining("only 3 bytes").hasMessageContaining("8-byte header length");
    }

    @Test
    void headerLengthBeyondEndOfFileIsRejected() throws Exception {
        Path file = RawFiles.write(dir.resolve("short.safetensors"), 1000, "{}".getBytes(StandardCharsets.UTF_8), 0);
        assertFormatError(file).hasMessageContaining("header length 1000 is larger than the 2 bytes");
    }

    @Test
    void absurdHeaderLengthIsRejectedWithoutAllocatingIt() throws Exception {
        Path huge = RawFiles.write(dir.resolve("huge.safetensors"), 200_000_000L, new byte[16], 0);
        assertFormatError(huge).hasMessageContaining("header length 200000000 is absurd");
        Path unsigned = RawFiles.write(dir.resolve("unsigned.safetensors"), -1L, new byte[16], 0);
        assertFormatError(unsigned).hasMessageContaining("18446744073709551615");
    }

    @Test
    void pickleFileIsNotMistakenForSafetensors() throws Exception {
        byte[] pickle = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20};
        Path file = Files.write(dir.resolve("pytorch_model.safetensors"), pickle);
        assertFormatError(file).hasMessageContaining("absurd");
    }

    @Test
    void headerThatIsNotJsonIsRejected() throws Exception {
        assertFormatError(header("{\"w\": {\"dtype\": ", 0)).hasMessageContaining("not valid JSON");
        assertFormatError(header("\u0000\u0000\u0000", 0)).hasMessageContaining("not valid JSON");
        assertFormatError(header("{} trailing", 0)).hasMessageContaining("not valid JSON");
    }

    @Test
    void corruptedHeaderOfRealCheckpointIsRejected() throws Exception {
        Path file = copyOfFixture();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap("#".getBytes(StandardCharsets.US_ASCII)), 8);
        }
        assertFormatError(file).hasMessageContaining("not valid JSON");
    }

    @Test
    void headerThatIsNotAnObjectIsRejected() throws Exception {
        assertFormatError(header("[1, 2]", 0)).hasMessageContaining("header is a JSON array; expected a JSON object");
        assertFormatError(header("        ", 0)).hasMessageContaining("header is empty");
    }

    @Test
    void tensorEntryMissingAKeyIsRejected() throws Exception {
        assertFormatError(header("{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4))
                .hasMessageContaining("tensor \"w\" has no \"dtype\"");
        assertFormatError(header("{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4))
                .hasMessageContaining("tensor \"w\" has no \"shape\"");
        assertFormatError(header("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4))
                .hasMessageContaining("tensor \"w\" has no \"data_offsets\"");
        assertFormatError(header("{\"w\": 5}", 4)).hasMessageContaining("expected an object with \"dtype\"");
    }

    @Test
    void unknownDtypeIsRejectedListingSupportedOnes() throws Exception {
        assertFormatError(header("{\"w\": {\"dtype\": \"F8_E4M3\", \"shape\": [4], \"data_offsets\": [0, 4]}}", 4))
                .hasMessageContaining("\"F8_E4M3\"").hasMessageContaining("supported: F64, F32, F16, BF16");
        assertFormatError(header("{\"w\": {\"dtype\": \"f32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4))
                .hasMessageContaining("did you mean \"F32\"");
    }

    @Test
    void negativeDimensionIsRejected() throws Exception {
        assertFormatError(header("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1, 2], \"data_offsets\": [0, 8]}}", 8))
                .hasMessageContaining("negative dimension -1");
    }

    @Test
    void nonIntegerShapeOrOffsetIsRejected() throws Exception {
        assertFormatError(header("{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4))
                .hasMessageContaining("expected an integer");
        assertFormatError(header("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4))
                .hasMessageContaining("expected an array [begin, end]");
        assertFormatError(header("{\"w\": {\"dtype\": \"F32\", \"shape\": [99999999999999999999], "
                + "\"data_offsets\": [0, 4]}}", 4)).hasMessageContaining("expected an integer");
    }

    @Test
    void dataOffsetsEndBeforeBeginIsRejected() throws Exception {
        assertFormatError(header("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}}", 8))
                .hasMessageContaining("end < begin");
    }

    @Test
    void byteLengthNotMatchingShapeTimesDtypeSizeIsRejected() throws Exception {
        assertFormatError(header("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 12]}}", 12))
                .hasMessageContaining("[0, 12] = 12 bytes").hasMessageContaining("needs 24 bytes");
    }

    @Test
    void shapeWhoseByteSizeOverflowsIsRejected() throws Exception {
        assertFormatError(header("{\"w\": {\"dtype\": \"F64\", \"shape\": [4294967296, 4294967296], "
                + "\"data_offsets\": [0, 8]}}", 8)).hasMessageContaining("more than");
    }

    @Test
    void truncatedRealCheckpointIsReportedAsTruncated() throws Exception {
        Path file = copyOfFixture();
        long size = Files.size(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size - 100);
        }
        assertFormatError(file).hasMessageContaining("truncated: tensor \"model.norm.weight\" needs bytes up to "
                + size + " but the file has only " + (size - 100));
    }

    @Test
    void overlappingTensorsAreRejected() throws Exception {
        assertFormatError(header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12))
                .hasMessageContaining("\"a\"").hasMessageContaining("\"b\"").hasMessageContaining("overlap");
    }

    @Test
    void duplicateTensorNamesAreRejected() throws Exception {
        assertFormatError(header("{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]},"
                + " \"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}", 2))
                .hasMessageContaining("Duplicate field 'a'");
    }

    @Test
    void nonStringMetadataIsRejected() throws Exception {
        assertFormatError(header("{\"__metadata__\": {\"format\": 1}}", 0))
                .hasMessageContaining("\"__metadata__\" entry \"format\"").hasMessageContaining("must be strings");
    }

    @Test
    void emptyHeaderObjectIsAValidFileWithoutTensors() throws Exception {
        try (SafeTensorsFile file = SafeTensorsFile.open(header("{}      ", 0))) {
            assertThat(file.names()).isEmpty();
            assertThat(file.metadata()).isEmpty();
            assertThatThrownBy(() -> file.info("w")).hasMessageContaining("it has no tensors");
        }
    }
}
