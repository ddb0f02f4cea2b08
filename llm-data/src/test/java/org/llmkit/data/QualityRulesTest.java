package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each junk document breaks exactly the rule it is named for; prose passes every rule. */
class QualityRulesTest {

    private final Random random = new Random(3);
    private final QualityRules gopher = QualityRules.gopher();

    @Test
    void proseOfAHundredWordsPassesEveryGopherRule() {
        for (int i = 0; i < 20; i++) {
            assertThat(gopher.firstFailure(Corpora.prose(random, 100 + i * 20))).isNull();
        }
    }

    @Test
    void eachJunkDocumentIsDroppedByTheRuleNamedForIt() {
        String prose = Corpora.prose(random, 120);
        Map<String, String> junk = Map.of(
                "word_count", "Too short to be a real document, with the words of it.",
                "mean_word_length", "a b c d e f g h i j k l m n o p q r s t u v w x y z ".repeat(3) + "the and of",
                "symbol_ratio", prose + " #tag".repeat(30),
                "alphabetic_words", prose.substring(0, 200) + " 2024 1999 3141 2718 1618 1234 5678 9012 3456 7890".repeat(10),
                "stop_words", "Quarterly revenue rose sharply; analysts expected smaller gains. ".repeat(1)
                        + Corpora.uniqueWords(random, 80).stream().reduce((a, b) -> a + " " + b).orElseThrow(),
                "duplicate_lines", String.join("\n", repeatLines(prose)));
        junk.forEach((rule, text) -> assertThat(gopher.firstFailure(text)).as(rule).isEqualTo(rule));
    }

    private List<String> repeatLines(String prose) {
        List<String> lines = new ArrayList<>();
        String[] sentences = prose.split("\\. ");
        for (int i = 0; i < sentences.length; i++) {
            lines.add(sentences[i % 3] + ".");
        }
        return lines;
    }

    @Test
    void pipelineCountsDropsPerRule() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            texts.add(Corpora.prose(random, 100));
        }
        texts.add("short text");
        texts.add("lorem ipsum " + Corpora.prose(random, 100));
        PipelineReport report = Pipeline.from(Dataset.of(texts))
                .quality(QualityRules.gopher().and(QualityRules.c4())).run(d -> { });
        assertThat(report.count("quality", "word_count")).isEqualTo(1);
        assertThat(report.count("quality", "lorem_ipsum")).isEqualTo(1);
        assertThat(report.count("quality", "out")).isEqualTo(10);
    }

    @Test
    void rulesCanBeRemovedAndAddedByName() {
        QualityRules rules = QualityRules.gopher().without("word_count")
                .with(QualityRule.of("max_chars", "<= 30 chars", s -> s.text().length() <= 30));
        assertThat(rules.names()).doesNotContain("word_count").endsWith("max_chars");
        assertThatThrownBy(() -> QualityRules.gopher().without("no_such_rule"))
                .hasMessageContaining("no rule named \"no_such_rule\"").hasMessageContaining("word_count");
        assertThatThrownBy(() -> QualityRules.gopher().and(QualityRules.gopher()))
                .hasMessageContaining("two rules are named \"word_count\"");
    }
}
