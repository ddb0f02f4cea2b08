package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The LLaVA model computes what transformers' {@code LlavaForConditionalGeneration} computes on hf-tiny/llava:
 * projected image features and logits within 1e-4 from the reference pixel values, identical greedy tokens, and
 * our preprocessing of {@code image.png} within 2e-2 of the CLIP image processor's pixel values.
 */
class VisionReferenceParityTest {
    static final double TOLERANCE = 1e-4;
    static final double PIXEL_TOLERANCE = 2e-2;
    private static VisionLanguageModel model;
    private static JsonNode ref;

    @BeforeAll
    static void load() throws Exception {
        model = VisionLanguageModel.load(Fixtures.model("llava"));
        ref = Fixtures.reference("llava");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static float[][][] referencePixels() {
        JsonNode px = ref.get("pixel_values");
        float[][][] out = new float[px.size()][px.get(0).size()][];
        for (int c = 0; c < out.length; c++) {
            for (int y = 0; y < out[c].length; y++) {
                out[c][y] = Fixtures.floats(px.get(c).get(y));
            }
        }
        return out;
    }

    @Test
    void projectedImageFeaturesMatchTransformers() {
        float[][] features = model.imageFeatures(referencePixels());
        JsonNode expected = ref.get("projected_image_features");
        assertThat(features).hasNumberOfRows(expected.size()).hasNumberOfRows(model.config().imageTokens());
        double worst = 0;
        for (int i = 0; i < features.length; i++) {
            worst = Math.max(worst, Fixtures.maxAbsDiff(features[i], Fixtures.floats(expected.get(i))));
        }
        System.out.printf("llava projected features max abs diff %.3g%n", worst);
        assertThat(worst).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void logitsMatchTransformers() {
        int[] ids = Fixtures.ints(ref.get("input_ids").get(0));
        float[][] logits = model.logits(ids, referencePixels());
        assertThat(logits).hasNumberOfRows(ids.length);
        double worst = 0;
        for (int t = 0; t < logits.length; t++) {
            worst = Math.max(worst, Fixtures.maxAbsDiff(logits[t], Fixtures.floats(ref.get("logits").get(t))));
        }
        System.out.printf("llava logits max abs diff %.3g%n", worst);
        assertThat(worst).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void greedyTokensMatchTransformers() {
        // The fixture ran generate(input_ids, pad_token_id=0) without an attention mask, so transformers inferred
        // one from ids != pad_token_id and masked the leading token 0 as left padding (positions counted from the
        // next token). The same request here is the prompt without that padding token.
        int[] ids = Fixtures.ints(ref.get("input_ids").get(0));
        assertThat(ids[0]).isZero();
        int[] unpadded = java.util.Arrays.copyOfRange(ids, 1, ids.length);
        int[] out = model.generate(unpadded, referencePixels()).maxNewTokens(10).greedy().tokens();
        int[] expected = Fixtures.ints(ref.get("greedy_10"));
        assertThat(out).containsExactly(java.util.Arrays.copyOfRange(expected, 1, expected.length));
    }

    @Test
    void cachedGreedyDecodingAgreesWithTheFullForward() {
        // with token 0 attended to, every generated token is the argmax of an uncached forward over what came before
        int[] ids = Fixtures.ints(ref.get("input_ids").get(0));
        float[][][] px = referencePixels();
        int[] out = model.generate(ids, px).maxNewTokens(10).greedy().ignoreEos().tokens();
        float[][] logits = model.logits(out, px);
        for (int t = ids.length - 1; t < out.length - 1; t++) {
            int best = 0;
            for (int v = 1; v < logits[t].length; v++) {
                best = logits[t][v] > logits[t][best] ? v : best;
            }
            assertThat(out[t + 1]).as("token after position %d", t).isEqualTo(best);
        }
    }

    @Test
    void pillowBackendIsWithinOneGreyLevel() throws Exception {
        Path png = Fixtures.model("llava").resolve("image.png");
        float[][][] px = model.imageProcessor().backend(org.llmkit.api.vision.ImageProcessor.Backend.PILLOW)
                .apply(png);
        float[][][] expected = referencePixels();
        double worst = 0;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < px[c].length; y++) {
                worst = Math.max(worst, Fixtures.maxAbsDiff(px[c][y], expected[c][y]));
            }
        }
        System.out.printf("llava pixel values (Pillow rounding) max abs diff %.3g%n", worst);
        assertThat(worst).isLessThanOrEqualTo(PIXEL_TOLERANCE);
    }

    @Test
    void preprocessingMatchesTheClipImageProcessor() throws Exception {
        Path png = Fixtures.model("llava").resolve("image.png");
        float[][][] expected = referencePixels();
        for (float[][][] px : new float[][][][] {model.preprocess(ImageIO.read(png.toFile())), model.preprocess(png),
                model.preprocess(java.nio.file.Files.readAllBytes(png))}) {
            assertThat(px.length).isEqualTo(3);
            double worst = 0;
            for (int c = 0; c < 3; c++) {
                assertThat(px[c]).hasNumberOfRows(expected[c].length);
                for (int y = 0; y < px[c].length; y++) {
                    worst = Math.max(worst, Fixtures.maxAbsDiff(px[c][y], expected[c][y]));
                }
            }
            int off = 0;
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < px[c].length; y++) {
                    for (int x = 0; x < px[c][y].length; x++) {
                        off += Math.abs(px[c][y][x] - expected[c][y][x]) > 1e-3 ? 1 : 0;
                    }
                }
            }
            System.out.printf("llava pixel values max abs diff %.3g, %d of %d values differ by more than 1e-3%n", worst,
                    off, 3 * 32 * 32);
            assertThat(off).as("values off by a grey level (torchvision's resize is reproduced exactly)").isZero();
            assertThat(worst).isLessThanOrEqualTo(PIXEL_TOLERANCE);
        }
    }
}
