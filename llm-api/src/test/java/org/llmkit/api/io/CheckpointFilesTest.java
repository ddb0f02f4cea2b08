package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointFilesTest {

    private static final String SHARD_1 = "model-00001-of-00002.safetensors";
    private static final String SHARD_2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path dir;

    /** Writes two shards and their index; returns the weight map written. */
    private Map<String, String> writeShardedCheckpoint() throws Exception {
        SafeTensorsWriter first = SafeTensorsWriter.create()
                .add("model.embed_tokens.weight", TensorDType.F32, new long[] {2, 2}, RawFiles.floats(1, 2, 3, 4))
                .add("model.layers.0.weight", TensorDType.F32, new long[] {2}, RawFiles.floats(5, 6));
        SafeTensorsWriter second = SafeTensorsWriter.create()
                .metadata("shard", "2")
                .add("model.norm.weight", TensorDType.BF16, new long[] {2},
                        RawFiles.shorts(Half.floatToBf16(7f), Half.floatToBf16(8f)))
                .add("lm_head.weight", TensorDType.F32, new long[] {1}, RawFiles.floats(9));
        first.writeTo(dir.resolve(SHARD_1));
        second.writeTo(dir.resolve(SHARD_2));
        Map<String, String> weightMap = new LinkedHashMap<>();
        weightMap.put("model.embed_tokens.weight", SHARD_1);
        weightMap.put("model.layers.0.weight", SHARD_1);
        weightMap.put("model.norm.weight", SHARD_2);
        weightMap.put("lm_head.weight", SHARD_2);
        SafeTensorsWriter.writeIndex(dir, weightMap, first.dataSize() + second.dataSize());
        return weightMap;
    }

    @Test
    void shardedIndexOverTwoFilesExposesEveryTensorFromItsShard() throws Exception {
        writeShardedCheckpoint();
        assertThat(CheckpointFiles.exists(dir)).isTrue();
        try (CheckpointFiles checkpoint = CheckpointFiles.open(dir)) {
            assertThat(checkpoint.names()).containsExactly("model.embed_tokens.weight", "model.layers.0.weight",
                    "model.norm.weight", "lm_head.weight");
            assertThat(checkpoint.files()).hasSize(2);
            assertThat(checkpoint.fileOf("model.layers.0.weight")).isEqualTo(dir.resolve(SHARD_1));
            assertThat(checkpoint.fileOf("lm_head.weight")).isEqualTo(dir.resolve(SHARD_2));
            assertThat(checkpoint.info("model.norm.weight").dtype()).isEqualTo(TensorDType.BF16);
            assertThat(checkpoint.map("model.embed_tokens.weight").getFloat(12)).isEqualTo(4f);
            assertThat(checkpoint.map("lm_head.weight").getFloat(0)).isEqualTo(9f);
            assertThat(Half.bf16ToFloat(checkpoint.map("model.norm.weight", 2, 2).getShort(0))).isEqualTo(8f);
            assertThat(checkpoint.metadata()).containsEntry("format", "pt").doesNotContainKey("shard");
            assertThatThrownBy(() -> checkpoint.info("model.norm.weights"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(dir.toString()).hasMessageContaining("[model.norm.weight, ");
        }
    }

    @Test
    void writtenIndexHasHuggingFaceLayout() throws Exception {
        writeShardedCheckpoint();
        String json = Files.readString(dir.resolve(CheckpointFiles.INDEX_FILE));
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        assertThat(root.path("metadata").path("total_size").asLong()).isEqualTo(16 + 8 + 4 + 4);
        assertThat(root.path("weight_map").path("lm_head.weight").asText()).isEqualTo(SHARD_2);
    }

    @Test
    void indexNamingAMissingShardFailsNamingTheShard() throws Exception {
        writeShardedCheckpoint();
        Files.delete(dir.resolve(SHARD_2));
        assertThatThrownBy(() -> CheckpointFiles.open(dir))
                .isInstanceOf(SafeTensorsFormatException.class)
                .hasMessageContaining(CheckpointFiles.INDEX_FILE)
                .hasMessageContaining(SHARD_2).hasMessageContaining("does not exist");
    }

    @Test
    void tensorListedInIndexButAbsentFromShardFails() throws Exception {
        Map<String, String> weightMap = writeShardedCheckpoint();
        weightMap.put("model.layers.1.weight", SHARD_1);
        SafeTensorsWriter.writeIndex(dir, weightMap, 0);
        assertThatThrownBy(() -> CheckpointFiles.open(dir))
                .isInstanceOf(SafeTensorsFormatException.class)
                .hasMessageContaining("\"model.layers.1.weight\"").hasMessageContaining(SHARD_1)
                .hasMessageContaining("has no such tensor").hasMessageContaining("model.layers.0.weight");
    }

    @Test
    void indexShardNamesMayNotEscapeTheFolder() throws Exception {
        writeShardedCheckpoint();
        SafeTensorsWriter.writeIndex(dir, Map.of("w", "../" + SHARD_1), 0);
        assertThatThrownBy(() -> CheckpointFiles.open(dir))
                .isInstanceOf(SafeTensorsFormatException.class).hasMessageContaining("plain file name");
    }

    @Test
    void malformedIndexIsAFormatError() throws Exception {
        Files.writeString(dir.resolve(CheckpointFiles.INDEX_FILE), "{\"weight_map\": [");
        assertThatThrownBy(() -> CheckpointFiles.open(dir))
                .isInstanceOf(SafeTensorsFormatException.class).hasMessageContaining("not valid JSON");
        Files.writeString(dir.resolve(CheckpointFiles.INDEX_FILE), "{\"metadata\": {}}");
        assertThatThrownBy(() -> CheckpointFiles.open(dir))
                .isInstanceOf(SafeTensorsFormatException.class).hasMessageContaining("no \"weight_map\"");
    }

    @Test
    void folderWithoutWeightsFailsSayingWhatIsMissing() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{}");
        assertThat(CheckpointFiles.exists(dir)).isFalse();
        assertThatThrownBy(() -> CheckpointFiles.open(dir))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("no model.safetensors or model.safetensors.index.json in " + dir);
    }

    @Test
    void singleOddlyNamedSafetensorsFileIsUsedButTwoAreAmbiguous() throws Exception {
        SafeTensorsWriter.create().add("w", TensorDType.F32, new long[] {1}, RawFiles.floats(1))
                .writeTo(dir.resolve("adapter.safetensors"));
        assertThat(CheckpointFiles.exists(dir)).isTrue();
        try (CheckpointFiles checkpoint = CheckpointFiles.open(dir)) {
            assertThat(checkpoint.names()).containsExactly("w");
            assertThat(checkpoint.fileOf("w")).isEqualTo(dir.resolve("adapter.safetensors"));
        }
        SafeTensorsWriter.create().add("v", TensorDType.F32, new long[] {1}, RawFiles.floats(1))
                .writeTo(dir.resolve("other.safetensors"));
        assertThat(CheckpointFiles.exists(dir)).isFalse();
        assertThatThrownBy(() -> CheckpointFiles.open(dir))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("adapter.safetensors, other.safetensors").hasMessageContaining("ambiguous");
    }

    @Test
    void modelSafetensorsWinsOverOtherSafetensorsFiles() throws Exception {
        SafeTensorsWriter.create().add("main", TensorDType.F32, new long[] {1}, RawFiles.floats(1))
                .writeTo(dir.resolve(CheckpointFiles.SINGLE_FILE));
        SafeTensorsWriter.create().add("extra", TensorDType.F32, new long[] {1}, RawFiles.floats(1))
                .writeTo(dir.resolve("adapter_model.safetensors"));
        try (CheckpointFiles checkpoint = CheckpointFiles.open(dir)) {
            assertThat(checkpoint.names()).containsExactly("main");
        }
    }

    @Test
    void existsIsFalseForMissingFolder() {
        assertThat(CheckpointFiles.exists(dir.resolve("nope"))).isFalse();
        assertThatThrownBy(() -> CheckpointFiles.open(dir.resolve("nope"))).isInstanceOf(NoSuchFileException.class);
    }
}
