package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.io.CheckpointFiles;

/** A saved vision-language model loads back computing the same function, changed weights included. */
class VisionSaveLoadTest {
    @TempDir
    Path dir;

    @Test
    void savedModelLoadsBackWithItsChangedProjector() throws Exception {
        int[] ids = Fixtures.ints(Fixtures.reference("llava").get("input_ids").get(0));
        try (VisionLanguageModel m = VisionLanguageModel.from(Fixtures.model("llava"))
                .tokenizer(Fixtures.tokenizerFolder()).load()) {
            float[][][] px = m.preprocess(Fixtures.model("llava").resolve("image.png"));
            float[][] original = m.logits(ids, px);
            NDArray bias = m.block().projector().parameters().get("linear_2.bias").getArray();
            try (NDArray shifted = bias.add(m.languageModel().manager().full(bias.getShape(), 0.5f))) {
                m.block().projector().setWeight("linear_2.bias", shifted.duplicate());
            }
            float[][] changed = m.logits(ids, px);
            assertThat(Fixtures.maxAbsDiff(changed[ids.length - 1], original[ids.length - 1])).isGreaterThan(1e-3);
            m.save(dir);
            try (CheckpointFiles files = CheckpointFiles.open(dir)) {
                assertThat(files.names()).contains("vision_tower.vision_model.embeddings.patch_embedding.weight",
                        "multi_modal_projector.linear_1.weight", "language_model.model.embed_tokens.weight",
                        "language_model.lm_head.weight");
            }
            assertThat(dir.resolve("preprocessor_config.json")).exists();
            assertThat(dir.resolve("tokenizer.json")).exists();
            assertThat(Files.readString(dir.resolve("config.json")))
                    .isEqualTo(Files.readString(Fixtures.model("llava").resolve("config.json")));
            try (VisionLanguageModel back = VisionLanguageModel.load(dir)) {
                float[][] reloaded = back.logits(ids, px);
                for (int t = 0; t < ids.length; t++) {
                    assertThat(reloaded[t]).containsExactly(changed[t]);
                }
                assertThat(back.hasTokenizer()).isTrue();
            }
        }
    }
}
