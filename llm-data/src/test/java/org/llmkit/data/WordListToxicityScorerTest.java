package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class WordListToxicityScorerTest {

    @Test
    void scoreIsTheDensityOfListedWordsOverTheSaturationDensity() {
        WordListToxicityScorer scorer = WordListToxicityScorer.of(List.of("Badword"));
        String clean = "word ".repeat(99);
        assertThat(scorer.score(clean + "fine")).isZero();
        assertThat(scorer.score(clean + "BADWORD!")).isEqualTo(0.5);
        assertThat(scorer.score("badword badword")).isEqualTo(1.0);
        assertThat(scorer.saturationDensity(0.01).score(clean + "badword")).isEqualTo(1.0);
    }

    @Test
    void shippedEnglishListDropsInsultsInAPipeline() throws Exception {
        PipelineReport report = Pipeline.from(Dataset.of(List.of("You are a stupid idiot.", "A calm and kind note.")))
                .toxicity(WordListToxicityScorer.defaultEnglish(), 0.5).run(d -> { });
        assertThat(report.count("toxicity", "toxic")).isEqualTo(1);
    }
}
