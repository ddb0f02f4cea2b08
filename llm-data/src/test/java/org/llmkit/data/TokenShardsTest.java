package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenShardsTest {

    @TempDir
    Path dir;

    @Test
    void sequencesRoundTripThroughLittleEndianUint16ShardsAndAnIndex() throws Exception {
        int[][] sequences = new int[25][8];
        for (int s = 0; s < 25; s++) {
            for (int t = 0; t < 8; t++) {
                sequences[s][t] = (s * 8 + t) * 300 % 65_536;
            }
        }
        try (TokenShardWriter writer = TokenShardWriter.create(dir, 8, 65_536, 2, 10 * 8 * 2)) {
            for (int[] sequence : sequences) {
                writer.add(sequence);
            }
            writer.finish();
        }
        JsonNode index = new ObjectMapper().readTree(dir.resolve("index.json").toFile());
        assertThat(index.path("dtype").asText()).isEqualTo("uint16");
        assertThat(index.path("shards")).hasSize(3);
        assertThat(index.path("shards").get(2).path("sequences").asInt()).isEqualTo(5);
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("tokens-00001.bin"))).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(raw.getShort(2) & 0xffff).as("second token of sequence 10").isEqualTo(sequences[10][1]);

        try (ShardedTokenDataset data = TokenDataset.open(dir)) {
            data.verify();
            assertThat(data.size()).isEqualTo(25);
            assertThat(data.sequenceLength()).hasValue(8);
            assertThat(data.separatorTokenId()).isEqualTo(2);
            for (int s = 0; s < 25; s++) {
                assertThat(data.get(s)).containsExactly(sequences[s]);
            }
            assertThatThrownBy(() -> data.get(25)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void vocabulariesAbove65536UseUint32() throws Exception {
        try (TokenShardWriter writer = TokenShardWriter.create(dir, 2, 100_000, -1)) {
            writer.add(new int[] {99_999, 70_000});
            writer.finish();
        }
        try (TokenDataset data = TokenDataset.open(dir)) {
            assertThat(data.get(0)).containsExactly(99_999, 70_000);
        }
        assertThat(Files.size(dir.resolve("tokens-00000.bin"))).isEqualTo(8);
    }

    @Test
    void aWriterThatDiesBeforeFinishingLeavesNoIndexAndNoHalfWrittenShard() throws Exception {
        TokenShardWriter writer = TokenShardWriter.create(dir, 4, 512, 0, 4 * 2 * 3);
        for (int s = 0; s < 5; s++) {
            writer.add(new int[] {1, 2, 3, 4});
        }
        writer.close(); // as a crash would: no finish()
        assertThat(dir.resolve("index.json")).doesNotExist();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("tokens-00000.bin");
        }
        assertThatThrownBy(() -> TokenDataset.open(dir)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("writing did not finish");
    }

    @Test
    void rewritingAFolderRemovesTheOldIndexBeforeTheFirstNewShard() throws Exception {
        try (TokenShardWriter writer = TokenShardWriter.create(dir, 2, 512, -1)) {
            writer.add(new int[] {1, 2});
            writer.finish();
        }
        TokenShardWriter again = TokenShardWriter.create(dir, 2, 512, -1);
        assertThat(dir.resolve("index.json")).doesNotExist();
        again.close();
    }

    @Test
    void truncatedOrCorruptShardsAreDetected() throws Exception {
        try (TokenShardWriter writer = TokenShardWriter.create(dir, 4, 512, -1)) {
            writer.add(new int[] {1, 2, 3, 4});
            writer.add(new int[] {5, 6, 7, 8});
            writer.finish();
        }
        Path shard = dir.resolve("tokens-00000.bin");
        try (RandomAccessFile file = new RandomAccessFile(shard.toFile(), "rw")) {
            file.seek(3);
            file.write(9);
        }
        try (ShardedTokenDataset data = TokenDataset.open(dir)) {
            assertThatThrownBy(data::verify).hasMessageContaining("tokens-00000.bin: SHA-256 is");
        }
        try (RandomAccessFile file = new RandomAccessFile(shard.toFile(), "rw")) {
            file.setLength(10);
        }
        assertThatThrownBy(() -> TokenDataset.open(dir)).hasMessageContaining("tokens-00000.bin: 10 bytes, but")
                .hasMessageContaining("lists 16");
    }

    @Test
    void writerRejectsIdsOutsideTheVocabularyAndWrongLengths() throws Exception {
        try (TokenShardWriter writer = TokenShardWriter.create(dir, 2, 512, -1)) {
            assertThatThrownBy(() -> writer.add(new int[] {1, 512}))
                    .hasMessageContaining("token 1 of sequence 0 is 512, outside the vocabulary [0, 512)");
            assertThatThrownBy(() -> writer.add(new int[] {1}))
                    .hasMessageContaining("sequence has 1 tokens, expected 2");
        }
        assertThatThrownBy(() -> TokenShardWriter.create(dir, 0, 512, -1))
                .hasMessageContaining("sequenceLength must be at least 1, was 0");
    }
}
