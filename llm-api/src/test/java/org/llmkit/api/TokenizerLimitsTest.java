package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Long inputs, Unicode and closing: the places where DJL's defaults would bite. */
class TokenizerLimitsTest {

    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(Fixtures.tokenizerFolder());
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void textOfMoreThan2000TokensIsNotTruncated() {
        String sentence = "Hello world, this is a test.";
        int perSentence = tokenizer.encode(sentence).length;
        String text = IntStream.range(0, 200).mapToObj(i -> sentence).collect(Collectors.joining());
        int[] ids = tokenizer.encode(text);
        assertThat(ids.length).isGreaterThan(2000).isGreaterThanOrEqualTo(200 * (perSentence - 1));
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
        assertThat(tokenizer.encode(text, true)).hasSize(ids.length);
    }

    @Test
    void manyDifferentTokensSurviveWithoutPaddingOrTruncation() {
        String text = IntStream.range(0, 3000).mapToObj(Integer::toString).collect(Collectors.joining(" "));
        int[] ids = tokenizer.encode(text);
        assertThat(ids.length).isGreaterThan(2000);
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
    }

    @Test
    void multiByteUtf8RoundTrips() {
        String[] texts = {
            "emoji 👋🏽 and family 👨‍👩‍👧‍👦",
            "日本語のテキスト、中文文本，한국어 텍스트",
            "mixed: naïve café — “quotes” € 𝄞 \u0000 tab\tnewline\n",
            "🙂",
        };
        for (String text : texts) {
            int[] ids = tokenizer.encode(text);
            assertThat(ids).as("ids of %s", text).isNotEmpty();
            assertThat(tokenizer.decode(ids)).as("round trip of %s", text).isEqualTo(text);
        }
    }

    @Test
    void emptyTextEncodesToNoIdsAndBack() {
        assertThat(tokenizer.encode("")).isEmpty();
        assertThat(tokenizer.decode(new int[0])).isEmpty();
    }

    @Test
    void closedTokenizerRefusesWorkAndNamesItsFolder() throws IOException {
        Tokenizer closed = Tokenizer.load(Fixtures.tokenizerFolder());
        closed.close();
        closed.close();
        assertThatThrownBy(() -> closed.encode("x"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed")
                .hasMessageContaining(Fixtures.tokenizerFolder().toString());
    }

    @Test
    void negativeIdsAreRejectedByDecode() {
        assertThatThrownBy(() -> tokenizer.decode(new int[] {1, -3}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ids[1]");
    }
}
