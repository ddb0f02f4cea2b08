package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.VisionLanguageModel;
import org.llmkit.api.tensor.LogSoftmax;
import org.llmkit.api.vision.ImageTextSequence;
import org.llmkit.data.ImageTextDataset;

/** Exact match and perplexity of a vision-language model over image-text pairs, on hf-tiny/llava. */
class ImageTextEvalTest {
    private static VisionLanguageModel model;

    @TempDir
    static Path dir;

    @BeforeAll
    static void load() throws Exception {
        model = VisionLanguageModel.from(org.llmkit.api.Fixtures.model("llava"))
                .tokenizer(org.llmkit.api.Fixtures.hfTiny().resolve("tokenizer")).load();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static Path image(String name, Color c) throws Exception {
        BufferedImage image = new BufferedImage(36, 32, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, 36, 32);
        g.dispose();
        Path p = dir.resolve(name);
        ImageIO.write(image, "png", p.toFile());
        return p;
    }

    @Test
    void exactMatchComparesGreedyGenerationsWithTheTargets() throws Exception {
        Path red = image("red.png", Color.RED);
        Path blue = image("blue.png", Color.BLUE);
        String said = model.generate(ImageIO.read(red.toFile()), "Caption:").maxNewTokens(3).greedy().text();
        assertThat(said).isNotBlank();
        ImageTextDataset data = ImageTextDataset.of(List.of(
                new ImageTextDataset.Example(List.of(red), "Caption:", "  " + said.strip() + " "),
                new ImageTextDataset.Example(List.of(blue), "Caption:", said + " and more")));
        ImageTextEval.Result r = ImageTextEval.of(model).maxNewTokens(3).run(data);
        assertThat(r.exactMatch()).isEqualTo(0.5);
        assertThat(r.predictions().get(0)).isEqualTo(said);
        assertThat(ImageTextEval.of(model).maxNewTokens(3).exactMatch(data)).isEqualTo(0.5);
    }

    @Test
    void perplexityScoresTheTargetTextAndEosOnly() throws Exception {
        Path red = image("red2.png", new Color(180, 20, 20));
        Path blue = image("blue2.png", new Color(20, 20, 180));
        ImageTextDataset data = ImageTextDataset.of(List.of(ImageTextDataset.Example.of(red, "the"),
                new ImageTextDataset.Example(List.of(blue), "What colour? <image> Answer:", "you and the")));
        // the same quantity from the logits, one example at a time
        double nats = 0;
        long count = 0;
        for (ImageTextDataset.Example e : data.examples()) {
            ImageTextSequence s = model.sequence(model.preprocess(e.images().get(0)), e.prompt(), e.text());
            float[][] logits = model.logits(s.ids(), s.images());
            for (int p = s.firstScored(); p < s.ids().length; p++) {
                nats -= LogSoftmax.of(logits[p - 1], s.ids()[p]);
                count++;
            }
        }
        ImageTextEval.Result r = ImageTextEval.of(model).batchSize(2).maxNewTokens(1).run(data);
        assertThat(r.scoredTokens()).isEqualTo(count);
        assertThat(r.loss()).isCloseTo(nats / count, org.assertj.core.data.Offset.offset(1e-5));
        assertThat(r.perplexity()).isCloseTo(Math.exp(nats / count), org.assertj.core.data.Percentage.withPercentage(1e-3));
        assertThat(ImageTextEval.of(model).batchSize(1).perplexity(data)).isCloseTo(r.perplexity(),
                org.assertj.core.data.Percentage.withPercentage(1e-3));
    }
}
