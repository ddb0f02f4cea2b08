package org.llmkit.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.ChatMessage;
import org.llmkit.api.Tokenizer;
import org.llmkit.samples.bundled.BpeTrainer;
import org.llmkit.samples.bundled.BpeVocabulary;
import org.llmkit.samples.bundled.BundledCorpus;
import org.llmkit.samples.bundled.StoryCorpus;

class BundledTokenizerTest {
    @TempDir
    Path dir;

    @Test
    void trainedBpeLoadsInTheHuggingFaceTokenizerAndRoundTrips() throws Exception {
        List<String> stories = StoryCorpus.seeded(1).stories(200);
        BpeVocabulary vocabulary = BpeTrainer.vocabularySize(600).train(stories);
        assertThat(vocabulary.size()).isEqualTo(600);
        try (Tokenizer t = Tokenizer.load(vocabulary.writeTokenizer(dir))) {
            assertThat(t.vocabSize()).isEqualTo(600);
            String story = stories.get(0);
            int[] ids = t.encode(story);
            assertThat(t.decode(ids)).isEqualTo(story);
            assertThat(ids.length).as("merges make whole words").isLessThan(story.length() / 3);
            String unseen = "Zürich, 1998 — naïve café ☕";
            assertThat(t.decode(t.encode(unseen))).as("byte-level: any text round-trips").isEqualTo(unseen);
            assertThat(t.encode("Once", true)[0]).isEqualTo(BpeVocabulary.specialId(BpeVocabulary.BOS));
            assertThat(t.eosTokenId()).hasValue(BpeVocabulary.specialId(BpeVocabulary.EOS));
        }
    }

    @Test
    void chatTemplateAndCorpusChatFormatAgree() throws Exception {
        BpeVocabulary vocabulary = BpeTrainer.vocabularySize(300).train(StoryCorpus.seeded(2).stories(20));
        try (Tokenizer t = Tokenizer.load(vocabulary.writeTokenizer(dir))) {
            String rendered = t.applyChatTemplate(List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Hello.")),
                    false);
            assertThat(rendered).isEqualTo(BpeVocabulary.BOS + BundledCorpus.chat("Hi", "Hello."));
            int[] ids = t.encode(rendered);
            assertThat(ids).contains(BpeVocabulary.specialId(BpeVocabulary.EOT));
        }
    }

    @Test
    void corpusIsDeterministicAndHoldsEveryKindOfNoise() {
        List<BundledCorpus.Doc> a = BundledCorpus.generate(600, 5);
        assertThat(a).isEqualTo(BundledCorpus.generate(600, 5));
        assertThat(a).extracting(BundledCorpus.Doc::kind)
                .contains("story", "chat", "duplicate", "near-duplicate", "foreign", "junk", "toxic");
        assertThat(a).extracting(BundledCorpus.Doc::id).doesNotHaveDuplicates();
    }
}
