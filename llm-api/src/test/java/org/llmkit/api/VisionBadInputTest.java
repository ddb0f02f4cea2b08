package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.vision.ImageFormatException;

/** Bad images, image tokens that do not match the images, and vision configs the loader does not support fail clearly. */
class VisionBadInputTest {
    private static VisionLanguageModel model;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws Exception {
        model = VisionLanguageModel.from(Fixtures.model("llava")).tokenizer(Fixtures.tokenizerFolder()).load();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void unreadableImageFileIsNamed() throws Exception {
        Path text = dir.resolve("notes.png");
        Files.writeString(text, "this is not an image", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> model.preprocess(text)).isInstanceOf(ImageFormatException.class)
                .hasMessageContaining(text.toString()).hasMessageContaining("not a readable image");
        assertThatThrownBy(() -> model.preprocess("GIF89a truncated".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(ImageFormatException.class).hasMessageContaining("image bytes");
        Path missing = dir.resolve("missing.jpg");
        assertThatThrownBy(() -> model.preprocess(missing)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("missing.jpg");
    }

    @Test
    void truncatedPngIsRefused() throws Exception {
        byte[] png = Files.readAllBytes(Fixtures.model("llava").resolve("image.png"));
        byte[] cut = Arrays.copyOf(png, png.length / 2);
        assertThatThrownBy(() -> model.preprocess(cut)).isInstanceOf(ImageFormatException.class)
                .hasMessageContaining("not a readable image");
    }

    @Test
    void imageTokenCountMustMatchTheImages() {
        int[] ids = Fixtures.ints(Fixtures.reference("llava").get("input_ids").get(0));
        float[][][] px = model.preprocess(new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB));
        int[] oneShort = Arrays.stream(ids).filter(i -> i != 512).toArray();
        int[] fifteen = Arrays.copyOf(oneShort, oneShort.length + 15);
        Arrays.fill(fifteen, oneShort.length, fifteen.length, 512);
        assertThatThrownBy(() -> model.logits(fifteen, px)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("15 image token(s)").hasMessageContaining("need 16");
        assertThatThrownBy(() -> model.generate(ids, List.of(px, px))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("16 image token(s)").hasMessageContaining("2 image(s) need 32");
        assertThatThrownBy(() -> model.generate(oneShort, px)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0 image token(s)");
    }

    @Test
    void placeholderCountMustMatchTheImages() {
        BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        assertThatThrownBy(() -> model.generate(List.of(image), "<image> and <image>"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 image placeholder(s)").hasMessageContaining("1 image(s)");
        assertThatThrownBy(() -> model.encode("no placeholder", 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0 image placeholder(s)");
        assertThatThrownBy(() -> model.chat(List.of(ChatMessage.user("describe it")), List.of(image)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 image placeholder(s)");
    }

    @Test
    void imagePromptsAreNotSilentlyContinuouslyBatchedAsText() {
        int[] ids = Fixtures.ints(Fixtures.reference("llava").get("input_ids").get(0));
        float[][][] px = model.preprocess(new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB));
        org.llmkit.api.generate.BatchDecoder.Listener ignore = new org.llmkit.api.generate.BatchDecoder.Listener() {
            @Override
            public void onPiece(String piece) { }

            @Override
            public void onComplete(org.llmkit.api.generate.GenerationResult result) { }

            @Override
            public void onFailure(Throwable error) { }
        };
        try (ContinuousBatch batch = model.languageModel().continuousBatch(2, 4096)) {
            assertThatThrownBy(() -> batch.admit(model.generate(ids, px).maxNewTokens(2), ignore))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("continuous batching of image prompts is not supported");
        }
    }

    @Test
    void pixelValuesOfTheWrongSizeAreRefused() {
        int[] ids = Fixtures.ints(Fixtures.reference("llava").get("input_ids").get(0));
        float[][][] wrong = new float[3][40][48];
        assertThatThrownBy(() -> model.logits(ids, wrong)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[3][40][48]").hasMessageContaining("[3][32][32]");
        assertThatThrownBy(() -> model.generate(ids, wrong)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("preprocess");
    }

    @Test
    void unsupportedVisionTowerIsNamed() throws Exception {
        Path folder = copyWith(c -> ((ObjectNode) c.get("vision_config")).put("model_type", "siglip_vision_model"));
        assertThatThrownBy(() -> VisionLanguageModel.load(folder)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.json")
                .hasMessageContaining("vision_config.model_type 'siglip_vision_model' is not supported")
                .hasMessageContaining("clip_vision_model");
    }

    @Test
    void unsupportedModelTypeIsNamed() throws Exception {
        Path folder = copyWith(c -> c.put("model_type", "llava_next"));
        assertThatThrownBy(() -> VisionLanguageModel.load(folder)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model_type 'llava_next' is not a supported vision-language model");
    }

    @Test
    void unsupportedFeatureStrategyLayerAndActivationAreNamed() throws Exception {
        Path strategy = copyWith(c -> c.put("vision_feature_select_strategy", "cls_only"));
        assertThatThrownBy(() -> VisionLanguageModel.load(strategy)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("vision_feature_select_strategy 'cls_only' is not supported")
                .hasMessageContaining("default, full");
        Path layer = copyWith(c -> c.put("vision_feature_layer", -5));
        assertThatThrownBy(() -> VisionLanguageModel.load(layer)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("vision_feature_layer -5").hasMessageContaining("-3 to 2");
        Path act = copyWith(c -> ((ObjectNode) c.get("vision_config")).put("hidden_act", "swiglu"));
        assertThatThrownBy(() -> VisionLanguageModel.load(act)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("vision_config: vision hidden_act 'swiglu' is not supported");
        Path patch = copyWith(c -> ((ObjectNode) c.get("vision_config")).put("patch_size", 7));
        assertThatThrownBy(() -> VisionLanguageModel.load(patch)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("image_size (32) is not a multiple of patch_size (7)");
    }

    @Test
    void textModelIsNotAVisionModel() {
        assertThatThrownBy(() -> VisionLanguageModel.load(Fixtures.model("llama3")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("model_type 'llama'");
    }

    @Test
    void checkpointWithoutAVisionTowerIsNamed() throws Exception {
        Path folder = copyWith(c -> { });
        // a checkpoint of the text model alone, under the llava config
        Files.copy(Fixtures.model("llama3").resolve("model.safetensors"), folder.resolve("model.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> VisionLanguageModel.load(folder)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("no vision tower");
    }

    private Path copyWith(Consumer<ObjectNode> change) throws Exception {
        Path src = Fixtures.model("llava");
        Path folder = Files.createTempDirectory(dir, "llava");
        for (String f : List.of("model.safetensors", "preprocessor_config.json", "generation_config.json")) {
            Files.copy(src.resolve(f), folder.resolve(f));
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(src.resolve("config.json").toFile());
        change.accept(config);
        json.writeValue(folder.resolve("config.json").toFile(), config);
        assertThat(folder.resolve("config.json")).exists();
        return folder;
    }
}
