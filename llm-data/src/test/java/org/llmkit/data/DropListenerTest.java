package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every dropped document reaches the drop listener with the stage and reason the report counts. */
class DropListenerTest {

    @Test
    void droppedDocumentsArriveWithStageAndReasonAndAddUpWithTheReport() throws Exception {
        List<Document> docs = List.of(
                Document.of("a", "the cat sat on the mat"),
                Document.of("b", "the cat sat on the mat"),
                Document.of("c", "short"),
                Document.of("d", "a dog ran in the park today"));
        List<String> kept = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        PipelineReport r = Pipeline.from(Dataset.ofDocuments(docs)).dedup()
                .filter("length", d -> d.text().length() > 8)
                .run(d -> kept.add(d.id()), (d, stage, reason) -> dropped.add(d.id() + " " + stage + " " + reason));
        assertThat(kept).containsExactly("a", "d");
        assertThat(dropped).containsExactly("b dedup duplicate", "c length length");
        assertThat(r.count("dedup", "dropped") + r.count("length", "dropped")).isEqualTo(dropped.size());
    }
}
