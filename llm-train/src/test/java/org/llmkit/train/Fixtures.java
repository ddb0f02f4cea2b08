package org.llmkit.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/** Locates {@code shared/fixtures/hf-tiny} and reads the reference answers. */
final class Fixtures {
    private Fixtures() { }

    static Path hfTiny() {
        return org.llmkit.api.Fixtures.hfTiny();
    }

    static JsonNode reference(String model) throws IOException {
        return new ObjectMapper().readTree(hfTiny().resolve(model).resolve("reference.json").toFile());
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
