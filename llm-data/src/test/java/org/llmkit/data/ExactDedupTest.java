package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExactDedupTest {

    @Test
    void dropsExactlyThePlantedDuplicatesAndKeepsFirstOccurrences() throws Exception {
        Random random = new Random(1);
        List<String> texts = new ArrayList<>();
        List<String> originals = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String text = Corpora.prose(random, 40);
            originals.add(text);
            texts.add(text);
        }
        // 100 copies of earlier documents, 50 of them with only whitespace changed
        for (int i = 0; i < 100; i++) {
            String copy = originals.get(i * 3);
            texts.add(i % 2 == 0 ? copy : "  " + copy.replace(" ", "   ") + "\n\n");
        }
        List<Document> kept = new ArrayList<>();
        PipelineReport report = Pipeline.from(Dataset.of(texts)).dedup().threads(2).batchSize(64).run(kept::add);

        assertThat(report.count("dedup", "in")).isEqualTo(400);
        assertThat(report.count("dedup", "duplicate")).isEqualTo(100);
        assertThat(kept).extracting(Document::id).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 300).mapToObj(Integer::toString).toList());
        assertThat(report.dedupRate()).isEqualTo(0.25);
    }

    @Test
    void unicodeNormalizationMakesComposedAndDecomposedTextsDuplicates() throws Exception {
        String composed = "Caf\u00e9 cr\u00e8me";
        String decomposed = "Cafe\u0301 cre\u0300me";
        List<Document> kept = Pipeline.from(Dataset.of(List.of(composed, decomposed))).dedup().collect();
        assertThat(kept).hasSize(1);
    }

    @Test
    void normalizeStageRewritesWhitespaceAndDropsEmptyDocuments() throws Exception {
        PipelineReport report = Pipeline.from(Dataset.of(List.of("a\r\n\r\n\r\nb  \t c ", " \u200b \n ", "ok")))
                .normalize().run(d -> { });
        List<Document> kept = Pipeline.from(Dataset.of(List.of("a\r\n\r\n\r\nb  \t c "))).normalize().collect();
        assertThat(kept.get(0).text()).isEqualTo("a\n\nb c");
        assertThat(report.count("normalize", "empty")).isEqualTo(1);
        assertThat(report.documentsOut()).isEqualTo(2);
    }
}
