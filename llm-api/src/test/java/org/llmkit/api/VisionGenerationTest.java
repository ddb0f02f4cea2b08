package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Prompts with image placeholders, chat with images and several images per prompt, on hf-tiny/llava. */
class VisionGenerationTest {
    private static VisionLanguageModel model;

    @BeforeAll
    static void load() throws Exception {
        model = VisionLanguageModel.from(Fixtures.model("llava")).tokenizer(Fixtures.tokenizerFolder()).load();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static BufferedImage solid(Color color, int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(color);
        g.fillRect(0, 0, width, height);
        g.dispose();
        return image;
    }

    @Test
    void encodeExpandsEachPlaceholderToTheImageTokens() {
        int[] ids = model.encode("A <image> B <image>", 2);
        int image = model.config().imageTokenIndex();
        int first = indexOf(ids, image);
        assertThat(Arrays.stream(ids).filter(i -> i == image).count()).isEqualTo(32);
        assertThat(Arrays.copyOfRange(ids, first, first + 16)).containsOnly(image);
        assertThat(Arrays.copyOfRange(ids, 0, first)).containsExactly(model.tokenizer().encode("A ", true));
        assertThat(ids[ids.length - 1]).isEqualTo(image);
    }

    @Test
    void imageChangesOnlyThePositionsAfterIt() {
        int[] ids = model.encode("before <image> after", 1);
        int firstImage = indexOf(ids, model.config().imageTokenIndex());
        float[][] red = model.logits(ids, model.preprocess(solid(Color.RED, 50, 40)));
        float[][] blue = model.logits(ids, model.preprocess(solid(Color.BLUE, 50, 40)));
        for (int t = 0; t < firstImage; t++) {
            assertThat(Fixtures.maxAbsDiff(red[t], blue[t])).as("position %d before the image", t).isZero();
        }
        assertThat(Fixtures.maxAbsDiff(red[ids.length - 1], blue[ids.length - 1])).isGreaterThan(1e-3);
    }

    @Test
    void promptWithoutPlaceholderGetsTheImageFirst() {
        BufferedImage image = solid(Color.GREEN, 32, 32);
        int[] implicit = model.generate(image, "what is it").maxNewTokens(4).greedy().tokens();
        int[] explicit = model.generate(image, "<image>\nwhat is it").maxNewTokens(4).greedy().tokens();
        assertThat(implicit).containsExactly(explicit);
        int[] fromIds = model.generate(model.encode("<image>\nwhat is it", 1), model.preprocess(image))
                .maxNewTokens(4).greedy().tokens();
        assertThat(fromIds).containsExactly(explicit);
        assertThat(model.generate(image, "what is it").maxNewTokens(4).greedy().text()).isNotNull();
    }

    @Test
    void chatMessagesCarryImages() {
        BufferedImage image = solid(Color.ORANGE, 32, 32);
        List<ChatMessage> messages = List.of(ChatMessage.user("<image>\nDescribe the picture."));
        int[] out = model.chat(messages, List.of(image)).maxNewTokens(3).greedy().tokens();
        String rendered = model.tokenizer().applyChatTemplate(messages, true);
        assertThat(rendered).contains("<image>");
        int[] prompt = Arrays.copyOf(out, out.length - 3);
        assertThat(prompt).containsExactly(encodeWithoutSpecials(rendered));
    }

    @Test
    void severalImagesTakeTheirPlaceholdersInOrder() {
        float[][][] red = model.preprocess(solid(Color.RED, 32, 32));
        float[][][] blue = model.preprocess(solid(Color.BLUE, 32, 32));
        int[] ids = model.encode("<image> then <image>", 2);
        float[][] redBlue = model.logits(ids, List.of(red, blue));
        float[][] blueRed = model.logits(ids, List.of(blue, red));
        int last = ids.length - 1;
        assertThat(Fixtures.maxAbsDiff(redBlue[last], blueRed[last])).isGreaterThan(1e-3);
        // the first image alone decides the positions up to its last token
        int[] first = model.encode("<image>", 1);
        float[][] redOnly = model.logits(first, red);
        assertThat(Fixtures.maxAbsDiff(redBlue[first.length - 1], redOnly[first.length - 1])).isLessThan(1e-5);
    }

    private static int[] encodeWithoutSpecials(String rendered) {
        String[] parts = rendered.split("<image>", -1);
        int[] head = model.tokenizer().encode(parts[0], false);
        int[] tail = model.tokenizer().encode(parts[1], false);
        int[] out = Arrays.copyOf(head, head.length + 16 + tail.length);
        Arrays.fill(out, head.length, head.length + 16, model.config().imageTokenIndex());
        System.arraycopy(tail, 0, out, head.length + 16, tail.length);
        return out;
    }

    private static int indexOf(int[] ids, int id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id) {
                return i;
            }
        }
        return -1;
    }
}
