package org.llmkit.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Reads the tiny Llama 3 checkpoint written by HuggingFace transformers. */
class SafeTensorsFixtureTest {

    static final Path FOLDER = Path.of("/work/shared/fixtures/hf-tiny/llama3");
    static final Path FILE = FOLDER.resolve("model.safetensors");

    @BeforeAll
    static void fixturePresent() {
        assumeTrue(Files.isRegularFile(FILE), "fixture " + FILE + " not present");
    }

    @Test
    void headerOfRealCheckpointParsesWithExpectedNamesShapesAndDtypes() throws Exception {
        try (SafeTensorsFile file = SafeTensorsFile.open(FILE)) {
            assertThat(file.metadata()).containsEntry("format", "pt");
            assertThat(file.names()).hasSize(30).contains("lm_head.weight", "model.norm.weight",
                    "model.layers.2.self_attn.v_proj.weight");
            TensorInfo embed = file.info("model.embed_tokens.weight");
            assertThat(embed.dtype()).isEqualTo(TensorDType.F32);
            assertThat(embed.shape()).containsExactly(512, 96);
            assertThat(embed.byteLength()).isEqualTo(512L * 96 * 4);
            assertThat(file.info("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(32, 96);
            assertThat(file.info("model.layers.1.mlp.down_proj.weight").shape()).containsExactly(96, 256);
            assertThat(file.info("model.norm.weight").shape()).containsExactly(96);
        }
    }

    @Test
    void namesAreInFileOrderWithContiguousData() throws Exception {
        try (SafeTensorsFile file = SafeTensorsFile.open(FILE)) {
            long expectedBegin = 8 + RawFiles.headerLength(FILE);
            for (String name : file.names()) {
                assertThat(file.info(name).begin()).as(name).isEqualTo(expectedBegin);
                expectedBegin = file.info(name).end();
            }
            assertThat(expectedBegin).isEqualTo(Files.size(FILE));
        }
    }

    @Test
    void mappedNormWeightEqualsValuesParsedByHandFromTheFileBytes() throws Exception {
        byte[] raw = Files.readAllBytes(FILE);
        ByteBuffer whole = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        try (SafeTensorsFile file = SafeTensorsFile.open(FILE)) {
            TensorInfo norm = file.info("model.norm.weight");
            ByteBuffer mapped = file.map("model.norm.weight");
            assertThat(mapped.remaining()).isEqualTo(96 * 4);
            for (int i = 0; i < 96; i++) {
                float byHand = whole.getFloat((int) norm.begin() + 4 * i);
                assertThat(mapped.getFloat(4 * i)).as("element %d", i).isEqualTo(byHand);
            }
            // Independent check of the absolute offset: header JSON says data_offsets [1575168, 1575552].
            assertThat(norm.begin()).isEqualTo(8 + RawFiles.headerLength(FILE) + 1575168);
            ByteBuffer row = file.map("model.embed_tokens.weight", 3L * 96 * 4, 96 * 4);
            TensorInfo embed = file.info("model.embed_tokens.weight");
            assertThat(row.getFloat(0)).isEqualTo(whole.getFloat((int) embed.begin() + 3 * 96 * 4));
        }
    }

    @Test
    void checkpointFolderWithSingleFileExposesAllTensors() throws Exception {
        assertThat(CheckpointFiles.exists(FOLDER)).isTrue();
        try (CheckpointFiles checkpoint = CheckpointFiles.open(FOLDER)) {
            assertThat(checkpoint.names()).hasSize(30);
            assertThat(checkpoint.fileOf("lm_head.weight")).isEqualTo(FILE);
            assertThat(checkpoint.metadata()).containsEntry("format", "pt");
            assertThat(checkpoint.map("model.norm.weight").remaining()).isEqualTo(96 * 4);
        }
    }
}
