package org.llmkit.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Tokenizer;

/** Locates {@code shared/fixtures/hf-tiny}, loads the tiny llama3 with the shared tokenizer. */
final class Fixtures {
    private Fixtures() { }

    static Path hfTiny() {
        return org.llmkit.api.Fixtures.hfTiny();
    }

    static LanguageModel llama3() throws IOException {
        return LanguageModel.load(hfTiny().resolve("llama3")).withTokenizer(Tokenizer.load(hfTiny().resolve("tokenizer")));
    }

    static JsonNode reference() throws IOException {
        return new ObjectMapper().readTree(hfTiny().resolve("llama3/reference.json").toFile());
    }

    static int[][] inputIds(JsonNode reference) {
        JsonNode ids = reference.get("input_ids");
        int[][] out = new int[ids.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new int[ids.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = ids.get(i).get(j).asInt();
            }
        }
        return out;
    }
}
