package org.llmkit.eval;

import java.util.ArrayList;
import java.util.List;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.generate.GenerationResult;

/** Greedy continuations of text prompts, generated a batch at a time. */
final class Completions {
    private Completions() { }

    /** Only the new text of each prompt's greedy continuation, in prompt order. */
    static List<String> greedy(LanguageModel model, List<String> prompts, int maxNewTokens, int batchSize) {
        List<int[]> ids = new ArrayList<>(prompts.size());
        for (String p : prompts) {
            ids.add(model.tokenizer().encode(p, true));
        }
        List<String> out = new ArrayList<>(prompts.size());
        for (int from = 0; from < ids.size(); from += batchSize) {
            List<int[]> batch = ids.subList(from, Math.min(from + batchSize, ids.size()));
            for (GenerationResult r : model.generate(batch).greedy().maxNewTokens(maxNewTokens).results()) {
                out.add(r.text());
            }
        }
        return out;
    }
}
