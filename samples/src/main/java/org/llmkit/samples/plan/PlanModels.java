package org.llmkit.samples.plan;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.llmkit.api.ChatMessage;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.Tokenizer;
import org.llmkit.samples.bundled.BpeVocabulary;
import org.llmkit.samples.bundled.BundledCorpus;

/** The models and tokenizers of a {@link Plan}: the one to train, its reloaded copy, a base model's chat format. */
final class PlanModels {
    private PlanModels() { }

    /**
     * Creates the small Llama (from scratch) or loads the base model. {@code LanguageModel.create} makes CPU
     * weights, so for the GPU a new model is saved in {@code scratch} and loaded from there onto the device.
     */
    static LanguageModel initial(PlanSettings settings, Tokenizer tokenizer, Path scratch) throws IOException {
        if (!settings.fromScratch()) {
            return LanguageModel.from(settings.baseModel()).device(device(settings)).load();
        }
        ModelConfig config = ModelConfig.builder("llama").vocabSize(tokenizer.vocabSize())
                .hiddenSize(settings.hiddenSize()).intermediateSize(settings.hiddenSize() * 11 / 4)
                .numLayers(settings.layers()).numHeads(settings.heads()).numKvHeads(settings.kvHeads())
                .maxPositionEmbeddings(Math.max(256, settings.sequenceLength())).tieWordEmbeddings(true)
                .bosTokenId(BpeVocabulary.specialId(BpeVocabulary.BOS))
                .eosTokenIds(List.of(BpeVocabulary.specialId(BpeVocabulary.EOS),
                        BpeVocabulary.specialId(BpeVocabulary.EOT)))
                .build();
        LanguageModel created = LanguageModel.create(config, settings.seed());
        if (!"gpu".equals(settings.device())) {
            return created;
        }
        try (created) {
            created.save(scratch);
        }
        return LanguageModel.from(scratch).device(device(settings)).load();
    }

    /** Loads what the plan saved: the model folder, or the base model with the LoRA adapter. */
    static LanguageModel reload(PlanSettings settings, Path modelDir, Path adapterDir, Tokenizer tokenizer)
            throws IOException {
        LanguageModel.Loader loader = settings.loraRank() > 0
                ? LanguageModel.from(settings.baseModel()).adapter(adapterDir) : LanguageModel.from(modelDir);
        LanguageModel m = loader.device(device(settings)).load();
        return m.hasTokenizer() ? m : m.withTokenizer(tokenizer);
    }

    static Tokenizer baseTokenizer(PlanSettings settings) throws IOException {
        return Tokenizer.load(settings.tokenizer() != null ? settings.tokenizer() : settings.baseModel());
    }

    /** Renders the corpus' chat exchanges with the base model's chat template (without its leading BOS text). */
    static BundledCorpus.ChatFormat chatFormat(Tokenizer tokenizer) {
        if (tokenizer.chatTemplate().isEmpty()) {
            return BundledCorpus::chat;
        }
        String bos = tokenizer.specialTokens().getOrDefault("bos_token", "");
        return (request, answer) -> {
            String s = tokenizer.applyChatTemplate(List.of(ChatMessage.user(request), ChatMessage.assistant(answer)),
                    false);
            return !bos.isEmpty() && s.startsWith(bos) ? s.substring(bos.length()) : s;
        };
    }

    static Device device(PlanSettings settings) {
        return "gpu".equals(settings.device()) ? Device.gpu() : Device.cpu();
    }
}
