package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.nn.Parameter;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.VisionLanguageModel;
import org.llmkit.data.ImageTextDataset;

/**
 * Fine-tuning a vision-language model learns what the images show: on hf-tiny/llava (random weights), solid red
 * and solid blue pictures of varying shades captioned with two different one-token captions.
 */
class VisionFineTuningTest {
    /** Captions that the hf-tiny tokenizer encodes as one token each. */
    static final String RED = "you";
    static final String BLUE = "the";

    @TempDir
    Path dir;

    static VisionLanguageModel load() throws Exception {
        return VisionLanguageModel.from(Fixtures.hfTiny().resolve("llava"))
                .tokenizer(Fixtures.hfTiny().resolve("tokenizer")).load();
    }

    /** Writes solid images of shades of red and blue, and a JSONL naming them with relative paths. */
    private ImageTextDataset colours(String name, int perClass, int shadeOffset) throws Exception {
        Path folder = Files.createDirectories(dir.resolve(name));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < perClass; i++) {
            int shade = 120 + (i * 37 + shadeOffset * 13) % 130;
            lines.add(write(folder, "red" + i + ".png", new Color(shade, 20 + i * 5 % 40, 30), RED));
            lines.add(write(folder, "blue" + i + ".png", new Color(25, 30 + i * 7 % 50, shade), BLUE));
        }
        Path jsonl = folder.resolve("pairs.jsonl");
        Files.write(jsonl, lines, StandardCharsets.UTF_8);
        return ImageTextDataset.jsonl(jsonl);
    }

    private static String write(Path folder, String file, Color color, String caption) throws Exception {
        BufferedImage image = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(color);
        g.fillRect(0, 0, 40, 36);
        g.dispose();
        ImageIO.write(image, "png", folder.resolve(file).toFile());
        return "{\"image\": \"" + file + "\", \"text\": \"" + caption + "\"}";
    }

    @Test
    void projectorLearnsToCaptionColoursWithEverythingElseFrozen() throws Exception {
        ImageTextDataset train = colours("train", 8, 0);
        ImageTextDataset heldOut = colours("validation", 4, 5);
        try (VisionLanguageModel m = load()) {
            assertThat(m.tokenizer().encode(RED)).hasSize(1);
            assertThat(m.tokenizer().encode(BLUE)).hasSize(1).doesNotContain(m.tokenizer().encode(RED)[0]);
            Map<String, float[]> tower = snapshot(m.block().tower().parameters());
            Map<String, float[]> text = snapshot(m.block().text().parameters());
            Map<String, float[]> projector = snapshot(m.block().projector().parameters());
            double accuracyBefore = captionChoiceAccuracy(m, heldOut);
            TrainingResult r = VisionFineTuner.of(m).learningRate(1e-2).batchSize(4).maxSteps(40).seed(3)
                    .evaluateEvery(20, heldOut).train(train);
            double before = r.evaluations().get(0).loss();
            double after = r.evaluations().get(r.evaluations().size() - 1).loss();
            double accuracyAfter = captionChoiceAccuracy(m, heldOut);
            System.out.printf("vision projector-only: held-out loss %.3f -> %.3f, caption choice accuracy %.2f -> %.2f%n",
                    before, after, accuracyBefore, accuracyAfter);
            assertThat(r.evaluations()).extracting(Evaluation::step).containsExactly(0L, 20L, 40L);
            // the frozen random N(0, 0.02) language model bounds its logits (|lm_head row| x |normed state| ~ 1.3),
            // hence how far the loss can fall: the projector can only steer which caption wins
            assertThat(after).isLessThan(before - 0.3);
            assertThat(accuracyBefore).isLessThan(1);
            assertThat(accuracyAfter).isEqualTo(1);
            assertSame(snapshot(m.block().tower().parameters()), tower);
            assertSame(snapshot(m.block().text().parameters()), text);
            assertThat(snapshot(m.block().projector().parameters()).get("linear_1.weight"))
                    .isNotEqualTo(projector.get("linear_1.weight"));
            assertThat(r.trainableParameters()).isEqualTo(m.block().projector().expectedShapes().values().stream()
                    .mapToLong(ai.djl.ndarray.types.Shape::size).sum());
        }
    }

    /** The share of examples whose caption token outscores the other class's right after the image. */
    static double captionChoiceAccuracy(VisionLanguageModel m, ImageTextDataset data) throws Exception {
        int red = m.tokenizer().encode(RED)[0];
        int blue = m.tokenizer().encode(BLUE)[0];
        int right = 0;
        for (ImageTextDataset.Example e : data.examples()) {
            int[] ids = m.encode("<image>\n" + e.prompt(), 1);
            float[] last = m.logits(ids, m.preprocess(e.images().get(0)))[ids.length - 1];
            boolean saysRed = last[red] > last[blue];
            right += saysRed == e.text().equals(RED) ? 1 : 0;
        }
        return right / (double) data.size();
    }

    /** The share of examples whose first generated token is their caption's token. */
    static double captionAccuracy(VisionLanguageModel m, ImageTextDataset data) throws Exception {
        int right = 0;
        for (ImageTextDataset.Example e : data.examples()) {
            int[] out = m.generate(ImageIO.read(e.images().get(0).toFile()), e.prompt()).maxNewTokens(1).greedy()
                    .tokens();
            right += out[out.length - 1] == m.tokenizer().encode(e.text())[0] ? 1 : 0;
        }
        return right / (double) data.size();
    }

    private static void assertSame(Map<String, float[]> now, Map<String, float[]> before) {
        assertThat(now.keySet()).isEqualTo(before.keySet());
        before.forEach((n, v) -> assertThat(now.get(n)).as(n).isEqualTo(v));
    }

    @Test
    void loraOnTheLanguageModelAloneLowersHeldOutLoss() throws Exception {
        ImageTextDataset train = colours("train", 8, 0);
        ImageTextDataset heldOut = colours("validation", 4, 5);
        try (VisionLanguageModel m = load()) {
            Map<String, float[]> projector = snapshot(m.block().projector().parameters());
            TrainingResult r = VisionFineTuner.of(m).projector(false).lora(4, 8, "q_proj", "v_proj", "o_proj")
                    .learningRate(1e-2).batchSize(4).maxSteps(30).seed(3).evaluateEvery(30, heldOut).train(train);
            double before = r.evaluations().get(0).loss();
            double after = r.evaluations().get(1).loss();
            System.out.printf("vision LoRA-only: held-out loss %.3f -> %.3f, caption accuracy %.2f%n", before, after,
                    captionAccuracy(m, heldOut));
            assertThat(after).isLessThan(before - 0.3);
            assertThat(m.languageModel().adapter()).isPresent();
            assertSame(snapshot(m.block().projector().parameters()), projector);
            assertThat(r.trainableParameters()).isEqualTo(m.block().text().adapterShapes().values().stream()
                    .mapToLong(ai.djl.ndarray.types.Shape::size).sum());
        }
    }

    @Test
    void projectorAndLoraTogetherCaptionHeldOutImagesExactly() throws Exception {
        ImageTextDataset train = colours("train", 8, 0);
        ImageTextDataset heldOut = colours("validation", 4, 5);
        try (VisionLanguageModel m = load()) {
            double accuracyBefore = captionAccuracy(m, heldOut);
            TrainingResult r = VisionFineTuner.of(m).lora(8, 16, "q_proj", "v_proj", "o_proj", "down_proj")
                    .learningRate(1e-2).batchSize(4).maxSteps(40).seed(3).evaluateEvery(40, heldOut).train(train);
            double accuracyAfter = captionAccuracy(m, heldOut);
            System.out.printf("vision projector + LoRA: held-out loss %.3f -> %.3f, greedy caption accuracy %.2f -> %.2f%n",
                    r.evaluations().get(0).loss(), r.evaluations().get(1).loss(), accuracyBefore, accuracyAfter);
            assertThat(r.evaluations().get(1).loss()).isLessThan(r.evaluations().get(0).loss() - 1);
            assertThat(accuracyBefore).isLessThan(1);
            assertThat(accuracyAfter).isEqualTo(1);
        }
    }

    @Test
    void nothingToTrainAndBadExamplesAreRefusedBeforeAnyWork() throws Exception {
        ImageTextDataset train = colours("train", 1, 0);
        try (VisionLanguageModel m = load()) {
            assertThatThrownBy(() -> VisionFineTuner.of(m).projector(false).train(train))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nothing to train");
            ImageTextDataset twoPlaceholders = ImageTextDataset.of(List.of(new ImageTextDataset.Example(
                    train.get(0).images(), "<image> and <image>", RED)));
            assertThatThrownBy(() -> VisionFineTuner.of(m).train(twoPlaceholders))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("training data: example 0")
                    .hasMessageContaining("2 image placeholder(s)");
        }
        try (VisionLanguageModel noTokenizer = VisionLanguageModel.load(Fixtures.hfTiny().resolve("llava"))) {
            assertThatThrownBy(() -> VisionFineTuner.of(noTokenizer).train(train))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("tokenizer");
        }
    }

    @Test
    void jsonlErrorsNameTheLine() throws Exception {
        Path jsonl = dir.resolve("bad.jsonl");
        Files.writeString(jsonl, "{\"image\": \"missing.png\", \"text\": \"x\"}\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> ImageTextDataset.jsonl(jsonl)).isInstanceOf(org.llmkit.data.DataFormatException.class)
                .hasMessageContaining("bad.jsonl:1:")
                .hasMessageContaining("image 'missing.png' does not exist");
        Files.writeString(jsonl, "\n{\"text\": \"no image\"}\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> ImageTextDataset.jsonl(jsonl)).hasMessageContaining("bad.jsonl:2:")
                .hasMessageContaining("no image");
    }

    private static Map<String, float[]> snapshot(Map<String, Parameter> params) {
        Map<String, float[]> out = new HashMap<>();
        params.forEach((n, p) -> out.put(n, p.getArray().toFloatArray()));
        return out;
    }
}
